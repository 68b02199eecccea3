//! Scoring one account again after a change to its ledger (customer insights): the time from
//! the job's start to its row written — the account's ledger read, scored against the newest
//! refresh's population, its row, history and alerts written — for accounts drawn at random
//! among those with insights, on an existing database that has had a refresh.
//!
//! ```sh
//! GUANXI_BENCH_DATABASE=guanxi-demo.db cargo bench -p guanxi-core --bench rescore
//! ```
//!
//! `GUANXI_BENCH_ACCOUNTS` (default 200) accounts are each scored `GUANXI_BENCH_ROUNDS` (default
//! 3) times, one after another; the database is changed only as a rescore changes it (its
//! insights are rewritten with what they already were, unless the day moved on).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use guanxi_core::insights::rescore::{self, Rescored};
use guanxi_core::{Core, Db, Settings};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let Ok(url) = std::env::var("GUANXI_BENCH_DATABASE") else {
        eprintln!("set GUANXI_BENCH_DATABASE to a database that has had an insights refresh");
        return;
    };
    let accounts = env_or("GUANXI_BENCH_ACCOUNTS", 200);
    let rounds = env_or("GUANXI_BENCH_ROUNDS", 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let core = Core::new(
            Db::open(&url).await.expect("open database"),
            Settings::default(),
        );
        let conn = core.db.reader();
        let sql =
            format!("SELECT account_id FROM account_insights ORDER BY random() LIMIT {accounts}");
        let rows = conn
            .query_all(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .unwrap();
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.try_get_by_index::<Uuid>(0).unwrap())
            .collect();
        assert!(
            !ids.is_empty(),
            "no account has insights: run `guanxi insights refresh`"
        );
        let sales: i64 = conn
            .query_one(Statement::from_string(
                conn.get_database_backend(),
                "SELECT count(*) FROM sales_records",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        println!(
            "{} accounts with insights sampled, {sales} sales rows, {rounds} rounds",
            ids.len()
        );
        println!("load average before: {}", loadavg());
        // One round to warm the caches, not counted.
        for id in ids.iter().take(10) {
            rescore::rescore(&core, *id).await.unwrap();
        }
        let mut ms = Vec::with_capacity(ids.len() * rounds);
        for _ in 0..rounds {
            for id in &ids {
                let t = Instant::now();
                let done = rescore::rescore(&core, *id).await.unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
                assert!(matches!(done, Rescored::Scored(_)), "{id}: {done:?}");
            }
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "rescore one account: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} runs)",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms[ms.len() - 1],
            ms.len()
        );
        println!("load average after: {}", loadavg());
    });
}
