//! The pipeline board on both backends: a column per stage with the count and sum of what the
//! reader may read, won and lost deals of the current quarter only, moves by the card's form
//! (an update between open stages, the close and reopen actions to and from won and lost), and
//! refused moves explained in the reader's language with nothing changed.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, TestUser, backends, login_cookie, page_as, spawn};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The id of the stage named `en` in a pipeline.
fn stage(pipeline: &Value, en: &str) -> String {
    pipeline["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["name"]["en"] == en)
        .unwrap_or_else(|| panic!("no stage {en} in {pipeline}"))["id"]
        .as_str()
        .expect("stage id")
        .to_string()
}

/// The value of attribute `attr` of the column of stage `stage_id` on a board page.
fn column_attr(html: &str, stage_id: &str, attr: &str) -> String {
    let at = html
        .find(&format!("id=\"col-{stage_id}\""))
        .unwrap_or_else(|| panic!("no column {stage_id} on the board: {html}"));
    let rest = &html[at..];
    let marker = format!("{attr}=\"");
    let start = rest.find(&marker).expect("attribute") + marker.len();
    rest[start..].split('"').next().expect("value").to_string()
}

fn count(html: &str, stage_id: &str) -> u64 {
    column_attr(html, stage_id, "data-count")
        .parse()
        .expect("a count")
}

/// The column's sum as a number (one currency).
fn sum(html: &str, stage_id: &str) -> f64 {
    let raw = column_attr(html, stage_id, "data-sum");
    if raw.is_empty() {
        return 0.0;
    }
    raw.split(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("a sum: {raw}"))
}

/// The cards' ids in the column of `stage_id`.
fn cards(html: &str, stage_id: &str) -> Vec<String> {
    let at = html
        .find(&format!("id=\"col-{stage_id}\""))
        .expect("column");
    let rest = &html[at..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    rest[..end]
        .split("class=\"board-card\" data-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().expect("id").to_string())
        .collect()
}

pub struct Deals {
    pub pipeline: Value,
    pub reason: String,
}

/// A pipeline with the standard stages and a lost reason.
pub async fn deals(admin: &TestUser) -> Deals {
    let pipeline = admin
        .create(
            "pipelines",
            json!({"name": {"en": "New business", "zh-CN": "新客户"}, "position": 1,
                   "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await;
    let reason = id(&admin
        .create(
            "lost_reasons",
            json!({"name": {"en": "Price", "zh-CN": "价格太高"}, "position": 1}),
        )
        .await);
    Deals { pipeline, reason }
}

impl Deals {
    pub async fn open(&self, by: &TestUser, name: &str, at: &str, amount: &str) -> Value {
        self.open_with(by, name, at, amount, json!({})).await
    }

    /// The same with more fields (`extra`).
    pub async fn open_with(
        &self,
        by: &TestUser,
        name: &str,
        at: &str,
        amount: &str,
        extra: Value,
    ) -> Value {
        // The deal's account is the rep's own, so they may name it.
        let account = id(&by
            .create(
                "accounts",
                json!({"kind": "company", "name": format!("{name} 客户"), "type": "prospect",
                       "allow_duplicate": true}),
            )
            .await);
        let mut body = json!({"name": name, "account_id": account,
               "pipeline_id": id(&self.pipeline), "stage_id": stage(&self.pipeline, at),
               "amount": {"amount": amount, "currency": "CNY"}});
        for (k, v) in extra.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        by.create("opportunities", body).await
    }
}

async fn board(app: &TestApp, cookie: &str, lang: &str, query: &str) -> String {
    let (status, html) = page_as(
        app,
        Some(cookie),
        lang,
        &format!("/opportunities/board?{query}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    html
}

/// Posts a card's move form; the status, where it sends the browser, and the page.
async fn move_card(
    app: &TestApp,
    cookie: &str,
    opp: &str,
    version: i64,
    to: &str,
    back: &str,
) -> (StatusCode, Option<String>, String) {
    let csrf = crate::support::csrf_of(app, cookie).await;
    let version = version.to_string();
    crate::support::form_as(
        app,
        Some(cookie),
        "en",
        &format!("/opportunities/{opp}/board-move"),
        &[
            ("_csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("to", to),
            ("back", back),
        ],
    )
    .await
}

/// Posts the closing form a move asked for: the same move with `inputs`, confirmed.
async fn confirm_move(
    app: &TestApp,
    cookie: &str,
    opp: &str,
    version: i64,
    to: &str,
    back: &str,
    inputs: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let csrf = crate::support::csrf_of(app, cookie).await;
    let version = version.to_string();
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("to", to),
        ("back", back),
        ("confirm", "1"),
    ];
    form.extend_from_slice(inputs);
    crate::support::form_as(
        app,
        Some(cookie),
        "en",
        &format!("/opportunities/{opp}/board-move"),
        &form,
    )
    .await
}

async fn get(u: &TestUser, opp: &str) -> Value {
    let r = u.get_r(&format!("/api/v1/opportunities/{opp}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

#[tokio::test]
async fn the_board_counts_and_sums_what_each_reader_may_read() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let east = app.user("sales", Some("East")).await;
        let west = app.user_in("sales", Some("West"), "zh-CN").await;
        let d = deals(&admin).await;
        let p = id(&d.pipeline);
        let qual = stage(&d.pipeline, "Qualification");
        let needs = stage(&d.pipeline, "Needs analysis");
        let won = stage(&d.pipeline, "Won");
        let lost = stage(&d.pipeline, "Lost");
        d.open(&east, "东区 ERP", "Qualification", "100000").await;
        d.open(&east, "东区 CRM", "Needs analysis", "50000").await;
        d.open(&west, "西区 OA", "Qualification", "30000").await;
        // Won this quarter, won a year ago, lost this quarter.
        // The quarter the board shows is the reader's (Shanghai, the test users' zone).
        let today = Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
            .date_naive();
        let this_quarter = today.with_day(1).expect("first of the month");
        for (name, date, action) in [
            ("本季赢单", this_quarter.to_string(), "close_won"),
            (
                "去年赢单",
                format!("{}-02-10", today.year() - 1),
                "close_won",
            ),
            ("本季输单", this_quarter.to_string(), "close_lost"),
        ] {
            let o = d.open(&east, name, "Qualification", "20000").await;
            let mut body = json!({ "close_date": date });
            if action == "close_lost" {
                body["lost_reason_id"] = json!(d.reason);
            }
            let r = east
                .post_r(&format!("/api/v1/opportunities/{}/{action}", id(&o)), &body)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        }

        let (admin_cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
        let html = board(&app, &admin_cookie, "en", &format!("p={p}")).await;
        assert_eq!(count(&html, &qual), 2, "{b:?}");
        assert_eq!(sum(&html, &qual), 130_000.0, "{b:?}");
        assert_eq!(count(&html, &needs), 1, "{b:?}");
        assert_eq!(count(&html, &won), 1, "{b:?}: only this quarter's");
        assert_eq!(sum(&html, &won), 20_000.0, "{b:?}");
        assert_eq!(count(&html, &lost), 1, "{b:?}");
        assert!(html.contains("This quarter only"), "{b:?}");
        assert!(
            html.contains("¥130,000.00"),
            "{b:?}: the sum as people read it"
        );
        assert!(
            html.contains("href=\"/opportunities\" id=\"to-list\""),
            "{b:?}: the list link"
        );

        // A rep reads their own team's deals only, and their sums.
        let (east_cookie, _) = login_cookie(&app, &east.email, PASSWORD).await;
        let html = board(&app, &east_cookie, "en", &format!("p={p}")).await;
        assert_eq!(count(&html, &qual), 1, "{b:?}");
        assert_eq!(sum(&html, &qual), 100_000.0, "{b:?}");
        assert_eq!(cards(&html, &qual).len(), 1, "{b:?}");
        let (west_cookie, _) = login_cookie(&app, &west.email, PASSWORD).await;
        let html = board(&app, &west_cookie, "zh-CN", "").await;
        assert_eq!(
            count(&html, &qual),
            1,
            "{b:?}: the first pipeline by default"
        );
        assert_eq!(sum(&html, &qual), 30_000.0, "{b:?}");
        assert_eq!(count(&html, &won), 0, "{b:?}");
        assert!(html.contains("看板"), "{b:?}");

        // The list's filters apply: amounts over 60,000 only.
        let html = board(
            &app,
            &admin_cookie,
            "en",
            &format!("ff=amount&fo=gt&fv=60000&p={p}"),
        )
        .await;
        assert_eq!(count(&html, &qual), 1, "{b:?}");
        assert_eq!(sum(&html, &qual), 100_000.0, "{b:?}");
        assert_eq!(count(&html, &needs), 0, "{b:?}");
        // The list links to the board of the same records.
        let (_, list) = page_as(&app, Some(&admin_cookie), "en", "/opportunities").await;
        assert!(list.contains("id=\"to-board\""), "{b:?}");
    }
}

#[tokio::test]
async fn cards_move_by_their_form_and_refused_moves_are_explained() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user_in("sales", Some("East"), "zh-CN").await;
        let d = deals(&admin).await;
        let p = id(&d.pipeline);
        let needs = stage(&d.pipeline, "Needs analysis");
        let negotiation = stage(&d.pipeline, "Negotiation");
        let won = stage(&d.pipeline, "Won");
        let lost = stage(&d.pipeline, "Lost");
        let qual = stage(&d.pipeline, "Qualification");
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let back = format!("/opportunities/board?p={p}");
        let opp = d
            .open(&rep, "云帆 ERP 项目", "Qualification", "200000")
            .await;
        let o = id(&opp);

        // An open stage: an update.
        let (status, to, _) = move_card(&app, &cookie, &o, 1, &needs, &back).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
        let to = to.expect("back to the board");
        assert!(
            to.starts_with(&back) && to.contains("done=board_move&moved="),
            "{b:?}: {to}"
        );
        let now = get(&rep, &o).await;
        assert_eq!(now["stage_id"], json!(needs), "{b:?}");
        let version = now["version"].as_i64().expect("version");
        let (_, html) = page_as(&app, Some(&cookie), "zh-CN", &to).await;
        assert!(
            html.contains("“云帆 ERP 项目”已移至需求确认"),
            "{b:?}: the flash names the deal and the stage: {html}"
        );
        assert_eq!(cards(&html, &needs), vec![o.clone()], "{b:?}");

        // Negotiation asks for a close date: the board asks for it, in the rep's language.
        let (status, _, html) = move_card(&app, &cookie, &o, version, &negotiation, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(
            html.contains("将“云帆 ERP 项目”移至谈判审核"),
            "{b:?}: {html}"
        );
        assert!(html.contains("谈判审核”阶段前必填"), "{b:?}: {html}");
        assert_eq!(
            cards(&html, &needs),
            vec![o.clone()],
            "{b:?}: the card stays"
        );
        let same = get(&rep, &o).await;
        assert_eq!(same["version"], json!(version), "{b:?}: nothing written");
        assert_eq!(same["stage_id"], json!(needs), "{b:?}");

        // Lost asks for a reason: the board asks for it, nothing written yet.
        let (status, _, html) = move_card(&app, &cookie, &o, version, &lost, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert_eq!(get(&rep, &o).await["version"], json!(version), "{b:?}");

        // A stale version is refused: someone else moved it meanwhile.
        let (status, _, html) = move_card(&app, &cookie, &o, version - 1, &won, &back).await;
        assert!(status.is_client_error(), "{b:?}: {status}");
        assert!(html.contains("已被他人修改"), "{b:?}: {html}");
        assert_eq!(get(&rep, &o).await["status"], json!("open"), "{b:?}");

        // Won: the close-won action (dated today, the account a customer now).
        let (status, _, _) = move_card(&app, &cookie, &o, version, &won, &back).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
        let now = get(&rep, &o).await;
        assert_eq!(now["status"], json!("won"), "{b:?}");
        assert_eq!(now["stage_id"], json!(won), "{b:?}");
        assert!(now["close_date"].is_string(), "{b:?}");
        assert_eq!(
            crate::support::audit_rows(&app, &o, Some("close_won")).await,
            1,
            "{b:?}"
        );
        // And back to an open stage: reopen, to the stage it was dropped on.
        let version = now["version"].as_i64().expect("version");
        let (status, _, _) = move_card(&app, &cookie, &o, version, &qual, &back).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
        let now = get(&rep, &o).await;
        assert_eq!(now["status"], json!("open"), "{b:?}");
        assert_eq!(now["stage_id"], json!(qual), "{b:?}");

        // Someone else's deal cannot be moved by a rep who may only read it.
        let mate = app.user("sales", Some("East")).await;
        let theirs = id(&d.open(&mate, "同事的商机", "Qualification", "1000").await);
        let (status, _, html) = move_card(&app, &cookie, &theirs, 1, &needs, &back).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b:?}: {html}");
        assert!(html.contains("id=\"board-problem\""), "{b:?}");
        assert_eq!(get(&mate, &theirs).await["version"], json!(1), "{b:?}");
    }
}

/// A card carries one link to move it (a menu of the columns with the script); without the
/// script the link is the board asking where the card goes, every column named and its own
/// chosen, posting the same move. The board no longer repeats the columns in every card.
#[tokio::test]
async fn a_cards_move_link_asks_where_to_without_the_script() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user_in("sales", Some("East"), "zh-CN").await;
        let d = deals(&admin).await;
        let p = id(&d.pipeline);
        let qual = stage(&d.pipeline, "Qualification");
        let needs = stage(&d.pipeline, "Needs analysis");
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let o = id(&d
            .open(&rep, "云帆 ERP 项目", "Qualification", "200000")
            .await);

        let html = board(&app, &cookie, "zh-CN", &format!("p={p}")).await;
        let link = format!("href=\"/opportunities/{o}/board-move?p={p}\"");
        assert!(html.contains(&link), "{b:?}: {html}");
        assert!(
            html.contains("aria-label=\"将“云帆 ERP 项目”移到\""),
            "{b:?}"
        );
        assert!(
            !html.contains("<select name=\"to\""),
            "{b:?}: no select per card"
        );
        assert!(
            html.contains("id=\"board-move\""),
            "{b:?}: the board's one move form"
        );

        let (status, html) = page_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &format!("/opportunities/{o}/board-move?p={p}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(html.contains("id=\"board-moving\""), "{b:?}: {html}");
        assert!(html.contains("将“云帆 ERP 项目”移到"), "{b:?}");
        assert!(
            html.contains(&format!("value=\"{qual}\" checked")),
            "{b:?}: its own column chosen"
        );
        for s in ["需求确认", "赢单", "输单"] {
            assert!(html.contains(&format!("> {s}</label>")), "{b:?}: {s}");
        }
        assert!(
            html.contains(&format!("action=\"/opportunities/{o}/board-move\"")),
            "{b:?}"
        );
        assert!(
            html.contains(&format!(
                "name=\"back\" value=\"/opportunities/board?p={p}\""
            )),
            "{b:?}"
        );
        // What it posts is the move.
        let (status, _, _) = move_card(
            &app,
            &cookie,
            &o,
            1,
            &needs,
            &format!("/opportunities/board?p={p}"),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
        assert_eq!(get(&rep, &o).await["stage_id"], json!(needs), "{b:?}");

        // A deal the reader may not read is not found, in their language.
        let other = app.user("sales", Some("West")).await;
        let theirs = id(&d.open(&other, "西区商机", "Qualification", "1000").await);
        let (status, html) = page_as(
            &app,
            Some(&cookie),
            "zh-CN",
            &format!("/opportunities/{theirs}/board-move?p={p}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b:?}: {html}");
        assert!(!html.contains("西区商机"), "{b:?}");
    }
}

#[tokio::test]
async fn a_move_to_a_stage_that_requires_fields_asks_for_them() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user("sales", Some("East")).await;
        let zh = app.user_in("sales", Some("East"), "zh-CN").await;
        let d = deals(&admin).await;
        let p = id(&d.pipeline);
        let proposal = stage(&d.pipeline, "Proposal");
        let negotiation = stage(&d.pipeline, "Negotiation");
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let back = format!("/opportunities/board?p={p}");
        let o = id(&d
            .open(&rep, "杭州云帆 ERP 升级", "Proposal", "380000")
            .await);

        // Dropped on Negotiation without a close date: the form, naming the deal and the
        // stage, with a date input for the close date and why; nothing written.
        let (status, to, html) = move_card(&app, &cookie, &o, 1, &negotiation, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(to.is_none(), "{b:?}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(
            html.contains("Move “杭州云帆 ERP 升级” to Negotiation"),
            "{b:?}: {html}"
        );
        assert!(
            html.contains("Before it can move to “Negotiation”"),
            "{b:?}: {html}"
        );
        assert!(
            html.contains(
                "<input type=\"date\" id=\"f.close_date\" name=\"f.close_date\" value=\"\">"
            ),
            "{b:?}: the record form's date input: {html}"
        );
        assert!(
            html.contains("<label for=\"f.close_date\">Expected close date"),
            "{b:?}: {html}"
        );
        assert!(
            html.contains("required to enter the stage “Negotiation”"),
            "{b:?}: why, beside the field: {html}"
        );
        assert!(
            html.contains("<input type=\"hidden\" name=\"ask\" value=\"close_date\">"),
            "{b:?}: {html}"
        );
        assert!(
            !html.contains("name=\"f.amount.amount\""),
            "{b:?}: the amount it has is not asked for: {html}"
        );
        assert!(!html.contains("id=\"board-problem\""), "{b:?}: {html}");
        assert_eq!(cards(&html, &proposal), vec![o.clone()], "{b:?}");
        let same = get(&rep, &o).await;
        assert_eq!(same["version"], json!(1), "{b:?}: nothing written");
        assert_eq!(same["stage_id"], json!(proposal), "{b:?}");

        // Confirmed with a date that is none: asked again, the field named; nothing written.
        let (status, _, html) = confirm_move(
            &app,
            &cookie,
            &o,
            1,
            &negotiation,
            &back,
            &[("ask", "close_date"), ("f.close_date", "2027-02-30")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {html}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(html.contains("“2027-02-30” is not a date"), "{b:?}: {html}");
        assert!(
            html.contains("value=\"2027-02-30\""),
            "{b:?}: what was typed stays: {html}"
        );
        let same = get(&rep, &o).await;
        assert_eq!(same["version"], json!(1), "{b:?}: nothing written");
        assert!(same["close_date"].is_null(), "{b:?}");

        // A stale version: explained like any other refused move, nothing written.
        let (status, _, html) = confirm_move(
            &app,
            &cookie,
            &o,
            5,
            &negotiation,
            &back,
            &[("ask", "close_date"), ("f.close_date", "2027-03-31")],
        )
        .await;
        assert!(status.is_client_error(), "{b:?}: {status}");
        assert!(html.contains("id=\"board-problem\""), "{b:?}: {html}");
        assert!(
            html.contains("cannot move to “Negotiation”"),
            "{b:?}: {html}"
        );
        let same = get(&rep, &o).await;
        assert_eq!(same["version"], json!(1), "{b:?}: nothing written");
        assert!(same["close_date"].is_null(), "{b:?}");

        // Confirmed with a close date: moved and dated in one write, and said.
        let (status, to, html) = confirm_move(
            &app,
            &cookie,
            &o,
            1,
            &negotiation,
            &back,
            &[("ask", "close_date"), ("f.close_date", "2027-03-31")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}: {html}");
        let now = get(&rep, &o).await;
        assert_eq!(now["stage_id"], json!(negotiation), "{b:?}");
        assert_eq!(now["close_date"], json!("2027-03-31"), "{b:?}");
        assert_eq!(now["version"], json!(2), "{b:?}: one write");
        let (_, html) = page_as(&app, Some(&cookie), "en", &to.expect("to")).await;
        assert!(
            html.contains("“杭州云帆 ERP 升级” moved to Negotiation"),
            "{b:?}: {html}"
        );
        assert_eq!(cards(&html, &negotiation), vec![o.clone()], "{b:?}");

        // Fields a form does not offer are not set by a move, even when posted.
        let other = id(&d.open(&rep, "宁波港务数据中台", "Proposal", "1000").await);
        let (status, _, _) = confirm_move(
            &app,
            &cookie,
            &other,
            1,
            &negotiation,
            &back,
            &[
                ("ask", "close_date"),
                ("f.close_date", "2027-01-15"),
                ("ask", "weighted_amount"),
                ("f.weighted_amount", "1"),
                ("ask", "owner_id"),
                ("f.owner_id", &admin.id.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
        let now = get(&rep, &other).await;
        assert_eq!(now["close_date"], json!("2027-01-15"), "{b:?}");
        assert_eq!(now["owner_id"], json!(rep.id.to_string()), "{b:?}");

        // A deal with neither amount nor close date, in Chinese: both asked for, the amount
        // as the record form's money input.
        let (zh_cookie, _) = login_cookie(&app, &zh.email, PASSWORD).await;
        let bare = id(&d
            .open_with(
                &zh,
                "苏州工业园 CRM 项目",
                "Needs analysis",
                "0",
                json!({"amount": null}),
            )
            .await);
        let (status, _, html) = move_card(&app, &zh_cookie, &bare, 1, &negotiation, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(
            html.contains("将“苏州工业园 CRM 项目”移至谈判审核"),
            "{b:?}: {html}"
        );
        assert!(
            html.contains("移到“谈判审核”前需先填写以下信息"),
            "{b:?}: {html}"
        );
        assert!(html.contains("name=\"f.amount.amount\""), "{b:?}: {html}");
        assert!(html.contains("name=\"f.amount.currency\""), "{b:?}: {html}");
        assert!(html.contains("name=\"f.close_date\""), "{b:?}: {html}");
        assert!(html.contains("进入“谈判审核”阶段前必填"), "{b:?}: {html}");
        let (status, _, html) = confirm_move(
            &app,
            &zh_cookie,
            &bare,
            1,
            &negotiation,
            &back,
            &[
                ("ask", "amount"),
                ("f.amount.amount", "560000"),
                ("f.amount.currency", "CNY"),
                ("ask", "close_date"),
                ("f.close_date", "2027-06-30"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}: {html}");
        let now = get(&zh, &bare).await;
        assert_eq!(now["stage_id"], json!(negotiation), "{b:?}");
        assert_eq!(now["amount"]["amount"], json!("560000.00"), "{b:?}: {now}");
        assert_eq!(now["close_date"], json!("2027-06-30"), "{b:?}");

        // A move that is an action asks the same: a lost deal without an amount, reopened
        // onto Negotiation, is asked for the amount, and reopened with it in one write.
        let lost_one = id(&d
            .open_with(
                &rep,
                "常州天合 WMS 项目",
                "Qualification",
                "0",
                json!({"amount": null}),
            )
            .await);
        let r = rep
            .post_r(
                &format!("/api/v1/opportunities/{lost_one}/close_lost"),
                &json!({"lost_reason_id": d.reason}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.text);
        let version = get(&rep, &lost_one).await["version"]
            .as_i64()
            .expect("version");
        let (status, _, html) =
            move_card(&app, &cookie, &lost_one, version, &negotiation, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(html.contains("Reopen"), "{b:?}: the action named: {html}");
        assert!(html.contains("name=\"f.amount.amount\""), "{b:?}: {html}");
        assert_eq!(
            get(&rep, &lost_one).await["version"],
            json!(version),
            "{b:?}: nothing written"
        );
        let (status, _, html) = confirm_move(
            &app,
            &cookie,
            &lost_one,
            version,
            &negotiation,
            &back,
            &[
                ("ask", "amount"),
                ("f.amount.amount", "88000"),
                ("f.amount.currency", "CNY"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}: {html}");
        let now = get(&rep, &lost_one).await;
        assert_eq!(now["status"], json!("open"), "{b:?}");
        assert_eq!(now["stage_id"], json!(negotiation), "{b:?}");
        assert_eq!(now["amount"]["amount"], json!("88000.00"), "{b:?}: {now}");
        assert_eq!(now["version"], json!(version + 1), "{b:?}: one write");
        assert_eq!(
            crate::support::audit_rows(&app, &lost_one, Some("reopen")).await,
            1,
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn what_no_form_field_can_give_is_refused_as_before() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user("sales", Some("East")).await;
        // Stages that require contact roles: lines of the deal, not a field of its form.
        let pipeline = admin
            .create(
                "pipelines",
                json!({"name": {"en": "Key accounts", "zh-CN": "大客户"}, "position": 1,
                       "stages": [
                    {"name": {"en": "Intro", "zh-CN": "初访"}, "kind": "open", "probability": 10},
                    {"name": {"en": "Sponsor", "zh-CN": "高层支持"}, "kind": "open",
                     "probability": 40, "required_fields": ["contact_roles"]},
                    {"name": {"en": "Commit", "zh-CN": "承诺"}, "kind": "open",
                     "probability": 80, "required_fields": ["contact_roles", "close_date"]},
                    {"name": {"en": "Won", "zh-CN": "赢单"}, "kind": "won", "probability": 100},
                    {"name": {"en": "Lost", "zh-CN": "输单"}, "kind": "lost", "probability": 0},
                ]}),
            )
            .await;
        let d = Deals {
            pipeline,
            reason: String::new(),
        };
        let p = id(&d.pipeline);
        let sponsor = stage(&d.pipeline, "Sponsor");
        let commit = stage(&d.pipeline, "Commit");
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let back = format!("/opportunities/board?p={p}");
        let o = id(&d.open(&rep, "无锡智造 MES 二期", "Intro", "500000").await);

        // Only contact roles missing: nothing the form could ask, so refused as before.
        let (status, _, html) = move_card(&app, &cookie, &o, 1, &sponsor, &back).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {html}");
        assert!(html.contains("id=\"board-problem\""), "{b:?}: {html}");
        assert!(!html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(html.contains("cannot move to “Sponsor”"), "{b:?}: {html}");
        assert_eq!(get(&rep, &o).await["version"], json!(1), "{b:?}");

        // Contact roles and a close date: the date is asked for, the roles said above it.
        let (status, _, html) = move_card(&app, &cookie, &o, 1, &commit, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(html.contains("name=\"f.close_date\""), "{b:?}: {html}");
        assert!(
            html.contains("id=\"board-close-problems\""),
            "{b:?}: {html}"
        );
        assert!(
            !html.contains("name=\"f.contact_roles"),
            "{b:?}: no inputs for lines: {html}"
        );
        assert_eq!(get(&rep, &o).await["version"], json!(1), "{b:?}");
    }
}

#[tokio::test]
async fn a_move_to_lost_asks_why_and_closes_with_the_reason() {
    for b in backends() {
        let app = spawn(b).await;
        let admin = app.user("admin", None).await;
        let rep = app.user("sales", Some("East")).await;
        let zh = app.user_in("sales", Some("East"), "zh-CN").await;
        let d = deals(&admin).await;
        let p = id(&d.pipeline);
        let lost = stage(&d.pipeline, "Lost");
        let proposal = stage(&d.pipeline, "Proposal");
        let qual = stage(&d.pipeline, "Qualification");
        let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
        let back = format!("/opportunities/board?p={p}");
        let o = id(&d
            .open(&rep, "云帆 ERP 项目", "Qualification", "200000")
            .await);

        // Dropped on Lost without a reason: the form, naming the deal and the stage, with the
        // lost reasons by name; nothing written.
        let (status, to, html) = move_card(&app, &cookie, &o, 1, &lost, &back).await;
        assert_eq!(status, StatusCode::OK, "{b:?}: {html}");
        assert!(to.is_none(), "{b:?}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(
            html.contains("Move “云帆 ERP 项目” to Lost"),
            "{b:?}: {html}"
        );
        assert!(html.contains("name=\"a.lost_reason_id\""), "{b:?}: {html}");
        assert!(
            html.contains(&format!(
                "<option value=\"{}\" data-keys=\"\" >Price</option>",
                d.reason
            )),
            "{b:?}: the reason by name: {html}"
        );
        assert!(html.contains("name=\"confirm\""), "{b:?}");
        assert!(
            !html.contains("id=\"board-problem\""),
            "{b:?}: asked, not refused"
        );
        assert_eq!(
            cards(&html, &qual),
            vec![o.clone()],
            "{b:?}: the card stays"
        );
        let same = get(&rep, &o).await;
        assert_eq!(same["version"], json!(1), "{b:?}: nothing written");
        assert_eq!(same["status"], json!("open"), "{b:?}");

        // Confirmed without a reason: asked again, the field saying why; nothing written.
        let (status, _, html) = confirm_move(
            &app,
            &cookie,
            &o,
            1,
            &lost,
            &back,
            &[("a.lost_reason_id", "")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {html}");
        assert!(html.contains("id=\"board-close\""), "{b:?}: {html}");
        assert!(html.contains("class=\"field-error\""), "{b:?}: {html}");
        assert_eq!(get(&rep, &o).await["version"], json!(1), "{b:?}");

        // A stale version is refused like any other move: explained, nothing written.
        let (status, _, html) = confirm_move(
            &app,
            &cookie,
            &o,
            7,
            &lost,
            &back,
            &[("a.lost_reason_id", d.reason.as_str())],
        )
        .await;
        assert!(status.is_client_error(), "{b:?}: {status}");
        assert!(html.contains("id=\"board-problem\""), "{b:?}: {html}");
        assert!(html.contains("cannot move to “Lost”"), "{b:?}: {html}");
        assert_eq!(get(&rep, &o).await["status"], json!("open"), "{b:?}");

        // Confirmed with a reason: closed as lost with it, and said by name.
        let (status, to, html) = confirm_move(
            &app,
            &cookie,
            &o,
            1,
            &lost,
            &back,
            &[
                ("a.lost_reason_id", d.reason.as_str()),
                ("a.close_date", ""),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}: {html}");
        let to = to.expect("back to the board");
        let now = get(&rep, &o).await;
        assert_eq!(now["status"], json!("lost"), "{b:?}");
        assert_eq!(now["stage_id"], json!(lost), "{b:?}");
        assert_eq!(now["lost_reason_id"], json!(d.reason), "{b:?}");
        assert_eq!(
            crate::support::audit_rows(&app, &o, Some("close_lost")).await,
            1,
            "{b:?}"
        );
        let (_, html) = page_as(&app, Some(&cookie), "en", &to).await;
        assert!(
            html.contains("“云帆 ERP 项目” moved to Lost"),
            "{b:?}: {html}"
        );
        assert_eq!(cards(&html, &lost), vec![o.clone()], "{b:?}");

        // In Chinese: the form and the message in the reader's words.
        let (zh_cookie, _) = login_cookie(&app, &zh.email, PASSWORD).await;
        let theirs = id(&d
            .open(&zh, "宁波港务数据中台", "Qualification", "1000")
            .await);
        let (_, _, html) = move_card(&app, &zh_cookie, &theirs, 1, &lost, &back).await;
        assert!(
            html.contains("将“宁波港务数据中台”移至输单"),
            "{b:?}: {html}"
        );
        assert!(html.contains(">价格太高</option>"), "{b:?}: {html}");
        assert!(html.contains("输单原因"), "{b:?}: {html}");
        let (status, to, _) = move_card(&app, &zh_cookie, &theirs, 1, &proposal, &back).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{b:?}");
        let (_, html) = page_as(&app, Some(&zh_cookie), "zh-CN", &to.expect("to")).await;
        assert!(
            html.contains("“宁波港务数据中台”已移至方案报价"),
            "{b:?}: {html}"
        );
    }
}
