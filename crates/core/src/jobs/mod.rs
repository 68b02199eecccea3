//! Jobs: work that runs later or elsewhere (reminders, e-mail, imports, index upkeep), kept in
//! the `jobs` table so that it survives restarts and runs once however many processes share the
//! database (DESIGN.md §5).
//!
//! A job is queued with [`enqueue`] inside the transaction of the event that causes it, so it
//! exists exactly when the event does. A [`runner::Runner`] claims due jobs atomically (an
//! `UPDATE … RETURNING`, with `FOR UPDATE SKIP LOCKED` on PostgreSQL), runs each through the
//! [`JobHandler`] registered for its kind, and records the outcome: done with a result, or
//! failed with its error. A failure that may pass (a mail server that timed out) is tried again
//! after an exponentially growing wait, up to the job's `max_attempts`; one that cannot (a
//! payload that no longer parses) fails at once, so nothing retries in a storm. Failed jobs stay,
//! with their last error, for an administrator to queue again ([`retry`]) or drop ([`drop_failed`]).
//!
//! A claim holds the job until `claimed_until`; a process that stops while running a job leaves
//! it claimed, and once the claim runs out another process queues it again. A job may therefore
//! run twice only when a process stopped (or overran its claim) mid-job: handlers make their
//! effects safe to repeat where that matters.

pub mod runner;
mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::Core;

pub use store::{Counts, JobRow, counts, drop_failed, enqueue, forget_queued, list, retry};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its due time.
    Queued,
    /// Claimed by a runner until its claim runs out.
    Running,
    Done,
    /// Its last attempt failed; kept with the error.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// A job to queue.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// The kind names the handler that runs it (`reminder`, `email`, …).
    pub kind: &'static str,
    pub payload: Value,
    pub due_at: DateTime<Utc>,
    /// How many times it is tried before it fails for good.
    pub max_attempts: i64,
    /// A job queued with a key exists once: queueing the same key again does nothing.
    pub key: Option<String>,
}

impl NewJob {
    /// A job of `kind` due now, tried up to [`DEFAULT_ATTEMPTS`] times.
    pub fn new(kind: &'static str, payload: Value) -> NewJob {
        NewJob {
            kind,
            payload,
            due_at: crate::now(),
            max_attempts: DEFAULT_ATTEMPTS,
            key: None,
        }
    }

    pub fn due(mut self, at: DateTime<Utc>) -> NewJob {
        self.due_at = at;
        self
    }

    pub fn attempts(mut self, n: i64) -> NewJob {
        self.max_attempts = n.max(1);
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> NewJob {
        self.key = Some(key.into());
        self
    }
}

/// How many times a job is tried unless its kind says otherwise.
pub const DEFAULT_ATTEMPTS: i64 = 5;

/// Why a job's attempt failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// It may pass: try again later, while attempts remain.
    #[error("{0}")]
    Retry(String),
    /// It will not pass (the payload no longer parses, the record it was about is gone): fail
    /// now, without retrying.
    #[error("{0}")]
    Fatal(String),
}

/// Runs the jobs of one kind. Registered with [`Handlers::register`].
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    /// Does the job described by `payload`; its result is stored with the job. Effects that
    /// write go through the record engine's unit of work, in transactions short enough not to
    /// hold SQLite's writer for long (a job that writes much writes in batches).
    async fn run(&self, core: &Core, payload: &Value) -> Result<Value, JobError>;

    /// Whether a job done keeps its payload for administrators to read; a kind whose payload
    /// holds what only its recipient should see (a letter) says no, and the payload is cleared
    /// as the job is marked done.
    fn keeps_payload(&self) -> bool {
        true
    }
}

/// The handlers a runner knows, by kind. A runner claims only the kinds it has a handler for,
/// so a process of an older version leaves a newer kind to the processes that know it.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: HashMap<&'static str, Arc<dyn JobHandler>>,
    recurring: Vec<(&'static str, Schedule)>,
}

impl Handlers {
    pub fn register(mut self, kind: &'static str, handler: impl JobHandler + 'static) -> Self {
        self.by_kind.insert(kind, Arc::new(handler));
        self
    }

    /// Registers a kind that runs once in every period of `every` (counted from the Unix epoch,
    /// so a day is a UTC day): each runner's pass queues the current period's job under a key
    /// naming the period, and the key lets only the first of several processes queue it.
    pub fn register_every(
        self,
        kind: &'static str,
        every: Duration,
        handler: impl JobHandler + 'static,
    ) -> Self {
        self.register_on(kind, Schedule::every(every), handler)
    }

    /// Registers a kind that runs on `schedule` (daily at a time of day, hourly at a minute).
    pub fn register_on(
        mut self,
        kind: &'static str,
        schedule: Schedule,
        handler: impl JobHandler + 'static,
    ) -> Self {
        self.recurring.push((kind, schedule));
        self.register(kind, handler)
    }

    /// The recurring kinds and their schedules.
    pub fn recurring(&self) -> &[(&'static str, Schedule)] {
        &self.recurring
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.by_kind.get(kind)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.by_kind.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }
}

/// How long after its `attempt`-th failed attempt (from 1) a job is tried again: 30 s, doubling
/// each time, at most six hours.
pub fn backoff(attempt: i64) -> Duration {
    let doublings = attempt.clamp(1, 20) - 1;
    let secs = 30u64.saturating_mul(1u64 << doublings);
    Duration::from_secs(secs.min(6 * 3600))
}

/// When a recurring kind runs: once in every period of `every`, at `offset` into it, periods
/// counted from the Unix epoch. Daily at 03:00 Beijing time is every 24 hours at 19:00 UTC:
/// `Schedule::daily_at(19, 0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub offset: Duration,
}

impl Schedule {
    /// At the start of every period of `every` (at least a second).
    pub fn every(every: Duration) -> Schedule {
        Schedule {
            every: every.max(Duration::from_secs(1)),
            offset: Duration::ZERO,
        }
    }

    /// Once a day at `hour:minute` UTC.
    pub fn daily_at(hour: u64, minute: u64) -> Schedule {
        Schedule {
            every: Duration::from_secs(86_400),
            offset: Duration::from_secs((hour % 24) * 3600 + (minute % 60) * 60),
        }
    }

    /// Once an hour at `minute`.
    pub fn hourly_at(minute: u64) -> Schedule {
        Schedule {
            every: Duration::from_secs(3600),
            offset: Duration::from_secs((minute % 60) * 60),
        }
    }
}

/// The job of a recurring `kind` on `schedule` for the period that holds `at`: due at the
/// period's start (plus the schedule's offset), keyed by kind and that time.
pub fn occurrence(kind: &'static str, schedule: Schedule, at: DateTime<Utc>) -> NewJob {
    let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let period = millis(schedule.every).max(1);
    let offset = millis(schedule.offset).rem_euclid(period);
    let start = (at.timestamp_millis() - offset).div_euclid(period) * period + offset;
    let due = DateTime::from_timestamp_millis(start).unwrap_or(at);
    NewJob::new(kind, Value::Null)
        .due(due)
        .key(format!("{kind}@{}", due.to_rfc3339()))
}

/// The id of a job: what [`retry`] and [`drop_failed`] take.
pub type JobId = Uuid;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(5), Duration::from_secs(480));
        assert_eq!(backoff(12), Duration::from_secs(6 * 3600));
        assert_eq!(backoff(i64::MAX), Duration::from_secs(6 * 3600));
        assert_eq!(backoff(0), Duration::from_secs(30));
    }

    #[test]
    fn a_recurring_job_is_due_at_its_periods_start_and_keyed_by_it() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T21:47:13.5Z")
            .unwrap()
            .to_utc();
        let hourly = occurrence("tidy", Schedule::every(Duration::from_secs(3600)), at);
        assert_eq!(hourly.due_at.to_rfc3339(), "2026-12-04T21:00:00+00:00");
        assert_eq!(
            hourly.key.as_deref(),
            Some("tidy@2026-12-04T21:00:00+00:00")
        );
        let daily = occurrence("tidy", Schedule::every(Duration::from_secs(86_400)), at);
        assert_eq!(daily.due_at.to_rfc3339(), "2026-12-04T00:00:00+00:00");
        // The same period, a moment later: the same key.
        let later = occurrence(
            "tidy",
            Schedule::every(Duration::from_secs(3600)),
            at + chrono::Duration::minutes(12),
        );
        assert_eq!(later.key, hourly.key);
    }

    #[test]
    fn a_job_due_at_a_time_of_day_runs_from_that_time_each_day() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        // 03:00 in Beijing is 19:00 UTC.
        let nightly = Schedule::daily_at(19, 0);
        let before = occurrence("tidy", nightly, at("2026-12-04T18:59:59Z"));
        assert_eq!(before.due_at, at("2026-12-03T19:00:00Z"));
        let after = occurrence("tidy", nightly, at("2026-12-04T19:00:00Z"));
        assert_eq!(after.due_at, at("2026-12-04T19:00:00Z"));
        assert_ne!(before.key, after.key);
        let quarter_past = Schedule::hourly_at(15);
        assert_eq!(
            occurrence("x", quarter_past, at("2026-12-04T10:14:00Z")).due_at,
            at("2026-12-04T09:15:00Z")
        );
        assert_eq!(
            occurrence("x", quarter_past, at("2026-12-04T10:15:00Z")).due_at,
            at("2026-12-04T10:15:00Z")
        );
    }

    #[test]
    fn states_read_back_from_their_names() {
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
        ] {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("lost"), None);
    }
}
