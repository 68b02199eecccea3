//! The pipeline board in Chromium, in both languages, on a wide screen and a phone: a card
//! dragged to another column moves (and stays moved), a card dragged to a stage that
//! requires fields it lacks (a close date) asks for them in a dialog, and moves with them; a card
//! dragged to Lost asks why in a dialog (Esc puts it back, a reason closes the deal); no sideways
//! scroll on a phone.

use std::time::Duration;

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use serde_json::{Value, json};

use super::driver::{Browser, driver_url, run};
use super::shell::{assert_accessible, assert_no_sideways_scroll};
use crate::board::{Deals, deals};
use crate::support::{Backend, PASSWORD, TestUser, spawn};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn stage(d: &Deals, en: &str) -> String {
    d.pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["name"]["en"] == en)
        .expect("stage")["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// Drags the card of record `card` onto the column of stage `to` with the mouse, as a person
/// would: press on the card, move a little, move over the column, release.
async fn drag(b: &Browser, card: &str, to: &str) {
    let from = b.find(&format!(".board-card[data-id=\"{card}\"] dl")).await;
    let target = b.find(&format!("#col-{to} header")).await;
    let actions = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: from,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(100)),
            x: 12.0,
            y: 8.0,
        })
        .then(PointerAction::MoveToElement {
            element: target,
            duration: Some(Duration::from_millis(300)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.c.perform_actions(actions).await.expect("drag");
    b.c.release_actions().await.expect("release");
}

async fn stage_of(u: &TestUser, opp: &str) -> Value {
    let r = u.get_r(&format!("/api/v1/opportunities/{opp}")).await;
    r.body["stage_id"].clone()
}

/// Moves the card of record `card` to the column of stage `to` by its move link's menu, as a
/// person on a phone or at a keyboard would.
async fn choose(b: &Browser, card: &str, to: &str) {
    // In sight, not under the sticky top bar.
    b.js(&format!(
        "document.querySelector('.board-card[data-id=\"{card}\"] .card-move').scrollIntoView({{block: 'center'}}); return null;"
    ))
    .await;
    b.find(&format!(".board-card[data-id=\"{card}\"] .card-move"))
        .await
        .click()
        .await
        .expect("open the menu");
    b.until("the menu", || async {
        (b.js("var d = document.getElementById('board-menu'); return !!(d && d.open);")
            .await
            == json!(true))
        .then_some(())
    })
    .await;
    assert_accessible(b, "the move menu").await;
    b.shot("board-menu").await;
    b.find(&format!("#board-menu button[data-to=\"{to}\"]"))
        .await
        .click()
        .await
        .expect("choose the column");
}

/// Waits for the dialog asking what a move needs, and returns its heading.
async fn asked(b: &Browser) -> String {
    b.until("the closing form", || async {
        let open = b
            .js("var d = document.getElementById('board-dialog'); return !!(d && d.open && d.querySelector('#board-close'));")
            .await;
        (open == json!(true)).then_some(())
    })
    .await;
    b.text("#board-close-title").await
}

/// The name attribute of the element that has the focus.
async fn focused(b: &Browser) -> Value {
    b.js("return document.activeElement && document.activeElement.getAttribute('name');")
        .await
}

#[tokio::test]
async fn cards_are_dragged_between_stages_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    let d = deals(&admin).await;
    let needs = stage(&d, "Needs analysis");
    let negotiation = stage(&d, "Negotiation");
    let lost = stage(&d, "Lost");
    for lang in ["en", "zh-CN"] {
        // A team of their own each, so each reads only their own deals.
        let rep = app.user_in("sales", Some(lang), lang).await;
        // A board that looks lived in: deals in every open stage, some won this quarter.
        let names = [
            ("杭州云帆 ERP 升级", "Qualification", "380000"),
            ("宁波港务数据中台", "Qualification", "1250000"),
            ("苏州工业园 CRM 项目", "Needs analysis", "560000"),
            ("上海星河贸易 SaaS 续约", "Proposal", "98000"),
            ("南京钢研 MES 改造", "Negotiation", "2400000"),
        ];
        let mut ids = Vec::new();
        for (name, at, amount) in names {
            // Negotiation needs a close date.
            let extra = if at == "Negotiation" {
                json!({"close_date": "2026-12-20"})
            } else {
                json!({})
            };
            let o = d.open_with(&rep, name, at, amount, extra).await;
            ids.push(id(&o));
        }
        // A deal with neither amount nor close date: Negotiation asks for both.
        let bare = id(&d
            .open_with(
                &rep,
                "无锡智造 MES 二期",
                "Qualification",
                "0",
                json!({"amount": null}),
            )
            .await);
        let won = d
            .open(&rep, "深圳迈科 安防平台", "Qualification", "720000")
            .await;
        rep.post_r(
            &format!("/api/v1/opportunities/{}/close_won", id(&won)),
            &json!({}),
        )
        .await;
        let short = if lang == "en" { "en" } else { "zh" };
        for width in [1400u32, 390] {
            let test = format!("board-{short}-{width}");
            let email = rep.email.clone();
            let rep_token = rep.token.clone();
            let ids = ids.clone();
            let bare = bare.clone();
            let (needs, negotiation) = (needs.clone(), negotiation.clone());
            let (lost, reason) = (lost.clone(), d.reason.clone());
            let base = app.base.clone();
            run(&driver, &app.base, &test, short, |b| async move {
                b.window(width, 900).await;
                b.goto("/login").await;
                b.fill("#email", &email).await;
                b.fill("#password", PASSWORD).await;
                b.click_to_page("#login-submit").await;
                b.goto("/opportunities").await;
                b.click_to_page("#to-board").await;
                assert!(b.path().await.starts_with("/opportunities/board"));
                assert_no_sideways_scroll(&b, "board").await;
                assert_accessible(&b, "board").await;
                b.shot("board").await;
                let lost_word = if short == "en" { "Lost" } else { "输单" };
                if width != 1400 {
                    // On a phone the columns stack; a card's move link opens a menu of the
                    // columns.
                    b.shot_at("#board .board-col.won", "board-won").await;
                    // Lost from the menu: the same form asks why, and fits.
                    let card = ids[1].clone();
                    choose(&b, &card, &lost).await;
                    let heading = asked(&b).await;
                    assert!(heading.contains(lost_word), "{heading}");
                    assert_eq!(focused(&b).await, json!("a.lost_reason_id"));
                    assert_no_sideways_scroll(&b, "board asking why").await;
                    assert_accessible(&b, "board asking why").await;
                    b.shot("board-close-form").await;
                    b.find("#board-close-cancel").await.click().await.expect("cancel");
                    b.until("the dialog to close", || async {
                        (b.js("return document.getElementById('board-dialog').open;").await
                            == json!(false))
                        .then_some(())
                    })
                    .await;
                    // Negotiation by the select for a deal without amount or close date: the
                    // board asks for both, the amount as the record form's money input, and
                    // the dialog fits.
                    let card = bare.clone();
                    choose(&b, &card, &negotiation).await;
                    asked(&b).await;
                    assert_eq!(focused(&b).await, json!("f.amount.amount"));
                    assert!(b.exists("#board-dialog select[name=\"f.amount.currency\"]").await);
                    assert!(b.exists("#board-dialog input[name=\"f.close_date\"]").await);
                    assert_no_sideways_scroll(&b, "board asking for amount and date").await;
                    assert_accessible(&b, "board asking for amount and date").await;
                    b.shot("board-fields-form").await;
                    b.find("#board-close-cancel").await.click().await.expect("cancel");
                    // The record page's action panels ask the same way.
                    b.goto(&format!("/opportunities/{card}")).await;
                    b.find("#action-close_lost summary").await.click().await.expect("open");
                    assert_accessible(&b, "the close-lost panel").await;
                    b.shot("record-close-lost").await;
                    return;
                }
                let rep = TestUser {
                    id: uuid::Uuid::nil(),
                    email: email.clone(),
                    token: rep_token,
                    base,
                    client: reqwest::Client::new(),
                };
                // Dragged from qualification to needs analysis: moved, said, and kept.
                let card = ids[0].clone();
                drag(&b, &card, &needs).await;
                b.until("the move to be said", || async {
                    b.exists("#notice").await.then_some(())
                })
                .await;
                assert!(
                    b.exists(&format!("#col-{needs} .board-card[data-id=\"{card}\"]"))
                        .await
                );
                assert_eq!(stage_of(&rep, &card).await, json!(needs));
                let count = b
                    .js(&format!(
                        "return document.querySelector('#col-{needs} .count').dataset.count;"
                    ))
                    .await;
                assert_eq!(count, json!("2"), "the column's count follows");
                b.shot("board-moved").await;

                // Dragged to negotiation without a close date: the board asks for it, in a
                // dialog over the board, focus on the date; Esc puts the card back.
                drag(&b, &card, &negotiation).await;
                let heading = asked(&b).await;
                assert!(heading.contains("杭州云帆 ERP 升级"), "{heading}");
                assert!(
                    heading.contains(if short == "en" { "Negotiation" } else { "谈判审核" }),
                    "{heading}"
                );
                assert_eq!(focused(&b).await, json!("f.close_date"));
                let why = b.text("#board-dialog .action-field.invalid .field-error").await;
                assert!(
                    why.contains(if short == "en" { "Negotiation" } else { "谈判审核" }),
                    "{why}"
                );
                assert!(
                    !b.exists("#board-dialog input[name=\"f.amount.amount\"]").await,
                    "the amount it has is not asked for"
                );
                assert_no_sideways_scroll(&b, "board asking for a close date").await;
                assert_accessible(&b, "board asking for a close date").await;
                b.shot("board-fields-form").await;
                b.c.active_element()
                    .await
                    .expect("focus")
                    .send_keys(&fantoccini::key::Key::Escape.to_string())
                    .await
                    .expect("Esc");
                b.until("the card to go back", || async {
                    b.exists(&format!("#col-{needs} .board-card[data-id=\"{card}\"]"))
                        .await
                        .then_some(())
                })
                .await;
                assert_eq!(stage_of(&rep, &card).await, json!(needs));
                // Again, with the date: moved, dated, said.
                drag(&b, &card, &negotiation).await;
                asked(&b).await;
                b.js("var i = document.querySelector('#board-dialog input[name=\"f.close_date\"]'); \
                      i.value = '2027-03-31'; return null;")
                    .await;
                b.find("#board-close-confirm").await.click().await.expect("confirm");
                let negotiation_word = if short == "en" { "Negotiation" } else { "谈判审核" };
                let said = b.wait_text("#notice", negotiation_word).await;
                assert!(said.contains("杭州云帆 ERP 升级"), "{said}");
                assert!(
                    b.exists(&format!("#col-{negotiation} .board-card[data-id=\"{card}\"]"))
                        .await,
                    "the card is in Negotiation"
                );
                let deal = rep
                    .get_r(&format!("/api/v1/opportunities/{card}"))
                    .await
                    .body;
                assert_eq!(deal["stage_id"], json!(negotiation));
                assert_eq!(deal["close_date"], json!("2027-03-31"));
                assert_no_sideways_scroll(&b, "board after a dated move").await;
                b.shot("board-fields-moved").await;

                // Dragged to Lost: the board asks why, over the board, focus on the reason.
                let closing = ids[2].clone();
                let from = stage_of(&rep, &closing).await;
                let from = from.as_str().expect("stage").to_string();
                drag(&b, &closing, &lost).await;
                let heading = asked(&b).await;
                assert!(heading.contains("苏州工业园 CRM 项目"), "{heading}");
                assert!(heading.contains(lost_word), "{heading}");
                assert_eq!(focused(&b).await, json!("a.lost_reason_id"));
                assert!(
                    b.exists(&format!("#col-{lost} .board-card[data-id=\"{closing}\"]"))
                        .await,
                    "the card waits in Lost"
                );
                b.shot("board-close-form").await;
                // Esc: the dialog closes, the card goes back, nothing written.
                b.c.active_element()
                    .await
                    .expect("focus")
                    .send_keys(&fantoccini::key::Key::Escape.to_string())
                    .await
                    .expect("Esc");
                b.until("the card to go back", || async {
                    b.exists(&format!("#col-{from} .board-card[data-id=\"{closing}\"]"))
                        .await
                        .then_some(())
                })
                .await;
                assert_eq!(stage_of(&rep, &closing).await, json!(from));
                // Again, with a reason: lost with it.
                drag(&b, &closing, &lost).await;
                asked(&b).await;
                b.find("#board-dialog select[name=\"a.lost_reason_id\"]")
                    .await
                    .select_by_value(&reason)
                    .await
                    .expect("pick a reason");
                b.find("#board-close-confirm").await.click().await.expect("confirm");
                let said = b
                    .wait_text("#notice", "苏州工业园 CRM 项目")
                    .await;
                assert!(said.contains(lost_word), "{said}");
                assert!(
                    b.exists(&format!("#col-{lost} .board-card[data-id=\"{closing}\"]"))
                        .await,
                    "the card is in Lost"
                );
                let deal = rep
                    .get_r(&format!("/api/v1/opportunities/{closing}"))
                    .await
                    .body;
                assert_eq!(deal["status"], json!("lost"));
                assert_eq!(deal["lost_reason_id"], json!(reason));
                assert_no_sideways_scroll(&b, "board after closing").await;
                b.shot("board-closed-lost").await;

                // The reload shows the same board: the moves persisted.
                b.reload().await;
                assert!(
                    b.exists(&format!("#col-{negotiation} .board-card[data-id=\"{card}\"]"))
                        .await
                );

                // Without the script: the move link is a page asking where to, and the
                // form it posts asks why in the page where a refusal shows.
                let other = ids[3].clone();
                let before = stage_of(&rep, &other).await;
                let href = b
                    .js(&format!(
                        "return document.querySelector('.board-card[data-id=\"{other}\"] .card-move').getAttribute('href');"
                    ))
                    .await;
                b.goto(href.as_str().expect("the move link")).await;
                assert!(b.exists("#board-area #board-moving").await, "asked where to");
                assert_no_sideways_scroll(&b, "board asking where to").await;
                assert_accessible(&b, "board asking where to").await;
                b.shot("board-move-page").await;
                b.mark_page().await;
                b.js(&format!(
                    "var f = document.getElementById('board-moving-form'); \
                     f.querySelector('input[name=to][value=\"{lost}\"]').checked = true; \
                     HTMLFormElement.prototype.submit.call(f); return null;"
                ))
                .await;
                b.wait_new_page().await;
                assert!(b.exists("#board-area #board-close").await, "the form in the page");
                assert!(b.exists("#board-close-cancel").await);
                assert_no_sideways_scroll(&b, "board asking without the script").await;
                b.shot("board-close-form-page").await;
                assert_eq!(stage_of(&rep, &other).await, before, "nothing written");
            })
            .await;
        }
    }
}
