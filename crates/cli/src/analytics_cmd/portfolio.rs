//! `guanxi analytics portfolio`: customers placed by current value and growth into star / cash
//! cow / question mark / dog.

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use guanxi_analytics::portfolio::{
    self, AxisThreshold, Placement, PortfolioConfig, QuadrantSummary,
};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, num, parse_date, safe_text, write_csv,
    write_json, write_table,
};

/// Where "high" starts on an axis.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisChoice {
    /// The median of the customers.
    Median,
    /// The mean of the customers.
    Mean,
}

impl From<AxisChoice> for AxisThreshold {
    fn from(a: AxisChoice) -> AxisThreshold {
        match a {
            AxisChoice::Median => AxisThreshold::Median,
            AxisChoice::Mean => AxisThreshold::Mean,
        }
    }
}

/// Arguments of `guanxi analytics portfolio`.
#[derive(Args, Debug)]
pub struct PortfolioArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// End of the current window (default: the last transaction date in the file).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Length of the current window (and of the previous one it is compared with), days.
    #[arg(long, default_value_t = 365)]
    pub window_days: i64,
    /// High value = above the median or the mean of current revenue.
    #[arg(long, value_enum, default_value_t = AxisChoice::Median)]
    pub value_threshold: AxisChoice,
    /// High growth = above the median or the mean of the growth rates.
    #[arg(long, value_enum, default_value_t = AxisChoice::Median)]
    pub growth_threshold: AxisChoice,
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    window_days: i64,
    customers: usize,
    value_threshold: f64,
    growth_threshold: f64,
    quadrants: &'a [QuadrantSummary],
    per_customer: &'a [Placement],
}

impl Tabular for Placement {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "current_value",
            "growth",
            "quadrant",
            "quadrant_zh",
            "quadrant_en",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let code = serde_json::to_value(self.quadrant)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        vec![
            safe_text(&self.customer_id),
            num(Some(self.current_value), 2),
            num(Some(self.growth), 4),
            code,
            self.quadrant_zh.clone(),
            self.quadrant_en.clone(),
        ]
    }
}

/// Runs the command.
pub fn run(args: PortfolioArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.window_days > 0, "--window-days must be positive");
    let tx = load(&args.input)?;
    let as_of = as_of_or_last(args.as_of, &tx)?;
    let inputs = portfolio::inputs_from_transactions(&tx, as_of, args.window_days);
    anyhow::ensure!(
        !inputs.is_empty(),
        "no revenue in the {} days up to {as_of} nor in the window before",
        args.window_days
    );
    let report = portfolio::place(
        &inputs,
        &PortfolioConfig {
            value_threshold: args.value_threshold.into(),
            growth_threshold: args.growth_threshold.into(),
        },
    )
    .context("portfolio matrix")?;
    match args.input.format {
        Format::Json => write_json(&Report {
            as_of: as_of.to_string(),
            window_days: args.window_days,
            customers: report.customers.len(),
            value_threshold: report.value_threshold,
            growth_threshold: report.growth_threshold,
            quadrants: &report.quadrants,
            per_customer: &report.customers,
        }),
        Format::Csv => write_csv(&report.customers),
        Format::Table => {
            let mut pre = vec![
                ("as of".to_string(), as_of.to_string()),
                ("window".to_string(), format!("{} days", args.window_days)),
                (
                    "thresholds".to_string(),
                    format!(
                        "value > {:.2}, growth > {:.4}",
                        report.value_threshold, report.growth_threshold
                    ),
                ),
            ];
            for q in &report.quadrants {
                pre.push((
                    format!("{} / {}", q.name_zh, q.name_en),
                    format!(
                        "{} customers, value {:.2}: {}",
                        q.customers, q.value, q.advice_en
                    ),
                ));
            }
            write_table(&pre, &report.customers)
        }
    }
}
