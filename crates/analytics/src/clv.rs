//! Customer lifetime value: what each customer is expected to be worth over a horizon, in today's
//! money.
//!
//! Sources: the repeat-purchase models ([`crate::bgnbd`], [`crate::pareto_nbd`]) for *how many*
//! purchases to expect, Gamma-Gamma ([`crate::gamma_gamma`]) for *how much* each will be worth,
//! combined as in P. S. Fader, B. G. S. Hardie and K. L. Lee, "RFM and CLV: Using Iso-Value Curves
//! for Customer Base Analysis", *JMR* 42(4), 2005 (section "Computing CLV"), here with discrete
//! discounting of each cash-flow step.
//!
//! # Formula
//!
//! For a customer with history (x, tₓ, T), expected spend per purchase E\[M\] (Gamma-Gamma eq. 5)
//! and margin rate m, over a horizon H split into K = ⌈H / Δ⌉ cash-flow steps of length Δ periods,
//! with discount rate d per step:
//!
//! ```text
//! CLV = m · E[M] · Σₖ₌₁..K ( E[Y(min(kΔ, H))] − E[Y((k−1)Δ)] ) / (1 + d)ᵏ
//! ```
//!
//! where E[Y(t)] is the model's expected number of purchases in the next t periods given the
//! history. Both models factor E[Y(t)] = P(alive) · G(t; x, T), so G is computed once per
//! distinct (x, T) pair and shared by every customer with that pair — which is what makes scoring
//! a million customers cheap.
//!
//! The margin rate m is, in order: the rate the caller fixes, else the customer's own observed
//! gross-margin rate (Σ(amount − cost) / Σ amount) when the data has costs, else 1 (then CLV is
//! expected discounted revenue).
//!
//! # In words
//!
//! CLV is the money a customer is expected to bring in from now until the horizon, counting only
//! purchases they are still likely to make (a customer who has probably left contributes little),
//! valued at what they typically spend, and discounting later money because money later is worth
//! less than money now.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::bgnbd::BgNbdParams;
use crate::gamma_gamma::GammaGammaParams;
use crate::numeric::ModelError;
use crate::pareto_nbd::ParetoNbdParams;
use crate::transactions::{CustomerSummary, Summary};

/// A fitted repeat-purchase model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum RepeatModel {
    /// BG/NBD.
    BgNbd(BgNbdParams),
    /// Pareto/NBD.
    ParetoNbd(ParetoNbdParams),
}

impl RepeatModel {
    /// Probability the customer is still active.
    pub fn p_alive(&self, x: u32, tx: f64, t: f64) -> Result<f64, ModelError> {
        match self {
            RepeatModel::BgNbd(p) => Ok(p.p_alive(x, tx, t)),
            RepeatModel::ParetoNbd(p) => p.p_alive(x, tx, t),
        }
    }

    /// Expected purchases in the next `horizon` periods if still active.
    pub fn expected_purchases_if_alive(
        &self,
        horizon: f64,
        x: u32,
        t: f64,
    ) -> Result<f64, ModelError> {
        match self {
            RepeatModel::BgNbd(p) => p.expected_purchases_if_alive(horizon, x, t),
            RepeatModel::ParetoNbd(p) => Ok(p.expected_purchases_if_alive(horizon, x, t)),
        }
    }

    /// Expected purchases in the next `horizon` periods.
    pub fn expected_purchases(
        &self,
        horizon: f64,
        x: u32,
        tx: f64,
        t: f64,
    ) -> Result<f64, ModelError> {
        Ok(self.p_alive(x, tx, t)? * self.expected_purchases_if_alive(horizon, x, t)?)
    }
}

/// Options for [`score`].
#[derive(Clone, Copy, Debug)]
pub struct ClvOptions {
    /// Horizon H in periods (also the horizon of `expected_purchases`).
    pub horizon: f64,
    /// Cash-flow step Δ in periods (1 = discount every period).
    pub step: f64,
    /// Discount rate d per step.
    pub discount_rate: f64,
    /// Fixed margin rate; `None` uses observed margins when costs are known, else 1.
    pub margin_rate: Option<f64>,
}

impl Default for ClvOptions {
    fn default() -> Self {
        ClvOptions {
            horizon: 52.0,
            step: 1.0,
            discount_rate: 0.0,
            margin_rate: None,
        }
    }
}

/// One customer's scores.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CustomerValue {
    /// Customer key.
    pub customer: u32,
    /// Repeat purchases in calibration.
    pub frequency: u32,
    /// Recency in periods.
    pub recency: f64,
    /// Age T in periods.
    pub t: f64,
    /// Mean repeat-purchase value.
    pub monetary: f64,
    /// Probability still active.
    pub p_alive: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Expected value per future purchase (Gamma-Gamma), or the observed mean without a spend
    /// model.
    pub expected_spend: f64,
    /// Margin rate applied.
    pub margin_rate: f64,
    /// Discounted expected margin over the horizon.
    pub clv: f64,
}

/// G(horizon) and the discounted sum of G's increments for one (x, T).
#[derive(Clone, Copy)]
struct Curve {
    total: f64,
    discounted: f64,
}

fn key(c: &CustomerSummary) -> (u32, u64) {
    (c.frequency, c.t.to_bits())
}

fn curve(model: &RepeatModel, x: u32, t: f64, o: &ClvOptions) -> Result<Curve, ModelError> {
    let h = o.horizon.max(0.0);
    let step = if o.step > 0.0 { o.step } else { 1.0 };
    let steps = (h / step).ceil() as usize;
    let mut prev = 0.0;
    let mut discounted = 0.0;
    let mut factor = 1.0;
    for k in 1..=steps {
        let tk = (k as f64 * step).min(h);
        let g = model.expected_purchases_if_alive(tk, x, t)?;
        factor /= 1.0 + o.discount_rate;
        discounted += (g - prev) * factor;
        prev = g;
    }
    Ok(Curve {
        total: prev,
        discounted,
    })
}

/// Scores every customer of `summary`: p_alive, expected purchases over the horizon, expected
/// spend and CLV (see the module docs). Without a spend model, the customer's observed mean
/// repeat spend is used as expected spend (0 for customers with no repeat purchase).
pub fn score(
    model: &RepeatModel,
    spend: Option<&GammaGammaParams>,
    summary: &Summary,
    options: &ClvOptions,
) -> Result<Vec<CustomerValue>, ModelError> {
    let mut keys: Vec<(u32, u64)> = summary.customers.iter().map(key).collect();
    keys.par_sort_unstable();
    keys.dedup();
    let curves: Vec<Curve> = keys
        .par_iter()
        .map(|&(x, tb)| curve(model, x, f64::from_bits(tb), options))
        .collect::<Result<_, _>>()?;
    let table: HashMap<(u32, u64), Curve> = keys.into_iter().zip(curves).collect();
    summary
        .customers
        .par_iter()
        .map(|c| {
            let cv = table
                .get(&key(c))
                .copied()
                .ok_or_else(|| ModelError::NotEnoughData("internal: missing curve".into()))?;
            let p_alive = model.p_alive(c.frequency, c.recency, c.t)?.clamp(0.0, 1.0);
            let expected_spend = match spend {
                Some(g) => g
                    .expected_spend(c.frequency, c.monetary)
                    .unwrap_or(c.monetary),
                None => c.monetary,
            };
            let margin_rate = options
                .margin_rate
                .or_else(|| {
                    if summary.has_cost {
                        c.margin_rate()
                    } else {
                        None
                    }
                })
                .unwrap_or(1.0);
            Ok(CustomerValue {
                customer: c.customer,
                frequency: c.frequency,
                recency: c.recency,
                t: c.t,
                monetary: c.monetary,
                p_alive,
                expected_purchases: p_alive * cv.total,
                expected_spend,
                margin_rate,
                clv: margin_rate * expected_spend * p_alive * cv.discounted,
            })
        })
        .collect()
}

/// Predicted against actual purchases in the holdout window.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct HoldoutCheck {
    /// Holdout length in periods.
    pub periods: f64,
    /// Repeat purchases customers actually made in the holdout window.
    pub actual: f64,
    /// Purchases the model predicted for the window.
    pub predicted: f64,
}

/// Sums actual and predicted holdout purchases over the summary's customers (the summary must
/// have been built with a holdout end).
pub fn holdout_check(model: &RepeatModel, summary: &Summary) -> Result<HoldoutCheck, ModelError> {
    let h = summary.holdout_length;
    let predicted = summary
        .customers
        .par_iter()
        .map(|c| model.expected_purchases(h, c.frequency, c.recency, c.t))
        .try_reduce(|| 0.0, |a, b| Ok(a + b))?;
    let actual = summary
        .customers
        .iter()
        .map(|c| f64::from(c.holdout_frequency))
        .sum();
    Ok(HoldoutCheck {
        periods: h,
        actual,
        predicted,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::Period;

    #[test]
    fn clv_is_discounted_and_scales_with_margin() {
        let model = RepeatModel::BgNbd(BgNbdParams {
            r: 0.24,
            alpha: 4.41,
            a: 0.79,
            b: 2.43,
        });
        let s = Summary::from_values(
            Period::Week,
            &[(2, 30.43, 38.86, 22.35), (0, 0.0, 38.86, 0.0)],
        );
        let gg = GammaGammaParams {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        let base = ClvOptions {
            horizon: 52.0,
            ..ClvOptions::default()
        };
        let undiscounted = score(&model, Some(&gg), &s, &base).unwrap();
        let discounted = score(
            &model,
            Some(&gg),
            &s,
            &ClvOptions {
                discount_rate: 0.01,
                ..base
            },
        )
        .unwrap();
        let half = score(
            &model,
            Some(&gg),
            &s,
            &ClvOptions {
                margin_rate: Some(0.5),
                ..base
            },
        )
        .unwrap();
        for i in 0..2 {
            assert!(discounted[i].clv < undiscounted[i].clv);
            assert!((half[i].clv - 0.5 * undiscounted[i].clv).abs() < 1e-9);
            // Undiscounted CLV = spend × expected purchases.
            let u = &undiscounted[i];
            assert!((u.clv - u.expected_spend * u.expected_purchases).abs() < 1e-9);
        }
    }

    /// Agreement with the independent `lifetimes` library on the fixtures made by
    /// `tests/reference/btyd_reference.py` (see that script for how they were produced).
    mod reference {
        use super::super::*;
        use crate::transactions::{ParseOptions, Period, RepeatData, SummaryOptions, Transactions};
        use crate::{bgnbd, gamma_gamma, pareto_nbd};
        use chrono::NaiveDate;
        use serde_json::Value;

        const CSV: &str = include_str!("../tests/reference/btyd_transactions.csv");
        const EXPECTED: &str = include_str!("../tests/reference/btyd_expected.json");

        fn f(v: &Value, k: &str) -> f64 {
            v[k].as_f64().unwrap()
        }

        fn close(ours: f64, theirs: f64, rel: f64, abs: f64, what: &str) {
            assert!(
                (ours - theirs).abs() <= abs + rel * theirs.abs(),
                "{what}: ours {ours}, lifetimes {theirs}"
            );
        }

        fn setup() -> (Transactions, Summary, Value) {
            let exp: Value = serde_json::from_str(EXPECTED).unwrap();
            let t = Transactions::read(CSV.as_bytes(), &ParseOptions::default(), None).unwrap();
            let day =
                |k: &str| NaiveDate::parse_from_str(exp[k].as_str().unwrap(), "%Y-%m-%d").unwrap();
            let s = t
                .summarize(&SummaryOptions {
                    period: Period::Week,
                    calibration_end: day("calibration_end"),
                    holdout_end: Some(day("holdout_end")),
                })
                .unwrap();
            (t, s, exp)
        }

        #[test]
        fn summary_matches() {
            let (t, s, exp) = setup();
            let per = exp["per_customer"].as_array().unwrap();
            assert_eq!(per.len(), s.customers.len());
            close(
                s.holdout_length,
                f(&exp, "holdout_duration"),
                0.0,
                1e-9,
                "holdout length",
            );
            for e in per {
                let key = t.customer_key(e["customer_id"].as_str().unwrap()).unwrap();
                let c = s.customers.iter().find(|c| c.customer == key).unwrap();
                assert_eq!(u64::from(c.frequency), e["frequency"].as_u64().unwrap());
                assert_eq!(
                    u64::from(c.holdout_frequency),
                    e["holdout_frequency"].as_u64().unwrap()
                );
                close(c.recency, f(e, "recency"), 0.0, 1e-9, "recency");
                close(c.t, f(e, "t"), 0.0, 1e-9, "T");
                close(c.monetary, f(e, "monetary"), 1e-12, 1e-9, "monetary");
            }
        }

        #[test]
        fn fits_match() {
            let (_, s, exp) = setup();
            let data = RepeatData::from_summary(&s).unwrap();
            let bg = bgnbd::fit(&data, &bgnbd::FitOptions::default()).unwrap();
            let e = &exp["bgnbd"];
            // Same maximum: our log-likelihood is at least lifetimes' and the estimates agree.
            close(
                bg.log_likelihood,
                f(e, "log_likelihood"),
                0.0,
                1e-4,
                "BG/NBD LL",
            );
            close(bg.params.r, f(e, "r"), 1e-3, 0.0, "r");
            close(bg.params.alpha, f(e, "alpha"), 1e-3, 0.0, "alpha");
            close(bg.params.a, f(e, "a"), 2e-3, 0.0, "a");
            close(bg.params.b, f(e, "b"), 2e-3, 0.0, "b");

            let pn = pareto_nbd::fit(&data, &pareto_nbd::FitOptions::default()).unwrap();
            let e = &exp["pareto_nbd"];
            assert!(pn.log_likelihood >= f(e, "log_likelihood") - 1e-4);
            close(
                pn.log_likelihood,
                f(e, "log_likelihood"),
                0.0,
                1e-2,
                "Pareto/NBD LL",
            );
            close(pn.params.r, f(e, "r"), 1e-2, 0.0, "r");
            close(pn.params.alpha, f(e, "alpha"), 1e-2, 0.0, "alpha");
            close(pn.params.s, f(e, "s"), 2e-2, 0.0, "s");
            close(pn.params.beta, f(e, "beta"), 2e-2, 0.0, "beta");

            let gg = gamma_gamma::fit(s.customers.iter().map(|c| (c.frequency, c.monetary)), None)
                .unwrap();
            let e = &exp["gamma_gamma"];
            close(gg.params.p, f(e, "p"), 5e-3, 0.0, "p");
            close(gg.params.q, f(e, "q"), 5e-3, 0.0, "q");
            close(gg.params.gamma, f(e, "gamma"), 5e-3, 0.0, "gamma");
        }

        #[test]
        fn per_customer_outputs_match_with_the_same_parameters() {
            let (t, s, exp) = setup();
            let e = &exp["bgnbd"];
            let bg = BgNbdParams {
                r: f(e, "r"),
                alpha: f(e, "alpha"),
                a: f(e, "a"),
                b: f(e, "b"),
            };
            let e = &exp["pareto_nbd"];
            let pn = ParetoNbdParams {
                r: f(e, "r"),
                alpha: f(e, "alpha"),
                s: f(e, "s"),
                beta: f(e, "beta"),
            };
            let e = &exp["gamma_gamma"];
            let gg = GammaGammaParams {
                p: f(e, "p"),
                q: f(e, "q"),
                gamma: f(e, "gamma"),
            };
            let horizon = f(&exp, "horizon");
            let opts = ClvOptions {
                horizon: 12.0 * 4.345,
                step: 4.345,
                discount_rate: 0.01,
                margin_rate: None,
            };
            let values = score(&RepeatModel::BgNbd(bg), Some(&gg), &s, &opts).unwrap();
            for e in exp["per_customer"].as_array().unwrap() {
                let key = t.customer_key(e["customer_id"].as_str().unwrap()).unwrap();
                let c = s.customers.iter().find(|c| c.customer == key).unwrap();
                let (x, tx, tt) = (c.frequency, c.recency, c.t);
                close(
                    bg.p_alive(x, tx, tt),
                    f(e, "bgnbd_p_alive"),
                    1e-9,
                    1e-12,
                    "BG/NBD p_alive",
                );
                close(
                    bg.expected_purchases(horizon, x, tx, tt).unwrap(),
                    f(e, "bgnbd_expected"),
                    1e-7,
                    1e-10,
                    "BG/NBD E[Y]",
                );
                close(
                    pn.p_alive(x, tx, tt).unwrap(),
                    f(e, "pareto_nbd_p_alive"),
                    1e-7,
                    1e-10,
                    "Pareto/NBD p_alive",
                );
                close(
                    pn.expected_purchases(horizon, x, tx, tt).unwrap(),
                    f(e, "pareto_nbd_expected"),
                    1e-7,
                    1e-10,
                    "Pareto/NBD E[Y]",
                );
                close(
                    gg.expected_spend(x, c.monetary).unwrap(),
                    f(e, "expected_spend"),
                    1e-10,
                    1e-10,
                    "E[M]",
                );
                let v = values.iter().find(|v| v.customer == key).unwrap();
                close(v.clv, f(e, "clv"), 1e-7, 1e-8, "CLV");
            }
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn history() -> impl Strategy<Value = (u32, f64, f64)> {
            (0u32..60, 0.0f64..1.0, 0.5f64..150.0).prop_map(|(x, frac, t)| {
                let tx = if x == 0 { 0.0 } else { frac * t };
                (x, tx, t)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn bounds_and_monotonicity(
                (x, tx, t) in history(),
                r in 0.05f64..5.0, alpha in 0.1f64..50.0, a in 0.1f64..5.0, b in 0.1f64..10.0,
                s in 0.1f64..5.0, beta in 0.1f64..50.0, h in 0.5f64..100.0,
            ) {
                let models = [
                    RepeatModel::BgNbd(BgNbdParams { r, alpha, a, b }),
                    RepeatModel::ParetoNbd(ParetoNbdParams { r, alpha, s, beta }),
                ];
                for m in models {
                    let p = m.p_alive(x, tx, t).unwrap();
                    prop_assert!((0.0..=1.0).contains(&p), "p_alive {p}");
                    let e1 = m.expected_purchases(h, x, tx, t).unwrap();
                    let e2 = m.expected_purchases(2.0 * h, x, tx, t).unwrap();
                    prop_assert!(e1 >= 0.0 && e1.is_finite(), "E {e1}");
                    prop_assert!(e2 >= e1 * (1.0 - 1e-9), "E not monotone {e1} {e2}");
                    // A more recent last purchase never lowers P(alive).
                    if x > 0 {
                        let later = m.p_alive(x, (tx + t) / 2.0, t).unwrap();
                        prop_assert!(later >= p - 1e-9, "{p} {later}");
                    }
                }
            }
        }
    }
}
