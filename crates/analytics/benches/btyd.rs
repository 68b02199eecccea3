//! `cargo bench -p guanxi-analytics --bench btyd`: BG/NBD + Gamma-Gamma fit and CLV scoring on
//! simulated customers (no CSV; see `bench/analytics.sh` for the end-to-end file benchmark).
//!
//! `GUANXI_BENCH_CUSTOMERS` sets the number of customers (default 1,000,000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use guanxi_analytics::clv::{self, ClvOptions, RepeatModel};
use guanxi_analytics::transactions::{Period, RepeatData, Summary};
use guanxi_analytics::{bgnbd, gamma_gamma};
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma};

fn main() {
    let n: usize = std::env::var("GUANXI_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let lam = Gamma::new(0.9, 1.0 / 3.0).unwrap();
    let drop = Beta::new(1.2, 8.0).unwrap();
    let nu = Gamma::new(4.0, 1.0 / 150.0).unwrap();
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        // Weeks, on a daily grid as real data would be.
        let t_end = (rng.random_range(0..730) as f64) / 7.0;
        let l: f64 = lam.sample(&mut rng);
        let p: f64 = drop.sample(&mut rng);
        let gap = Exp::new(l.max(1e-9)).unwrap();
        let (mut t, mut x, mut tx) = (0.0f64, 0u32, 0.0f64);
        loop {
            t += gap.sample(&mut rng);
            if t > t_end {
                break;
            }
            x += 1;
            tx = (t * 7.0).floor() / 7.0;
            if rng.random::<f64>() < p {
                break;
            }
        }
        let scale: f64 = nu.sample(&mut rng);
        let spend = Gamma::new(6.0, 1.0 / scale).unwrap();
        let m = if x == 0 {
            0.0
        } else {
            (0..x).map(|_| spend.sample(&mut rng)).sum::<f64>() / f64::from(x)
        };
        values.push((x, tx, t_end, m));
    }
    let summary = Summary::from_values(Period::Week, &values);
    let start = Instant::now();
    let data = RepeatData::from_summary(&summary).unwrap();
    let t_compress = start.elapsed();
    let fit = bgnbd::fit(&data, &bgnbd::FitOptions::default()).unwrap();
    let t_fit = start.elapsed();
    let gg = gamma_gamma::fit(values.iter().map(|v| (v.0, v.3)), None).unwrap();
    let t_gg = start.elapsed();
    let scores = clv::score(
        &RepeatModel::BgNbd(fit.params),
        Some(&gg.params),
        &summary,
        &ClvOptions::default(),
    )
    .unwrap();
    let t_score = start.elapsed();
    println!(
        "customers: {n} ({} distinct (x, tx, T) rows)",
        data.rows.len()
    );
    println!("compress:     {:>8.3} s", t_compress.as_secs_f64());
    println!(
        "BG/NBD fit:   {:>8.3} s  {:?}",
        (t_fit - t_compress).as_secs_f64(),
        fit.params
    );
    println!(
        "Gamma-Gamma:  {:>8.3} s  {:?}",
        (t_gg - t_fit).as_secs_f64(),
        gg.params
    );
    println!(
        "score + CLV:  {:>8.3} s  ({} customers)",
        (t_score - t_gg).as_secs_f64(),
        scores.len()
    );
    println!("total:        {:>8.3} s", t_score.as_secs_f64());
}
