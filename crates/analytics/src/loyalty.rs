//! Customer loyalty: a 0–100 index from behaviour and attitude, and the four loyalty types.
//!
//! # Source
//!
//! Dick, A. S. & Basu, K. (1994), "Customer loyalty: toward an integrated conceptual framework",
//! *Journal of the Academy of Marketing Science* 22(2), 99–113: loyalty is the relationship between
//! *relative attitude* and *repeat patronage*, and crossing high/low on each gives four types —
//! loyalty (true), latent loyalty, spurious loyalty and no loyalty (their Figure 1). The
//! behavioural measures follow the usual indicators: repeat-purchase rate, length of the
//! relationship, recency and share of category purchases (share of wallet; Jacoby & Chestnut 1978,
//! *Brand Loyalty: Measurement and Management*). The attitudinal side uses satisfaction and
//! willingness to recommend (Reichheld 2003, "The one number you need to grow", *HBR* 81(12)).
//!
//! # The index
//!
//! Each available component is mapped to 0–1 (`c_k`), then
//!
//! ```text
//! index     = 100 · Σ_k w_k c_k / Σ_k w_k          over all available components      (1)
//! behaviour = 100 · Σ_b w_b c_b / Σ_b w_b          over the behavioural ones           (2)
//! attitude  = 100 · Σ_a w_a c_a / Σ_a w_a          over the attitudinal ones           (3)
//! ```
//!
//! A missing component is left out and the remaining weights are rescaled, so a customer with no
//! survey answer is scored on behaviour alone (and gets no loyalty type). The mappings:
//!
//! | component | 0–1 value | default weight |
//! |---|---|---|
//! | repeat rate (share of purchases that were repeats, or of periods with a purchase) | as given, clamped | 0.20 |
//! | tenure | `min(1, tenure / tenure_full_days)` (default 3 years) | 0.15 |
//! | recency | `0.5^(recency / recency_half_life_days)` (default 90 days: half the credit after three months without a purchase) | 0.15 |
//! | share of purchases (share of wallet) | as given, clamped | 0.15 |
//! | satisfaction | `(s − min) / (max − min)` on the survey scale (default 1–5) | 0.20 |
//! | recommendation | the same on its scale (default 0–10, the NPS question) | 0.15 |
//!
//! Behaviour and attitude carry 65% and 35% of the weight by default; change [`LoyaltyWeights`] to
//! suit the business. Every mapping rises with the better behaviour, so the index never falls
//! when a customer buys more often, stays longer, buys more recently, concentrates more of their
//! purchases with us, or is more satisfied.
//!
//! # The four types (Dick & Basu)
//!
//! | | repeat patronage high | low |
//! |---|---|---|
//! | **attitude high** | true loyalty 真正忠诚 | latent loyalty 潜在忠诚 |
//! | **attitude low** | spurious loyalty 虚假忠诚 | no loyalty 不忠诚 |
//!
//! "High" means behaviour (2) ≥ `behaviour_high` (default 50) and attitude (3) ≥ `attitude_high`
//! (default 60).
//!
//! # For a sales manager
//!
//! True loyalists buy often and like us: reward and ask for referrals. Latent loyalists like us but
//! buy little: remove the obstacles (availability, price, convenience). Spurious loyalists buy from
//! habit or lack of choice but are not attached: they will leave when a competitor offers more, so
//! build attachment (service, relationship). The not-loyal need a reason to care first.
//!
//! # CLI notes
//!
//! `guanxi analytics loyalty --transactions FILE [--attitudes FILE] [--as-of DATE]
//! [--repeat-period-months N] [--settings FILE] [--print-settings] [--skip-bad-rows]
//! [--format json|csv|table]`. Behaviour comes from the transactions through
//! [`behaviour_from_transactions`] (repeat rate as the share of months since the first purchase in
//! which the customer bought again, tenure and recency as of `--as-of`, default the last
//! transaction date). The optional attitudes file has one row per customer with `customer_id` and
//! any of `satisfaction`, `recommendation` (on the configured scales; a value outside them is an
//! error, since it usually means the scale is set wrong) and `share_of_wallet` (0–1). A customer
//! who appears only in the attitudes file has bought nothing: repeat rate and tenure 0, no
//! recency, so a high attitude makes them latent loyalists — people to convert, not to reward.
//! `--settings` takes any subset of [`LoyaltyConfig`] as JSON (nested `weights` too); unknown keys
//! are rejected. The report has one row per customer (index, behaviour, attitude, type, the raw
//! inputs and each component's points) and the count per type.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::transactions::{DayNumber, Transactions, date_from_day_number, day_number};

/// Errors from loyalty scoring.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LoyaltyError {
    /// The configuration is invalid.
    #[error("invalid loyalty configuration: {0}")]
    InvalidConfig(String),
    /// An input value was NaN or infinite.
    #[error("customer {customer_id}: {field} is not finite")]
    NotFinite {
        /// The customer.
        customer_id: String,
        /// The field.
        field: &'static str,
    },
}

/// One customer's loyalty inputs; any may be missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LoyaltyInput {
    /// Customer identifier.
    pub customer_id: String,
    /// Repeat-purchase rate, 0–1.
    pub repeat_rate: Option<f64>,
    /// Days since the first purchase.
    pub tenure_days: Option<f64>,
    /// Days since the last purchase.
    pub recency_days: Option<f64>,
    /// Share of the customer's category purchases made with us, 0–1.
    pub share_of_wallet: Option<f64>,
    /// Satisfaction on the configured scale.
    pub satisfaction: Option<f64>,
    /// Likelihood to recommend on the configured scale.
    pub recommendation: Option<f64>,
}

/// Component weights (any non-negative numbers; only ratios matter).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyWeights {
    /// Repeat rate.
    pub repeat_rate: f64,
    /// Tenure.
    pub tenure: f64,
    /// Recency.
    pub recency: f64,
    /// Share of wallet.
    pub share_of_wallet: f64,
    /// Satisfaction.
    pub satisfaction: f64,
    /// Recommendation.
    pub recommendation: f64,
}

impl Default for LoyaltyWeights {
    fn default() -> Self {
        Self {
            repeat_rate: 0.20,
            tenure: 0.15,
            recency: 0.15,
            share_of_wallet: 0.15,
            satisfaction: 0.20,
            recommendation: 0.15,
        }
    }
}

/// Loyalty configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyConfig {
    /// Weights.
    pub weights: LoyaltyWeights,
    /// Tenure earning full credit, days.
    pub tenure_full_days: f64,
    /// Recency at which half the credit is left, days.
    pub recency_half_life_days: f64,
    /// Satisfaction scale (min, max).
    pub satisfaction_scale: (f64, f64),
    /// Recommendation scale (min, max).
    pub recommendation_scale: (f64, f64),
    /// Behaviour score (0–100) at or above which repeat patronage is high.
    pub behaviour_high: f64,
    /// Attitude score (0–100) at or above which attitude is high.
    pub attitude_high: f64,
}

impl Default for LoyaltyConfig {
    fn default() -> Self {
        Self {
            weights: LoyaltyWeights::default(),
            tenure_full_days: 1095.0,
            recency_half_life_days: 90.0,
            satisfaction_scale: (1.0, 5.0),
            recommendation_scale: (0.0, 10.0),
            behaviour_high: 50.0,
            attitude_high: 60.0,
        }
    }
}

impl LoyaltyConfig {
    /// Checks weights, scales and thresholds.
    pub fn validate(&self) -> Result<(), LoyaltyError> {
        let w = self.weights;
        let all = [
            w.repeat_rate,
            w.tenure,
            w.recency,
            w.share_of_wallet,
            w.satisfaction,
            w.recommendation,
        ];
        if all.iter().any(|x| !x.is_finite() || *x < 0.0) || all.iter().sum::<f64>() <= 0.0 {
            return Err(LoyaltyError::InvalidConfig(
                "weights must be non-negative with a positive sum".into(),
            ));
        }
        if self.tenure_full_days.is_nan()
            || self.recency_half_life_days.is_nan()
            || self.tenure_full_days <= 0.0
            || self.recency_half_life_days <= 0.0
        {
            return Err(LoyaltyError::InvalidConfig(
                "tenure_full_days and recency_half_life_days must be positive".into(),
            ));
        }
        for (lo, hi) in [self.satisfaction_scale, self.recommendation_scale] {
            if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
                return Err(LoyaltyError::InvalidConfig(
                    "scale max must exceed min".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Whether a component is behavioural or attitudinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// What the customer does.
    Behaviour,
    /// What the customer thinks.
    Attitude,
}

/// One component of the index, shown to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyComponent {
    /// Machine name.
    pub name: String,
    /// Chinese label.
    pub name_zh: String,
    /// English label.
    pub name_en: String,
    /// Behaviour or attitude.
    pub side: Side,
    /// The raw input.
    pub raw: f64,
    /// The 0–1 value.
    pub value: f64,
    /// Its weight.
    pub weight: f64,
    /// Points it contributes to the 0–100 index (they sum to the index).
    pub points: f64,
}

/// The four Dick & Basu loyalty types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoyaltyType {
    /// High attitude, high repeat.
    True,
    /// High attitude, low repeat.
    Latent,
    /// Low attitude, high repeat.
    Spurious,
    /// Low attitude, low repeat.
    None,
}

impl LoyaltyType {
    /// The type for high/low attitude and repeat patronage.
    pub fn from_flags(attitude_high: bool, repeat_high: bool) -> Self {
        match (attitude_high, repeat_high) {
            (true, true) => Self::True,
            (true, false) => Self::Latent,
            (false, true) => Self::Spurious,
            (false, false) => Self::None,
        }
    }

    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            LoyaltyType::True => "true",
            LoyaltyType::Latent => "latent",
            LoyaltyType::Spurious => "spurious",
            LoyaltyType::None => "none",
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::True => "真正忠诚",
            Self::Latent => "潜在忠诚",
            Self::Spurious => "虚假忠诚",
            Self::None => "不忠诚",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::True => "True loyalty",
            Self::Latent => "Latent loyalty",
            Self::Spurious => "Spurious loyalty",
            Self::None => "No loyalty",
        }
    }

    /// What to do, English.
    pub fn advice_en(self) -> &'static str {
        match self {
            Self::True => "Reward them and ask for referrals.",
            Self::Latent => "They like us but buy little: remove the obstacles to buying.",
            Self::Spurious => {
                "They buy from habit, not attachment: build the relationship before a competitor lures them."
            }
            Self::None => "Give them a reason to care before investing more.",
        }
    }

    /// What to do, Chinese.
    pub fn advice_zh(self) -> &'static str {
        match self {
            Self::True => "给予回报，并请其推荐新客户。",
            Self::Latent => "认同我们但购买少：消除购买障碍。",
            Self::Spurious => "出于习惯而非认同购买：加强情感联系，防止被竞争对手吸引。",
            Self::None => "先建立认同，再考虑投入。",
        }
    }
}

/// One customer's loyalty result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyScore {
    /// Customer identifier.
    pub customer_id: String,
    /// Loyalty index 0–100, equation (1); `None` when no component is available.
    pub index: Option<f64>,
    /// Behaviour score 0–100, equation (2).
    pub behaviour: Option<f64>,
    /// Attitude score 0–100, equation (3).
    pub attitude: Option<f64>,
    /// The loyalty type; `None` unless both behaviour and attitude are known.
    pub loyalty_type: Option<LoyaltyType>,
    /// Type name, Chinese.
    pub loyalty_type_zh: Option<String>,
    /// Type name, English.
    pub loyalty_type_en: Option<String>,
    /// The components that were available.
    pub components: Vec<LoyaltyComponent>,
}

fn clamp01(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

fn weighted(components: &[LoyaltyComponent], side: Option<Side>) -> Option<f64> {
    let (num, den) = components
        .iter()
        .filter(|c| side.is_none_or(|s| c.side == s))
        .fold((0.0, 0.0), |(n, d), c| {
            (n + c.weight * c.value, d + c.weight)
        });
    (den > 0.0).then(|| 100.0 * num / den)
}

/// Scores one customer.
pub fn score_one(
    input: &LoyaltyInput,
    config: &LoyaltyConfig,
) -> Result<LoyaltyScore, LoyaltyError> {
    let w = config.weights;
    let scale = |x: f64, (lo, hi): (f64, f64)| clamp01((x - lo) / (hi - lo));
    type Mapper<'a> = Box<dyn Fn(f64) -> f64 + 'a>;
    type Spec<'a> = (
        &'static str,
        &'a str,
        &'a str,
        Side,
        Option<f64>,
        f64,
        Mapper<'a>,
    );
    let specs: [Spec; 6] = [
        (
            "repeat_rate",
            "重复购买率",
            "Repeat rate",
            Side::Behaviour,
            input.repeat_rate,
            w.repeat_rate,
            Box::new(clamp01),
        ),
        (
            "tenure",
            "合作时长",
            "Tenure",
            Side::Behaviour,
            input.tenure_days,
            w.tenure,
            Box::new(|t| clamp01(t / config.tenure_full_days)),
        ),
        (
            "recency",
            "最近购买",
            "Recency",
            Side::Behaviour,
            input.recency_days,
            w.recency,
            Box::new(|r| 0.5f64.powf(r.max(0.0) / config.recency_half_life_days)),
        ),
        (
            "share_of_wallet",
            "购买份额",
            "Share of purchases",
            Side::Behaviour,
            input.share_of_wallet,
            w.share_of_wallet,
            Box::new(clamp01),
        ),
        (
            "satisfaction",
            "满意度",
            "Satisfaction",
            Side::Attitude,
            input.satisfaction,
            w.satisfaction,
            Box::new(|s| scale(s, config.satisfaction_scale)),
        ),
        (
            "recommendation",
            "推荐意愿",
            "Willingness to recommend",
            Side::Attitude,
            input.recommendation,
            w.recommendation,
            Box::new(|s| scale(s, config.recommendation_scale)),
        ),
    ];
    let mut components = Vec::new();
    for (name, zh, en, side, raw, weight, map) in specs {
        let Some(raw) = raw else { continue };
        if !raw.is_finite() {
            return Err(LoyaltyError::NotFinite {
                customer_id: input.customer_id.clone(),
                field: name,
            });
        }
        if weight <= 0.0 {
            continue;
        }
        components.push(LoyaltyComponent {
            name: name.to_string(),
            name_zh: zh.to_string(),
            name_en: en.to_string(),
            side,
            raw,
            value: map(raw),
            weight,
            points: 0.0,
        });
    }
    let total_w: f64 = components.iter().map(|c| c.weight).sum();
    for c in &mut components {
        c.points = 100.0 * c.weight * c.value / total_w;
    }
    let index = weighted(&components, None);
    let behaviour = weighted(&components, Some(Side::Behaviour));
    let attitude = weighted(&components, Some(Side::Attitude));
    let loyalty_type = match (attitude, behaviour) {
        (Some(a), Some(b)) => Some(LoyaltyType::from_flags(
            a >= config.attitude_high,
            b >= config.behaviour_high,
        )),
        _ => None,
    };
    Ok(LoyaltyScore {
        customer_id: input.customer_id.clone(),
        index,
        behaviour,
        attitude,
        loyalty_type,
        loyalty_type_zh: loyalty_type.map(|t| t.name_zh().to_string()),
        loyalty_type_en: loyalty_type.map(|t| t.name_en().to_string()),
        components,
    })
}

/// Scores many customers (output in input order).
pub fn score(
    inputs: &[LoyaltyInput],
    config: &LoyaltyConfig,
) -> Result<Vec<LoyaltyScore>, LoyaltyError> {
    config.validate()?;
    inputs.iter().map(|i| score_one(i, config)).collect()
}

/// Calendar months since year 0, so two dates' difference counts month boundaries crossed.
fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The behavioural inputs (repeat rate, tenure, recency) of every customer with a purchase on or
/// before `as_of`, in the transactions' customer order; purchases after `as_of` are ignored, so a
/// report can be re-run as of an earlier date.
///
/// The repeat rate is the share of periods of `period_months` calendar months (1 = months, 3 =
/// quarters) after the one holding the first purchase in which the customer bought again. It is
/// preferred to frequency / (frequency + 1) because that ratio ignores time — four purchases give
/// 0.8 whether they came in one week or over ten years — and is near 1 after a handful of
/// orders, so it cannot tell a steady monthly buyer from an occasional one. "Bought again in 30
/// of the 35 months since the first order" is a figure a sales manager can check against the
/// account and compare between customers of different ages. The period holding `as_of` counts
/// only once it has a purchase or has ended, so a customer who orders on the 15th is not marked
/// down on the 3rd; a customer still in the first period has shown no repeat yet and gets 0.
pub fn behaviour_from_transactions(
    tx: &Transactions,
    as_of: NaiveDate,
    period_months: u32,
) -> Vec<LoyaltyInput> {
    let as_of_day = day_number(as_of);
    let period = i64::from(period_months.max(1));
    let as_of_ends_month = as_of.succ_opt().is_none_or(|d| d.day() == 1);
    let histories = tx.histories();
    let mut out = Vec::new();
    for (key, h) in histories.iter() {
        let days: &[DayNumber] = &h.days[..h.days.partition_point(|&d| d <= as_of_day)];
        let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
            continue;
        };
        let Some(first_month) = date_from_day_number(first).map(month_index) else {
            continue;
        };
        let period_of = |m: i64| (m - first_month) / period;
        let current = period_of(month_index(as_of));
        let mut periods_with_purchase = 0i64;
        let mut last_period = 0i64;
        for d in days {
            let Some(p) = date_from_day_number(*d).map(|d| period_of(month_index(d))) else {
                continue;
            };
            if p > last_period {
                periods_with_purchase += 1;
                last_period = p;
            }
        }
        let current_has_purchase = current > 0 && last_period == current;
        let current_ended =
            as_of_ends_month && (month_index(as_of) - first_month + 1) % period == 0;
        let periods = if current_has_purchase || current_ended {
            current
        } else {
            current - 1
        };
        let repeat_rate = if periods > 0 {
            periods_with_purchase as f64 / periods as f64
        } else {
            0.0
        };
        out.push(LoyaltyInput {
            customer_id: tx.customer_id(key).to_string(),
            repeat_rate: Some(repeat_rate),
            tenure_days: Some(f64::from(as_of_day - first)),
            recency_days: Some(f64::from(as_of_day - last)),
            ..LoyaltyInput::default()
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full(rep: f64, ten: f64, rec: f64, sow: f64, sat: f64, nps: f64) -> LoyaltyInput {
        LoyaltyInput {
            customer_id: "x".into(),
            repeat_rate: Some(rep),
            tenure_days: Some(ten),
            recency_days: Some(rec),
            share_of_wallet: Some(sow),
            satisfaction: Some(sat),
            recommendation: Some(nps),
        }
    }

    #[test]
    fn extremes_and_components() {
        let c = LoyaltyConfig::default();
        let best = score_one(&full(1.0, 2000.0, 0.0, 1.0, 5.0, 10.0), &c).unwrap();
        assert!((best.index.unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(best.loyalty_type, Some(LoyaltyType::True));
        let pts: f64 = best.components.iter().map(|c| c.points).sum();
        assert!((pts - 100.0).abs() < 1e-9);
        let worst = score_one(&full(0.0, 0.0, 1e6, 0.0, 1.0, 0.0), &c).unwrap();
        assert!(worst.index.unwrap() < 1e-6);
        assert_eq!(worst.loyalty_type_zh.as_deref(), Some("不忠诚"));
        // recency at one half-life earns half the credit
        let r = score_one(
            &LoyaltyInput {
                customer_id: "r".into(),
                recency_days: Some(90.0),
                ..Default::default()
            },
            &c,
        )
        .unwrap();
        assert!((r.index.unwrap() - 50.0).abs() < 1e-9);
        assert_eq!(r.loyalty_type, None);
    }

    #[test]
    fn the_four_types() {
        let c = LoyaltyConfig::default();
        let t = |rep, sat, nps| {
            score_one(&full(rep, 1095.0, 0.0, rep, sat, nps), &c)
                .unwrap()
                .loyalty_type
                .unwrap()
        };
        assert_eq!(t(0.9, 5.0, 9.0), LoyaltyType::True);
        assert_eq!(t(0.0, 5.0, 9.0), LoyaltyType::Latent);
        assert_eq!(t(0.9, 2.0, 3.0), LoyaltyType::Spurious);
        // behaviour = (0.15 tenure + 0.15 recency) / 0.65 ≈ 46% < 50
        assert_eq!(t(0.0, 2.0, 3.0), LoyaltyType::None);
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn behaviour_from_purchase_histories() {
        use crate::transactions::TransactionsBuilder;
        let mut b = TransactionsBuilder::new();
        // monthly on the 15th, 2021-01 … 2023-12
        for m in 0..36 {
            let d = date(&format!("{}-{:02}-15", 2021 + m / 12, m % 12 + 1));
            b.push("monthly", d, 10.0, None, None, None).unwrap();
        }
        b.push("once", date("2022-06-01"), 10.0, None, None, None)
            .unwrap();
        // every other month in 2023, and once after the report date (ignored)
        for m in [1, 3, 5, 7, 9, 11] {
            let d = date(&format!("2023-{m:02}-10"));
            b.push("alternate", d, 10.0, None, None, None).unwrap();
        }
        b.push("alternate", date("2024-02-01"), 10.0, None, None, None)
            .unwrap();
        b.push("future", date("2024-01-05"), 10.0, None, None, None)
            .unwrap();
        let tx = b.build();
        let as_of = date("2023-12-20");
        let rows = behaviour_from_transactions(&tx, as_of, 1);
        let get = |id: &str| rows.iter().find(|r| r.customer_id == id).unwrap();
        assert_eq!(
            rows.len(),
            3,
            "a customer who first buys after as_of is left out"
        );
        let m = get("monthly");
        assert_eq!(m.repeat_rate, Some(1.0));
        assert_eq!(m.recency_days, Some(5.0));
        assert_eq!(
            m.tenure_days,
            Some(f64::from(
                day_number(as_of) - day_number(date("2021-01-15"))
            ))
        );
        let o = get("once");
        assert_eq!(o.repeat_rate, Some(0.0));
        assert_eq!(
            o.recency_days,
            Some(f64::from(
                day_number(as_of) - day_number(date("2022-06-01"))
            ))
        );
        // bought again in 5 of the 10 months Feb–Nov; December has no purchase yet and is not
        // over, so it does not count against them
        assert_eq!(get("alternate").repeat_rate, Some(0.5));
        // at the end of December the month has passed without a purchase: 5 of 11
        let end = behaviour_from_transactions(&tx, date("2023-12-31"), 1);
        let alt = end.iter().find(|r| r.customer_id == "alternate").unwrap();
        assert!((alt.repeat_rate.unwrap() - 5.0 / 11.0).abs() < 1e-12);
        // by quarters: Q2, Q3, Q4 after Q1 all have a purchase
        let q = behaviour_from_transactions(&tx, as_of, 3);
        let alt = q.iter().find(|r| r.customer_id == "alternate").unwrap();
        assert_eq!(alt.repeat_rate, Some(1.0));
        // still in the first month: no repeat shown yet
        let early = behaviour_from_transactions(&tx, date("2021-01-20"), 1);
        assert_eq!(early.len(), 1);
        assert_eq!(early[0].repeat_rate, Some(0.0));
    }

    #[test]
    fn bad_config_rejected() {
        let mut c = LoyaltyConfig::default();
        c.weights.tenure = -1.0;
        assert!(score(&[], &c).is_err());
        let c = LoyaltyConfig {
            satisfaction_scale: (5.0, 1.0),
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }

    proptest! {
        #[test]
        fn bounded_and_monotone(rep in 0.0f64..1.0, ten in 0.0f64..3000.0, rec in 0.0f64..1000.0,
                                sow in 0.0f64..1.0, sat in 1.0f64..5.0, nps in 0.0f64..10.0,
                                d in 0.0f64..1.0, which in 0usize..6) {
            let c = LoyaltyConfig::default();
            let base = full(rep, ten, rec, sow, sat, nps);
            let s0 = score_one(&base, &c).unwrap().index.unwrap();
            prop_assert!((0.0..=100.0).contains(&s0));
            let mut better = base.clone();
            match which {
                0 => better.repeat_rate = Some(rep + d),
                1 => better.tenure_days = Some(ten + 500.0 * d),
                2 => better.recency_days = Some((rec - 300.0 * d).max(0.0)),
                3 => better.share_of_wallet = Some(sow + d),
                4 => better.satisfaction = Some(sat + 2.0 * d),
                _ => better.recommendation = Some(nps + 5.0 * d),
            }
            let s1 = score_one(&better, &c).unwrap().index.unwrap();
            prop_assert!(s1 >= s0 - 1e-9);
            prop_assert!((0.0..=100.0).contains(&s1));
        }
    }
}
