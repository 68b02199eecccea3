//! Keeping SQLite's full-text index compact, as a recurring job.
//!
//! FTS5 adds a segment to its index with every commit and merges segments as they pile up, but
//! a bulk load (an import, `bench-data`) leaves many segments behind, and a query reads each
//! one: at 4,000,000 entries the bench index had 19. This job merges them a few hundred pages
//! at a time, each step in a write transaction of its own, so no step holds the single writer
//! for long, and stops when nothing is left to merge or its time is up. PostgreSQL's GIN index
//! is kept by PostgreSQL itself (autovacuum); the job is registered on SQLite only.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Core;
use crate::db::{self, get_i64};
use crate::error::CoreResult;
use crate::jobs::{JobError, JobHandler};

/// The job's kind.
pub const KIND: &str = "search_upkeep";

/// How often it runs.
pub const EVERY: Duration = Duration::from_secs(600);

/// Pages one step may write (about 400 KiB): a few milliseconds of the writer.
const PAGES_PER_STEP: i64 = 100;

/// How long one run may go on merging; what is left waits for the next run.
const RUN_FOR: Duration = Duration::from_secs(5);

/// The job: merges the index's segments.
pub struct SearchUpkeep;

#[async_trait::async_trait]
impl JobHandler for SearchUpkeep {
    async fn run(&self, core: &Core, _payload: &Value) -> Result<Value, JobError> {
        merge(core)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// Merges segments step by step until none is left to merge or [`RUN_FOR`] has passed.
async fn merge(core: &Core) -> CoreResult<Value> {
    let started = Instant::now();
    let (mut steps, mut changes) = (0u64, 0i64);
    loop {
        let txn = core.db.begin().await?;
        let before = total_changes(&txn).await?;
        db::raw_execute(
            &txn,
            "INSERT INTO search_fts(search_fts, rank) VALUES('merge', ?)",
            vec![PAGES_PER_STEP.into()],
        )
        .await?;
        let done = total_changes(&txn).await? - before;
        txn.commit().await?;
        steps += 1;
        changes += done;
        // FTS5 counts fewer than two changes for a merge that found nothing to do.
        if done < 2 || started.elapsed() >= RUN_FOR {
            let finished = done < 2;
            return Ok(json!({"steps": steps, "changes": changes, "finished": finished}));
        }
    }
}

async fn total_changes(conn: &db::WriteTxn) -> CoreResult<i64> {
    let rows = db::raw_query(conn, "SELECT total_changes() AS n", vec![]).await?;
    rows.first().map_or(Ok(0), |r| get_i64(r, "n"))
}
