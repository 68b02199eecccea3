//! The calendar in Chromium, in both languages, on a wide screen and a phone: a click on an
//! empty slot opens the new meeting's form with its time, an entry dragged to another day and
//! hour stays there, and the phone's week is a list by day without sideways scrolling.

use std::time::Duration as StdDuration;

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use serde_json::json;

use super::driver::{Browser, driver_url, run};
use crate::support::{Backend, PASSWORD, spawn};

fn next_monday() -> NaiveDate {
    let zone = FixedOffset::east_opt(8 * 3600).expect("offset");
    let mut d = Utc::now().with_timezone(&zone).date_naive() + Duration::days(7);
    while d.weekday() != Weekday::Mon {
        d -= Duration::days(1);
    }
    d
}

/// `hour`:00 on `day` in Shanghai, as the API takes it.
fn at(day: NaiveDate, hour: u32) -> String {
    format!("{day}T{hour:02}:00:00+08:00")
}

/// Drags entry `id` by (`dx`, `dy`) pixels with the mouse, and waits for the page the drop
/// leads to.
async fn drag_entry(b: &Browser, id: &str, dx: f64, dy: f64) {
    let entry = b.find(&format!(".cal-entry[data-id=\"{id}\"]")).await;
    b.mark_page().await;
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: entry,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(StdDuration::from_millis(100)),
            x: 10.0,
            y: 10.0,
        })
        .then(PointerAction::MoveBy {
            duration: Some(StdDuration::from_millis(300)),
            x: dx - 10.0,
            y: dy - 10.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.c.perform_actions(drag).await.expect("drag");
    b.wait_new_page().await;
}

async fn no_sideways_scroll(b: &Browser, what: &str) {
    let (scroll, client) = (
        b.js("return document.documentElement.scrollWidth;").await,
        b.js("return document.documentElement.clientWidth;").await,
    );
    assert!(
        scroll.as_u64() <= client.as_u64(),
        "{what}: the page is {scroll} px wide in a {client} px window"
    );
}

#[tokio::test]
async fn calendar_slots_drag_and_phone_agenda_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let day = next_monday();
    for lang in ["zh-CN", "en"] {
        let me = app.user_in("sales", Some("East"), lang).await;
        let mate = app.user_in("sales", Some("East"), lang).await;
        let contact = me
            .create(
                "contacts",
                json!({"family_name": "王", "given_name": "芳", "allow_duplicate": true}),
            )
            .await;
        let subjects: [(&str, u32, i64); 4] = if lang == "en" {
            [
                ("Contract review with Wang Fang", 10, 0),
                ("Site visit: Harbour Lights", 14, 1),
                ("Weekly pipeline call", 9, 2),
                ("Send the quotation", 16, 3),
            ]
        } else {
            [
                ("与王芳洽谈续约", 10, 0),
                ("拜访杭州星辰智能", 14, 1),
                ("销售周会", 9, 2),
                ("发送报价单", 16, 3),
            ]
        };
        let mut ids = Vec::new();
        for (i, (subject, hour, offset)) in subjects.iter().enumerate() {
            let d = day + Duration::days(*offset);
            let body = if i == 3 {
                json!({"subject": subject, "kind": "task", "due_at": at(d, *hour)})
            } else {
                json!({"subject": subject, "kind": if i == 1 { "visit" } else { "meeting" },
                       "starts_at": at(d, *hour), "ends_at": at(d, hour + 1),
                       "attendee_contacts": [{"contact_id": contact["id"]}]})
            };
            ids.push(
                me.create("activities", body).await["id"]
                    .as_str()
                    .expect("id")
                    .to_string(),
            );
        }
        mate.create("activities", json!({"subject": if lang == "en" { "Demo for Sunrise Foods" } else { "为旭日食品做产品演示" },
            "kind": "meeting", "starts_at": at(day, 10), "ends_at": at(day, 12)})).await;
        let moved = ids[0].clone();

        for width in [1400u32, 390] {
            let test = format!("calendar-{lang}-{width}");
            let email = me.email.clone();
            let moved = moved.clone();
            let token = me.token.clone();
            let base = app.base.clone();
            run(&driver, &app.base, &test, lang, |b| async move {
                b.window(width, 900).await;
                b.goto("/login").await;
                b.fill("#email", &email).await;
                b.fill("#password", PASSWORD).await;
                b.click_to_page("#login-submit").await;
                let week = format!("/activities/calendar?view=week&date={day}");
                b.goto(&week).await;
                no_sideways_scroll(&b, "week").await;
                b.shot("week").await;
                b.goto(&format!("{week}&who=team")).await;
                no_sideways_scroll(&b, "team week").await;
                b.shot("team-week").await;
                if width == 1400 {
                    // Monday's overlapping meetings stand side by side, each in its lane.
                    let lefts = b
                        .js(&format!(
                            "return Array.from(document.querySelectorAll('.cal-col[data-day=\"{day}\"] .cal-entry')).map(e => Math.round(e.getBoundingClientRect().left));"
                        ))
                        .await;
                    let mut lefts: Vec<i64> = lefts
                        .as_array()
                        .expect("lefts")
                        .iter()
                        .filter_map(serde_json::Value::as_i64)
                        .collect();
                    let all = lefts.len();
                    lefts.sort_unstable();
                    lefts.dedup();
                    assert!(all >= 2 && lefts.len() == all, "{lefts:?} of {all}");
                }
                b.goto(&format!("/activities/calendar?view=month&date={day}"))
                    .await;
                no_sideways_scroll(&b, "month").await;
                b.shot("month").await;
                b.goto(&format!("/activities/calendar?view=day&date={day}"))
                    .await;
                no_sideways_scroll(&b, "day").await;
                b.goto("/settings").await;
                no_sideways_scroll(&b, "settings").await;
                if width == 390 {
                    // The phone's week is a list by day, each with its heading and its new
                    // button, without the grid's hour gutter or its empty half hours.
                    b.goto(&week).await;
                    let tuesday = day + Duration::days(1);
                    let head = format!(".cal-col[data-day=\"{tuesday}\"] .cal-col-head");
                    assert!(b.find(&head).await.is_displayed().await.expect("shown"));
                    assert!(
                        !b.find(".cal-days-head")
                            .await
                            .is_displayed()
                            .await
                            .expect("hidden")
                    );
                    assert!(
                        !b.find(".cal-slot").await.is_displayed().await.expect("hidden")
                    );
                    b.click_to_page(&format!("{head} a.button")).await;
                    assert_eq!(
                        b.value("[name=\"f.starts_at\"]").await,
                        format!("{tuesday}T09:00")
                    );
                    return;
                }
                // A click on Tuesday 16:00 opens a new meeting at that time.
                b.goto(&week).await;
                let tuesday = day + Duration::days(1);
                let slot =
                    format!(".cal-col[data-day=\"{tuesday}\"] a.cal-slot[href*=\"starts_at={tuesday}T16%3A00\"]");
                b.click_to_page(&slot).await;
                assert_eq!(
                    b.value("[name=\"f.starts_at\"]").await,
                    format!("{tuesday}T16:00")
                );
                assert_eq!(
                    b.value("[name=\"f.ends_at\"]").await,
                    format!("{tuesday}T17:00")
                );
                assert_eq!(b.value("select[name=\"f.kind\"]").await, "meeting");
                b.shot("new-from-slot").await;

                // Dragged one day right and two hours down: Tuesday 12:00, an hour long still.
                b.goto(&week).await;
                let col_width = b
                    .js("return document.querySelector('.cal-col').getBoundingClientRect().width;")
                    .await
                    .as_f64()
                    .expect("width");
                drag_entry(&b, &moved, col_width, 96.0).await;
                b.wait_text("#notice", if lang == "en" { "Moved." } else { "已改期" })
                    .await;
                b.shot("after-drag").await;
                let rec: serde_json::Value = reqwest::Client::new()
                    .get(format!("{base}/api/v1/activities/{moved}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("get")
                    .json()
                    .await
                    .expect("json");
                let start =
                    chrono::DateTime::parse_from_rfc3339(rec["starts_at"].as_str().expect("start"))
                        .expect("t");
                let end =
                    chrono::DateTime::parse_from_rfc3339(rec["ends_at"].as_str().expect("end"))
                        .expect("t");
                assert_eq!(
                    start.to_utc(),
                    chrono::DateTime::parse_from_rfc3339(&at(tuesday, 12))
                        .expect("t")
                        .to_utc(),
                    "{rec}"
                );
                assert_eq!(end - start, Duration::hours(1));

                // Changed elsewhere meanwhile, the entry's next drag is refused: the calendar it
                // came from (its own address, so a reload asks for nothing again) says which
                // entry did not move and why, and it stays where it was.
                let changed = reqwest::Client::new()
                    .patch(format!("{base}/api/v1/activities/{moved}"))
                    .bearer_auth(&token)
                    .json(&json!({"priority": "high"}))
                    .send()
                    .await
                    .expect("patch");
                assert!(changed.status().is_success());
                drag_entry(&b, &moved, col_width, 0.0).await;
                let said = b
                    .wait_text("#notice", if lang == "en" { "was not moved" } else { "未能改期" })
                    .await;
                let name = if lang == "en" { "Contract review with Wang Fang" } else { "与王芳洽谈续约" };
                assert!(said.contains(name), "{said}");
                let path = b.path().await;
                assert!(
                    path.starts_with("/activities/calendar?view=week")
                        && path.contains("failed=version_conflict"),
                    "{path}"
                );
                b.shot("refused-drag").await;
                let after: serde_json::Value = reqwest::Client::new()
                    .get(format!("{base}/api/v1/activities/{moved}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("get")
                    .json()
                    .await
                    .expect("json");
                assert_eq!(after["starts_at"], rec["starts_at"], "not moved");
            })
            .await;
        }
    }
}
