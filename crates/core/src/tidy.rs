//! The daily tidy-up: what has served its purpose goes, in small batches so that no statement
//! holds SQLite's writer for long. Jobs done two weeks ago (failed ones stay for
//! administrators), notices read three months ago, and password reset links a day past their
//! end. It also refreshes the query planner's statistics on SQLite (`Db::optimize`).

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use serde_json::{Value, json};

use crate::db::{self, col};
use crate::jobs::{JobError, JobHandler, Schedule};
use crate::{Core, CoreResult, now};

/// The kind of the tidy-up job.
pub const KIND: &str = "tidy";

/// It runs once a day at 03:00 Beijing time (19:00 UTC), when few people work.
pub fn schedule() -> Schedule {
    Schedule::daily_at(19, 0)
}

/// Rows one statement removes at most.
const BATCH: u64 = 2_000;

/// Deletes, `BATCH` at a time, the rows of `table` that `cond` selects; returns how many.
async fn delete_in_batches(
    core: &Core,
    table: &str,
    cond: impl Fn() -> sea_orm::sea_query::Condition,
) -> CoreResult<u64> {
    let mut gone = 0;
    loop {
        let mut ids = Query::select();
        ids.column(col("id"))
            .from(col(table))
            .cond_where(cond())
            .limit(BATCH);
        let mut q = Query::delete();
        q.from_table(col(table))
            .and_where(Expr::col(col("id")).in_subquery(ids));
        let txn = core.db.begin().await?;
        let n = db::delete(&txn, &q).await?;
        txn.commit().await?;
        gone += n;
        if n < BATCH {
            return Ok(gone);
        }
    }
}

/// Removes what has served its purpose; returns how many of each.
pub async fn tidy(core: &Core) -> CoreResult<Value> {
    let at = now();
    let jobs_before = at - chrono::Duration::days(14);
    let jobs = delete_in_batches(core, "jobs", || {
        sea_orm::sea_query::Condition::all()
            .add(Expr::col(col("state")).eq(crate::jobs::JobState::Done.as_str()))
            .add(Expr::col(col("finished_at")).lt(jobs_before))
    })
    .await?;
    let notices_before = at - chrono::Duration::days(90);
    let notices = delete_in_batches(core, "notifications", || {
        sea_orm::sea_query::Condition::all().add(Expr::col(col("read_at")).lt(notices_before))
    })
    .await?;
    let resets_before = Utc::now() - chrono::Duration::days(1);
    let resets = delete_in_batches(core, "password_resets", || {
        sea_orm::sea_query::Condition::all().add(Expr::col(col("expires_at")).lt(resets_before))
    })
    .await?;
    let import_files = crate::import::uploads::tidy(core).await?;
    // The planner's statistics follow a database as it grows (see `Db::optimize`).
    core.db.optimize().await?;
    Ok(json!({
        "jobs": jobs,
        "notifications": notices,
        "password_resets": resets,
        "import_files": import_files,
    }))
}

/// Runs the jobs of [`KIND`].
pub struct Tidy;

#[async_trait::async_trait]
impl JobHandler for Tidy {
    async fn run(&self, core: &Core, _payload: &Value) -> Result<Value, JobError> {
        tidy(core).await.map_err(|e| JobError::Retry(e.to_string()))
    }
}
