//! Customer analytics in Chromium, in both languages, on a wide screen and a phone: a rep opens
//! it from the navigation, reads their customers' tiers, 80/20, churn risk, stages and segments
//! without sideways scrolling, and a tier's row opens exactly the accounts it counted.

use chrono::{Duration, Utc};
use guanxi_core::insights::refresh;
use serde_json::json;

use super::driver::{driver_url, run};
use super::shell::{assert_accessible, assert_no_sideways_scroll};
use crate::support::{Backend, PASSWORD, spawn};

#[tokio::test]
async fn a_rep_reads_customer_analytics_and_opens_a_tier_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let rep_en = app.user_in("sales", Some("East"), "en").await;
    let rep_zh = app.user_in("sales", Some("West"), "zh-CN").await;
    let today = Utc::now().date_naive();
    // Each rep's twelve customers buy monthly for two years; three stopped a year ago.
    for rep in [&rep_en, &rep_zh] {
        for a in 0..12i64 {
            let acc = rep
                .create(
                    "accounts",
                    json!({"kind": "company", "name": format!("分析测试客户{a:02}"), "allow_duplicate": true}),
                )
                .await;
            let months = if a < 3 { 12 } else { 24 };
            for m in 0..months {
                let day = today - Duration::days(730 - 30 * m - a);
                let amount = 1000 + 400 * a;
                rep.create(
                    "sales_records",
                    json!({"account_id": acc["id"], "date": day.to_string(),
                           "order_ref": format!("SO-{a}-{m}"), "amount": amount.to_string(),
                           "cost": (amount * 6 / 10).to_string()}),
                )
                .await;
            }
        }
    }
    // A refresh ten months back, then today's: the leavers' stages moved between them.
    let back = today - Duration::days(300);
    refresh::refresh(&app.core, Some(back), refresh::Train::IfStale, &|_| {})
        .await
        .expect("refresh then");
    refresh::refresh(&app.core, None, refresh::Train::IfStale, &|_| {})
        .await
        .expect("refresh");

    for (rep, short) in [(&rep_en, "en"), (&rep_zh, "zh")] {
        for width in [1400u32, 390] {
            let email = rep.email.clone();
            run(
                &driver,
                &app.base,
                &format!("analytics-{short}-{width}"),
                short,
                |b| async move {
                    b.window(width, 900).await;
                    b.goto("/login").await;
                    b.fill("#email", &email).await;
                    b.fill("#password", PASSWORD).await;
                    b.click_to_page("#login-submit").await;
                    if width < 600 {
                        b.goto("/insights").await;
                    } else {
                        let label = b.text("#sidebar a[href=\"/insights\"]").await;
                        assert_eq!(
                            label,
                            if short == "en" {
                                "Customer analytics"
                            } else {
                                "客户分析"
                            }
                        );
                        b.click_to_page("#sidebar a[href=\"/insights\"]").await;
                    }
                    assert_eq!(b.path().await, "/insights");
                    let scope = b.text("#dash-as-of").await;
                    assert!(
                        scope.contains(if short == "en" {
                            "12 customers"
                        } else {
                            "12 家客户"
                        }),
                        "{scope}"
                    );
                    for id in [
                        "#dash-tiers",
                        "#dash-pareto",
                        "#dash-churn",
                        "#dash-lifecycle",
                        "#dash-clv",
                        "#dash-rfm",
                        "#dash-loyalty",
                    ] {
                        assert!(b.exists(&format!("{id} h2")).await, "{id}");
                    }
                    assert!(b.exists("#dash-tiers svg").await && b.exists("#dash-churn svg").await);
                    let flows = b.text("#dash-flows h2").await;
                    assert!(flows.contains(&back.to_string()), "{flows}");
                    assert_no_sideways_scroll(&b, "analytics").await;
                    assert_accessible(&b, "analytics").await;
                    b.shot("analytics").await;

                    // The first tier's row opens the accounts it counted, its condition a chip.
                    let tier = b.text("#dash-tiers tbody tr:first-child th a").await;
                    let counted: usize = b
                        .text("#dash-tiers tbody tr:first-child td a")
                        .await
                        .trim()
                        .parse()
                        .expect("a count");
                    b.click_to_page("#dash-tiers tbody tr:first-child th a")
                        .await;
                    assert!(
                        b.path().await.starts_with("/accounts"),
                        "{}",
                        b.path().await
                    );
                    let chip = b.text(".chip").await;
                    assert!(chip.contains(tier.trim()), "{chip} / {tier}");
                    assert_eq!(b.all("#records tbody tr").await.len(), counted);
                    assert_no_sideways_scroll(&b, "tier list").await;
                    b.shot("tier-list").await;

                    // A move between stages opens the accounts that moved so.
                    b.goto("/insights").await;
                    let moved: usize = b
                        .text("#dash-flows tbody tr:first-child td a")
                        .await
                        .trim()
                        .parse()
                        .expect("a count");
                    b.click_to_page("#dash-flows tbody tr:first-child th a")
                        .await;
                    assert_eq!(b.all("#records tbody tr").await.len(), moved);
                    assert_eq!(b.all(".chip").await.len(), 2, "stage now and then");
                },
            )
            .await;
        }
    }
}
