//! Customer portfolio matrix: current value × growth → star / cash cow / question mark / dog.
//!
//! # Source
//!
//! The growth-share matrix of the Boston Consulting Group (Henderson 1970, "The product
//! portfolio"), carried over from products to customers in the customer-portfolio literature
//! (Fiocca 1982, "Account portfolio analysis for strategy development", *Industrial Marketing
//! Management* 11; Terho & Halinen 2007). The axes here are the customer's current value (e.g.
//! revenue or margin this period) and its growth (e.g. the change from the previous period).
//!
//! # The quadrants, for a sales manager
//!
//! | quadrant | value | growth | what to do |
//! |---|---|---|---|
//! | **Star (明星客户)** | high | high | invest: they are big and getting bigger |
//! | **Cash cow (现金牛客户)** | high | low | keep efficiently: they pay the bills today |
//! | **Question mark (问题客户)** | low | high | pick the promising ones and develop them |
//! | **Dog (瘦狗客户)** | low | low | serve at minimal cost |
//!
//! "High" means strictly above the threshold; the thresholds are the median (default), the mean,
//! or a fixed number, chosen separately for value and growth.
//!
//! # Growth
//!
//! [`growth_rate`] gives `(current − previous) / |previous|`; when `previous` is zero it is `+1`
//! for a positive current value (a new customer counts as 100% growth) and 0 otherwise.
//!
//! # CLI notes
//!
//! A portfolio view needs two periods: the CLI can split the transactions at `--as-of` into the
//! last `--window-days` (current) and the window before it (previous), sum revenue per customer in
//! each, and build [`PortfolioInput`] with [`PortfolioInput::from_periods`]; then call [`place`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::pareto::values_from_transactions;
use crate::rfm::{mean, median};
use crate::transactions::Transactions;

/// Errors from the portfolio matrix.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PortfolioError {
    /// No customers.
    #[error("no customers to place")]
    NoCustomers,
    /// A value was not finite.
    #[error("customer {customer_id}: {field} must be finite (got {value})")]
    NotFinite {
        /// The customer.
        customer_id: String,
        /// Which field.
        field: &'static str,
        /// The value.
        value: f64,
    },
}

/// One customer's position inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioInput {
    /// Customer identifier.
    pub customer_id: String,
    /// Current value (e.g. revenue or margin this period).
    pub current_value: f64,
    /// Growth (e.g. a rate from [`growth_rate`]).
    pub growth: f64,
}

impl PortfolioInput {
    /// Builds the input from this period's and last period's value.
    pub fn from_periods(customer_id: impl Into<String>, previous: f64, current: f64) -> Self {
        Self {
            customer_id: customer_id.into(),
            current_value: current,
            growth: growth_rate(previous, current),
        }
    }
}

/// Portfolio inputs from parsed [`Transactions`]: current value = revenue in the `window_days`
/// ending at `as_of` (inclusive), previous = revenue in the window before it; growth by
/// [`growth_rate`]. Customers with revenue in neither window are left out. Sorted by id.
pub fn inputs_from_transactions(
    tx: &Transactions,
    as_of: NaiveDate,
    window_days: i64,
) -> Vec<PortfolioInput> {
    let w = chrono::Duration::days(window_days.max(1));
    let cur_start = as_of - w + chrono::Duration::days(1);
    let prev_end = cur_start - chrono::Duration::days(1);
    let prev_start = cur_start - w;
    let cur = values_from_transactions(tx, Some(cur_start), Some(as_of));
    let prev = values_from_transactions(tx, Some(prev_start), Some(prev_end));
    let mut by_id: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for v in prev {
        by_id.entry(v.customer_id).or_default().0 = v.revenue;
    }
    for v in cur {
        by_id.entry(v.customer_id).or_default().1 = v.revenue;
    }
    by_id
        .into_iter()
        .map(|(id, (p, c))| PortfolioInput::from_periods(id, p, c))
        .collect()
}

/// Growth rate from `previous` to `current` (see the module docs for zero).
pub fn growth_rate(previous: f64, current: f64) -> f64 {
    if previous != 0.0 {
        (current - previous) / previous.abs()
    } else if current > 0.0 {
        1.0
    } else {
        0.0
    }
}

/// A threshold for one axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum AxisThreshold {
    /// The median of the customers.
    #[default]
    Median,
    /// The mean of the customers.
    Mean,
    /// A fixed number.
    Fixed(f64),
}

impl AxisThreshold {
    fn resolve(self, values: &[f64]) -> f64 {
        match self {
            AxisThreshold::Median => median(values),
            AxisThreshold::Mean => mean(values),
            AxisThreshold::Fixed(v) => v,
        }
    }
}

/// Configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct PortfolioConfig {
    /// Threshold on current value.
    pub value_threshold: AxisThreshold,
    /// Threshold on growth.
    pub growth_threshold: AxisThreshold,
}

/// A quadrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// High value, high growth.
    Star,
    /// High value, low growth.
    CashCow,
    /// Low value, high growth.
    QuestionMark,
    /// Low value, low growth.
    Dog,
}

impl Quadrant {
    /// All quadrants.
    pub const ALL: [Quadrant; 4] = [
        Quadrant::Star,
        Quadrant::CashCow,
        Quadrant::QuestionMark,
        Quadrant::Dog,
    ];

    /// The quadrant for high/low value and growth.
    pub fn from_flags(high_value: bool, high_growth: bool) -> Self {
        match (high_value, high_growth) {
            (true, true) => Quadrant::Star,
            (true, false) => Quadrant::CashCow,
            (false, true) => Quadrant::QuestionMark,
            (false, false) => Quadrant::Dog,
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Quadrant::Star => "明星客户",
            Quadrant::CashCow => "现金牛客户",
            Quadrant::QuestionMark => "问题客户",
            Quadrant::Dog => "瘦狗客户",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Quadrant::Star => "Star",
            Quadrant::CashCow => "Cash cow",
            Quadrant::QuestionMark => "Question mark",
            Quadrant::Dog => "Dog",
        }
    }

    /// Recommended strategy, English.
    pub fn advice_en(self) -> &'static str {
        match self {
            Quadrant::Star => "Invest: big and growing.",
            Quadrant::CashCow => "Keep efficiently: big but flat.",
            Quadrant::QuestionMark => "Select and develop the promising ones.",
            Quadrant::Dog => "Serve at minimal cost.",
        }
    }

    /// Recommended strategy, Chinese.
    pub fn advice_zh(self) -> &'static str {
        match self {
            Quadrant::Star => "加大投入：价值高且增长快。",
            Quadrant::CashCow => "高效维护：价值高但增长平稳。",
            Quadrant::QuestionMark => "甄别潜力客户并重点培育。",
            Quadrant::Dog => "以最低成本服务。",
        }
    }
}

/// One customer's placement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Customer identifier.
    pub customer_id: String,
    /// Current value.
    pub current_value: f64,
    /// Growth.
    pub growth: f64,
    /// The quadrant.
    pub quadrant: Quadrant,
    /// Quadrant name, Chinese.
    pub quadrant_zh: String,
    /// Quadrant name, English.
    pub quadrant_en: String,
}

/// Per-quadrant totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuadrantSummary {
    /// The quadrant.
    pub quadrant: Quadrant,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Customers in it.
    pub customers: usize,
    /// Their total current value.
    pub value: f64,
    /// Strategy, English.
    pub advice_en: String,
    /// Strategy, Chinese.
    pub advice_zh: String,
}

/// The portfolio result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioReport {
    /// The value threshold used.
    pub value_threshold: f64,
    /// The growth threshold used.
    pub growth_threshold: f64,
    /// One row per customer, input order.
    pub customers: Vec<Placement>,
    /// One row per quadrant.
    pub quadrants: Vec<QuadrantSummary>,
}

/// Places customers in the matrix.
pub fn place(
    inputs: &[PortfolioInput],
    config: &PortfolioConfig,
) -> Result<PortfolioReport, PortfolioError> {
    if inputs.is_empty() {
        return Err(PortfolioError::NoCustomers);
    }
    for i in inputs {
        for (field, value) in [("current_value", i.current_value), ("growth", i.growth)] {
            if !value.is_finite() {
                return Err(PortfolioError::NotFinite {
                    customer_id: i.customer_id.clone(),
                    field,
                    value,
                });
            }
        }
    }
    let values: Vec<f64> = inputs.iter().map(|i| i.current_value).collect();
    let growths: Vec<f64> = inputs.iter().map(|i| i.growth).collect();
    let vt = config.value_threshold.resolve(&values);
    let gt = config.growth_threshold.resolve(&growths);
    let customers: Vec<Placement> = inputs
        .iter()
        .map(|i| {
            let q = Quadrant::from_flags(i.current_value > vt, i.growth > gt);
            Placement {
                customer_id: i.customer_id.clone(),
                current_value: i.current_value,
                growth: i.growth,
                quadrant: q,
                quadrant_zh: q.name_zh().to_string(),
                quadrant_en: q.name_en().to_string(),
            }
        })
        .collect();
    let quadrants = Quadrant::ALL
        .iter()
        .map(|&q| {
            let (k, v) = customers
                .iter()
                .filter(|c| c.quadrant == q)
                .fold((0, 0.0), |(k, v), c| (k + 1, v + c.current_value));
            QuadrantSummary {
                quadrant: q,
                name_zh: q.name_zh().to_string(),
                name_en: q.name_en().to_string(),
                customers: k,
                value: v,
                advice_en: q.advice_en().to_string(),
                advice_zh: q.advice_zh().to_string(),
            }
        })
        .collect();
    Ok(PortfolioReport {
        value_threshold: vt,
        growth_threshold: gt,
        customers,
        quadrants,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn four_quadrants_by_median() {
        let v = vec![
            PortfolioInput::from_periods("star", 100.0, 200.0),
            PortfolioInput::from_periods("cow", 200.0, 190.0),
            PortfolioInput::from_periods("qm", 0.0, 20.0),
            PortfolioInput::from_periods("dog", 50.0, 10.0),
            PortfolioInput::from_periods("mid", 50.0, 60.0),
        ];
        let r = place(&v, &PortfolioConfig::default()).unwrap();
        let q: Vec<Quadrant> = r.customers.iter().map(|c| c.quadrant).collect();
        assert_eq!(r.value_threshold, 60.0);
        assert_eq!(r.growth_threshold, 0.2);
        assert_eq!(
            q,
            vec![
                Quadrant::Star,
                Quadrant::CashCow,
                Quadrant::QuestionMark,
                Quadrant::Dog,
                Quadrant::Dog
            ]
        );
        assert_eq!(r.customers[1].quadrant_zh, "现金牛客户");
    }

    #[test]
    fn inputs_from_transactions_split_windows() {
        use crate::transactions::TransactionsBuilder;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut b = TransactionsBuilder::new();
        b.push("a", d("2024-01-15"), 100.0, None, None, None)
            .unwrap(); // previous
        b.push("a", d("2024-02-20"), 150.0, None, None, None)
            .unwrap(); // current
        b.push("b", d("2024-02-29"), 10.0, None, None, None)
            .unwrap(); // current, new
        b.push("c", d("2023-06-01"), 10.0, None, None, None)
            .unwrap(); // neither
        let v = inputs_from_transactions(&b.build(), d("2024-02-29"), 30);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].current_value, 150.0);
        assert_eq!(v[0].growth, 0.5);
        assert_eq!(v[1].growth, 1.0);
    }

    #[test]
    fn fixed_thresholds_and_growth_rate() {
        assert_eq!(growth_rate(-100.0, -50.0), 0.5);
        assert_eq!(growth_rate(0.0, 0.0), 0.0);
        let cfg = PortfolioConfig {
            value_threshold: AxisThreshold::Fixed(1000.0),
            growth_threshold: AxisThreshold::Fixed(0.0),
        };
        let r = place(
            &[PortfolioInput {
                customer_id: "a".into(),
                current_value: 5000.0,
                growth: -0.1,
            }],
            &cfg,
        )
        .unwrap();
        assert_eq!(r.customers[0].quadrant, Quadrant::CashCow);
    }

    proptest! {
        #[test]
        fn more_value_never_moves_down(v in prop::collection::vec((0u32..1000, -100i32..100), 2..40), k in 0usize..40, add in 1u32..500) {
            // with fixed thresholds, raising value cannot move a customer from high to low value
            let rows: Vec<PortfolioInput> = v.iter().enumerate().map(|(i, (a, g))| PortfolioInput {
                customer_id: format!("c{i}"), current_value: f64::from(*a), growth: f64::from(*g) / 100.0 }).collect();
            let cfg = PortfolioConfig { value_threshold: AxisThreshold::Fixed(500.0), growth_threshold: AxisThreshold::Fixed(0.0) };
            let k = k % rows.len();
            let a = place(&rows, &cfg).unwrap();
            let mut rows2 = rows.clone();
            rows2[k].current_value += f64::from(add);
            let b = place(&rows2, &cfg).unwrap();
            let high = |q: Quadrant| matches!(q, Quadrant::Star | Quadrant::CashCow);
            prop_assert!(!high(a.customers[k].quadrant) || high(b.customers[k].quadrant));
            // order invariance with median thresholds
            let m1 = place(&rows, &PortfolioConfig::default()).unwrap();
            let mut rev = rows.clone();
            rev.reverse();
            let m2 = place(&rev, &PortfolioConfig::default()).unwrap();
            let n = rows.len();
            for i in 0..n {
                prop_assert_eq!(m1.customers[i].quadrant, m2.customers[n - 1 - i].quadrant);
            }
        }
    }
}
