//! Customer insights refreshed from the ledgers, on both backends: every buyer gets its values,
//! a past as-of date reads only what was known then, changes keep their previous value and
//! history, and accounts without purchases get none.

use chrono::{Duration, NaiveDate};
use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::areas::sales::{PAYMENT_RECORDS, SALES_RECORDS};
use guanxi_core::insights::{current, refresh};
use guanxi_core::{Core, CoreError, codes};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn quiet(_: refresh::Progress) {}

/// Twelve accounts buying monthly for two years, three of them stopping after the first year,
/// and one that never bought: their ids, buyers first.
pub(crate) async fn ledger(core: &Core) -> Vec<Uuid> {
    let boss = admin(core, "boss@example.com").await;
    let mut ids = Vec::new();
    for a in 0..13 {
        let acc = core
            .records(&ACCOUNTS)
            .create(
                &boss,
                &json!({"kind": "company", "name": format!("洞察测试客户{a:02}")}),
            )
            .await
            .unwrap();
        let id: Uuid = acc["id"].as_str().unwrap().parse().unwrap();
        ids.push(id);
        if a == 12 {
            continue;
        }
        let months = if a < 3 { 12 } else { 24 };
        for m in 0..months {
            let day = d("2024-01-03") + Duration::days(30 * m + a);
            let amount = 1000 + 250 * a;
            core.records(&SALES_RECORDS)
                .create(
                    &boss,
                    &json!({"account_id": id, "date": day.to_string(), "order_ref": format!("SO-{a}-{m}"),
                            "amount": amount.to_string(), "cost": (amount * 6 / 10).to_string()}),
                )
                .await
                .unwrap();
        }
        core.records(&PAYMENT_RECORDS)
            .create(
                &boss,
                &json!({"account_id": id, "invoice_date": "2024-03-01", "due_date": "2024-03-31",
                        "paid_date": if a == 5 { "2024-12-01" } else { "2024-03-20" }, "amount": "1000"}),
            )
            .await
            .unwrap();
    }
    ids
}

#[tokio::test]
async fn a_refresh_gives_every_buyer_its_insights_and_keeps_what_changed() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let ids = ledger(&core).await;

        let done = refresh::refresh(
            &core,
            Some(d("2025-12-31")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        assert_eq!(done.accounts, 12, "{backend:?}");
        assert_eq!(done.rows, 9 * 24 + 3 * 12);
        for (i, id) in ids.iter().enumerate().take(12) {
            let got = current::of_account(core.db.reader(), *id)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{backend:?}: account {i} has no insights"));
            assert_eq!(got.as_of, d("2025-12-31"));
            assert!(!got.values.rfm_segment.is_empty(), "{got:?}");
            assert!(!got.values.tier.is_empty(), "{got:?}");
            assert!(
                got.values
                    .value_decile
                    .is_some_and(|v| (1..=10).contains(&v))
            );
            assert!(
                got.values.p_alive.is_some() && got.values.clv.is_some(),
                "{got:?}"
            );
            assert!(
                got.changes.is_empty(),
                "a first refresh changes nothing: {got:?}"
            );
        }
        // The slow payer (270 days) is not served; those who stopped a year ago are leaving.
        let slow = current::of_account(core.db.reader(), ids[5])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (slow.values.tier.as_str(), slow.values.tier_reason.as_str()),
            ("do_not_serve", "slow_payer")
        );
        let gone = current::of_account(core.db.reader(), ids[0])
            .await
            .unwrap()
            .unwrap();
        assert!(
            ["churned", "decline"].contains(&gone.values.lifecycle_stage.as_str()),
            "{gone:?}"
        );
        let steady = current::of_account(core.db.reader(), ids[11])
            .await
            .unwrap()
            .unwrap();
        assert!(
            gone.values.p_alive < steady.values.p_alive,
            "{gone:?} {steady:?}"
        );
        assert!(
            current::of_account(core.db.reader(), ids[12])
                .await
                .unwrap()
                .is_none()
        );

        // As of a year earlier, the ones who stopped were still buying: their stage changes
        // back, and the change keeps what it was and when.
        refresh::refresh(
            &core,
            Some(d("2024-12-31")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        let then = current::of_account(core.db.reader(), ids[0])
            .await
            .unwrap()
            .unwrap();
        assert_ne!(then.values.lifecycle_stage, gone.values.lifecycle_stage);
        assert_eq!(
            then.changes["lifecycle_stage"],
            json!({"previous": gone.values.lifecycle_stage, "changed_on": "2024-12-31"})
        );
        let steady_then = current::of_account(core.db.reader(), ids[11])
            .await
            .unwrap()
            .unwrap();
        assert!(
            steady_then.values.revenue < steady.values.revenue,
            "only rows up to the as-of date are read"
        );

        // Nothing bought by then: no insights, and no stale ones left.
        let cleared = refresh::refresh(
            &core,
            Some(d("2023-06-30")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        assert_eq!((cleared.accounts, cleared.forgotten), (0, 12));
        assert!(
            current::of_account(core.db.reader(), ids[0])
                .await
                .unwrap()
                .is_none()
        );

        let future = refresh::refresh(
            &core,
            Some(d("2999-01-01")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await;
        assert!(
            matches!(&future, Err(CoreError::BadRequest { code, .. }) if *code == codes::INSIGHTS_AS_OF_IN_FUTURE),
            "{future:?}"
        );
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn insight_filters_find_exactly_the_accounts_each_reader_may_see() {
    use guanxi_core::records::{Filter, ListQuery};
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let ids = ledger(&core).await;
        refresh::refresh(
            &core,
            Some(d("2025-12-31")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        let boss = admin(&core, "boss@example.com").await;
        let list = |pairs: &[(&str, &str)]| ListQuery {
            filter: Some(Filter::from_pairs(pairs.iter().map(|(k, v)| (*k, *v))).unwrap()),
            limit: 100,
            ..ListQuery::default()
        };
        let found = |page: guanxi_core::records::Page| {
            let mut got: Vec<Uuid> = page
                .items
                .iter()
                .map(|r| r["id"].as_str().unwrap().parse().unwrap())
                .collect();
            got.sort();
            got
        };
        // The slow payer is the one not served.
        let page = core
            .records(&ACCOUNTS)
            .list(&boss, &list(&[("insight.tier", "do_not_serve")]))
            .await
            .unwrap();
        assert_eq!(found(page), vec![ids[5]], "{backend:?}");
        // A rep finds it only once it is theirs.
        let [rep, _, _] = two_teams(&core, &boss).await;
        let rep_actor = actor(&core, "rep@example.com").await;
        let unserved = list(&[("insight.tier", "do_not_serve")]);
        let svc = core.records(&ACCOUNTS);
        let mine = |who| svc.list(who, &unserved);
        assert!(
            mine(&rep_actor).await.unwrap().items.is_empty(),
            "{backend:?}"
        );
        core.records(&ACCOUNTS)
            .change_owner(&boss, &[ids[5]], rep)
            .await
            .unwrap();
        assert_eq!(
            found(mine(&rep_actor).await.unwrap()),
            vec![ids[5]],
            "{backend:?}"
        );
        // Churn risk above 0.6: exactly the three who stopped, for the admin; for a rep, only the
        // one of them that is theirs.
        let mut stopped = ids[..3].to_vec();
        stopped.sort();
        let risky = list(&[("insight.churn_risk[gt]", "0.6")]);
        let page = svc.list(&boss, &risky).await.unwrap();
        assert_eq!(found(page), stopped, "{backend:?}");
        for (i, id) in ids.iter().enumerate().take(12) {
            let v = current::of_account(core.db.reader(), *id)
                .await
                .unwrap()
                .unwrap()
                .values;
            assert_eq!(v.churn_risk.unwrap() > 0.6, i < 3, "{backend:?} {i}: {v:?}");
        }
        assert!(svc.list(&rep_actor, &risky).await.unwrap().items.is_empty());
        svc.change_owner(&boss, &[ids[1]], rep).await.unwrap();
        assert_eq!(
            found(svc.list(&rep_actor, &risky).await.unwrap()),
            vec![ids[1]],
            "{backend:?}"
        );
        // Every account with a probability under the steady buyers' is one of those who stopped.
        let steady = current::of_account(core.db.reader(), ids[11])
            .await
            .unwrap()
            .unwrap();
        let below = format!("{}", steady.values.p_alive.unwrap() - 0.05);
        let page = core
            .records(&ACCOUNTS)
            .list(&boss, &list(&[("insight.p_alive[lt]", below.as_str())]))
            .await
            .unwrap();
        assert_eq!(found(page), stopped, "{backend:?}");
        // Two conditions on insights and one on the account at once.
        let page = core
            .records(&ACCOUNTS)
            .list(
                &boss,
                &list(&[
                    ("insight.value_decile[lte]", "2"),
                    ("insight.tier[ne]", "zzz"),
                    ("name[contains]", "洞察"),
                ]),
            )
            .await;
        assert!(page.is_err(), "[ne] on an insight is refused: {page:?}");
        let page = core
            .records(&ACCOUNTS)
            .list(
                &boss,
                &list(&[
                    ("insight.value_decile[lte]", "2"),
                    ("name[contains]", "洞察"),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(
            page.items.len(),
            3,
            "{backend:?}: 12 buyers, the top two tenths"
        );
        // A mistyped insight, and an entity without insights, are refused with their names.
        let bad = core
            .records(&ACCOUNTS)
            .list(&boss, &list(&[("insight.churn", "1")]))
            .await;
        assert!(
            matches!(&bad, Err(CoreError::BadRequest { message, .. }) if message.contains("unknown insight 'churn'")),
            "{bad:?}"
        );
        let bad = core
            .records(&SALES_RECORDS)
            .list(&boss, &list(&[("insight.tier", "gold")]))
            .await;
        assert!(matches!(&bad, Err(CoreError::BadRequest { .. })), "{bad:?}");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn churn_models_keep_their_evaluation_and_a_back_test_uses_none_from_its_future() {
    use guanxi_core::insights::models;
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let ids = ledger(&core).await;
        // The first refresh trains: two 180-day windows back, the later one unseen.
        let first = refresh::refresh(
            &core,
            Some(d("2025-12-31")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        let trained = first.trained.clone().expect("trained");
        assert_eq!(trained.refusal, None, "{backend:?}");
        let test = trained.test.clone().unwrap();
        assert!(test.auc.unwrap() >= 0.6, "{test:?}");
        assert_eq!(first.churn_model, Some(trained.id));
        let v = current::of_account(core.db.reader(), ids[0])
            .await
            .unwrap()
            .unwrap()
            .values;
        assert_eq!(
            v.churn_model,
            Some(trained.id),
            "each value names its model"
        );
        assert!(
            v.churn_decile.is_some() && !v.churn_drivers.is_empty(),
            "{v:?}"
        );
        // The admin's list shows it with its evaluation.
        let listed = models::recent(core.db.reader(), 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].accepted());
        let e = listed[0].evaluation.as_ref().unwrap();
        assert_eq!(e.test.as_ref().unwrap().auc, test.auc);
        assert_eq!(e.window_days, 180);
        assert_eq!(e.test_cutoff, d("2025-12-31") - Duration::days(180));
        assert!(!e.coefficients.is_empty());

        // Within the week the model is fresh: no training, the same model scores.
        let again = refresh::refresh(
            &core,
            Some(d("2025-12-31")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        assert!(again.trained.is_none());
        assert_eq!(again.churn_model, Some(trained.id));

        // As of a year earlier everyone was still buying: nothing to learn, so the model is
        // refused, and the later model (which saw that year's future) is not used either.
        let back = refresh::refresh(
            &core,
            Some(d("2024-12-31")),
            refresh::Train::IfStale,
            &quiet,
        )
        .await
        .unwrap();
        assert_eq!(
            back.trained
                .as_ref()
                .and_then(|t| t.refusal)
                .map(|r| r.code()),
            Some("one_class"),
            "{backend:?}"
        );
        assert_eq!(back.churn_model, None);
        let v = current::of_account(core.db.reader(), ids[0])
            .await
            .unwrap()
            .unwrap()
            .values;
        assert_eq!(
            (v.churn_risk, v.churn_missing.as_str()),
            (None, refresh::NO_CHURN_MODEL)
        );
        let listed = models::recent(core.db.reader(), 10).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(!listed[0].accepted() && listed[1].accepted());

        // Back to today without training: the accepted model scores again.
        let now = refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &quiet)
            .await
            .unwrap();
        assert!(now.trained.is_none());
        assert_eq!(now.churn_model, Some(trained.id));
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_value_then_and_now_finds_what_changed_since_a_date() {
    use guanxi_core::records::{Filter, ListQuery};
    use std::collections::BTreeSet;
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let ids = ledger(&core).await;
        let boss = admin(&core, "boss@example.com").await;
        let stage_of = |core: &Core| {
            let core = core.clone();
            let ids = ids.clone();
            async move {
                let mut out = Vec::new();
                for id in ids.iter().take(12) {
                    let v = current::of_account(core.db.reader(), *id)
                        .await
                        .unwrap()
                        .unwrap();
                    out.push((v.values.lifecycle_stage, v.values.p_alive.unwrap()));
                }
                out
            }
        };
        refresh::refresh(&core, Some(d("2024-10-01")), refresh::Train::Never, &quiet)
            .await
            .unwrap();
        let then = stage_of(&core).await;
        refresh::refresh(&core, Some(d("2025-12-31")), refresh::Train::Never, &quiet)
            .await
            .unwrap();
        let now = stage_of(&core).await;
        let found = |pairs: &[(&str, &str)]| {
            let q = ListQuery {
                filter: Some(Filter::from_pairs(pairs.iter().map(|(k, v)| (*k, *v))).unwrap()),
                limit: 100,
                ..ListQuery::default()
            };
            let (core, boss) = (core.clone(), boss.clone());
            async move {
                core.records(&ACCOUNTS)
                    .list(&boss, &q)
                    .await
                    .unwrap()
                    .items
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().parse::<Uuid>().unwrap())
                    .collect::<BTreeSet<Uuid>>()
            }
        };
        // The stage the leavers had then, and have now: exactly the accounts that went so.
        let (was, is) = (then[0].0.clone(), now[0].0.clone());
        assert_ne!(was, is, "{backend:?}: the leaver's stage moved");
        let expected: BTreeSet<Uuid> = (0..12)
            .filter(|i| then[*i].0 == was && now[*i].0 == is)
            .map(|i| ids[i])
            .collect();
        let got = found(&[
            ("insight.lifecycle_stage@2024-10-01", was.as_str()),
            ("insight.lifecycle_stage", is.as_str()),
        ])
        .await;
        assert_eq!(got, expected, "{backend:?}");
        assert!(got.contains(&ids[0]) && !got.contains(&ids[11]));
        // "Fell below 0.5 since": at least 0.5 at the first refresh on or after the date, below
        // now (probabilities as shown, two places).
        let expected: BTreeSet<Uuid> = (0..12)
            .filter(|i| then[*i].1 >= 0.495 && now[*i].1 < 0.5)
            .map(|i| ids[i])
            .collect();
        let got = found(&[
            ("insight.p_alive@2024-09-15[gte]", "0.5"),
            ("insight.p_alive[lt]", "0.5"),
        ])
        .await;
        assert_eq!(got, expected, "{backend:?}");
        // The dashboard's flows since the refresh before the newest: each pair of stages counts
        // exactly the accounts that went so, as the pair's list finds them.
        let since = guanxi_core::insights::summary::previous_as_of(core.db.reader())
            .await
            .unwrap();
        assert_eq!(since, Some(d("2024-10-01")), "{backend:?}");
        let flows =
            guanxi_core::insights::summary::flows(&core, &boss, "lifecycle_stage", d("2024-10-01"))
                .await
                .unwrap();
        assert!(!flows.is_empty(), "{backend:?}");
        let moved = (0..12).filter(|i| then[*i].0 != now[*i].0).count() as i64;
        assert_eq!(flows.iter().map(|f| f.accounts).sum::<i64>(), moved);
        for f in &flows {
            let expected = (0..12)
                .filter(|i| then[*i].0 == f.from && now[*i].0 == f.to)
                .count();
            let listed = found(&[
                ("insight.lifecycle_stage@2024-10-01", f.from.as_str()),
                ("insight.lifecycle_stage", f.to.as_str()),
            ])
            .await;
            assert_eq!(
                (f.accounts as usize, listed.len()),
                (expected, expected),
                "{f:?}"
            );
        }
        assert!(
            guanxi_core::insights::summary::flows(&core, &boss, "churn_risk", d("2024-10-01"))
                .await
                .is_err(),
            "only coded insights flow"
        );
        // A date after the last refresh: nothing was known then.
        assert!(
            found(&[("insight.lifecycle_stage@2026-01-01", is.as_str())])
                .await
                .is_empty()
        );
        // A date between the refreshes reads the later one.
        let got = found(&[("insight.lifecycle_stage@2024-11-01", is.as_str())]).await;
        let expected: BTreeSet<Uuid> = (0..12)
            .filter(|i| now[*i].0 == is)
            .map(|i| ids[i])
            .collect();
        assert_eq!(got, expected);
        // Refused with words: an untracked insight, a day that is none.
        for bad in ["insight.recency_days@2024-10-01", "insight.tier@yesterday"] {
            let q = Filter::from_pairs([(bad, "1")]).map(|f| ListQuery {
                filter: Some(f),
                ..ListQuery::default()
            });
            let r = match q {
                Ok(q) => core.records(&ACCOUNTS).list(&boss, &q).await.map(|_| ()),
                Err(e) => Err(e),
            };
            assert!(
                matches!(r, Err(CoreError::BadRequest { .. })),
                "{bad}: {r:?}"
            );
        }
    }
}
