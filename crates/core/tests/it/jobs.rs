//! Jobs on both backends: queued with the event that causes them, claimed once across
//! processes, retried with back-off, failed for administrators to retry or drop, and taken
//! again when the process running them stopped.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guanxi_core::db::{self, Backend};
use guanxi_core::jobs::runner::{Pass, Runner};
use guanxi_core::jobs::{self, Handlers, JobError, JobHandler, JobState, NewJob};
use guanxi_core::{Core, CoreError};
use serde_json::{Value, json};

use crate::support::{Fresh, actor, admin, backends, sales_rep};

/// Counts the runs of each payload's `n`, and answers as told.
#[derive(Clone, Default)]
struct Counting {
    runs: Arc<Mutex<BTreeMap<i64, u32>>>,
}

#[async_trait::async_trait]
impl JobHandler for Counting {
    async fn run(&self, _core: &Core, payload: &Value) -> Result<Value, JobError> {
        let Some(n) = payload["n"].as_i64() else {
            return Err(JobError::Fatal("the payload has no number".into()));
        };
        *self.runs.lock().unwrap().entry(n).or_default() += 1;
        match payload["answer"].as_str() {
            Some("retry") => Err(JobError::Retry(format!("not yet ({n})"))),
            Some("fatal") => Err(JobError::Fatal(format!("never ({n})"))),
            Some("panic") => panic!("a handler that panics"),
            Some("sleep") => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(json!({"slept": n}))
            }
            _ => Ok(json!({"doubled": n * 2})),
        }
    }
}

fn handlers(counting: &Counting) -> Handlers {
    Handlers::default().register("count", counting.clone())
}

async fn states(core: &Core) -> BTreeMap<String, i64> {
    db::raw_query(
        core.db.reader(),
        "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state",
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            db::get_string(r, "state").unwrap(),
            db::get_i64(r, "n").unwrap(),
        )
    })
    .collect()
}

/// Queues `new` in one transaction.
async fn queue(core: &Core, new: impl IntoIterator<Item = NewJob>) {
    let txn = core.db.begin().await.unwrap();
    for job in new {
        jobs::enqueue(&txn, job).await.unwrap();
    }
    txn.commit().await.unwrap();
}

/// Moves every queued job's due time to now, as if its wait had passed.
async fn make_due(core: &Core) {
    let sql = match core.db.backend() {
        Backend::Sqlite => "UPDATE jobs SET due_at = ? WHERE state = 'queued'",
        Backend::Postgres => "UPDATE jobs SET due_at = $1 WHERE state = 'queued'",
    };
    let txn = core.db.begin().await.unwrap();
    db::raw_execute(&txn, sql, vec![guanxi_core::now().into()])
        .await
        .unwrap();
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn a_job_exists_exactly_when_its_transaction_does() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let txn = core.db.begin().await.unwrap();
        jobs::enqueue(&txn, NewJob::new("count", json!({"n": 1})))
            .await
            .unwrap();
        txn.rollback().await.unwrap();
        assert!(states(&core).await.is_empty(), "{backend:?}");

        // A keyed job is queued once, however often it is asked for.
        let txn = core.db.begin().await.unwrap();
        let first = jobs::enqueue(&txn, NewJob::new("count", json!({"n": 2})).key("daily@1"))
            .await
            .unwrap();
        let again = jobs::enqueue(&txn, NewJob::new("count", json!({"n": 3})).key("daily@1"))
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert!(first.is_some() && again.is_none(), "{backend:?}");
        assert_eq!(states(&core).await, BTreeMap::from([("queued".into(), 1)]));

        // A job due later waits; one of a kind no runner knows is left alone.
        let later = guanxi_core::now() + chrono::Duration::hours(1);
        queue(
            &core,
            [
                NewJob::new("count", json!({"n": 4})).due(later),
                NewJob::new("unknown", json!({})),
            ],
        )
        .await;
        let counting = Counting::default();
        let pass = Runner::new(core.clone(), handlers(&counting))
            .run_due()
            .await
            .unwrap();
        assert_eq!(pass.done, 1, "{backend:?}");
        assert_eq!(*counting.runs.lock().unwrap(), BTreeMap::from([(2, 1)]));
        assert_eq!(
            states(&core).await,
            BTreeMap::from([("done".into(), 1), ("queued".into(), 2)]),
            "{backend:?}"
        );
        fresh.cleanup(core).await;
    }
}

/// Two processes (two connections to one database, each with its own writer) run a burst of
/// 1,000 due jobs at once: each runs exactly once.
#[tokio::test]
async fn a_burst_of_jobs_runs_once_each_across_two_processes() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        queue(
            &core,
            (0..1_000).map(|n| NewJob::new("count", json!({"n": n}))),
        )
        .await;

        let other = fresh.core().await;
        let counting = Counting::default();
        let one = Runner::new(core.clone(), handlers(&counting));
        let two = Runner::new(other.clone(), handlers(&counting));
        let (a, b) = tokio::join!(one.run_due(), two.run_due());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.done + b.done, 1_000, "{backend:?}: {a:?} {b:?}");
        let runs = counting.runs.lock().unwrap().clone();
        assert_eq!(runs.len(), 1_000, "{backend:?}");
        assert!(
            runs.values().all(|&r| r == 1),
            "{backend:?}: a job ran twice"
        );
        assert_eq!(
            states(&core).await,
            BTreeMap::from([("done".into(), 1_000)])
        );
        other.db.close().await.unwrap();
        fresh.cleanup(core).await;
    }
}

/// A job due while no process ran is run by the next one to start.
#[tokio::test]
async fn a_job_due_while_nothing_ran_runs_after_a_restart() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let past = guanxi_core::now() - chrono::Duration::minutes(10);
        queue(&core, [NewJob::new("count", json!({"n": 7})).due(past)]).await;
        core.db.close().await.unwrap();

        let core = fresh.core().await;
        let counting = Counting::default();
        let pass = Runner::new(core.clone(), handlers(&counting))
            .run_due()
            .await
            .unwrap();
        assert_eq!(pass.done, 1, "{backend:?}");
        let result = db::raw_query(core.db.reader(), "SELECT result FROM jobs", vec![])
            .await
            .unwrap();
        assert_eq!(
            db::get_json(&result[0], "result").unwrap(),
            json!({"doubled": 14})
        );
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn failures_wait_longer_each_time_then_fail_for_administrators_to_retry_or_drop() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let team = guanxi_core::identity::teams::create(&core.db, Some(&boss), "North")
            .await
            .unwrap()
            .id;
        sales_rep(&core, &boss, "rep@example.com", team).await;
        let rep = actor(&core, "rep@example.com").await;

        queue(
            &core,
            [
                NewJob::new("count", json!({"n": 1, "answer": "retry"})).attempts(2),
                NewJob::new("count", json!({"n": 2, "answer": "fatal"})),
                NewJob::new("count", json!({"no": "number"})),
                NewJob::new("count", json!({"n": 3, "answer": "panic"})).attempts(1),
            ],
        )
        .await;

        let counting = Counting::default();
        let runner = Runner::new(core.clone(), handlers(&counting));
        // The flaky job waits 30 s; the fatal ones and the panicking one fail at once, and the
        // runner goes on.
        let pass = runner.run_due().await.unwrap();
        assert_eq!((pass.retrying, pass.failed), (1, 3), "{backend:?} {pass:?}");
        assert_eq!(
            runner.run_due().await.unwrap(),
            Pass::default(),
            "{backend:?}"
        );
        let queued = jobs::list(&core, Some(&boss), Some(JobState::Queued), 50)
            .await
            .unwrap();
        assert_eq!(queued.len(), 1);
        let wait = queued[0].due_at - guanxi_core::now();
        assert!(
            wait > chrono::Duration::seconds(25) && wait <= chrono::Duration::seconds(30),
            "{backend:?}: {wait:?}"
        );
        assert_eq!(queued[0].last_error, "not yet (1)");

        // Its second and last attempt fails too: it is failed, with its error.
        make_due(&core).await;
        let pass = runner.run_due().await.unwrap();
        assert_eq!((pass.retrying, pass.failed), (0, 1), "{backend:?} {pass:?}");
        let failed = jobs::list(&core, Some(&boss), Some(JobState::Failed), 50)
            .await
            .unwrap();
        let mut errors: Vec<_> = failed.iter().map(|j| j.last_error.as_str()).collect();
        errors.sort_unstable();
        assert_eq!(
            errors,
            [
                "never (2)",
                "not yet (1)",
                "the job stopped unexpectedly",
                "the payload has no number"
            ],
            "{backend:?}"
        );

        // Administrators only.
        for refused in [
            jobs::list(&core, Some(&rep), None, 50).await.err(),
            jobs::retry(&core, Some(&rep), failed[0].id).await.err(),
            jobs::drop_failed(&core, Some(&rep), failed[0].id)
                .await
                .err(),
        ] {
            assert!(
                matches!(refused, Some(CoreError::Forbidden { .. })),
                "{refused:?}"
            );
        }

        // Queued again with all its attempts, the flaky job runs twice more and fails again.
        let flaky = failed
            .iter()
            .find(|j| j.last_error == "not yet (1)")
            .unwrap();
        jobs::retry(&core, Some(&boss), flaky.id).await.unwrap();
        assert!(matches!(
            jobs::retry(&core, Some(&boss), flaky.id).await,
            Err(CoreError::NotFound)
        ));
        assert_eq!(runner.run_due().await.unwrap().retrying, 1);
        make_due(&core).await;
        assert_eq!(runner.run_due().await.unwrap().failed, 1);
        assert_eq!(counting.runs.lock().unwrap()[&1], 4);

        // Dropped, it is gone; a job that is not failed cannot be dropped.
        jobs::drop_failed(&core, Some(&boss), flaky.id)
            .await
            .unwrap();
        assert!(matches!(
            jobs::drop_failed(&core, Some(&boss), flaky.id).await,
            Err(CoreError::NotFound)
        ));
        assert_eq!(
            jobs::list(&core, Some(&boss), Some(JobState::Failed), 50)
                .await
                .unwrap()
                .len(),
            3
        );
        fresh.cleanup(core).await;
    }
}

/// A job claimed by a process that stopped is queued again once the claim runs out, and a job
/// that runs longer than its time limit is stopped and tried again.
#[tokio::test]
async fn a_claim_that_runs_out_passes_to_another_runner() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        queue(
            &core,
            [
                NewJob::new("count", json!({"n": 1})),
                NewJob::new("count", json!({"n": 2, "answer": "sleep"})),
            ],
        )
        .await;

        // A process claimed the first job and stopped: its claim ran out a minute ago.
        let (sql, claimed) = match backend {
            Backend::Sqlite => (
                "UPDATE jobs SET state = 'running', attempts = 1, claimed_by = 'gone', \
                 claimed_until = ? WHERE payload LIKE '%\"n\":1%'",
                guanxi_core::now() - chrono::Duration::minutes(1),
            ),
            Backend::Postgres => (
                "UPDATE jobs SET state = 'running', attempts = 1, claimed_by = 'gone', \
                 claimed_until = $1 WHERE payload->>'n' = '1'",
                guanxi_core::now() - chrono::Duration::minutes(1),
            ),
        };
        let txn = core.db.begin().await.unwrap();
        assert_eq!(
            db::raw_execute(&txn, sql, vec![claimed.into()])
                .await
                .unwrap(),
            1
        );
        txn.commit().await.unwrap();

        let counting = Counting::default();
        let runner =
            Runner::new(core.clone(), handlers(&counting)).time_limit(Duration::from_millis(300));
        let pass = runner.run_due().await.unwrap();
        assert_eq!(pass.reclaimed, 1, "{backend:?} {pass:?}");
        assert_eq!((pass.done, pass.retrying), (1, 1), "{backend:?} {pass:?}");
        // As the operator at the console.
        let queued = jobs::list(&core, None, Some(JobState::Queued), 5)
            .await
            .unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(
            queued[0].last_error,
            "the job ran longer than its 0.3 s limit"
        );
        assert_eq!(
            counting.runs.lock().unwrap().clone(),
            BTreeMap::from([(1, 1), (2, 1)])
        );
        fresh.cleanup(core).await;
    }
}

/// A job that runs much longer than its lease keeps its claim (the runner renews it while the
/// handler runs): another runner, looking for lost claims and due jobs meanwhile, never runs it
/// a second time.
#[tokio::test]
async fn a_job_longer_than_its_lease_runs_once() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        queue(
            &core,
            [NewJob::new("count", json!({"n": 7, "answer": "sleep"}))],
        )
        .await;
        let counting = Counting::default();
        let lease = Duration::from_millis(600);
        let first = Runner::new(core.clone(), handlers(&counting)).lease(lease);
        let running = tokio::spawn(async move { first.run_due().await.unwrap() });
        // The other runner looks every 300 ms while the first one's 5 s job runs: each of its
        // passes would take a lost claim back (its first pass looks for them) and claim it.
        let mut other_passes = Vec::new();
        for _ in 0..12 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let other = Runner::new(core.clone(), handlers(&counting)).lease(lease);
            other_passes.push(other.run_due().await.unwrap());
        }
        let pass = running.await.unwrap();
        assert_eq!(pass.done, 1, "{backend:?} {pass:?}");
        assert!(
            other_passes.iter().all(|p| *p == Pass::default()),
            "{backend:?} {other_passes:?}"
        );
        assert_eq!(
            counting.runs.lock().unwrap().clone(),
            BTreeMap::from([(7, 1)])
        );
        assert_eq!(states(&core).await.get("done"), Some(&1));
        fresh.cleanup(core).await;
    }
}

/// Counts the runs of a recurring job.
#[derive(Clone, Default)]
struct Tidy {
    runs: Arc<Mutex<u32>>,
}

#[async_trait::async_trait]
impl JobHandler for Tidy {
    async fn run(&self, _core: &Core, _payload: &Value) -> Result<Value, JobError> {
        *self.runs.lock().unwrap() += 1;
        Ok(Value::Null)
    }
}

/// A recurring job runs once in each period, however many processes run jobs.
#[tokio::test]
async fn a_recurring_job_runs_once_a_period_across_processes() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let other = fresh.core().await;
        let tidy = Tidy::default();
        let every = Duration::from_secs(2);
        let runners = [&core, &other].map(|c| {
            Runner::new(
                c.clone(),
                Handlers::default().register_every("tidy", every, tidy.clone()),
            )
        });
        // Start just after a period begins, so that the passes below fall in one period.
        let into = guanxi_core::now().timestamp_millis().rem_euclid(2_000) as u64;
        tokio::time::sleep(Duration::from_millis(2_000 - into + 50)).await;
        for _ in 0..3 {
            let (a, b) = tokio::join!(runners[0].run_due(), runners[1].run_due());
            a.unwrap();
            b.unwrap();
        }
        assert_eq!(*tidy.runs.lock().unwrap(), 1, "{backend:?}");

        // The next period's job.
        tokio::time::sleep(every).await;
        let (a, b) = tokio::join!(runners[0].run_due(), runners[1].run_due());
        assert_eq!(a.unwrap().done + b.unwrap().done, 1, "{backend:?}");
        assert_eq!(*tidy.runs.lock().unwrap(), 2, "{backend:?}");
        assert_eq!(states(&core).await, BTreeMap::from([("done".into(), 2)]));
        other.db.close().await.unwrap();
        fresh.cleanup(core).await;
    }
}

/// SQLite's index upkeep, the standard recurring job there, merges the segments that separate
/// commits left, and search finds the same records before and after.
#[tokio::test]
async fn the_search_index_upkeep_merges_segments_and_finds_the_same_records() {
    use guanxi_core::areas::customers::ACCOUNTS;
    let fresh = Fresh::new(Backend::Sqlite).await;
    let core = fresh.core().await;
    let boss = admin(&core, "boss@example.com").await;
    let svc = core.records(&ACCOUNTS);
    for i in 0..40 {
        svc.create(
            &boss,
            &json!({"kind": "company", "name": format!("合并测试公司{i:02} Upkeep")}),
        )
        .await
        .unwrap();
    }
    let found = || async {
        let mut ids: Vec<_> =
            guanxi_core::search::search(&core.db, &boss, "合并测试", &[&ACCOUNTS], 100)
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect();
        ids.sort();
        ids
    };
    let before = found().await;
    assert_eq!(before.len(), 40);

    let runner = Runner::new(core.clone(), guanxi_core::standard_jobs(Backend::Sqlite));
    // The upkeep, the daily tidy-up and the nightly insights refresh.
    assert_eq!(runner.run_due().await.unwrap().done, 3);
    let result = db::raw_query(
        core.db.reader(),
        "SELECT result FROM jobs WHERE kind = 'search_upkeep'",
        vec![],
    )
    .await
    .unwrap();
    let result = db::get_json(&result[0], "result").unwrap();
    assert_eq!(result["finished"], json!(true), "{result}");
    assert!(
        result["changes"].as_i64().unwrap() >= 2,
        "nothing merged: {result}"
    );
    assert_eq!(found().await, before);
    let txn = core.db.begin().await.unwrap();
    db::raw_execute(
        &txn,
        "INSERT INTO search_fts(search_fts) VALUES('integrity-check')",
        vec![],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    // In the same period it does not run again.
    assert_eq!(runner.run_due().await.unwrap(), Pass::default());
    fresh.cleanup(core).await;
}
