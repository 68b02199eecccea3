//! `guanxi analytics clv`: BG/NBD or Pareto/NBD plus Gamma-Gamma, and CLV per customer.

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use guanxi_analytics::clv::{self, ClvOptions, CustomerValue, HoldoutCheck, RepeatModel};
use guanxi_analytics::transactions::{Period, RepeatData, SummaryOptions, Transactions};
use guanxi_analytics::{bgnbd, gamma_gamma, pareto_nbd};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, load, num, parse_date, safe_text, write_csv, write_json,
    write_table,
};

/// Repeat-purchase model choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    ParetoNbd,
}

/// Period choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodChoice {
    /// Days.
    Day,
    /// Weeks (days / 7).
    Week,
    /// Months (days / 30.436875).
    Month,
}

impl From<PeriodChoice> for Period {
    fn from(p: PeriodChoice) -> Period {
        match p {
            PeriodChoice::Day => Period::Day,
            PeriodChoice::Week => Period::Week,
            PeriodChoice::Month => Period::Month,
        }
    }
}

/// Arguments of `guanxi analytics clv`.
#[derive(Args, Debug)]
pub struct ClvArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Last day of the calibration window (the models see purchases up to this day).
    #[arg(long, value_parser = parse_date)]
    pub calibration_end: NaiveDate,
    /// Last day of the holdout window: report predicted against actual purchases in it.
    #[arg(long, value_parser = parse_date)]
    pub holdout_end: Option<NaiveDate>,
    /// Time unit for recency, T and the horizon.
    #[arg(long, value_enum, default_value_t = PeriodChoice::Week)]
    pub period: PeriodChoice,
    /// Repeat-purchase model.
    #[arg(long, value_enum, default_value_t = ModelChoice::Bgnbd)]
    pub model: ModelChoice,
    /// Horizon in periods for expected purchases and CLV (default: one year).
    #[arg(long)]
    pub horizon: Option<f64>,
    /// Discount rate per period (e.g. 0.01 with --period month is 1% a month).
    #[arg(long, default_value_t = 0.0)]
    pub discount_rate: f64,
    /// Margin rate applied to revenue (default: each customer's observed margin when the file has
    /// a cost column, else 1, i.e. CLV in revenue).
    #[arg(long)]
    pub margin_rate: Option<f64>,
}

#[derive(Serialize)]
struct BgNbdOut {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
    log_likelihood: f64,
    standard_errors: bgnbd::BgNbdParams,
}

#[derive(Serialize)]
struct ParetoOut {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    log_likelihood: f64,
    standard_errors: pareto_nbd::ParetoNbdParams,
}

#[derive(Serialize)]
struct GammaGammaOut {
    p: f64,
    q: f64,
    gamma: f64,
    log_likelihood: f64,
    standard_errors: gamma_gamma::GammaGammaParams,
}

#[derive(Serialize)]
struct Row<'a> {
    customer_id: &'a str,
    frequency: u32,
    recency: f64,
    t: f64,
    monetary: f64,
    p_alive: f64,
    expected_purchases: f64,
    expected_spend: f64,
    clv: f64,
}

impl Tabular for Row<'_> {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "frequency",
            "recency",
            "t",
            "monetary",
            "p_alive",
            "expected_purchases",
            "expected_spend",
            "clv",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(self.customer_id),
            self.frequency.to_string(),
            num(Some(self.recency), 4),
            num(Some(self.t), 4),
            num(Some(self.monetary), 2),
            num(Some(self.p_alive), 4),
            num(Some(self.expected_purchases), 4),
            num(Some(self.expected_spend), 2),
            num(Some(self.clv), 2),
        ]
    }
}

#[derive(Serialize)]
struct Report<'a> {
    period: &'static str,
    calibration_end: String,
    customers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    bgnbd: Option<BgNbdOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pareto_nbd: Option<ParetoOut>,
    gamma_gamma: Option<GammaGammaOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    holdout: Option<HoldoutCheck>,
    horizon: f64,
    discount_rate: f64,
    per_customer: Vec<Row<'a>>,
}

/// Runs the command.
pub fn run(args: ClvArgs) -> anyhow::Result<()> {
    let clock = Clock::new();
    let tx = load(&args.input)?;
    clock.lap("read transactions");
    report(&tx, &args, &clock)
}

/// Phase timings on stderr when `GUANXI_TIMING` is set (used by `bench/analytics.sh`).
pub struct Clock {
    start: Option<std::time::Instant>,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            start: std::env::var_os("GUANXI_TIMING").map(|_| std::time::Instant::now()),
        }
    }
    pub fn lap(&self, what: &str) {
        if let Some(s) = self.start {
            eprintln!("[{:>8.3} s] {what}", s.elapsed().as_secs_f64());
        }
    }
}

fn report(tx: &Transactions, args: &ClvArgs, clock: &Clock) -> anyhow::Result<()> {
    let period: Period = args.period.into();
    let summary = tx.summarize(&SummaryOptions {
        period,
        calibration_end: args.calibration_end,
        holdout_end: args.holdout_end,
    })?;
    anyhow::ensure!(
        !summary.customers.is_empty(),
        "no customer made a purchase on or before the calibration end {}",
        args.calibration_end
    );
    clock.lap("summarised customers");
    let data = RepeatData::from_summary(&summary)?;
    clock.lap(&format!(
        "compressed (x, recency, T): {} distinct rows",
        data.rows.len()
    ));
    let (model, bg_out, pn_out) = match args.model {
        ModelChoice::Bgnbd => {
            let fit = bgnbd::fit(&data, &bgnbd::FitOptions::default()).context("fitting BG/NBD")?;
            let p = fit.params;
            (
                RepeatModel::BgNbd(p),
                Some(BgNbdOut {
                    r: p.r,
                    alpha: p.alpha,
                    a: p.a,
                    b: p.b,
                    log_likelihood: fit.log_likelihood,
                    standard_errors: fit.standard_errors,
                }),
                None,
            )
        }
        ModelChoice::ParetoNbd => {
            let fit = pareto_nbd::fit(&data, &pareto_nbd::FitOptions::default())
                .context("fitting Pareto/NBD")?;
            let p = fit.params;
            (
                RepeatModel::ParetoNbd(p),
                None,
                Some(ParetoOut {
                    r: p.r,
                    alpha: p.alpha,
                    s: p.s,
                    beta: p.beta,
                    log_likelihood: fit.log_likelihood,
                    standard_errors: fit.standard_errors,
                }),
            )
        }
    };
    clock.lap(&format!(
        "fitted repeat-purchase model ({} evaluations, {} gradients)",
        bgnbd::EVALS.load(std::sync::atomic::Ordering::Relaxed),
        bgnbd::GRADS.load(std::sync::atomic::Ordering::Relaxed)
    ));
    let gg = match gamma_gamma::fit(
        summary.customers.iter().map(|c| (c.frequency, c.monetary)),
        None,
    ) {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!(
                "warning: Gamma-Gamma spend model not fitted ({e}); CLV uses observed mean spend"
            );
            None
        }
    };
    clock.lap("fitted Gamma-Gamma");
    let horizon = args
        .horizon
        .unwrap_or_else(|| (365.2425 / period.days()).round());
    let values: Vec<CustomerValue> = clv::score(
        &model,
        gg.as_ref().map(|g| &g.params),
        &summary,
        &ClvOptions {
            horizon,
            step: 1.0,
            discount_rate: args.discount_rate,
            margin_rate: args.margin_rate,
        },
    )?;
    let holdout = match args.holdout_end {
        Some(_) => Some(clv::holdout_check(&model, &summary)?),
        None => None,
    };
    clock.lap("scored customers");
    let rows: Vec<Row<'_>> = values
        .iter()
        .map(|v| Row {
            customer_id: tx.customer_id(v.customer),
            frequency: v.frequency,
            recency: v.recency,
            t: v.t,
            monetary: v.monetary,
            p_alive: v.p_alive,
            expected_purchases: v.expected_purchases,
            expected_spend: v.expected_spend,
            clv: v.clv,
        })
        .collect();
    let result = match args.input.format {
        Format::Json => write_json(&Report {
            period: period.as_str(),
            calibration_end: args.calibration_end.to_string(),
            customers: rows.len(),
            bgnbd: bg_out,
            pareto_nbd: pn_out,
            gamma_gamma: gg.map(|g| GammaGammaOut {
                p: g.params.p,
                q: g.params.q,
                gamma: g.params.gamma,
                log_likelihood: g.log_likelihood,
                standard_errors: g.standard_errors,
            }),
            holdout,
            horizon,
            discount_rate: args.discount_rate,
            per_customer: rows,
        }),
        Format::Csv => write_csv(&rows),
        Format::Table => {
            let mut pre = vec![
                ("period".to_string(), period.as_str().to_string()),
                ("customers".to_string(), rows.len().to_string()),
            ];
            match (&bg_out, &pn_out) {
                (Some(b), _) => pre.push((
                    "BG/NBD".into(),
                    format!(
                        "r={:.4} alpha={:.4} a={:.4} b={:.4} log-likelihood={:.2}",
                        b.r, b.alpha, b.a, b.b, b.log_likelihood
                    ),
                )),
                (_, Some(p)) => pre.push((
                    "Pareto/NBD".into(),
                    format!(
                        "r={:.4} alpha={:.4} s={:.4} beta={:.4} log-likelihood={:.2}",
                        p.r, p.alpha, p.s, p.beta, p.log_likelihood
                    ),
                )),
                _ => {}
            }
            if let Some(g) = &gg {
                pre.push((
                    "Gamma-Gamma".into(),
                    format!(
                        "p={:.4} q={:.4} gamma={:.4}",
                        g.params.p, g.params.q, g.params.gamma
                    ),
                ));
            }
            if let Some(h) = holdout {
                pre.push((
                    "holdout".into(),
                    format!(
                        "actual {:.0}, predicted {:.1} over {:.1} periods",
                        h.actual, h.predicted, h.periods
                    ),
                ));
            }
            write_table(&pre, &rows)
        }
    };
    clock.lap("wrote report");
    result
}
