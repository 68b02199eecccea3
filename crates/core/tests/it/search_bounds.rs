//! The search box's bounds on PostgreSQL: a common term is read as a sample, and a reader whose
//! own matches the sample missed still gets them (`search::TextQuery`).

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::db::{self, Backend};
use guanxi_core::search;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

/// Entries of `n` accounts named `name` owned by `owner`, written as one statement.
async fn many_accounts(core: &guanxi_core::Core, owner: Uuid, name: &str, n: usize) {
    let rec = json!({"kind": "company", "name": name});
    let entry = search::entry(
        &ACCOUNTS,
        Uuid::now_v7(),
        owner,
        None,
        rec.as_object().unwrap(),
        Backend::Postgres,
    );
    let doc = entry.get("doc").cloned().expect("a document");
    let txn = core.db.begin().await.unwrap();
    db::raw_execute(
        &txn,
        "INSERT INTO search_entries (record_id, entity, owner_id, title, doc) \
         SELECT gen_random_uuid(), 'account', $1, $2 || ' ' || g, CAST($3 AS tsvector) \
         FROM generate_series(1, $4) AS g",
        vec![owner.into(), name.into(), doc, (n as i64).into()],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn a_common_term_still_finds_the_readers_own_records() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, _mate, other] = two_teams(&core, &boss).await;
        // 60,000 accounts of another team hold 钟, and the rep has 120,000 of other names (so
        // that the planner looks the term up rather than reading the rep's own): PostgreSQL
        // reads a sample of about 5,000 of those holding 钟, which holds the rep's one with
        // a chance of 1 in 12.
        let others = if backend == Backend::Postgres {
            60_000
        } else {
            300
        };
        if backend == Backend::Postgres {
            many_accounts(&core, other, "钟氏贸易", others).await;
            many_accounts(&core, rep, "李氏商行", 2 * others).await;
            // At this size the planner would read the rep's own entries through the owner
            // index and check the text on each, which is exact; at millions of entries it looks
            // the term up (bench §18), the path under test. Without the index it must.
            db::raw_execute(
                core.db.reader(),
                "DROP INDEX ix_search_entries_owner",
                vec![],
            )
            .await
            .unwrap();
        }
        let txn = core.db.begin().await.unwrap();
        if backend == Backend::Sqlite {
            for i in 0..others {
                let rec = json!({"kind": "company", "name": format!("钟氏贸易 {i}")});
                let id = Uuid::now_v7();
                search::index(&txn, &ACCOUNTS, id, other, rec.as_object().unwrap())
                    .await
                    .unwrap();
            }
        }
        let own = Uuid::now_v7();
        let rec = json!({"kind": "company", "name": "钟表行"});
        search::index(&txn, &ACCOUNTS, own, rep, rec.as_object().unwrap())
            .await
            .unwrap();
        txn.commit().await.unwrap();
        if backend == Backend::Postgres {
            // Entries written since the last vacuum wait in the text index's pending list,
            // which every look-up reads whole; the vacuum moves them into the index proper,
            // which is sampled.
            db::raw_execute(core.db.reader(), "VACUUM ANALYZE search_entries", vec![])
                .await
                .unwrap();
        }
        let rep_actor = actor(&core, "rep@example.com").await;
        // Three times: each sample is drawn anew.
        for _ in 0..3 {
            let hits = search::search(&core.db, &rep_actor, "钟", &[&ACCOUNTS, &CONTACTS], 12)
                .await
                .unwrap();
            let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
            assert_eq!(
                ids,
                [own],
                "{backend:?}: the rep's one account, and none of the others"
            );
        }
        // The admin may read them all: twelve answers, from the sample.
        let hits = search::search(&core.db, &boss, "钟", &[&ACCOUNTS], 12)
            .await
            .unwrap();
        assert_eq!(hits.len(), 12, "{backend:?}");
        // A term rare among accounts though common among contacts costs an accounts-only
        // search only the accounts: here, it finds the rep's account among accounts alone.
        let hits = search::search(&core.db, &rep_actor, "钟表", &[&ACCOUNTS], 12)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "{backend:?}");
        fresh.cleanup(core).await;
    }
}
