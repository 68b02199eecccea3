//! Runs due jobs: claims them, runs each through its handler, records the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use uuid::Uuid;

use super::store::{self, Claimed};
use super::{Handlers, JobError, JobState};
use crate::Core;
use crate::error::CoreResult;

/// How long a claim holds a job unless told otherwise. While its handler runs, the runner renews
/// the claim every third of this (a heartbeat), so a long job (an import of a million rows)
/// keeps it; a claim not renewed for this long (its process stopped) is taken for lost, and
/// another runner may run the job again.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// How long one attempt at a job may run, however often its claim is renewed: a handler stuck
/// for this long is stopped and its job tried again later.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(6 * 3600);

/// How often an idle runner looks for due jobs: a job due now starts within this.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(1);

/// How many jobs one claim takes.
const BATCH: u64 = 32;

/// How many of a claim's jobs run at once. Jobs due together may therefore finish out of the
/// order they were queued in.
const AT_ONCE: usize = 8;

/// How often a runner looks for claims that ran out. Each look is a write; an idle server
/// should not take SQLite's writer every second for it.
const RECLAIM_EVERY: Duration = Duration::from_secs(30);

/// A runner of the jobs its handlers know. Any number may run, in any number of processes.
pub struct Runner {
    core: Core,
    handlers: Handlers,
    worker: String,
    lease: Duration,
    time_limit: Duration,
    idle: Duration,
    /// When this runner last looked for claims that ran out.
    reclaimed_at: Mutex<Option<Instant>>,
    /// The period each recurring kind was last queued for by this runner: it queues the next
    /// one when the period changes, not on every pass.
    queued_periods: Mutex<HashMap<&'static str, DateTime<Utc>>>,
}

/// What one pass of [`Runner::run_due`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub done: usize,
    /// Failed attempts queued to be tried again later.
    pub retrying: usize,
    pub failed: usize,
    /// Jobs whose claim ran out, queued again (or failed, out of attempts).
    pub reclaimed: u64,
}

impl Runner {
    pub fn new(core: Core, handlers: Handlers) -> Runner {
        Runner {
            core,
            handlers,
            // Unique per runner, so a claim names who holds it.
            worker: format!("{}-{}", std::process::id(), Uuid::now_v7().simple()),
            lease: DEFAULT_LEASE,
            time_limit: DEFAULT_TIME_LIMIT,
            idle: DEFAULT_IDLE,
            reclaimed_at: Mutex::new(None),
            queued_periods: Mutex::new(HashMap::new()),
        }
    }

    /// How long a claim holds a job without being renewed (see [`DEFAULT_LEASE`]).
    pub fn lease(mut self, lease: Duration) -> Runner {
        self.lease = lease;
        self
    }

    /// How long one attempt at a job may run (see [`DEFAULT_TIME_LIMIT`]).
    pub fn time_limit(mut self, limit: Duration) -> Runner {
        self.time_limit = limit;
        self
    }

    /// How often the runner looks for due jobs when it has none.
    pub fn idle(mut self, idle: Duration) -> Runner {
        self.idle = idle;
        self
    }

    /// Runs every job due now, claim by claim, until none is left; returns what happened.
    pub async fn run_due(&self) -> CoreResult<Pass> {
        let mut pass = Pass::default();
        let reclaim_due = self
            .reclaimed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|at| at.elapsed() >= RECLAIM_EVERY);
        if reclaim_due {
            pass.reclaimed = store::reclaim(&self.core).await?;
            *self
                .reclaimed_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        self.queue_recurring().await?;
        let kinds = self.handlers.kinds();
        loop {
            let claimed = store::claim(&self.core, &self.worker, &kinds, BATCH, self.lease).await?;
            if claimed.is_empty() {
                return Ok(pass);
            }
            // A few at a time: most jobs wait on something else (a mail server's answer, a
            // web hook), and one slow answer should not hold up the rest of the claim.
            let finished: Vec<CoreResult<JobState>> = futures::stream::iter(claimed)
                .map(|job| self.run_one(job))
                .buffer_unordered(AT_ONCE)
                .collect()
                .await;
            for state in finished {
                match state? {
                    JobState::Done => pass.done += 1,
                    JobState::Queued => pass.retrying += 1,
                    _ => pass.failed += 1,
                }
            }
        }
    }

    /// Queues the current period's job of each recurring kind whose period changed since this
    /// runner last queued it (the key makes it exist once across runners).
    async fn queue_recurring(&self) -> CoreResult<()> {
        let at = crate::now();
        let fresh: Vec<_> = {
            let queued = self
                .queued_periods
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.handlers
                .recurring()
                .iter()
                .map(|&(kind, schedule)| (kind, super::occurrence(kind, schedule, at)))
                .filter(|(kind, job)| queued.get(kind) != Some(&job.due_at))
                .collect()
        };
        if fresh.is_empty() {
            return Ok(());
        }
        let txn = self.core.db.begin().await?;
        for (_, job) in &fresh {
            store::enqueue(&txn, job.clone()).await?;
        }
        txn.commit().await?;
        let mut queued = self
            .queued_periods
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (kind, job) in fresh {
            queued.insert(kind, job.due_at);
        }
        Ok(())
    }

    /// Runs jobs as they fall due until `shutdown` completes. A pass that fails (the database
    /// is unreachable) is logged and tried again after the idle wait: the jobs wait in the
    /// table meanwhile.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.run_due().await {
                tracing::warn!(error = %e, "job runner pass failed; trying again");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(self.idle) => {}
            }
        }
    }

    /// Runs `job` once and records how it ended.
    async fn run_one(&self, job: Claimed) -> CoreResult<JobState> {
        let outcome = self.attempt(&job).await;
        let keeps_payload = self
            .handlers
            .get(&job.kind)
            .is_none_or(|h| h.keeps_payload());
        store::finish(&self.core, &job, &self.worker, outcome, keeps_payload).await
    }

    /// One attempt at `job`, in a task of its own so that a handler that panics fails its job
    /// rather than the runner, bounded by the time limit. While it runs, the claim is renewed
    /// every third of the lease; if the claim was lost meanwhile (the runner could not renew it
    /// in time and another took the job), the attempt is stopped, since its outcome would not
    /// count.
    async fn attempt(&self, job: &Claimed) -> Result<serde_json::Value, JobError> {
        let Some(handler) = self.handlers.get(&job.kind).cloned() else {
            // Claims name only known kinds; kept for a kind taken out between claim and run.
            return Err(JobError::Fatal(format!(
                "no handler for jobs of kind {}",
                job.kind
            )));
        };
        let core = self.core.clone();
        let payload = job.payload.clone();
        let mut task = tokio::spawn(async move { handler.run(&core, &payload).await });
        let deadline = tokio::time::sleep(self.time_limit);
        tokio::pin!(deadline);
        let beat = (self.lease / 3).max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                ended = &mut task => return match ended {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        tracing::error!(job = %job.id, kind = job.kind, error = %e, "job handler failed");
                        Err(JobError::Retry("the job stopped unexpectedly".into()))
                    }
                },
                _ = &mut deadline => {
                    task.abort();
                    return Err(JobError::Retry(format!(
                        "the job ran longer than its {} s limit",
                        self.time_limit.as_secs_f64()
                    )));
                }
                _ = heartbeat.tick() => {
                    match store::renew(&self.core, job, &self.worker, self.lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            task.abort();
                            tracing::warn!(job = %job.id, kind = job.kind, "job claim lost; attempt stopped");
                            return Err(JobError::Retry("the job's claim ran out".into()));
                        }
                        // A write that failed (a busy moment) is tried again at the next beat;
                        // the claim still holds for two more.
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "renewing a job's claim failed"),
                    }
                }
            }
        }
    }
}
