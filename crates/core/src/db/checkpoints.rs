//! SQLite's checkpoints, on a connection of their own.
//!
//! A checkpoint copies the pages the write-ahead log holds into the database file, so that the
//! log can start again from its beginning. By default SQLite runs one inside the commit that
//! brings the log past a thousand pages, on the committing connection: the one writer, which
//! every other write waits for meanwhile. In a bulk load that was a fifth of the writer's work,
//! with most of its waits on the disk (the checkpoint reads the log, writes the file and syncs
//! both).
//!
//! So the writer does not checkpoint (`wal_autocheckpoint = 0`), and this task does, on a
//! connection of its own, passively (it never waits for readers or holds up the writer): after
//! a commit, at most once a [`PAUSE`]. The writer starts the log again from its beginning only
//! when a transaction of its begins on a log all copied; beside a writer that never stops, the
//! next transaction has begun before the checkpoint is done, and with nothing more a
//! 100,000-row import left a 3 GB log. So once the log is longer than
//! [`LONG_LOG`], the task copies once more, then takes a turn of the writer's (`group_commit`)
//! and copies the rest while nothing writes, which is short (the passes before copied most of
//! it); the writer's next transaction then finds the log all copied and starts it again.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use tokio::sync::mpsc;

use super::group_commit::Quiet;

/// Least time between two checkpoints: a busy writer's commits share one, an idle database
/// gets one soon after its last write.
const PAUSE: Duration = Duration::from_millis(250);

/// Pages in the log (of 4 KiB, 32 MiB) past which a checkpoint that did not reach its end holds
/// the writer still for a moment to finish.
const LONG_LOG: i64 = 8_192;

/// Starts the task on `conn` (a connection that may write, used for nothing else): a checkpoint
/// after what `commits` says was committed. It ends when the writer's side of `commits` is
/// dropped (with the database) or the connection is closed.
pub(super) fn start(conn: DatabaseConnection, commits: mpsc::Receiver<()>, quiet: Quiet) {
    tokio::spawn(run(conn, commits, quiet));
}

async fn run(conn: DatabaseConnection, mut commits: mpsc::Receiver<()>, quiet: Quiet) {
    // The log's length past which the next checkpoint holds the writer. Raised after each hold,
    // so that a log held open by a long read (an export's snapshot), which no hold can start
    // again, does not hold the writer after every commit; lowered again once the log restarts.
    let mut hold_past = LONG_LOG;
    while commits.recv().await.is_some() {
        tokio::time::sleep(PAUSE).await;
        // Those that came during the pause are in this checkpoint too.
        while commits.try_recv().is_ok() {}
        let outcome = match pass(&conn).await {
            Ok(log) if log > hold_past => {
                // Once more before taking the turn: what the turn copies is what was written
                // since the last pass, and the pass above took long enough (a long log's worth)
                // for the writer to add a lot. Measured beside an import and 16 clients, this
                // halved the turns (p50 66 → 28 ms) and the clients' p99 fell from 99–107 to
                // 88 ms (`bench/README.md` §35).
                match pass(&conn).await {
                    Ok(_) => match quiet.hold().await {
                        Some(turn) => {
                            let finished = pass(&conn).await;
                            drop(turn);
                            hold_past = log + LONG_LOG;
                            finished.map(|_| ())
                        }
                        None => return,
                    },
                    Err(e) => Err(e),
                }
            }
            Ok(log) => {
                if log <= LONG_LOG {
                    hold_past = LONG_LOG;
                }
                Ok(())
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {}
            // Closed with the database: nothing is left to copy here.
            Err(DbErr::ConnectionAcquire(_)) => return,
            // Another checkpoint running (a backup's, a bulk load's) is the usual cause; the
            // next commit tries again.
            Err(e) => tracing::debug!(error = %e, "checkpoint put off"),
        }
    }
}

/// Runs a passive checkpoint: the pages in the log (all of them copied, unless a reader still
/// needs some or the writer added more meanwhile).
async fn pass(conn: &DatabaseConnection) -> Result<i64, DbErr> {
    // Read to its end (not `query_one`): a statement left unfinished keeps its connection in
    // the log, and a log someone is in cannot start again from its beginning.
    let rows = conn
        .query_all(Statement::from_string(
            conn.get_database_backend(),
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?;
    match rows.first() {
        Some(row) => row.try_get_by_index(1),
        None => Ok(0),
    }
}
