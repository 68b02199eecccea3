//! A change to an account's ledger scores it again within seconds, on both backends: a sale or
//! a payment written queues the account once however many rows a burst writes, the job scores
//! it against what the newest refresh learnt (the same numbers the refresh gave when nothing
//! changed), and nothing is scored before a first refresh.

use guanxi_core::Core;
use guanxi_core::areas::sales::SALES_RECORDS;
use guanxi_core::insights::{current, refresh, rescore};
use guanxi_core::jobs::Handlers;
use guanxi_core::jobs::runner::Runner;
use serde_json::json;

use crate::insights::ledger;
use crate::support::{Fresh, admin, backends};

fn quiet(_: refresh::Progress) {}

fn rescoring(core: &Core) -> Runner {
    Runner::new(
        core.clone(),
        Handlers::default().register(rescore::CHANGED_JOB, rescore::Rescore),
    )
}

#[tokio::test]
async fn a_new_sale_scores_its_account_again_against_the_last_refresh() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let ids = ledger(&core).await;
        let boss = admin(&core, "boss@example.com").await;

        // Twelve accounts' rows queued twelve jobs; before any refresh they score nothing.
        let pass = rescoring(&core).run_due().await.unwrap();
        assert_eq!((pass.done, pass.failed), (12, 0), "{backend:?}");
        assert!(
            current::of_account(core.db.reader(), ids[0])
                .await
                .unwrap()
                .is_none()
        );

        refresh::refresh(&core, None, refresh::Train::IfStale, &quiet)
            .await
            .unwrap();
        let mut refreshed = Vec::new();
        for id in &ids[..12] {
            let got = current::of_account(core.db.reader(), *id)
                .await
                .unwrap()
                .unwrap();
            refreshed.push(serde_json::to_value(&got.values).unwrap());
        }

        // Scored again with nothing changed, every account keeps exactly what the refresh gave.
        for id in &ids[..12] {
            assert!(matches!(
                rescore::rescore(&core, *id).await.unwrap(),
                rescore::Rescored::Scored(_)
            ));
        }
        for (i, id) in ids[..12].iter().enumerate() {
            let got = current::of_account(core.db.reader(), *id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                serde_json::to_value(&got.values).unwrap(),
                refreshed[i],
                "{backend:?}: account {i}"
            );
            assert!(got.changes.is_empty(), "{got:?}");
        }
        assert_eq!(
            rescore::rescore(&core, ids[12]).await.unwrap(),
            rescore::Rescored::NoPurchases
        );

        // A customer that left a year ago buys big today, in three lines of one order: one job.
        let today = refresh::today(&core, guanxi_core::now());
        for line in 0..3 {
            core.records(&SALES_RECORDS)
                .create(
                    &boss,
                    &json!({"account_id": ids[0], "date": today.to_string(),
                            "order_ref": "SO-BACK", "product_name": format!("P{line}"),
                            "amount": "200000", "cost": "120000"}),
                )
                .await
                .unwrap();
        }
        let before = current::of_account(core.db.reader(), ids[0])
            .await
            .unwrap()
            .unwrap();
        let pass = rescoring(&core).run_due().await.unwrap();
        assert_eq!((pass.done, pass.failed), (1, 0), "{backend:?}");
        let after = current::of_account(core.db.reader(), ids[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.values.recency_days, Some(0), "{after:?}");
        assert_eq!(after.values.value_decile, Some(1), "{after:?}");
        assert!(
            after.values.revenue.unwrap() > before.values.revenue.unwrap() + 599_000.0,
            "{after:?}"
        );
        assert_ne!(
            after.values.lifecycle_stage, before.values.lifecycle_stage,
            "{after:?}"
        );
        assert!(
            after.changes.contains_key("lifecycle_stage"),
            "the change is kept with what it was: {after:?}"
        );
        // Nothing waits any more.
        let pass = rescoring(&core).run_due().await.unwrap();
        assert_eq!(pass.done, 0, "{backend:?}");
        fresh.cleanup(core).await;
    }
}
