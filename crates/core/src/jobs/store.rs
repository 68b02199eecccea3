//! The job table's statements: queue, claim, finish, and what administrators do with failed jobs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{
    Alias, Expr, LockBehavior, LockType, OnConflict, Order, Query, UpdateStatement,
};
use serde_json::Value;
use uuid::Uuid;

use super::{JobError, JobId, JobState, NewJob};
use crate::authz::Actor;
use crate::db::{self, Backend, col, get_i64, get_json, get_opt_ts, get_string, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult, codes};
use crate::{Core, now};

fn jobs() -> crate::db::Name {
    col("jobs")
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Queues `job` in the transaction (or on the connection) `conn`: it exists exactly when what
/// caused it does. `None` when a job with the same key is already there.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, job: NewJob) -> CoreResult<Option<JobId>> {
    let id = Uuid::now_v7();
    let at = now();
    let mut q = Query::insert();
    q.into_table(jobs())
        .columns(
            [
                "id",
                "kind",
                "payload",
                "key",
                "state",
                "due_at",
                "attempts",
                "max_attempts",
                "last_error",
                "claimed_by",
                "created_at",
                "updated_at",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            job.kind.into(),
            job.payload.into(),
            job.key.into(),
            JobState::Queued.as_str().into(),
            job.due_at.into(),
            0i64.into(),
            job.max_attempts.max(1).into(),
            "".into(),
            "".into(),
            at.into(),
            at.into(),
        ])
        .on_conflict(OnConflict::column(col("key")).do_nothing().to_owned());
    let added = db::insert(conn, &q).await?;
    Ok((added > 0).then_some(id))
}

/// Removes the job queued under `key` that has not started, in `conn`, the transaction of what
/// makes it moot (a reminder cancelled takes its e-mail with it). Returns whether there was one.
pub async fn forget_queued<C: ConnectionTrait>(conn: &C, key: &str) -> CoreResult<bool> {
    let mut q = Query::delete();
    q.from_table(jobs())
        .and_where(Expr::col(col("key")).eq(key))
        .and_where(Expr::col(col("state")).eq(JobState::Queued.as_str()));
    Ok(db::delete(conn, &q).await? > 0)
}

/// A job a runner has claimed.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    /// This attempt's number, from 1.
    pub attempt: i64,
    pub max_attempts: i64,
}

/// Queues again the jobs whose claim ran out (the process running them stopped), or fails
/// those that have had all their attempts. Returns how many.
pub(super) async fn reclaim(core: &Core) -> CoreResult<u64> {
    let at = now();
    let mut q = Query::update();
    q.table(jobs())
        .value(
            col("state"),
            Expr::case(
                Expr::col(col("attempts")).gte(Expr::col(col("max_attempts"))),
                JobState::Failed.as_str(),
            )
            .finally(JobState::Queued.as_str()),
        )
        .value(col("last_error"), STOPPED_MID_RUN)
        .value(col("claimed_by"), "")
        .value(col("claimed_until"), Option::<DateTime<Utc>>::None)
        .value(col("updated_at"), at)
        .and_where(Expr::col(col("state")).eq(JobState::Running.as_str()))
        .and_where(Expr::col(col("claimed_until")).lt(at));
    write(core, &q).await
}

/// What a job that was claimed but never finished keeps as its error.
pub const STOPPED_MID_RUN: &str = "the process running this job stopped before it finished";

/// Claims up to `limit` due jobs of `kinds` for `worker` until `lease` from now, soonest due
/// first, counting the attempt. One statement: two processes never claim the same job.
pub(super) async fn claim(
    core: &Core,
    worker: &str,
    kinds: &[&'static str],
    limit: u64,
    lease: Duration,
) -> CoreResult<Vec<Claimed>> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let at = now();
    let mut due = Query::select();
    due.column(col("id"))
        .from(jobs())
        .and_where(Expr::col(col("state")).eq(JobState::Queued.as_str()))
        .and_where(Expr::col(col("due_at")).lte(at))
        .and_where(Expr::col(col("kind")).is_in(kinds.iter().copied()))
        .order_by(col("due_at"), Order::Asc)
        .limit(limit);
    if core.db.backend() == Backend::Postgres {
        // Another instance's claim in flight skips these rows rather than waiting for them.
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut q = Query::update();
    q.table(jobs())
        .value(col("state"), JobState::Running.as_str())
        .value(col("attempts"), Expr::col(col("attempts")).add(1))
        .value(col("claimed_by"), worker)
        .value(col("claimed_until"), at + chrono_of(lease))
        .value(col("updated_at"), at)
        .and_where(Expr::col(col("id")).in_subquery(due))
        // Read again as the row is written: a job another claim took in between is not ours.
        .and_where(Expr::col(col("state")).eq(JobState::Queued.as_str()))
        .returning(
            Query::returning()
                .columns(["id", "kind", "payload", "attempts", "max_attempts"].map(col)),
        );
    let txn = core.db.begin().await?;
    let rows = txn.query_all(db::stmt(&txn, &q)).await?;
    txn.commit().await?;
    let mut claimed = rows
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: get_uuid(r, "id")?,
                kind: get_string(r, "kind")?,
                payload: get_json(r, "payload")?,
                attempt: get_i64(r, "attempts")?,
                max_attempts: get_i64(r, "max_attempts")?,
            })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    // RETURNING gives no order; start them soonest first as claimed (ids are time-ordered, and
    // jobs due together start in the order they were queued).
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Extends `worker`'s claim on `job` to `lease` from now while its handler still runs (the
/// runner's heartbeat). False when the claim is no longer `worker`'s: it ran out and passed on.
pub(super) async fn renew(
    core: &Core,
    job: &Claimed,
    worker: &str,
    lease: Duration,
) -> CoreResult<bool> {
    let at = now();
    let mut q = Query::update();
    q.table(jobs())
        .value(col("claimed_until"), at + chrono_of(lease))
        .value(col("updated_at"), at)
        .and_where(Expr::col(col("id")).eq(job.id))
        .and_where(Expr::col(col("state")).eq(JobState::Running.as_str()))
        .and_where(Expr::col(col("claimed_by")).eq(worker));
    Ok(write(core, &q).await? > 0)
}

/// Records how `job`'s attempt ended, if `worker` still holds it (a claim that ran out may have
/// passed to another runner, whose outcome counts instead). A job done forgets its payload
/// unless `keeps_payload`.
pub(super) async fn finish(
    core: &Core,
    job: &Claimed,
    worker: &str,
    outcome: Result<Value, JobError>,
    keeps_payload: bool,
) -> CoreResult<JobState> {
    let at = now();
    let mut q = Query::update();
    q.table(jobs())
        .value(col("claimed_by"), "")
        .value(col("claimed_until"), Option::<DateTime<Utc>>::None)
        .value(col("updated_at"), at)
        .and_where(Expr::col(col("id")).eq(job.id))
        .and_where(Expr::col(col("state")).eq(JobState::Running.as_str()))
        .and_where(Expr::col(col("claimed_by")).eq(worker));
    let state = match outcome {
        Ok(result) => {
            q.value(col("state"), JobState::Done.as_str())
                .value(col("result"), result)
                .value(col("last_error"), "")
                .value(col("finished_at"), at);
            if !keeps_payload {
                q.value(col("payload"), Value::Null);
            }
            JobState::Done
        }
        Err(JobError::Retry(why)) if job.attempt < job.max_attempts => {
            q.value(col("state"), JobState::Queued.as_str())
                .value(col("last_error"), why)
                .value(col("due_at"), at + chrono_of(super::backoff(job.attempt)));
            JobState::Queued
        }
        Err(JobError::Retry(why) | JobError::Fatal(why)) => {
            q.value(col("state"), JobState::Failed.as_str())
                .value(col("last_error"), why)
                .value(col("finished_at"), at);
            JobState::Failed
        }
    };
    write(core, &q).await?;
    Ok(state)
}

async fn write(core: &Core, q: &UpdateStatement) -> CoreResult<u64> {
    let txn = core.db.begin().await?;
    let n = db::update(&txn, q).await?;
    txn.commit().await?;
    Ok(n)
}

/// A job as administrators see it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub state: String,
    pub due_at: DateTime<Utc>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Administrators, or the operator at the console (`None`), may see and handle jobs.
fn admin(actor: Option<&Actor>) -> CoreResult<()> {
    match actor {
        Some(a) if !a.is_admin() => Err(CoreError::forbidden(codes::ADMIN_ONLY)),
        _ => Ok(()),
    }
}

/// Up to `limit` jobs in `state` (all states when `None`), the most recently changed first.
/// Administrators only.
pub async fn list(
    core: &Core,
    actor: Option<&Actor>,
    state: Option<JobState>,
    limit: u64,
) -> CoreResult<Vec<JobRow>> {
    admin(actor)?;
    let mut q = Query::select();
    q.columns(
        [
            "id",
            "kind",
            "state",
            "due_at",
            "attempts",
            "max_attempts",
            "last_error",
            "created_at",
            "finished_at",
        ]
        .map(col),
    )
    .from(jobs())
    .order_by(col("updated_at"), Order::Desc)
    .order_by(col("id"), Order::Desc)
    .limit(limit.clamp(1, 500));
    if let Some(state) = state {
        q.and_where(Expr::col(col("state")).eq(state.as_str()));
    }
    db::fetch_all(core.db.reader(), &q)
        .await?
        .iter()
        .map(|r| {
            Ok(JobRow {
                id: get_uuid(r, "id")?,
                kind: get_string(r, "kind")?,
                state: get_string(r, "state")?,
                due_at: get_ts(r, "due_at")?,
                attempts: get_i64(r, "attempts")?,
                max_attempts: get_i64(r, "max_attempts")?,
                last_error: get_string(r, "last_error")?,
                created_at: get_ts(r, "created_at")?,
                finished_at: get_opt_ts(r, "finished_at")?,
            })
        })
        .collect()
}

/// How many jobs are queued, running and failed. Administrators only.
pub async fn counts(core: &Core, actor: Option<&Actor>) -> CoreResult<Counts> {
    admin(actor)?;
    let mut q = Query::select();
    q.column(col("state"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(jobs())
        .and_where(Expr::col(col("state")).is_in([
            JobState::Queued.as_str(),
            JobState::Running.as_str(),
            JobState::Failed.as_str(),
        ]))
        .group_by_col(col("state"));
    let mut counts = Counts::default();
    for r in db::fetch_all(core.db.reader(), &q).await? {
        let n = get_i64(&r, "n")?.max(0) as u64;
        match JobState::parse(&get_string(&r, "state")?) {
            Some(JobState::Queued) => counts.queued = n,
            Some(JobState::Running) => counts.running = n,
            Some(JobState::Failed) => counts.failed = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Jobs by state, for administrators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub queued: u64,
    pub running: u64,
    pub failed: u64,
}

/// Queues a failed job again, due now, with all its attempts. Administrators only; a job that
/// is not failed (or does not exist) is not found.
pub async fn retry(core: &Core, actor: Option<&Actor>, id: JobId) -> CoreResult<()> {
    admin(actor)?;
    let at = now();
    let mut q = Query::update();
    q.table(jobs())
        .value(col("state"), JobState::Queued.as_str())
        .value(col("attempts"), 0i64)
        .value(col("due_at"), at)
        .value(col("finished_at"), Option::<DateTime<Utc>>::None)
        .value(col("updated_at"), at)
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("state")).eq(JobState::Failed.as_str()));
    match write(core, &q).await? {
        0 => Err(CoreError::NotFound),
        _ => Ok(()),
    }
}

/// Deletes a failed job. Administrators only; a job that is not failed is not found.
pub async fn drop_failed(core: &Core, actor: Option<&Actor>, id: JobId) -> CoreResult<()> {
    admin(actor)?;
    let mut q = Query::delete();
    q.from_table(jobs())
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("state")).eq(JobState::Failed.as_str()));
    let txn = core.db.begin().await?;
    let n = db::delete(&txn, &q).await?;
    txn.commit().await?;
    match n {
        0 => Err(CoreError::NotFound),
        _ => Ok(()),
    }
}
