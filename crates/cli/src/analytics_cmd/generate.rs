//! `guanxi analytics generate-transactions` (hidden): a synthetic transactions file for benchmarks.
//!
//! Each customer joins on a uniformly random day of the first two years, buys at a personal rate
//! and stays for a personal, exponentially distributed lifetime; the total number of rows is
//! exactly `--transactions`. Deterministic for a given `--seed`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{Duration, NaiveDate};
use clap::Args;

/// Arguments of the generator.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: u64,
    /// Number of transaction rows (at least one per customer).
    #[arg(long, default_value_t = 10_000_000)]
    pub transactions: u64,
    /// Output CSV file.
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// xorshift64* — small, fast, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }
}

const DAYS: i64 = 1095; // three years of data

/// Runs the generator.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.customers > 0 && args.transactions >= args.customers,
        "need at least one transaction per customer"
    );
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let n = args.customers as usize;
    // Activity weights (gamma(2)-like: sum of two exponentials) share out the extra rows.
    let weights: Vec<f64> = (0..n)
        .map(|_| rng.exponential() + rng.exponential())
        .collect();
    let total_w: f64 = weights.iter().sum();
    let extra = args.transactions - args.customers;
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| 1 + (extra as f64 * w / total_w).floor() as u64)
        .collect();
    let assigned: u64 = counts.iter().sum();
    for c in counts
        .iter_mut()
        .take((args.transactions - assigned) as usize)
    {
        *c += 1;
    }
    let start =
        NaiveDate::from_ymd_opt(2021, 1, 1).ok_or_else(|| anyhow::anyhow!("bad start date"))?;
    let dates: Vec<String> = (0..=DAYS)
        .map(|d| (start + Duration::days(d)).format("%Y-%m-%d").to_string())
        .collect();
    let mut out = BufWriter::with_capacity(1 << 22, File::create(&args.out)?);
    writeln!(out, "customer_id,date,amount")?;
    let mut days: Vec<i64> = Vec::new();
    for (i, &k) in counts.iter().enumerate() {
        let first = (rng.uniform() * 730.0) as i64;
        let life = (rng.exponential() * 500.0) as i64 + 30;
        let last = (first + life).min(DAYS);
        let spend = 20.0 + 80.0 * rng.exponential();
        days.clear();
        days.push(first);
        for _ in 1..k {
            days.push(first + (rng.uniform() * (last - first) as f64) as i64);
        }
        for &d in &days {
            let amount = spend * (0.5 + rng.uniform());
            let date = dates
                .get(d as usize)
                .map(String::as_str)
                .unwrap_or("2021-01-01");
            writeln!(out, "C{i:07},{date},{amount:.2}")?;
        }
    }
    out.flush()?;
    eprintln!(
        "wrote {} customers, {} transactions to {}",
        args.customers,
        args.transactions,
        args.out.display()
    );
    Ok(())
}
