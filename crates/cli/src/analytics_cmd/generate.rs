//! `guanxi analytics generate-transactions` (hidden): a synthetic transactions file for benchmarks.
//!
//! The purchase process is the BG/NBD story (Fader, Hardie & Lee 2005): each customer joins on a
//! uniformly random day of the first two years, buys at a personal rate λ ~ Gamma(r, α) per day and
//! after each repeat purchase leaves with a personal probability p ~ Beta(a, b). α is scaled so the
//! expected number of rows is `--transactions`; the count is then made exact by trimming or adding
//! repeat purchases at random. Spend per purchase follows Gamma-Gamma. Deterministic for a given
//! `--seed`.

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

impl Rng {
    fn normal(&mut self) -> f64 {
        // Box-Muller.
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    /// Gamma(shape, 1) by Marsaglia & Tsang (2000), with the shape < 1 boost.
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0) * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v > 0.0 && self.uniform().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }
    fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        x / (x + self.gamma(b))
    }
}

/// BG/NBD purchase days of one customer in [first, DAYS].
fn customer_days(rng: &mut Rng, rate: f64, drop: f64, first: i64, out: &mut Vec<i64>) {
    out.clear();
    out.push(first);
    let mut t = first as f64;
    loop {
        t += rng.exponential() / rate.max(1e-9);
        if t > DAYS as f64 {
            break;
        }
        out.push(t as i64);
        if rng.uniform() < drop {
            break;
        }
    }
}

/// Runs the generator.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.customers > 0 && args.transactions >= args.customers,
        "need at least one transaction per customer"
    );
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let n = args.customers as usize;
    let (r, a, b) = (0.9, 1.2, 8.0);
    let (p, q, gamma) = (6.0, 4.0, 150.0);
    // Calibrate α on a pilot of 20,000 customers so the expected row count matches.
    let target = args.transactions as f64 / args.customers as f64;
    let mut buf = Vec::new();
    let mut alpha = 30.0;
    for _ in 0..20 {
        let mut pilot = Rng(rng.0 ^ 0x5555);
        let mut total = 0usize;
        for _ in 0..20_000 {
            let first = (pilot.uniform() * 730.0) as i64;
            let lam = pilot.gamma(r) / alpha;
            let drop = pilot.beta(a, b);
            customer_days(&mut pilot, lam, drop, first, &mut buf);
            total += buf.len();
        }
        let mean = total as f64 / 20_000.0;
        alpha *= ((mean - 1.0) / (target - 1.0).max(1e-9)).max(0.05);
        if (mean - target).abs() < 0.01 * target {
            break;
        }
    }
    let mut per: Vec<Vec<i64>> = Vec::with_capacity(n);
    let mut spend_scale: Vec<f64> = Vec::with_capacity(n);
    let mut total = 0u64;
    for _ in 0..n {
        let first = (rng.uniform() * 730.0) as i64;
        let lam = rng.gamma(r) / alpha;
        let drop = rng.beta(a, b);
        let mut days = Vec::new();
        customer_days(&mut rng, lam, drop, first, &mut days);
        total += days.len() as u64;
        per.push(days);
        spend_scale.push(rng.gamma(q) / gamma);
    }
    // Make the row count exact: trim the last repeat purchase of random customers, or add one.
    while total > args.transactions {
        let i = (rng.next() % n as u64) as usize;
        if per[i].len() > 1 {
            per[i].pop();
            total -= 1;
        }
    }
    while total < args.transactions {
        let i = (rng.next() % n as u64) as usize;
        let first = per[i][0];
        per[i].push(first + (rng.uniform() * (DAYS - first) as f64) as i64);
        total += 1;
    }
    let start =
        NaiveDate::from_ymd_opt(2021, 1, 1).ok_or_else(|| anyhow::anyhow!("bad start date"))?;
    let dates: Vec<String> = (0..=DAYS)
        .map(|d| (start + Duration::days(d)).format("%Y-%m-%d").to_string())
        .collect();
    let mut out = BufWriter::with_capacity(1 << 22, File::create(&args.out)?);
    writeln!(out, "customer_id,date,amount")?;
    for (i, days) in per.iter().enumerate() {
        for &d in days {
            let amount = rng.gamma(p) / spend_scale[i];
            let date = dates
                .get(d as usize)
                .map(String::as_str)
                .unwrap_or("2021-01-01");
            writeln!(out, "C{i:07},{date},{amount:.2}")?;
        }
    }
    out.flush()?;
    eprintln!(
        "wrote {} customers, {} transactions to {} (BG/NBD r={r}, alpha={alpha:.2} days, a={a}, b={b})",
        args.customers,
        args.transactions,
        args.out.display()
    );
    Ok(())
}
