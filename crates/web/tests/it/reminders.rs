//! Reminders on records, on both backends: set, listed and cancelled through the API by whoever
//! may, each refusal with its status, code and field, the e-mail that reaches the owner once in
//! their language when the time comes, and the record page's panel in Chinese and English.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use guanxi_core::time_zone::Tz;
use guanxi_smtp_sink::SmtpSink;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    Backend, PASSWORD, Resp, TestApp, TestUser, backends, count_sql, csrf_of, form_as,
    login_cookie, mailing, page_as, run_jobs, spawn_with,
};

const OPPORTUNITY: &str = "云帆 ERP 项目";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// A sales team at work: `rep` (Chinese) owns the opportunity; `mate` is on the same team,
/// `stranger` on another, `manager` runs the rep's team.
struct Desk {
    app: TestApp,
    sink: SmtpSink,
    admin: TestUser,
    rep: TestUser,
    mate: TestUser,
    stranger: TestUser,
    manager: TestUser,
    pipeline: String,
    account: String,
    opp: String,
}

async fn desk(backend: Backend) -> Desk {
    let sink = SmtpSink::start().await.expect("SMTP sink");
    let app = spawn_with(backend, mailing(&sink)).await;
    let admin = app.user("admin", None).await;
    let rep = app.user_in("sales", Some("East"), "zh-CN").await;
    let mate = app.user_in("sales", Some("East"), "en").await;
    let stranger = app.user_in("sales", Some("West"), "en").await;
    let manager = app.user_in("manager", Some("East"), "en").await;
    let pipeline = id(&admin
        .create(
            "pipelines",
            json!({"name": {"en": "New business", "zh-CN": "新客户"}, "position": 1,
                   "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await);
    let account = id(&rep
        .create(
            "accounts",
            json!({"kind": "company", "name": "杭州云帆科技有限公司"}),
        )
        .await);
    let opp = id(&rep
        .create(
            "opportunities",
            json!({"name": OPPORTUNITY, "account_id": account, "pipeline_id": pipeline,
                   "amount": {"amount": "200000", "currency": "CNY"}}),
        )
        .await);
    Desk {
        app,
        sink,
        admin,
        rep,
        mate,
        stranger,
        manager,
        pipeline,
        account,
        opp,
    }
}

impl Desk {
    fn path(&self) -> String {
        format!("/api/v1/opportunities/{}/reminders", self.opp)
    }

    /// An opportunity of `owner`'s on the desk's account (which `owner` must be able to read).
    async fn opportunity_of(&self, owner: &TestUser, name: &str) -> String {
        id(&owner
            .create(
                "opportunities",
                json!({"name": name, "account_id": self.account, "pipeline_id": self.pipeline}),
            )
            .await)
    }
}

/// A time `d` from now, as RFC 3339 in China's time (+08:00).
fn in_china(d: chrono::Duration) -> String {
    (Utc::now() + d)
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s} is not RFC 3339: {e}"))
        .to_utc()
}

#[track_caller]
fn created(r: &Resp) -> &Value {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    &r.body
}

#[track_caller]
fn forbidden_out_of_reach(r: &Resp) {
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(
        r.body["error"]["reason"], "record_out_of_reach",
        "{}",
        r.text
    );
}

/// The unread count on `user`'s bell.
async fn bell(user: &TestUser) -> i64 {
    let r = user.get_r("/api/v1/notifications/unread-count").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["unread"].as_i64().expect("unread")
}

/// Makes every reminder and its e-mail due now, as if their time had come.
async fn time_passes(app: &TestApp) {
    let txn = app.core.db.begin().await.unwrap();
    for sql in [
        "UPDATE notifications SET visible_at = created_at",
        "UPDATE jobs SET due_at = created_at WHERE kind = 'notice-email'",
    ] {
        guanxi_core::db::raw_execute(&txn, sql, vec![])
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn reminders_are_set_listed_and_cancelled_through_the_api_by_whoever_may() {
    for backend in backends() {
        let d = desk(backend).await;
        let path = d.path();

        // The owner sets one in China's time: it is kept in UTC, its note trimmed.
        let at = in_china(chrono::Duration::days(2));
        let r = d
            .rep
            .post_r(&path, &json!({"at": at, "note": "  跟进报价  "}))
            .await;
        let first = created(&r).clone();
        assert_eq!(first["user_id"], d.rep.id.to_string(), "{backend:?}");
        assert_eq!(first["note"], "跟进报价");
        assert_eq!(utc(first["at"].as_str().unwrap()), utc(&at));
        assert!(
            first["at"].as_str().unwrap().ends_with('Z'),
            "given in UTC: {first}"
        );

        // A sooner one without a note lists first.
        let soon = in_china(chrono::Duration::hours(1));
        let second = created(&d.rep.post_r(&path, &json!({"at": soon})).await).clone();
        assert_eq!(second["note"], "");
        let list = d.rep.get_r(&path).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert_eq!(list.ids(), [id(&second), id(&first)], "soonest first");
        assert_eq!(list.body["data"][1], first, "listed as it was set");

        // A teammate reads them but may not set or cancel one on the rep's record.
        assert_eq!(d.mate.get_r(&path).await.ids().len(), 2);
        forbidden_out_of_reach(
            &d.mate
                .post_r(&path, &json!({"at": at, "note": "不是我的"}))
                .await,
        );
        forbidden_out_of_reach(&d.mate.delete_r(&format!("{path}/{}", id(&first))).await);

        // Another team's rep cannot see the record at all: 404 whatever they try.
        for r in [
            d.stranger.get_r(&path).await,
            d.stranger.post_r(&path, &json!({"at": at})).await,
            d.stranger.delete_r(&format!("{path}/{}", id(&first))).await,
        ] {
            r.assert_error(StatusCode::NOT_FOUND, "not_found", None);
        }

        // The manager and an administrator set them for the owner, not for themselves.
        let by_manager = created(
            &d.manager
                .post_r(&path, &json!({"at": at, "note": "经理提醒"}))
                .await,
        )
        .clone();
        assert_eq!(by_manager["user_id"], d.rep.id.to_string());
        let by_admin = created(&d.admin.post_r(&path, &json!({"at": at})).await).clone();
        assert_eq!(by_admin["user_id"], d.rep.id.to_string());
        let all = d.rep.get_r(&path).await;
        assert_eq!(all.ids().len(), 4);
        for r in all.body["data"].as_array().unwrap() {
            assert_eq!(r["user_id"], d.rep.id.to_string(), "for the owner: {r}");
        }

        // The owner cancels the manager's; it is gone, and cancelling it again is a 404.
        let one = format!("{path}/{}", id(&by_manager));
        let r = d.rep.delete_r(&one).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        assert!(r.text.is_empty());
        d.rep
            .delete_r(&one)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        // The manager cancels one the admin set.
        let r = d
            .manager
            .delete_r(&format!("{path}/{}", id(&by_admin)))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        assert_eq!(d.rep.get_r(&path).await.ids(), [id(&second), id(&first)]);
        // No such reminder on this record, or no reminder id at all.
        for bad in [uuid::Uuid::now_v7().to_string(), "not-an-id".to_string()] {
            d.rep.delete_r(&format!("{path}/{bad}")).await.assert_error(
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            );
        }
        // A reminder is cancelled only through its own record.
        let other = d.opportunity_of(&d.rep, "另一个项目").await;
        d.rep
            .delete_r(&format!(
                "/api/v1/opportunities/{other}/reminders/{}",
                id(&first)
            ))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(d.rep.get_r(&path).await.ids().len(), 2);

        // Each set and cancel is in the record's history.
        assert_eq!(
            crate::support::audit_rows(&d.app, &d.opp, Some("remind")).await,
            6,
            "{backend:?}: four set, two cancelled"
        );

        // Accounts and contacts have them too; setup lists do not.
        let contact = id(&d
            .rep
            .create(
                "contacts",
                json!({"family_name": "王", "given_name": "芳", "account_id": d.account}),
            )
            .await);
        for (plural, rid) in [("accounts", &d.account), ("contacts", &contact)] {
            created(
                &d.rep
                    .post_r(
                        &format!("/api/v1/{plural}/{rid}/reminders"),
                        &json!({"at": at}),
                    )
                    .await,
            );
        }
        let r = d
            .admin
            .post_r(
                &format!("/api/v1/pipelines/{}/reminders", d.pipeline),
                &json!({"at": at}),
            )
            .await;
        r.assert_error(StatusCode::NOT_FOUND, "not_found", None);

        // Not signed in: 401.
        let r = Resp::read(
            d.app
                .anonymous()
                .get(format!("{}{path}", d.app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
    }
}

#[tokio::test]
async fn each_refusal_names_the_field_and_its_code_and_writes_nothing() {
    for backend in backends() {
        let d = desk(backend).await;
        let path = d.path();
        let later = in_china(chrono::Duration::days(1));
        let post = |body: Value| {
            let rep = &d.rep;
            let path = path.clone();
            async move { rep.post_r(&path, &body).await }
        };

        // A time that has passed, worded in the caller's language (the rep reads Chinese).
        let past = in_china(-chrono::Duration::minutes(1));
        let r = post(json!({"at": past, "note": "晚了"})).await;
        let e = r.assert_field("at", "reminder_in_past");
        assert!(
            e["message"].as_str().unwrap().contains("已经过去"),
            "{backend:?}: {}",
            r.text
        );
        let r = d.mate.post_r(&path, &json!({"at": past})).await;
        forbidden_out_of_reach(&r);
        // In English for an English reader allowed to set one.
        let r = d.manager.post_r(&path, &json!({"at": past})).await;
        let e = r.assert_field("at", "reminder_in_past");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("has passed; choose a time in the future"),
            "{}",
            r.text
        );
        // Now is not in the future either.
        post(json!({"at": Utc::now().to_rfc3339()}))
            .await
            .assert_field("at", "reminder_in_past");

        // More than five years ahead.
        post(json!({"at": in_china(chrono::Duration::days(6 * 366))}))
            .await
            .assert_field("at", "out_of_range");

        // Notes: 200 characters (Chinese ones count as one each) pass, 201 do not; no control
        // characters.
        created(&post(json!({"at": later, "note": "跟".repeat(200)})).await);
        let e = post(json!({"at": later, "note": "跟".repeat(201)})).await;
        assert_eq!(e.assert_field("note", "too_long")["params"]["max"], 200);
        post(json!({"at": later, "note": "响铃\u{7}"}))
            .await
            .assert_field("note", "control_characters");

        // The body's shape.
        post(json!({"at": later, "when": "tomorrow"}))
            .await
            .assert_field("when", "unknown_field");
        post(json!({"note": "没有时间"}))
            .await
            .assert_field("at", "required");
        post(json!({"at": null}))
            .await
            .assert_field("at", "required");
        post(json!({"at": 1_900_000_000}))
            .await
            .assert_field("at", "not_a_string");
        for bad in [
            "tomorrow",
            "2031-05-06T10:00",
            "2031-13-01T10:00:00+08:00",
            "",
        ] {
            let r = post(json!({"at": bad})).await;
            r.assert_field("at", "not_a_date_time");
        }
        post(json!({"at": later, "note": 5}))
            .await
            .assert_field("note", "not_a_string");
        // Every wrong field at once.
        let r = post(json!({"at": "soon", "note": ["x"], "colour": "red"})).await;
        r.assert_field("at", "not_a_date_time");
        r.assert_field("note", "not_a_string");
        r.assert_field("colour", "unknown_field");
        post(json!(["at", later]))
            .await
            .assert_field("body", "not_an_object");
        let r = d
            .rep
            .send(
                d.rep
                    .req(reqwest::Method::POST, &path)
                    .header("Content-Type", "application/json")
                    .body("{\"at\": "),
            )
            .await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_json", None);

        // Only the one with a 200-character note was set: one notice, one e-mail job.
        assert_eq!(d.rep.get_r(&path).await.ids().len(), 1);
        assert_eq!(
            count_sql(&d.app, "SELECT COUNT(*) AS n FROM notifications").await,
            1
        );
        assert_eq!(
            count_sql(
                &d.app,
                "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'notice-email'"
            )
            .await,
            1
        );
    }
}

#[tokio::test]
async fn a_reminder_is_emailed_to_its_owner_once_in_their_language_when_it_falls_due() {
    for backend in backends() {
        let d = desk(backend).await;
        let path = d.path();
        let at = in_china(chrono::Duration::days(1));
        // The English manager sets one for the Chinese rep; the English teammate sets one
        // without a note on their own opportunity.
        created(
            &d.manager
                .post_r(&path, &json!({"at": at, "note": "跟进报价"}))
                .await,
        );
        let mates = d.opportunity_of(&d.mate, "Harbour Logistics renewal").await;
        created(
            &d.mate
                .post_r(
                    &format!("/api/v1/opportunities/{mates}/reminders"),
                    &json!({"at": at}),
                )
                .await,
        );
        // One cancelled before its time never goes.
        let gone = created(
            &d.rep
                .post_r(&path, &json!({"at": at, "note": "取消的"}))
                .await,
        )
        .clone();
        let r = d.rep.delete_r(&format!("{path}/{}", id(&gone))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

        // Before the time: nothing in the bell, nothing sent.
        run_jobs(&d.app).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(d.sink.messages().is_empty(), "{backend:?}: sent too early");
        assert_eq!(bell(&d.rep).await, 0);

        // The time comes: each owner gets one letter in their own language.
        time_passes(&d.app).await;
        run_jobs(&d.app).await;
        let got = d.sink.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 2, "{backend:?}");
        let to_rep = got
            .iter()
            .find(|m| m.to == vec![d.rep.email.clone()])
            .expect("a letter to the rep");
        assert_eq!(to_rep.header("Subject").as_deref(), Some("提醒：跟进报价"));
        let text = to_rep.text_part().unwrap();
        assert!(
            text.contains(&format!("https://crm.example.com/opportunities/{}", d.opp)),
            "{text}"
        );
        let to_mate = got
            .iter()
            .find(|m| m.to == vec![d.mate.email.clone()])
            .expect("a letter to the teammate");
        assert_eq!(
            to_mate.header("Subject").as_deref(),
            Some("Reminder: Harbour Logistics renewal"),
            "no note: the record's name"
        );

        // Running the jobs again sends nothing more.
        run_jobs(&d.app).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(d.sink.messages().len(), 2, "{backend:?}: exactly once each");
        assert!(
            !d.sink
                .messages()
                .iter()
                .any(|m| m.header("Subject").is_some_and(|s| s.contains("取消的"))),
            "a cancelled reminder was sent"
        );

        // It is in the owner's bell, and no longer pending (nor cancellable) on the record.
        assert_eq!(bell(&d.rep).await, 1);
        assert_eq!(bell(&d.manager).await, 0, "for the owner, not who set it");
        let listed = d.rep.get_r(&path).await;
        assert_eq!(listed.ids().len(), 0, "{}", listed.text);
        let shown = d.rep.get_r("/api/v1/notifications").await;
        let notice = &shown.body["data"][0];
        assert_eq!(notice["kind"], "reminder", "{}", shown.text);
        d.rep
            .delete_r(&format!("{path}/{}", id(notice)))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
    }
}

/// The `#reminders` section of a record page.
fn panel(html: &str) -> &str {
    let start = html
        .find("id=\"reminders\"")
        .unwrap_or_else(|| panic!("no reminders panel in {html}"));
    let end = html[start..].find("</section>").expect("end of the panel") + start;
    &html[start..end]
}

/// The text of the page's problems box.
fn problems(html: &str) -> &str {
    let start = html
        .find("id=\"problems\"")
        .unwrap_or_else(|| panic!("no problems box in {html}"));
    let end = html[start..].find("</div>").expect("end of the box") + start;
    &html[start..end]
}

/// A browser's session on the app: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn session(app: &TestApp, user: &TestUser) -> Session {
    let (cookie, _) = login_cookie(app, &user.email, PASSWORD).await;
    let csrf = csrf_of(app, &cookie).await;
    Session { cookie, csrf }
}

/// What a `datetime-local` input sends for the time `d` from now in `zone`, and that time in
/// UTC (on the minute, as the input gives it).
fn local_input(d: chrono::Duration, zone: Tz) -> (String, DateTime<Utc>) {
    let local = (Utc::now() + d)
        .with_timezone(&zone)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let naive = NaiveDateTime::parse_from_str(&local, "%Y-%m-%dT%H:%M").unwrap();
    let at = naive.and_local_timezone(zone).earliest().unwrap().to_utc();
    (local, at)
}

#[tokio::test]
async fn the_record_page_sets_and_cancels_reminders_in_the_readers_language() {
    for backend in backends() {
        let d = desk(backend).await;
        let app = &d.app;
        let page = format!("/opportunities/{}", d.opp);
        let form = format!("{page}/reminders");
        let rep = session(app, &d.rep).await;

        // The panel, in Chinese, offers the form and says none is set.
        let (status, html) = page_as(app, Some(&rep.cookie), "zh-CN", &page).await;
        assert_eq!(status, StatusCode::OK);
        let p = panel(&html);
        assert!(p.contains("尚未设置提醒。"), "{p}");
        assert!(p.contains("id=\"reminder-form\""), "{p}");

        // A local time two days ahead in China (UTC+8, the rep's zone as the instance's
        // default): kept as 8 hours earlier in UTC.
        let (local, expected) = local_input(chrono::Duration::days(2), Tz::Asia__Shanghai);
        let (status, to, _) = form_as(
            app,
            Some(&rep.cookie),
            "zh-CN",
            &form,
            &[
                ("_csrf", &rep.csrf),
                ("at", &local),
                ("note", "确认合同条款"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let to = to.expect("a redirect");
        assert_eq!(to, format!("{page}?done=remind#reminders"));
        let listed = d.rep.get_r(&d.path()).await;
        let stored = &listed.body["data"][0];
        assert_eq!(utc(stored["at"].as_str().unwrap()), expected, "{local}");
        assert_eq!(stored["note"], "确认合同条款");
        assert_eq!(stored["user_id"], d.rep.id.to_string());
        let (_, html) = page_as(app, Some(&rep.cookie), "zh-CN", &to).await;
        assert!(html.contains("提醒已设置。"), "{html}");
        let p = panel(&html);
        assert!(p.contains("确认合同条款"), "{p}");
        // Shown in the rep's time, as typed, with the instant for machines.
        assert!(
            p.contains(&format!(
                "<time datetime=\"{}\">{}</time>",
                expected.to_rfc3339(),
                local.replace('T', " ")
            )),
            "{p}"
        );
        assert!(!p.contains("尚未设置提醒。"), "{p}");

        // Another, three days ahead: read in the rep's zone too.
        let (plain, plain_utc) = local_input(chrono::Duration::days(3), Tz::Asia__Shanghai);
        let (status, _, _) = form_as(
            app,
            Some(&rep.cookie),
            "zh-CN",
            &form,
            &[("_csrf", &rep.csrf), ("at", &plain), ("note", "")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let listed = d.rep.get_r(&d.path()).await;
        assert_eq!(
            utc(listed.body["data"][1]["at"].as_str().unwrap()),
            plain_utc
        );

        // A time that has passed: the page again, 422, with the reason in Chinese.
        let (past, _) = local_input(-chrono::Duration::days(1), Tz::Asia__Shanghai);
        let (status, to, html) = form_as(
            app,
            Some(&rep.cookie),
            "zh-CN",
            &form,
            &[("_csrf", &rep.csrf), ("at", &past), ("note", "太晚了")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert_eq!(to, None);
        let box_ = problems(&html);
        assert!(box_.contains("提醒时间："), "{box_}");
        assert!(box_.contains("已经过去，请选择将来的时间"), "{box_}");
        // What was typed is in the form again, to correct rather than retype.
        assert!(
            html.contains(&format!("value=\"{past}\"")),
            "the time typed"
        );
        assert!(html.contains("value=\"太晚了\""), "the note typed");
        // No time at all.
        let (status, _, html) = form_as(
            app,
            Some(&rep.cookie),
            "zh-CN",
            &form,
            &[("_csrf", &rep.csrf), ("at", ""), ("note", "")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problems(&html).contains("提醒时间：必填"), "{html}");
        assert_eq!(d.rep.get_r(&d.path()).await.ids().len(), 2, "nothing set");

        // The manager, in English and in New York's time: the same in English, read there.
        let r = d
            .manager
            .patch_r("/api/v1/me", &json!({"time_zone": "America/New_York"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let boss = session(app, &d.manager).await;
        let (later, later_utc) = local_input(chrono::Duration::days(4), Tz::America__New_York);
        let (status, to, _) = form_as(
            app,
            Some(&boss.cookie),
            "en",
            &form,
            &[
                ("_csrf", &boss.csrf),
                ("at", &later),
                ("note", "Call Mr Wang"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let listed = d.rep.get_r(&d.path()).await;
        let set = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["note"] == "Call Mr Wang")
            .expect("the manager's reminder");
        assert_eq!(
            utc(set["at"].as_str().unwrap()),
            later_utc,
            "{later} in New York"
        );
        let (_, html) = page_as(app, Some(&boss.cookie), "en", to.as_deref().unwrap()).await;
        assert!(html.contains("Reminder set."), "{html}");
        let p = panel(&html);
        assert!(p.contains("Call Mr Wang"), "{p}");
        assert!(p.contains("for sales user"), "{p}");
        let (status, _, html) = form_as(
            app,
            Some(&boss.cookie),
            "en",
            &form,
            &[("_csrf", &boss.csrf), ("at", &past)],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let box_ = problems(&html);
        assert!(box_.contains("Remind at: "), "{box_}");
        assert!(
            box_.contains("has passed; choose a time in the future"),
            "{box_}"
        );

        // A teammate sees the pending ones but neither the form nor a cancel button, and
        // posting the form anyway is refused.
        let mate = session(app, &d.mate).await;
        let (_, html) = page_as(app, Some(&mate.cookie), "en", &page).await;
        let p = panel(&html);
        assert!(p.contains("Call Mr Wang"), "{p}");
        assert!(!p.contains("id=\"reminder-form\""), "{p}");
        assert!(!p.contains("/cancel"), "{p}");
        let (status, _, _) = form_as(
            app,
            Some(&mate.cookie),
            "en",
            &form,
            &[("_csrf", &mate.csrf), ("at", &later)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Without the CSRF token nothing is set either.
        let (status, _, _) =
            form_as(app, Some(&rep.cookie), "zh-CN", &form, &[("at", &later)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(d.rep.get_r(&d.path()).await.ids().len(), 3);

        // The owner cancels the first from the page.
        let first = id(&d.rep.get_r(&d.path()).await.body["data"][0]);
        let cancel = format!("{form}/{first}/cancel");
        let (_, html) = page_as(app, Some(&rep.cookie), "zh-CN", &page).await;
        assert!(
            panel(&html).contains(&format!("action=\"{cancel}\"")),
            "{html}"
        );
        let (status, to, _) = form_as(
            app,
            Some(&rep.cookie),
            "zh-CN",
            &cancel,
            &[("_csrf", &rep.csrf)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = to.unwrap();
        assert_eq!(to, format!("{page}?done=remind_cancel#reminders"));
        let (_, html) = page_as(app, Some(&rep.cookie), "zh-CN", &to).await;
        assert!(html.contains("提醒已取消。"), "{html}");
        assert!(!panel(&html).contains("确认合同条款"), "{html}");
        let left = d.rep.get_r(&d.path()).await;
        assert_eq!(left.ids().len(), 2);
        assert!(!left.ids().contains(&first));
        // Cancelling it again: not found.
        let (status, _, _) = form_as(
            app,
            Some(&rep.cookie),
            "zh-CN",
            &cancel,
            &[("_csrf", &rep.csrf)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// A time that has passed is quoted back as the person typed it (`2026-12-04 07:11`), not as the
/// UTC instant it stands for, which names another day and hour.
#[tokio::test]
async fn a_time_that_has_passed_is_quoted_as_it_was_typed() {
    let d = desk(Backend::Sqlite).await;
    let rep = session(&d.app, &d.rep).await;
    let (past, _) = local_input(-chrono::Duration::hours(1), Tz::Asia__Shanghai);
    let (status, _, html) = form_as(
        &d.app,
        Some(&rep.cookie),
        "zh-CN",
        &format!("/opportunities/{}/reminders", d.opp),
        &[("_csrf", &rep.csrf), ("at", &past)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let box_ = problems(&html);
    assert!(
        box_.contains(&past) || box_.contains(&past.replace('T', " ")),
        "typed {past}: {box_}"
    );
    assert!(!box_.contains("+00:00"), "{box_}");
}
