//! Pareto (80/20) analysis and the purchase-decile table.
//!
//! # Source
//!
//! The "vital few" principle goes back to Pareto's observation on income (Pareto 1896) and was
//! generalised by Juran (1951, *Quality Control Handbook*); in customer management it is the
//! familiar claim that about 20% of customers bring about 80% of revenue and profit (二八法则).
//! The cumulative-share curve is the Lorenz curve (Lorenz 1905), and the Gini coefficient below is
//! one minus twice the area under it:
//!
//! ```text
//! G = 1 − Σ_{k=1..n} (x_k − x_{k−1}) (y_k + y_{k−1})                               (1)
//! ```
//!
//! with customers sorted from smallest to largest, `x_k = k / n` and `y_k` the cumulative value
//! share of the first `k` customers (the trapezoid rule on the Lorenz curve).
//!
//! # What the numbers mean, for a sales manager
//!
//! - **Cumulative share** — rank customers from most to least valuable; after the first `k`
//!   customers, what share of all revenue (and of gross margin) have we covered?
//! - **Top 20% share** — the share of revenue (and margin) that the best fifth of customers bring.
//!   80% or more means the business depends on a few key accounts: look after them.
//! - **Customers for 80%** — how few customers make up 80% of revenue.
//! - **Decile table** — the customers split into ten equal groups by value (decile 1 = the top
//!   10%), with the revenue and margin each group brings. Margin can be negative in a decile:
//!   those customers cost more than they bring.
//! - **Gini** — 0 when every customer is worth the same, near 1 when one customer is everything.
//!
//! # Ranking and ties (deterministic)
//!
//! Customers are ranked by the chosen value (revenue or margin), largest first; ties are broken by
//! customer id, so the output does not depend on input order. Deciles follow the ranking: with
//! `n = 10q + r` customers the first `r` deciles hold `q + 1` customers and the rest `q` (the
//! convention of `numpy.array_split`).
//!
//! # CLI notes
//!
//! `guanxi analytics pareto --transactions FILE [--rank-by revenue|margin] [--top 0.2]`: sum each
//! customer's `amount` into `revenue` and `amount − cost` into `gross_margin` (leave `None` when the
//! file has no `cost` column), build [`CustomerValue`]s, call [`analyze`]. Print
//! [`ParetoReport::deciles`] as the table/CSV, the headline numbers ([`ParetoReport::top`],
//! [`ParetoReport::customers_for_80_percent`], Gini) above it; JSON is the whole report (the
//! per-customer `curve` can be large: offer it in JSON only).

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::transactions::{Transactions, day_number};

/// Errors from the Pareto analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ParetoError {
    /// No customers were given.
    #[error("no customers to analyse")]
    NoCustomers,
    /// A value was NaN or infinite.
    #[error("customer {customer_id}: {field} must be finite (got {value})")]
    NotFinite {
        /// The customer.
        customer_id: String,
        /// Which field.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// The same customer appeared twice.
    #[error("customer {0} appears more than once")]
    DuplicateCustomer(String),
    /// Ranking by margin was asked for but some customer has no margin.
    #[error("ranking by margin needs a gross margin for every customer")]
    MissingMargin,
    /// The top share was not in (0, 1].
    #[error("top share must be in (0, 1] (got {0})")]
    BadTopShare(f64),
}

/// One customer's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerValue {
    /// Customer identifier.
    pub customer_id: String,
    /// Revenue (sales) in the period.
    pub revenue: f64,
    /// Gross margin (revenue − cost of goods) in the period, if known.
    pub gross_margin: Option<f64>,
}

/// What to rank customers by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Revenue.
    #[default]
    Revenue,
    /// Gross margin.
    Margin,
}

/// Configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoConfig {
    /// Ranking value.
    pub rank_by: RankBy,
    /// The "top" share of customers to report (default 0.2).
    pub top_share: f64,
}

impl Default for ParetoConfig {
    fn default() -> Self {
        Self {
            rank_by: RankBy::Revenue,
            top_share: 0.2,
        }
    }
}

/// One point of the cumulative curve (one customer, in rank order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoPoint {
    /// 1-based rank (1 = most valuable).
    pub rank: usize,
    /// Customer identifier.
    pub customer_id: String,
    /// Revenue.
    pub revenue: f64,
    /// Gross margin, if known.
    pub gross_margin: Option<f64>,
    /// Decile, 1–10 (1 = top 10%).
    pub decile: u8,
    /// Share of customers up to and including this one, 0–1.
    pub cumulative_customer_share: f64,
    /// Share of total revenue up to and including this one.
    pub cumulative_revenue_share: f64,
    /// Share of total gross margin up to and including this one (can exceed 1 when some
    /// customers have negative margin).
    pub cumulative_margin_share: Option<f64>,
}

/// The headline "top X%" numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopShare {
    /// The share of customers asked for (e.g. 0.2).
    pub customer_share: f64,
    /// How many customers that is (`ceil(share · n)`).
    pub customers: usize,
    /// Their share of revenue.
    pub revenue_share: f64,
    /// Their share of gross margin.
    pub margin_share: Option<f64>,
}

/// One row of the decile table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// Decile, 1–10 (1 = top 10% by value).
    pub decile: u8,
    /// Customers in it.
    pub customers: usize,
    /// Revenue of the decile.
    pub revenue: f64,
    /// Its share of total revenue.
    pub revenue_share: f64,
    /// Cumulative revenue share of deciles 1..=this.
    pub cumulative_revenue_share: f64,
    /// Gross margin of the decile.
    pub gross_margin: Option<f64>,
    /// Its share of total margin.
    pub margin_share: Option<f64>,
    /// Average revenue per customer in it (0 when empty).
    pub average_revenue: f64,
    /// Smallest revenue in it.
    pub min_revenue: Option<f64>,
    /// Largest revenue in it.
    pub max_revenue: Option<f64>,
}

/// The full Pareto report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoReport {
    /// Configuration used.
    pub config: ParetoConfig,
    /// Number of customers.
    pub customers: usize,
    /// Total revenue.
    pub total_revenue: f64,
    /// Total gross margin, when every customer has one.
    pub total_margin: Option<f64>,
    /// The top-share numbers.
    pub top: TopShare,
    /// The fewest customers whose revenue reaches 80% of the total.
    pub customers_for_80_percent: usize,
    /// The same as a share of all customers.
    pub customer_share_for_80_percent: f64,
    /// Gini coefficient of revenue, equation (1); `None` when revenue has negative values or
    /// sums to zero.
    pub gini_revenue: Option<f64>,
    /// The ten deciles.
    pub deciles: Vec<DecileRow>,
    /// One point per customer, rank order.
    pub curve: Vec<ParetoPoint>,
}

/// Per-customer revenue and gross margin (`amount − cost`, when the transactions have costs) from
/// parsed [`Transactions`], over the dates `from..=to` (either end open when `None`). Customers
/// without a transaction in the range are left out. Sorted by customer id.
pub fn values_from_transactions(
    tx: &Transactions,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Vec<CustomerValue> {
    let lo = from.map_or(i32::MIN, day_number);
    let hi = to.map_or(i32::MAX, day_number);
    let histories = tx.histories();
    let mut out: Vec<CustomerValue> = histories
        .iter()
        .filter_map(|(key, h)| {
            let a = h.days.partition_point(|d| *d < lo);
            let b = h.days.partition_point(|d| *d <= hi);
            if a >= b {
                return None;
            }
            let revenue: f64 = h.amounts[a..b].iter().sum();
            let gross_margin = h.costs.map(|c| revenue - c[a..b].iter().sum::<f64>());
            Some(CustomerValue {
                customer_id: tx.customer_id(key).to_string(),
                revenue,
                gross_margin,
            })
        })
        .collect();
    out.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    out
}

fn share(part: f64, total: f64) -> f64 {
    if total != 0.0 { part / total } else { 0.0 }
}

/// Sizes of `k` consecutive groups for `n` items: the first `n mod k` have one extra.
pub fn group_sizes(n: usize, k: usize) -> Vec<usize> {
    if k == 0 {
        return Vec::new();
    }
    let (q, r) = (n / k, n % k);
    (0..k).map(|i| q + usize::from(i < r)).collect()
}

/// Gini coefficient of non-negative values by equation (1); `None` for an empty input, a negative
/// value or a zero total.
pub fn gini(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| *v < 0.0 || !v.is_finite()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let total: f64 = v.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let n = v.len() as f64;
    let mut cum = 0.0;
    let mut area2 = 0.0; // twice the area under the Lorenz curve
    for x in &v {
        let prev = cum;
        cum += x / total;
        area2 += (prev + cum) / n;
    }
    Some(1.0 - area2)
}

/// Runs the Pareto and decile analysis.
pub fn analyze(
    customers: &[CustomerValue],
    config: &ParetoConfig,
) -> Result<ParetoReport, ParetoError> {
    if customers.is_empty() {
        return Err(ParetoError::NoCustomers);
    }
    if !(config.top_share > 0.0 && config.top_share <= 1.0) {
        return Err(ParetoError::BadTopShare(config.top_share));
    }
    let mut seen = HashSet::with_capacity(customers.len());
    for c in customers {
        if !c.revenue.is_finite() {
            return Err(ParetoError::NotFinite {
                customer_id: c.customer_id.clone(),
                field: "revenue",
                value: c.revenue,
            });
        }
        if let Some(m) = c.gross_margin.filter(|m| !m.is_finite()) {
            return Err(ParetoError::NotFinite {
                customer_id: c.customer_id.clone(),
                field: "gross_margin",
                value: m,
            });
        }
        if !seen.insert(c.customer_id.as_str()) {
            return Err(ParetoError::DuplicateCustomer(c.customer_id.clone()));
        }
    }
    let has_margin = customers.iter().all(|c| c.gross_margin.is_some());
    if config.rank_by == RankBy::Margin && !has_margin {
        return Err(ParetoError::MissingMargin);
    }
    let key = |c: &CustomerValue| match config.rank_by {
        RankBy::Revenue => c.revenue,
        RankBy::Margin => c.gross_margin.unwrap_or(0.0),
    };
    let mut order: Vec<&CustomerValue> = customers.iter().collect();
    order.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    let n = order.len();
    let total_revenue: f64 = order.iter().map(|c| c.revenue).sum();
    let total_margin: Option<f64> = has_margin.then(|| {
        order
            .iter()
            .map(|c| c.gross_margin.unwrap_or(0.0))
            .sum::<f64>()
    });

    let sizes = group_sizes(n, 10);
    let mut decile_of = Vec::with_capacity(n);
    for (d, &s) in sizes.iter().enumerate() {
        decile_of.extend(std::iter::repeat_n(d as u8 + 1, s));
    }

    let mut curve = Vec::with_capacity(n);
    let (mut cum_r, mut cum_m) = (0.0, 0.0);
    for (i, c) in order.iter().enumerate() {
        cum_r += c.revenue;
        cum_m += c.gross_margin.unwrap_or(0.0);
        curve.push(ParetoPoint {
            rank: i + 1,
            customer_id: c.customer_id.clone(),
            revenue: c.revenue,
            gross_margin: c.gross_margin,
            decile: decile_of[i],
            cumulative_customer_share: (i + 1) as f64 / n as f64,
            cumulative_revenue_share: share(cum_r, total_revenue),
            cumulative_margin_share: total_margin.map(|t| share(cum_m, t)),
        });
    }

    let top_n = ((config.top_share * n as f64).ceil() as usize).clamp(1, n);
    let top_rev: f64 = order[..top_n].iter().map(|c| c.revenue).sum();
    let top_margin: f64 = order[..top_n]
        .iter()
        .map(|c| c.gross_margin.unwrap_or(0.0))
        .sum();
    let top = TopShare {
        customer_share: config.top_share,
        customers: top_n,
        revenue_share: share(top_rev, total_revenue),
        margin_share: total_margin.map(|t| share(top_margin, t)),
    };

    // Fewest customers reaching 80% of revenue: in revenue order (not necessarily the ranking).
    let mut by_rev: Vec<f64> = customers.iter().map(|c| c.revenue).collect();
    by_rev.sort_by(|a, b| b.total_cmp(a));
    let target = 0.8 * total_revenue;
    let mut acc = 0.0;
    let mut k80 = n;
    for (i, r) in by_rev.iter().enumerate() {
        acc += r;
        // a tiny relative tolerance so that exactly 80% counts as reached
        if acc >= target - 1e-12 * total_revenue.abs() {
            k80 = i + 1;
            break;
        }
    }

    let mut deciles = Vec::with_capacity(10);
    let mut start = 0;
    let mut cum_share = 0.0;
    for (d, &s) in sizes.iter().enumerate() {
        let members = &order[start..start + s];
        start += s;
        let revenue: f64 = members.iter().map(|c| c.revenue).sum();
        let margin: f64 = members.iter().map(|c| c.gross_margin.unwrap_or(0.0)).sum();
        cum_share += share(revenue, total_revenue);
        deciles.push(DecileRow {
            decile: d as u8 + 1,
            customers: s,
            revenue,
            revenue_share: share(revenue, total_revenue),
            cumulative_revenue_share: cum_share,
            gross_margin: has_margin.then_some(margin),
            margin_share: total_margin.map(|t| share(margin, t)),
            average_revenue: if s > 0 { revenue / s as f64 } else { 0.0 },
            min_revenue: members.iter().map(|c| c.revenue).min_by(f64::total_cmp),
            max_revenue: members.iter().map(|c| c.revenue).max_by(f64::total_cmp),
        });
    }

    let revenues: Vec<f64> = customers.iter().map(|c| c.revenue).collect();
    Ok(ParetoReport {
        config: *config,
        customers: n,
        total_revenue,
        total_margin,
        top,
        customers_for_80_percent: k80,
        customer_share_for_80_percent: k80 as f64 / n as f64,
        gini_revenue: gini(&revenues),
        deciles,
        curve,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cv(id: &str, r: f64, m: Option<f64>) -> CustomerValue {
        CustomerValue {
            customer_id: id.into(),
            revenue: r,
            gross_margin: m,
        }
    }

    #[test]
    fn classic_80_20() {
        // 2 customers with 40 each, 8 with 2.5 each: total 100, top 20% = 80%.
        let mut v = vec![cv("a", 40.0, Some(10.0)), cv("b", 40.0, Some(10.0))];
        for i in 0..8 {
            v.push(cv(&format!("s{i}"), 2.5, Some(-1.0)));
        }
        let r = analyze(&v, &ParetoConfig::default()).unwrap();
        assert_eq!(r.top.customers, 2);
        assert!((r.top.revenue_share - 0.8).abs() < 1e-12);
        assert!((r.top.margin_share.unwrap() - 20.0 / 12.0).abs() < 1e-12);
        assert_eq!(r.customers_for_80_percent, 2);
        assert_eq!(r.deciles.len(), 10);
        assert!(r.deciles.iter().all(|d| d.customers == 1));
        assert_eq!(r.deciles[0].revenue, 40.0);
        assert!((r.deciles[9].cumulative_revenue_share - 1.0).abs() < 1e-12);
        assert_eq!(r.curve[0].customer_id, "a");
        assert_eq!(r.curve[9].decile, 10);
    }

    #[test]
    fn values_from_transactions_sum_revenue_and_margin() {
        use crate::transactions::TransactionsBuilder;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut b = TransactionsBuilder::new();
        b.push("a", d("2024-01-01"), 100.0, Some(60.0), None, None)
            .unwrap();
        b.push("a", d("2024-02-01"), 50.0, Some(20.0), None, None)
            .unwrap();
        b.push("b", d("2023-12-01"), 10.0, Some(1.0), None, None)
            .unwrap();
        let tx = b.build();
        let v = values_from_transactions(&tx, Some(d("2024-01-01")), None);
        assert_eq!(v, vec![cv("a", 150.0, Some(70.0))]);
        assert_eq!(values_from_transactions(&tx, None, None).len(), 2);
    }

    #[test]
    fn gini_extremes() {
        assert!((gini(&[1.0, 1.0, 1.0, 1.0]).unwrap()).abs() < 1e-12);
        // one of n holds everything: G = 1 − 1/n
        assert!((gini(&[0.0, 0.0, 0.0, 10.0]).unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(gini(&[-1.0, 2.0]), None);
    }

    #[test]
    fn small_n_has_empty_deciles_and_margin_ranking() {
        let v = vec![
            cv("a", 100.0, Some(5.0)),
            cv("b", 50.0, Some(30.0)),
            cv("c", 10.0, Some(8.0)),
        ];
        let cfg = ParetoConfig {
            rank_by: RankBy::Margin,
            top_share: 0.2,
        };
        let r = analyze(&v, &cfg).unwrap();
        assert_eq!(r.curve[0].customer_id, "b");
        assert_eq!(
            r.deciles.iter().map(|d| d.customers).collect::<Vec<_>>(),
            vec![1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(r.deciles[5].min_revenue, None);
        assert!(matches!(
            analyze(&[cv("a", 1.0, None)], &cfg),
            Err(ParetoError::MissingMargin)
        ));
    }

    /// Decile revenue agrees with pandas/numpy (`np.array_split` over the ranking), fixture from
    /// `tests/reference/segments_reference.py`.
    #[test]
    fn deciles_agree_with_numpy_reference() {
        let cust = include_str!("../tests/reference/segments_pareto_customers.csv");
        let mut rdr = csv::Reader::from_reader(cust.as_bytes());
        let v: Vec<CustomerValue> = rdr
            .records()
            .map(|r| {
                let r = r.unwrap();
                cv(&r[0], r[1].parse().unwrap(), Some(r[2].parse().unwrap()))
            })
            .collect();
        let rep = analyze(&v, &ParetoConfig::default()).unwrap();
        let dec = include_str!("../tests/reference/segments_pareto_deciles.csv");
        let mut rdr = csv::Reader::from_reader(dec.as_bytes());
        for (row, ours) in rdr.records().zip(&rep.deciles) {
            let row = row.unwrap();
            assert_eq!(row[0].parse::<u8>().unwrap(), ours.decile);
            assert_eq!(row[1].parse::<usize>().unwrap(), ours.customers);
            let rev: f64 = row[2].parse().unwrap();
            let mar: f64 = row[3].parse().unwrap();
            assert!((rev - ours.revenue).abs() < 1e-6 * rev.abs().max(1.0));
            assert!((mar - ours.gross_margin.unwrap()).abs() < 1e-6 * mar.abs().max(1.0));
        }
        let top: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/reference/segments_pareto_summary.json"
        ))
        .unwrap();
        let f = |k: &str| top[k].as_f64().unwrap();
        assert!((f("top20_revenue_share") - rep.top.revenue_share).abs() < 1e-9);
        assert!((f("top20_margin_share") - rep.top.margin_share.unwrap()).abs() < 1e-9);
        assert_eq!(
            f("customers_for_80_percent") as usize,
            rep.customers_for_80_percent
        );
        assert!((f("gini_revenue") - rep.gini_revenue.unwrap()).abs() < 1e-9);
    }

    fn arb() -> impl Strategy<Value = Vec<CustomerValue>> {
        prop::collection::vec((0u32..10_000, -500i32..3000), 1..80).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (r, m))| cv(&format!("c{i}"), f64::from(r), Some(f64::from(m))))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn shares_are_bounded_and_monotone(v in arb()) {
            let r = analyze(&v, &ParetoConfig::default()).unwrap();
            let mut prev = 0.0;
            for p in &r.curve {
                prop_assert!(p.cumulative_revenue_share >= prev - 1e-12);
                prop_assert!(p.cumulative_revenue_share <= 1.0 + 1e-9);
                prev = p.cumulative_revenue_share;
            }
            prop_assert!(r.top.revenue_share >= r.top.customers as f64 / r.customers as f64 - 1e-9
                || r.total_revenue == 0.0);
            prop_assert_eq!(r.deciles.iter().map(|d| d.customers).sum::<usize>(), r.customers);
            let g = r.gini_revenue;
            if let Some(g) = g { prop_assert!((-1e-9..=1.0).contains(&g)); }
        }

        #[test]
        fn invariant_to_row_order(v in arb()) {
            let a = analyze(&v, &ParetoConfig::default()).unwrap();
            let mut w = v.clone();
            w.reverse();
            let b = analyze(&w, &ParetoConfig::default()).unwrap();
            prop_assert_eq!(a.curve.iter().map(|p| p.customer_id.clone()).collect::<Vec<_>>(),
                            b.curve.iter().map(|p| p.customer_id.clone()).collect::<Vec<_>>());
            prop_assert_eq!(a.customers_for_80_percent, b.customers_for_80_percent);
            for (x, y) in a.deciles.iter().zip(&b.deciles) {
                prop_assert!((x.revenue - y.revenue).abs() < 1e-6);
            }
        }
    }
}
