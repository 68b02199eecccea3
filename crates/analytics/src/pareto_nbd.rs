//! Pareto/NBD: the classic model of customers who buy at random and may leave at any moment.
//!
//! Source: D. C. Schmittlein, D. G. Morrison and R. Colombo, "Counting Your Customers: Who Are
//! They and What Will They Do Next?", *Management Science* 33(1), 1987, 1–24 (SMC); and
//! P. S. Fader and B. G. S. Hardie, "A Note on Deriving the Pareto/NBD Model and Related
//! Expressions" (2005) together with their note on implementing it, whose form of the likelihood
//! is used here because it avoids the numerical trouble of SMC's original expression.
//!
//! # The model in words
//!
//! While active, a customer buys at their own steady rate λ (gamma-distributed across customers,
//! shape `r`, rate `alpha`). Independently, each customer has a lifetime that ends at a random
//! moment — not only right after a purchase, as in BG/NBD — at their own dropout rate μ
//! (gamma-distributed, shape `s`, rate `beta`). The average customer buys `r / alpha` times a
//! period and stays on average `beta / (s − 1)` periods (when `s > 1`).
//!
//! Outputs per customer: **p_alive** (probability still active) and **expected purchases** in the
//! next `t` periods.
//!
//! # Equations implemented (notation of the Fader-Hardie notes)
//!
//! - Likelihood: L = Γ(r+x) αʳ βˢ / Γ(r) · { 1 / ((α+T)^(r+x) (β+T)ˢ) + s/(r+s+x) · A₀ },
//!   where for α ≥ β
//!   A₀ = F(r+s+x, s+1; (α−β)/(α+tₓ)) / (α+tₓ)^(r+s+x) − F(r+s+x, s+1; (α−β)/(α+T)) / (α+T)^(r+s+x),
//!   and for α < β the same with (α, s+1) replaced by (β, r+x) and α−β by β−α; F(a, b; z) =
//!   ₂F₁(a, b; a+1; z). Choosing the branch by the larger of α and β keeps z in [0, 1).
//!   Everything is evaluated in log space: ln A₀ with a log-difference-of-exponentials, the outer
//!   sum with log-sum-exp, and ₂F₁ by [`crate::numeric::ln_hyp2f1_c_eq_a_plus_1`] (Euler's
//!   transformation keeps its terms below zⁿ).
//! - P(alive | x, tₓ, T) = 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)ˢ · A₀) (SMC eq. 11 in this form).
//! - E[Y(t) | x, tₓ, T] = (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)
//!   (SMC eq. 22), evaluated with `expm1` so that s close to 1 (where the bracket over s−1 tends to
//!   ln((β+T+t)/(β+T))) is exact.
//!
//! Fitting is by maximum likelihood over log-parameters (Nelder-Mead, then BFGS with a
//! finite-difference gradient); standard errors from the numerical Hessian.

use rayon::prelude::*;
use serde::Serialize;

use crate::numeric::{
    MAX_LOG_PARAM, MinimizeOptions, ModelError, Objective, ln_gamma, ln_hyp2f1_c_eq_a_plus_1,
    log_add_exp, log_sub_exp, minimize, numerical_hessian, standard_errors,
};
use crate::transactions::RepeatData;

/// Pareto/NBD parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ParetoNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Rate of the gamma distribution of purchase rates.
    pub alpha: f64,
    /// Shape of the gamma distribution of dropout rates.
    pub s: f64,
    /// Rate of the gamma distribution of dropout rates.
    pub beta: f64,
}

/// A fitted Pareto/NBD model.
#[derive(Clone, Debug, Serialize)]
pub struct ParetoNbdFit {
    /// Maximum-likelihood estimates.
    pub params: ParetoNbdParams,
    /// Asymptotic standard errors.
    pub standard_errors: ParetoNbdParams,
    /// Total log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// Customers the model was fitted on.
    pub customers: f64,
    /// Optimizer iterations.
    pub iterations: u64,
}

impl ParetoNbdParams {
    fn from_log(th: &[f64]) -> Self {
        ParetoNbdParams {
            r: th[0].exp(),
            alpha: th[1].exp(),
            s: th[2].exp(),
            beta: th[3].exp(),
        }
    }

    fn as_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.s, self.beta]
    }

    /// ln A₀ (see the module docs); −∞ when tₓ = T.
    fn ln_a0(&self, x: u32, tx: f64, t: f64) -> Result<f64, ModelError> {
        let ParetoNbdParams { r, alpha, s, beta } = *self;
        let xf = f64::from(x);
        let rsx = r + s + xf;
        let (big, b2, diff) = if alpha >= beta {
            (alpha, s + 1.0, alpha - beta)
        } else {
            (beta, r + xf, beta - alpha)
        };
        let term = |tau: f64| -> Result<f64, ModelError> {
            let z = diff / (big + tau);
            Ok(ln_hyp2f1_c_eq_a_plus_1(rsx, b2, z)? - rsx * (big + tau).ln())
        };
        if t <= tx {
            return Ok(f64::NEG_INFINITY);
        }
        let (u, v) = (term(tx)?, term(t)?);
        // u ≥ v mathematically; rounding can flip an almost-zero difference.
        Ok(if u > v {
            log_sub_exp(u, v)
        } else {
            f64::NEG_INFINITY
        })
    }

    /// Log-likelihood of one customer.
    pub fn log_likelihood_one(&self, x: u32, tx: f64, t: f64) -> Result<f64, ModelError> {
        let ParetoNbdParams { r, alpha, s, beta } = *self;
        let xf = f64::from(x);
        let head = ln_gamma(r + xf) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let first = -(r + xf) * (alpha + t).ln() - s * (beta + t).ln();
        let second = s.ln() - (r + s + xf).ln() + self.ln_a0(x, tx, t)?;
        Ok(head + log_add_exp(first, second))
    }

    /// Total log-likelihood of compressed data.
    pub fn log_likelihood(&self, data: &RepeatData) -> Result<f64, ModelError> {
        data.rows
            .par_chunks(1024)
            .map(|rows| {
                rows.iter().try_fold(0.0, |acc, row| {
                    let ll = self.log_likelihood_one(
                        row.x,
                        data.times[row.tx as usize],
                        data.times[row.t as usize],
                    )?;
                    Ok::<f64, ModelError>(acc + row.weight * ll)
                })
            })
            .try_reduce(|| 0.0, |a, b| Ok(a + b))
    }

    /// Probability that a customer with this history is still active.
    pub fn p_alive(&self, x: u32, tx: f64, t: f64) -> Result<f64, ModelError> {
        let ParetoNbdParams { r, alpha, s, beta } = *self;
        let xf = f64::from(x);
        let ln_odds = s.ln() - (r + s + xf).ln()
            + (r + xf) * (alpha + t).ln()
            + s * (beta + t).ln()
            + self.ln_a0(x, tx, t)?;
        Ok(1.0 / (1.0 + ln_odds.exp()))
    }

    /// Expected purchases in the next `horizon` periods *if the customer is still active*.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let ParetoNbdParams { r, alpha, s, beta } = *self;
        let xf = f64::from(x);
        let l = ((beta + t) / (beta + t + horizon)).ln();
        let sm1 = s - 1.0;
        // [1 − e^{(s−1)l}] / (s − 1), → −l as s → 1.
        let bracket = if sm1.abs() < 1e-10 {
            -l
        } else {
            -(sm1 * l).exp_m1() / sm1
        };
        (r + xf) * (beta + t) / (alpha + t) * bracket
    }

    /// Expected purchases in the next `horizon` periods (SMC eq. 22).
    pub fn expected_purchases(
        &self,
        horizon: f64,
        x: u32,
        tx: f64,
        t: f64,
    ) -> Result<f64, ModelError> {
        Ok(self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, tx, t)?)
    }
}

struct Nll<'a> {
    data: &'a RepeatData,
}

impl Objective for Nll<'_> {
    fn value(&self, th: &[f64]) -> f64 {
        if th.iter().any(|v| !v.is_finite() || v.abs() > MAX_LOG_PARAM) {
            return f64::INFINITY;
        }
        match ParetoNbdParams::from_log(th).log_likelihood(self.data) {
            Ok(ll) => -ll / self.data.total_weight,
            Err(_) => f64::INFINITY,
        }
    }
}

/// Options for [`fit`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FitOptions {
    /// Starting values (otherwise r = 1, α from mean age and frequency, s = 1, β = mean age).
    pub start: Option<ParetoNbdParams>,
    /// Optimizer settings.
    pub minimize: Option<MinimizeOptions>,
}

/// Fits Pareto/NBD by maximum likelihood.
pub fn fit(data: &RepeatData, options: &FitOptions) -> Result<ParetoNbdFit, ModelError> {
    if data.total_weight < 2.0 || data.max_frequency == 0 {
        return Err(ModelError::NotEnoughData(
            "Pareto/NBD needs at least two customers and one repeat purchase".into(),
        ));
    }
    let start = options.start.unwrap_or_else(|| {
        let (mx, mt) = data.means();
        ParetoNbdParams {
            r: 1.0,
            alpha: (mt / mx.max(0.05)).clamp(1e-3, 1e6),
            s: 1.0,
            beta: mt.clamp(1e-3, 1e6),
        }
    });
    let th0: Vec<f64> = start.as_vec().iter().map(|v| v.ln()).collect();
    let opts = options.minimize.unwrap_or(MinimizeOptions {
        nelder_mead_iters: 600,
        nelder_mead_tol: 1e-9,
        simplex_step: 0.5,
        bfgs_iters: 60,
    });
    let m = minimize(&Nll { data }, &th0, &opts)?;
    let params = ParetoNbdParams::from_log(&m.x);
    let log_likelihood = params.log_likelihood(data)?;
    let h = numerical_hessian(
        |p| {
            if p.iter().any(|v| *v <= 0.0) {
                return f64::NAN;
            }
            let q = ParetoNbdParams {
                r: p[0],
                alpha: p[1],
                s: p[2],
                beta: p[3],
            };
            q.log_likelihood(data).map_or(f64::NAN, |v| -v)
        },
        &params.as_vec(),
        1e-4,
    );
    let se = standard_errors(&h);
    Ok(ParetoNbdFit {
        params,
        standard_errors: ParetoNbdParams {
            r: se[0],
            alpha: se[1],
            s: se[2],
            beta: se[3],
        },
        log_likelihood,
        customers: data.total_weight,
        iterations: m.iterations,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn branches_agree_near_alpha_equals_beta() {
        // The two branches of A0 describe the same function; at α = β ± ε they must agree.
        let p1 = ParetoNbdParams {
            r: 0.55,
            alpha: 10.0,
            s: 0.6,
            beta: 10.0 + 1e-7,
        };
        let p2 = ParetoNbdParams {
            r: 0.55,
            alpha: 10.0,
            s: 0.6,
            beta: 10.0 - 1e-7,
        };
        let a = p1.log_likelihood_one(3, 20.0, 35.0).unwrap();
        let b = p2.log_likelihood_one(3, 20.0, 35.0).unwrap();
        assert!((a - b).abs() < 1e-6, "{a} {b}");
    }

    #[test]
    fn p_alive_and_expectations() {
        let p = ParetoNbdParams {
            r: 0.55,
            alpha: 10.58,
            s: 0.61,
            beta: 11.67,
        };
        let recent = p.p_alive(5, 38.0, 39.0).unwrap();
        let stale = p.p_alive(5, 5.0, 39.0).unwrap();
        assert!(recent > stale && recent <= 1.0 && stale >= 0.0);
        assert!((p.p_alive(0, 0.0, 0.0).unwrap() - 1.0).abs() < 1e-12);
        let q = ParetoNbdParams { s: 1.0, ..p };
        let near = ParetoNbdParams { s: 1.0 + 1e-6, ..p };
        let e1 = q.expected_purchases(10.0, 2, 20.0, 30.0).unwrap();
        let e2 = near.expected_purchases(10.0, 2, 20.0, 30.0).unwrap();
        assert!((e1 - e2).abs() < 1e-5);
    }

    /// Simulates the Pareto/NBD story (SMC 1987 section 2) and checks the fit recovers the
    /// parameters within three standard errors.
    #[test]
    fn recovers_simulated_parameters() {
        use rand::{Rng, SeedableRng};
        use rand_distr::{Distribution, Exp, Gamma};
        let truth = ParetoNbdParams {
            r: 0.6,
            alpha: 6.0,
            s: 0.8,
            beta: 12.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let lam = Gamma::new(truth.r, 1.0 / truth.alpha).unwrap();
        let mu = Gamma::new(truth.s, 1.0 / truth.beta).unwrap();
        let mut triples = Vec::new();
        for _ in 0..3000 {
            let t_end: f64 = rng.random_range(20.0..60.0);
            let l: f64 = lam.sample(&mut rng);
            let m: f64 = mu.sample(&mut rng);
            let life = Exp::new(m.max(1e-12)).unwrap().sample(&mut rng);
            let gap = Exp::new(l.max(1e-12)).unwrap();
            let stop = life.min(t_end);
            let (mut t, mut x, mut tx) = (0.0, 0u32, 0.0);
            loop {
                t += gap.sample(&mut rng);
                if t > stop {
                    break;
                }
                x += 1;
                tx = t;
            }
            triples.push((x, tx, t_end));
        }
        let data = RepeatData::from_triples(triples.into_iter()).unwrap();
        let fit = fit(&data, &FitOptions::default()).unwrap();
        let (e, se) = (fit.params, fit.standard_errors);
        for (name, est, sd, tru) in [
            ("r", e.r, se.r, truth.r),
            ("alpha", e.alpha, se.alpha, truth.alpha),
            ("s", e.s, se.s, truth.s),
            ("beta", e.beta, se.beta, truth.beta),
        ] {
            assert!(sd.is_finite() && sd > 0.0, "{name}: se {sd}");
            assert!(
                (est - tru).abs() < 3.0 * sd,
                "{name}: {est} ± {sd}, truth {tru}"
            );
        }
    }
}
