//! BG/NBD: how often customers buy, and whether they are still buying at all.
//!
//! Source: P. S. Fader, B. G. S. Hardie and K. L. Lee, "'Counting Your Customers' the Easy Way:
//! An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 2005, 275–284; and
//! Fader, Hardie & Lee, "Computing P(alive) Using the BG/NBD Model" (note, 2008).
//!
//! # The model in words
//!
//! While a customer is active, they buy at their own steady rate λ; rates differ between
//! customers following a gamma distribution with shape `r` and rate `alpha` (so the average
//! customer buys `r / alpha` times per period). After each purchase the customer may quietly leave
//! for good with their own probability p; these probabilities follow a beta distribution with
//! parameters `a` and `b` (the average chance of leaving after a purchase is `a / (a + b)`).
//!
//! From the customer's frequency, recency and age the model says:
//!
//! - **p_alive** — the probability the customer is still active (a customer who used to buy every
//!   week and has been silent for three months is probably gone; one who buys twice a year and was
//!   last seen two months ago is probably fine);
//! - **expected purchases** in the next `t` periods, for that customer (FHL 2005, eq. 10).
//!
//! # Equations implemented
//!
//! - Individual likelihood, FHL 2005 eq. (6), written in log space:
//!   ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
//!   + ln[(α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+tₓ)^−(r+x)], the last term by log-sum-exp.
//! - Its gradient, derived by hand (used by the BFGS polish; checked against finite differences in
//!   the tests).
//! - P(alive | x, tₓ, T) = 1 / (1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x)) (the 2008 note, eq. 2).
//! - Conditional expectation, FHL 2005 eq. (10), with the ₂F₁ rewritten by Euler's
//!   transformation (A&S 15.3.3) so that ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z) =
//!   (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z), z = t/(α+T+t): the transformed series does
//!   not blow up for heavy buyers.
//! - Unconditional expectation E[X(t)], eq. (9): the same expression with x = tₓ = T = 0.
//!
//! Parameters are estimated by maximum likelihood over their logarithms (Nelder-Mead, then a BFGS
//! polish with the analytic gradient); standard errors come from the numerical Hessian of the
//! log-likelihood at the optimum.

use rayon::prelude::*;
use serde::Serialize;

use crate::numeric::{
    MAX_LOG_PARAM, MinimizeOptions, ModelError, Objective, WARM_START_ROWS, digamma,
    hessian_from_gradient, ln_beta, ln_gamma, ln_hyp2f1, log_add_exp, minimize_warm,
    standard_errors,
};
use crate::transactions::RepeatData;

/// BG/NBD parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct BgNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Rate (inverse scale) of the gamma distribution of purchase rates, in periods.
    pub alpha: f64,
    /// First shape of the beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the beta distribution of drop-out probabilities.
    pub b: f64,
}

/// A fitted BG/NBD model.
#[derive(Clone, Debug, Serialize)]
pub struct BgNbdFit {
    /// Maximum-likelihood estimates.
    pub params: BgNbdParams,
    /// Asymptotic standard errors of the estimates (NaN where the Hessian is degenerate).
    pub standard_errors: BgNbdParams,
    /// Total log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// Customers the model was fitted on.
    pub customers: f64,
    /// Optimizer iterations.
    pub iterations: u64,
}

/// Chunk size for parallel likelihood sums.
const CHUNK: usize = 8192;

impl BgNbdParams {
    fn from_log(th: &[f64]) -> BgNbdParams {
        BgNbdParams {
            r: th[0].exp(),
            alpha: th[1].exp(),
            a: th[2].exp(),
            b: th[3].exp(),
        }
    }

    fn as_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// Log-likelihood of one customer (FHL 2005 eq. 6).
    pub fn log_likelihood_one(&self, x: u32, tx: f64, t: f64) -> f64 {
        let BgNbdParams { r, alpha, a, b } = *self;
        let xf = f64::from(x);
        let c =
            ln_gamma(r + xf) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + xf) - ln_beta(a, b);
        let first = -(r + xf) * (alpha + t).ln();
        if x == 0 {
            c + first
        } else {
            let second = a.ln() - (b + xf - 1.0).ln() - (r + xf) * (alpha + tx).ln();
            c + log_add_exp(first, second)
        }
    }

    /// Total log-likelihood of compressed data.
    pub fn log_likelihood(&self, data: &RepeatData) -> f64 {
        let tables = Tables::new(self, data, false);
        data.rows
            .par_chunks(CHUNK)
            .map(|rows| {
                rows.iter()
                    .map(|row| tables.row(row) * row.weight)
                    .sum::<f64>()
            })
            .sum()
    }

    /// Probability that a customer with this history is still active.
    pub fn p_alive(&self, x: u32, tx: f64, t: f64) -> f64 {
        if x == 0 {
            return 1.0;
        }
        let xf = f64::from(x);
        let lt = self.a.ln() - (self.b + xf - 1.0).ln()
            + (self.r + xf) * ((self.alpha + t).ln() - (self.alpha + tx).ln());
        1.0 / (1.0 + lt.exp())
    }

    /// Expected purchases in the next `horizon` periods by a customer with history (x, tₓ, T)
    /// (FHL 2005 eq. 10; see the module docs for the transformation used).
    pub fn expected_purchases(
        &self,
        horizon: f64,
        x: u32,
        tx: f64,
        t: f64,
    ) -> Result<f64, ModelError> {
        Ok(self.expected_purchases_if_alive(horizon, x, t)? * self.p_alive(x, tx, t))
    }

    /// Expected purchases in the next `horizon` periods *if the customer is still active*: eq. 10
    /// without its P(alive) denominator. Depends on the history only through x and T.
    pub fn expected_purchases_if_alive(
        &self,
        horizon: f64,
        x: u32,
        t: f64,
    ) -> Result<f64, ModelError> {
        if horizon <= 0.0 {
            return Ok(0.0);
        }
        let BgNbdParams { r, alpha, a, b } = *self;
        if (a - 1.0).abs() < 1e-9 {
            // a → 1: numerator and denominator vanish together; the expectation is continuous in
            // a, so step a slightly.
            let p = BgNbdParams {
                a: a + 2e-7,
                ..*self
            };
            return p.expected_purchases_if_alive(horizon, x, t);
        }
        let xf = f64::from(x);
        let z = horizon / (alpha + t + horizon);
        let ln_1mz = ((alpha + t) / (alpha + t + horizon)).ln();
        // The bracket is 1 − (1−z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z). Sum whichever of the
        // original series and its Euler transform (A&S 15.3.3),
        // (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z), has the smaller leading term ratio: the
        // transform tames heavy buyers (large x), the original tames large a and b.
        let c = a + b + xf - 1.0;
        let q_orig = ((r + xf) * (b + xf) / c * z).abs();
        let q_euler = ((a + b - 1.0 - r) * (a - 1.0) / c * z).abs();
        let (ln_f, sign, ln_pre) = if q_euler <= q_orig {
            let (l, s) = ln_hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)?;
            (l, s, (a - 1.0) * ln_1mz)
        } else {
            let (l, s) = ln_hyp2f1(r + xf, b + xf, c, z)?;
            (l, s, (r + xf) * ln_1mz)
        };
        let bracket = 1.0 - sign * (ln_pre + ln_f).exp();
        Ok((a + b + xf - 1.0) / (a - 1.0) * bracket)
    }

    /// Expected purchases in `horizon` periods by a new customer (FHL 2005 eq. 9).
    pub fn expected_purchases_new(&self, horizon: f64) -> Result<f64, ModelError> {
        self.expected_purchases(horizon, 0, 0.0, 0.0)
    }
}

/// Per-evaluation lookup tables: every function of a time or of a frequency is computed once.
struct Tables {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
    ln_alpha: f64,
    /// ln(α + τ) per distinct time.
    ln_at: Vec<f64>,
    /// 1 / (α + τ) per distinct time (gradient only).
    inv_at: Vec<f64>,
    /// Per frequency: constant part of ln L.
    c: Vec<f64>,
    /// Per frequency: ln a − ln(b + x − 1) (x ≥ 1).
    ln_ratio: Vec<f64>,
    /// Per frequency, gradient only: ψ(r+x) − ψ(r).
    d_r: Vec<f64>,
    /// ψ(a+b) − ψ(a+b+x).
    d_a: Vec<f64>,
    /// ψ(b+x) − ψ(a+b+x) − ψ(b) + ψ(a+b).
    d_b: Vec<f64>,
}

impl Tables {
    fn new(p: &BgNbdParams, data: &RepeatData, gradient: bool) -> Tables {
        let BgNbdParams { r, alpha, a, b } = *p;
        let ln_at: Vec<f64> = data.times.iter().map(|&t| (alpha + t).ln()).collect();
        let inv_at = if gradient {
            data.times.iter().map(|&t| 1.0 / (alpha + t)).collect()
        } else {
            Vec::new()
        };
        let nx = data.max_frequency as usize + 1;
        let (lg_r, lb_ab) = (ln_gamma(r), ln_beta(a, b));
        let (ln_a, ln_alpha) = (a.ln(), alpha.ln());
        let mut c = Vec::with_capacity(nx);
        let mut ln_ratio = Vec::with_capacity(nx);
        let (mut d_r, mut d_a, mut d_b) = (Vec::new(), Vec::new(), Vec::new());
        let (psi_r, psi_ab, psi_b) = if gradient {
            (digamma(r), digamma(a + b), digamma(b))
        } else {
            (0.0, 0.0, 0.0)
        };
        for x in 0..nx {
            let xf = x as f64;
            c.push(ln_gamma(r + xf) - lg_r + r * ln_alpha + ln_beta(a, b + xf) - lb_ab);
            ln_ratio.push(if x > 0 {
                ln_a - (b + xf - 1.0).ln()
            } else {
                0.0
            });
            if gradient {
                let psi_abx = digamma(a + b + xf);
                d_r.push(digamma(r + xf) - psi_r);
                d_a.push(psi_ab - psi_abx);
                d_b.push(digamma(b + xf) - psi_abx - psi_b + psi_ab);
            }
        }
        Tables {
            r,
            alpha,
            a,
            b,
            ln_alpha,
            ln_at,
            inv_at,
            c,
            ln_ratio,
            d_r,
            d_a,
            d_b,
        }
    }

    /// ln L of a row.
    #[inline]
    fn row(&self, row: &crate::transactions::RepeatRow) -> f64 {
        let x = row.x as usize;
        let rx = self.r + row.x as f64;
        let first = -rx * self.ln_at[row.t as usize];
        if x == 0 {
            self.c[0] + first
        } else {
            let second = self.ln_ratio[x] - rx * self.ln_at[row.tx as usize];
            self.c[x] + log_add_exp(first, second)
        }
    }

    /// ln L of a row and the weight of the "dropped out right after the last purchase" branch,
    /// sharing one exponential.
    #[inline]
    fn row_and_weight(&self, row: &crate::transactions::RepeatRow) -> (f64, f64) {
        let x = row.x as usize;
        let rx = self.r + row.x as f64;
        let first = -rx * self.ln_at[row.t as usize];
        if x == 0 {
            return (self.c[0] + first, 0.0);
        }
        let second = self.ln_ratio[x] - rx * self.ln_at[row.tx as usize];
        let (hi, lo, second_is_hi) = if second >= first {
            (second, first, true)
        } else {
            (first, second, false)
        };
        let e = (lo - hi).exp();
        let w_hi = 1.0 / (1.0 + e);
        let w2 = if second_is_hi { w_hi } else { e * w_hi };
        (self.c[x] + hi + e.ln_1p(), w2)
    }

    /// ln L and its gradient with respect to (r, α, a, b), accumulated with the row's weight.
    #[inline]
    fn row_grad(&self, row: &crate::transactions::RepeatRow, acc: &mut [f64; 5]) {
        let (ll, w2) = self.row_and_weight(row);
        let x = row.x as usize;
        let xf = row.x as f64;
        let rx = self.r + xf;
        let w1 = 1.0 - w2;
        let (lt, ltx) = (self.ln_at[row.t as usize], self.ln_at[row.tx as usize]);
        let (it, itx) = (self.inv_at[row.t as usize], self.inv_at[row.tx as usize]);
        let wt = row.weight;
        acc[0] += wt * ll;
        acc[1] += wt * (self.d_r[x] + self.ln_alpha - w1 * lt - w2 * ltx);
        acc[2] += wt * (self.r / self.alpha - rx * (w1 * it + w2 * itx));
        acc[3] += wt * (self.d_a[x] + if x > 0 { w2 / self.a } else { 0.0 });
        acc[4] += wt * (self.d_b[x] - if x > 0 { w2 / (self.b + xf - 1.0) } else { 0.0 });
    }
}

/// Evaluation counters (diagnostics).
pub static EVALS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Gradient evaluation counter (diagnostics).
pub static GRADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Negative mean log-likelihood over log-parameters (the optimizer's objective).
struct Nll<'a> {
    data: &'a RepeatData,
}

impl Objective for Nll<'_> {
    fn value(&self, th: &[f64]) -> f64 {
        if th.iter().any(|v| !v.is_finite() || v.abs() > MAX_LOG_PARAM) {
            return f64::INFINITY;
        }
        EVALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        -BgNbdParams::from_log(th).log_likelihood(self.data) / self.data.total_weight
    }

    fn gradient(&self, th: &[f64]) -> Option<Vec<f64>> {
        GRADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = BgNbdParams::from_log(th);
        let tables = Tables::new(&p, self.data, true);
        let acc = self
            .data
            .rows
            .par_chunks(CHUNK)
            .map(|rows| {
                let mut acc = [0.0; 5];
                for row in rows {
                    tables.row_grad(row, &mut acc);
                }
                acc
            })
            .reduce(
                || [0.0; 5],
                |mut s, a| {
                    for i in 0..5 {
                        s[i] += a[i];
                    }
                    s
                },
            );
        let n = self.data.total_weight;
        // Chain rule for log-parameters: d/dθ = p · d/dp; negate for the NLL.
        Some(vec![
            -acc[1] * p.r / n,
            -acc[2] * p.alpha / n,
            -acc[3] * p.a / n,
            -acc[4] * p.b / n,
        ])
    }
}

/// Options for [`fit`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FitOptions {
    /// Starting values (otherwise r = 1, α from mean age and frequency, a = 1, b = 3).
    pub start: Option<BgNbdParams>,
    /// Optimizer settings.
    pub minimize: Option<MinimizeOptions>,
}

/// Fits BG/NBD by maximum likelihood.
pub fn fit(data: &RepeatData, options: &FitOptions) -> Result<BgNbdFit, ModelError> {
    if data.total_weight < 2.0 {
        return Err(ModelError::NotEnoughData(
            "BG/NBD needs at least two customers".into(),
        ));
    }
    if data.max_frequency == 0 {
        return Err(ModelError::NotEnoughData(
            "BG/NBD needs at least one repeat purchase".into(),
        ));
    }
    let start = options.start.unwrap_or_else(|| {
        let (mx, mt) = data.means();
        BgNbdParams {
            r: 1.0,
            alpha: (mt / mx.max(0.05)).clamp(1e-3, 1e6),
            a: 1.0,
            b: 3.0,
        }
    });
    let th0: Vec<f64> = start.as_vec().iter().map(|v| v.ln()).collect();
    let opts = options.minimize.unwrap_or(MinimizeOptions {
        nelder_mead_iters: 400,
        nelder_mead_tol: 1e-7,
        simplex_step: 0.5,
        bfgs_iters: 100,
    });
    let obj = Nll { data };
    let sub = data.subsample(WARM_START_ROWS);
    let warm = sub.as_ref().map(|d| Nll { data: d });
    let m = minimize_warm(&obj, warm.as_ref(), &th0, &opts)?;
    let params = BgNbdParams::from_log(&m.x);
    let log_likelihood = params.log_likelihood(data);
    // Hessian of the total negative log-likelihood in natural parameters, from the analytic
    // gradient: ∂NLL/∂pᵢ = n · (∂ mean NLL/∂θᵢ) / pᵢ with θ = ln p.
    let n = data.total_weight;
    let h = hessian_from_gradient(
        |p| {
            if p.iter().any(|v| *v <= 0.0) {
                return None;
            }
            let th: Vec<f64> = p.iter().map(|v| v.ln()).collect();
            let g = obj.gradient(&th)?;
            Some(g.iter().zip(p).map(|(gi, pi)| n * gi / pi).collect())
        },
        &params.as_vec(),
        1e-5,
    )
    .unwrap_or_else(|| vec![vec![f64::NAN; 4]; 4]);
    let se = standard_errors(&h);
    Ok(BgNbdFit {
        params,
        standard_errors: BgNbdParams {
            r: se[0],
            alpha: se[1],
            a: se[2],
            b: se[3],
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
    use crate::numeric::numerical_gradient;

    fn small() -> RepeatData {
        let v = vec![
            (0, 0.0, 10.0),
            (2, 5.0, 10.0),
            (5, 9.5, 12.0),
            (1, 1.0, 3.0),
            (0, 0.0, 7.0),
            (7, 20.0, 21.0),
        ];
        RepeatData::from_triples(v.into_iter()).unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = small();
        let obj = Nll { data: &d };
        let th = [0.3f64.ln(), 2.0f64.ln(), 0.7f64.ln(), 2.5f64.ln()];
        let g = obj.gradient(&th).unwrap();
        let n = numerical_gradient(|x| obj.value(x), &th);
        for i in 0..4 {
            assert!((g[i] - n[i]).abs() < 1e-6, "{i}: {} vs {}", g[i], n[i]);
        }
    }

    #[test]
    fn table_ll_matches_direct() {
        let d = small();
        let p = BgNbdParams {
            r: 0.3,
            alpha: 2.0,
            a: 0.7,
            b: 2.5,
        };
        let direct: f64 = [
            (0, 0.0, 10.0),
            (2, 5.0, 10.0),
            (5, 9.5, 12.0),
            (1, 1.0, 3.0),
            (0, 0.0, 7.0),
            (7, 20.0, 21.0),
        ]
        .iter()
        .map(|&(x, tx, t)| p.log_likelihood_one(x, tx, t))
        .sum();
        assert!((direct - p.log_likelihood(&d)).abs() < 1e-10);
    }

    #[test]
    fn expectation_limits() {
        let p = BgNbdParams {
            r: 0.24,
            alpha: 4.41,
            a: 0.79,
            b: 2.43,
        };
        // Zero horizon → nothing; monotone in horizon.
        assert_eq!(p.expected_purchases(0.0, 2, 30.43, 38.86).unwrap(), 0.0);
        let e1 = p.expected_purchases(10.0, 2, 30.43, 38.86).unwrap();
        let e2 = p.expected_purchases(20.0, 2, 30.43, 38.86).unwrap();
        assert!(0.0 < e1 && e1 < e2);
        // Heavy buyer: the transformed series stays finite.
        let e = p.expected_purchases(52.0, 400, 38.0, 39.0).unwrap();
        assert!(e.is_finite() && e > 0.0);
        // a near 1.
        let q = BgNbdParams { a: 1.0, ..p };
        assert!(
            q.expected_purchases(10.0, 2, 30.43, 38.86)
                .unwrap()
                .is_finite()
        );
    }

    /// Simulates the BG/NBD story (FHL 2005 section 2) and checks the fit recovers the
    /// parameters within three standard errors.
    #[test]
    fn recovers_simulated_parameters() {
        use rand::{Rng, SeedableRng};
        use rand_distr::{Beta, Distribution, Exp, Gamma};
        let truth = BgNbdParams {
            r: 0.5,
            alpha: 5.0,
            a: 0.8,
            b: 2.5,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let lam = Gamma::new(truth.r, 1.0 / truth.alpha).unwrap();
        let drop = Beta::new(truth.a, truth.b).unwrap();
        let mut triples = Vec::new();
        for _ in 0..4000 {
            let t_end: f64 = rng.random_range(20.0..60.0);
            let l: f64 = lam.sample(&mut rng);
            let p: f64 = drop.sample(&mut rng);
            let gap = Exp::new(l.max(1e-12)).unwrap();
            let (mut t, mut x, mut tx) = (0.0, 0u32, 0.0);
            loop {
                t += gap.sample(&mut rng);
                if t > t_end {
                    break;
                }
                x += 1;
                tx = t;
                if rng.random::<f64>() < p {
                    break;
                }
            }
            triples.push((x, tx, t_end));
        }
        let data = RepeatData::from_triples(triples.into_iter()).unwrap();
        let fit = fit(&data, &FitOptions::default()).unwrap();
        let (e, se) = (fit.params, fit.standard_errors);
        for (name, est, sd, tru) in [
            ("r", e.r, se.r, truth.r),
            ("alpha", e.alpha, se.alpha, truth.alpha),
            ("a", e.a, se.a, truth.a),
            ("b", e.b, se.b, truth.b),
        ] {
            assert!(sd.is_finite() && sd > 0.0, "{name}: se {sd}");
            assert!(
                (est - tru).abs() < 3.0 * sd,
                "{name}: {est} ± {sd}, truth {tru}"
            );
        }
    }
}
