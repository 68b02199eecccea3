//! `guanxi analytics lifecycle`: relationship stage, reason and purchase timing per customer.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::Args;
use guanxi_analytics::bgnbd;
use guanxi_analytics::lifecycle::{self, LifecycleConfig};
use guanxi_analytics::timing::{self, TimingConfig};
use guanxi_analytics::transactions::{
    Period, RepeatData, SummaryOptions, date_from_day_number, day_number,
};
use rayon::prelude::*;
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, num, parse_date, safe_text, write_csv,
    write_json, write_table,
};

/// Arguments of `guanxi analytics lifecycle`.
#[derive(Args, Debug)]
pub struct LifecycleArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Date the stages describe (default: the last transaction date in the file).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Do not fit BG/NBD for the probability alive (rules then use tenure, trend and inactivity).
    #[arg(long)]
    pub no_model: bool,
    /// Customers younger than this many days are in exploration (考察期).
    #[arg(long, default_value_t = LifecycleConfig::default().exploration_days)]
    pub exploration_days: i32,
    /// Customers older than this many days can be stable (稳定期).
    #[arg(long, default_value_t = LifecycleConfig::default().stability_days)]
    pub stability_days: i32,
    /// Window in days for the recent purchase trend.
    #[arg(long, default_value_t = LifecycleConfig::default().trend_window_days)]
    pub trend_window_days: i32,
    /// Trend at or below this means decline (-0.3 = purchase rate down 30%).
    #[arg(long, default_value_t = LifecycleConfig::default().decline_trend, allow_negative_numbers = true)]
    pub decline_trend: f64,
    /// Probability alive below this means decline.
    #[arg(long, default_value_t = LifecycleConfig::default().decline_p_alive)]
    pub decline_p_alive: f64,
    /// Probability alive below this means churned.
    #[arg(long, default_value_t = LifecycleConfig::default().churn_p_alive)]
    pub churn_p_alive: f64,
}

#[derive(Serialize)]
struct Row<'a> {
    customer_id: &'a str,
    stage: &'static str,
    stage_zh: &'static str,
    tenure_days: Option<i32>,
    purchases: usize,
    days_since_last: Option<i32>,
    trend: Option<f64>,
    p_alive: Option<f64>,
    median_interval_days: Option<f64>,
    next_due_from: Option<String>,
    next_due_to: Option<String>,
    due_status: &'static str,
    reason_en: String,
    reason_zh: String,
}

impl Tabular for Row<'_> {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "stage",
            "stage_zh",
            "tenure_days",
            "purchases",
            "days_since_last",
            "trend",
            "p_alive",
            "median_interval_days",
            "next_due_from",
            "next_due_to",
            "due_status",
            "reason_en",
            "reason_zh",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(self.customer_id),
            self.stage.into(),
            self.stage_zh.into(),
            self.tenure_days.map(|v| v.to_string()).unwrap_or_default(),
            self.purchases.to_string(),
            self.days_since_last
                .map(|v| v.to_string())
                .unwrap_or_default(),
            num(self.trend, 3),
            num(self.p_alive, 4),
            num(self.median_interval_days, 1),
            self.next_due_from.clone().unwrap_or_default(),
            self.next_due_to.clone().unwrap_or_default(),
            self.due_status.into(),
            safe_text(&self.reason_en),
            safe_text(&self.reason_zh),
        ]
    }
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    customers: usize,
    stages: BTreeMap<&'static str, usize>,
    per_customer: Vec<Row<'a>>,
}

/// Runs the command.
pub fn run(args: LifecycleArgs) -> anyhow::Result<()> {
    let tx = load(&args.input)?;
    let as_of = as_of_or_last(args.as_of, &tx)?;
    let as_of_day = day_number(as_of);
    let histories = tx.histories();
    // Probability alive from a BG/NBD fitted on weekly summaries as of the same date.
    let mut p_alive: Vec<Option<f64>> = vec![None; histories.len()];
    if !args.no_model {
        let summary = guanxi_analytics::transactions::summarize(
            &histories,
            &SummaryOptions {
                period: Period::Week,
                calibration_end: as_of,
                holdout_end: None,
            },
        )?;
        match RepeatData::from_summary(&summary)
            .map_err(anyhow::Error::from)
            .and_then(|d| Ok(bgnbd::fit(&d, &bgnbd::FitOptions::default())?))
        {
            Ok(fit) => {
                for c in &summary.customers {
                    p_alive[c.customer as usize] =
                        Some(fit.params.p_alive(c.frequency, c.recency, c.t));
                }
            }
            Err(e) => eprintln!("warning: BG/NBD not fitted ({e}); stages use behaviour only"),
        }
    }
    let cfg = LifecycleConfig {
        exploration_days: args.exploration_days,
        stability_days: args.stability_days,
        trend_window_days: args.trend_window_days,
        decline_trend: args.decline_trend,
        decline_p_alive: args.decline_p_alive,
        churn_p_alive: args.churn_p_alive,
        ..LifecycleConfig::default()
    };
    let tcfg = TimingConfig::default();
    let fmt_day = |d: Option<i32>| d.and_then(date_from_day_number).map(|d| d.to_string());
    let rows: Vec<Row<'_>> = (0..histories.len() as u32)
        .into_par_iter()
        .map(|k| {
            let h = histories.get(k);
            let a = lifecycle::assign(&h, as_of_day, p_alive[k as usize], &cfg);
            let t = timing::timing(&h, as_of_day, &tcfg);
            Row {
                customer_id: tx.customer_id(k),
                stage: a.stage.en(),
                stage_zh: a.stage.zh(),
                tenure_days: a.tenure_days,
                purchases: a.purchases,
                days_since_last: a.days_since_last,
                trend: a.trend,
                p_alive: a.p_alive,
                median_interval_days: t.median_interval_days,
                next_due_from: fmt_day(t.due_from),
                next_due_to: fmt_day(t.due_to),
                due_status: t.status.en(),
                reason_en: a.reason_en,
                reason_zh: a.reason_zh,
            }
        })
        .collect();
    let mut stages = BTreeMap::new();
    for r in &rows {
        *stages.entry(r.stage).or_insert(0usize) += 1;
    }
    match args.input.format {
        Format::Json => write_json(&Report {
            as_of: as_of.to_string(),
            customers: rows.len(),
            stages,
            per_customer: rows,
        }),
        Format::Csv => write_csv(&rows),
        Format::Table => {
            let mut pre = vec![("as of".to_string(), as_of.to_string())];
            for (s, n) in &stages {
                pre.push((s.to_string(), n.to_string()));
            }
            write_table(&pre, &rows)
        }
    }
}
