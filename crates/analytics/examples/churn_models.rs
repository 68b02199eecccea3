//! Does gradient boosting earn its place next to the logistic churn model? Trains both on the same
//! time split of simulated purchase histories and compares them on the later, unseen period:
//! `cargo run --release -p guanxi-analytics --example churn_models [CUSTOMERS] [SEEDS]`
//! (defaults 5000 customers, 5 seeds per scenario).
//!
//! Scenarios (features at cutoff day 480, labels from days 481–600; test at day 600, labels
//! 601–720; window 120 days):
//!
//! - `lapse` — the simulation of `churn::tests::holdout_on_simulated_histories`: each customer
//!   buys at a steady rate until an unseen lifetime ends. Nobody chose the shape of the risk; it
//!   is whatever buy-till-you-die behaviour implies.
//! - `linear` — every 120 days each customer skips the coming window with probability
//!   `σ(η)`, `η` linear in the model's own features: the logistic model is the true model.
//! - `interaction` — as `linear`, but recency raises the risk only for customers younger than
//!   180 days, and the risk is U-shaped in spend per purchase (small and very large accounts
//!   leave more often).
//!
//! For the two last scenarios the true churn probability of every test customer is known; its AUC
//! ("oracle") is the ceiling for any model.

use std::collections::HashMap;
use std::error::Error;
use std::time::Instant;

use chrono::NaiveDate;
use guanxi_analytics::churn::{
    self, CustomerHistory, Evaluation, FeatureConfig, LabelledSet, LogisticConfig, auc, evaluate,
    time_split,
};
use guanxi_analytics::gbm::{self, GbmOptions};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Exp, Normal};

const WINDOW: i64 = 120;
const TRAIN_CUTOFF: i64 = 480;
const TEST_CUTOFF: i64 = TRAIN_CUTOFF + WINDOW;

fn day(n: i64) -> Result<NaiveDate, Box<dyn Error>> {
    NaiveDate::from_ymd_opt(2022, 1, 1)
        .map(|d| d + chrono::Duration::days(n))
        .ok_or_else(|| "bad date".into())
}

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    Lapse,
    Linear,
    Interaction,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Lapse => "lapse",
            Scenario::Linear => "linear",
            Scenario::Interaction => "interaction",
        }
    }

    /// Log-odds of skipping the coming window, from the features at its start.
    fn eta(self, f: &Features) -> f64 {
        match self {
            Scenario::Lapse => 0.0,
            Scenario::Linear => {
                -1.3 + 0.012 * f.recency
                    - 0.5 * (f.log_frequency - 2.0)
                    - 0.4 * (f.log_monetary - 4.0)
                    - 0.002 * (f.tenure - 300.0)
                    - 0.5 * f.trend
            }
            Scenario::Interaction => {
                let young = if f.tenure < 180.0 {
                    0.03 * f.recency
                } else {
                    0.0
                };
                -1.6 + young + 0.8 * (f.log_monetary - 4.0).powi(2) - 0.4 * (f.log_frequency - 2.0)
            }
        }
    }
}

struct Features {
    recency: f64,
    log_frequency: f64,
    log_monetary: f64,
    tenure: f64,
    trend: f64,
}

/// The features the models see, from the library's own feature builder.
fn features(h: &CustomerHistory, cutoff: i64) -> Result<Features, Box<dyn Error>> {
    let t = churn::build_features(
        std::slice::from_ref(h),
        day(cutoff)?,
        &FeatureConfig::default(),
    );
    let row = t.rows.first().ok_or("customer without purchases")?;
    let get = |name: &str| -> Result<f64, Box<dyn Error>> {
        t.column(name)
            .and_then(|j| row.values.get(j).copied().flatten())
            .ok_or_else(|| format!("feature {name} missing").into())
    };
    Ok(Features {
        recency: get("recency_days")?,
        log_frequency: get("log_frequency")?,
        log_monetary: get("log_monetary")?,
        tenure: get("tenure_days")?,
        trend: get("trend")?,
    })
}

struct Buyer {
    gaps: Exp<f64>,
    mean_spend: f64,
}

impl Buyer {
    /// Purchases on the days `(from, to]` at the customer's rate; `at_least_one` for a window
    /// the customer has decided not to skip.
    fn fill(
        &self,
        rng: &mut StdRng,
        h: &mut CustomerHistory,
        from: i64,
        to: i64,
        at_least_one: bool,
    ) -> Result<(), Box<dyn Error>> {
        let before = h.purchases.len();
        let mut t = from as f64;
        loop {
            t += self.gaps.sample(rng);
            let d = t.ceil() as i64;
            if d > to {
                break;
            }
            let amount = self.mean_spend * rng.random_range(0.5..1.5);
            h.purchases.push((day(d)?, amount));
        }
        if at_least_one && h.purchases.len() == before {
            let d = rng.random_range(from + 1..=to);
            h.purchases.push((day(d)?, self.mean_spend));
        }
        Ok(())
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Histories, and for the `linear`/`interaction` scenarios each customer's true churn probability
/// for the test window.
type Simulated = (Vec<CustomerHistory>, HashMap<String, f64>);

fn simulate(scenario: Scenario, n: usize, seed: u64) -> Result<Simulated, Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut histories = Vec::with_capacity(n);
    let mut truth = HashMap::new();
    let spend: Normal<f64> = Normal::new(4.0, 0.7)?;
    for i in 0..n {
        let id = format!("k{i:05}");
        if scenario == Scenario::Lapse {
            // as in churn::tests::holdout_on_simulated_histories
            let start = rng.random_range(0..300);
            let rate: f64 = rng.random_range(0.01..0.08);
            let life = Exp::new(1.0 / 400.0)?.sample(&mut rng) as i64;
            let end = (start + life).min(730);
            let mut t = start as f64;
            let mut purchases = vec![(day(start)?, 50.0)];
            loop {
                t += Exp::new(rate)?.sample(&mut rng);
                if t as i64 >= end {
                    break;
                }
                purchases.push((day(t as i64)?, rng.random_range(10.0..200.0)));
            }
            let complaints = if rng.random::<f64>() < 0.2 {
                vec![day(start + 10)?]
            } else {
                vec![]
            };
            histories.push(CustomerHistory {
                customer_id: id,
                purchases,
                complaints,
                satisfaction: vec![],
            });
            continue;
        }
        let start: i64 = rng.random_range(0..620);
        let rate: f64 = rng.random_range(0.01..0.08);
        let mean_spend = spend.sample(&mut rng).exp();
        let gaps = Exp::new(rate)?;
        let mut h = CustomerHistory {
            customer_id: id.clone(),
            purchases: vec![(day(start)?, mean_spend)],
            ..CustomerHistory::default()
        };
        let buyer = Buyer { gaps, mean_spend };
        let mut boundary = (start / WINDOW + 1) * WINDOW;
        buyer.fill(&mut rng, &mut h, start, boundary, false)?;
        // decide window by window, through day 840 so the data reach the end of the test labels
        while boundary < 840 {
            let p = sigmoid(scenario.eta(&features(&h, boundary)?));
            if boundary == TEST_CUTOFF {
                truth.insert(id.clone(), p);
            }
            let skip = rng.random::<f64>() < p;
            if !skip {
                buyer.fill(&mut rng, &mut h, boundary, boundary + WINDOW, true)?;
            }
            boundary += WINDOW;
        }
        histories.push(h);
    }
    Ok((histories, truth))
}

struct Run {
    eval: Evaluation,
    seconds: f64,
}

fn run_logistic(train: &LabelledSet, test: &LabelledSet) -> Result<Run, Box<dyn Error>> {
    let t0 = Instant::now();
    let m = churn::fit(&train.table, &train.labels, &LogisticConfig::default())?;
    let seconds = t0.elapsed().as_secs_f64();
    Ok(Run {
        eval: evaluate(&m.predict(&test.table)?, &test.labels)?,
        seconds,
    })
}

fn run_gbm(train: &LabelledSet, test: &LabelledSet) -> Result<(Run, usize), Box<dyn Error>> {
    let t0 = Instant::now();
    let m = gbm::fit(&train.table, &train.labels, &GbmOptions::default())?;
    let seconds = t0.elapsed().as_secs_f64();
    Ok((
        Run {
            eval: evaluate(&m.predict(&test.table)?, &test.labels)?,
            seconds,
        },
        m.training.trees_kept,
    ))
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(5000), |a| a.parse())?;
    let seeds: u64 = args.next().map_or(Ok(5), |a| a.parse())?;
    println!(
        "{n} customers, seeds 1..={seeds}; train cutoff day {TRAIN_CUTOFF}, test cutoff day \
         {TEST_CUTOFF}, window {WINDOW} days; out-of-time test metrics"
    );
    println!(
        "{:<12} {:>4} {:>6} {:>7} | {:>6} {:>5} {:>6} {:>7} | {:>6} {:>5} {:>6} {:>7} {:>5} | {:>6}",
        "scenario",
        "seed",
        "rows",
        "churn%",
        "lr AUC",
        "lift",
        "Brier",
        "ms",
        "gb AUC",
        "lift",
        "Brier",
        "ms",
        "trees",
        "oracle"
    );
    for scenario in [Scenario::Lapse, Scenario::Linear, Scenario::Interaction] {
        let mut d_auc = Vec::new();
        let mut d_lift = Vec::new();
        let mut d_brier = Vec::new();
        let mut cols: [Vec<f64>; 8] = Default::default();
        for seed in 1..=seeds {
            let (histories, truth) = simulate(scenario, n, seed)?;
            let (train, test) = time_split(
                &histories,
                day(TRAIN_CUTOFF)?,
                WINDOW,
                &FeatureConfig::default(),
            )?;
            let lr = run_logistic(&train, &test)?;
            let (gb, trees) = run_gbm(&train, &test)?;
            let oracle = if truth.is_empty() {
                None
            } else {
                let p: Vec<f64> = test
                    .table
                    .rows
                    .iter()
                    .map(|r| truth.get(&r.customer_id).copied().unwrap_or(1.0))
                    .collect();
                auc(&p, &test.labels)
            };
            let (la, ga) = (
                lr.eval.auc.unwrap_or(f64::NAN),
                gb.eval.auc.unwrap_or(f64::NAN),
            );
            println!(
                "{:<12} {:>4} {:>6} {:>6.1}% | {:>6.3} {:>5.2} {:>6.4} {:>7.1} | {:>6.3} {:>5.2} {:>6.4} {:>7.1} {:>5} | {:>6}",
                scenario.name(),
                seed,
                test.labels.len(),
                100.0 * test.labels.iter().filter(|l| **l).count() as f64
                    / test.labels.len().max(1) as f64,
                la,
                lr.eval.top_decile.lift,
                lr.eval.brier,
                lr.seconds * 1e3,
                ga,
                gb.eval.top_decile.lift,
                gb.eval.brier,
                gb.seconds * 1e3,
                trees,
                oracle.map_or("-".to_string(), |o| format!("{o:.3}"))
            );
            d_auc.push(ga - la);
            d_lift.push(gb.eval.top_decile.lift - lr.eval.top_decile.lift);
            d_brier.push(gb.eval.brier - lr.eval.brier);
            for (c, v) in cols.iter_mut().zip([
                la,
                lr.eval.top_decile.lift,
                lr.eval.brier,
                lr.seconds * 1e3,
                ga,
                gb.eval.top_decile.lift,
                gb.eval.brier,
                gb.seconds * 1e3,
            ]) {
                c.push(v);
            }
        }
        let m: Vec<f64> = cols.iter().map(|c| mean(c)).collect();
        println!(
            "{:<12} mean               | {:>6.3} {:>5.2} {:>6.4} {:>7.1} | {:>6.3} {:>5.2} {:>6.4} {:>7.1}",
            scenario.name(),
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5],
            m[6],
            m[7]
        );
        println!(
            "{:<12} gbm − logistic: AUC {:+.4} (sd {:.4}), lift {:+.3} (sd {:.3}), Brier {:+.5} (sd {:.5})",
            scenario.name(),
            mean(&d_auc),
            sd(&d_auc),
            mean(&d_lift),
            sd(&d_lift),
            mean(&d_brier),
            sd(&d_brier)
        );
    }
    Ok(())
}
