//! Aggregation through the API and the charts above a list, on both backends: each reader's
//! figures are their scope's, filters apply, bad groupings and measures are refused by name in
//! the caller's language, and the opportunities list draws its charts from the same figures.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, Resp, TestUser, backends, login_cookie, page_as, spawn};

/// A pipeline with the standard stages; its id and its first two open stages' ids.
async fn pipeline(admin: &TestUser) -> (String, Vec<String>) {
    let p = admin
        .create(
            "pipelines",
            json!({"name": {"en": "New business", "zh-CN": "新客户销售"}, "position": 1,
                   "stages": guanxi_core::areas::sales::pipelines::standard_stages()}),
        )
        .await;
    let stages = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    (p["id"].as_str().unwrap().to_string(), stages)
}

async fn deal(who: &TestUser, pipeline: &str, stage: &str, amount: &str, currency: &str) {
    // One account per deal, all of the same name: duplicates on purpose.
    let account = who
        .create(
            "accounts",
            json!({"kind": "company", "name": "华为技术", "allow_duplicate": true}),
        )
        .await;
    who.create(
        "opportunities",
        json!({"name": "ERP 升级", "account_id": account["id"], "pipeline_id": pipeline,
               "stage_id": stage, "amount": {"amount": amount, "currency": currency},
               "close_date": "2026-05-06"}),
    )
    .await;
}

fn by_key(body: &Value) -> Vec<(Value, Value)> {
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["keys"][0].clone(), g["values"].clone()))
        .collect()
}

#[tokio::test]
async fn each_reader_aggregates_their_own_scope_through_the_api() {
    for backend in backends() {
        let app = spawn(backend).await;
        let admin = app.user("admin", None).await;
        let rep = app.user("sales", Some("North")).await;
        let mate = app.user("sales", Some("North")).await;
        let other = app.user("sales", Some("South")).await;
        let (p, stages) = pipeline(&admin).await;
        deal(&rep, &p, &stages[0], "1000.50", "CNY").await;
        deal(&rep, &p, &stages[1], "2000", "CNY").await;
        deal(&mate, &p, &stages[0], "300", "USD").await;
        deal(&other, &p, &stages[0], "7000", "CNY").await;

        let path = "/api/v1/opportunities/aggregate?group=owner_id&measure=count,sum:amount";
        let all = Resp::read(admin.get(path).await).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.text);
        assert_eq!(by_key(&all.body).len(), 3);
        assert_eq!(all.body["truncated"], false);

        // A rep sees their team's owners only, each amount in its own currency.
        let north = Resp::read(rep.get(path).await).await;
        let mut got = by_key(&north.body);
        got.sort_by_key(|(k, _)| k.as_str().map(String::from));
        let mut want = vec![
            (
                json!(rep.id.to_string()),
                json!([2, {"amount": "3000.50", "currency": "CNY"}]),
            ),
            (
                json!(mate.id.to_string()),
                json!([1, {"amount": "300.00", "currency": "USD"}]),
            ),
        ];
        want.sort_by_key(|(k, _)| k.as_str().map(String::from));
        assert_eq!(got, want);

        // The list's filters apply.
        let filtered = Resp::read(
            rep.get(&format!(
                "/api/v1/opportunities/aggregate?group=stage_id&stage_id={}",
                stages[1]
            ))
            .await,
        )
        .await;
        assert_eq!(by_key(&filtered.body), vec![(json!(stages[1]), json!([1]))]);
        let by_month = Resp::read(
            other
                .get("/api/v1/opportunities/aggregate?group=close_date:month,status")
                .await,
        )
        .await;
        assert_eq!(
            by_month.body["groups"][0]["keys"],
            json!(["2026-05", "open"])
        );

        // Refusals name what is wrong, in the caller's language.
        for (query, status, code) in [
            ("group=name", StatusCode::BAD_REQUEST, "not_groupable"),
            ("group=close_date", StatusCode::BAD_REQUEST, "not_groupable"),
            (
                "group=close_date:fortnight",
                StatusCode::BAD_REQUEST,
                "not_groupable",
            ),
            (
                "group=owner_id&measure=median:amount",
                StatusCode::BAD_REQUEST,
                "not_measurable",
            ),
            (
                "group=owner_id&measure=sum:name",
                StatusCode::BAD_REQUEST,
                "not_measurable",
            ),
            (
                "group=owner_id&group=status",
                StatusCode::BAD_REQUEST,
                "invalid_query",
            ),
            (
                "group=owner_id&sort=name",
                StatusCode::BAD_REQUEST,
                "invalid_query",
            ),
            (
                "group=owner_id&no_such=1",
                StatusCode::BAD_REQUEST,
                "invalid_filter",
            ),
        ] {
            let r = Resp::read(
                admin
                    .get(&format!("/api/v1/opportunities/aggregate?{query}"))
                    .await,
            )
            .await;
            assert_eq!(r.status, status, "{query}: {}", r.text);
            if code != "invalid_filter" {
                r.assert_error(status, code, None);
            }
        }
        let zh_admin = app.user_in("admin", None, "zh-CN").await;
        let zh = Resp::read(
            zh_admin
                .get("/api/v1/opportunities/aggregate?group=name")
                .await,
        )
        .await;
        assert!(
            zh.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("不能按“name”分组"),
            "{}",
            zh.text
        );
    }
}

#[tokio::test]
async fn the_opportunities_list_charts_what_the_reader_may_see() {
    let app = spawn(crate::support::Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    let rep = app.user_in("sales", Some("North"), "zh-CN").await;
    let other = app.user("sales", Some("South")).await;
    let (p, stages) = pipeline(&admin).await;
    deal(&rep, &p, &stages[0], "1200000", "CNY").await;
    deal(&rep, &p, &stages[1], "350000", "CNY").await;
    deal(&other, &p, &stages[0], "999", "CNY").await;
    let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
    let (status, page) = page_as(&app, Some(&cookie), "zh-CN", "/opportunities").await;
    assert_eq!(status, StatusCode::OK);
    let chart = |id: &str| {
        let start = page
            .find(&format!("id=\"chart-{id}\""))
            .unwrap_or_else(|| panic!("no chart {id}"));
        let end = start + page[start..].find("</figure>").unwrap();
        page[start..end].to_string()
    };
    let stage = chart("amount_by_stage");
    assert!(stage.contains("各阶段金额"), "{stage}");
    assert!(
        stage.contains("初步接洽") && stage.contains("需求确认"),
        "{stage}"
    );
    assert!(stage.contains("¥120万"), "amounts read short: {stage}");
    assert!(
        !stage.contains("999"),
        "another team's deal is not counted: {stage}"
    );
    let owners = chart("count_by_owner");
    assert!(owners.contains("sales user"), "{owners}");
    assert!(
        !owners.contains("<style"),
        "styles come from the stylesheet"
    );
    // Filtered to one stage, the charts follow the list.
    let (_, one) = page_as(
        &app,
        Some(&cookie),
        "zh-CN",
        &format!("/opportunities?ff=stage_id&fo=eq&fv={}", stages[1]),
    )
    .await;
    let start = one.find("id=\"chart-amount_by_stage\"").unwrap();
    let fig = &one[start..start + one[start..].find("</figure>").unwrap()];
    assert!(
        fig.contains("需求确认") && !fig.contains("初步接洽"),
        "{fig}"
    );
    // Accounts declare no charts.
    let (_, accounts) = page_as(&app, Some(&cookie), "zh-CN", "/accounts").await;
    assert!(!accounts.contains("id=\"charts\""));
    // The stylesheet carries the charts' look.
    let css = reqwest::get(format!("{}/assets/app.css", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains(".gx-s0"));
}
