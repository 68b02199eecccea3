//! `guanxi analytics rfm`: recency, frequency and monetary scores and the eight RFM segments.

use anyhow::Context;
use chrono::{Duration, NaiveDate};
use clap::{Args, ValueEnum};
use guanxi_analytics::rfm::{
    self, MonetaryBasis, RfmConfig, RfmScore, RfmThresholds, SegmentSummary, Threshold,
};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, num, parse_date, safe_text, write_csv,
    write_json, write_table,
};

/// How "high" and "low" are split.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdChoice {
    /// The mean of the customer base.
    Mean,
    /// The median of the customer base.
    Median,
}

impl From<ThresholdChoice> for Threshold {
    fn from(t: ThresholdChoice) -> Threshold {
        match t {
            ThresholdChoice::Mean => Threshold::Mean,
            ThresholdChoice::Median => Threshold::Median,
        }
    }
}

/// How monetary value is measured.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonetaryChoice {
    /// Total spend up to the as-of date.
    Total,
    /// Average spend per purchase day.
    Average,
}

/// Arguments of `guanxi analytics rfm`.
#[derive(Args, Debug)]
pub struct RfmArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Analysis date; purchases after it are ignored (default: the day after the last
    /// transaction, so a purchase on the last day has recency 1).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Split high/low R, F and M at the mean or the median of the customer base.
    #[arg(long, value_enum, default_value_t = ThresholdChoice::Median)]
    pub threshold: ThresholdChoice,
    /// Monetary value: total spend or average spend per purchase day.
    #[arg(long, value_enum, default_value_t = MonetaryChoice::Total)]
    pub monetary: MonetaryChoice,
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: String,
    customers: usize,
    thresholds: &'a RfmThresholds,
    segments: &'a [SegmentSummary],
    per_customer: &'a [RfmScore],
}

impl Tabular for RfmScore {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "rfm_cell",
            "segment",
            "segment_zh",
            "segment_en",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            safe_text(&self.customer_id),
            num(Some(self.recency_days), 0),
            num(Some(self.frequency), 0),
            num(Some(self.monetary), 2),
            self.r_score.to_string(),
            self.f_score.to_string(),
            self.m_score.to_string(),
            self.rfm_cell.clone(),
            self.segment.code().to_string(),
            self.segment_zh.clone(),
            self.segment_en.clone(),
        ]
    }
}

/// Runs the command.
pub fn run(args: RfmArgs) -> anyhow::Result<()> {
    let tx = load(&args.input)?;
    // by default the day after the last purchase, so the latest buyers have a recency of 1
    let as_of = match args.as_of {
        Some(d) => d,
        None => as_of_or_last(None, &tx)? + Duration::days(1),
    };
    let basis = match args.monetary {
        MonetaryChoice::Total => MonetaryBasis::Total,
        MonetaryChoice::Average => MonetaryBasis::Average,
    };
    let inputs = rfm::inputs_from_transactions(&tx, as_of, basis);
    anyhow::ensure!(
        !inputs.is_empty(),
        "no customer made a purchase on or before {as_of}"
    );
    let report =
        rfm::analyze(&inputs, &RfmConfig::all(args.threshold.into())).context("RFM analysis")?;
    match args.input.format {
        Format::Json => write_json(&Report {
            as_of: as_of.to_string(),
            customers: report.customers.len(),
            thresholds: &report.thresholds,
            segments: &report.segments,
            per_customer: &report.customers,
        }),
        Format::Csv => write_csv(&report.customers),
        Format::Table => {
            let t = &report.thresholds;
            let mut pre = vec![
                ("as of".to_string(), as_of.to_string()),
                ("customers".to_string(), report.customers.len().to_string()),
                (
                    "thresholds".to_string(),
                    format!(
                        "recency < {:.1} days, frequency > {:.2}, monetary > {:.2}",
                        t.recency_days, t.frequency, t.monetary
                    ),
                ),
            ];
            for s in &report.segments {
                pre.push((
                    format!("{} / {}", s.name_zh, s.name_en),
                    format!(
                        "{} customers ({:.1}%), {:.1}% of monetary value",
                        s.customers,
                        100.0 * s.customer_share,
                        100.0 * s.monetary_share
                    ),
                ));
            }
            write_table(&pre, &report.customers)
        }
    }
}
