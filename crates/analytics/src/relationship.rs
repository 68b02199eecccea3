//! The level of relationship worth building with a customer: 基本型 (basic: just sell),
//! 反应型 (reactive: invite them to call with any problem), 可靠型 (accountable: call soon after
//! the sale to ask how it went), 主动型 (proactive: keep in touch with ideas for improvements and
//! new uses), 合伙型 (partnership: work alongside them so they do better).
//!
//! # Source
//!
//! The five levels and the grid that picks one from how many customers there are and the margin
//! each brings: Kotler, *Marketing Management* (the "levels of relationship marketing" table), as
//! the seed strategy deck words it ("客户关系建设的几种类型: 客户数量 × 利润比例").
//!
//! ```text
//!                     high margin    medium margin   low margin
//!   many customers    accountable    reactive        basic
//!   medium number     proactive      accountable     reactive
//!   few customers     partnership    proactive       accountable
//! ```
//!
//! # Per customer
//!
//! The grid is about a segment; a customer is placed by the segment it belongs to. "How many
//! customers are like it" is read from its value rank: the top tenth by revenue are the few, the
//! next three tenths a medium number, the rest the many. Its margin is high, medium or low by
//! thirds of the gross margin rate among the customers whose costs are known.

use serde::Serialize;

/// A relationship level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Basic,
    Reactive,
    Accountable,
    Proactive,
    Partnership,
}

impl Level {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Level::Basic => "basic",
            Level::Reactive => "reactive",
            Level::Accountable => "accountable",
            Level::Proactive => "proactive",
            Level::Partnership => "partnership",
        }
    }
}

/// A third (or band) of a dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Low,
    Medium,
    High,
}

impl Band {
    pub fn code(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
        }
    }
}

/// How many customers are like one of value decile `decile` (1 = top tenth by revenue):
/// `High` = many (deciles 5–10), `Medium` (2–4), `Low` = few (the top tenth).
pub fn count_band(decile: u8) -> Band {
    match decile {
        0 | 1 => Band::Low,
        2..=4 => Band::Medium,
        _ => Band::High,
    }
}

/// The grid.
pub fn level(customers: Band, margin: Band) -> Level {
    match (customers, margin) {
        (Band::High, Band::High) => Level::Accountable,
        (Band::High, Band::Medium) => Level::Reactive,
        (Band::High, Band::Low) => Level::Basic,
        (Band::Medium, Band::High) => Level::Proactive,
        (Band::Medium, Band::Medium) => Level::Accountable,
        (Band::Medium, Band::Low) => Level::Reactive,
        (Band::Low, Band::High) => Level::Partnership,
        (Band::Low, Band::Medium) => Level::Proactive,
        (Band::Low, Band::Low) => Level::Accountable,
    }
}

/// The thirds of `rates` (the margin rates of the customers whose costs are known): the two cut
/// points, or `None` with no rates.
pub fn margin_cuts(rates: &[f64]) -> Option<(f64, f64)> {
    let mut sorted: Vec<f64> = rates.iter().copied().filter(|r| r.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    Some((at(1.0 / 3.0), at(2.0 / 3.0)))
}

/// A margin rate's band given the cuts: below the first is low, above the second high.
pub fn margin_band(rate: f64, (low, high): (f64, f64)) -> Band {
    if rate > high {
        Band::High
    } else if rate < low {
        Band::Low
    } else {
        Band::Medium
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_reads_as_the_book() {
        assert_eq!(level(Band::High, Band::Low), Level::Basic);
        assert_eq!(level(Band::Low, Band::High), Level::Partnership);
        assert_eq!(level(Band::Medium, Band::Medium), Level::Accountable);
        // The diagonal from many-and-high to few-and-low is accountable throughout.
        for (c, m) in [(Band::High, Band::High), (Band::Low, Band::Low)] {
            assert_eq!(level(c, m), Level::Accountable);
        }
    }

    #[test]
    fn the_top_tenth_are_the_few_and_margins_split_in_thirds() {
        assert_eq!(count_band(1), Band::Low);
        assert_eq!(count_band(3), Band::Medium);
        assert_eq!(count_band(10), Band::High);
        let rates: Vec<f64> = (0..9).map(|i| f64::from(i) / 10.0).collect();
        let cuts = margin_cuts(&rates).unwrap();
        assert_eq!(margin_band(0.05, cuts), Band::Low);
        assert_eq!(margin_band(0.4, cuts), Band::Medium);
        assert_eq!(margin_band(0.8, cuts), Band::High);
        assert!(margin_cuts(&[]).is_none());
    }
}
