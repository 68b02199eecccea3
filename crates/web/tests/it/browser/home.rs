//! The home page and an account's page in Chromium, in both languages, on a wide screen and a
//! phone: a rep lands on their day after logging in (late and due tasks, today's schedule, deals
//! by stage, deals closing this month, what they opened lately); nothing scrolls sideways.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::driver::{driver_url, run};
use super::shell::{assert_accessible, assert_no_sideways_scroll};
use crate::board::deals;
use crate::support::{Backend, PASSWORD, spawn};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn a_rep_lands_on_their_day_in_chromium() {
    let Some(driver) = driver_url() else { return };
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("admin", None).await;
    let d = deals(&admin).await;
    let zone = guanxi_core::time_zone::parse("Asia/Shanghai").expect("zone");
    let today = guanxi_core::time_zone::to_local(Utc::now(), zone).date();
    let month_end = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .and_then(|m| m.checked_add_months(chrono::Months::new(1)))
        .and_then(|m| m.pred_opt())
        .expect("month end");
    for lang in ["en", "zh-CN"] {
        let rep = app.user_in("sales", Some(lang), lang).await;
        let account = id(&rep
            .create(
                "accounts",
                json!({"kind": "company", "name": "杭州云帆科技有限公司", "type": "customer",
                       "allow_duplicate": true}),
            )
            .await);
        for (name, at, amount) in [
            ("杭州云帆 ERP 升级", "Qualification", "380000"),
            ("宁波港务数据中台", "Needs analysis", "1250000"),
            ("苏州工业园 CRM 项目", "Proposal", "560000"),
        ] {
            d.open_with(
                &rep,
                name,
                at,
                amount,
                json!({"close_date": month_end.to_string(), "account_id": account}),
            )
            .await;
        }
        let now = Utc::now();
        for (subject, hours) in [("发送修改后的报价", -26), ("确认下周拜访安排", -3)]
        {
            rep.create(
                "activities",
                json!({"subject": subject, "kind": "task",
                       "due_at": (now + Duration::hours(hours)).to_rfc3339(),
                       "regarding": {"entity": "account", "id": account}}),
            )
            .await;
        }
        rep.create(
            "activities",
            json!({"subject": "电话回访张经理", "kind": "call", "call_outcome": "connected",
                   "regarding": {"entity": "account", "id": account}}),
        )
        .await;
        let short = if lang == "en" { "en" } else { "zh" };
        for width in [1400u32, 390] {
            let test = format!("home-{short}-{width}");
            let email = rep.email.clone();
            let account = account.clone();
            run(&driver, &app.base, &test, short, |b| async move {
                b.window(width, 900).await;
                b.goto("/login").await;
                b.fill("#email", &email).await;
                b.fill("#password", PASSWORD).await;
                b.click_to_page("#login-submit").await;
                assert_eq!(b.path().await, "/", "lands on the home page");
                let greeting = b.text("#home-greeting").await;
                assert!(
                    greeting.contains(if short == "en" { "Good" } else { "好" }),
                    "{greeting}"
                );
                let late = b.text("#home-overdue").await;
                assert!(late.contains("发送修改后的报价"), "{late}");
                let pipeline = b.text("#home-pipeline").await;
                assert!(pipeline.contains("¥2,190,000.00"), "{pipeline}");
                assert_no_sideways_scroll(&b, "home").await;
                assert_accessible(&b, "home").await;
                b.shot("home").await;

                // The account's page, its timeline, and back home where it is now recent.
                b.goto(&format!("/accounts/{account}?tab=timeline")).await;
                assert_no_sideways_scroll(&b, "account timeline").await;
                assert_accessible(&b, "account timeline").await;
                b.shot("account-timeline").await;
                b.goto("/").await;
                let recent = b.text("#home-recent").await;
                assert!(recent.contains("杭州云帆科技有限公司"), "{recent}");
            })
            .await;
        }
    }
}
