//! The calendar: a meeting scheduled with a contact shows on the week view and in the owner's
//! iCalendar feed; colleagues' and teams' calendars show only what the reader may read; moving
//! an entry goes through the record service, and a refused move is explained.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, TestApp, TestUser, backends, csrf_of, form_as, login_cookie, page_as, spawn,
};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// Shanghai, the instance's default zone, which the test users read in.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("offset")
}

/// The Monday of next week in Shanghai, and an instant on it at `hour`:00 there.
fn next_monday() -> NaiveDate {
    let today = Utc::now().with_timezone(&shanghai()).date_naive();
    let mut d = today + Duration::days(7);
    while d.weekday() != Weekday::Mon {
        d -= Duration::days(1);
    }
    d
}

fn at(day: NaiveDate, hour: u32) -> String {
    let local = day.and_hms_opt(hour, 0, 0).expect("time");
    let t: DateTime<Utc> = local
        .and_local_timezone(shanghai())
        .single()
        .expect("instant")
        .to_utc();
    t.to_rfc3339()
}

async fn meeting(user: &TestUser, subject: &str, day: NaiveDate, extra: Value) -> Value {
    let mut body = json!({"subject": subject, "kind": "meeting",
        "starts_at": at(day, 10), "ends_at": at(day, 11)});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    user.create("activities", body).await
}

/// Unfolds an iCalendar text into its content lines.
/// The message at the top of a page.
fn notice_of(html: &str) -> String {
    html.split("id=\"notice\"")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_default()
        .to_string()
}

fn ics_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.split("\r\n") {
        if let Some(rest) = l.strip_prefix(' ') {
            if let Some(last) = out.last_mut() {
                last.push_str(rest);
            }
        } else if !l.is_empty() {
            out.push(l.to_string());
        }
    }
    out
}

/// The events of an iCalendar text, each as its properties (name without parameters → value).
fn ics_events(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut events = Vec::new();
    let mut current: Option<std::collections::HashMap<String, String>> = None;
    for l in ics_lines(text) {
        match l.as_str() {
            "BEGIN:VEVENT" => current = Some(Default::default()),
            "END:VEVENT" => events.extend(current.take()),
            _ => {
                if let (Some(ev), Some((name, value))) = (current.as_mut(), l.split_once(':')) {
                    let name = name.split(';').next().unwrap_or(name);
                    ev.insert(name.to_string(), value.to_string());
                }
            }
        }
    }
    events
}

fn feed_secret(html: &str) -> String {
    let start = html.find("/calendar/").expect("a feed address") + "/calendar/".len();
    let rest = &html[start..];
    let end = rest.find(".ics").expect(".ics");
    rest[..end].to_string()
}

async fn fetch_feed(app: &TestApp, secret: &str) -> (StatusCode, String, String) {
    let res = app
        .anonymous()
        .get(format!("{}/calendar/{secret}.ics", app.base))
        .send()
        .await
        .expect("feed");
    let status = res.status();
    let ct = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, res.text().await.expect("feed text"))
}

#[tokio::test]
async fn a_meeting_with_a_contact_is_on_the_week_view_and_in_the_feed() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("North")).await;
        let contact = id(&rep
            .create("contacts", json!({"family_name": "张", "given_name": "伟"}))
            .await);
        let day = next_monday();
        let m = meeting(
            &rep,
            "季度回顾, Q4; review",
            day,
            json!({"location": "上海市浦东新区世纪大道100号",
                   "description": "议程：\n1. 续约\n2. 新产品",
                   "attendee_contacts": [{"contact_id": contact}]}),
        )
        .await;
        let mid = id(&m);
        // A task due that week and a done task: the first is in the feed at its due time.
        let task = id(&rep
            .create(
                "activities",
                json!({"subject": "发送报价单", "kind": "task", "due_at": at(day + Duration::days(2), 15)}),
            )
            .await);
        rep.create(
            "activities",
            json!({"subject": "已完成的任务", "kind": "task", "done": true, "due_at": at(day, 9)}),
        )
        .await;

        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let week = format!("/activities/calendar?view=week&date={day}");
        let (status, html) = page_as(&app, Some(&cookie), "en", &week).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(html.contains("季度回顾, Q4; review"), "{b:?}");
        assert!(
            html.contains("10:00–11:00"),
            "{b:?}: the meeting in the reader's zone"
        );
        assert!(html.contains(&format!("/activities/{mid}")), "{b:?}");
        assert!(
            html.contains("发送报价单"),
            "{b:?}: the task at its due time"
        );
        // The navigation names the calendar. The script draws the empty half hours as links
        // from what the grid tells it; without it, each day's "+" opens a meeting at 09:00.
        assert!(html.contains("href=\"/activities/calendar\""), "{b:?}");
        assert!(
            html.contains("data-new=\"/activities/new?kind=meeting\" data-start=\"starts_at\" data-end=\"ends_at\""),
            "{b:?}: what the script needs for the slots"
        );
        assert!(
            html.contains(&format!(
                "/activities/new?kind=meeting&#38;starts_at={day}T09%3A00&#38;ends_at={day}T10%3A00"
            )),
            "{b:?}: the day's new meeting"
        );
        assert!(!html.contains("cal-slot"), "{b:?}: no slot links sent");
        let (status, form) = page_as(
            &app,
            Some(&cookie),
            "en",
            &format!("/activities/new?kind=meeting&starts_at={day}T14%3A00&ends_at={day}T15%3A00"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        assert!(
            form.contains(&format!("value=\"{day}T14:00\"")),
            "{b:?}: start prefilled"
        );
        assert!(
            form.contains(&format!("value=\"{day}T15:00\"")),
            "{b:?}: end prefilled"
        );
        assert!(
            form.contains("value=\"meeting\" data-keys=\"\" selected"),
            "{b:?}: kind prefilled"
        );
        // The month view and the zh-CN week view show it too.
        let (_, month) = page_as(
            &app,
            Some(&cookie),
            "en",
            &format!("/activities/calendar?view=month&date={day}"),
        )
        .await;
        assert!(month.contains("季度回顾"), "{b:?}");

        // The feed: made in settings, shown once, read without a session.
        let csrf = csrf_of(&app, &cookie).await;
        let (status, _, page) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/settings/calendar-feed",
            &[("_csrf", &csrf)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {page}");
        let secret = feed_secret(&page);
        let (status, ct, ics) = fetch_feed(&app, &secret).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {ics}");
        assert!(ct.starts_with("text/calendar"), "{b:?}: {ct}");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{b:?}");
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{b:?}: a line longer than 75 octets: {l}");
        }
        let events = ics_events(&ics);
        let ev = events
            .iter()
            .find(|e| e.get("UID") == Some(&format!("{mid}@guanxi")))
            .unwrap_or_else(|| panic!("{b:?}: the meeting in the feed: {ics}"));
        assert_eq!(ev["SUMMARY"], "季度回顾\\, Q4\\; review");
        let start_utc = DateTime::parse_from_rfc3339(&at(day, 10)).unwrap().to_utc();
        assert_eq!(
            ev["DTSTART"],
            start_utc.format("%Y%m%dT%H%M%SZ").to_string()
        );
        assert_eq!(
            ev["DTEND"],
            (start_utc + Duration::hours(1))
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        );
        assert_eq!(ev["LOCATION"], "上海市浦东新区世纪大道100号");
        assert_eq!(ev["DESCRIPTION"], "议程：\\n1. 续约\\n2. 新产品");
        assert!(
            events
                .iter()
                .any(|e| e.get("UID") == Some(&format!("{task}@guanxi"))),
            "{b:?}"
        );
        assert!(
            !ics.contains("已完成的任务"),
            "{b:?}: a done task is not in the feed"
        );

        // The settings page no longer shows the address, only when it was made.
        let (_, settings) = page_as(&app, Some(&cookie), "en", "/settings").await;
        assert!(!settings.contains(&secret), "{b:?}");
        assert!(settings.contains("id=\"feed-made\""), "{b:?}");

        // A new address ends the old one; revoking ends the new one; a made-up one is unknown.
        let (_, _, page) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/settings/calendar-feed",
            &[("_csrf", &csrf)],
        )
        .await;
        let renewed = feed_secret(&page);
        assert_ne!(renewed, secret);
        assert_eq!(
            fetch_feed(&app, &secret).await.0,
            StatusCode::NOT_FOUND,
            "{b:?}"
        );
        assert_eq!(fetch_feed(&app, &renewed).await.0, StatusCode::OK, "{b:?}");
        let (status, location, _) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/settings/calendar-feed/revoke",
            &[("_csrf", &csrf)],
        )
        .await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        assert!(
            location.unwrap_or_default().starts_with("/settings"),
            "{b:?}"
        );
        assert_eq!(
            fetch_feed(&app, &renewed).await.0,
            StatusCode::NOT_FOUND,
            "{b:?}"
        );
        assert_eq!(
            fetch_feed(&app, "nothing-here").await.0,
            StatusCode::NOT_FOUND,
            "{b:?}"
        );
        // Without the right token, no feed can be made.
        let (status, _, _) = form_as(
            &app,
            Some(&cookie),
            "en",
            "/settings/calendar-feed",
            &[("_csrf", "wrong")],
        )
        .await;
        assert_ne!(status, StatusCode::OK, "{b:?}");
    }
}

#[tokio::test]
async fn colleague_and_team_calendars_show_only_what_the_reader_may_read() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let manager = app.user("manager", Some("North")).await;
        let rep = app.user("sales", Some("North")).await;
        let mate = app.user("sales", Some("North")).await;
        let south = app.user("sales", Some("South")).await;
        let day = next_monday();
        meeting(&rep, "北区拜访甲", day, json!({})).await;
        // A teammate's meeting the rep attends shows on the rep's own calendar.
        meeting(
            &mate,
            "北区例会乙",
            day + Duration::days(1),
            json!({"attendee_users": [{"user_id": rep.id}]}),
        )
        .await;
        meeting(&south, "南区签约丙", day + Duration::days(2), json!({})).await;

        let page = |u: &TestUser, who: String| {
            let app = &app;
            let email = u.email.clone();
            async move {
                let (cookie, _) = login_cookie(app, &email, PASSWORD).await;
                let path = format!("/activities/calendar?view=week&date={day}&who={who}");
                let (status, html) = page_as(app, Some(&cookie), "en", &path).await;
                assert_eq!(status, StatusCode::OK, "{html}");
                html
            }
        };
        let sees = |html: &str| -> Vec<&'static str> {
            ["北区拜访甲", "北区例会乙", "南区签约丙"]
                .into_iter()
                .filter(|s| html.contains(s))
                .collect()
        };
        // Rep: their own (and attended); a teammate's; not another team's; their team's.
        assert_eq!(
            sees(&page(&rep, "me".into()).await),
            ["北区拜访甲", "北区例会乙"],
            "{b:?}"
        );
        assert_eq!(
            sees(&page(&rep, mate.id.to_string()).await),
            ["北区例会乙"],
            "{b:?}"
        );
        assert!(
            sees(&page(&rep, south.id.to_string()).await).is_empty(),
            "{b:?}"
        );
        let team = page(&rep, "team".into()).await;
        assert_eq!(sees(&team), ["北区拜访甲", "北区例会乙"], "{b:?}");
        assert!(
            team.contains("id=\"cal-legend\""),
            "{b:?}: owners named on a team's calendar"
        );
        // Manager: the team's, not another team's.
        assert_eq!(
            sees(&page(&manager, "team".into()).await),
            ["北区拜访甲", "北区例会乙"],
            "{b:?}"
        );
        assert!(
            sees(&page(&manager, south.id.to_string()).await).is_empty(),
            "{b:?}"
        );
        // Admin: anyone's.
        assert_eq!(
            sees(&page(&admin, south.id.to_string()).await),
            ["南区签约丙"],
            "{b:?}"
        );
        assert_eq!(
            sees(&page(&admin, rep.id.to_string()).await),
            ["北区拜访甲", "北区例会乙"],
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn an_entry_moves_by_post_and_a_refused_move_is_explained() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("North")).await;
        let mate = app.user("sales", Some("North")).await;
        let day = next_monday();
        let m = meeting(&rep, "客户回访", day, json!({})).await;
        let mid = id(&m);
        let version = m["version"].as_i64().expect("version").to_string();
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let csrf = csrf_of(&app, &cookie).await;
        let back = format!("/activities/calendar?view=week&date={day}");
        let path = format!("/activities/{mid}/reschedule");
        let start = format!("{}T14:00", day + Duration::days(1));

        let (status, location, _) = form_as(
            &app,
            Some(&cookie),
            "en",
            &path,
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("start", &start),
                ("back", &back),
            ],
        )
        .await;
        assert!(status.is_redirection(), "{b:?}: {status}");
        assert_eq!(
            location.as_deref(),
            Some(format!("{back}&done=rescheduled").as_str())
        );
        let moved = rep.get_r(&format!("/api/v1/activities/{mid}")).await;
        let moved_start =
            DateTime::parse_from_rfc3339(moved.body["starts_at"].as_str().unwrap()).unwrap();
        let moved_end =
            DateTime::parse_from_rfc3339(moved.body["ends_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            moved_start.to_utc(),
            DateTime::parse_from_rfc3339(&at(day + Duration::days(1), 14))
                .unwrap()
                .to_utc()
        );
        assert_eq!(
            moved_end - moved_start,
            Duration::hours(1),
            "{b:?}: the length is kept"
        );
        let (_, html) = page_as(
            &app,
            Some(&cookie),
            "en",
            &format!("{back}&done=rescheduled"),
        )
        .await;
        assert!(html.contains("Moved."), "{b:?}");
        let now_version = moved.body["version"].as_i64().unwrap();

        // A refused move answers with the calendar it came from (post/redirect/get: a reload
        // asks for nothing again), which names the entry and says why, in the reader's words.
        let refused = |cookie: String,
                       lang: &'static str,
                       form: Vec<(&'static str, String)>,
                       from: String| {
            let (app, path, mid) = (&app, &path, &mid);
            async move {
                let mut form: Vec<(&str, String)> = form;
                form.push(("back", from.clone()));
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (status, location, _) = form_as(app, Some(&cookie), lang, path, &pairs).await;
                assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
                let location = location.expect("a redirect");
                assert!(
                    location.starts_with(&format!("{from}&failed=")),
                    "{b:?}: back to {from}, not {location}"
                );
                assert!(
                    location.contains(&format!("&entry={mid}")),
                    "{b:?}: {location}"
                );
                let (status, html) = page_as(app, Some(&cookie), lang, &location).await;
                assert_eq!(status, StatusCode::OK, "{b:?}");
                let notice = notice_of(&html);
                assert!(!notice.contains(mid.as_str()), "{b:?}: no id said");
                (location, notice)
            }
        };

        // The old version, from the month view: refused, explained, nothing changed.
        let later = format!("{}T16:00", day + Duration::days(2));
        let month = format!("/activities/calendar?view=month&date={day}");
        let (_, notice) = refused(
            cookie.clone(),
            "en",
            vec![
                ("_csrf", csrf.clone()),
                ("version", version.clone()),
                ("start", later.clone()),
            ],
            month.clone(),
        )
        .await;
        assert!(
            notice.contains("“客户回访” was not moved: someone changed this entry"),
            "{b:?}: {notice}"
        );
        // An end before the start, from the day view: the field and why.
        let v = now_version.to_string();
        let day_view = format!(
            "/activities/calendar?view=day&date={}",
            day + Duration::days(2)
        );
        let (location, notice) = refused(
            cookie.clone(),
            "en",
            vec![
                ("_csrf", csrf.clone()),
                ("version", v.clone()),
                ("start", later.clone()),
                ("end", format!("{}T15:00", day + Duration::days(2))),
            ],
            day_view.clone(),
        )
        .await;
        assert!(location.ends_with("&field=ends_at"), "{b:?}: {location}");
        assert!(
            notice.contains("“客户回访” was not moved: Ends: must not be before the start"),
            "{b:?}: {notice}"
        );
        // No start, for a manager who reads Chinese: said in Chinese.
        let boss = app.user_in("admin", None, "zh-CN").await;
        let (bcookie, _) = login_cookie(&app, &boss.email, PASSWORD).await;
        let bcsrf = csrf_of(&app, &bcookie).await;
        let (_, notice) = refused(
            bcookie.clone(),
            "zh-CN",
            vec![
                ("_csrf", bcsrf.clone()),
                ("version", v.clone()),
                ("start", String::new()),
            ],
            back.clone(),
        )
        .await;
        assert!(
            notice.contains("“客户回访”未能改期：开始时间："),
            "{b:?}: {notice}"
        );
        // A teammate may read it but not move it.
        let (mcookie, _) = login_cookie(&app, &mate.email, PASSWORD).await;
        let mcsrf = csrf_of(&app, &mcookie).await;
        let (_, notice) = refused(
            mcookie.clone(),
            "en",
            vec![
                ("_csrf", mcsrf.clone()),
                ("version", v.clone()),
                ("start", later.clone()),
            ],
            back.clone(),
        )
        .await;
        assert!(
            notice.contains("“客户回访” was not moved: You may not change this record."),
            "{b:?}: {notice}"
        );
        // A made-up refusal puts no words of its own on the page.
        let (_, html) = page_as(
            &app,
            Some(&cookie),
            "en",
            &format!("{back}&failed=made_up_words&entry={mid}"),
        )
        .await;
        let notice = notice_of(&html);
        assert!(
            notice.contains("“客户回访” was not moved.") && !notice.contains("made_up_words"),
            "{b:?}: {notice}"
        );
        let after = rep.get_r(&format!("/api/v1/activities/{mid}")).await;
        assert_eq!(
            after.body["version"].as_i64(),
            Some(now_version),
            "{b:?}: nothing changed"
        );
        assert_eq!(after.body["starts_at"], moved.body["starts_at"], "{b:?}");
    }
}

/// The attendee lines carry their meeting's start (the calendar reads a week by them): moved,
/// the meeting leaves one week of an attendee's calendar and reaches the other; an API filter
/// on a carried time joins each attendee named, and two attendees named means both attend.
#[tokio::test]
async fn an_attended_meeting_moved_in_time_follows_its_attendees() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("North")).await;
        let mate = app.user("sales", Some("North")).await;
        let other = app.user("sales", Some("North")).await;
        let day = next_monday();
        let later = day + Duration::days(14);
        let m = meeting(
            &mate,
            "北区复盘丁",
            day,
            json!({"attendee_users": [{"user_id": rep.id}, {"user_id": other.id}]}),
        )
        .await;
        let mid = id(&m);
        let week = |on: NaiveDate| {
            let app = &app;
            let email = rep.email.clone();
            async move {
                let (cookie, _) = login_cookie(app, &email, PASSWORD).await;
                let path = format!("/activities/calendar?view=week&date={on}&who=me");
                let (status, html) = page_as(app, Some(&cookie), "en", &path).await;
                assert_eq!(status, StatusCode::OK, "{html}");
                html.contains("北区复盘丁")
            }
        };
        assert!(week(day).await, "{b:?}: on the attendee's week");
        assert!(!week(later).await, "{b:?}: not yet two weeks on");
        let moved = mate
            .patch_r(
                &format!("/api/v1/activities/{mid}"),
                &json!({"starts_at": at(later, 10), "ends_at": at(later, 11)}),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{b:?}: {}", moved.text);
        assert!(!week(day).await, "{b:?}: gone from the first week");
        assert!(week(later).await, "{b:?}: on the week it moved to");

        let list = |qs: String| {
            let mate = &mate;
            async move {
                let r = mate.get_r(&format!("/api/v1/activities?{qs}")).await;
                assert_eq!(r.status, StatusCode::OK, "{qs}: {}", r.text);
                r.ids()
            }
        };
        let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
        let from = enc(&at(later, 0));
        let to = enc(&at(later + Duration::days(1), 0));
        assert_eq!(
            list(format!(
                "attendee_users.user_id={}&attendee_users.starts_at[gte]={from}&attendee_users.starts_at[lt]={to}",
                rep.id
            ))
            .await,
            vec![mid.clone()],
            "{b:?}: attended by the rep, starting that day"
        );
        let before = enc(&at(day + Duration::days(1), 0));
        assert!(
            list(format!(
                "attendee_users.user_id={}&attendee_users.starts_at[lt]={before}",
                rep.id
            ))
            .await
            .is_empty(),
            "{b:?}: the lines moved with it"
        );
        assert_eq!(
            list(format!(
                "attendee_users.user_id={}&attendee_users.user_id={}",
                rep.id, other.id
            ))
            .await,
            vec![mid.clone()],
            "{b:?}: both attend"
        );
        let r = mate
            .get_r("/api/v1/activities?attendee_users.starts_at[empty]=1")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b:?}: {}", r.text);
    }
}

#[tokio::test]
async fn an_entry_that_began_before_the_week_and_still_runs_is_on_it() {
    for b in backends() {
        let app = spawn(b).await;
        let rep = app.user("sales", Some("North")).await;
        let day = next_monday();
        // An hour's meeting: reads now look back an hour, not a month.
        meeting(&rep, "例会戊", day, json!({})).await;
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let week = |on: NaiveDate| {
            let (app, cookie) = (&app, &cookie);
            async move {
                let path = format!("/activities/calendar?view=week&date={on}&who=me");
                let (status, html) = page_as(app, Some(cookie), "en", &path).await;
                assert_eq!(status, StatusCode::OK, "{html}");
                html
            }
        };
        // A trip that began three days before the week and ends on its Tuesday.
        rep.create(
            "activities",
            json!({"subject": "华南出差戊", "kind": "visit",
                   "starts_at": at(day - Duration::days(3), 10),
                   "ends_at": at(day + Duration::days(1), 12)}),
        )
        .await;
        let html = week(day).await;
        assert!(html.contains("例会戊"), "{b:?}");
        assert!(html.contains("华南出差戊"), "{b:?}: the trip still runs");
        // A meeting ten days before, lengthened to run into the week: the edit, not only a
        // new entry, widens how far reads look back.
        let long = rep
            .create(
                "activities",
                json!({"subject": "驻场实施戊", "kind": "meeting",
                       "starts_at": at(day - Duration::days(10), 9),
                       "ends_at": at(day - Duration::days(10), 10)}),
            )
            .await;
        assert!(!week(day).await.contains("驻场实施戊"), "{b:?}: not yet");
        let lengthened = rep
            .patch_r(
                &format!("/api/v1/activities/{}", id(&long)),
                &json!({"ends_at": at(day + Duration::days(2), 18)}),
            )
            .await;
        assert_eq!(
            lengthened.status,
            StatusCode::OK,
            "{b:?}: {}",
            lengthened.text
        );
        assert!(
            week(day).await.contains("驻场实施戊"),
            "{b:?}: lengthened into the week"
        );
        assert!(
            !week(day + Duration::days(7)).await.contains("驻场实施戊"),
            "{b:?}: over before the next week"
        );
    }
}

#[tokio::test]
async fn an_entry_longer_than_a_month_is_on_every_week_it_runs_into() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user("sales", Some("North")).await;
        let mate = app.user("sales", Some("North")).await;
        let day = next_monday();
        let sees = |u: &TestUser, on: NaiveDate| {
            let (app, email) = (&app, u.email.clone());
            async move {
                let (cookie, _) = login_cookie(app, &email, PASSWORD).await;
                let path = format!("/activities/calendar?view=week&date={on}&who=me");
                let (status, html) = page_as(app, Some(&cookie), "en", &path).await;
                assert_eq!(status, StatusCode::OK, "{html}");
                html.contains("驻场项目己")
            }
        };
        // A quarter's on-site project: it began 45 days before the week, far beyond the month
        // reads look back, and ends 20 days after it. The rep owns it, a teammate attends it.
        let project = rep
            .create(
                "activities",
                json!({"subject": "驻场项目己", "kind": "visit",
                       "starts_at": at(day - Duration::days(45), 9),
                       "ends_at": at(day + Duration::days(20), 18),
                       "attendee_users": [{"user_id": mate.id}]}),
            )
            .await;
        let path = format!("/api/v1/activities/{}", id(&project));
        assert!(sees(&rep, day).await, "{b:?}: the owner's week");
        // Through the whole week, it is drawn in the strip above the hours, not as seven
        // columns of them.
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let week_path = format!("/activities/calendar?view=week&date={day}&who=me");
        let (_, html) = page_as(&app, Some(&cookie), "en", &week_path).await;
        assert!(html.contains(">All day<"), "{b:?}: the strip is labelled");
        let in_strip = html
            .split("class=\"cal-allday\"")
            .skip(1)
            .filter(|cell| {
                cell.split("</div>")
                    .next()
                    .unwrap_or("")
                    .contains("驻场项目己")
            })
            .count();
        assert_eq!(in_strip, 7, "{b:?}: in the strip on each day of the week");
        assert!(
            !html.contains("all-day r"),
            "{b:?}: not placed on the hours' grid"
        );
        assert!(sees(&mate, day).await, "{b:?}: the attendee's week");
        assert!(
            sees(&rep, day + Duration::days(14)).await,
            "{b:?}: two weeks on"
        );
        assert!(
            !sees(&rep, day + Duration::days(28)).await,
            "{b:?}: over by then"
        );
        // Shortened to end before the week, it leaves the week and stays on the one before.
        let shortened = rep
            .patch_r(&path, &json!({"ends_at": at(day - Duration::days(5), 18)}))
            .await;
        assert_eq!(
            shortened.status,
            StatusCode::OK,
            "{b:?}: {}",
            shortened.text
        );
        assert!(!sees(&rep, day).await, "{b:?}: shortened out of the week");
        assert!(
            sees(&rep, day - Duration::days(7)).await,
            "{b:?}: still on the week before"
        );
        // Moved to a day's length, it is no longer listed apart, and still shown where it is.
        let moved = rep
            .patch_r(
                &path,
                &json!({"starts_at": at(day - Duration::days(6), 9),
                        "ends_at": at(day - Duration::days(6), 18)}),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{b:?}: {}", moved.text);
        assert!(
            sees(&rep, day - Duration::days(7)).await,
            "{b:?}: a day's visit"
        );
        let listed = || {
            let core = &app.core;
            async move {
                let rows = guanxi_core::db::raw_query(
                    core.db.reader(),
                    "SELECT COUNT(*) FROM calendar_long",
                    vec![],
                )
                .await
                .expect("count");
                rows[0].try_get_by_index::<i64>(0).expect("count")
            }
        };
        assert_eq!(listed().await, 0, "{b:?}: short again, not listed");
        // Long again, then deleted and purged: the list forgets it.
        let long_again = rep
            .patch_r(&path, &json!({"ends_at": at(day + Duration::days(60), 18)}))
            .await;
        assert_eq!(
            long_again.status,
            StatusCode::OK,
            "{b:?}: {}",
            long_again.text
        );
        assert_eq!(listed().await, 1, "{b:?}: long again");
        assert!(
            sees(&rep, day + Duration::days(49)).await,
            "{b:?}: seven weeks on"
        );
        let deleted = rep.delete_r(&path).await;
        assert!(deleted.status.is_success(), "{b:?}: {}", deleted.text);
        assert!(!sees(&rep, day).await, "{b:?}: deleted");
        let purged = admin
            .delete_r(&format!("/api/v1/recycle-bin/activities/{}", id(&project)))
            .await;
        assert!(purged.status.is_success(), "{b:?}: {}", purged.text);
        assert_eq!(listed().await, 0, "{b:?}: purged, not listed");
    }
}
