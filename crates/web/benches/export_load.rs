//! Other requests while CSV exports run: get-by-id latency (p50 / p99 / max) with no export
//! running and while eight users each ask for a full export at once, the exports' own
//! throughput, and the process's memory (the server runs in this process).
//!
//! ```sh
//! cargo run --release -p guanxi -- bench-data --database export.db --accounts 100000 --contacts 0
//! GUANXI_BENCH_DATABASE=export.db cargo bench -p guanxi-web --bench export_load
//! ```
//!
//! The eight exporters are admins (each export is every account, up to the 100,000-row cap).
//! The server runs as many as its limits allow; a refused exporter (429) asks again 250 ms later
//! rather than after `Retry-After`, so that exports run back to back and the "during" figures
//! are the worst case. Get-by-id requests count only while at least one export is in progress
//! (from its request to the end of its body).
//! Memory is sampled from `/proc/self/status` every 20 ms: `RssAnon` (heap and stacks; file
//! pages of the memory-mapped SQLite database are not in it) and `VmHWM` (peak resident,
//! including those file pages). Without `GUANXI_BENCH_DATABASE` it explains itself and exits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "common/admin.rs"]
mod admin;

use guanxi_core::{Core, Db, Settings, db};
use rand::seq::IndexedRandom;

const EXPORTERS: usize = 8;

/// A value in kB from `/proc/self/status` (0 where there is none).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `clients` clients each sending get-by-id requests one after another: `per_client` of them,
/// or, with `until`, until it is set (counting only requests that start and end while `live`
/// is above zero).
async fn gets(
    base: &str,
    token: &str,
    paths: &Arc<Vec<String>>,
    clients: usize,
    per_client: usize,
    until: Option<(Arc<AtomicBool>, Arc<AtomicUsize>)>,
) -> (Vec<Duration>, usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, paths, until) = (client.clone(), paths.clone(), until.clone());
        let (base, token) = (base.to_string(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            for i in 0.. {
                let live = |u: &Option<(Arc<AtomicBool>, Arc<AtomicUsize>)>| {
                    u.as_ref().is_none_or(|(_, n)| n.load(Ordering::SeqCst) > 0)
                };
                match &until {
                    Some((done, _)) if done.load(Ordering::SeqCst) => break,
                    None if i >= per_client => break,
                    _ => {}
                }
                let path = &paths[(c * 7919 + i) % paths.len()];
                let live_before = live(&until);
                let t = Instant::now();
                let res = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        if live_before && live(&until) {
                            lat.push(t.elapsed());
                        }
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    all.sort();
    (all, errors)
}

struct ExportRun {
    rows: u64,
    bytes: u64,
    took: Duration,
}

/// One exporter: asks until the server takes the export, then reads it to the end.
async fn export(
    base: String,
    token: String,
    streaming: Arc<AtomicUsize>,
    refused: Arc<AtomicU64>,
) -> ExportRun {
    let client = reqwest::Client::new();
    loop {
        // In progress from the request on: a server that builds the whole file first is busy
        // before the response head arrives.
        streaming.fetch_add(1, Ordering::SeqCst);
        let t = Instant::now();
        let mut res = client
            .get(format!("{base}/api/v1/accounts/export.csv"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if res.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            streaming.fetch_sub(1, Ordering::SeqCst);
            refused.fetch_add(1, Ordering::SeqCst);
            let _ = res.bytes().await;
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        assert!(res.status().is_success(), "export: {}", res.status());
        let (mut rows, mut bytes) = (0u64, 0u64);
        while let Some(chunk) = res.chunk().await.unwrap() {
            bytes += chunk.len() as u64;
            rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        }
        streaming.fetch_sub(1, Ordering::SeqCst);
        return ExportRun {
            // Less the header line.
            rows: rows.saturating_sub(1),
            bytes,
            took: t.elapsed(),
        };
    }
}

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("GUANXI_BENCH_DATABASE") else {
        println!(
            "export_load: set GUANXI_BENCH_DATABASE to a database filled by `guanxi bench-data` (see bench/README.md); skipping."
        );
        return;
    };
    let core = Core::new(
        Db::open(&url).await.expect("open database"),
        Settings::default(),
    );
    let conn = core.db.reader();
    let n_accounts = db::get_i64(
        &db::raw_query(conn, "SELECT COUNT(*) AS n FROM accounts", vec![])
            .await
            .unwrap()[0],
        "n",
    )
    .unwrap();
    println!("data: {n_accounts} accounts ({:?})", core.db.backend());

    let reader = admin::admin(&core, "reader", None).await.1;
    let mut exporters = Vec::new();
    for i in 0..EXPORTERS {
        exporters.push(admin::admin(&core, &format!("exporter{i}"), None).await.1);
    }
    let ids: Vec<String> = db::raw_query(
        conn,
        "SELECT id FROM accounts ORDER BY random() LIMIT 2000",
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| db::get_uuid(r, "id").unwrap().to_string())
    .collect();
    let mut rng = rand::rng();
    let paths: Arc<Vec<String>> = Arc::new(
        (0..2000)
            .filter_map(|_| ids.choose(&mut rng))
            .map(|i| format!("/api/v1/accounts/{i}"))
            .collect(),
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = guanxi_web::app(core.clone(), guanxi_web::WebOptions::default());
    tokio::spawn(async move { guanxi_web::serve(listener, app).await });

    // Memory, sampled throughout.
    let peak_anon = Arc::new(AtomicU64::new(0));
    {
        let peak_anon = peak_anon.clone();
        tokio::spawn(async move {
            loop {
                peak_anon.fetch_max(status_kb("RssAnon"), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }

    let _ = gets(&base, &reader, &paths, 4, 50, None).await;
    println!(
        "\nafter setup and warm-up: RssAnon {:.0} MiB, VmHWM {:.0} MiB",
        mib(status_kb("RssAnon")),
        mib(status_kb("VmHWM"))
    );
    println!("load average before: {}", loadavg());

    // One export with nothing else running: its own speed.
    let solo = export(
        base.clone(),
        exporters[0].clone(),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicU64::new(0)),
    )
    .await;
    println!(
        "one export alone: {} rows, {:.1} MB in {:.2} s ({:.0} rows/s); RssAnon now {:.0} MiB",
        solo.rows,
        solo.bytes as f64 / 1e6,
        solo.took.as_secs_f64(),
        solo.rows as f64 / solo.took.as_secs_f64(),
        mib(status_kb("RssAnon"))
    );

    println!("\n| get by id | clients | requests | errors | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut export_rows = Vec::new();
    for clients in [1usize, 16] {
        let per_client = if clients == 1 { 2000 } else { 200 };
        let (lat, errors) = gets(&base, &reader, &paths, clients, per_client, None).await;
        print_row("no export running", clients, &lat, errors);

        let done = Arc::new(AtomicBool::new(false));
        let streaming = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let runs: Vec<_> = exporters
            .iter()
            .map(|t| {
                tokio::spawn(export(
                    base.clone(),
                    t.clone(),
                    streaming.clone(),
                    refused.clone(),
                ))
            })
            .collect();
        let watcher = {
            let done = done.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for r in runs {
                    out.push(r.await.unwrap());
                }
                done.store(true, Ordering::SeqCst);
                out
            })
        };
        let (lat, errors) = gets(
            &base,
            &reader,
            &paths,
            clients,
            0,
            Some((done, streaming.clone())),
        )
        .await;
        let exports = watcher.await.unwrap();
        print_row(
            &format!("while {EXPORTERS} users export"),
            clients,
            &lat,
            errors,
        );
        export_rows.push((
            clients,
            exports,
            refused.load(Ordering::SeqCst),
            started.elapsed(),
        ));
    }

    println!(
        "\n| exports (alongside N get clients) | completed | refused (429, retried) | rows each | MB each | s each (min–max) | all done after s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (clients, runs, refused, wall) in &export_rows {
        let (min, max) = runs.iter().fold((f64::MAX, 0f64), |(lo, hi), r| {
            let s = r.took.as_secs_f64();
            (lo.min(s), hi.max(s))
        });
        println!(
            "| {EXPORTERS} users, {clients} get client(s) | {} | {} | {} | {:.1} | {:.1}–{:.1} | {:.1} |",
            runs.len(),
            refused,
            runs.first().map(|r| r.rows).unwrap_or(0),
            runs.first().map(|r| r.bytes).unwrap_or(0) as f64 / 1e6,
            min,
            max,
            wall.as_secs_f64()
        );
    }
    println!(
        "\nmemory: peak RssAnon {:.0} MiB, VmHWM {:.0} MiB (includes the memory-mapped database file)",
        mib(peak_anon.load(Ordering::SeqCst)),
        mib(status_kb("VmHWM"))
    );
    println!("load average after: {}", loadavg());
}

fn print_row(what: &str, clients: usize, lat: &[Duration], errors: usize) {
    println!(
        "| {what} | {clients} | {} | {errors} | {:.2} | {:.2} | {:.2} |",
        lat.len() + errors,
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default())
    );
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}
