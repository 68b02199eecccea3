//! The activity form in Chromium, in both languages, on a wide screen and a phone: choosing a
//! kind shows its fields and hides the others (out of sight and out of the tab order), and a
//! call saved from it shows its own fields on its page.

use super::driver::{Browser, driver_url, run};
use super::login;
use super::shell::{assert_accessible, assert_no_sideways_scroll};
use crate::support::{Backend, spawn};

/// Whether the group of fields `name` is shown.
async fn shown(b: &Browser, name: &str) -> bool {
    b.find(&format!("#group-{name}"))
        .await
        .is_displayed()
        .await
        .expect("displayed")
}

/// A phone's window, once the navigation column has slid away.
async fn to_phone(b: &Browser) {
    b.window(390, 844).await;
    let gone = "var s = document.querySelector('.sidebar'); \
                return !s || s.getBoundingClientRect().right <= 0;";
    b.until("the navigation to slide away", || async {
        (b.js(gone).await == serde_json::Value::Bool(true)).then_some(())
    })
    .await;
}

async fn choose_kind(b: &Browser, kind: &str) {
    b.find("select[name=\"f.kind\"]")
        .await
        .select_by_value(kind)
        .await
        .expect("choose the kind");
}

/// Whether the input of field `name` can take the focus.
async fn focusable(b: &Browser, name: &str) -> bool {
    let script = format!(
        "var e = document.getElementById('f.{name}'); e.focus(); \
         var yes = document.activeElement === e; e.blur(); return yes;"
    );
    b.js(&script).await == serde_json::Value::Bool(true)
}

#[tokio::test]
async fn the_activity_form_shows_what_each_kind_needs_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    for lang in ["en", "zh-CN"] {
        let rep = app.user_in("sales", Some("East"), lang).await;
        let email = rep.email.clone();
        let account = rep
            .create(
                "accounts",
                serde_json::json!({"name": "杭州星辰智能科技有限公司", "kind": "company",
                    "allow_duplicate": true}),
            )
            .await;
        let account = account["id"].as_str().expect("id").to_string();
        let regarding = serde_json::json!({"entity": "account", "id": account});
        let repeating = rep
            .create(
                "activities",
                serde_json::json!({"subject": "周报", "kind": "task", "repeat": "weekly",
                    "repeat_count": 4, "due_at": "2099-05-01T02:00:00Z"}),
            )
            .await;
        let repeating = repeating["id"].as_str().expect("id").to_string();
        for body in [
            serde_json::json!({"subject": "询价电话", "kind": "call", "call_outcome": "connected",
                "call_duration": 900, "direction": "inbound", "regarding": regarding}),
            serde_json::json!({"subject": "上门拜访", "kind": "visit", "location": "杭州市西湖区文三路 90 号",
                "starts_at": "2099-05-01T02:00:00Z", "priority": "high", "regarding": regarding}),
            serde_json::json!({"subject": "展会纪要", "kind": "note", "description": "客户关心交付周期。",
                "regarding": regarding}),
        ] {
            rep.create("activities", body).await;
        }
        let zh = lang == "zh-CN";
        let test = format!("activity-form-{lang}");
        run(&driver, &app.base, &test, lang, |b| async move {
            login(&b, &email).await;
            b.window(1400, 900).await;
            b.goto("/activities/new").await;
            // A new activity is a task: its due date shows, a call's and a visit's fields not.
            assert!(shown(&b, "task").await);
            for other in ["call", "place", "check_in", "when"] {
                assert!(!shown(&b, other).await, "{lang}: {other} on a task");
            }
            assert!(
                !focusable(&b, "phone").await,
                "{lang}: a hidden field takes no focus"
            );
            b.shot("new-task-1400").await;

            // A call: its fields and its time show; a visit's, a meeting's and a task's not.
            choose_kind(&b, "call").await;
            for own in ["call", "when", "follow_up"] {
                assert!(shown(&b, own).await, "{lang}: {own} on a call");
            }
            for other in ["task", "place", "check_in"] {
                assert!(!shown(&b, other).await, "{lang}: {other} on a call");
            }
            assert!(focusable(&b, "phone").await);
            assert!(!focusable(&b, "location").await);
            let legend = b.text("#group-call legend").await;
            assert_eq!(legend, if zh { "通话信息" } else { "Call details" });
            // Labels stay tied to their inputs.
            let tied = b
                .js("var l = document.querySelector('label[for=\"f.phone\"]'); \
                     return !!l && l.control === document.getElementById('f.phone');")
                .await;
            assert_eq!(tied, serde_json::Value::Bool(true));
            assert_accessible(&b, &format!("the call form ({lang})")).await;
            b.shot("new-call-1400").await;
            to_phone(&b).await;
            assert_no_sideways_scroll(&b, &format!("the call form at 390 ({lang})")).await;
            b.shot_at("#group-call", "new-call-390").await;

            // A visit: where, who and the check-in show; the call's fields hide.
            choose_kind(&b, "visit").await;
            for own in ["when", "place", "check_in"] {
                assert!(shown(&b, own).await, "{lang}: {own} on a visit");
            }
            assert!(!shown(&b, "call").await);
            assert!(focusable(&b, "location").await);
            assert_no_sideways_scroll(&b, &format!("the visit form at 390 ({lang})")).await;
            b.shot_at("#group-place", "new-visit-390").await;
            b.window(1400, 900).await;
            b.shot_at("#group-place", "new-visit-1400").await;

            // A note: its subject, what it regards and its text, nothing else.
            choose_kind(&b, "note").await;
            for other in ["when", "task", "call", "place", "check_in", "follow_up"] {
                assert!(!shown(&b, other).await, "{lang}: {other} on a note");
            }
            b.shot("new-note-1400").await;

            // Log a call and read it back.
            choose_kind(&b, "call").await;
            let subject = if zh {
                "回访张经理"
            } else {
                "Follow-up call to Mr Zhang"
            };
            b.field("subject", subject).await;
            b.field("phone", "138 0013 8000").await;
            b.find("select[name=\"f.call_outcome\"]")
                .await
                .select_by_value("connected")
                .await
                .expect("choose the outcome");
            b.fill("input[name=\"f.call_duration.minutes\"]", "12")
                .await;
            b.click_to_page("#save-record").await;
            assert!(
                b.path().await.starts_with("/activities/"),
                "{}",
                b.path().await
            );
            assert!(b.exists("#notice").await, "{lang}: a message after saving");
            let labels = b.texts("#fields dt").await;
            let (outcome, phone, checked_in, due) = if zh {
                ("通话结果", "电话号码", "签到时间", "截止时间")
            } else {
                ("Call outcome", "Phone number", "Checked in", "Due")
            };
            assert!(labels.iter().any(|l| l == outcome), "{lang}: {labels:?}");
            assert!(labels.iter().any(|l| l == phone), "{lang}: {labels:?}");
            for other in [checked_in, due] {
                assert!(
                    !labels.iter().any(|l| l == other),
                    "{lang}: {other}: {labels:?}"
                );
            }
            let fields = b.text("#fields").await;
            assert!(fields.contains("138 0013 8000"), "{lang}: {fields}");
            assert!(
                fields.contains(if zh { "已接通" } else { "Connected" }),
                "{fields}"
            );
            b.shot("saved-call-1400").await;
            to_phone(&b).await;
            assert_no_sideways_scroll(&b, &format!("the call's page at 390 ({lang})")).await;
            b.shot("saved-call-390").await;

            // Editing it opens with the call's fields only.
            let id = super::record_id(&b, "activities").await;
            b.window(1400, 900).await;
            b.goto(&format!("/activities/{id}/edit")).await;
            assert!(shown(&b, "call").await);
            assert!(!shown(&b, "task").await);

            // A repeating task turned into a call is refused (only tasks repeat): the form
            // comes back with the refused field shown, though it is a task's.
            b.goto(&format!("/activities/{repeating}/edit")).await;
            choose_kind(&b, "call").await;
            assert!(!shown(&b, "task").await);
            b.click_to_page("#save-record").await;
            assert!(b.exists("#form-errors").await, "{lang}: refused");
            assert!(
                b.field_error("repeat").await.is_some(),
                "{lang}: on the repeat"
            );
            assert!(
                shown(&b, "task").await,
                "{lang}: the refused field is in sight"
            );
            assert!(shown(&b, "call").await);
            b.shot_at("#group-task", "refused-repeat-1400").await;

            // The customer's timeline: each entry with its own kind's facts.
            b.goto(&format!("/accounts/{account}?tab=timeline")).await;
            let facts = b.texts(".entry-facts").await.join(" | ");
            let want = if zh {
                "通话结果：已接通"
            } else {
                "Call outcome: Connected"
            };
            assert!(facts.contains(want), "{lang}: {facts}");
            b.shot_at(".timeline", "timeline-1400").await;
            to_phone(&b).await;
            assert_no_sideways_scroll(&b, &format!("the timeline at 390 ({lang})")).await;
            b.shot_at(".timeline", "timeline-390").await;
        })
        .await;
    }
}
