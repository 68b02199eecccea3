//! The timeline's quick box on a phone and on a wide screen, in both languages: on a phone it
//! is short (the kinds, the subject, and for a task its due time), a labelled "More details"
//! button (reachable by keyboard, saying whether it is open) opens the rest without moving
//! itself, nothing typed is lost by closing and opening it, and a call with its notes is logged
//! from there. On a wide screen every field shows as before; without the script too.

use fantoccini::key::Key;
use serde_json::{Value, json};

use super::driver::{Browser, driver_url, run};
use super::shell::{assert_accessible, assert_no_sideways_scroll};
use crate::support::{Backend, PASSWORD, login_cookie, page_as, spawn};

/// The quick box's height on a 390 px phone, at most, before "More details" is pressed: the
/// kinds, the subject and the buttons, under a quarter of an 844 px phone screen (174 px when
/// this was written; open, with every field, about 400).
const PHONE_BOX_MAX: f64 = 200.0;

async fn shown(b: &Browser, css: &str) -> bool {
    b.find(css).await.is_displayed().await.expect("displayed")
}

async fn number(b: &Browser, script: &str) -> f64 {
    b.js(script).await.as_f64().expect("a number")
}

const BOX_HEIGHT: &str =
    "return document.getElementById('quick-log').getBoundingClientRect().height;";
const MORE_TOP: &str = "return document.getElementById('quick-more').getBoundingClientRect().top;";

#[tokio::test]
async fn the_quick_box_is_short_on_a_phone_and_opens_its_details_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    for lang in ["zh-CN", "en"] {
        let rep = app.user_in("sales", Some("East"), lang).await;
        let account = rep
            .create(
                "accounts",
                json!({"kind": "company", "name": if lang == "en" { "Harbour Lights Trading Ltd." } else { "杭州星辰智能科技有限公司" }}),
            )
            .await;
        let page = format!(
            "/accounts/{}?tab=timeline",
            account["id"].as_str().expect("id")
        );

        // Without the script every field shows and the button is not there to press.
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let (_, html) = page_as(&app, Some(&cookie), lang, &page).await;
        assert!(
            html.contains(r#"id="quick-more" aria-expanded="true" hidden>"#),
            "{html}"
        );
        assert!(
            !html.contains("collapsed"),
            "nothing hidden without the script"
        );
        // What each kind needs, from the declaration: the subject (required) for all, the due
        // time (a task's own field) for a task, the notes (anyone's, no one's need) for none.
        for (class, kinds) in [
            ("subject", "call note task visit"),
            ("detail", ""),
            ("due", "task"),
        ] {
            let want = format!(r#"class="{class} quick-field" data-essential-for="{kinds}""#);
            assert!(html.contains(&want), "{want}");
        }

        for width in [390u32, 1400] {
            let test = format!("timeline-quick-{lang}-{width}");
            let (email, page) = (rep.email.clone(), page.clone());
            let (token, base) = (rep.token.clone(), app.base.clone());
            run(&driver, &app.base, &test, lang, |b| async move {
                b.window(width, 844).await;
                b.goto("/login").await;
                b.fill("#email", &email).await;
                b.fill("#password", PASSWORD).await;
                b.click_to_page("#login-submit").await;
                b.goto(&page).await;
                assert_no_sideways_scroll(&b, "timeline").await;
                assert_accessible(&b, "timeline").await;
                let (more, less) = if lang == "en" {
                    ("More details", "Fewer details")
                } else {
                    ("更多", "收起")
                };

                if width == 1400 {
                    // A wide screen keeps every field in sight; the button is not needed.
                    assert!(!shown(&b, "#quick-more").await);
                    for f in ["#quick-subject", "#quick-detail", "#quick-due"] {
                        assert!(shown(&b, f).await, "{f}");
                    }
                    b.shot("wide").await;
                    return;
                }

                // A call (the first kind) needs its subject only: the box is short.
                assert!(shown(&b, "#quick-subject").await);
                assert!(!shown(&b, "#quick-detail").await);
                assert!(!shown(&b, "#quick-due").await);
                let height = number(&b, BOX_HEIGHT).await;
                assert!(
                    height <= PHONE_BOX_MAX,
                    "the quick box is {height} px high on a phone (at most {PHONE_BOX_MAX})"
                );
                assert!(shown(&b, "#quick-more").await);
                assert_eq!(b.text("#quick-more").await, more);
                assert_eq!(
                    b.js("var m = document.getElementById('quick-more'); return [m.tagName, m.type, m.getAttribute('aria-expanded')];").await,
                    json!(["BUTTON", "button", "false"])
                );
                b.shot("phone-short").await;

                // A task needs its due time too.
                b.find("label.chip:has(input[name=kind][value=task])").await.click().await.expect("task");
                assert!(shown(&b, "#quick-due").await);
                assert!(!shown(&b, "#quick-detail").await);
                b.shot("phone-task").await;
                b.find("label.chip:has(input[name=kind][value=call])").await.click().await.expect("call");
                assert!(!shown(&b, "#quick-due").await);

                // Typed, then the details opened from the keyboard: Tab from the subject
                // reaches the button, Enter opens it, and it stays where it was.
                let subject = format!("{lang} 回访：确认报价");
                b.fill("#quick-subject", &subject).await;
                b.find("#quick-subject")
                    .await
                    .send_keys(&Key::Tab.to_string())
                    .await
                    .expect("tab");
                assert_eq!(b.js("return document.activeElement.id;").await, json!("quick-more"));
                let top = number(&b, MORE_TOP).await;
                b.find("#quick-more")
                    .await
                    .send_keys(&Key::Enter.to_string())
                    .await
                    .expect("enter");
                assert_eq!(
                    b.js("return document.getElementById('quick-more').getAttribute('aria-expanded');").await,
                    json!("true")
                );
                assert_eq!(b.text("#quick-more").await, less);
                assert_eq!(number(&b, MORE_TOP).await, top, "the button did not move");
                assert!(shown(&b, "#quick-detail").await);
                assert!(shown(&b, "#quick-due").await);
                assert_eq!(b.value("#quick-subject").await, subject);
                let open_height = number(&b, BOX_HEIGHT).await;
                eprintln!("{lang}: the quick box is {height} px high, {open_height} px open");
                let detail = "客户希望下周三前收到合同草稿";
                b.fill("#quick-detail", detail).await;
                b.shot("phone-open").await;

                // Closed and opened again: what was typed is still there.
                b.find("#quick-more").await.click().await.expect("close");
                assert!(!shown(&b, "#quick-detail").await);
                assert_eq!(b.value("#quick-detail").await, detail);
                b.find("#quick-more").await.click().await.expect("open");
                assert_eq!(b.value("#quick-detail").await, detail);
                assert_eq!(b.value("#quick-subject").await, subject);
                assert_no_sideways_scroll(&b, "the open quick box").await;
                assert_accessible(&b, "the open quick box").await;

                // Closed again, the call is logged with its notes, hidden or not.
                b.find("#quick-more").await.click().await.expect("close");
                b.click_to_page("#quick-log-save").await;
                assert!(b.path().await.contains("done=logged"), "{}", b.path().await);
                assert!(b.exists("#notice").await);
                let entries = b.texts("#timeline-past li.entry").await;
                assert!(
                    entries.iter().any(|e| e.contains(&subject) && e.contains(detail)),
                    "{entries:?}"
                );
                b.shot("phone-logged").await;
                let logged: Value = reqwest::Client::new()
                    .get(format!("{base}/api/v1/activities?limit=5"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("list")
                    .json()
                    .await
                    .expect("json");
                let call = logged["data"]
                    .as_array()
                    .and_then(|a| a.iter().find(|r| r["subject"] == json!(subject)))
                    .cloned()
                    .expect("the call");
                assert_eq!(call["kind"], "call");
                assert_eq!(call["description"], detail);
                // A fresh box is short again.
                assert!(!shown(&b, "#quick-detail").await);
            })
            .await;
        }
    }
}
