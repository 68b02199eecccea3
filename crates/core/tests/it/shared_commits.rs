//! Writes that arrive together share a commit on SQLite (`db::group_commit`), each in its own
//! savepoint, and the full-text index is written once per commit. Each write must still stand
//! or fall alone, a caller that gives up must not leave anything behind or hold up the others,
//! and the index must end up exactly what the search entries say.

use std::time::Duration;

use guanxi_core::areas::customers::ACCOUNTS;
use guanxi_core::authz::Actor;
use guanxi_core::db::{self, Backend};
use guanxi_core::records::{Count, Filter, ListQuery};
use guanxi_core::{Core, search};
use sea_orm::sea_query::{Alias, Expr, Query};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Fresh, admin, backends};

const NAME: &str = "并发客户";

async fn named(core: &Core, actor: &Actor, text: &str) -> Vec<String> {
    let page = core
        .records(&ACCOUNTS)
        .list(
            actor,
            &ListQuery {
                filter: Some(
                    Filter::from_json(&json!({"field": "name", "op": "contains", "value": text}))
                        .unwrap(),
                ),
                limit: 500,
                count: Count::Exact,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut names: Vec<String> = page
        .items
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

async fn count(core: &Core, sql: &str) -> i64 {
    db::get_i64(
        &db::raw_query(core.db.reader(), sql, vec![]).await.unwrap()[0],
        "n",
    )
    .unwrap()
}

/// A search entry for a record that does not exist, written straight through a transaction:
/// what a write that fails halfway has already done.
async fn stray_entry(txn: &db::WriteTxn, label: &str) {
    let rec = json!({"kind": "company", "name": format!("{NAME}{label}")});
    search::index(
        txn,
        &ACCOUNTS,
        Uuid::now_v7(),
        Uuid::now_v7(),
        rec.as_object().unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_that_share_a_commit_each_stand_or_fall_alone() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "boss@example.com").await;

        // Some accounts to change and delete while new ones are created.
        let mut existing = Vec::new();
        for i in 0..12 {
            let rec = core
                .records(&ACCOUNTS)
                .create(
                    &actor,
                    &json!({"kind": "company", "name": format!("{NAME}旧{i:02}")}),
                )
                .await
                .unwrap();
            existing.push(Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap());
        }

        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..48usize {
            let (core, actor) = (core.clone(), actor.clone());
            let target = existing[i % existing.len()];
            tasks.spawn(async move {
                let accounts = core.records(&ACCOUNTS);
                match i % 6 {
                    // Kept: a new account.
                    0 => {
                        let name = format!("{NAME}新{i:02}");
                        accounts
                            .create(&actor, &json!({"kind": "company", "name": name}))
                            .await
                            .unwrap();
                        Some(name)
                    }
                    // Refused: a kind that does not exist.
                    1 => {
                        accounts
                            .create(
                                &actor,
                                &json!({"kind": "nonsense", "name": format!("{NAME}错{i:02}")}),
                            )
                            .await
                            .unwrap_err();
                        None
                    }
                    // Written halfway, then rolled back.
                    2 => {
                        let txn = core.db.begin().await.unwrap();
                        stray_entry(&txn, &format!("滚{i:02}")).await;
                        txn.rollback().await.unwrap();
                        None
                    }
                    // Written halfway, then dropped, as a request whose client went away.
                    3 => {
                        let txn = core.db.begin().await.unwrap();
                        stray_entry(&txn, &format!("弃{i:02}")).await;
                        drop(txn);
                        None
                    }
                    // A rename, racing the others: its own version, so it may lose.
                    4 => {
                        let name = format!("{NAME}改{i:02}");
                        match accounts
                            .update(&actor, target, None, &json!({"name": name}))
                            .await
                        {
                            Ok(_) => Some(name),
                            Err(_) => None,
                        }
                    }
                    // Deleted (to the recycle bin, out of the index).
                    _ => {
                        let _ = accounts.delete(&actor, target, None).await;
                        None
                    }
                }
            });
        }
        // A write that holds its turn and is then cancelled by its task ending.
        let stuck = {
            let core = core.clone();
            tokio::spawn(async move {
                let txn = core.db.begin().await.unwrap();
                stray_entry(&txn, "卡住").await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(txn);
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        stuck.abort();
        let _ = stuck.await;
        while let Some(t) = tasks.join_next().await {
            t.unwrap();
        }

        // What the list finds through the pieces is exactly what the table holds.
        let mut live: Vec<String> = Vec::new();
        for row in db::raw_query(
            core.db.reader(),
            "SELECT name FROM accounts WHERE deleted_at IS NULL",
            vec![],
        )
        .await
        .unwrap()
        {
            live.push(db::get_string(&row, "name").unwrap());
        }
        live.sort();
        assert_eq!(named(&core, &actor, NAME).await, live, "{backend:?}");
        for piece in ["新00", "改", "旧0", "错", "滚", "弃", "卡住"] {
            let want: Vec<String> = live.iter().filter(|n| n.contains(piece)).cloned().collect();
            assert_eq!(
                named(&core, &actor, piece).await,
                want,
                "{backend:?} {piece}"
            );
        }
        assert_eq!(
            live.iter().filter(|n| n.contains('新')).count(),
            8,
            "{backend:?}: every kept create is there"
        );
        // Nothing of the refused, rolled-back, dropped or cancelled writes remains.
        assert_eq!(
            count(
                &core,
                "SELECT COUNT(*) AS n FROM search_entries WHERE title LIKE '%错%' OR title LIKE '%滚%' OR title LIKE '%弃%' OR title LIKE '%卡住%'"
            )
            .await,
            0,
            "{backend:?}"
        );
        // One search entry per live account, and one audit row per create.
        assert_eq!(
            count(&core, "SELECT COUNT(*) AS n FROM search_entries").await,
            live.len() as i64,
            "{backend:?}"
        );
        assert_eq!(
            count(
                &core,
                "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'account' AND action = 'create'"
            )
            .await,
            12 + 8,
            "{backend:?}"
        );
        if backend == Backend::Sqlite {
            // Every change reached the full-text index, and nothing is left waiting.
            assert_eq!(
                count(&core, "SELECT COUNT(*) AS n FROM search_fts_pending").await,
                0
            );
            let txn = core.db.begin().await.unwrap();
            db::raw_execute(
                &txn,
                "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)",
                vec![],
            )
            .await
            .expect("the full-text index matches the search entries");
            txn.commit().await.unwrap();
        }
        fresh.cleanup(core).await;
    }
}

/// Before its commit, a write's own changes are not yet in SQLite's full-text index; a
/// `contains` filter read inside the same transaction must still find them.
#[tokio::test]
async fn a_transaction_finds_by_their_pieces_the_names_it_wrote() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let txn = core.db.begin().await.unwrap();
        let id = Uuid::now_v7();
        let rec = json!({"kind": "company", "name": "未提交的客户"});
        search::index(
            &txn,
            &ACCOUNTS,
            id,
            Uuid::now_v7(),
            rec.as_object().unwrap(),
        )
        .await
        .unwrap();
        let tokens = search::grams::of_typed(ACCOUNTS.name, "name", "提交的").unwrap();
        // The entries named as a table of ids, which is what a list's filter reads.
        let mut entries = Query::select();
        entries
            .expr_as(Expr::col(Alias::new("record_id")), Alias::new("id"))
            .from(Alias::new("search_entries"));
        let mut q = Query::select();
        q.column((Alias::new(ACCOUNTS.table), Alias::new("id")))
            .from_subquery(entries, Alias::new(ACCOUNTS.table))
            .and_where(search::holding(backend, &ACCOUNTS, &tokens));
        let found = db::fetch_all(&txn, &q).await.unwrap();
        assert_eq!(found.len(), 1, "{backend:?}");
        assert_eq!(db::get_uuid(&found[0], "id").unwrap(), id);
        txn.rollback().await.unwrap();
        fresh.cleanup(core).await;
    }
}

/// A record's rows go to the database as one batch (`db::Batch`; on SQLite one SQL text whose
/// statements take their parameters in turn). Each statement must get its own values, and a
/// failing statement in the middle must leave nothing of the batch once the write rolls back.
/// An insert of (`n`, `label`) into a probe table of the tests' own, in `backend`'s dialect.
fn probe_row(backend: Backend, table: &str, n: i64, label: &str) -> sea_orm::Statement {
    let (sql, db_backend) = match backend {
        Backend::Sqlite => (
            format!("INSERT INTO {table} (n, label) VALUES (?, ?)"),
            sea_orm::DbBackend::Sqlite,
        ),
        Backend::Postgres => (
            format!("INSERT INTO {table} (n, label) VALUES ($1, $2)"),
            sea_orm::DbBackend::Postgres,
        ),
    };
    sea_orm::Statement::from_sql_and_values(db_backend, sql, vec![n.into(), label.into()])
}

#[tokio::test]
async fn a_batch_binds_each_statement_its_values_and_fails_whole() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let insert = |n: i64, label: &str| probe_row(backend, "batch_probe", n, label);
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(
            &txn,
            "CREATE TABLE batch_probe (n BIGINT PRIMARY KEY, label TEXT NOT NULL)",
            vec![],
        )
        .await
        .unwrap();
        let mut batch = db::Batch::new();
        for (n, label) in [(1, "一"), (2, "two"), (3, "三")] {
            batch.push(insert(n, label));
        }
        batch.run(&txn).await.unwrap();
        txn.commit().await.unwrap();

        let txn = core.db.begin().await.unwrap();
        let mut batch = db::Batch::new();
        for (n, label) in [(4, "four"), (2, "again"), (5, "five")] {
            batch.push(insert(n, label));
        }
        assert!(
            batch.run(&txn).await.is_err(),
            "{backend:?}: a repeated key"
        );
        txn.rollback().await.unwrap();

        let rows = db::raw_query(
            core.db.reader(),
            "SELECT n, label FROM batch_probe ORDER BY n",
            vec![],
        )
        .await
        .unwrap();
        let got: Vec<(i64, String)> = rows
            .iter()
            .map(|r| {
                (
                    db::get_i64(r, "n").unwrap(),
                    db::get_string(r, "label").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![(1, "一".into()), (2, "two".into()), (3, "三".into())],
            "{backend:?}"
        );
        fresh.cleanup(core).await;
    }
}

/// A bulk load's records written ahead (`WriteTxn::send_writes_ahead`, `WriteTxn::write_record`)
/// are held and sent several at a time, and run in the order they were made: a read after them
/// sees them, a failed one is reported by a later statement, and nothing of a transaction taken
/// back stays.
#[tokio::test]
async fn records_written_ahead_run_in_order_and_a_failure_shows_later() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let record = |n: i64, label: &str| {
            vec![db::Part::Rows(vec![db::TableRow::new(
                "ahead_probe",
                vec![("n".into(), n.into()), ("label".into(), label.into())],
            )])]
        };
        let txn = core.db.begin().await.unwrap();
        db::raw_execute(
            &txn,
            "CREATE TABLE ahead_probe (n BIGINT PRIMARY KEY, label TEXT NOT NULL)",
            vec![],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();

        // Many records, each handed over before the ones before have been written, then a read.
        let txn = core.db.begin_alone().await.unwrap();
        txn.send_writes_ahead(true);
        for n in 0..200 {
            txn.write_record(record(n, &format!("第{n}行")))
                .await
                .unwrap();
        }
        let seen: Vec<String> =
            db::raw_query(&txn, "SELECT label FROM ahead_probe ORDER BY n", vec![])
                .await
                .unwrap()
                .iter()
                .map(|r| db::get_string(r, "label").unwrap())
                .collect();
        assert_eq!(
            seen.len(),
            200,
            "{backend:?}: the read waits for every write"
        );
        assert_eq!(seen[199], "第199行", "{backend:?}");
        txn.write_record(record(200, "last")).await.unwrap();
        txn.commit().await.unwrap();
        let committed = count(&core, "SELECT COUNT(*) AS n FROM ahead_probe").await;
        assert_eq!(
            committed, 201,
            "{backend:?}: the commit waits for the last write"
        );

        // A write that fails is reported by what follows it, and the transaction goes back whole.
        let txn = core.db.begin_alone().await.unwrap();
        txn.send_writes_ahead(true);
        txn.write_record(record(500, "kept?")).await.unwrap();
        let sent = txn.write_record(record(7, "a repeated key")).await;
        let next = txn.write_record(record(501, "after")).await;
        let settled = txn.settle_ahead().await;
        assert!(
            sent.is_err() || next.is_err() || settled.is_err(),
            "{backend:?}: the repeated key is reported"
        );
        txn.rollback().await.unwrap();
        assert_eq!(
            count(&core, "SELECT COUNT(*) AS n FROM ahead_probe").await,
            201,
            "{backend:?}: nothing of the failed transaction stays"
        );

        // Held records go before a write of another kind, which sees them.
        let txn = core.db.begin_alone().await.unwrap();
        txn.send_writes_ahead(true);
        txn.write_record(record(600, "held")).await.unwrap();
        db::raw_execute(
            &txn,
            match backend {
                Backend::Sqlite => "UPDATE ahead_probe SET label = 'changed' WHERE n = ?",
                Backend::Postgres => "UPDATE ahead_probe SET label = 'changed' WHERE n = $1",
            },
            vec![600i64.into()],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let changed = count(
            &core,
            "SELECT COUNT(*) AS n FROM ahead_probe WHERE label = 'changed'",
        )
        .await;
        assert_eq!(changed, 1, "{backend:?}: the update found the held row");

        // Without leave, a record is written before the call returns.
        let txn = core.db.begin().await.unwrap();
        assert!(
            txn.write_record(record(9, "repeated")).await.is_err(),
            "{backend:?}: answered at once"
        );
        txn.rollback().await.unwrap();
        fresh.cleanup(core).await;
    }
}
