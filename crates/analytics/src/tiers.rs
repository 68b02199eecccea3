//! Customer tiers (金牌 / 银牌 / 铜牌 / 不服务) and the profitability score.
//!
//! # Source
//!
//! The customer pyramid of Zeithaml, Rust & Lemon (2001), "The customer pyramid: creating and
//! serving profitable customers", *California Management Review* 43(4): customers are tiered by
//! profitability (platinum, gold, iron, lead) and the bottom tier may not be worth serving at all.
//! The Chinese consulting practice in this project's course material ranks key accounts by a
//! **profitability score** made of a gross-margin score out of 20 plus a payment-collection
//! (回款) score out of 20, and sorts customers into 金牌 (gold), 银牌 (silver) and 绝对不服务
//! (do not serve).
//!
//! # The profitability score
//!
//! ```text
//! score = margin_points(margin rate) + payment_points(days to pay)                 (1)
//! ```
//!
//! Each part maps a number to points through a table of bands ([`MarginBand`], [`PaymentBand`]):
//! the margin rate earns the points of the highest band whose lower bound it reaches; the days
//! to pay earn the points of the first band whose upper bound it does not exceed. Bands are
//! validated so that more margin and faster payment never earn fewer points, and points lie in
//! 0..=20, so the score lies in 0..=40.
//!
//! # The tier rules (checked in order)
//!
//! 1. **Do not serve (不服务客户)** — the customer loses us money (margin rate below
//!    `do_not_serve_below_margin`), pays slower than `do_not_serve_days_to_pay`, or has had a bad
//!    debt written off.
//! 2. **Gold (金牌客户)** — among the most valuable customers (value rule `gold_value`) and a
//!    profitability score of at least `gold_min_score`.
//! 3. **Silver (银牌客户)** — value rule `silver_value` and score at least `silver_min_score`.
//! 4. **Bronze (铜牌客户)** — everyone else.
//!
//! A value rule is either a share of the customer base ("top 20% by value": a customer is in it
//! when fewer than `share · n` customers have a strictly higher value, so ties are treated alike)
//! or an absolute amount.
//!
//! # What it means, for a sales manager
//!
//! Gold customers are large, profitable and pay on time: give them your best people. Silver are
//! solid accounts worth developing. Bronze are served efficiently at low cost. Do-not-serve
//! customers destroy profit (negative margin, very late payment or bad debt): renegotiate terms or
//! stop serving them. Each assignment carries its reason.
//!
//! # CLI notes
//!
//! `guanxi analytics tiers --transactions FILE [--payments FILE]`: per customer, `value` = total
//! revenue in the window (or CLV when available), `margin_rate` = (revenue − cost) / revenue (needs
//! the `cost` column), `days_to_pay` and bad debts from a payments file ([`PAYMENTS_FILE`],
//! [`payment_behaviour`], [`apply_payments`]) when one is given, else `None` (scored with
//! `missing_payment_points`). Build [`TierInput`]s, call [`assign`] with [`TierConfig::default`]
//! or a config read from JSON (it is `Deserialize`). Table/CSV rows are
//! [`TierReport::customers`]; the summary is [`TierReport::tiers`].

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::customer_file::{Layout, Others};
use crate::pareto::values_from_transactions;
use crate::transactions::Transactions;

/// Maximum points of each part of the profitability score.
pub const MAX_PART_POINTS: f64 = 20.0;

/// Errors from tiering.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TierError {
    /// No customers.
    #[error("no customers to tier")]
    NoCustomers,
    /// The same customer appeared twice.
    #[error("customer {0} appears more than once")]
    DuplicateCustomer(String),
    /// A value was not finite (or days to pay negative).
    #[error("customer {customer_id}: invalid {field} ({value})")]
    InvalidValue {
        /// The customer.
        customer_id: String,
        /// Which field.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// The configuration is inconsistent.
    #[error("invalid tier configuration: {0}")]
    InvalidConfig(String),
    /// Margin rates need a `cost` column.
    #[error("the transactions have no cost column, so margin rates are unknown")]
    NoCost,
}

/// Tier inputs from parsed [`Transactions`] over `from..=to`: value = revenue, margin rate =
/// (revenue − cost) / revenue (for zero revenue: −1 when the margin is negative, else 0), days to
/// pay unknown (fill them in from payment records when available). Needs costs.
pub fn inputs_from_transactions(
    tx: &Transactions,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<TierInput>, TierError> {
    if !tx.has_cost() {
        return Err(TierError::NoCost);
    }
    Ok(values_from_transactions(tx, from, to)
        .into_iter()
        .map(|v| {
            let margin = v.gross_margin.unwrap_or(0.0);
            let margin_rate = if v.revenue > 0.0 {
                margin / v.revenue
            } else if margin < 0.0 {
                -1.0
            } else {
                0.0
            };
            TierInput {
                customer_id: v.customer_id,
                value: v.revenue,
                margin_rate,
                days_to_pay: None,
                bad_debt: false,
            }
        })
        .collect())
}

/// The columns of a payments (回款) file: one row per invoice. `paid_date` empty = not paid yet;
/// `amount` weights the invoice in the average (every invoice weighs the same without it);
/// `written_off` (yes/no) marks a bad debt, from `written_off_on` when that date is given (a
/// date alone marks it too).
pub const PAYMENTS_FILE: Layout = Layout {
    required: &["invoice_date"],
    optional: &[
        "invoice_id",
        "amount",
        "paid_date",
        "written_off",
        "written_off_on",
        "due_date",
    ],
    others: Others::Reject,
};

/// One invoice and its payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// Customer identifier.
    pub customer_id: String,
    /// Day the invoice was issued.
    pub invoice_date: NaiveDate,
    /// Day it was paid in full; `None` while open.
    pub paid_date: Option<NaiveDate>,
    /// Invoice amount (the weight in the average); 1 when the file has no amounts.
    pub amount: f64,
    /// Written off as a bad debt.
    pub written_off: bool,
    /// The day it was written off, when known: before it the invoice was still open, so a
    /// report as of an earlier date sees an open invoice, not a bad debt it could not know of.
    /// `None` with `written_off` means written off as of any date.
    pub written_off_on: Option<NaiveDate>,
}

impl Invoice {
    /// Checks what a row of a payments file cannot be: paid before it was issued, a negative
    /// amount.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(paid) = self.paid_date
            && paid < self.invoice_date
        {
            return Err(format!(
                "paid_date {paid} is before invoice_date {}",
                self.invoice_date
            ));
        }
        if !(self.amount >= 0.0 && self.amount.is_finite()) {
            return Err(format!("amount {} is negative", self.amount));
        }
        if let Some(off) = self.written_off_on
            && off < self.invoice_date
        {
            return Err(format!(
                "written_off_on {off} is before invoice_date {}",
                self.invoice_date
            ));
        }
        Ok(())
    }

    /// Whether the invoice had been written off by `as_of`.
    pub fn written_off_by(&self, as_of: NaiveDate) -> bool {
        self.written_off && self.written_off_on.is_none_or(|d| d <= as_of)
    }
}

/// A customer's payment behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PaymentBehaviour {
    /// Amount-weighted mean days from invoice to payment; an open invoice counts with its age at
    /// the as-of date (it is at least that late). `None` when no invoice falls in the window.
    pub days_to_pay: Option<f64>,
    /// Whether an invoice of the customer was written off.
    pub bad_debt: bool,
}

/// Payment behaviour per customer from invoices issued in `from..=to`, with open invoices aged to
/// `as_of`. Written-off invoices mark a bad debt and are left out of the average (they were never
/// paid, and the bad-debt rule already puts the customer in do-not-serve). Invoices issued after
/// `as_of` are ignored.
pub fn payment_behaviour(
    invoices: &[Invoice],
    as_of: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> HashMap<String, PaymentBehaviour> {
    // (weighted days, weight, days, count, bad debt)
    let mut acc: HashMap<&str, (f64, f64, f64, f64, bool)> = HashMap::new();
    for inv in invoices {
        let d = inv.invoice_date;
        if d > as_of || from.is_some_and(|f| d < f) || to.is_some_and(|t| d > t) {
            continue;
        }
        let e = acc
            .entry(inv.customer_id.as_str())
            .or_insert((0.0, 0.0, 0.0, 0.0, false));
        if inv.written_off_by(as_of) {
            e.4 = true;
            continue;
        }
        let end = inv.paid_date.map_or(as_of, |p| p.min(as_of));
        let days = (end - d).num_days() as f64;
        e.0 += inv.amount * days;
        e.1 += inv.amount;
        e.2 += days;
        e.3 += 1.0;
    }
    acc.into_iter()
        .map(|(id, (wd, w, days, n, bad_debt))| {
            let days_to_pay = if w > 0.0 {
                Some(wd / w)
            } else if n > 0.0 {
                // only zero-amount invoices: every one weighs the same
                Some(days / n)
            } else {
                None
            };
            (
                id.to_string(),
                PaymentBehaviour {
                    days_to_pay,
                    bad_debt,
                },
            )
        })
        .collect()
}

/// Fills in days to pay and bad debts. Returns the number of customers with payment records but
/// no purchases in the window (they are not tiered).
pub fn apply_payments(
    inputs: &mut [TierInput],
    behaviour: &HashMap<String, PaymentBehaviour>,
) -> usize {
    let mut matched = 0;
    for input in inputs.iter_mut() {
        if let Some(b) = behaviour.get(&input.customer_id) {
            input.days_to_pay = b.days_to_pay;
            input.bad_debt = b.bad_debt;
            matched += 1;
        }
    }
    behaviour.len() - matched
}

/// One customer's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierInput {
    /// Customer identifier.
    pub customer_id: String,
    /// Value: revenue in the period, or lifetime value.
    pub value: f64,
    /// Gross margin rate, (revenue − cost) / revenue, as a fraction (0.25 = 25%).
    pub margin_rate: f64,
    /// Average days from invoice to payment; `None` when unknown (e.g. cash customers).
    pub days_to_pay: Option<f64>,
    /// Whether a bad debt of this customer has been written off.
    #[serde(default)]
    pub bad_debt: bool,
}

/// A margin band: a margin rate of at least `min_margin_rate` earns `points`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarginBand {
    /// Lower bound of the margin rate (fraction).
    pub min_margin_rate: f64,
    /// Points, 0–20.
    pub points: f64,
}

/// A payment band: paying within `max_days` days earns `points`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PaymentBand {
    /// Upper bound of days to pay.
    pub max_days: f64,
    /// Points, 0–20.
    pub points: f64,
}

/// Which customers count as valuable enough for a tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ValueRule {
    /// The top share of customers by value, e.g. 0.2 for the top 20%.
    TopShare(f64),
    /// Value of at least this amount.
    AtLeast(f64),
}

/// Tiering configuration (all documented in the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierConfig {
    /// Margin bands in any order; a margin below every band earns 0 points.
    pub margin_bands: Vec<MarginBand>,
    /// Payment bands in any order; paying slower than every band earns 0 points.
    pub payment_bands: Vec<PaymentBand>,
    /// Payment points when days to pay are unknown.
    pub missing_payment_points: f64,
    /// Value rule for gold.
    pub gold_value: ValueRule,
    /// Minimum profitability score (0–40) for gold.
    pub gold_min_score: f64,
    /// Value rule for silver.
    pub silver_value: ValueRule,
    /// Minimum profitability score for silver.
    pub silver_min_score: f64,
    /// Margin rate below which a customer is do-not-serve.
    pub do_not_serve_below_margin: f64,
    /// Days to pay above which a customer is do-not-serve.
    pub do_not_serve_days_to_pay: f64,
}

impl Default for TierConfig {
    /// Margin: ≥40% → 20, ≥30% → 16, ≥20% → 12, ≥10% → 8, ≥0% → 4. Payment: ≤30 days → 20,
    /// ≤60 → 15, ≤90 → 10, ≤180 → 5. Unknown payment → 10. Gold: top 20% by value and score
    /// ≥ 28; silver: top 50% and score ≥ 20; do not serve: negative margin or > 180 days to pay.
    fn default() -> Self {
        let mb = |m, p| MarginBand {
            min_margin_rate: m,
            points: p,
        };
        let pb = |d, p| PaymentBand {
            max_days: d,
            points: p,
        };
        Self {
            margin_bands: vec![
                mb(0.40, 20.0),
                mb(0.30, 16.0),
                mb(0.20, 12.0),
                mb(0.10, 8.0),
                mb(0.0, 4.0),
            ],
            payment_bands: vec![
                pb(30.0, 20.0),
                pb(60.0, 15.0),
                pb(90.0, 10.0),
                pb(180.0, 5.0),
            ],
            missing_payment_points: 10.0,
            gold_value: ValueRule::TopShare(0.2),
            gold_min_score: 28.0,
            silver_value: ValueRule::TopShare(0.5),
            silver_min_score: 20.0,
            do_not_serve_below_margin: 0.0,
            do_not_serve_days_to_pay: 180.0,
        }
    }
}

impl TierConfig {
    /// Checks that points are within 0–20 and never decrease with better margin or faster
    /// payment.
    pub fn validate(&self) -> Result<(), TierError> {
        let bad = |s: String| Err(TierError::InvalidConfig(s));
        let ok_pts = |p: f64| (0.0..=MAX_PART_POINTS).contains(&p);
        let mut m = self.margin_bands.clone();
        m.sort_by(|a, b| a.min_margin_rate.total_cmp(&b.min_margin_rate));
        for w in m.windows(2) {
            if w[1].points < w[0].points {
                return bad("margin points must not decrease as margin rises".into());
            }
        }
        if m.iter()
            .any(|b| !ok_pts(b.points) || !b.min_margin_rate.is_finite())
        {
            return bad("margin band points must be 0–20 with finite bounds".into());
        }
        let mut p = self.payment_bands.clone();
        p.sort_by(|a, b| a.max_days.total_cmp(&b.max_days));
        for w in p.windows(2) {
            if w[1].points > w[0].points {
                return bad("payment points must not rise as days to pay grow".into());
            }
        }
        if p.iter().any(|b| !ok_pts(b.points) || b.max_days.is_nan()) {
            return bad("payment band points must be 0–20".into());
        }
        if !ok_pts(self.missing_payment_points) {
            return bad("missing_payment_points must be 0–20".into());
        }
        for r in [self.gold_value, self.silver_value] {
            if let ValueRule::TopShare(s) = r
                && !(0.0..=1.0).contains(&s)
            {
                return bad(format!("top share {s} must be in 0–1"));
            }
        }
        Ok(())
    }

    /// Margin points for a margin rate (0 below every band).
    pub fn margin_points(&self, margin_rate: f64) -> f64 {
        self.margin_bands
            .iter()
            .filter(|b| margin_rate >= b.min_margin_rate)
            .map(|b| b.points)
            .fold(0.0, f64::max)
    }

    /// Payment points for days to pay (`None` → `missing_payment_points`).
    pub fn payment_points(&self, days_to_pay: Option<f64>) -> f64 {
        match days_to_pay {
            None => self.missing_payment_points,
            Some(d) => self
                .payment_bands
                .iter()
                .filter(|b| d <= b.max_days)
                .map(|b| b.points)
                .fold(0.0, f64::max),
        }
    }
}

/// A tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 金牌客户.
    Gold,
    /// 银牌客户.
    Silver,
    /// 铜牌客户.
    Bronze,
    /// 不服务客户.
    DoNotServe,
}

impl Tier {
    /// All tiers, best first.
    pub const ALL: [Tier; 4] = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::DoNotServe];

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Tier::Gold => "金牌客户",
            Tier::Silver => "银牌客户",
            Tier::Bronze => "铜牌客户",
            Tier::DoNotServe => "不服务客户",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Tier::Gold => "Gold",
            Tier::Silver => "Silver",
            Tier::Bronze => "Bronze",
            Tier::DoNotServe => "Do not serve",
        }
    }
}

/// Which rule decided a tier: a code the presentation layer words with the assignment's numbers
/// and the config's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierReason {
    /// A bad debt was written off.
    BadDebt,
    /// Margin rate below `do_not_serve_below_margin`.
    LowMargin,
    /// Pays slower than `do_not_serve_days_to_pay`.
    SlowPayer,
    /// Gold's value rule and score met.
    TopValue,
    /// Silver's value rule and score met.
    GoodValue,
    /// Neither met.
    BelowSilver,
}

impl TierReason {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            TierReason::BadDebt => "bad_debt",
            TierReason::LowMargin => "low_margin",
            TierReason::SlowPayer => "slow_payer",
            TierReason::TopValue => "top_value",
            TierReason::GoodValue => "good_value",
            TierReason::BelowSilver => "below_silver",
        }
    }
}

impl Tier {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Tier::Gold => "gold",
            Tier::Silver => "silver",
            Tier::Bronze => "bronze",
            Tier::DoNotServe => "do_not_serve",
        }
    }
}

/// One customer's tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierAssignment {
    /// Customer identifier.
    pub customer_id: String,
    /// Value used.
    pub value: f64,
    /// Share of customers with a strictly higher value (0 = the most valuable).
    pub value_top_share: f64,
    /// Margin rate.
    pub margin_rate: f64,
    /// Days to pay.
    pub days_to_pay: Option<f64>,
    /// Gross-margin points, 0–20.
    pub margin_points: f64,
    /// Payment-collection points, 0–20.
    pub payment_points: f64,
    /// Profitability score, 0–40 (equation 1).
    pub profitability_score: f64,
    /// The tier.
    pub tier: Tier,
    /// The rule that decided it.
    pub reason: TierReason,
    /// Tier name, Chinese.
    pub tier_zh: String,
    /// Tier name, English.
    pub tier_en: String,
    /// Why, in English.
    pub reason_en: String,
    /// Why, in Chinese.
    pub reason_zh: String,
}

/// Per-tier totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    /// The tier.
    pub tier: Tier,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Customers in it.
    pub customers: usize,
    /// Sum of their values.
    pub value: f64,
    /// Mean profitability score (0 when empty).
    pub mean_profitability_score: f64,
}

/// The tiering result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierReport {
    /// One row per customer, input order.
    pub customers: Vec<TierAssignment>,
    /// One row per tier, best first.
    pub tiers: Vec<TierSummary>,
}

/// The least value that meets a value rule among a population.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ValueCut {
    /// Every value meets it (a top share covering everyone).
    Everyone,
    /// No value meets it (a top share of nothing).
    Nobody,
    /// Values of at least this.
    AtLeast(f64),
}

impl ValueCut {
    /// A rule's cut among `sorted` (ascending) values. `TopShare(s)` holds when the share of
    /// values strictly above a customer's is below `s`: for at most `j` values above, the
    /// customer's value must reach the `(j + 1)`-th largest. `j` is found with the very
    /// comparison `higher / n < s`, so that floating point rounds as it always did.
    pub fn of(rule: ValueRule, sorted: &[f64]) -> ValueCut {
        match rule {
            ValueRule::AtLeast(v) => ValueCut::AtLeast(v),
            ValueRule::TopShare(s) => {
                let n = sorted.len();
                let holds = |higher: usize| (higher as f64 / n as f64) < s;
                if n == 0 || !holds(0) {
                    return ValueCut::Nobody;
                }
                let mut j = ((s * n as f64).floor().max(0.0) as usize).min(n);
                while j < n && holds(j + 1) {
                    j += 1;
                }
                while j > 0 && !holds(j) {
                    j -= 1;
                }
                if j >= n {
                    ValueCut::Everyone
                } else {
                    ValueCut::AtLeast(sorted[n - 1 - j])
                }
            }
        }
    }

    /// Whether `value` meets it.
    pub fn admits(self, value: f64) -> bool {
        match self {
            ValueCut::Everyone => true,
            ValueCut::Nobody => false,
            ValueCut::AtLeast(v) => value >= v,
        }
    }
}

/// What places one customer among the customers tiered together: the value each tier's rule
/// asks for. Kept by a refresh to tier one customer again later as its population was tiered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TierCuts {
    /// The least value for gold.
    pub gold: ValueCut,
    /// The least value for silver.
    pub silver: ValueCut,
}

impl TierCuts {
    /// The cuts among `sorted` (ascending) customer values.
    pub fn of(sorted: &[f64], config: &TierConfig) -> TierCuts {
        TierCuts {
            gold: ValueCut::of(config.gold_value, sorted),
            silver: ValueCut::of(config.silver_value, sorted),
        }
    }

    /// A customer's tier and the rule that decided it.
    pub fn decide(&self, i: &TierInput, config: &TierConfig) -> (Tier, TierReason) {
        let score = config.margin_points(i.margin_rate) + config.payment_points(i.days_to_pay);
        if i.bad_debt {
            (Tier::DoNotServe, TierReason::BadDebt)
        } else if i.margin_rate < config.do_not_serve_below_margin {
            (Tier::DoNotServe, TierReason::LowMargin)
        } else if i
            .days_to_pay
            .is_some_and(|d| d > config.do_not_serve_days_to_pay)
        {
            (Tier::DoNotServe, TierReason::SlowPayer)
        } else if self.gold.admits(i.value) && score >= config.gold_min_score {
            (Tier::Gold, TierReason::TopValue)
        } else if self.silver.admits(i.value) && score >= config.silver_min_score {
            (Tier::Silver, TierReason::GoodValue)
        } else {
            (Tier::Bronze, TierReason::BelowSilver)
        }
    }
}

/// Assigns tiers and profitability scores.
pub fn assign(inputs: &[TierInput], config: &TierConfig) -> Result<TierReport, TierError> {
    config.validate()?;
    if inputs.is_empty() {
        return Err(TierError::NoCustomers);
    }
    let mut seen = HashSet::new();
    for i in inputs {
        let invalid = |field, value| TierError::InvalidValue {
            customer_id: i.customer_id.clone(),
            field,
            value,
        };
        if !i.value.is_finite() {
            return Err(invalid("value", i.value));
        }
        if !i.margin_rate.is_finite() {
            return Err(invalid("margin_rate", i.margin_rate));
        }
        if let Some(d) = i.days_to_pay.filter(|d| !d.is_finite() || *d < 0.0) {
            return Err(invalid("days_to_pay", d));
        }
        if !seen.insert(i.customer_id.as_str()) {
            return Err(TierError::DuplicateCustomer(i.customer_id.clone()));
        }
    }
    let n = inputs.len() as f64;
    let mut sorted: Vec<f64> = inputs.iter().map(|i| i.value).collect();
    sorted.sort_by(f64::total_cmp);
    let cuts = TierCuts::of(&sorted, config);
    let customers: Vec<TierAssignment> = inputs
        .iter()
        .map(|i| {
            let higher = sorted.len() - sorted.partition_point(|x| *x <= i.value);
            let top_share = higher as f64 / n;
            let mp = config.margin_points(i.margin_rate);
            let pp = config.payment_points(i.days_to_pay);
            let score = mp + pp;
            let (tier, reason) = cuts.decide(i, config);
            let (en, zh) = match reason {
                TierReason::BadDebt => {
                    ("bad debt written off".to_string(), "曾发生坏账".to_string())
                }
                TierReason::LowMargin => (
                    format!(
                        "margin rate {:.1}% below {:.1}%",
                        100.0 * i.margin_rate,
                        100.0 * config.do_not_serve_below_margin
                    ),
                    format!(
                        "毛利率 {:.1}% 低于 {:.1}%",
                        100.0 * i.margin_rate,
                        100.0 * config.do_not_serve_below_margin
                    ),
                ),
                TierReason::SlowPayer => {
                    let d = i.days_to_pay.unwrap_or_default();
                    (
                        format!(
                            "pays in {d:.0} days, over {:.0}",
                            config.do_not_serve_days_to_pay
                        ),
                        format!(
                            "回款周期 {d:.0} 天，超过 {:.0} 天",
                            config.do_not_serve_days_to_pay
                        ),
                    )
                }
                TierReason::TopValue => (
                    format!("top value and profitability score {score:.0}/40"),
                    format!("价值靠前，盈利能力得分 {score:.0}/40"),
                ),
                TierReason::GoodValue => (
                    format!("good value and profitability score {score:.0}/40"),
                    format!("价值较高，盈利能力得分 {score:.0}/40"),
                ),
                TierReason::BelowSilver => (
                    format!("value or profitability score {score:.0}/40 below silver rules"),
                    format!("价值或盈利能力得分 {score:.0}/40 未达银牌标准"),
                ),
            };
            TierAssignment {
                customer_id: i.customer_id.clone(),
                value: i.value,
                value_top_share: top_share,
                margin_rate: i.margin_rate,
                days_to_pay: i.days_to_pay,
                margin_points: mp,
                payment_points: pp,
                profitability_score: score,
                tier,
                reason,
                tier_zh: tier.name_zh().to_string(),
                tier_en: tier.name_en().to_string(),
                reason_en: en,
                reason_zh: zh,
            }
        })
        .collect();
    let tiers = Tier::ALL
        .iter()
        .map(|&t| {
            let m: Vec<&TierAssignment> = customers.iter().filter(|c| c.tier == t).collect();
            let k = m.len();
            TierSummary {
                tier: t,
                name_zh: t.name_zh().to_string(),
                name_en: t.name_en().to_string(),
                customers: k,
                // folded from +0.0: an empty f64 `sum()` is -0.0, which reads as "-0.00"
                value: m.iter().fold(0.0, |a, c| a + c.value),
                mean_profitability_score: if k > 0 {
                    m.iter().map(|c| c.profitability_score).sum::<f64>() / k as f64
                } else {
                    0.0
                },
            }
        })
        .collect();
    Ok(TierReport { customers, tiers })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ti(id: &str, v: f64, m: f64, d: Option<f64>) -> TierInput {
        TierInput {
            customer_id: id.into(),
            value: v,
            margin_rate: m,
            days_to_pay: d,
            bad_debt: false,
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn inv(id: &str, issued: &str, paid: Option<&str>, amount: f64, off: bool) -> Invoice {
        Invoice {
            customer_id: id.into(),
            invoice_date: d(issued),
            paid_date: paid.map(d),
            amount,
            written_off: off,
            written_off_on: None,
        }
    }

    #[test]
    fn an_invoice_written_off_later_is_open_before_its_write_off() {
        let off = Invoice {
            written_off_on: Some(d("2024-06-01")),
            ..inv("a", "2024-01-01", None, 100.0, true)
        };
        let before = payment_behaviour(std::slice::from_ref(&off), d("2024-03-01"), None, None);
        assert!(!before["a"].bad_debt);
        assert_eq!(before["a"].days_to_pay, Some(60.0));
        let after = payment_behaviour(&[off], d("2024-07-01"), None, None);
        assert!(after["a"].bad_debt && after["a"].days_to_pay.is_none());
    }

    #[test]
    fn payment_behaviour_weights_by_amount_and_ages_open_invoices() {
        let invoices = vec![
            // a: 10 days on 300, 40 days on 100 -> (3000 + 4000) / 400 = 17.5
            inv("a", "2024-01-01", Some("2024-01-11"), 300.0, false),
            inv("a", "2024-02-01", Some("2024-03-12"), 100.0, false),
            // b: open since 2024-05-02, as of 2024-06-01 -> 30 days; a write-off marks bad debt
            inv("b", "2024-05-02", None, 50.0, false),
            inv("b", "2024-01-01", None, 80.0, true),
            // c: only issued after the as-of date or before the window
            inv("c", "2024-07-01", Some("2024-07-02"), 10.0, false),
            inv("c", "2023-01-01", Some("2023-12-02"), 10.0, false),
            // z: zero amounts fall back to the plain mean, paid after as-of counts to as-of
            inv("z", "2024-05-22", Some("2024-09-01"), 0.0, false),
            inv("z", "2024-05-30", Some("2024-05-31"), 0.0, false),
        ];
        let b = payment_behaviour(&invoices, d("2024-06-01"), Some(d("2024-01-01")), None);
        assert_eq!(b["a"].days_to_pay, Some(17.5));
        assert!(!b["a"].bad_debt);
        assert_eq!(b["b"].days_to_pay, Some(30.0));
        assert!(b["b"].bad_debt);
        assert!(!b.contains_key("c"));
        assert_eq!(b["z"].days_to_pay, Some(5.5));

        let mut inputs = vec![ti("a", 1000.0, 0.35, None), ti("b", 900.0, 0.35, None)];
        assert_eq!(apply_payments(&mut inputs, &b), 1); // z has invoices but no purchases
        assert_eq!(inputs[0].days_to_pay, Some(17.5));
        assert!(inputs[1].bad_debt);
        let r = assign(&inputs, &TierConfig::default()).unwrap();
        assert_eq!(r.customers[1].tier, Tier::DoNotServe);
        assert_eq!(r.customers[0].payment_points, 20.0);
    }

    #[test]
    fn invoices_paid_before_issue_or_negative_are_rejected() {
        assert!(
            inv("a", "2024-01-10", Some("2024-01-09"), 1.0, false)
                .validate()
                .unwrap_err()
                .contains("before invoice_date")
        );
        assert!(
            inv("a", "2024-01-10", None, -1.0, false)
                .validate()
                .is_err()
        );
        assert!(inv("a", "2024-01-10", None, 1.0, false).validate().is_ok());
    }

    #[test]
    fn bands_map_to_points() {
        let c = TierConfig::default();
        assert_eq!(c.margin_points(0.45), 20.0);
        assert_eq!(c.margin_points(0.40), 20.0);
        assert_eq!(c.margin_points(0.25), 12.0);
        assert_eq!(c.margin_points(-0.1), 0.0);
        assert_eq!(c.payment_points(Some(10.0)), 20.0);
        assert_eq!(c.payment_points(Some(60.0)), 15.0);
        assert_eq!(c.payment_points(Some(365.0)), 0.0);
        assert_eq!(c.payment_points(None), 10.0);
    }

    #[test]
    fn tiers_follow_the_rules() {
        let mut v: Vec<TierInput> = (0..10)
            .map(|i| ti(&format!("c{i}"), f64::from(i) * 100.0, 0.35, Some(20.0)))
            .collect();
        v[9].margin_rate = -0.05; // biggest but loses money
        v[7].days_to_pay = Some(400.0);
        v[6].bad_debt = true;
        let r = assign(&v, &TierConfig::default()).unwrap();
        let t: Vec<Tier> = r.customers.iter().map(|c| c.tier).collect();
        // top 20%: c9, c8 (fewer than 2 strictly higher); c9 is do-not-serve.
        assert_eq!(t[9], Tier::DoNotServe);
        assert_eq!(t[8], Tier::Gold);
        assert_eq!(t[7], Tier::DoNotServe);
        assert_eq!(t[6], Tier::DoNotServe);
        assert_eq!(t[5], Tier::Silver);
        assert_eq!(t[4], Tier::Bronze);
        assert_eq!(r.customers[8].profitability_score, 36.0);
        assert_eq!(r.customers[8].tier_zh, "金牌客户");
        assert_eq!(r.tiers.iter().map(|s| s.customers).sum::<usize>(), 10);
    }

    #[test]
    fn inputs_from_transactions_need_cost() {
        use crate::transactions::TransactionsBuilder;
        let d = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let mut b = TransactionsBuilder::new();
        b.push("a", d, 200.0, Some(150.0), None, None).unwrap();
        let v = inputs_from_transactions(&b.build(), None, None).unwrap();
        assert_eq!(v[0].margin_rate, 0.25);
        let mut b = TransactionsBuilder::new();
        b.push("a", d, 200.0, None, None, None).unwrap();
        assert_eq!(
            inputs_from_transactions(&b.build(), None, None),
            Err(TierError::NoCost)
        );
    }

    #[test]
    fn invalid_config_is_rejected() {
        let mut c = TierConfig::default();
        c.margin_bands[0].points = 2.0; // 40% earns less than 30%
        assert!(matches!(c.validate(), Err(TierError::InvalidConfig(_))));
        let mut c = TierConfig::default();
        c.payment_bands[3].points = 25.0;
        assert!(c.validate().is_err());
    }

    proptest! {
        #[test]
        fn a_value_cut_admits_exactly_the_top_share(
            values in prop::collection::vec(0u32..40, 1..60),
            extra in 0u32..45,
            share in 0.0f64..1.2,
        ) {
            let mut sorted: Vec<f64> = values.into_iter().map(f64::from).collect();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len() as f64;
            let cut = ValueCut::of(ValueRule::TopShare(share), &sorted);
            for v in sorted.iter().copied().chain([f64::from(extra)]) {
                let higher = sorted.len() - sorted.partition_point(|x| *x <= v);
                prop_assert_eq!(cut.admits(v), (higher as f64 / n) < share, "{} {:?}", v, cut);
            }
        }
    }

    proptest! {
        #[test]
        fn score_bounded_and_monotone(m1 in -1.0f64..1.0, dm in 0.0f64..0.5,
                                      d1 in 0.0f64..400.0, dd in 0.0f64..100.0) {
            let c = TierConfig::default();
            let s = c.margin_points(m1) + c.payment_points(Some(d1 + dd));
            prop_assert!((0.0..=40.0).contains(&s));
            prop_assert!(c.margin_points(m1 + dm) >= c.margin_points(m1));
            prop_assert!(c.payment_points(Some(d1)) >= c.payment_points(Some(d1 + dd)));
        }

        #[test]
        fn invariant_to_row_order(v in prop::collection::vec((0u32..1000, -10i32..60, 0u32..300), 1..40)) {
            let rows: Vec<TierInput> = v.iter().enumerate()
                .map(|(i, (a, m, d))| ti(&format!("c{i}"), f64::from(*a), f64::from(*m) / 100.0, Some(f64::from(*d))))
                .collect();
            let a = assign(&rows, &TierConfig::default()).unwrap();
            let mut rev = rows.clone();
            rev.reverse();
            let b = assign(&rev, &TierConfig::default()).unwrap();
            let mut x: Vec<_> = a.customers.iter().map(|c| (c.customer_id.clone(), c.tier)).collect();
            let mut y: Vec<_> = b.customers.iter().map(|c| (c.customer_id.clone(), c.tier)).collect();
            x.sort();
            y.sort();
            prop_assert_eq!(x, y);
        }
    }
}
