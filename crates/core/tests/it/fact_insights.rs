//! Loyalty, switching cost, value focus and next best products, on both backends: from the
//! sales ledger and each account's latest customer facts as of the refresh's date, each saying
//! which fact it lacks, filterable like every insight; facts on the wrong scale are refused.

use chrono::{Duration, NaiveDate};
use guanxi_core::CoreError;
use guanxi_core::areas::customers::{ACCOUNTS, CUSTOMER_FACTS};
use guanxi_core::areas::sales::SALES_RECORDS;
use guanxi_core::insights::current::{self, AccountInsights};
use guanxi_core::insights::refresh;
use guanxi_core::records::{Filter, ListQuery};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn quiet(_: refresh::Progress) {}

/// Twelve accounts buying monthly for two years: a printer with toner in each order, except
/// accounts 0 and 1, which only ever buy the printer.
async fn buyers(core: &guanxi_core::Core, boss: &guanxi_core::authz::Actor) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for a in 0..12 {
        let acc = core
            .records(&ACCOUNTS)
            .create(
                boss,
                &json!({"kind": "company", "name": format!("忠诚度测试客户{a:02}")}),
            )
            .await
            .unwrap();
        let id: Uuid = acc["id"].as_str().unwrap().parse().unwrap();
        ids.push(id);
        for m in 0..24 {
            let day = d("2024-01-03") + Duration::days(30 * m + a);
            let order = format!("SO-{a}-{m}");
            let mut lines = vec![("P-1", "激光打印机", 3000)];
            if a > 1 {
                lines.push(("T-1", "硒鼓", 400));
            }
            for (code, name, amount) in lines {
                core.records(&SALES_RECORDS)
                    .create(
                        boss,
                        &json!({"account_id": id, "date": day.to_string(), "order_ref": order,
                                "product_code": code, "product_name": name,
                                "amount": amount.to_string(), "cost": (amount / 2).to_string()}),
                    )
                    .await
                    .unwrap();
            }
        }
    }
    ids
}

async fn of(core: &guanxi_core::Core, id: Uuid) -> AccountInsights {
    current::of_account(core.db.reader(), id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn facts_give_loyalty_switching_cost_a_focus_and_products_to_offer() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let ids = buyers(&core, &boss).await;
        let facts = core.records(&CUSTOMER_FACTS);
        // Accounts 2–9 answered a survey where satisfaction follows the service rating.
        for (k, id) in ids.iter().enumerate().take(10).skip(2) {
            let service = 1 + (k % 5) as i64;
            facts
                .create(
                    &boss,
                    &json!({"account_id": id, "recorded_on": "2025-10-01",
                            "satisfaction": service, "recommendation": 2 * service,
                            "share_of_wallet": 60, "contract_end": "2026-06-30",
                            "integration_level": "system_integration", "loyalty_balance": "500",
                            "rating_product": 2 + (k % 3) as i64, "rating_service": service,
                            "rating_price": 3 + (k % 2) as i64, "rating_relationship": 4}),
                )
                .await
                .unwrap();
        }
        // Account 10 told us its contract only; a later record of account 2 is after the
        // refresh's date and is not read.
        facts
            .create(
                &boss,
                &json!({"account_id": ids[10], "recorded_on": "2025-11-01", "contract_end": "2027-01-31"}),
            )
            .await
            .unwrap();
        facts
            .create(
                &boss,
                &json!({"account_id": ids[2], "recorded_on": "2026-01-15", "satisfaction": 1}),
            )
            .await
            .unwrap();
        // A satisfaction on a 0–10 scale, or a rating above 5, is refused with its range.
        for bad in [
            json!({"account_id": ids[11], "recorded_on": "2025-10-01", "satisfaction": 8}),
            json!({"account_id": ids[11], "recorded_on": "2025-10-01", "rating_price": 6}),
        ] {
            match facts.create(&boss, &bad).await {
                Err(CoreError::Validation(f)) => {
                    let (field, e) = f.iter().next().unwrap();
                    assert!(field == "satisfaction" || field == "rating_price", "{f:?}");
                    assert_eq!(e.code, "out_of_range", "{f:?}");
                    assert_eq!(e.params.get("max"), Some(&json!(5)), "{f:?}");
                }
                other => panic!("{backend:?}: expected a refusal, got {other:?}"),
            }
        }

        refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &quiet)
            .await
            .unwrap();

        // Surveyed: a loyalty type from both sides, a switching cost, a focus.
        let two = of(&core, ids[2]).await.values;
        assert!(!two.loyalty_type.is_empty(), "{backend:?} {two:?}");
        assert!(two.loyalty_attitude.is_some());
        assert!(two.switching_cost.is_some_and(|s| s > 0.0 && s <= 100.0));
        assert!(!two.value_focus.is_empty(), "{two:?}");
        assert!(two.facts_missing.inputs.is_empty(), "{two:?}");
        // Rating service lowest (1) where service drives satisfaction: talk about service.
        let low = of(&core, ids[5]).await.values;
        assert_eq!(low.value_focus, "service", "{backend:?} {low:?}");
        // Contract only: a switching cost, its blanks named, no survey, no loyalty type.
        let ten = of(&core, ids[10]).await.values;
        assert!(ten.switching_cost.is_some(), "{ten:?}");
        assert_eq!(ten.facts_missing.value_focus, "no_survey");
        assert!(ten.loyalty_type.is_empty() && ten.loyalty_index.is_some());
        for blank in ["satisfaction", "integration_level", "ratings"] {
            assert!(
                ten.facts_missing.inputs.iter().any(|i| i == blank),
                "{blank}: {ten:?}"
            );
        }
        // Nothing recorded: loyalty from purchases alone; the rest says no facts.
        let none = of(&core, ids[11]).await.values;
        assert!(none.loyalty_index.is_some() && none.loyalty_type.is_empty());
        assert_eq!(none.switching_cost, None);
        assert_eq!(none.facts_missing.switching_cost, "no_facts");
        assert_eq!(none.facts_missing.value_focus, "no_facts");
        // The printer-only accounts are offered toner, by its name, because of the printer.
        for a in [0, 1] {
            let v = of(&core, ids[a]).await.values;
            assert_eq!(v.next_products.len(), 1, "{backend:?} {v:?}");
            let p = &v.next_products[0];
            assert_eq!((p.product.as_str(), p.name.as_str()), ("T-1", "硒鼓"));
            assert_eq!(p.because, vec!["激光打印机".to_string()]);
            // Ten of the twelve accounts' printer orders hold toner.
            assert!((p.confidence - 10.0 / 12.0).abs() < 1e-9, "{p:?}");
        }
        assert!(of(&core, ids[5]).await.values.next_products.is_empty());

        // Filters: by loyalty type, by switching cost.
        let list = |pairs: &[(&str, &str)]| ListQuery {
            filter: Some(Filter::from_pairs(pairs.iter().map(|(k, v)| (*k, *v))).unwrap()),
            limit: 100,
            ..ListQuery::default()
        };
        let ids_of = |page: guanxi_core::records::Page| {
            let mut v: Vec<Uuid> = page
                .items
                .iter()
                .map(|r| r["id"].as_str().unwrap().parse().unwrap())
                .collect();
            v.sort();
            v
        };
        let page = core
            .records(&ACCOUNTS)
            .list(&boss, &list(&[("insight.switching_cost[gt]", "0")]))
            .await
            .unwrap();
        let mut with_facts: Vec<Uuid> = ids[2..=10].to_vec();
        with_facts.sort();
        assert_eq!(ids_of(page), with_facts, "{backend:?}");
        let kind = two.loyalty_type.clone();
        let page = core
            .records(&ACCOUNTS)
            .list(&boss, &list(&[("insight.loyalty_type", kind.as_str())]))
            .await
            .unwrap();
        let got = ids_of(page);
        assert!(got.contains(&ids[2]) && !got.contains(&ids[11]), "{got:?}");
    }
}

#[tokio::test]
async fn dashboards_sum_what_each_reader_may_see() {
    use crate::support::{actor, two_teams};
    use guanxi_core::insights::summary;
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let ids = buyers(&core, &boss).await;
        refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &quiet)
            .await
            .unwrap();
        let [rep, _, _] = two_teams(&core, &boss).await;
        core.records(&ACCOUNTS)
            .change_owner(&boss, &ids[..3], rep)
            .await
            .unwrap();
        let rep_actor = actor(&core, "rep@example.com").await;

        // The administrator's tiers cover the twelve; their revenue is the accounts' revenue.
        let tiers = summary::by(&core, &boss, "tier", None).await.unwrap();
        assert_eq!(
            tiers.iter().map(|f| f.accounts).sum::<i64>(),
            12,
            "{backend:?}"
        );
        let mut revenue = 0.0;
        for id in &ids {
            revenue += of(&core, *id).await.values.revenue.unwrap();
        }
        let summed: f64 = tiers.iter().map(|f| f.revenue).sum();
        assert!((summed - revenue).abs() < 1e-6, "{summed} vs {revenue}");
        // A rep's cover only their three.
        let mine = summary::by(&core, &rep_actor, "tier", None).await.unwrap();
        assert_eq!(
            mine.iter().map(|f| f.accounts).sum::<i64>(),
            3,
            "{backend:?}"
        );
        // Deciles come in order, numbers as text.
        let deciles = summary::by(&core, &boss, "value_decile", None)
            .await
            .unwrap();
        let keys: Vec<i64> = deciles.iter().map(|f| f.key.parse().unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        // Lifetime value bands hold every account that has one, once.
        let bands = summary::clv_bands(&core, &boss, None, 8).await.unwrap();
        let with_clv = {
            let mut n = 0;
            for id in &ids {
                n += i64::from(of(&core, *id).await.values.clv.is_some());
            }
            n
        };
        assert_eq!(bands.iter().map(|b| b.accounts).sum::<i64>(), with_clv);
        assert_eq!(bands[0].from, 0.0);
        assert!(bands.last().unwrap().to.is_none());
        // Only insights that group: a probability does not.
        assert!(summary::by(&core, &boss, "churn_risk", None).await.is_err());
    }
}

#[tokio::test]
async fn model_settings_are_refused_by_key_and_used_by_the_next_refresh() {
    use guanxi_core::insights::settings;
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let ids = buyers(&core, &boss).await;
        let code = |r: Result<_, CoreError>| match r {
            Err(CoreError::BadRequest { code, params, .. }) => (code, params),
            other => panic!("expected a refusal, got {other:?}"),
        };
        // A misspelt key, a value out of range, no JSON: refused by name, nothing stored.
        let (c, p) =
            code(settings::save(&core, &boss, r#"{"lifecycle": {"stabilty_days": 30}}"#).await);
        assert_eq!(
            (c, p.get("key")),
            (
                "insights_settings_unknown",
                Some(&json!("lifecycle.stabilty_days"))
            )
        );
        let (c, p) = code(settings::save(&core, &boss, r#"{"churn": {"floor_auc": 2}}"#).await);
        assert_eq!(c, "insights_settings_invalid", "{p:?}");
        assert!(
            p["message"].as_str().unwrap().contains("floor_auc"),
            "{p:?}"
        );
        let (c, _) = code(settings::save(&core, &boss, "floor = 0.7").await);
        assert_eq!(c, "insights_settings_not_json");
        assert_eq!(
            settings::written(core.db.reader()).await.unwrap(),
            json!({})
        );
        // Only administrators.
        let [_, _, _] = crate::support::two_teams(&core, &boss).await;
        let rep = crate::support::actor(&core, "rep@example.com").await;
        assert!(matches!(
            settings::save(&core, &rep, "{}").await,
            Err(CoreError::Forbidden { .. })
        ));

        // Stable only after ten years: no one is stable at the next refresh; the rest of the
        // settings keep their defaults.
        refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &quiet)
            .await
            .unwrap();
        assert_eq!(
            of(&core, ids[5]).await.values.lifecycle_stage,
            "stability",
            "{backend:?}"
        );
        let s = settings::save(&core, &boss, r#"{"lifecycle": {"stability_days": 3650}}"#)
            .await
            .unwrap();
        assert_eq!(s.lifecycle.stability_days, 3650);
        assert_eq!(s.churn.window_days, 180);
        refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &quiet)
            .await
            .unwrap();
        for id in &ids {
            assert_ne!(
                of(&core, *id).await.values.lifecycle_stage,
                "stability",
                "{backend:?}"
            );
        }
        // Back to the defaults.
        settings::save(&core, &boss, "{}").await.unwrap();
        assert_eq!(
            settings::current(core.db.reader()).await.unwrap(),
            guanxi_analytics::customer_insights::InsightSettings::default()
        );
    }
}
