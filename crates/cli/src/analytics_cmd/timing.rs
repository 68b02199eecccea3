//! `guanxi analytics timing`: each customer's usual gap between purchases and the window in which
//! the next purchase is due.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::Args;
use guanxi_analytics::timing::{self, DueStatus, TimingConfig};
use guanxi_analytics::transactions::{date_from_day_number, day_number};
use rayon::prelude::*;
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, num, parse_date, safe_text, write_csv,
    write_json, write_table,
};

/// Arguments of `guanxi analytics timing`.
#[derive(Args, Debug)]
pub struct TimingArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Date the status describes (default: the last transaction date in the file).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Below this many intervals the due window is the median ± --fallback-spread.
    #[arg(long, default_value_t = TimingConfig::default().min_intervals_for_quartiles)]
    pub min_intervals: usize,
    /// Half-width of the fallback window as a fraction of the median interval.
    #[arg(long, default_value_t = TimingConfig::default().fallback_spread)]
    pub fallback_spread: f64,
}

#[derive(Serialize)]
struct Row<'a> {
    customer_id: &'a str,
    purchases: usize,
    median_interval_days: Option<f64>,
    last_purchase: Option<String>,
    days_since_last: Option<i32>,
    next_due_from: Option<String>,
    next_due_to: Option<String>,
    status: DueStatus,
    status_zh: &'static str,
    status_en: &'static str,
}

impl Tabular for Row<'_> {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "purchases",
            "median_interval_days",
            "last_purchase",
            "days_since_last",
            "next_due_from",
            "next_due_to",
            "status_zh",
            "status_en",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(self.customer_id),
            self.purchases.to_string(),
            num(self.median_interval_days, 1),
            self.last_purchase.clone().unwrap_or_default(),
            self.days_since_last
                .map(|d| d.to_string())
                .unwrap_or_default(),
            self.next_due_from.clone().unwrap_or_default(),
            self.next_due_to.clone().unwrap_or_default(),
            self.status_zh.to_string(),
            self.status_en.to_string(),
        ]
    }
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    customers: usize,
    statuses: BTreeMap<&'static str, usize>,
    per_customer: Vec<Row<'a>>,
}

/// Runs the command.
pub fn run(args: TimingArgs) -> anyhow::Result<()> {
    let tx = load(&args.input)?;
    let as_of = as_of_or_last(args.as_of, &tx)?;
    let as_of_day = day_number(as_of);
    let cfg = TimingConfig {
        min_intervals_for_quartiles: args.min_intervals,
        fallback_spread: args.fallback_spread,
    };
    let histories = tx.histories();
    let fmt_day = |d: Option<i32>| d.and_then(date_from_day_number).map(|d| d.to_string());
    let rows: Vec<Row<'_>> = (0..histories.len() as u32)
        .into_par_iter()
        .filter_map(|k| {
            let t = timing::timing(&histories.get(k), as_of_day, &cfg);
            // customers whose first purchase is after the as-of date are not customers yet
            (t.purchases > 0).then(|| Row {
                customer_id: tx.customer_id(k),
                purchases: t.purchases,
                median_interval_days: t.median_interval_days,
                last_purchase: fmt_day(t.last_purchase),
                days_since_last: t.days_since_last,
                next_due_from: fmt_day(t.due_from),
                next_due_to: fmt_day(t.due_to),
                status: t.status,
                status_zh: t.status.zh(),
                status_en: t.status.en(),
            })
        })
        .collect();
    anyhow::ensure!(
        !rows.is_empty(),
        "no customer made a purchase on or before {as_of}"
    );
    let mut statuses = BTreeMap::new();
    for r in &rows {
        *statuses.entry(r.status_en).or_insert(0usize) += 1;
    }
    match args.input.format {
        Format::Json => write_json(&Report {
            as_of: as_of.to_string(),
            customers: rows.len(),
            statuses,
            per_customer: rows,
        }),
        Format::Csv => write_csv(&rows),
        Format::Table => {
            let mut pre = vec![("as of".to_string(), as_of.to_string())];
            for (s, n) in &statuses {
                pre.push((s.to_string(), n.to_string()));
            }
            write_table(&pre, &rows)
        }
    }
}
