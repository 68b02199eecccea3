//! RFM analysis: how recently, how often and how much each customer buys.
//!
//! # Source
//!
//! Hughes, A. M. (1994). *Strategic Database Marketing*. Probus. Hughes scores each of recency
//! (R), frequency (F) and monetary value (M) in quintiles, 5 being the best fifth of the file and
//! 1 the worst, and reads the three digits together as a cell code ("535"). The eight-segment
//! grid (重要价值客户, 重要发展客户, …) is the form taught in Chinese CRM courses: each of R, F and
//! M is called *high* or *low* by comparing it with the customer base's mean or median, and the
//! 2 × 2 × 2 combinations are named.
//!
//! # What the numbers mean, for a sales manager
//!
//! - **Recency** — days since the customer last bought, as of the analysis date. Fewer is better:
//!   a customer who bought last week is far likelier to buy again than one who last bought a year
//!   ago.
//! - **Frequency** — on how many different days the customer bought (several orders on one day
//!   count once).
//! - **Monetary** — how much the customer spent: in total by default, or per purchase day
//!   ([`MonetaryBasis`]).
//! - **R, F, M scores 1–5** — which fifth of the customer base the customer falls in; 5 is the
//!   best fifth (most recent, most frequent, biggest spender).
//! - **Segment** — one of eight groups that say what to do next: keep the important value
//!   customers happy, grow the important development ones, remind the important retention ones,
//!   win back the important win-back ones, and spend less on the general ones.
//!
//! # Quintile scores and ties (deterministic)
//!
//! For a customer with value `v` among `n` customers, let `L` be the number of customers with a
//! strictly *worse* value (larger recency; smaller frequency or monetary). The score is
//!
//! ```text
//! score = 1 + floor(5 · L / n)                                                     (1)
//! ```
//!
//! so tied customers always get the same score (the score of the first position of their tie,
//! like a "min" rank), the score is always in 1..=5, a better value never gets a lower score, and
//! the result does not depend on the order of the input rows. When many customers tie (for
//! example most bought only once), fewer than five distinct scores appear; that is the honest
//! answer rather than splitting identical customers at random.
//!
//! # High / low for the eight segments
//!
//! R is *high* when `recency_days` is strictly below the threshold (more recent than typical);
//! F and M are *high* when strictly above theirs. The thresholds are the mean or the median of
//! the customer base ([`Threshold`]), each of the three chosen separately.
//!
//! # CLI notes
//!
//! `guanxi analytics rfm --transactions FILE [--as-of DATE] [--threshold mean|median]
//! [--monetary total|average]`: build one [`Purchase`] per transaction row (customer id, date,
//! amount), call [`inputs_from_purchases`] with the as-of date (default: the day after the last
//! transaction, so a purchase on the last day has recency 1) and then [`analyze`]. Print
//! [`RfmReport::customers`] as the table/CSV rows (one row per customer) and
//! [`RfmReport::segments`] as the summary; JSON is the whole report.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use rayon::slice::ParallelSliceMut;

use crate::transactions::{Transactions, day_number};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors from RFM analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RfmError {
    /// No customers were given.
    #[error("no customers to analyse")]
    NoCustomers,
    /// A value was NaN, infinite or negative.
    #[error("customer {customer_id}: {field} must be a finite, non-negative number (got {value})")]
    InvalidValue {
        /// The customer.
        customer_id: String,
        /// Which field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// The same customer appeared twice.
    #[error("customer {0} appears more than once")]
    DuplicateCustomer(String),
}

/// One customer's recency, frequency and monetary value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmInput {
    /// Customer identifier.
    pub customer_id: String,
    /// Days from the last purchase to the as-of date (smaller = more recent).
    pub recency_days: f64,
    /// Number of purchase days (or purchases; whatever the caller counts).
    pub frequency: f64,
    /// Money spent (total or per purchase).
    pub monetary: f64,
}

/// One purchase, for building [`RfmInput`]s from raw transactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    /// Customer identifier.
    pub customer_id: String,
    /// Purchase date.
    pub date: NaiveDate,
    /// Amount paid.
    pub amount: f64,
}

/// How the monetary value is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MonetaryBasis {
    /// Total spend up to the as-of date (Hughes' default).
    #[default]
    Total,
    /// Average spend per purchase day.
    Average,
}

/// Builds RFM inputs from purchases as of a date.
///
/// Purchases after `as_of` are ignored; purchases on the same day count as one purchase day
/// (their amounts add). Recency is `as_of − last purchase date` in days, so a purchase on the
/// as-of date has recency 0. Customers with no purchase on or before `as_of` are left out. The
/// output is sorted by customer id.
pub fn inputs_from_purchases(
    purchases: &[Purchase],
    as_of: NaiveDate,
    basis: MonetaryBasis,
) -> Vec<RfmInput> {
    // customer -> (day -> amount)
    let mut by_customer: BTreeMap<&str, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for p in purchases.iter().filter(|p| p.date <= as_of) {
        *by_customer
            .entry(p.customer_id.as_str())
            .or_default()
            .entry(p.date)
            .or_insert(0.0) += p.amount;
    }
    by_customer
        .into_iter()
        .filter_map(|(id, days)| {
            let last = *days.keys().next_back()?;
            let frequency = days.len() as f64;
            let total: f64 = days.values().sum();
            let monetary = match basis {
                MonetaryBasis::Total => total,
                MonetaryBasis::Average => total / frequency,
            };
            Some(RfmInput {
                customer_id: id.to_string(),
                recency_days: (as_of - last).num_days() as f64,
                frequency,
                monetary,
            })
        })
        .collect()
}

/// Builds RFM inputs from parsed [`Transactions`] as of a date, with the same rules as
/// [`inputs_from_purchases`] (same-day purchases already merged by the history). Sorted by
/// customer id.
pub fn inputs_from_transactions(
    tx: &Transactions,
    as_of: NaiveDate,
    basis: MonetaryBasis,
) -> Vec<RfmInput> {
    let cut = day_number(as_of);
    let histories = tx.histories();
    let mut out: Vec<RfmInput> = histories
        .iter()
        .filter_map(|(key, h)| {
            let k = h.days.partition_point(|d| *d <= cut);
            let last = *h.days[..k].last()?;
            let frequency = k as f64;
            let total: f64 = h.amounts[..k].iter().sum();
            Some(RfmInput {
                customer_id: tx.customer_id(key).to_string(),
                recency_days: f64::from(cut - last),
                frequency,
                monetary: match basis {
                    MonetaryBasis::Total => total,
                    MonetaryBasis::Average => total / frequency,
                },
            })
        })
        .collect();
    out.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    out
}

/// How "high" and "low" are split for the eight segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// The arithmetic mean of the customer base.
    Mean,
    /// The median of the customer base (robust to a few huge customers).
    #[default]
    Median,
}

/// Configuration of the RFM analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RfmConfig {
    /// Threshold for recency.
    pub recency_threshold: Threshold,
    /// Threshold for frequency.
    pub frequency_threshold: Threshold,
    /// Threshold for monetary value.
    pub monetary_threshold: Threshold,
}

impl RfmConfig {
    /// The same threshold for all three.
    pub fn all(threshold: Threshold) -> Self {
        Self {
            recency_threshold: threshold,
            frequency_threshold: threshold,
            monetary_threshold: threshold,
        }
    }
}

/// The eight classic RFM segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RfmSegment {
    /// R high, F high, M high.
    ImportantValue,
    /// R high, F low, M high.
    ImportantDevelopment,
    /// R low, F high, M high.
    ImportantRetention,
    /// R low, F low, M high.
    ImportantWinBack,
    /// R high, F high, M low.
    GeneralValue,
    /// R high, F low, M low.
    GeneralDevelopment,
    /// R low, F high, M low.
    GeneralRetention,
    /// R low, F low, M low.
    GeneralWinBack,
}

impl RfmSegment {
    /// All segments, most valuable first.
    pub const ALL: [RfmSegment; 8] = [
        RfmSegment::ImportantValue,
        RfmSegment::ImportantDevelopment,
        RfmSegment::ImportantRetention,
        RfmSegment::ImportantWinBack,
        RfmSegment::GeneralValue,
        RfmSegment::GeneralDevelopment,
        RfmSegment::GeneralRetention,
        RfmSegment::GeneralWinBack,
    ];

    /// The segment for high/low R, F, M.
    pub fn from_flags(r_high: bool, f_high: bool, m_high: bool) -> Self {
        match (r_high, f_high, m_high) {
            (true, true, true) => Self::ImportantValue,
            (true, false, true) => Self::ImportantDevelopment,
            (false, true, true) => Self::ImportantRetention,
            (false, false, true) => Self::ImportantWinBack,
            (true, true, false) => Self::GeneralValue,
            (true, false, false) => Self::GeneralDevelopment,
            (false, true, false) => Self::GeneralRetention,
            (false, false, false) => Self::GeneralWinBack,
        }
    }

    /// Stable machine name (snake_case), as serialized.
    pub fn code(self) -> &'static str {
        match self {
            Self::ImportantValue => "important_value",
            Self::ImportantDevelopment => "important_development",
            Self::ImportantRetention => "important_retention",
            Self::ImportantWinBack => "important_win_back",
            Self::GeneralValue => "general_value",
            Self::GeneralDevelopment => "general_development",
            Self::GeneralRetention => "general_retention",
            Self::GeneralWinBack => "general_win_back",
        }
    }

    /// Name in Simplified Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::ImportantValue => "重要价值客户",
            Self::ImportantDevelopment => "重要发展客户",
            Self::ImportantRetention => "重要保持客户",
            Self::ImportantWinBack => "重要挽留客户",
            Self::GeneralValue => "一般价值客户",
            Self::GeneralDevelopment => "一般发展客户",
            Self::GeneralRetention => "一般保持客户",
            Self::GeneralWinBack => "一般挽留客户",
        }
    }

    /// Name in English.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::ImportantValue => "Important value",
            Self::ImportantDevelopment => "Important development",
            Self::ImportantRetention => "Important retention",
            Self::ImportantWinBack => "Important win-back",
            Self::GeneralValue => "General value",
            Self::GeneralDevelopment => "General development",
            Self::GeneralRetention => "General retention",
            Self::GeneralWinBack => "General win-back",
        }
    }

    /// What to do with these customers, in English.
    pub fn advice_en(self) -> &'static str {
        match self {
            Self::ImportantValue => {
                "Recent, frequent, big spenders: your best customers. Give them VIP service and keep them."
            }
            Self::ImportantDevelopment => {
                "Recent big spenders who buy rarely: raise their purchase frequency (cross-sell, loyalty offers)."
            }
            Self::ImportantRetention => {
                "Frequent big spenders who have not bought lately: contact them before they drift away."
            }
            Self::ImportantWinBack => {
                "Big spenders who buy rarely and not lately: at risk of loss; a personal win-back effort pays."
            }
            Self::GeneralValue => {
                "Recent and frequent but small baskets: raise basket size (bundles, up-sell)."
            }
            Self::GeneralDevelopment => {
                "New or occasional small buyers: nurture cheaply with automated campaigns."
            }
            Self::GeneralRetention => {
                "Used to buy often, small amounts, not lately: low-cost reminders."
            }
            Self::GeneralWinBack => "Low on all three: minimal spend; reactivate only cheaply.",
        }
    }

    /// What to do with these customers, in Chinese.
    pub fn advice_zh(self) -> &'static str {
        match self {
            Self::ImportantValue => "最近购买、频次高、金额大：最优质客户，提供VIP服务，重点维系。",
            Self::ImportantDevelopment => {
                "最近购买、金额大但频次低：提高购买频次（交叉销售、会员优惠）。"
            }
            Self::ImportantRetention => "频次高、金额大但近期未购买：主动联系，防止流失。",
            Self::ImportantWinBack => "金额大但频次低且近期未购买：有流失风险，值得一对一挽留。",
            Self::GeneralValue => "最近购买、频次高但金额小：提升客单价（组合销售、向上销售）。",
            Self::GeneralDevelopment => "新客户或偶尔购买的小客户：以低成本自动化营销培育。",
            Self::GeneralRetention => "过去常买、金额小、近期未购买：低成本提醒。",
            Self::GeneralWinBack => "三项均低：控制投入，仅做低成本唤醒。",
        }
    }
}

/// One customer's RFM result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmScore {
    /// Customer identifier.
    pub customer_id: String,
    /// Days since the last purchase.
    pub recency_days: f64,
    /// Purchase count.
    pub frequency: f64,
    /// Money spent.
    pub monetary: f64,
    /// Recency quintile score, 1–5 (5 = most recent fifth).
    pub r_score: u8,
    /// Frequency quintile score, 1–5 (5 = most frequent fifth).
    pub f_score: u8,
    /// Monetary quintile score, 1–5 (5 = biggest-spending fifth).
    pub m_score: u8,
    /// The three scores as a cell code, e.g. "535".
    pub rfm_cell: String,
    /// Whether recency is better (smaller) than the threshold.
    pub r_high: bool,
    /// Whether frequency is above the threshold.
    pub f_high: bool,
    /// Whether monetary value is above the threshold.
    pub m_high: bool,
    /// The segment.
    pub segment: RfmSegment,
    /// The segment's Chinese name.
    pub segment_zh: String,
    /// The segment's English name.
    pub segment_en: String,
}

/// Per-segment summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// The segment.
    pub segment: RfmSegment,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Number of customers in it.
    pub customers: usize,
    /// Share of all customers, 0–1.
    pub customer_share: f64,
    /// Sum of the monetary values in it.
    pub monetary: f64,
    /// Share of all monetary value, 0–1.
    pub monetary_share: f64,
    /// Recommended action, English.
    pub advice_en: String,
    /// Recommended action, Chinese.
    pub advice_zh: String,
}

/// The thresholds actually used for high/low.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmThresholds {
    /// Recency threshold in days (high R = strictly fewer days).
    pub recency_days: f64,
    /// Frequency threshold (high F = strictly more).
    pub frequency: f64,
    /// Monetary threshold (high M = strictly more).
    pub monetary: f64,
    /// The configuration that produced them.
    pub config: RfmConfig,
}

/// The full RFM result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmReport {
    /// Thresholds used for the segments.
    pub thresholds: RfmThresholds,
    /// One row per customer, in input order.
    pub customers: Vec<RfmScore>,
    /// All eight segments (including empty ones), most valuable first.
    pub segments: Vec<SegmentSummary>,
}

fn check(id: &str, field: &'static str, value: f64) -> Result<(), RfmError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(RfmError::InvalidValue {
            customer_id: id.to_string(),
            field,
            value,
        })
    }
}

/// Arithmetic mean (0 for an empty slice).
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Median (mean of the two middle values for an even count; 0 for an empty slice).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn threshold_of(values: &[f64], t: Threshold) -> f64 {
    match t {
        Threshold::Mean => mean(values),
        Threshold::Median => median(values),
    }
}

/// Quintile scores by equation (1) for values where *larger is better*.
///
/// `scores[i] = 1 + floor(5 · #{j : values[j] < values[i]} / n)`. Ties share a score; the result
/// is independent of input order.
pub fn quintile_scores(values: &[f64]) -> Vec<u8> {
    quantile_scores(values, 5)
}

/// Equation (1) generalised to `k` groups: `1 + floor(k · L / n)`, in 1..=k.
pub fn quantile_scores(values: &[f64], k: u32) -> Vec<u8> {
    let n = values.len();
    if n == 0 || k == 0 {
        return vec![0; n];
    }
    // Sort positions by value, then walk the ties: every member of a tie starting at sorted
    // position `i` has exactly `i` values strictly below it.
    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut scores = vec![0u8; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && values[order[j]].total_cmp(&values[order[i]]).is_eq() {
            j += 1;
        }
        let s = (1 + u64::from(k) * i as u64 / n as u64).min(u64::from(k));
        let s = u8::try_from(s).unwrap_or(u8::MAX);
        for &p in &order[i..j] {
            scores[p] = s;
        }
        i = j;
    }
    scores
}

/// The values at which a quantile score of equation (1) steps up, one per step (`k − 1`): a
/// value scores one more than the number of edges it exceeds, which is exactly
/// [`quantile_scores`] for the values themselves and places any other value among them.
///
/// A score of at least `s` needs `L ≥ c = ⌈(s − 1)·n / k⌉` values below it, that is a value
/// above the `c`-th smallest.
pub fn quantile_edges(values: &[f64], k: u32) -> Vec<f64> {
    let n = values.len();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let mut sorted = values.to_vec();
    sorted.par_sort_unstable_by(f64::total_cmp);
    let k = k as usize;
    (2..=k)
        .map(|s| sorted[((s - 1) * n).div_ceil(k).max(1) - 1])
        .collect()
}

/// The score of `value` against [`quantile_edges`].
pub fn score_by_edges(edges: &[f64], value: f64) -> u8 {
    let above = edges.iter().filter(|e| value > **e).count();
    u8::try_from(1 + above).unwrap_or(u8::MAX)
}

/// What places one customer among the customers an analysis scored: the quintile edges of each
/// dimension and the high/low thresholds. Kept by a refresh to score one customer again later
/// as the whole population was scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmCuts {
    /// Edges of the negated recency (smaller recency is better).
    pub recency: Vec<f64>,
    /// Edges of frequency.
    pub frequency: Vec<f64>,
    /// Edges of the monetary value.
    pub monetary: Vec<f64>,
    /// High/low thresholds.
    pub thresholds: RfmThresholds,
}

impl RfmCuts {
    /// The cuts of `inputs` (already checked).
    pub fn of(inputs: &[RfmInput], config: &RfmConfig) -> RfmCuts {
        let rec: Vec<f64> = inputs.iter().map(|i| i.recency_days).collect();
        let freq: Vec<f64> = inputs.iter().map(|i| i.frequency).collect();
        let mon: Vec<f64> = inputs.iter().map(|i| i.monetary).collect();
        let neg_rec: Vec<f64> = rec.iter().map(|r| -r).collect();
        RfmCuts {
            recency: quantile_edges(&neg_rec, 5),
            frequency: quantile_edges(&freq, 5),
            monetary: quantile_edges(&mon, 5),
            thresholds: RfmThresholds {
                recency_days: threshold_of(&rec, config.recency_threshold),
                frequency: threshold_of(&freq, config.frequency_threshold),
                monetary: threshold_of(&mon, config.monetary_threshold),
                config: *config,
            },
        }
    }

    /// One customer's scores and segment.
    pub fn score(&self, i: &RfmInput) -> RfmScore {
        let t = &self.thresholds;
        let r_high = i.recency_days < t.recency_days;
        let f_high = i.frequency > t.frequency;
        let m_high = i.monetary > t.monetary;
        let segment = RfmSegment::from_flags(r_high, f_high, m_high);
        let (r, f, m) = (
            score_by_edges(&self.recency, -i.recency_days),
            score_by_edges(&self.frequency, i.frequency),
            score_by_edges(&self.monetary, i.monetary),
        );
        RfmScore {
            customer_id: i.customer_id.clone(),
            recency_days: i.recency_days,
            frequency: i.frequency,
            monetary: i.monetary,
            r_score: r,
            f_score: f,
            m_score: m,
            rfm_cell: format!("{r}{f}{m}"),
            r_high,
            f_high,
            m_high,
            segment,
            segment_zh: segment.name_zh().to_string(),
            segment_en: segment.name_en().to_string(),
        }
    }
}

/// Runs the RFM analysis.
///
/// Errors on empty input, duplicate customer ids, or negative/non-finite values.
pub fn analyze(inputs: &[RfmInput], config: &RfmConfig) -> Result<RfmReport, RfmError> {
    if inputs.is_empty() {
        return Err(RfmError::NoCustomers);
    }
    let mut seen = HashSet::with_capacity(inputs.len());
    for i in inputs {
        check(&i.customer_id, "recency_days", i.recency_days)?;
        check(&i.customer_id, "frequency", i.frequency)?;
        check(&i.customer_id, "monetary", i.monetary)?;
        if !seen.insert(i.customer_id.as_str()) {
            return Err(RfmError::DuplicateCustomer(i.customer_id.clone()));
        }
    }
    let mon: Vec<f64> = inputs.iter().map(|i| i.monetary).collect();
    let cuts = RfmCuts::of(inputs, config);
    let customers: Vec<RfmScore> = inputs.iter().map(|i| cuts.score(i)).collect();
    let thresholds = cuts.thresholds;
    let n = customers.len() as f64;
    let total_m: f64 = mon.iter().sum();
    let segments = RfmSegment::ALL
        .iter()
        .map(|&s| {
            let members = customers.iter().filter(|c| c.segment == s);
            let (count, money) = members.fold((0usize, 0.0), |(c, m), x| (c + 1, m + x.monetary));
            SegmentSummary {
                segment: s,
                name_zh: s.name_zh().to_string(),
                name_en: s.name_en().to_string(),
                customers: count,
                customer_share: count as f64 / n,
                monetary: money,
                monetary_share: if total_m > 0.0 { money / total_m } else { 0.0 },
                advice_en: s.advice_en().to_string(),
                advice_zh: s.advice_zh().to_string(),
            }
        })
        .collect();
    Ok(RfmReport {
        thresholds,
        customers,
        segments,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inp(id: &str, r: f64, f: f64, m: f64) -> RfmInput {
        RfmInput {
            customer_id: id.into(),
            recency_days: r,
            frequency: f,
            monetary: m,
        }
    }

    #[test]
    fn quintiles_of_ten_distinct_values() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintile_scores(&v), vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    }

    #[test]
    fn ties_share_the_min_rank_score() {
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quintile_scores(&v), vec![1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
    }

    #[test]
    fn eight_segments_by_median() {
        // Medians: R=30, F=3, M=300 computed over these 8 + 1 neutral customers.
        let rows = vec![
            inp("iv", 5.0, 9.0, 900.0),
            inp("id", 5.0, 1.0, 900.0),
            inp("ir", 90.0, 9.0, 900.0),
            inp("iw", 90.0, 1.0, 900.0),
            inp("gv", 5.0, 9.0, 10.0),
            inp("gd", 5.0, 1.0, 10.0),
            inp("gr", 90.0, 9.0, 10.0),
            inp("gw", 90.0, 1.0, 10.0),
            inp("mid", 30.0, 3.0, 300.0),
        ];
        let rep = analyze(&rows, &RfmConfig::default()).unwrap();
        assert_eq!(rep.thresholds.recency_days, 30.0);
        assert_eq!(rep.thresholds.frequency, 3.0);
        assert_eq!(rep.thresholds.monetary, 300.0);
        let seg: Vec<RfmSegment> = rep.customers.iter().map(|c| c.segment).collect();
        assert_eq!(&seg[..8], &RfmSegment::ALL[..]);
        assert_eq!(rep.customers[8].segment, RfmSegment::GeneralWinBack);
        assert_eq!(rep.customers[0].segment_zh, "重要价值客户");
        assert_eq!(rep.segments.len(), 8);
        assert_eq!(rep.segments.iter().map(|s| s.customers).sum::<usize>(), 9);
    }

    #[test]
    fn mean_threshold_is_pulled_by_a_whale() {
        let rows = vec![
            inp("a", 1.0, 1.0, 10.0),
            inp("b", 1.0, 1.0, 20.0),
            inp("c", 1.0, 1.0, 30.0),
            inp("whale", 1.0, 1.0, 10_000.0),
        ];
        let med = analyze(&rows, &RfmConfig::all(Threshold::Median)).unwrap();
        let mea = analyze(&rows, &RfmConfig::all(Threshold::Mean)).unwrap();
        assert!(med.customers[2].m_high);
        assert!(!mea.customers[2].m_high);
        assert!(mea.customers[3].m_high);
    }

    #[test]
    fn inputs_from_purchases_merges_days_and_cuts_at_as_of() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = |c: &str, day: &str, a: f64| Purchase {
            customer_id: c.into(),
            date: d(day),
            amount: a,
        };
        let purchases = vec![
            p("b", "2024-01-10", 5.0),
            p("a", "2024-01-01", 10.0),
            p("a", "2024-01-01", 15.0),
            p("a", "2024-01-20", 25.0),
            p("a", "2024-03-01", 99.0), // after as-of
            p("c", "2024-02-01", 1.0),  // only after as-of
        ];
        let out = inputs_from_purchases(&purchases, d("2024-01-31"), MonetaryBasis::Total);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], inp("a", 11.0, 2.0, 50.0));
        assert_eq!(out[1], inp("b", 21.0, 1.0, 5.0));
        let avg = inputs_from_purchases(&purchases, d("2024-01-31"), MonetaryBasis::Average);
        assert_eq!(avg[0].monetary, 25.0);
    }

    #[test]
    fn transactions_adapter_matches_purchases() {
        use crate::transactions::TransactionsBuilder;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let rows = [
            ("a", "2024-01-01", 10.0),
            ("a", "2024-01-01", 15.0),
            ("a", "2024-01-20", 25.0),
            ("b", "2024-01-10", 5.0),
            ("a", "2024-03-01", 99.0),
        ];
        let mut b = TransactionsBuilder::new();
        let mut purchases = Vec::new();
        for (c, day, amt) in rows {
            b.push(c, d(day), amt, None, None, None).unwrap();
            purchases.push(Purchase {
                customer_id: c.into(),
                date: d(day),
                amount: amt,
            });
        }
        let tx = b.build();
        for basis in [MonetaryBasis::Total, MonetaryBasis::Average] {
            assert_eq!(
                inputs_from_transactions(&tx, d("2024-01-31"), basis),
                inputs_from_purchases(&purchases, d("2024-01-31"), basis)
            );
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            analyze(&[], &RfmConfig::default()),
            Err(RfmError::NoCustomers)
        );
        assert!(matches!(
            analyze(&[inp("a", f64::NAN, 1.0, 1.0)], &RfmConfig::default()),
            Err(RfmError::InvalidValue { .. })
        ));
        assert_eq!(
            analyze(
                &[inp("a", 1.0, 1.0, 1.0), inp("a", 2.0, 1.0, 1.0)],
                &RfmConfig::default()
            ),
            Err(RfmError::DuplicateCustomer("a".into()))
        );
    }

    /// Agreement with pandas: `1 + floor(5 * (rank(method="min") - 1) / n)`, fixture made by
    /// `tests/reference/segments_reference.py`.
    #[test]
    fn quintiles_agree_with_pandas_rank_min() {
        let text = include_str!("../tests/reference/segments_rfm_quintiles.csv");
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let mut rows = Vec::new();
        let mut expected = Vec::new();
        for rec in rdr.records() {
            let rec = rec.unwrap();
            rows.push(inp(
                &rec[0],
                rec[1].parse().unwrap(),
                rec[2].parse().unwrap(),
                rec[3].parse().unwrap(),
            ));
            expected.push((
                rec[4].parse::<u8>().unwrap(),
                rec[5].parse::<u8>().unwrap(),
                rec[6].parse::<u8>().unwrap(),
                rec[7].to_string(),
            ));
        }
        assert!(rows.len() >= 50);
        let rep = analyze(&rows, &RfmConfig::all(Threshold::Median)).unwrap();
        for (c, e) in rep.customers.iter().zip(&expected) {
            assert_eq!(
                (c.r_score, c.f_score, c.m_score),
                (e.0, e.1, e.2),
                "{}",
                c.customer_id
            );
            assert_eq!(c.segment.code(), e.3, "{}", c.customer_id);
        }
    }

    fn arb_rows() -> impl Strategy<Value = Vec<RfmInput>> {
        prop::collection::vec((0u32..400, 1u32..30, 0u32..5000), 1..60).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (r, f, m))| {
                    inp(&format!("c{i}"), f64::from(r), f64::from(f), f64::from(m))
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn edges_give_the_rank_scores(values in prop::collection::vec(0u32..50, 1..80), k in 1u32..11) {
            let values: Vec<f64> = values.into_iter().map(f64::from).collect();
            let edges = quantile_edges(&values, k);
            let by_edges: Vec<u8> = values.iter().map(|v| score_by_edges(&edges, *v)).collect();
            prop_assert_eq!(by_edges, quantile_scores(&values, k));
        }

        #[test]
        fn scores_in_bounds(rows in arb_rows()) {
            let rep = analyze(&rows, &RfmConfig::default()).unwrap();
            for c in &rep.customers {
                prop_assert!((1..=5).contains(&c.r_score));
                prop_assert!((1..=5).contains(&c.f_score));
                prop_assert!((1..=5).contains(&c.m_score));
            }
        }

        #[test]
        fn better_values_never_score_lower(rows in arb_rows()) {
            let rep = analyze(&rows, &RfmConfig::default()).unwrap();
            for a in &rep.customers {
                for b in &rep.customers {
                    if a.recency_days < b.recency_days { prop_assert!(a.r_score >= b.r_score); }
                    if a.frequency > b.frequency { prop_assert!(a.f_score >= b.f_score); }
                    if a.monetary > b.monetary { prop_assert!(a.m_score >= b.m_score); }
                }
            }
        }

        #[test]
        fn more_recent_never_lowers_own_r_score(rows in arb_rows(), k in 0usize..60, d in 1u32..100) {
            let k = k % rows.len();
            let before = analyze(&rows, &RfmConfig::default()).unwrap();
            let mut rows2 = rows.clone();
            rows2[k].recency_days = (rows2[k].recency_days - f64::from(d)).max(0.0);
            let after = analyze(&rows2, &RfmConfig::default()).unwrap();
            prop_assert!(after.customers[k].r_score >= before.customers[k].r_score);
        }

        #[test]
        fn invariant_to_row_order(rows in arb_rows(), seed in any::<u64>()) {
            let rep = analyze(&rows, &RfmConfig::default()).unwrap();
            let mut shuffled = rows.clone();
            // deterministic Fisher-Yates from the seed
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let rep2 = analyze(&shuffled, &RfmConfig::default()).unwrap();
            let key = |r: &RfmReport| {
                let mut v: Vec<_> = r.customers.iter().map(|c| (c.customer_id.clone(), c.rfm_cell.clone(), c.segment)).collect();
                v.sort();
                v
            };
            prop_assert_eq!(key(&rep), key(&rep2));
            prop_assert_eq!(rep.segments.iter().map(|s| s.customers).collect::<Vec<_>>(),
                            rep2.segments.iter().map(|s| s.customers).collect::<Vec<_>>());
        }
    }
}
