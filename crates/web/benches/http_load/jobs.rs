//! `GUANXI_BENCH_JOBS=N`: N jobs fall due at once just before each measured "create account"
//! run, and a job runner works through them beside the server while the 16 clients create
//! accounts, as `guanxi serve` does (DESIGN §10, the jobs issue's target: 1,000 jobs due in
//! the same minute all run within 60 s of their time while create p99 stays under 100 ms).
//! Each job writes one notification in a transaction of its own, as a reminder falling due
//! does. After the run it prints how long the jobs took to drain and how late the latest ran.

use std::time::{Duration, Instant};

use guanxi_core::jobs::runner::Runner;
use guanxi_core::jobs::{self, Handlers, JobError, JobHandler, NewJob};
use guanxi_core::notifications::{self, Notice};
use guanxi_core::{Core, db};
use serde_json::{Value, json};
use uuid::Uuid;

const KIND: &str = "bench_notice";

/// How many jobs to queue before each create run; 0 (unset) for none.
pub fn wanted() -> usize {
    std::env::var("GUANXI_BENCH_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

struct BenchNotice {
    user: Uuid,
}

#[async_trait::async_trait]
impl JobHandler for BenchNotice {
    async fn run(&self, core: &Core, _payload: &Value) -> Result<Value, JobError> {
        let write = async {
            let txn = core.db.begin().await?;
            notifications::notify(
                core,
                &txn,
                Notice {
                    user_id: self.user,
                    kind: "bench",
                    params: json!({}),
                    about: None,
                    visible_at: guanxi_core::now(),
                },
            )
            .await?;
            txn.commit().await
        };
        write
            .await
            .map(|()| Value::Null)
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// Starts a runner for the bench jobs on the server's runtime; it runs until the process ends.
pub async fn start_runner(server: &tokio::runtime::Handle, core: &Core) {
    let rows = db::raw_query(core.db.reader(), "SELECT id FROM users LIMIT 1", vec![])
        .await
        .unwrap();
    let user = db::get_uuid(&rows[0], "id").unwrap();
    let handlers = Handlers::default().register(KIND, BenchNotice { user });
    let runner = Runner::new(core.clone(), handlers);
    server.spawn(runner.run_until(std::future::pending()));
}

/// A batch of jobs queued at once.
pub struct Batch {
    tag: String,
    n: usize,
    queued: Instant,
}

/// Queues `n` bench jobs due now, in one transaction.
pub async fn queue(core: &Core, n: usize) -> Batch {
    let tag = Uuid::now_v7().simple().to_string();
    let txn = core.db.begin().await.unwrap();
    for i in 0..n {
        let job = NewJob::new(KIND, json!({})).key(format!("bench:{tag}:{i}"));
        jobs::enqueue(&txn, job).await.unwrap();
    }
    txn.commit().await.unwrap();
    Batch {
        tag,
        n,
        queued: Instant::now(),
    }
}

/// Waits (up to five minutes) until the batch is done and prints how it went.
pub async fn report(core: &Core, batch: Batch) {
    let like = format!("bench:{}:%", batch.tag);
    let done = || async {
        let sql = match core.db.backend() {
            db::Backend::Sqlite => {
                "SELECT COUNT(*) AS n FROM jobs WHERE key LIKE ? AND state = 'done'"
            }
            db::Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM jobs WHERE key LIKE $1 AND state = 'done'"
            }
        };
        let rows = db::raw_query(core.db.reader(), sql, vec![like.clone().into()])
            .await
            .unwrap();
        db::get_i64(&rows[0], "n").unwrap() as usize
    };
    let mut n = done().await;
    let at_end_of_run = n;
    while n < batch.n && batch.queued.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        n = done().await;
    }
    let drained = batch.queued.elapsed();
    let sql = match core.db.backend() {
        db::Backend::Sqlite => "SELECT due_at, finished_at FROM jobs WHERE key LIKE ?",
        db::Backend::Postgres => "SELECT due_at, finished_at FROM jobs WHERE key LIKE $1",
    };
    let rows = db::raw_query(core.db.reader(), sql, vec![like.into()])
        .await
        .unwrap();
    let mut late: Vec<f64> = rows
        .iter()
        .filter_map(|r| {
            let due = db::get_ts(r, "due_at").ok()?;
            let finished = db::get_opt_ts(r, "finished_at").ok()??;
            Some((finished - due).as_seconds_f64())
        })
        .collect();
    late.sort_by(f64::total_cmp);
    let p = |q: f64| {
        late.get(((late.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
    };
    println!(
        "  jobs: {n} of {} done ({at_end_of_run} by the end of the create run); all done {:.1} s \
         after queueing; lateness p50 {:.1} s, p99 {:.1} s, max {:.1} s",
        batch.n,
        drained.as_secs_f64(),
        p(0.5).unwrap_or(f64::NAN),
        p(0.99).unwrap_or(f64::NAN),
        late.last().copied().unwrap_or(f64::NAN),
    );
}
