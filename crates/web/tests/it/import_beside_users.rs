//! An import beside live users (issue 12's protocol at a smaller scale): while an import of N
//! contacts runs in the server's process (as the import job does), 16 clients create contacts
//! through the API as fast as they are answered. Reports the clients' latencies (p50, p99, the
//! longest) with and without the import, and the import's rows per second. A figure to report,
//! never a timed assertion:
//!
//! `GUANXI_IMPORT_BENCH_ROWS=20000 cargo test --release -p guanxi-web --test it import_beside_users -- --ignored --nocapture`
//!
//! On PostgreSQL with `GUANXI_IMPORT_BENCH_PG=1` (and `GUANXI_TEST_POSTGRES_URL`).

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use guanxi_core::areas::customers::CONTACTS;
use guanxi_core::identity::users;
use guanxi_core::import::mapping::{Targets, suggest};
use guanxi_core::import::run::{self, Policy, RunOptions};
use guanxi_core::import::{ReadOptions, Source};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Backend, TestApp, TestUser, spawn};

const CLIENTS: usize = 16;

/// Imports `text` (written as Chinese Excel writes it, GBK) as `boss`, with `policy`.
async fn import(
    app: &TestApp,
    boss: &TestUser,
    text: &str,
    name: &str,
    policy: Policy,
) -> run::Report {
    let bytes = encoding_rs::GBK.encode(text).0.to_vec();
    let user = users::find_by_email(&app.core.db, &boss.email)
        .await
        .unwrap()
        .unwrap();
    let actor = users::actor_for(&app.core, &user).await.unwrap();
    let mut source = Source::open(Cursor::new(bytes.clone()), &ReadOptions::default()).unwrap();
    let targets = Targets::of(&CONTACTS, &[]);
    let mapping = suggest(&targets, source.headers(), &()).mapping();
    let plan = mapping.resolve(&targets, source.headers()).unwrap();
    let options = RunOptions {
        policy,
        dry_run: false,
        file_name: name.to_string(),
        fingerprint: run::fingerprint(bytes.as_slice()).unwrap(),
        mapping: mapping.to_toml(),
        stop_after: None,
        run_id: None,
    };
    let mut errors = Vec::new();
    let report = run::run(
        &app.core,
        &actor,
        &CONTACTS,
        &mut source,
        &plan,
        &options,
        &mut errors,
    )
    .await
    .unwrap();
    assert!(errors.is_empty(), "{:?}", errors.first());
    report
}

/// 16 clients creating contacts until `stop` is set: each create's latency.
fn clients(
    users: &[Arc<TestUser>],
    tag: &'static str,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Duration>>> {
    users
        .iter()
        .enumerate()
        .map(|(c, u)| {
            let u = u.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut took = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let body = json!({
                        "family_name": "客",
                        "given_name": format!("{tag}{c}x{i}"),
                        "emails": [{"address": format!("{tag}.{c}.{i}@client.example.cn")}],
                    });
                    let started = Instant::now();
                    let res = u.post("/api/v1/contacts", &body).await;
                    let status = res.status();
                    let _ = res.bytes().await;
                    took.push(started.elapsed());
                    assert_eq!(status, StatusCode::CREATED);
                }
                took
            })
        })
        .collect()
}

fn percentiles(mut took: Vec<Duration>) -> String {
    took.sort();
    let at = |p: f64| {
        took.get(((took.len() as f64 * p) as usize).min(took.len().saturating_sub(1)))
            .map_or(0, Duration::as_millis)
    };
    format!(
        "{} creates, p50 {} ms, p99 {} ms, longest {} ms",
        took.len(),
        at(0.5),
        at(0.99),
        took.last().map_or(0, Duration::as_millis)
    )
}

async fn gather(handles: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore]
async fn import_beside_users() {
    let n: usize = std::env::var("GUANXI_IMPORT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let backend = if std::env::var("GUANXI_IMPORT_BENCH_PG").is_ok() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let app = spawn(backend).await;
    let boss = app.user("admin", None).await;
    let mut reps = Vec::new();
    for _ in 0..CLIENTS {
        reps.push(Arc::new(app.user("sales", None).await));
    }
    let head = "姓名,手机,电子邮箱,公司名称,职位\r\n";
    let row = |i: usize, tag: &str, title: &str| {
        format!(
            "王{tag}{i},1{:010},{tag}{i}@example.cn,星辰{}科技有限公司,{title}\r\n",
            3_000_000_000u64 + i as u64 + if tag == "n" { 5_000_000_000 } else { 0 },
            i % 1000
        )
    };
    // What the database holds: N contacts, without a title.
    let mut existing = String::from(head);
    for i in 0..n {
        existing.push_str(&row(i, "e", ""));
    }
    import(&app, &boss, &existing, "existing.csv", Policy::Create).await;

    // The clients alone.
    let stop = Arc::new(AtomicBool::new(false));
    let alone = clients(&reps, "a", stop.clone());
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop.store(true, Ordering::Relaxed);
    let alone = gather(alone).await;

    // The clients beside an import of N rows, a tenth repeats (fill).
    let mut file = String::from(head);
    for i in 0..n {
        if i % 10 == 0 {
            file.push_str(&row(i, "e", "销售经理"));
        } else {
            file.push_str(&row(i, "n", "销售经理"));
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let beside = clients(&reps, "b", stop.clone());
    let started = Instant::now();
    let report = import(&app, &boss, &file, "import.csv", Policy::Fill).await;
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let beside = gather(beside).await;
    println!(
        "{backend:?}: {CLIENTS} clients alone: {}",
        percentiles(alone)
    );
    println!(
        "{backend:?}: {CLIENTS} clients beside the import: {}",
        percentiles(beside)
    );
    println!(
        "{backend:?}: the import beside them: {n} rows in {secs:.1} s, {:.0} rows/s; {} batches, longest {} ms",
        n as f64 / secs,
        report.batches,
        report.longest_batch.as_millis()
    );
    assert_eq!(report.counts.created as usize, n - n.div_ceil(10));
    assert_eq!(report.counts.updated as usize, n.div_ceil(10));
}
