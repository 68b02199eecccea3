//! What the customer facts add to the purchases: loyalty (behaviour from the ledger, attitude
//! from satisfaction and willingness to recommend), switching cost (breadth and tenure from the
//! ledger; contract, integration and points from the facts), the value dimension to talk about
//! (importance–performance over the survey ratings) and the next best products (association
//! rules over the orders). Each customer's result names the facts it lacked, so the page can say
//! what to record rather than show a number built on a guess.
//!
//! The CLI's `loyalty --attitudes`, `switching-cost --customers`, `value-focus --dimensions pspr`
//! and `rules` read the same inputs from side files and give the same numbers.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::cross_sell::{self, CrossSellConfig, Rule};
use crate::loyalty::{self, LoyaltyConfig, LoyaltyInput, LoyaltyType};
use crate::switching_cost::{self, SwitchingCostConfig, SwitchingCostInput};
use crate::transactions::{DayNumber, Transactions, day_number};
use crate::value_focus::{self, Ipa, SurveyResponse, ValueFocusConfig};

use super::Missing;

/// The value dimensions a survey rates, in the order of [`CustomerFacts::ratings`]: product,
/// service, price and relationship (the CLI's `--dimensions pspr`).
pub fn dimensions() -> Vec<value_focus::Dimension> {
    value_focus::product_service_price_relationship()
}

/// What people recorded about one customer (its latest customer facts row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerFacts {
    /// The customer's key in the transactions' id space.
    pub customer_id: String,
    /// Overall satisfaction on the loyalty scale (1–5 by default).
    pub satisfaction: Option<f64>,
    /// Willingness to recommend, 0–10.
    pub recommendation: Option<f64>,
    /// Share of the customer's purchases in our categories that we win, 0–1.
    pub share_of_wallet: Option<f64>,
    /// When the current contract ends.
    pub contract_end: Option<NaiveDate>,
    /// Integration depth, 0 (none) … 3 (embedded in their processes).
    pub integration_level: Option<u32>,
    /// Unused points or credits.
    pub loyalty_balance: Option<f64>,
    /// Ratings of [`dimensions`], in order, on the value-focus scale (1–5 by default).
    pub ratings: [Option<f64>; 4],
}

/// A fact an insight would read and the customer's record lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Satisfaction,
    Recommendation,
    ShareOfWallet,
    ContractEnd,
    IntegrationLevel,
    LoyaltyBalance,
    Ratings,
}

impl Input {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Input::Satisfaction => "satisfaction",
            Input::Recommendation => "recommendation",
            Input::ShareOfWallet => "share_of_wallet",
            Input::ContractEnd => "contract_end",
            Input::IntegrationLevel => "integration_level",
            Input::LoyaltyBalance => "loyalty_balance",
            Input::Ratings => "ratings",
        }
    }
}

/// A customer's loyalty.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LoyaltyInsight {
    /// 0–100 over every input known.
    pub index: f64,
    /// 0–100 over what the customer does.
    pub behaviour: f64,
    /// 0–100 over what it says, when satisfaction or recommendation is known.
    pub attitude: Option<f64>,
    /// Dick & Basu's type, when both sides are known.
    pub kind: Option<LoyaltyType>,
}

/// A customer's switching cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SwitchingInsight {
    /// 0–100.
    pub index: f64,
    /// Low, medium or high.
    pub level: switching_cost::Level,
    /// The component with the most points still to gain (`breadth`, `contract` …).
    pub lever: String,
}

/// The value dimension to talk about with a customer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FocusInsight {
    /// The dimension's key (`product`, `service`, `price`, `relationship`).
    pub dimension: String,
    /// How far the customer's rating of it is below the target.
    pub gap: f64,
}

/// A product to offer, with the rule behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextProduct {
    /// The product (its code where the ledger has one).
    pub product: String,
    /// Share of orders with `because` that also had it.
    pub confidence: f64,
    /// How much likelier than in general.
    pub lift: f64,
    /// The products the customer holds that point to it.
    pub because: Vec<String>,
}

/// Everything the facts give one customer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactInsights {
    pub loyalty: Option<LoyaltyInsight>,
    pub switching: Result<SwitchingInsight, Missing>,
    pub focus: Result<FocusInsight, Missing>,
    pub next_products: Result<Vec<NextProduct>, Missing>,
    /// The facts this customer's record lacks (empty with no record: then every insight that
    /// needs one says so).
    pub missing: Vec<Input>,
}

/// The models' settings for the facts' insights, under the CLI's keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FactOptions {
    /// `loyalty`.
    pub loyalty: LoyaltyConfig,
    /// Calendar months per repeat period (the CLI's `--repeat-period-months`).
    pub repeat_period_months: u32,
    /// `switching_cost`.
    pub switching: SwitchingCostConfig,
    /// `value_focus`.
    pub value_focus: ValueFocusConfig,
    /// `rules`.
    pub cross_sell: CrossSellConfig,
}

impl Default for FactOptions {
    fn default() -> Self {
        FactOptions {
            loyalty: LoyaltyConfig::default(),
            repeat_period_months: 1,
            switching: SwitchingCostConfig::default(),
            value_focus: ValueFocusConfig::default(),
            cross_sell: CrossSellConfig::default(),
        }
    }
}

impl FactOptions {
    /// Checks every model's settings.
    pub fn validate(&self) -> Result<(), String> {
        self.loyalty.validate().map_err(|e| e.to_string())?;
        self.switching.validate().map_err(|e| e.to_string())?;
        self.value_focus.validate().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// What the facts' insights learn from all customers together: which value dimensions weigh on
/// satisfaction and which products go together. Kept by a refresh to score one customer again
/// later as the population was scored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactPopulation {
    /// The importance–performance analysis of every survey, or why there is none.
    pub focus: Result<Ipa, Missing>,
    /// The cross-sell rules a recommendation may come from, or `None` when the ledger names no
    /// products (or has too few orders to mine).
    pub rules: Option<Vec<Rule>>,
}

/// The facts' insights of the customers `keys` (transaction keys with a purchase on or before
/// `as_of`), in that order, and what they were learnt from. Facts outside the configured scales
/// are left out (the import already refuses most of them), so no number is built on a misread
/// survey.
pub fn compute(
    tx: &Transactions,
    facts: &[CustomerFacts],
    keys: &[u32],
    as_of: NaiveDate,
    options: &FactOptions,
) -> Result<(Vec<FactInsights>, FactPopulation), String> {
    let population = fit(tx, facts, keys, as_of, options)?;
    let insights = score(tx, facts, keys, as_of, options, &population)?;
    Ok((insights, population))
}

/// Learns the value-focus analysis from the surveys of `keys` and the rules from every order.
pub fn fit(
    tx: &Transactions,
    facts: &[CustomerFacts],
    keys: &[u32],
    as_of: NaiveDate,
    options: &FactOptions,
) -> Result<FactPopulation, String> {
    options.validate()?;
    let by_id = facts_by_id(facts);
    let responses: Vec<SurveyResponse> = keys
        .iter()
        .filter_map(|&k| {
            by_id
                .get(tx.customer_id(k))
                .and_then(|f| response(f, &options.value_focus))
        })
        .collect();
    let focus = value_focus::analyze(&dimensions(), &responses, &options.value_focus)
        .map(|report| report.overall)
        .map_err(|_| Missing::FewSurveys);
    let rules = tx.product_keys().and_then(|_| {
        let baskets = baskets(tx, day_number(as_of), None);
        let report = cross_sell::analyze(&baskets, &options.cross_sell).ok()?;
        let min_lift = options.cross_sell.min_recommendation_lift;
        Some(
            report
                .rules
                .into_iter()
                .filter(|r| r.consequent.len() == 1 && r.lift >= min_lift)
                .collect(),
        )
    });
    Ok(FactPopulation { focus, rules })
}

/// The facts' insights of the customers `keys`, in that order, against what `population` learnt.
pub fn score(
    tx: &Transactions,
    facts: &[CustomerFacts],
    keys: &[u32],
    as_of: NaiveDate,
    options: &FactOptions,
    population: &FactPopulation,
) -> Result<Vec<FactInsights>, String> {
    options.validate()?;
    let by_id = facts_by_id(facts);
    let fact_of = |k: u32| by_id.get(tx.customer_id(k)).copied();

    // Loyalty: behaviour from the purchases, attitude from the facts.
    let behaviour: HashMap<String, LoyaltyInput> =
        loyalty::behaviour_from_transactions(tx, as_of, options.repeat_period_months)
            .into_iter()
            .map(|b| (b.customer_id.clone(), b))
            .collect();

    // Switching cost: breadth and tenure from the purchases.
    let held: HashMap<String, switching_cost::TransactionFacts> =
        switching_cost::facts_from_transactions(tx, as_of)
            .into_iter()
            .map(|f| (f.customer_id.clone(), f))
            .collect();

    let cut = day_number(as_of);
    let next = population.rules.as_ref().map(|rules| {
        let mut holdings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for b in baskets(tx, cut, Some(keys)) {
            holdings.entry(b.customer_id).or_default().extend(b.items);
        }
        let mut by: HashMap<String, Vec<NextProduct>> = HashMap::new();
        let recommendations = cross_sell::next_best_products(
            &holdings,
            rules,
            options.cross_sell.min_recommendation_lift,
            options.cross_sell.top_n,
        );
        for r in recommendations {
            by.entry(r.customer_id).or_default().push(NextProduct {
                product: r.product,
                confidence: r.confidence,
                lift: r.lift,
                because: r.because,
            });
        }
        by
    });
    let target = options
        .value_focus
        .target
        .unwrap_or(options.value_focus.scale_max);
    let dims = dimensions();

    let mut out = Vec::with_capacity(keys.len());
    for &k in keys {
        let id = tx.customer_id(k);
        let f = fact_of(k);
        let mut missing = Vec::new();
        if let Some(f) = f {
            for (absent, input) in [
                (f.satisfaction.is_none(), Input::Satisfaction),
                (f.recommendation.is_none(), Input::Recommendation),
                (f.share_of_wallet.is_none(), Input::ShareOfWallet),
                (f.contract_end.is_none(), Input::ContractEnd),
                (f.integration_level.is_none(), Input::IntegrationLevel),
                (f.loyalty_balance.is_none(), Input::LoyaltyBalance),
                (f.ratings.iter().any(Option::is_none), Input::Ratings),
            ] {
                if absent {
                    missing.push(input);
                }
            }
        }
        let loyalty = behaviour.get(id).and_then(|b| {
            let mut input = b.clone();
            if let Some(f) = f {
                let lc = &options.loyalty;
                input.satisfaction = in_scale(f.satisfaction, lc.satisfaction_scale);
                input.recommendation = in_scale(f.recommendation, lc.recommendation_scale);
                input.share_of_wallet = in_scale(f.share_of_wallet, (0.0, 1.0));
            }
            let s = loyalty::score_one(&input, &options.loyalty).ok()?;
            Some(LoyaltyInsight {
                index: s.index?,
                behaviour: s.behaviour?,
                attitude: s.attitude,
                kind: s.loyalty_type,
            })
        });
        let switching = match (f, held.get(id)) {
            (Some(f), Some(h)) => switching_of(f, h, cut, &options.switching),
            (None, _) => Err(Missing::NoFacts),
            (Some(_), None) => Err(Missing::NoFacts),
        };
        let answer = f.and_then(|f| response(f, &options.value_focus));
        let focus = match (&population.focus, f, answer) {
            (_, None, _) => Err(Missing::NoFacts),
            (_, Some(_), None) => Err(Missing::NoSurvey),
            (Err(m), Some(_), Some(_)) => Err(*m),
            (Ok(ipa), Some(_), Some(answer)) => {
                let c = value_focus::customer_focus(&dims, ipa, &answer, target);
                Ok(FocusInsight {
                    dimension: c.focus,
                    gap: c.gap,
                })
            }
        };
        let next_products = match &next {
            None => Err(Missing::NoProducts),
            Some(by) => Ok(by.get(id).cloned().unwrap_or_default()),
        };
        out.push(FactInsights {
            loyalty,
            switching,
            focus,
            next_products,
            missing,
        });
    }
    Ok(out)
}

fn facts_by_id(facts: &[CustomerFacts]) -> HashMap<&str, &CustomerFacts> {
    facts.iter().map(|f| (f.customer_id.as_str(), f)).collect()
}

/// The orders through `cut` as baskets of product names, of the customers `only` (every
/// customer when `None`).
fn baskets(tx: &Transactions, cut: DayNumber, only: Option<&[u32]>) -> Vec<cross_sell::Basket> {
    let only: Option<HashSet<u32>> = only.map(|keys| keys.iter().copied().collect());
    tx.baskets_through(cut)
        .iter()
        .filter(|b| only.as_ref().is_none_or(|o| o.contains(&b.customer)))
        .map(|b| cross_sell::Basket::named(tx, b))
        .collect()
}

/// A value on a scale, or none when outside it.
fn in_scale(v: Option<f64>, (lo, hi): (f64, f64)) -> Option<f64> {
    v.filter(|x| (lo..=hi).contains(x))
}

/// The survey response in a customer's facts: satisfaction as the overall rating and the four
/// dimensions, all on the scale.
fn response(f: &CustomerFacts, config: &ValueFocusConfig) -> Option<SurveyResponse> {
    let scale = (0.0, config.scale_max);
    let scores: Option<Vec<f64>> = f.ratings.iter().map(|r| in_scale(*r, scale)).collect();
    Some(SurveyResponse {
        customer_id: f.customer_id.clone(),
        segment: None,
        scores: scores?,
        overall: f.satisfaction.filter(|s| s.is_finite())?,
    })
}

fn switching_of(
    f: &CustomerFacts,
    held: &switching_cost::TransactionFacts,
    cut: DayNumber,
    config: &SwitchingCostConfig,
) -> Result<SwitchingInsight, Missing> {
    // As the CLI reads its customers file: a blank contract, integration or balance is none.
    let remaining = f
        .contract_end
        .map_or(0.0, |end| f64::from((day_number(end) - cut).max(0)));
    let input = SwitchingCostInput {
        customer_id: f.customer_id.clone(),
        categories_held: held.categories_held.unwrap_or(0),
        remaining_contract_days: remaining,
        integration_level: f
            .integration_level
            .unwrap_or(0)
            .min(config.max_integration_level),
        loyalty_balance: f.loyalty_balance.unwrap_or(0.0).max(0.0),
        tenure_days: held.tenure_days,
    };
    let s = switching_cost::score(std::slice::from_ref(&input), config)
        .ok()
        .and_then(|mut v| v.pop())
        .ok_or(Missing::NoFacts)?;
    Ok(SwitchingInsight {
        index: s.index,
        level: s.level,
        lever: s.lever,
    })
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

    /// Twelve customers ordering monthly for a year: printers with toner mostly; c00 only ever
    /// bought printers, and c01 buys toner after the as-of date.
    fn ledger() -> Transactions {
        let mut b = TransactionsBuilder::new();
        for c in 0..12 {
            let id = format!("c{c:02}");
            for m in 0..12 {
                let day = d("2024-01-03") + Duration::days(30 * m + c);
                let order = format!("o{c}-{m}");
                b.push(&id, day, 100.0, None, Some(&order), Some("printer"))
                    .unwrap();
                if c > 1 {
                    b.push(&id, day, 20.0, None, Some(&order), Some("toner"))
                        .unwrap();
                }
            }
        }
        b.push(
            "c01",
            d("2025-03-01"),
            20.0,
            None,
            Some("late"),
            Some("toner"),
        )
        .unwrap();
        b.build()
    }

    fn rated(id: &str, sat: f64, r: [f64; 4]) -> CustomerFacts {
        CustomerFacts {
            customer_id: id.into(),
            satisfaction: Some(sat),
            recommendation: Some(9.0),
            share_of_wallet: Some(0.5),
            contract_end: Some(d("2025-06-30")),
            integration_level: Some(2),
            loyalty_balance: None,
            ratings: r.map(Some),
        }
    }

    fn keys(tx: &Transactions) -> Vec<u32> {
        (0..tx.num_customers() as u32).collect()
    }

    #[test]
    fn facts_give_loyalty_types_switching_costs_and_a_focus() {
        let tx = ledger();
        // Eight survey answers where satisfaction follows the service rating.
        let mut facts: Vec<CustomerFacts> = (2..10)
            .map(|c| {
                let service = 1.0 + f64::from(c % 5);
                let product = 2.0 + f64::from(c % 3);
                rated(
                    &format!("c{c:02}"),
                    service,
                    [product, service, 3.0 + f64::from(c % 2), 4.0],
                )
            })
            .collect();
        // c10 told us only its contract.
        facts.push(CustomerFacts {
            customer_id: "c10".into(),
            contract_end: Some(d("2026-12-31")),
            ..CustomerFacts::default()
        });
        let as_of = d("2024-12-31");
        let (out, _) = compute(&tx, &facts, &keys(&tx), as_of, &FactOptions::default()).unwrap();
        let of = |id: &str| &out[tx.customer_key(id).unwrap() as usize];

        // Attitude known: a type; none recorded: behaviour only, no type, and no facts named
        // as missing one by one (there is no record at all).
        let c2 = of("c02");
        let l = c2.loyalty.unwrap();
        assert!(l.attitude.is_some() && l.kind.is_some(), "{l:?}");
        let c11 = of("c11");
        let l = c11.loyalty.unwrap();
        assert!(
            l.attitude.is_none() && l.kind.is_none() && l.behaviour > 50.0,
            "{l:?}"
        );
        assert!(c11.missing.is_empty());
        assert_eq!(c11.switching, Err(Missing::NoFacts));
        assert_eq!(c11.focus, Err(Missing::NoFacts));

        // Switching cost: half a year of contract left, integration 2 of 3, two products.
        let s = c2.switching.as_ref().unwrap();
        let full = SwitchingCostConfig::default().tenure_full_days;
        let expected = 25.0 * 2.0 / 5.0
            + 25.0 * 181.0 / 365.0
            + 20.0 * 2.0 / 3.0
            + 15.0 * (as_of - d("2024-01-05")).num_days() as f64 / full;
        assert!((s.index - expected).abs() < 1e-9, "{s:?} {expected}");
        assert_eq!(c2.missing, vec![Input::LoyaltyBalance]);
        // c10: a switching cost from its contract; its blanks are named; no survey.
        let c10 = of("c10");
        assert!(c10.switching.is_ok());
        assert!(c10.missing.contains(&Input::Satisfaction));
        assert!(c10.missing.contains(&Input::IntegrationLevel));
        assert!(c10.missing.contains(&Input::Ratings));
        assert_eq!(c10.focus, Err(Missing::NoSurvey));

        // Service drives satisfaction: the focus of a customer rating service low is service.
        let low_service = of("c05"); // service 1
        assert_eq!(low_service.focus.as_ref().unwrap().dimension, "service");

        // Too few answers: the answering customers say so.
        let (few, _) =
            compute(&tx, &facts[..3], &keys(&tx), as_of, &FactOptions::default()).unwrap();
        assert_eq!(
            few[tx.customer_key("c02").unwrap() as usize].focus,
            Err(Missing::FewSurveys)
        );
    }

    #[test]
    fn next_best_products_come_from_orders_up_to_the_as_of_date() {
        let tx = ledger();
        let (out, _) = compute(
            &tx,
            &[],
            &keys(&tx),
            d("2024-12-31"),
            &FactOptions::default(),
        )
        .unwrap();
        let next = |id: &str| {
            out[tx.customer_key(id).unwrap() as usize]
                .next_products
                .clone()
        };
        // Printer buyers buy toner; c00 and c01 have none yet (c01's comes later).
        for id in ["c00", "c01"] {
            let n = next(id).unwrap();
            assert_eq!(n.len(), 1, "{id}: {n:?}");
            assert_eq!(n[0].product, "toner");
            assert_eq!(n[0].because, vec!["printer".to_string()]);
        }
        assert!(next("c05").unwrap().is_empty());
        // Without products there are no rules: says so.
        let mut b = TransactionsBuilder::new();
        b.push("a", d("2024-01-01"), 1.0, None, None, None).unwrap();
        let tx = b.build();
        let (out, _) = compute(&tx, &[], &[0], d("2024-12-31"), &FactOptions::default()).unwrap();
        assert_eq!(out[0].next_products, Err(Missing::NoProducts));
    }
}
