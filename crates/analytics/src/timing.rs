//! Contact timing: each customer's usual gap between purchases and the window in which the next
//! purchase is due — so a salesperson calls when the customer is about to buy, not after a
//! competitor has taken the order.
//!
//! # Method
//!
//! The gaps between consecutive purchase days (same-day purchases merged) are the customer's
//! inter-purchase intervals. The **usual interval** is their median (robust to one unusually long
//! pause). The **due window** runs from the last purchase plus the lower quartile of the intervals
//! to the last purchase plus the upper quartile (quartiles by linear interpolation between order
//! statistics, "type 7" in Hyndman & Fan, *The American Statistician* 50(4), 1996). With fewer than
//! [`TimingConfig::min_intervals_for_quartiles`] intervals the window is the median ± a configurable
//! fraction. A customer is *not yet due* before the window, *due* inside it, and *overdue* after
//! it; customers with a single purchase have no usual interval (*unknown*).

use serde::Serialize;

use crate::transactions::{DayNumber, History};

/// Settings for [`timing`].
#[derive(Clone, Copy, Debug)]
pub struct TimingConfig {
    /// Below this many intervals, the window is median × (1 ± `fallback_spread`).
    pub min_intervals_for_quartiles: usize,
    /// Half-width of the fallback window as a fraction of the median.
    pub fallback_spread: f64,
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig {
            min_intervals_for_quartiles: 3,
            fallback_spread: 0.25,
        }
    }
}

/// Where a customer stands relative to their due window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    /// Only one purchase: no usual interval yet.
    Unknown,
    /// Before the window.
    NotYetDue,
    /// Inside the window: contact now.
    Due,
    /// Past the window.
    Overdue,
}

impl DueStatus {
    /// English label.
    pub fn en(self) -> &'static str {
        match self {
            DueStatus::Unknown => "unknown",
            DueStatus::NotYetDue => "not yet due",
            DueStatus::Due => "due",
            DueStatus::Overdue => "overdue",
        }
    }
    /// Simplified Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            DueStatus::Unknown => "未知",
            DueStatus::NotYetDue => "未到期",
            DueStatus::Due => "到期",
            DueStatus::Overdue => "逾期",
        }
    }
}

/// One customer's purchase rhythm as of a date.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PurchaseTiming {
    /// Purchase days up to the as-of date.
    pub purchases: usize,
    /// Median days between purchases.
    pub median_interval_days: Option<f64>,
    /// Last purchase day.
    pub last_purchase: Option<DayNumber>,
    /// First day of the due window.
    pub due_from: Option<DayNumber>,
    /// Last day of the due window.
    pub due_to: Option<DayNumber>,
    /// Position relative to the window.
    pub status: DueStatus,
    /// Days since the last purchase.
    pub days_since_last: Option<i32>,
}

/// Quantile by linear interpolation of sorted data (Hyndman-Fan type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The purchase rhythm of `history` as of `as_of` (purchases after `as_of` are ignored).
pub fn timing(history: &History<'_>, as_of: DayNumber, config: &TimingConfig) -> PurchaseTiming {
    let n = history.days.partition_point(|&d| d <= as_of);
    let days = &history.days[..n];
    let last = days.last().copied();
    let mut gaps: Vec<f64> = days.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
    gaps.sort_unstable_by(f64::total_cmp);
    let median = quantile_sorted(&gaps, 0.5);
    let (lo, hi) = match median {
        Some(m) if gaps.len() < config.min_intervals_for_quartiles => (
            Some(m * (1.0 - config.fallback_spread)),
            Some(m * (1.0 + config.fallback_spread)),
        ),
        Some(_) => (quantile_sorted(&gaps, 0.25), quantile_sorted(&gaps, 0.75)),
        None => (None, None),
    };
    let (due_from, due_to) = match (last, lo, hi) {
        (Some(l), Some(a), Some(b)) => (Some(l + a.round() as i32), Some(l + b.round() as i32)),
        _ => (None, None),
    };
    let status = match (due_from, due_to) {
        (Some(f), _) if as_of < f => DueStatus::NotYetDue,
        (Some(_), Some(t)) if as_of <= t => DueStatus::Due,
        (Some(_), Some(_)) => DueStatus::Overdue,
        _ => DueStatus::Unknown,
    };
    PurchaseTiming {
        purchases: n,
        median_interval_days: median,
        last_purchase: last,
        due_from,
        due_to,
        status,
        days_since_last: last.map(|l| as_of - l),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn hist(days: &[DayNumber]) -> (Vec<DayNumber>, Vec<f64>) {
        (days.to_vec(), vec![1.0; days.len()])
    }

    #[test]
    fn weekly_buyer() {
        let (d, a) = hist(&[0, 7, 14, 21, 30]);
        let h = History {
            days: &d,
            amounts: &a,
            costs: None,
        };
        let t = timing(&h, 33, &TimingConfig::default());
        assert_eq!(t.median_interval_days, Some(7.0));
        assert_eq!(t.due_from, Some(37));
        assert_eq!(t.status, DueStatus::NotYetDue);
        assert_eq!(
            timing(&h, 38, &TimingConfig::default()).status,
            DueStatus::Due
        );
        assert_eq!(
            timing(&h, 60, &TimingConfig::default()).status,
            DueStatus::Overdue
        );
        let single = History {
            days: &d[..1],
            amounts: &a[..1],
            costs: None,
        };
        assert_eq!(
            timing(&single, 60, &TimingConfig::default()).status,
            DueStatus::Unknown
        );
    }
}
