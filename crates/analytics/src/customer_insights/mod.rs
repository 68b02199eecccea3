//! One entry point for everything a refresh of customer insights computes from a sales history
//! and its invoices: RFM segment, tier and profitability score, value decile (80/20), lifetime
//! value with the probability a customer is still active, lifecycle stage, and when the next
//! purchase is due. The CLI's commands and the product's refresh job call the models the same
//! way, so a refresh gives the numbers `guanxi analytics` gives on the same ledger.
//!
//! Options in, report out, codes not sentences: every result is a number or a code (a segment,
//! a tier, a stage, the rule that decided it) that the presentation layer words in the reader's
//! language. A customer whose history is too short for a model gets `None` for it, with the
//! reason in [`Missing`], rather than a number no one should act on.

pub mod churn;
pub mod facts;
pub mod population;

pub use population::{Deciles, Population};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::bgnbd::{self, BgNbdParams};
use crate::clv::{self, ClvOptions, RepeatModel};
use crate::gamma_gamma::{self, GammaGammaParams};
use crate::lifecycle::{self, LifecycleAssignment, LifecycleConfig};
use crate::relationship;
use crate::rfm::{self, MonetaryBasis, RfmConfig, RfmSegment};
use crate::tiers::{self, Invoice, Tier, TierConfig, TierCuts, TierReason};
use crate::timing::{self, PurchaseTiming, TimingConfig};
use crate::transactions::{Period, RepeatData, SummaryOptions, Transactions, day_number};

/// The models' settings as people keep them: a section per model, under the name of the CLI
/// command that runs it, holding what that command's `--settings` file (or, for `rfm` and
/// `lifecycle`, its flags) sets. Stored as JSON over the defaults ([`crate::settings::overlay`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct InsightSettings {
    /// `tiers --settings`.
    pub tier: TierConfig,
    /// `rfm --threshold`, per dimension.
    pub rfm: RfmConfig,
    /// `lifecycle --exploration-days …`.
    pub lifecycle: LifecycleConfig,
    /// `loyalty --settings`.
    pub loyalty: crate::loyalty::LoyaltyConfig,
    /// `switching-cost --settings`.
    #[serde(rename = "switching-cost")]
    pub switching_cost: crate::switching_cost::SwitchingCostConfig,
    /// `value-focus --settings`.
    #[serde(rename = "value-focus")]
    pub value_focus: crate::value_focus::ValueFocusConfig,
    /// `rules --min-support …`.
    pub rules: crate::cross_sell::CrossSellConfig,
    /// `churn train` as the product trains it.
    pub churn: churn::ChurnOptions,
}

impl InsightSettings {
    /// Checks every model's settings; the message names the model.
    pub fn validate(&self) -> Result<(), String> {
        self.tier.validate().map_err(|e| format!("tier: {e}"))?;
        self.churn.validate().map_err(|e| format!("churn: {e}"))?;
        self.options().facts.validate()?;
        Ok(())
    }

    /// The refresh's options.
    pub fn options(&self) -> InsightOptions {
        InsightOptions {
            tiers: self.tier.clone(),
            rfm: self.rfm,
            lifecycle: self.lifecycle,
            facts: facts::FactOptions {
                loyalty: self.loyalty,
                switching: self.switching_cost,
                value_focus: self.value_focus,
                cross_sell: self.rules,
                ..facts::FactOptions::default()
            },
            ..InsightOptions::standard()
        }
    }
}

/// The models' settings, each under the key the CLI's `--settings` file uses.
#[derive(Clone, Debug, Default)]
pub struct InsightOptions {
    /// `tier`: bands, value rules and do-not-serve limits.
    pub tiers: TierConfig,
    /// `rfm`: whether high and low split at the mean or the median, per dimension.
    pub rfm: RfmConfig,
    /// `lifecycle`: stage thresholds.
    pub lifecycle: LifecycleConfig,
    /// `timing`: the due window.
    pub timing: TimingConfig,
    /// Days a customer must have been one before lifetime value and the probability of being
    /// active are shown: younger customers have told the model too little.
    pub min_tenure_days: i32,
    /// Loyalty, switching cost, value focus and cross-sell.
    pub facts: facts::FactOptions,
}

impl InsightOptions {
    /// The defaults, with lifetime value shown from 90 days of tenure.
    pub fn standard() -> InsightOptions {
        InsightOptions {
            min_tenure_days: 90,
            ..InsightOptions::default()
        }
    }
}

/// Why an insight has no value for a customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// The ledger has no cost for this customer's sales: no margin, so no tier.
    NoCost,
    /// A customer for fewer than `min_tenure_days`.
    TooNew,
    /// The population's repeat-purchase model could not be fitted (too few repeat buyers).
    NoModel,
    /// Only one purchase: no usual interval.
    OnePurchase,
    /// No customer facts recorded for the customer (contract, integration, survey).
    NoFacts,
    /// The customer's facts do not rate every value dimension with an overall satisfaction.
    NoSurvey,
    /// Too few survey answers (or too alike) to tell which dimensions matter.
    FewSurveys,
    /// The ledger names no products, so there are no rules to recommend from.
    NoProducts,
}

impl Missing {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Missing::NoCost => "no_cost",
            Missing::TooNew => "too_new",
            Missing::NoModel => "no_model",
            Missing::OnePurchase => "one_purchase",
            Missing::NoFacts => "no_facts",
            Missing::NoSurvey => "no_survey",
            Missing::FewSurveys => "few_surveys",
            Missing::NoProducts => "no_products",
        }
    }
}

/// A customer's RFM result.
#[derive(Clone, Debug, Serialize)]
pub struct RfmInsight {
    /// The segment (重要价值客户 …).
    pub segment: RfmSegment,
    /// Quintile scores, 1–5.
    pub r: u8,
    /// Frequency score.
    pub f: u8,
    /// Monetary score.
    pub m: u8,
    /// Days since the last purchase.
    pub recency_days: f64,
    /// Purchase days.
    pub frequency: f64,
    /// Total spend.
    pub monetary: f64,
}

/// A customer's tier.
#[derive(Clone, Debug, Serialize)]
pub struct TierInsight {
    /// 金牌 / 银牌 / 铜牌 / 不服务.
    pub tier: Tier,
    /// The rule that decided it.
    pub reason: TierReason,
    /// Profitability score, 0–40.
    pub score: f64,
    /// Gross margin rate.
    pub margin_rate: f64,
    /// Amount-weighted days from invoice to payment, when invoices are known.
    pub days_to_pay: Option<f64>,
}

/// A customer's lifetime value.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ValueInsight {
    /// Probability the customer is still active.
    pub p_alive: f64,
    /// Expected purchases in the next year.
    pub expected_purchases: f64,
    /// Expected margin (revenue where costs are unknown) over the next year.
    pub clv: f64,
}

/// Everything one customer gets.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerInsight {
    /// The customer's key in the transactions.
    pub customer: u32,
    /// Revenue up to the as-of date.
    pub revenue: f64,
    /// 1 = the top tenth of customers by revenue … 10 = the bottom tenth.
    pub value_decile: u8,
    /// RFM.
    pub rfm: Option<RfmInsight>,
    /// Tier, or why not.
    pub tier: Result<TierInsight, Missing>,
    /// Lifetime value, or why not.
    pub value: Result<ValueInsight, Missing>,
    /// Lifecycle stage.
    pub lifecycle: LifecycleAssignment,
    /// Purchase rhythm and when the next purchase is due.
    pub timing: PurchaseTiming,
    /// The level of relationship worth building (needs the margin, so costs), or why not.
    pub relationship: Result<relationship::Level, Missing>,
    /// Loyalty, switching cost, value focus and next best products.
    pub facts: facts::FactInsights,
}

/// A refresh's results.
#[derive(Clone, Debug, Serialize)]
pub struct InsightReport {
    /// The date the insights are as of.
    pub as_of: NaiveDate,
    /// One entry per customer with a purchase on or before `as_of`, in key order.
    pub customers: Vec<CustomerInsight>,
    /// What was learnt from the population: its models and cut points, to score one customer
    /// again later ([`score_one`]).
    pub population: Population,
}

/// Everything that stops a refresh.
#[derive(Debug, thiserror::Error)]
pub enum InsightError {
    /// No purchase on or before the as-of date.
    #[error("no customer made a purchase on or before {0}")]
    NoPurchases(NaiveDate),
    /// The settings are inconsistent.
    #[error("invalid settings: {0}")]
    Settings(String),
    /// A model failed in a way that is not a lack of data.
    #[error("{0}")]
    Model(String),
}

/// Computes every insight as of `as_of` from `tx` (purchases after it are ignored), the
/// customers' `invoices` and what people recorded about them (`facts`, one per customer).
pub fn compute(
    tx: &Transactions,
    invoices: &[Invoice],
    facts: &[facts::CustomerFacts],
    as_of: NaiveDate,
    options: &InsightOptions,
) -> Result<InsightReport, InsightError> {
    options
        .tiers
        .validate()
        .map_err(|e| InsightError::Settings(e.to_string()))?;
    options.facts.validate().map_err(InsightError::Settings)?;
    let cut = day_number(as_of);
    let histories = tx.histories();
    let n = histories.len();

    // RFM over the customers with a purchase by the as-of date.
    let rfm_inputs = rfm::inputs_from_transactions(tx, as_of, MonetaryBasis::Total);
    if rfm_inputs.is_empty() {
        return Err(InsightError::NoPurchases(as_of));
    }
    let rfm_cuts = rfm::RfmCuts::of(&rfm_inputs, &options.rfm);
    let mut rfm_by_key: Vec<Option<RfmInsight>> = vec![None; n];
    for i in &rfm_inputs {
        if let Some(k) = tx.customer_key(&i.customer_id) {
            rfm_by_key[k as usize] = Some(rfm_of(&rfm_cuts, i));
        }
    }

    // Tiers, where costs are known, with payment behaviour from the invoices.
    let mut tier_by_key: Vec<Result<TierInsight, Missing>> = vec![Err(Missing::NoCost); n];
    let tier_inputs = tier_inputs(tx, invoices, as_of)?;
    let tier_cuts = (!tier_inputs.is_empty()).then(|| {
        let mut sorted: Vec<f64> = tier_inputs.iter().map(|i| i.value).collect();
        sorted.sort_by(f64::total_cmp);
        TierCuts::of(&sorted, &options.tiers)
    });
    if let Some(cuts) = &tier_cuts {
        for i in &tier_inputs {
            if let Some(k) = tx.customer_key(&i.customer_id) {
                tier_by_key[k as usize] = Ok(tier_of(cuts, i, &options.tiers));
            }
        }
    }

    // Lifetime value: BG/NBD and Gamma-Gamma on weekly summaries, a year ahead.
    let summary = weekly_summary(tx, as_of)?;
    let repeat = RepeatData::from_summary(&summary)
        .ok()
        .and_then(|d| bgnbd::fit(&d, &bgnbd::FitOptions::default()).ok())
        .map(|f| f.params);
    let spend = gamma_gamma::fit(
        summary.customers.iter().map(|c| (c.frequency, c.monetary)),
        None,
    )
    .ok()
    .map(|f| f.params);
    let mut value_by_key: Vec<Result<ValueInsight, Missing>> = vec![Err(Missing::NoModel); n];
    let mut p_alive_by_key: Vec<Option<f64>> = vec![None; n];
    for (k, p_alive, value) in values_of(&summary, repeat, spend, options)? {
        p_alive_by_key[k] = Some(p_alive);
        value_by_key[k] = value;
    }

    // Revenue deciles: rank by revenue up to the as-of date, the largest first.
    let revenue: Vec<f64> = (0..n as u32)
        .map(|k| revenue_through(&histories.get(k), cut))
        .collect();
    let mut buyers: Vec<u32> = (0..n as u32)
        .filter(|&k| rfm_by_key[k as usize].is_some())
        .collect();
    buyers.sort_by(|a, b| {
        revenue[*b as usize]
            .total_cmp(&revenue[*a as usize])
            .then(a.cmp(b))
    });
    let mut decile = vec![0u8; n];
    let m = buyers.len();
    for (rank, k) in buyers.iter().enumerate() {
        decile[*k as usize] = (rank * 10 / m.max(1)) as u8 + 1;
    }
    let deciles = Deciles::of(
        buyers
            .iter()
            .map(|&k| (revenue[k as usize], decile[k as usize])),
    );

    // The relationship level: how many customers are like this one (its value rank) against the
    // margin it brings (thirds of the margin rate).
    let margin_cuts = relationship::margin_cuts(
        &tier_by_key
            .iter()
            .filter_map(|t| t.as_ref().ok().map(|t| t.margin_rate))
            .collect::<Vec<f64>>(),
    );
    let (fact_insights, fact_population) =
        facts::compute(tx, facts, &buyers, as_of, &options.facts)
            .map_err(InsightError::Settings)?;
    let by_buyer: Vec<(u32, facts::FactInsights)> =
        buyers.iter().copied().zip(fact_insights).collect();
    let mut customers: Vec<CustomerInsight> = by_buyer
        .into_par_iter()
        .map(|(k, fact)| {
            let i = k as usize;
            assemble(
                Parts {
                    customer: k,
                    revenue: revenue[i],
                    value_decile: decile[i],
                    rfm: rfm_by_key[i].clone(),
                    tier: tier_by_key[i].clone(),
                    value: value_by_key[i],
                    p_alive: p_alive_by_key[i],
                    facts: fact,
                },
                &histories.get(k),
                cut,
                margin_cuts,
                options,
            )
        })
        .collect();
    customers.sort_by_key(|c| c.customer);
    Ok(InsightReport {
        as_of,
        customers,
        population: Population {
            as_of,
            repeat,
            spend,
            rfm: rfm_cuts,
            tiers: tier_cuts,
            value: deciles,
            margin_cuts,
            facts: fact_population,
        },
    })
}

/// Scores the customer `customer_id` again as of `as_of` against what a refresh learnt from the
/// whole population (`population`): its models, cut points and rules, nothing refitted. `tx`,
/// `invoices` and `facts` need hold only this customer's ledger (others in them are ignored).
/// `None` when the customer has no purchase on or before `as_of`.
pub fn score_one(
    tx: &Transactions,
    invoices: &[Invoice],
    facts: &[facts::CustomerFacts],
    customer_id: &str,
    as_of: NaiveDate,
    population: &Population,
    options: &InsightOptions,
) -> Result<Option<CustomerInsight>, InsightError> {
    options
        .tiers
        .validate()
        .map_err(|e| InsightError::Settings(e.to_string()))?;
    let Some(k) = tx.customer_key(customer_id) else {
        return Ok(None);
    };
    let cut = day_number(as_of);
    let histories = tx.histories();
    let history = histories.get(k);
    let Some(rfm_input) = rfm::inputs_from_transactions(tx, as_of, MonetaryBasis::Total)
        .into_iter()
        .find(|i| i.customer_id == customer_id)
    else {
        return Ok(None);
    };
    let own_invoices: Vec<Invoice> = invoices
        .iter()
        .filter(|i| i.customer_id == customer_id)
        .cloned()
        .collect();
    let tier = match (&population.tiers, tier_inputs(tx, &own_invoices, as_of)?) {
        (Some(cuts), inputs) => inputs
            .iter()
            .find(|i| i.customer_id == customer_id)
            .map(|i| tier_of(cuts, i, &options.tiers))
            .ok_or(Missing::NoCost),
        (None, _) => Err(Missing::NoCost),
    };
    let summary = weekly_summary(tx, as_of)?;
    let (p_alive, value) = values_of(&summary, population.repeat, population.spend, options)?
        .into_iter()
        .find(|(key, _, _)| *key == k as usize)
        .map_or((None, Err(Missing::NoModel)), |(_, p, v)| (Some(p), v));
    let revenue = revenue_through(&history, cut);
    let fact = facts::score(tx, facts, &[k], as_of, &options.facts, &population.facts)
        .map_err(InsightError::Settings)?
        .into_iter()
        .next();
    let Some(fact) = fact else {
        return Ok(None);
    };
    Ok(Some(assemble(
        Parts {
            customer: k,
            revenue,
            value_decile: population.value.place(revenue),
            rfm: Some(rfm_of(&population.rfm, &rfm_input)),
            tier,
            value,
            p_alive,
            facts: fact,
        },
        &history,
        cut,
        population.margin_cuts,
        options,
    )))
}

/// A customer's results that rest on the population, before the ones of its own history.
struct Parts {
    customer: u32,
    revenue: f64,
    value_decile: u8,
    rfm: Option<RfmInsight>,
    tier: Result<TierInsight, Missing>,
    value: Result<ValueInsight, Missing>,
    p_alive: Option<f64>,
    facts: facts::FactInsights,
}

/// Adds what a customer's own history says (lifecycle, timing) and the relationship level.
fn assemble(
    parts: Parts,
    history: &crate::transactions::History<'_>,
    cut: crate::transactions::DayNumber,
    margin_cuts: Option<(f64, f64)>,
    options: &InsightOptions,
) -> CustomerInsight {
    let relationship = match (&parts.tier, margin_cuts) {
        (Ok(t), Some(cuts)) => Ok(relationship::level(
            relationship::count_band(parts.value_decile),
            relationship::margin_band(t.margin_rate, cuts),
        )),
        (Err(m), _) => Err(*m),
        (Ok(_), None) => Err(Missing::NoCost),
    };
    CustomerInsight {
        customer: parts.customer,
        revenue: parts.revenue,
        value_decile: parts.value_decile,
        rfm: parts.rfm,
        tier: parts.tier,
        value: parts.value,
        lifecycle: lifecycle::assign(history, cut, parts.p_alive, &options.lifecycle),
        timing: timing::timing(history, cut, &options.timing),
        relationship,
        facts: parts.facts,
    }
}

fn rfm_of(cuts: &rfm::RfmCuts, input: &rfm::RfmInput) -> RfmInsight {
    let s = cuts.score(input);
    RfmInsight {
        segment: s.segment,
        r: s.r_score,
        f: s.f_score,
        m: s.m_score,
        recency_days: s.recency_days,
        frequency: s.frequency,
        monetary: s.monetary,
    }
}

/// The tier inputs with payment behaviour (none without costs).
fn tier_inputs(
    tx: &Transactions,
    invoices: &[Invoice],
    as_of: NaiveDate,
) -> Result<Vec<tiers::TierInput>, InsightError> {
    if !tx.has_cost() {
        return Ok(Vec::new());
    }
    let mut inputs = tiers::inputs_from_transactions(tx, None, Some(as_of))
        .map_err(|e| InsightError::Model(e.to_string()))?;
    let behaviour = tiers::payment_behaviour(invoices, as_of, None, Some(as_of));
    tiers::apply_payments(&mut inputs, &behaviour);
    Ok(inputs)
}

fn tier_of(cuts: &TierCuts, i: &tiers::TierInput, config: &TierConfig) -> TierInsight {
    let (tier, reason) = cuts.decide(i, config);
    TierInsight {
        tier,
        reason,
        score: config.margin_points(i.margin_rate) + config.payment_points(i.days_to_pay),
        margin_rate: i.margin_rate,
        days_to_pay: i.days_to_pay,
    }
}

fn weekly_summary(
    tx: &Transactions,
    as_of: NaiveDate,
) -> Result<crate::transactions::Summary, InsightError> {
    tx.summarize(&SummaryOptions {
        period: Period::Week,
        calibration_end: as_of,
        holdout_end: None,
    })
    .map_err(|e| InsightError::Model(e.to_string()))
}

/// A summarised customer's key, probability of being active and lifetime value (or why not).
type ScoredValue = (usize, f64, Result<ValueInsight, Missing>);

/// Each summarised customer's key, probability of being active and lifetime value (or why not),
/// a year ahead; nothing without a repeat-purchase model.
fn values_of(
    summary: &crate::transactions::Summary,
    repeat: Option<BgNbdParams>,
    spend: Option<GammaGammaParams>,
    options: &InsightOptions,
) -> Result<Vec<ScoredValue>, InsightError> {
    let Some(params) = repeat else {
        return Ok(Vec::new());
    };
    let year = (365.2425 / Period::Week.days()).round();
    let values = clv::score(
        &RepeatModel::BgNbd(params),
        spend.as_ref(),
        summary,
        &ClvOptions {
            horizon: year,
            ..ClvOptions::default()
        },
    )
    .map_err(|e| InsightError::Model(e.to_string()))?;
    let min_t = f64::from(options.min_tenure_days) / Period::Week.days();
    Ok(values
        .into_iter()
        .map(|v| {
            let value = if v.t < min_t {
                Err(Missing::TooNew)
            } else {
                Ok(ValueInsight {
                    p_alive: v.p_alive,
                    expected_purchases: v.expected_purchases,
                    clv: v.clv,
                })
            };
            (v.customer as usize, v.p_alive, value)
        })
        .collect())
}

/// Revenue up to `cut`.
fn revenue_through(
    h: &crate::transactions::History<'_>,
    cut: crate::transactions::DayNumber,
) -> f64 {
    let end = h.days.partition_point(|d| *d <= cut);
    h.amounts[..end].iter().sum()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::TransactionsBuilder;
    use chrono::Duration;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Forty monthly buyers, ten who stopped a year ago, and one new customer.
    fn ledger() -> Transactions {
        let mut b = TransactionsBuilder::new();
        let start = d("2023-01-05");
        for c in 0..50 {
            let id = format!("c{c:02}");
            let stops = if c < 10 { 12 } else { 24 };
            for month in 0..stops {
                let day = start + Duration::days(30 * month + c);
                let amount = 100.0 + f64::from(c as i32) * 10.0;
                b.push(&id, day, amount, Some(amount * 0.7), None, None)
                    .unwrap();
            }
        }
        b.push("new", d("2024-12-20"), 500.0, Some(300.0), None, None)
            .unwrap();
        b.build()
    }

    #[test]
    fn every_buyer_gets_a_segment_a_decile_and_a_stage() {
        let tx = ledger();
        let r = compute(&tx, &[], &[], d("2025-01-01"), &InsightOptions::standard()).unwrap();
        assert_eq!(r.customers.len(), 51);
        assert!(r.population.repeat.is_some());
        let by_id = |id: &str| {
            let k = tx.customer_key(id).unwrap();
            r.customers.iter().find(|c| c.customer == k).unwrap()
        };
        // The ones who stopped a year ago are gone or going; the steady ones are not.
        let gone = by_id("c03");
        assert!(
            matches!(
                gone.lifecycle.stage,
                lifecycle::Stage::Churned | lifecycle::Stage::Decline
            ),
            "{:?}",
            gone.lifecycle
        );
        let steady = by_id("c40");
        assert_eq!(steady.lifecycle.stage, lifecycle::Stage::Stability);
        let (g, s) = (gone.value.unwrap(), steady.value.unwrap());
        assert!(g.p_alive < s.p_alive, "{g:?} {s:?}");
        // The newcomer is too new for a lifetime value, and says so.
        assert_eq!(by_id("new").value.unwrap_err(), Missing::TooNew);
        // Deciles run 1..=10, the biggest spender in the first.
        assert_eq!(by_id("c49").value_decile, 1);
        assert!(
            r.customers
                .iter()
                .all(|c| (1..=10).contains(&c.value_decile))
        );
        assert!(r.customers.iter().all(|c| c.tier.is_ok()));
    }

    /// Rows of a ledger with products (two lines an order), invoices and surveys: customer,
    /// day, amount, cost, order, product.
    type Line = (String, NaiveDate, f64, f64, String, &'static str);

    fn lines() -> Vec<Line> {
        let start = d("2023-01-05");
        let mut out = Vec::new();
        for c in 0..40i64 {
            let id = format!("c{c:02}");
            let months = if c < 8 { 10 } else { 24 - c % 5 };
            for month in 0..months {
                let day = start + Duration::days(30 * month + c);
                let amount = 100.0 + c as f64 * 10.0 + month as f64;
                let order = format!("{id}-{month}");
                let second = ["B", "C", "D"][((c + month) % 3) as usize];
                out.push((id.clone(), day, amount, amount * 0.6, order.clone(), "A"));
                out.push((id.clone(), day, 20.0, 12.0, order, second));
            }
        }
        out
    }

    fn build(lines: &[Line]) -> Transactions {
        let mut b = TransactionsBuilder::new();
        for (id, day, amount, cost, order, product) in lines {
            b.push(id, *day, *amount, Some(*cost), Some(order), Some(product))
                .unwrap();
        }
        b.build()
    }

    fn surveys() -> Vec<facts::CustomerFacts> {
        (0..40)
            .filter(|c| c % 3 != 0)
            .map(|c| facts::CustomerFacts {
                customer_id: format!("c{c:02}"),
                satisfaction: Some(f64::from(1 + c % 5)),
                recommendation: Some(f64::from(c % 11)),
                share_of_wallet: Some(0.5),
                contract_end: Some(d("2025-06-30")),
                integration_level: Some((c % 4) as u32),
                loyalty_balance: None,
                ratings: [
                    Some(f64::from(1 + c % 5)),
                    Some(f64::from(1 + (c / 2) % 5)),
                    Some(f64::from(1 + (c / 3) % 5)),
                    Some(f64::from(1 + (c * 7) % 5)),
                ],
            })
            .collect()
    }

    fn invoices(lines: &[Line]) -> Vec<Invoice> {
        lines
            .iter()
            .filter(|l| l.5 == "A")
            .map(|(id, day, amount, _, _, _)| Invoice {
                customer_id: id.clone(),
                invoice_date: *day,
                paid_date: Some(*day + Duration::days(20 + (id.len() as i64 * 7) % 50)),
                amount: *amount,
                written_off: false,
                written_off_on: None,
            })
            .collect()
    }

    #[test]
    fn one_customer_scored_against_the_population_gets_what_the_refresh_gave() {
        let all = lines();
        let tx = build(&all);
        let (inv, facts) = (invoices(&all), surveys());
        let as_of = d("2024-11-30");
        let options = InsightOptions::standard();
        let r = compute(&tx, &inv, &facts, as_of, &options).unwrap();
        assert!(r.population.repeat.is_some() && r.population.tiers.is_some());
        assert!(
            r.population.facts.focus.is_ok(),
            "{:?}",
            r.population.facts.focus
        );
        assert!(
            r.population
                .facts
                .rules
                .as_ref()
                .is_some_and(|r| !r.is_empty())
        );
        // The population survives being stored.
        let kept: Population =
            serde_json::from_value(serde_json::to_value(&r.population).unwrap()).unwrap();
        assert_eq!(kept, r.population);
        for c in &r.customers {
            let id = tx.customer_id(c.customer).to_string();
            let own: Vec<Line> = all.iter().filter(|l| l.0 == id).cloned().collect();
            let one = build(&own);
            let again = score_one(&one, &inv, &facts, &id, as_of, &kept, &options)
                .unwrap()
                .expect("a buyer");
            let mut again = serde_json::to_value(&again).unwrap();
            let mut was = serde_json::to_value(c).unwrap();
            // Keys differ between the two ledgers; everything else is the same.
            again["customer"] = 0.into();
            was["customer"] = 0.into();
            assert_eq!(again, was, "{id}");
        }
        // A new sale moves the customer's own numbers, against the same population.
        let mut own: Vec<Line> = all.iter().filter(|l| l.0 == "c03").cloned().collect();
        own.push(("c03".into(), as_of, 50_000.0, 10_000.0, "big".into(), "A"));
        let moved = score_one(&build(&own), &inv, &facts, "c03", as_of, &kept, &options)
            .unwrap()
            .unwrap();
        assert_eq!(moved.value_decile, 1);
        assert_eq!(moved.rfm.as_ref().unwrap().recency_days, 0.0);
        // No purchase by then: nothing to score.
        let none = score_one(
            &build(&own),
            &inv,
            &facts,
            "c03",
            d("2022-01-01"),
            &kept,
            &options,
        );
        assert!(none.unwrap().is_none());
    }

    #[test]
    fn purchases_after_the_as_of_date_are_not_read() {
        let tx = ledger();
        let r = compute(&tx, &[], &[], d("2023-06-30"), &InsightOptions::standard()).unwrap();
        // The newcomer of 2024 had not bought yet.
        assert_eq!(r.customers.len(), 50);
        let before = compute(&tx, &[], &[], d("2022-01-01"), &InsightOptions::standard());
        assert!(matches!(before, Err(InsightError::NoPurchases(_))));
    }

    #[test]
    fn without_costs_no_tier_is_shown() {
        let mut b = TransactionsBuilder::new();
        for c in 0..5 {
            b.push(&format!("c{c}"), d("2024-01-01"), 10.0, None, None, None)
                .unwrap();
        }
        let tx = b.build();
        let r = compute(&tx, &[], &[], d("2024-06-01"), &InsightOptions::standard()).unwrap();
        assert!(
            r.customers
                .iter()
                .all(|c| matches!(c.tier, Err(Missing::NoCost)))
        );
    }
}
