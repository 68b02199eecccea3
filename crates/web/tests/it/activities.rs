//! Activities through the API: who may read them (their owner's scope, or the record they
//! regard), the rules that refuse bad input in the writer's language, and repeating tasks.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, backends, csrf_of, form_as, login_cookie, page_as, spawn};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn an_activity_is_read_by_whoever_may_read_the_record_it_regards() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let north = app.user("sales", Some("North")).await;
        let north_mate = app.user("sales", Some("North")).await;
        let south = app.user("sales", Some("South")).await;
        let west = app.user("sales", Some("West")).await;

        let account = id(&north
            .create(
                "accounts",
                json!({"name": "北京中太数据科技有限公司", "kind": "company"}),
            )
            .await);
        // Logged by a colleague of another team about the north team's customer.
        let call = id(&admin
            .create(
                "activities",
                json!({"subject": "回访张经理", "kind": "call", "owner_id": south.id,
                       "regarding": {"entity": "account", "id": account}}),
            )
            .await);
        let own = id(&west
            .create("activities", json!({"subject": "整理报价", "kind": "task"}))
            .await);

        // The account's readers read the call; its owner's team reads it too.
        for reader in [&north, &north_mate, &south, &admin] {
            let r = reader.get_r(&format!("/api/v1/activities/{call}")).await;
            assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
            let listed = reader
                .get_r(&format!("/api/v1/activities?regarding={account}&limit=50"))
                .await;
            assert_eq!(listed.ids(), vec![call.clone()], "{b:?}: {}", listed.text);
        }
        // Reading is not writing: the account's owner may not change a colleague's call.
        let r = north
            .patch_r(
                &format!("/api/v1/activities/{call}"),
                &json!({"subject": "改"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.text);

        // Someone who may read neither the account nor the call's owner's records sees nothing.
        let r = west.get_r(&format!("/api/v1/activities/{call}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{b:?}: {}", r.text);
        let listed = west.get_r("/api/v1/activities?limit=50").await;
        assert_eq!(listed.ids(), vec![own.clone()], "{b:?}: {}", listed.text);

        // Once the account moves to the west team, its new readers read the call, and the
        // north team no longer does (the call's owner's team still does).
        let r = admin
            .patch_r(
                &format!("/api/v1/accounts/{account}"),
                &json!({"owner_id": west.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let r = west.get_r(&format!("/api/v1/activities/{call}")).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let r = north.get_r(&format!("/api/v1/activities/{call}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{b:?}: {}", r.text);
        let r = south.get_r(&format!("/api/v1/activities/{call}")).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);

        // A colleague of another team invited to a meeting reads it, and only while invited;
        // reading it is not writing it.
        let meeting = id(&north
            .create(
                "activities",
                json!({"subject": "季度复盘会", "kind": "meeting",
                       "starts_at": "2099-05-06T10:00:00+08:00",
                       "attendee_users": [{"user_id": west.id}]}),
            )
            .await);
        let r = west.get_r(&format!("/api/v1/activities/{meeting}")).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let listed = west.get_r("/api/v1/activities?limit=50").await;
        assert!(listed.ids().contains(&meeting), "{b:?}: {}", listed.text);
        let r = west
            .patch_r(
                &format!("/api/v1/activities/{meeting}"),
                &json!({"subject": "改"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.text);
        let r = north
            .patch_r(
                &format!("/api/v1/activities/{meeting}"),
                &json!({"attendee_users": []}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let r = west.get_r(&format!("/api/v1/activities/{meeting}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{b:?}: {}", r.text);

        // An account in the recycle bin lends nothing.
        let r = west.delete_r(&format!("/api/v1/accounts/{account}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b:?}: {}", r.text);
        let listed = west.get_r("/api/v1/activities?limit=50").await;
        assert_eq!(listed.ids(), vec![own.clone()], "{b:?}: {}", listed.text);
    }
}

/// A list confined to owners whose records the reader reads by owner skips the scope's
/// condition; one that names anyone else keeps it, so naming an owner never shows more.
#[tokio::test]
async fn an_owner_filter_never_widens_what_a_reader_reads() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let north = app.user("sales", Some("North")).await;
        let north_mate = app.user("sales", Some("North")).await;
        let south = app.user("sales", Some("South")).await;

        let account = id(&north
            .create(
                "accounts",
                json!({"name": "杭州顺成商贸有限公司", "kind": "company"}),
            )
            .await);
        // South's call about north's customer, and south's own task.
        let call = id(&admin
            .create(
                "activities",
                json!({"subject": "回访", "kind": "call", "owner_id": south.id,
                       "regarding": {"entity": "account", "id": account}}),
            )
            .await);
        let task = id(&south
            .create("activities", json!({"subject": "写周报", "kind": "task"}))
            .await);
        let mine = id(&north
            .create("activities", json!({"subject": "准备报价", "kind": "task"}))
            .await);
        let mates = id(&north_mate
            .create("activities", json!({"subject": "回电客户", "kind": "task"}))
            .await);

        let listed = |who: &'static str, q: String| (who, q);
        let cases = [
            // North reads south's call through the account, never south's task.
            (
                &north,
                listed("north", format!("owner_id={}", south.id)),
                vec![call.clone()],
            ),
            (
                &north,
                listed("north", format!("owner_id[in]=me,{}", south.id)),
                vec![call.clone(), mine.clone()],
            ),
            // Within north's team: every record of its people, by owner.
            (
                &north,
                listed("north", "owner_id=me".into()),
                vec![mine.clone()],
            ),
            (
                &north,
                listed("north", format!("owner_id[in]={},me", north_mate.id)),
                vec![mates.clone(), mine.clone()],
            ),
            (
                &north_mate,
                listed("mate", format!("owner_id={}", north.id)),
                vec![mine.clone()],
            ),
            // South reads its own, and nothing of north's team it is not shown.
            (
                &south,
                listed("south", format!("owner_id={}", north.id)),
                Vec::<String>::new(),
            ),
            (
                &south,
                listed("south", "owner_id=me".into()),
                vec![call.clone(), task.clone()],
            ),
            (
                &admin,
                listed("admin", format!("owner_id={}", south.id)),
                vec![call.clone(), task.clone()],
            ),
        ];
        for (reader, (who, q), want) in cases {
            let r = reader
                .get_r(&format!("/api/v1/activities?{q}&limit=50"))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?} {who} {q}: {}", r.text);
            let mut got = r.ids();
            got.sort();
            let mut want = want;
            want.sort();
            assert_eq!(got, want, "{b:?} {who} {q}: {}", r.text);
        }
    }
}

#[tokio::test]
async fn bad_activities_are_refused_by_name_in_the_writers_language() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", Some("North"), "zh-CN").await;
        let other = app.user("sales", Some("South")).await;
        let hidden = id(&other
            .create("contacts", json!({"family_name": "赵", "given_name": "六"}))
            .await);

        let r = rep
            .post_r(
                "/api/v1/activities",
                &json!({"subject": "客户拜访", "kind": "meeting",
                        "starts_at": "2026-05-06T10:00:00+08:00",
                        "ends_at": "2026-05-06T09:00:00+08:00"}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", None);
        let e = r.assert_field("ends_at", "ends_before_start");
        assert_eq!(e["message"], "不能早于开始时间", "{b:?}: {}", r.text);

        let r = rep
            .post_r(
                "/api/v1/activities",
                &json!({"subject": "每周回访", "kind": "task", "repeat": "weekly",
                        "due_at": "2026-05-06T10:00:00+08:00"}),
            )
            .await;
        r.assert_field("repeat", "repeat_never_ends");

        let r = rep
            .post_r(
                "/api/v1/activities",
                &json!({"subject": "拜访", "kind": "visit"}),
            )
            .await;
        r.assert_field("starts_at", "required");

        // A contact the writer may not read cannot be invited.
        let r = rep
            .post_r(
                "/api/v1/activities",
                &json!({"subject": "方案讨论", "kind": "meeting",
                        "starts_at": "2026-05-06T10:00:00+08:00",
                        "attendee_contacts": [{"contact_id": hidden}]}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b:?}: {}",
            r.text
        );
        assert!(
            r.text.contains("attendee_contacts[0].contact_id"),
            "{b:?}: {}",
            r.text
        );
        assert_eq!(
            crate::support::count_rows(&app, "activities").await,
            0,
            "{b:?}: nothing written"
        );

        // A call logged without a time is logged now; a meeting with a colleague is kept.
        let call = rep
            .create(
                "activities",
                json!({"subject": "来电咨询", "kind": "call",
                                          "direction": "inbound", "answer_wait": 12}),
            )
            .await;
        assert!(call["starts_at"].is_string(), "{b:?}: {call}");
        let meeting = rep
            .create(
                "activities",
                json!({"subject": "周会", "kind": "meeting",
                       "starts_at": "2026-05-06T10:00:00+08:00",
                       "ends_at": "2026-05-06T11:00:00+08:00",
                       "attendee_users": [{"user_id": other.id}]}),
            )
            .await;
        assert_eq!(
            meeting["attendee_users"][0]["user_id"],
            json!(other.id.to_string()),
            "{b:?}: {meeting}"
        );
        assert_eq!(meeting["attendee_users"][0]["response"], "invited");
    }
}

#[tokio::test]
async fn a_repeating_task_done_is_followed_by_the_next_until_its_rule_ends() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("North")).await;
        let task = rep
            .create(
                "activities",
                json!({"subject": "周报", "kind": "task", "repeat": "weekly",
                       "repeat_count": 2, "due_at": "2026-05-04T09:00:00Z",
                       "priority": "high"}),
            )
            .await;
        let first = id(&task);
        let r = rep
            .patch_r(
                &format!("/api/v1/activities/{first}"),
                &json!({"done": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert!(r.body["done_at"].is_string(), "{b:?}: {}", r.text);

        let open = rep.get_r("/api/v1/activities?done=false&limit=50").await;
        let next = open.body["data"]
            .as_array()
            .and_then(|items| items.first())
            .cloned()
            .expect("the next occurrence");
        assert_eq!(
            next["due_at"], "2026-05-11T09:00:00.000000Z",
            "{b:?}: {next}"
        );
        assert_eq!(next["repeat_count"], 1);
        assert_eq!(next["priority"], "high");
        assert_eq!(next["owner_id"], json!(rep.id.to_string()));

        // The first one undone and done again: its next occurrence is there already.
        for done in [false, true] {
            let r = rep
                .patch_r(
                    &format!("/api/v1/activities/{first}"),
                    &json!({"done": done}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        }
        let open = rep.get_r("/api/v1/activities?done=false&limit=50").await;
        assert_eq!(open.ids(), vec![id(&next)], "{b:?}: {}", open.text);

        // The last occurrence done, nothing follows; undoing and redoing adds nothing either.
        let second = id(&next);
        for done in [true, false, true] {
            let r = rep
                .patch_r(
                    &format!("/api/v1/activities/{second}"),
                    &json!({"done": done}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        }
        let all = rep.get_r("/api/v1/activities?limit=50").await;
        assert_eq!(all.ids().len(), 2, "{b:?}: {}", all.text);
    }
}

#[tokio::test]
async fn an_accounts_timeline_holds_its_contacts_activities_what_is_due_and_its_changes() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("North")).await;
        let stranger = app.user("sales", Some("South")).await;
        let account = id(&rep
            .create(
                "accounts",
                json!({"name": "Harbour Lights", "kind": "company"}),
            )
            .await);
        let contact = id(&rep
            .create(
                "contacts",
                json!({"family_name": "张", "given_name": "三", "account_id": account}),
            )
            .await);
        rep.create(
            "activities",
            json!({"subject": "Lunch with Zhang", "kind": "meeting",
                   "starts_at": "2026-01-10T04:00:00Z",
                   "regarding": {"entity": "contact", "id": contact}}),
        )
        .await;
        rep.create(
            "activities",
            json!({"subject": "Send the contract draft", "kind": "task",
                   "due_at": "2099-01-10T04:00:00Z",
                   "regarding": {"entity": "account", "id": account}}),
        )
        .await;
        let r = rep
            .patch_r(
                &format!("/api/v1/accounts/{account}"),
                &json!({"name": "Harbour Lights Trading"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);

        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;
        let page = format!("/accounts/{account}?tab=timeline");
        let (status, html) = page_as(&app, Some(&cookie), "en", &page).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        let upcoming = html
            .split("id=\"timeline-upcoming\"")
            .nth(1)
            .and_then(|rest| rest.split("id=\"timeline-past\"").next())
            .unwrap_or("");
        assert!(
            upcoming.contains("Send the contract draft"),
            "{b:?}: {html}"
        );
        assert!(html.contains("Lunch with Zhang"), "{b:?}: {html}");
        assert!(
            html.contains("Contact: 张三"),
            "{b:?}: the contact it regards"
        );
        assert!(html.contains("Harbour Lights Trading"), "{b:?}: the change");

        // Filtered to changes: no activities.
        let (_, html) = page_as(&app, Some(&cookie), "en", &format!("{page}&kind=change")).await;
        assert!(!html.contains("Lunch with Zhang"), "{b:?}: {html}");
        assert!(html.contains("kind-change"), "{b:?}: {html}");

        // Logged from the quick box: a note regarding the account, owned by the rep.
        let (status, location, body) = form_as(
            &app,
            Some(&cookie),
            "en",
            &format!("/accounts/{account}/timeline"),
            &[
                ("_csrf", &csrf),
                ("kind", "note"),
                ("detail", "Prefers WeChat\nafter 6 pm"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}: {body}");
        assert!(location.is_some_and(|l| l.contains("done=logged")));
        let notes = rep
            .get_r(&format!("/api/v1/activities?regarding={account}&kind=note"))
            .await;
        assert_eq!(
            notes.body["data"][0]["subject"], "Prefers WeChat",
            "{b:?}: {}",
            notes.text
        );

        // Refused (a due time that does not exist): the box comes back with what was typed,
        // the kind chosen included, and nothing is logged.
        let (status, _, body) = form_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &format!("/accounts/{account}/timeline"),
            &[
                ("_csrf", &csrf),
                ("kind", "task"),
                ("subject", "寄送合同 <草稿>"),
                ("detail", "盖章后寄出"),
                ("due", "2026-02-30T10:00"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {body}");
        assert!(
            body.contains("2026-02-30T10:00"),
            "{b:?}: the reason quotes it"
        );
        assert!(body.contains("value=\"寄送合同 "), "{b:?}: {body}");
        assert!(!body.contains("<草稿>"), "{b:?}: what was typed is escaped");
        assert!(body.contains(">盖章后寄出</textarea>"), "{b:?}: {body}");
        assert!(body.contains("value=\"2026-02-30T10:00\""), "{b:?}: {body}");
        assert!(
            body.contains("name=\"kind\" value=\"task\" checked"),
            "{b:?}: the kind chosen stays chosen"
        );
        let tasks = rep
            .get_r(&format!("/api/v1/activities?regarding={account}&kind=task"))
            .await;
        assert_eq!(tasks.ids().len(), 1, "{b:?}: {}", tasks.text);
        assert_eq!(notes.body["data"][0]["owner_id"], json!(rep.id.to_string()));

        // Someone who may not read the account cannot log on it, and learns nothing of it.
        let (cookie, _) = login_cookie(&app, &stranger.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;
        let (status, _, body) = form_as(
            &app,
            Some(&cookie),
            "en",
            &format!("/accounts/{account}/timeline"),
            &[
                ("_csrf", &csrf),
                ("kind", "call"),
                ("subject", "Sneaky call"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b:?}: {body}");
        assert!(!body.contains("Harbour"), "{b:?}: {body}");
        let calls = rep.get_r("/api/v1/activities?kind=call").await;
        assert!(calls.ids().is_empty(), "{b:?}: {}", calls.text);

        // A contact of the account that the rep may not read, and the calls about it, stay off
        // the rep's timeline of the account.
        let admin = app.user("admin", None).await;
        let hidden = id(&admin
            .create(
                "contacts",
                json!({"family_name": "钱", "given_name": "七", "account_id": account,
                       "owner_id": stranger.id}),
            )
            .await);
        stranger
            .create(
                "activities",
                json!({"subject": "Private call with Qian", "kind": "call",
                       "regarding": {"entity": "contact", "id": hidden}}),
            )
            .await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let (status, html) = page_as(&app, Some(&cookie), "en", &page).await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        assert!(html.contains("Lunch with Zhang"), "{b:?}: {html}");
        assert!(!html.contains("Private call with Qian"), "{b:?}: {html}");
        assert!(!html.contains("钱七"), "{b:?}: {html}");
    }
}

/// Makes every reminder due now, as if its time had come.
async fn time_passes(app: &crate::support::TestApp) {
    let txn = app.core.db.begin().await.unwrap();
    guanxi_core::db::raw_execute(
        &txn,
        "UPDATE notifications SET visible_at = created_at",
        vec![],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

/// How many reminders of activity `id` are still to show.
async fn pending(who: &crate::support::TestUser, id: &str) -> usize {
    let r = who
        .get_r(&format!("/api/v1/activities/{id}/reminders"))
        .await;
    r.body["data"].as_array().expect("reminders").len()
}

/// The unread count of `user`'s bell as the server at `base` reads it.
async fn bell_at(base: &str, user: &crate::support::TestUser) -> i64 {
    let r: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/notifications/unread-count"))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["unread"].as_i64().expect("unread")
}

#[tokio::test]
async fn an_activitys_reminder_rings_its_people_once_whichever_server_reads_the_bell() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user_in("sales", Some("North"), "zh-CN").await;
        let mate = app.user("sales", Some("North")).await;
        let busy = app.user("sales", Some("North")).await;
        let now = chrono::Utc::now();
        let at = |h: i64| (now + chrono::Duration::hours(h)).to_rfc3339();

        let meeting = rep
            .create(
                "activities",
                json!({"subject": "拜访云帆张总", "kind": "meeting", "remind": "hour_1",
                       "starts_at": at(2), "ends_at": at(3),
                       "attendee_users": [{"user_id": mate.id},
                                          {"user_id": busy.id, "response": "declined"}]}),
            )
            .await;
        let mid = id(&meeting);
        let expected = (now + chrono::Duration::hours(1)).timestamp();
        let remind_at =
            chrono::DateTime::parse_from_rfc3339(meeting["remind_at"].as_str().unwrap())
                .unwrap()
                .timestamp();
        assert!((remind_at - expected).abs() <= 1, "{b:?}: {meeting}");
        // The owner and the attending colleague; not the one who declined.
        assert_eq!(pending(&rep, &mid).await, 2, "{b:?}");

        // Moved: the reminders move with it, none left behind.
        let r = rep
            .patch_r(
                &format!("/api/v1/activities/{mid}"),
                &json!({"starts_at": at(4), "ends_at": at(5)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        assert_eq!(pending(&rep, &mid).await, 2, "{b:?}");

        // A reminder whose time has passed, or with nothing to count from, is refused by name.
        let r = rep
            .post_r(
                "/api/v1/activities",
                &json!({"subject": "马上开始的会", "kind": "meeting", "remind": "hour_1",
                        "starts_at": (now + chrono::Duration::minutes(10)).to_rfc3339()}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", None);
        let e = r.assert_field("remind", "reminder_in_past");
        assert!(
            e["message"].as_str().unwrap().contains("已经过去"),
            "{b:?}: {}",
            r.text
        );
        let r = rep
            .post_r(
                "/api/v1/activities",
                &json!({"subject": "整理资料", "kind": "task", "remind": "min_15"}),
            )
            .await;
        let e = r.assert_field("remind", "reminder_needs_time");
        assert_eq!(e["message"], "请先填写开始时间或截止时间", "{b:?}");

        // A task with a reminder, done before its time: it reminds no one.
        let task = id(&rep
            .create(
                "activities",
                json!({"subject": "发送报价", "kind": "task", "remind": "at_time",
                       "due_at": at(6)}),
            )
            .await);
        let r = rep
            .patch_r(
                &format!("/api/v1/activities/{task}"),
                &json!({"done": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let r = rep
            .get_r(&format!("/api/v1/activities/{task}/reminders"))
            .await;
        assert_eq!(r.body["data"], json!([]), "{b:?}: {}", r.text);

        // The time comes. The bell rings once for each, on this server and on another one
        // started on the same database (a restart, or a second instance behind a balancer).
        for who in [&rep, &mate, &busy] {
            assert_eq!(bell_at(&app.base, who).await, 0, "{b:?}: too early");
        }
        time_passes(&app).await;
        let other = app
            .another_instance(guanxi_web::WebOptions::default())
            .await;
        for base in [&app.base, &other] {
            assert_eq!(bell_at(base, &rep).await, 1, "{b:?} {base}");
            assert_eq!(bell_at(base, &mate).await, 1, "{b:?} {base}");
            assert_eq!(bell_at(base, &busy).await, 0, "{b:?} {base}");
        }
        let r = rep.get_r("/api/v1/notifications").await;
        assert!(r.text.contains("拜访云帆张总"), "{b:?}: {}", r.text);
    }
}
