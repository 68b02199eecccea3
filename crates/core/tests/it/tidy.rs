//! The daily tidy-up on both backends: what has served its purpose goes, the rest stays.

use guanxi_core::db;
use guanxi_core::jobs::{self, NewJob};
use guanxi_core::notifications::{self, Notice};
use guanxi_core::{Core, tidy};
use serde_json::json;

use crate::support::{Fresh, admin, backends};

async fn ids(core: &Core, table: &str) -> Vec<uuid::Uuid> {
    db::raw_query(
        core.db.reader(),
        &format!("SELECT id FROM {table} ORDER BY id"),
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| db::get_uuid(r, "id").unwrap())
    .collect()
}

async fn count(core: &Core, sql: &str) -> i64 {
    let rows = db::raw_query(core.db.reader(), sql, vec![]).await.unwrap();
    db::get_i64(&rows[0], "n").unwrap()
}

#[tokio::test]
async fn the_tidy_up_removes_old_done_jobs_read_notices_and_spent_reset_links_only() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let txn = core.db.begin().await.unwrap();
        for n in 0..5 {
            jobs::enqueue(&txn, NewJob::new("x", json!({"n": n})))
                .await
                .unwrap();
            notifications::notify(
                &core,
                &txn,
                Notice {
                    user_id: boss.user_id,
                    kind: "reminder",
                    params: json!({"title": n}),
                    about: None,
                    visible_at: guanxi_core::now(),
                },
            )
            .await
            .unwrap();
        }
        txn.commit().await.unwrap();
        let old = match core.db.backend() {
            db::Backend::Sqlite => "'2020-01-01T00:00:00.000000+00:00'",
            db::Backend::Postgres => "TIMESTAMPTZ '2020-01-01 00:00:00+00'",
        };
        let future = match core.db.backend() {
            db::Backend::Sqlite => "'2999-01-01T00:00:00.000000+00:00'",
            db::Backend::Postgres => "TIMESTAMPTZ '2999-01-01 00:00:00+00'",
        };
        // Jobs: two done long ago, one done lately, one failed long ago, one still queued.
        let jobs = ids(&core, "jobs").await;
        let notices = ids(&core, "notifications").await;
        for (table, id, set) in [
            (
                "jobs",
                jobs[0],
                format!("state = 'done', finished_at = {old}"),
            ),
            (
                "jobs",
                jobs[1],
                format!("state = 'done', finished_at = {old}"),
            ),
            (
                "jobs",
                jobs[2],
                "state = 'done', finished_at = created_at".to_string(),
            ),
            (
                "jobs",
                jobs[3],
                format!("state = 'failed', finished_at = {old}"),
            ),
            // Notices: two read long ago, one read lately, two unread.
            ("notifications", notices[0], format!("read_at = {old}")),
            ("notifications", notices[1], format!("read_at = {old}")),
            (
                "notifications",
                notices[2],
                "read_at = created_at".to_string(),
            ),
        ] {
            let ph = match core.db.backend() {
                db::Backend::Sqlite => "?",
                db::Backend::Postgres => "$1",
            };
            let txn = core.db.begin().await.unwrap();
            db::raw_execute(
                &txn,
                &format!("UPDATE {table} SET {set} WHERE id = {ph}"),
                vec![id.into()],
            )
            .await
            .unwrap();
            txn.commit().await.unwrap();
        }

        // Reset links: one that ran out long ago, one still working.
        for (expires, secret) in [(old.to_string(), "a"), (future.to_string(), "b")] {
            let ph = match core.db.backend() {
                db::Backend::Sqlite => "?, ?, ?",
                db::Backend::Postgres => "$1, $2, $3",
            };
            let txn = core.db.begin().await.unwrap();
            db::raw_execute(
                &txn,
                &format!(
                    "INSERT INTO password_resets (id, user_id, secret_hash, created_at, expires_at) \
                     VALUES ({ph}, {old}, {expires})"
                ),
                vec![uuid::Uuid::now_v7().into(), boss.user_id.into(), secret.into()],
            )
            .await
            .unwrap();
            txn.commit().await.unwrap();
        }

        let gone = tidy::tidy(&core).await.unwrap();
        assert_eq!(
            gone,
            json!({"jobs": 2, "notifications": 2, "password_resets": 1, "import_files": 0})
        );
        assert_eq!(count(&core, "SELECT COUNT(*) AS n FROM jobs").await, 3);
        assert_eq!(
            count(
                &core,
                "SELECT COUNT(*) AS n FROM jobs WHERE state = 'failed'"
            )
            .await,
            1,
            "failed jobs stay for administrators"
        );
        assert_eq!(
            count(&core, "SELECT COUNT(*) AS n FROM notifications").await,
            3
        );
        // Again: nothing more.
        let again = tidy::tidy(&core).await.unwrap();
        assert_eq!(
            again,
            json!({"jobs": 0, "notifications": 0, "password_resets": 0, "import_files": 0})
        );
        fresh.cleanup(core).await;
    }
}

/// The planner's statistics read every entry of an index, not a sample: a sampled analysis of
/// a deal stage took it for a thousand deals when it held 85,000, and pages read through the
/// wrong index. 20,000 rows in four groups of 5,000 must read as exactly that.
#[tokio::test]
async fn optimize_gives_the_planner_exact_statistics_on_sqlite() {
    let fresh = Fresh::new(db::Backend::Sqlite).await;
    let core = fresh.core().await;
    let txn = core.db.begin().await.unwrap();
    db::raw_execute(
        &txn,
        "CREATE TABLE planner_probe (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL)",
        vec![],
    )
    .await
    .unwrap();
    db::raw_execute(
        &txn,
        "CREATE INDEX ix_planner_probe_grp ON planner_probe (grp)",
        vec![],
    )
    .await
    .unwrap();
    db::raw_execute(
        &txn,
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) \
         INSERT INTO planner_probe (id, grp) SELECT i, i / 5000 FROM n",
        vec![],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    core.db.optimize().await.unwrap();
    let rows = db::raw_query(
        core.db.reader(),
        "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_planner_probe_grp'",
        vec![],
    )
    .await
    .unwrap();
    let stat: Vec<String> = rows
        .iter()
        .map(|r| db::get_string(r, "stat").unwrap())
        .collect();
    assert_eq!(stat, vec!["20000 5000".to_string()]);
}
