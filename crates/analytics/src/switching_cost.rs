//! Switching cost (转换成本 / 转移成本): how hard it would be for a customer to leave us, 0–100.
//!
//! # Source
//!
//! Burnham, T. A., Frels, J. K. & Mahajan, V. (2003), "Consumer switching costs: a typology,
//! antecedents, and consequences", *Journal of the Academy of Marketing Science* 31(2), 109–126:
//! switching costs are *procedural* (time and effort to learn and set up a new supplier),
//! *financial* (benefits and money lost by leaving) and *relational* (personal and brand bonds).
//! Jones, Mothersbaugh & Beatty (2000), *Journal of Retailing* 76(2), show such costs keep
//! customers even when satisfaction dips. The five observable components used here map onto
//! that typology:
//!
//! | component | typology | 0–1 value | default points |
//! |---|---|---|---|
//! | breadth: product categories held | procedural (more to move) | `min(1, held / categories_for_full)` (default 5) | 25 |
//! | remaining contract term | financial (penalties, lost terms) | `min(1, remaining / contract_full_days)` (default 365 days) | 25 |
//! | integration depth (none, data exchange, system integration, embedded in processes) | procedural (set-up costs) | `level / max_integration_level` (default 3) | 20 |
//! | loyalty balance (points or credits not yet used) | financial (lost benefits) | `b / (b + balance_half)` (half credit at `balance_half`, default 1000) | 15 |
//! | tenure | relational (personal bonds) | `min(1, tenure / tenure_full_days)` (default 5 years) | 15 |
//!
//! ```text
//! index = Σ_k P_k · c_k,   Σ_k P_k = 100                                            (1)
//! ```
//!
//! where `P_k` are the component points (configurable, rescaled to sum to 100) and `c_k ∈ [0, 1]`
//! the values above. Every mapping is non-decreasing, so more breadth, a longer remaining term,
//! deeper integration, a larger unused balance or longer tenure never lower the index.
//!
//! # For a sales manager
//!
//! A high index (≥ 67, 高) means leaving us would be costly and slow: the account is secure even
//! through a rough patch. A low index (< 34, 低) means a competitor's better offer can take the
//! customer quickly: raise the cost of leaving in ways the customer values. The report names the
//! **lever** — the component with the most points still to gain — e.g. "integration depth: connect
//! their ordering system to ours".
//!
//! # CLI notes
//!
//! `guanxi analytics switching-cost --customers FILE [--transactions FILE] [--as-of DATE]
//! [--settings FILE] [--print-settings] [--skip-bad-rows] [--format json|csv|table]` scores one row
//! per account of the customers file: `customer_id` and any of `remaining_contract_days` or
//! `contract_end` (a date; days left as of `--as-of`), `integration_level` (0 …
//! `max_integration_level`), `loyalty_balance`, `categories_held` and `tenure_days`. A blank or
//! absent contract, integration or balance means none (0). Breadth and tenure come from the file
//! when it gives them, otherwise from the transactions through [`facts_from_transactions`]
//! (distinct `product` values bought, days since the first purchase); without `--transactions`
//! the file must have both columns. `--as-of` defaults to the last transaction date, or today
//! when there are no transactions. Rows are [`SwitchingCostScore`] with one column per
//! component's points and the lever.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::transactions::{DayNumber, NONE_KEY, Transactions, day_number};

/// Errors from switching-cost scoring.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SwitchingCostError {
    /// The configuration is invalid.
    #[error("invalid switching-cost configuration: {0}")]
    InvalidConfig(String),
    /// An input was negative or not finite.
    #[error("customer {customer_id}: {field} must be finite and >= 0")]
    InvalidValue {
        /// The customer.
        customer_id: String,
        /// The field.
        field: &'static str,
    },
}

/// One customer's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SwitchingCostInput {
    /// Customer identifier.
    pub customer_id: String,
    /// Number of product categories the customer buys from us.
    pub categories_held: u32,
    /// Days left on the current contract (0 when none).
    pub remaining_contract_days: f64,
    /// Integration level, 0 = none … `max_integration_level` = embedded in their processes.
    pub integration_level: u32,
    /// Unused loyalty points or credits.
    pub loyalty_balance: f64,
    /// Days since the relationship began.
    pub tenure_days: f64,
}

/// Points of each component (rescaled to sum to 100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SwitchingCostWeights {
    /// Breadth.
    pub breadth: f64,
    /// Contract.
    pub contract: f64,
    /// Integration.
    pub integration: f64,
    /// Loyalty balance.
    pub loyalty_balance: f64,
    /// Tenure.
    pub tenure: f64,
}

impl Default for SwitchingCostWeights {
    fn default() -> Self {
        Self {
            breadth: 25.0,
            contract: 25.0,
            integration: 20.0,
            loyalty_balance: 15.0,
            tenure: 15.0,
        }
    }
}

/// Configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SwitchingCostConfig {
    /// Component points.
    pub weights: SwitchingCostWeights,
    /// Categories that earn full breadth credit.
    pub categories_for_full: u32,
    /// Remaining contract days that earn full credit.
    pub contract_full_days: f64,
    /// Highest integration level.
    pub max_integration_level: u32,
    /// Loyalty balance that earns half the credit.
    pub balance_half: f64,
    /// Tenure that earns full credit, days.
    pub tenure_full_days: f64,
}

impl Default for SwitchingCostConfig {
    fn default() -> Self {
        Self {
            weights: SwitchingCostWeights::default(),
            categories_for_full: 5,
            contract_full_days: 365.0,
            max_integration_level: 3,
            balance_half: 1000.0,
            tenure_full_days: 1826.0,
        }
    }
}

impl SwitchingCostConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), SwitchingCostError> {
        let w = self.weights;
        let ws = [
            w.breadth,
            w.contract,
            w.integration,
            w.loyalty_balance,
            w.tenure,
        ];
        if ws.iter().any(|x| !x.is_finite() || *x < 0.0) || ws.iter().sum::<f64>() <= 0.0 {
            return Err(SwitchingCostError::InvalidConfig(
                "weights must be non-negative with a positive sum".into(),
            ));
        }
        if self.categories_for_full == 0
            || self.max_integration_level == 0
            || self.contract_full_days.is_nan()
            || self.contract_full_days <= 0.0
            || self.balance_half.is_nan()
            || self.balance_half <= 0.0
            || self.tenure_full_days.is_nan()
            || self.tenure_full_days <= 0.0
        {
            return Err(SwitchingCostError::InvalidConfig(
                "saturation constants must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// One component, shown to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchingCostComponent {
    /// Machine name.
    pub name: String,
    /// Chinese label.
    pub name_zh: String,
    /// English label.
    pub name_en: String,
    /// Raw input.
    pub raw: f64,
    /// 0–1 value.
    pub value: f64,
    /// Points available (out of 100 in total).
    pub max_points: f64,
    /// Points earned.
    pub points: f64,
}

/// Index level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Below 34.
    Low,
    /// 34 to below 67.
    Medium,
    /// 67 and above.
    High,
}

impl Level {
    /// Level of an index.
    pub fn of(index: f64) -> Self {
        if index >= 67.0 {
            Level::High
        } else if index >= 34.0 {
            Level::Medium
        } else {
            Level::Low
        }
    }

    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Level::Low => "低",
            Level::Medium => "中",
            Level::High => "高",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Level::Low => "Low",
            Level::Medium => "Medium",
            Level::High => "High",
        }
    }
}

/// One customer's switching cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchingCostScore {
    /// Customer identifier.
    pub customer_id: String,
    /// Index 0–100, equation (1).
    pub index: f64,
    /// Low / medium / high.
    pub level: Level,
    /// Level, Chinese.
    pub level_zh: String,
    /// The five components.
    pub components: Vec<SwitchingCostComponent>,
    /// The component with the most points still to gain (first in component order on ties).
    pub lever: String,
    /// Its Chinese label.
    pub lever_zh: String,
}

/// Scores one customer (configuration assumed valid).
fn score_one(
    i: &SwitchingCostInput,
    c: &SwitchingCostConfig,
) -> Result<SwitchingCostScore, SwitchingCostError> {
    for (field, v) in [
        ("remaining_contract_days", i.remaining_contract_days),
        ("loyalty_balance", i.loyalty_balance),
        ("tenure_days", i.tenure_days),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(SwitchingCostError::InvalidValue {
                customer_id: i.customer_id.clone(),
                field,
            });
        }
    }
    let w = c.weights;
    let total = w.breadth + w.contract + w.integration + w.loyalty_balance + w.tenure;
    let parts = [
        (
            "breadth",
            "业务广度",
            "Categories held",
            f64::from(i.categories_held),
            (f64::from(i.categories_held) / f64::from(c.categories_for_full)).min(1.0),
            w.breadth,
        ),
        (
            "contract",
            "合同剩余期限",
            "Remaining contract term",
            i.remaining_contract_days,
            (i.remaining_contract_days / c.contract_full_days).min(1.0),
            w.contract,
        ),
        (
            "integration",
            "系统集成深度",
            "Integration depth",
            f64::from(i.integration_level),
            (f64::from(i.integration_level) / f64::from(c.max_integration_level)).min(1.0),
            w.integration,
        ),
        (
            "loyalty_balance",
            "积分余额",
            "Loyalty balance",
            i.loyalty_balance,
            i.loyalty_balance / (i.loyalty_balance + c.balance_half),
            w.loyalty_balance,
        ),
        (
            "tenure",
            "合作时长",
            "Tenure",
            i.tenure_days,
            (i.tenure_days / c.tenure_full_days).min(1.0),
            w.tenure,
        ),
    ];
    let components: Vec<SwitchingCostComponent> = parts
        .iter()
        .map(|&(name, zh, en, raw, value, weight)| {
            let max_points = 100.0 * weight / total;
            SwitchingCostComponent {
                name: name.into(),
                name_zh: zh.into(),
                name_en: en.into(),
                raw,
                value,
                max_points,
                points: max_points * value,
            }
        })
        .collect();
    let index = components
        .iter()
        .map(|c| c.points)
        .sum::<f64>()
        .clamp(0.0, 100.0);
    let mut lever = &components[0];
    for comp in &components[1..] {
        if comp.max_points - comp.points > lever.max_points - lever.points {
            lever = comp;
        }
    }
    let level = Level::of(index);
    Ok(SwitchingCostScore {
        customer_id: i.customer_id.clone(),
        index,
        level,
        level_zh: level.name_zh().into(),
        lever: lever.name.clone(),
        lever_zh: lever.name_zh.clone(),
        components,
    })
}

/// Scores customers (input order).
pub fn score(
    inputs: &[SwitchingCostInput],
    config: &SwitchingCostConfig,
) -> Result<Vec<SwitchingCostScore>, SwitchingCostError> {
    config.validate()?;
    inputs.iter().map(|i| score_one(i, config)).collect()
}

/// What the purchase history says about a customer's breadth and tenure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionFacts {
    /// Customer identifier.
    pub customer_id: String,
    /// Distinct products bought; `None` when the transactions have no `product` column, since
    /// zero categories would then be a guess, not a fact.
    pub categories_held: Option<u32>,
    /// Days from the first purchase to the report date.
    pub tenure_days: f64,
}

/// Breadth and tenure of every customer with a purchase on or before `as_of` (customer order of
/// the transactions). Later purchases are ignored so that a report as of an earlier date does not
/// see the future; blank products are not a category.
pub fn facts_from_transactions(tx: &Transactions, as_of: NaiveDate) -> Vec<TransactionFacts> {
    let as_of_day = day_number(as_of);
    let n = tx.num_customers();
    let mut first: Vec<Option<DayNumber>> = vec![None; n];
    let mut products: Vec<Vec<u32>> = vec![Vec::new(); n];
    let product_keys = tx.product_keys();
    for (i, r) in tx.rows().iter().enumerate() {
        if r.day > as_of_day {
            continue;
        }
        let c = r.customer as usize;
        if let Some(f) = first.get_mut(c) {
            *f = Some(f.map_or(r.day, |d: DayNumber| d.min(r.day)));
        }
        if let (Some(&p), Some(list)) = (
            product_keys
                .and_then(|k| k.get(i))
                .filter(|&&p| p != NONE_KEY),
            products.get_mut(c),
        ) {
            list.push(p);
        }
    }
    let mut out = Vec::new();
    for (c, (f, mut held)) in first.into_iter().zip(products).enumerate() {
        let Some(f) = f else { continue };
        held.sort_unstable();
        held.dedup();
        out.push(TransactionFacts {
            customer_id: tx.customer_id(c as u32).to_string(),
            categories_held: product_keys.map(|_| u32::try_from(held.len()).unwrap_or(u32::MAX)),
            tenure_days: f64::from(as_of_day - f),
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inp(cat: u32, con: f64, int: u32, bal: f64, ten: f64) -> SwitchingCostInput {
        SwitchingCostInput {
            customer_id: "a".into(),
            categories_held: cat,
            remaining_contract_days: con,
            integration_level: int,
            loyalty_balance: bal,
            tenure_days: ten,
        }
    }

    #[test]
    fn components_add_up() {
        let c = SwitchingCostConfig::default();
        let s = &score(&[inp(5, 365.0, 3, 1000.0, 1826.0)], &c).unwrap()[0];
        // everything full except balance at half: 100 − 7.5
        assert!((s.index - 92.5).abs() < 1e-9);
        assert_eq!(s.level, Level::High);
        assert_eq!(s.lever, "loyalty_balance");
        let s = &score(&[inp(1, 0.0, 0, 0.0, 365.0)], &c).unwrap()[0];
        assert!((s.index - (5.0 + 15.0 * 365.0 / 1826.0)).abs() < 1e-9);
        assert_eq!(s.level_zh, "低");
        assert_eq!(s.lever, "contract"); // 25 points to gain; breadth and integration 20
        assert_eq!(s.components.len(), 5);
    }

    #[test]
    fn facts_from_purchases() {
        use crate::transactions::TransactionsBuilder;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut b = TransactionsBuilder::new();
        b.push("a", d("2023-03-01"), 5.0, None, None, Some("paper"))
            .unwrap();
        b.push("a", d("2023-01-01"), 5.0, None, None, Some("ink"))
            .unwrap();
        b.push("a", d("2023-05-01"), 5.0, None, None, Some("paper"))
            .unwrap();
        b.push("a", d("2023-06-01"), 5.0, None, None, None).unwrap();
        // after the report date: neither a category nor tenure
        b.push("a", d("2024-02-01"), 5.0, None, None, Some("desks"))
            .unwrap();
        b.push("b", d("2024-02-01"), 5.0, None, None, Some("ink"))
            .unwrap();
        let tx = b.build();
        let facts = facts_from_transactions(&tx, d("2023-12-31"));
        assert_eq!(
            facts,
            vec![TransactionFacts {
                customer_id: "a".into(),
                categories_held: Some(2),
                tenure_days: 364.0,
            }]
        );
        let mut b = TransactionsBuilder::new();
        b.push("c", d("2023-01-01"), 5.0, None, None, None).unwrap();
        let facts = facts_from_transactions(&b.build(), d("2023-01-11"));
        assert_eq!(facts[0].categories_held, None);
        assert_eq!(facts[0].tenure_days, 10.0);
    }

    #[test]
    fn invalid_inputs_rejected() {
        let c = SwitchingCostConfig::default();
        assert!(score(&[inp(1, -1.0, 0, 0.0, 0.0)], &c).is_err());
        let bad = SwitchingCostConfig {
            max_integration_level: 0,
            ..Default::default()
        };
        assert!(score(&[], &bad).is_err());
    }

    proptest! {
        #[test]
        fn bounded_and_monotone(cat in 0u32..10, con in 0.0f64..800.0, int in 0u32..5,
                                bal in 0.0f64..5000.0, ten in 0.0f64..4000.0,
                                which in 0usize..5, d in 0.0f64..1.0) {
            let c = SwitchingCostConfig::default();
            let a = inp(cat, con, int, bal, ten);
            let s0 = score(std::slice::from_ref(&a), &c).unwrap()[0].index;
            prop_assert!((0.0..=100.0).contains(&s0));
            let mut b = a.clone();
            match which {
                0 => b.categories_held += (d * 3.0) as u32,
                1 => b.remaining_contract_days += 300.0 * d,
                2 => b.integration_level += (d * 2.0) as u32,
                3 => b.loyalty_balance += 2000.0 * d,
                _ => b.tenure_days += 1000.0 * d,
            }
            let s1 = score(&[b], &c).unwrap()[0].index;
            prop_assert!(s1 >= s0 - 1e-9);
        }
    }
}
