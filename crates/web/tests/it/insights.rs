//! Customer insights in the browser's pages: the churn card on the account, the administrator's
//! page of refreshes and churn models with the model's out-of-time test, and "refresh now".

use chrono::{Duration, NaiveDate};
use guanxi_core::insights::{models, refresh};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Backend, PASSWORD, csrf_of, form_as, login_cookie, page_as, run_jobs, spawn};

#[tokio::test]
async fn administrators_see_the_churn_model_its_test_and_refresh_on_demand() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user_in("admin", None, "en").await;
    let boss_zh = app.user_in("admin", None, "zh-CN").await;
    let rep = app.user("sales", Some("North")).await;
    // Twelve customers buying monthly for two years; three stop after the first.
    let mut accounts = Vec::new();
    for a in 0..12i64 {
        let acc = admin
            .create(
                "accounts",
                json!({"kind": "company", "name": format!("流失测试客户{a:02}")}),
            )
            .await;
        let id = acc["id"].as_str().unwrap().to_string();
        let months = if a < 3 { 12 } else { 24 };
        for m in 0..months {
            let day = NaiveDate::from_ymd_opt(2024, 1, 3).unwrap() + Duration::days(30 * m + a);
            admin
                .create(
                    "sales_records",
                    json!({"account_id": id, "date": day.to_string(), "order_ref": format!("SO-{a}-{m}"),
                           "amount": "1000", "cost": "600"}),
                )
                .await;
        }
        accounts.push(id);
    }
    let as_of = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let done = refresh::refresh(&app.core, Some(as_of), refresh::Train::IfStale, &|_| {})
        .await
        .unwrap();
    assert!(done.churn_model.is_some(), "{done:?}");

    let (cookie, _) = login_cookie(&app, &admin.email, PASSWORD).await;
    let (status, page) = page_as(&app, Some(&cookie), "en", "/admin/insights").await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "Churn models",
        "Passed its test, in use",
        "AUC (out of time)",
        "tested on the 180 days after 2025-07-04",
        "Calibration: predicted and actual churn",
        "<svg",
        "Silence as a multiple of the usual interval",
        "Refreshes",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }
    // The customer who stopped shows its risk and why, in words, not codes.
    let (_, account) = page_as(
        &app,
        Some(&cookie),
        "en",
        &format!("/accounts/{}", accounts[0]),
    )
    .await;
    assert!(
        account.contains("Churn risk") && account.contains("Risk decile"),
        "{account}"
    );
    assert!(!account.contains("silence_ratio") && !account.contains("recency_days"));
    // Loyalty from purchases alone, and what to record for the rest, in words.
    for words in [
        "Loyalty",
        "From purchases alone",
        "record satisfaction and willingness to recommend in customer facts",
        "Switching cost",
        "No customer facts",
        "Record the contract end, integration and points in customer facts",
        "Value focus",
        "Next best products",
        "The ledger names no products",
    ] {
        assert!(account.contains(words), "{words}: {account}");
    }
    assert!(!account.contains("no_facts") && !account.contains("no_products"));
    let (bcookie, _) = login_cookie(&app, &boss_zh.email, PASSWORD).await;
    let (_, zh) = page_as(
        &app,
        Some(&bcookie),
        "zh-CN",
        &format!("/accounts/{}", accounts[0]),
    )
    .await;
    for words in [
        "忠诚度",
        "仅依据购买行为",
        "转换成本",
        "未记录客户情况",
        "价值焦点",
        "推荐产品",
    ] {
        assert!(zh.contains(words), "{words}: {zh}");
    }

    // The accounts at risk as a list with insight columns, its condition read by its name.
    let (status, list) = page_as(
        &app,
        Some(&cookie),
        "en",
        "/accounts?ff=insight.churn_risk&fo=gt&fv=0.6&cols=name,insight.tier,insight.churn_risk",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "Insight: Churn risk greater than 0.6",
        "Insight: Tier",
        "流失测试客户00",
        "流失测试客户02",
    ] {
        assert!(list.contains(words), "{words}: {list}");
    }
    assert!(
        !list.contains("流失测试客户05"),
        "a steady buyer is not at risk"
    );
    assert!(
        !list.contains("insight.churn_risk greater"),
        "no internal key shown"
    );
    // Its value then, as a condition of its own: read by name and date, and only the leavers,
    // who were already above the line at the one refresh there is, are not "at most 0.6" then.
    let (status, then) = page_as(
        &app,
        Some(&cookie),
        "en",
        "/accounts?ff=insight.churn_risk%402025-06-01&fo=lte&fv=0.6&cols=name",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        then.contains("Insight: Churn risk on 2025-06-01 at most 0.6"),
        "{then}"
    );
    assert!(then.contains("流失测试客户05") && !then.contains("流失测试客户00"));
    // The home page lists them too, and links to that list.
    let (_, home) = page_as(&app, Some(&cookie), "en", "/").await;
    assert!(
        home.contains("Customers at risk") && home.contains("流失测试客户01"),
        "{home}"
    );
    assert!(home.contains("ff=insight.churn_risk&#38;fo=gt"), "{home}");

    let (zh, _) = login_cookie(&app, &boss_zh.email, PASSWORD).await;
    let (_, page) = page_as(&app, Some(&zh), "zh-CN", "/admin/insights").await;
    assert!(
        page.contains("通过检验，已启用") && page.contains("流失模型"),
        "{page}"
    );

    // Refresh now: queued as a job that trains a new model, and the page says so.
    let csrf = csrf_of(&app, &cookie).await;
    let (status, location, _) = form_as(
        &app,
        Some(&cookie),
        "en",
        "/admin/insights/refresh",
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let (_, page) = page_as(&app, Some(&cookie), "en", &location).await;
    assert!(page.contains("Queued as a background job"), "{page}");
    run_jobs(&app).await;
    let runs = refresh::recent_runs(app.core.db.reader(), 10)
        .await
        .unwrap();
    // The nightly refresh may be due as well (and train, finding no model of this week): every
    // run finished, and the requested one trained a new model.
    assert!(runs.len() >= 2, "{runs:?}");
    assert!(runs.iter().all(|r| r.state == "done"), "{runs:?}");
    assert!(
        models::recent(app.core.db.reader(), 10)
            .await
            .unwrap()
            .len()
            >= 2
    );

    // Only administrators.
    let (rep_cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
    let (status, _) = page_as(&app, Some(&rep_cookie), "en", "/admin/insights").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let rep_csrf = csrf_of(&app, &rep_cookie).await;
    let (status, _, _) = form_as(
        &app,
        Some(&rep_cookie),
        "en",
        "/admin/insights/refresh",
        &[("_csrf", &rep_csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = form_as(
        &app,
        Some(&rep_cookie),
        "en",
        "/admin/insights/settings",
        &[("_csrf", &rep_csrf), ("settings", "{}")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The models' settings: shown with the CLI's section names; a misspelt key is refused by
    // name, in the reader's language, with what was typed kept; a good change is saved.
    let (_, page) = page_as(&app, Some(&cookie), "en", "/admin/insights").await;
    assert!(
        page.contains("Model settings") && page.contains("&#34;switching-cost&#34;"),
        "{page}"
    );
    let typed = r#"{"churn": {"floor_auk": 0.7}}"#;
    let (status, _, refused) = form_as(
        &app,
        Some(&cookie),
        "en",
        "/admin/insights/settings",
        &[("_csrf", &csrf), ("settings", typed)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        refused.contains("There is no setting “churn.floor_auk”"),
        "{refused}"
    );
    assert!(
        refused.contains("floor_auk&#34;: 0.7"),
        "what was typed stays: {refused}"
    );
    let (zh_cookie, _) = login_cookie(&app, &boss_zh.email, PASSWORD).await;
    let zh_csrf = csrf_of(&app, &zh_cookie).await;
    let (_, _, refused) = form_as(
        &app,
        Some(&zh_cookie),
        "zh-CN",
        "/admin/insights/settings",
        &[("_csrf", &zh_csrf), ("settings", "floor = 0.7")],
    )
    .await;
    assert!(refused.contains("设置不是有效的 JSON"), "{refused}");
    let (status, location, _) = form_as(
        &app,
        Some(&cookie),
        "en",
        "/admin/insights/settings",
        &[
            ("_csrf", &csrf),
            ("settings", r#"{"churn": {"floor_auc": 0.7}}"#),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = page_as(&app, Some(&cookie), "en", &location.unwrap()).await;
    assert!(page.contains("Settings saved"), "{page}");
    assert!(page.contains("&#34;floor_auc&#34;: 0.7"), "{page}");
}
