//! Opportunities end to end on both backends: the pipeline's stage rules, the actions that close
//! and reopen a deal, the stage history, contact roles saved with their opportunity, and side
//! effects that commit or vanish with the write that caused them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, Resp, TestApp, TestUser, backends, login_cookie, spawn};

/// Whether a 422 names `field` among its field errors.
#[track_caller]
fn refused_for(r: &Resp, field: &str) {
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expected a 422 naming {field}: {}",
        r.text
    );
    assert!(
        !r.body["error"]["fields"][field].is_null(),
        "error.fields should name '{field}': {}",
        r.text
    );
}

#[track_caller]
fn ok(r: &Resp) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.clone()
}

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

struct Sales {
    app: TestApp,
    admin: TestUser,
    rep: TestUser,
    pipeline: Value,
    renewals: Value,
    reason: String,
    account: String,
}

async fn setup(app: TestApp) -> Sales {
    let admin = app.user("admin", None).await;
    let rep = app.user("sales", Some("East")).await;
    let pipeline = admin
        .create(
            "pipelines",
            json!({"name": {"en": "New business", "zh-CN": "新客户"}, "position": 1,
                   "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await;
    let renewals = admin
        .create(
            "pipelines",
            json!({"name": "Renewals", "position": 2, "stages": [
                {"name": "Due", "kind": "open", "probability": 50},
                {"name": "Renewed", "kind": "won", "probability": 100},
                {"name": "Churned", "kind": "lost", "probability": 0},
            ]}),
        )
        .await;
    let reason = id(&admin
        .create(
            "lost_reasons",
            json!({"name": {"en": "Price", "zh-CN": "价格太高"}, "position": 1}),
        )
        .await);
    let account = id(&rep
        .create(
            "accounts",
            json!({"kind": "company", "name": "杭州云帆科技有限公司", "type": "prospect"}),
        )
        .await);
    Sales {
        app,
        admin,
        rep,
        pipeline,
        renewals,
        reason,
        account,
    }
}

impl Sales {
    async fn opportunity(&self, extra: Value) -> Value {
        let mut body = json!({
            "name": "云帆 ERP 项目",
            "account_id": self.account,
            "pipeline_id": id(&self.pipeline),
            "amount": {"amount": "200000", "currency": "CNY"},
        });
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        self.rep.create("opportunities", body).await
    }

    async fn act(&self, opp: &str, action: &str, version: Option<i64>, body: Value) -> Resp {
        let mut rb = self
            .rep
            .req(
                Method::POST,
                &format!("/api/v1/opportunities/{opp}/{action}"),
            )
            .json(&body);
        if let Some(v) = version {
            rb = rb.header("If-Match", format!("\"{v}\""));
        }
        self.rep.send(rb).await
    }

    async fn get(&self, opp: &str) -> Value {
        ok(&self
            .rep
            .get_r(&format!("/api/v1/opportunities/{opp}"))
            .await)
    }

    async fn history(&self, path: &str) -> Vec<Value> {
        ok(&self.rep.get_r(&format!("{path}/history")).await)["data"]
            .as_array()
            .expect("history")
            .clone()
    }
}

#[tokio::test]
async fn stages_move_by_the_pipelines_rules_and_close_only_through_actions() {
    for b in backends() {
        let s = setup(spawn(b).await).await;
        let p = &s.pipeline;
        let opp = s.opportunity(json!({})).await;
        let o = id(&opp);
        let path = format!("/api/v1/opportunities/{o}");
        // A new opportunity starts at the first open stage, with its default probability.
        assert_eq!(opp["stage_id"], stage(p, "Qualification"), "{b:?}");
        assert_eq!(opp["status"], "open");
        assert_eq!(opp["probability"], 10);
        assert_eq!(
            opp["weighted_amount"],
            json!({"amount": "20000.00", "currency": "CNY"})
        );
        assert_eq!(opp["stage_history"].as_array().map(Vec::len), Some(1));

        // Open stages move either way; each move takes the stage's default probability.
        let moved = ok(&s
            .rep
            .patch_r(&path, &json!({"stage_id": stage(p, "Needs analysis")}))
            .await);
        assert_eq!(moved["probability"], 30, "{b:?}");
        let history = moved["stage_history"].as_array().expect("history");
        assert_eq!(history.len(), 2);
        assert!(
            history[0]["left_at"].is_string(),
            "the first stage was left"
        );
        assert!(history[1]["left_at"].is_null(), "the second is current");
        assert_eq!(history[1]["stage_id"], stage(p, "Needs analysis"));

        // A probability the user set stays when the stage moves.
        ok(&s.rep.patch_r(&path, &json!({"probability": 45})).await);
        let moved = ok(&s
            .rep
            .patch_r(&path, &json!({"stage_id": stage(p, "Proposal")}))
            .await);
        assert_eq!(
            moved["probability"], 45,
            "{b:?}: a chosen probability is kept"
        );
        assert_eq!(
            moved["weighted_amount"],
            json!({"amount": "90000.00", "currency": "CNY"})
        );

        // Negotiation requires a close date; moving there without one writes nothing.
        let before = s.get(&o).await;
        let r = s
            .rep
            .patch_r(&path, &json!({"stage_id": stage(p, "Negotiation")}))
            .await;
        refused_for(&r, "close_date");
        assert_eq!(s.get(&o).await, before, "{b:?}: nothing written");

        // Won and lost are reached only through the actions, PATCH included.
        let r = s
            .rep
            .patch_r(&path, &json!({"stage_id": stage(p, "Won")}))
            .await;
        refused_for(&r, "status");
        let r = s.rep.patch_r(&path, &json!({"status": "won"})).await;
        refused_for(&r, "status");
        // A stage of another pipeline is refused.
        let r = s
            .rep
            .patch_r(&path, &json!({"stage_id": stage(&s.renewals, "Due")}))
            .await;
        refused_for(&r, "stage_id");
        assert_eq!(s.get(&o).await, before, "{b:?}: nothing written");

        // Close-lost needs a reason: without one nothing is written.
        let version = before["version"].as_i64().expect("version");
        let audits = s.history(&path).await.len();
        let r = s.act(&o, "close_lost", Some(version), json!({})).await;
        refused_for(&r, "lost_reason_id");
        assert_eq!(s.get(&o).await, before, "{b:?}: nothing written");
        assert_eq!(s.history(&path).await.len(), audits);
        // A stale version is refused before anything else.
        let r = s
            .act(
                &o,
                "close_lost",
                Some(version - 1),
                json!({"lost_reason_id": s.reason}),
            )
            .await;
        r.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed", None);
        let r = s
            .act(
                &o,
                "close_lost",
                Some(version),
                json!({"lost_reason_id": s.reason, "mood": "sad"}),
            )
            .await;
        refused_for(&r, "mood");

        let lost = ok(&s
            .act(
                &o,
                "close_lost",
                Some(version),
                json!({"lost_reason_id": s.reason}),
            )
            .await);
        assert_eq!(lost["status"], "lost", "{b:?}");
        assert_eq!(lost["stage_id"], stage(p, "Lost"));
        assert_eq!(lost["probability"], 0);
        assert_eq!(lost["lost_reason_id"], json!(s.reason));
        let entries = s.history(&path).await;
        assert_eq!(entries[0]["action"], "close_lost", "{b:?}: newest first");

        // A lost deal cannot be won without reopening it.
        let r = s.act(&o, "close_won", None, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.text);

        let reopened = ok(&s.act(&o, "reopen", None, json!({})).await);
        assert_eq!(reopened["status"], "open", "{b:?}");
        assert_eq!(reopened["stage_id"], stage(p, "Qualification"));
        assert!(reopened["lost_reason_id"].is_null(), "the reason goes");
        assert_eq!(reopened["probability"], 10);

        // Won sets the close date and makes the prospect a customer, in the same transaction.
        let won = ok(&s.act(&o, "close_won", None, json!({})).await);
        assert_eq!(won["status"], "won", "{b:?}");
        assert_eq!(won["probability"], 100);
        // The rep's day: Shanghai, the instance's default zone the test users read in.
        let today = chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(won["close_date"], today);
        let account = ok(&s
            .rep
            .get_r(&format!("/api/v1/accounts/{}", s.account))
            .await);
        assert_eq!(account["type"], "customer", "{b:?}");
        let account_history = s.history(&format!("/api/v1/accounts/{}", s.account)).await;
        assert_eq!(account_history[0]["action"], "update");
        // Every stage it went through, each with when it entered and left.
        let history = won["stage_history"].as_array().expect("history");
        assert_eq!(history.len(), 6, "{b:?}: {history:?}");
        for h in &history[..history.len() - 1] {
            let entered: chrono::DateTime<chrono::Utc> = h["entered_at"]
                .as_str()
                .expect("entered")
                .parse()
                .expect("time");
            let left: chrono::DateTime<chrono::Utc> =
                h["left_at"].as_str().expect("left").parse().expect("time");
            assert!(left >= entered);
            assert_eq!(
                h["time_in_stage"].as_i64(),
                Some((left - entered).num_seconds()),
                "{b:?}: time in stage"
            );
        }
        assert!(
            history[5]["time_in_stage"].is_null(),
            "still in the won stage"
        );
    }
}

#[tokio::test]
async fn a_side_effect_vanishes_when_a_later_rule_refuses_the_write() {
    for b in backends() {
        let s = setup(spawn(b).await).await;
        // This pipeline wants a next step before a deal is won.
        let strict = s
            .admin
            .create(
                "pipelines",
                json!({"name": "Strict", "stages": [
                    {"name": "Open", "kind": "open", "probability": 20},
                    {"name": "Won", "kind": "won", "probability": 100,
                     "required_fields": ["next_step"]},
                    {"name": "Lost", "kind": "lost", "probability": 0},
                ]}),
            )
            .await;
        let opp = s.opportunity(json!({"pipeline_id": id(&strict)})).await;
        let o = id(&opp);
        // Close-won promotes the account before the won stage's rule refuses: nothing remains.
        let r = s.act(&o, "close_won", None, json!({})).await;
        refused_for(&r, "next_step");
        let account = ok(&s
            .rep
            .get_r(&format!("/api/v1/accounts/{}", s.account))
            .await);
        assert_eq!(
            account["type"], "prospect",
            "{b:?}: the side effect was rolled back"
        );
        assert_eq!(account["version"], 1);
        assert_eq!(s.get(&o).await, opp, "{b:?}");

        let r = s
            .rep
            .patch_r(
                &format!("/api/v1/opportunities/{o}"),
                &json!({"next_step": "签合同"}),
            )
            .await;
        ok(&r);
        let won = ok(&s.act(&o, "close_won", None, json!({})).await);
        assert_eq!(won["status"], "won", "{b:?}");
        let account = ok(&s
            .rep
            .get_r(&format!("/api/v1/accounts/{}", s.account))
            .await);
        assert_eq!(account["type"], "customer", "{b:?}");
    }
}

#[tokio::test]
async fn contact_roles_are_saved_validated_and_audited_with_their_opportunity() {
    for b in backends() {
        let s = setup(spawn(b).await).await;
        let c1 = id(&s
            .rep
            .create("contacts", json!({"family_name": "王", "given_name": "芳"}))
            .await);
        let c2 = id(&s
            .rep
            .create("contacts", json!({"family_name": "李", "given_name": "雷"}))
            .await);
        let opp = s
            .opportunity(json!({"contact_roles": [
                {"contact_id": c1, "role": "decision_maker", "primary": true}
            ]}))
            .await;
        let o = id(&opp);
        let path = format!("/api/v1/opportunities/{o}");
        let roles = opp["contact_roles"].as_array().expect("roles");
        assert_eq!(roles.len(), 1, "{b:?}");
        let line = id(&roles[0]);

        // An invalid second role writes nothing, and the error names the line and the field.
        let before = s.get(&o).await;
        let r = s
            .rep
            .patch_r(
                &path,
                &json!({"contact_roles": [
                    {"id": line, "contact_id": c1, "role": "decision_maker", "primary": true},
                    {"contact_id": c2, "role": "boss"},
                ]}),
            )
            .await;
        refused_for(&r, "contact_roles[1].role");
        // A contact the rep may not see is refused like a missing one.
        let other = s.app.user("sales", Some("West")).await;
        let hidden = id(&other.create("contacts", json!({"family_name": "赵"})).await);
        let r = s
            .rep
            .patch_r(
                &path,
                &json!({"contact_roles": [{"contact_id": hidden, "role": "user"}]}),
            )
            .await;
        refused_for(&r, "contact_roles[0].contact_id");
        assert_eq!(s.get(&o).await, before, "{b:?}: nothing written");

        // A valid change keeps the line's id and shows in the history line by line.
        let changed = ok(&s
            .rep
            .patch_r(
                &path,
                &json!({"contact_roles": [
                    {"id": line, "contact_id": c1, "role": "economic_buyer", "primary": true},
                    {"contact_id": c2, "role": "influencer"},
                ]}),
            )
            .await);
        let roles = changed["contact_roles"].as_array().expect("roles");
        assert_eq!(roles.len(), 2, "{b:?}");
        assert_eq!(roles[0]["id"], json!(line), "the line keeps its id");
        assert_eq!(roles[1]["role"], "influencer");
        let entries = s.history(&path).await;
        let changes = entries[0]["changes"].as_array().expect("changes");
        let fields: Vec<&str> = changes.iter().filter_map(|c| c["field"].as_str()).collect();
        assert!(
            fields.contains(&"contact_roles[0].role"),
            "{b:?}: {fields:?}"
        );
        assert!(fields.contains(&"contact_roles[1]"), "{b:?}: {fields:?}");
        let role_change = changes
            .iter()
            .find(|c| c["field"] == "contact_roles[0].role")
            .expect("role change");
        assert_eq!(role_change["from"], "decision_maker");
        assert_eq!(role_change["to"], "economic_buyer");

        // Removing a line removes it; the stage history cannot be written.
        let one = ok(&s
            .rep
            .patch_r(
                &path,
                &json!({"contact_roles": [{"id": line, "contact_id": c1, "role": "user"}]}),
            )
            .await);
        assert_eq!(one["contact_roles"].as_array().map(Vec::len), Some(1));
        let r = s.rep.patch_r(&path, &json!({"stage_history": []})).await;
        refused_for(&r, "stage_history");
    }
}

#[tokio::test]
async fn pipelines_are_kept_by_admins_and_guard_the_stages_in_use() {
    for b in backends() {
        let s = setup(spawn(b).await).await;
        let p = &s.pipeline;
        // Everyone reads pipelines; only administrators change them.
        ok(&s.rep.get_r(&format!("/api/v1/pipelines/{}", id(p))).await);
        let r = s
            .rep
            .post_r(
                "/api/v1/pipelines",
                &json!({"name": "Mine", "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b:?}: {}", r.text);
        // A pipeline needs an open stage, and exactly one won and one lost stage.
        let r = s
            .admin
            .post_r(
                "/api/v1/pipelines",
                &json!({"name": "Bad", "stages": [{"name": "Won", "kind": "won", "probability": 100}]}),
            )
            .await;
        refused_for(&r, "stages");
        // Required fields must be fields of opportunities.
        let r = s
            .admin
            .post_r(
                "/api/v1/pipelines",
                &json!({"name": "Bad", "stages": [
                    {"name": "A", "kind": "open", "probability": 10, "required_fields": ["colour"]},
                    {"name": "W", "kind": "won", "probability": 100},
                    {"name": "L", "kind": "lost", "probability": 0},
                ]}),
            )
            .await;
        refused_for(&r, "stages[0].required_fields");

        // A stage that holds an opportunity cannot be removed; an unused one can.
        s.opportunity(json!({})).await;
        let stages = p["stages"].as_array().expect("stages").clone();
        let without_first: Vec<Value> = stages[1..].to_vec();
        let path = format!("/api/v1/pipelines/{}", id(p));
        let r = s
            .admin
            .patch_r(&path, &json!({"stages": without_first}))
            .await;
        refused_for(&r, "stages");
        let mut without_second = stages.clone();
        without_second.remove(1);
        let kept = ok(&s
            .admin
            .patch_r(&path, &json!({"stages": without_second}))
            .await);
        assert_eq!(kept["stages"].as_array().map(Vec::len), Some(5), "{b:?}");
        assert_eq!(kept["stages"][0]["id"], stages[0]["id"], "ids are kept");
    }
}

#[tokio::test]
async fn the_account_page_lists_its_opportunities_and_the_opportunity_page_its_lines() {
    for b in backends() {
        let s = setup(spawn(b).await).await;
        let c1 = id(&s
            .rep
            .create("contacts", json!({"family_name": "王", "given_name": "芳"}))
            .await);
        let opp = s
            .opportunity(json!({"contact_roles": [{"contact_id": c1, "role": "decision_maker"}]}))
            .await;
        let (cookie, _) = login_cookie(&s.app, &s.rep.email, PASSWORD).await;
        let page = |path: String| {
            let cookie = cookie.clone();
            let base = s.app.base.clone();
            async move {
                reqwest::Client::new()
                    .get(format!("{base}{path}"))
                    .header("Cookie", format!("guanxi_session={cookie}"))
                    .send()
                    .await
                    .expect("page")
                    .text()
                    .await
                    .expect("html")
            }
        };
        let html = page(format!("/accounts/{}", s.account)).await;
        assert!(
            html.contains("related-opportunities-account_id") && html.contains("云帆 ERP 项目"),
            "{b:?}: the account page lists its opportunities"
        );
        let html = page(format!("/opportunities/{}", id(&opp))).await;
        assert!(html.contains("lines-contact_roles"), "{b:?}");
        assert!(html.contains("王芳"), "{b:?}: the contact is named");
        assert!(html.contains("Qualification"), "{b:?}: the stage is named");
        assert!(
            html.contains("action-close_won"),
            "{b:?}: the actions are offered"
        );
    }
}
