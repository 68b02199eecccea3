//! SQLite's log is copied into the file beside the one writer (`db::checkpoints`), and starts
//! again from its beginning while writes never stop, so that it does not grow without end.

use guanxi_core::db::Backend;
use sea_orm::ConnectionTrait;

use crate::support::Fresh;

/// The log's header salt, which changes each time the log starts again from its beginning.
fn salt(wal: &str) -> Option<[u8; 8]> {
    let bytes = std::fs::read(wal).ok()?;
    bytes.get(16..24)?.try_into().ok()
}

#[tokio::test]
async fn the_log_starts_again_while_writes_never_stop() {
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core().await;
    let txn = core.db.begin().await.unwrap();
    txn.execute_unprepared("CREATE TABLE scratch (b BLOB NOT NULL)")
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let wal = format!("{}-wal", fresh.url);
    // A megabyte a commit, each right after the last: the checkpoints run beside the writes.
    // The log must start again twice well before 600 MB; without, it holds them all.
    let mut restarts = 0;
    let mut written = 0;
    let mut last = salt(&wal);
    while restarts < 2 && written < 600 {
        let txn = core.db.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO scratch (b) VALUES (randomblob(1048576))")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        written += 1;
        let now = salt(&wal);
        if now != last {
            restarts += 1;
            last = now;
        }
    }
    assert_eq!(restarts, 2, "the log never started again in {written} MB");
    let rows = core
        .db
        .reader()
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT COUNT(*) FROM scratch",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(rows, written, "every commit is in the file");
    fresh.cleanup(core).await;
}
