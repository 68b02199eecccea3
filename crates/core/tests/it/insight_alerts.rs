//! Insight alerts: a gold customer whose churn risk rises above 0.6 notifies its owner and the
//! owner's team managers once — with two instances refreshing at the same time, and again on
//! later refreshes only after the risk fell back and rose again.

use chrono::{Duration, NaiveDate};
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::areas::sales::SALES_RECORDS;
use guanxi_core::identity::users::{self, NewUser};
use guanxi_core::insights::{current, refresh};
use guanxi_core::{Core, notifications};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The insight alerts in the bell of the user with `email`.
async fn alerts_to(core: &Core, email: &str) -> Vec<notifications::Notification> {
    let who = actor(core, email).await;
    notifications::list(core, &who, false, 100, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.kind == "insight_alert")
        .collect()
}

#[tokio::test]
async fn a_crossing_notifies_owner_and_manager_once_across_two_instances() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, _, _] = two_teams(&core, &boss).await;
        let north = users::get(core.db.reader(), rep).await.unwrap().team_id;
        users::create(
            &core.db,
            Some(&boss),
            NewUser {
                email: "lead@example.com".into(),
                name: "lead".into(),
                role: "manager".into(),
                team_id: north,
                password: "correct horse battery".into(),
                locale: Some("en".into()),
            },
        )
        .await
        .unwrap();
        // Three years of monthly orders: six customers left along 2024 (the history the churn
        // model learns from), twelve still buy, and the biggest stops in July 2025.
        let mut ids = Vec::new();
        for a in 0..19i64 {
            let acc = core
                .records(&ACCOUNTS)
                .create(
                    &boss,
                    &json!({"kind": "company", "name": format!("预警测试客户{a:02}")}),
                )
                .await
                .unwrap();
            let id: Uuid = acc["id"].as_str().unwrap().parse().unwrap();
            let (months, amount) = match a {
                0..=5 => (14 + 2 * a, 5200),
                18 => (30, 8000),
                _ => (36, 1000 + 300 * (a - 6)),
            };
            for m in 0..months {
                let day = d("2023-01-05") + Duration::days(30 * m + a);
                core.records(&SALES_RECORDS)
                    .create(
                        &boss,
                        &json!({"account_id": id, "date": day.to_string(), "order_ref": format!("SO-{a}-{m}"),
                                "amount": amount.to_string(), "cost": (amount / 2).to_string()}),
                    )
                    .await
                    .unwrap();
            }
            ids.push(id);
        }
        let big = ids[18];
        core.records(&ACCOUNTS)
            .change_owner(&boss, &[big], rep)
            .await
            .unwrap();

        // While it still buys, nothing to say.
        let first = refresh::refresh(
            &core,
            Some(d("2025-06-30")),
            refresh::Train::IfStale,
            &|_| {},
        )
        .await
        .unwrap();
        assert!(first.churn_model.is_some(), "{backend:?}: {first:?}");
        let before = current::of_account(core.db.reader(), big)
            .await
            .unwrap()
            .unwrap()
            .values;
        assert_eq!(before.tier, "gold", "{backend:?}: {before:?}");
        assert!(before.churn_risk.unwrap() < 0.6, "{before:?}");
        assert!(alerts_to(&core, "rep@example.com").await.is_empty());

        // Half a year of silence later, two instances refresh at once: one alert each for the
        // owner and the manager, none for the other team.
        let second = fresh.core().await;
        let (a, b) = tokio::join!(
            refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &|_| {}),
            refresh::refresh(
                &second,
                Some(d("2025-12-31")),
                refresh::Train::Never,
                &|_| {}
            ),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let after = current::of_account(core.db.reader(), big)
            .await
            .unwrap()
            .unwrap()
            .values;
        assert!(after.churn_risk.unwrap() > 0.6, "{backend:?}: {after:?}");
        assert_eq!(after.tier, "gold");
        assert_eq!(a.alerted + b.alerted, 1, "{backend:?}");
        let to_rep = alerts_to(&core, "rep@example.com").await;
        assert_eq!(to_rep.len(), 1, "{backend:?}");
        assert_eq!(to_rep[0].record_id, Some(big));
        assert_eq!(
            alerts_to(&core, "lead@example.com").await.len(),
            1,
            "{backend:?}"
        );
        assert!(alerts_to(&core, "other@example.com").await.is_empty());
        let params = &to_rep[0].params;
        assert_eq!(params["title"], "预警测试客户18");
        assert!(params["value"].as_str().unwrap().ends_with('%'), "{params}");

        // The next refresh finds the alert up: no one is told again.
        let third = refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &|_| {})
            .await
            .unwrap();
        assert_eq!(third.alerted, 0);
        assert_eq!(alerts_to(&core, "rep@example.com").await.len(), 1);

        // A back-test as of the quiet time says nothing about now: the alert stays up, so the
        // next refresh of today tells no one again either.
        refresh::refresh(&core, Some(d("2025-06-30")), refresh::Train::Never, &|_| {})
            .await
            .unwrap();
        let again = refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &|_| {})
            .await
            .unwrap();
        assert_eq!(again.alerted, 0, "{backend:?}");
        assert_eq!(alerts_to(&core, "rep@example.com").await.len(), 1);
        second.db.close().await.unwrap();
        fresh.cleanup(core).await;
    }
}
