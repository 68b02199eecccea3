//! Gamma-Gamma: how much a customer spends per purchase.
//!
//! Source: P. S. Fader, B. G. S. Hardie and K. L. Lee, "RFM and CLV: Using Iso-Value Curves for
//! Customer Base Analysis", *Journal of Marketing Research* 42(4), 2005, 415–430 (section on the
//! spend model); P. S. Fader and B. G. S. Hardie, "The Gamma-Gamma Model of Monetary Value"
//! (note, 2013).
//!
//! # The model in words
//!
//! Each purchase a customer makes has a random value around that customer's own typical spend; the
//! typical spend differs between customers. A customer who bought often at a steady value is
//! trusted: their expected future spend stays close to what they spent. A customer seen only once
//! or twice is pulled towards the average customer, because a single big order says little.
//! Spend is assumed independent of how often the customer buys (check this on your data: the
//! correlation between frequency and average spend should be small).
//!
//! # Equations implemented (the 2013 note)
//!
//! - Individual spend zᵢ ~ Gamma(p, ν), ν ~ Gamma(q, γ) across customers; the mean spend of a
//!   customer's x repeat purchases, m̄, has density (eq. 3 of the note)
//!   f(m̄ | p, q, γ; x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · x^(px) · m̄^(px−1) / (γ + m̄x)^(px+q).
//! - Expected average spend given the history (eq. 5):
//!   E[M | p, q, γ, m̄, x] = (γ + m̄x) p / (px + q − 1)
//!   = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m̄, a weighted mean of the population mean
//!   pγ/(q−1) and the customer's own m̄.
//!
//! Fitted by maximum likelihood over log-parameters on customers with at least one repeat
//! purchase and positive spend (Nelder-Mead, then BFGS with the analytic gradient).

use rayon::prelude::*;
use serde::Serialize;

use crate::numeric::{
    MinimizeOptions, ModelError, Objective, WARM_START_ROWS, digamma, hessian_from_gradient,
    ln_gamma, minimize_warm, standard_errors,
};

/// Gamma-Gamma parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct GammaGammaParams {
    /// Shape of the per-transaction spend distribution.
    pub p: f64,
    /// Shape of the distribution of customers' spend scale.
    pub q: f64,
    /// Rate of the distribution of customers' spend scale.
    pub gamma: f64,
}

/// A fitted Gamma-Gamma model.
#[derive(Clone, Debug, Serialize)]
pub struct GammaGammaFit {
    /// Maximum-likelihood estimates.
    pub params: GammaGammaParams,
    /// Asymptotic standard errors.
    pub standard_errors: GammaGammaParams,
    /// Total log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// Customers used (those with repeat purchases and positive spend).
    pub customers: usize,
}

impl GammaGammaParams {
    /// Average spend per purchase across all customers, pγ/(q−1); `None` when q ≤ 1 (the
    /// population mean is infinite).
    pub fn population_mean(&self) -> Option<f64> {
        (self.q > 1.0).then(|| self.p * self.gamma / (self.q - 1.0))
    }

    /// Expected average spend per future purchase of a customer with `x` repeat purchases of mean
    /// value `m` (eq. 5). Customers without repeats get the population mean.
    pub fn expected_spend(&self, x: u32, m: f64) -> Option<f64> {
        let px = self.p * f64::from(x);
        if x == 0 || m <= 0.0 {
            return self.population_mean();
        }
        let denom = px + self.q - 1.0;
        (denom > 0.0).then(|| (self.gamma + m * f64::from(x)) * self.p / denom)
    }

    /// Log-density of one customer's mean repeat spend (eq. 3).
    pub fn log_likelihood_one(&self, x: u32, m: f64) -> f64 {
        let GammaGammaParams { p, q, gamma } = *self;
        let xf = f64::from(x);
        let px = p * xf;
        ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
            + q * gamma.ln()
            + (px - 1.0) * m.ln()
            + px * xf.ln()
            - (px + q) * (gamma + m * xf).ln()
    }
}

/// One customer's spend data.
#[derive(Clone, Copy, Debug)]
struct Obs {
    x: u32,
    m: f64,
    ln_m: f64,
}

struct Data {
    obs: Vec<Obs>,
    max_x: usize,
}

struct Nll<'a> {
    data: &'a Data,
}

impl Nll<'_> {
    fn eval(&self, pr: &GammaGammaParams, grad: bool) -> (f64, [f64; 3]) {
        let GammaGammaParams { p, q, gamma } = *pr;
        let nx = self.data.max_x + 1;
        // Per-frequency tables.
        let lg_q = ln_gamma(q);
        let mut head = vec![0.0; nx];
        let mut dp = vec![0.0; nx];
        let mut dq = vec![0.0; nx];
        let psi_q = if grad { digamma(q) } else { 0.0 };
        for x in 1..nx {
            let xf = x as f64;
            let px = p * xf;
            head[x] = ln_gamma(px + q) - ln_gamma(px) - lg_q + q * gamma.ln() + px * xf.ln();
            if grad {
                let psi_pxq = digamma(px + q);
                dp[x] = xf * (psi_pxq - digamma(px) + xf.ln());
                dq[x] = psi_pxq - psi_q + gamma.ln();
            }
        }
        self.data
            .obs
            .par_chunks(8192)
            .map(|obs| {
                let mut acc = (0.0, [0.0; 3]);
                for o in obs {
                    let xf = f64::from(o.x);
                    let px = p * xf;
                    let lgm = (gamma + o.m * xf).ln();
                    acc.0 += head[o.x as usize] + (px - 1.0) * o.ln_m - (px + q) * lgm;
                    if grad {
                        acc.1[0] += dp[o.x as usize] + xf * (o.ln_m - lgm);
                        acc.1[1] += dq[o.x as usize] - lgm;
                        acc.1[2] += q / gamma - (px + q) / (gamma + o.m * xf);
                    }
                }
                acc
            })
            .reduce(
                || (0.0, [0.0; 3]),
                |a, b| {
                    (
                        a.0 + b.0,
                        [a.1[0] + b.1[0], a.1[1] + b.1[1], a.1[2] + b.1[2]],
                    )
                },
            )
    }
}

fn from_log(th: &[f64]) -> GammaGammaParams {
    GammaGammaParams {
        p: th[0].exp(),
        q: th[1].exp(),
        gamma: th[2].exp(),
    }
}

impl Objective for Nll<'_> {
    fn value(&self, th: &[f64]) -> f64 {
        if th.iter().any(|v| !v.is_finite() || v.abs() > 30.0) {
            return f64::INFINITY;
        }
        -self.eval(&from_log(th), false).0 / self.data.obs.len() as f64
    }
    fn gradient(&self, th: &[f64]) -> Option<Vec<f64>> {
        let p = from_log(th);
        let (_, g) = self.eval(&p, true);
        let n = self.data.obs.len() as f64;
        Some(vec![-g[0] * p.p / n, -g[1] * p.q / n, -g[2] * p.gamma / n])
    }
}

/// Fits Gamma-Gamma on `(frequency, mean repeat spend)` pairs; customers with no repeat purchase
/// or non-positive spend are skipped.
pub fn fit(
    customers: impl Iterator<Item = (u32, f64)>,
    minimize_options: Option<MinimizeOptions>,
) -> Result<GammaGammaFit, ModelError> {
    let obs: Vec<Obs> = customers
        .filter(|&(x, m)| x > 0 && m > 0.0 && m.is_finite())
        .map(|(x, m)| Obs { x, m, ln_m: m.ln() })
        .collect();
    if obs.len() < 3 {
        return Err(ModelError::NotEnoughData(
            "Gamma-Gamma needs at least three customers with repeat purchases".into(),
        ));
    }
    let max_x = obs.iter().map(|o| o.x as usize).max().unwrap_or(1);
    let data = Data { obs, max_x };
    let mean_m = data.obs.iter().map(|o| o.m).sum::<f64>() / data.obs.len() as f64;
    // Start: p = 2, q = 3, γ = mean spend (population mean = mean spend).
    let th0 = [2.0f64.ln(), 3.0f64.ln(), mean_m.ln()];
    let opts = minimize_options.unwrap_or(MinimizeOptions {
        nelder_mead_iters: 400,
        nelder_mead_tol: 1e-8,
        simplex_step: 0.5,
        bfgs_iters: 100,
    });
    let nll = Nll { data: &data };
    // Warm start on a stratified subsample when the data is large (see `numeric::minimize_warm`).
    let sub = (data.obs.len() > 2 * WARM_START_ROWS).then(|| {
        let stride = data.obs.len().div_ceil(WARM_START_ROWS);
        Data {
            obs: data.obs.iter().step_by(stride).copied().collect(),
            max_x: data.max_x,
        }
    });
    let warm = sub.as_ref().map(|d| Nll { data: d });
    let m = minimize_warm(&nll, warm.as_ref(), &th0, &opts)?;
    let params = from_log(&m.x);
    let log_likelihood = nll.eval(&params, false).0;
    let n = data.obs.len() as f64;
    let h = hessian_from_gradient(
        |v| {
            if v.iter().any(|x| *x <= 0.0) {
                return None;
            }
            let th: Vec<f64> = v.iter().map(|x| x.ln()).collect();
            let g = nll.gradient(&th)?;
            Some(g.iter().zip(v).map(|(gi, pi)| n * gi / pi).collect())
        },
        &[params.p, params.q, params.gamma],
        1e-5,
    )
    .unwrap_or_else(|| vec![vec![f64::NAN; 3]; 3]);
    let se = standard_errors(&h);
    Ok(GammaGammaFit {
        params,
        standard_errors: GammaGammaParams {
            p: se[0],
            q: se[1],
            gamma: se[2],
        },
        log_likelihood,
        customers: data.obs.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::numeric::numerical_gradient;

    #[test]
    fn gradient_and_table_ll() {
        let obs = [(1u32, 10.0), (3, 25.5), (2, 7.25), (7, 40.0)];
        let data = Data {
            obs: obs
                .iter()
                .map(|&(x, m)| Obs {
                    x,
                    m,
                    ln_m: f64::ln(m),
                })
                .collect(),
            max_x: 7,
        };
        let nll = Nll { data: &data };
        let th = [1.5f64.ln(), 2.5f64.ln(), 12.0f64.ln()];
        let g = nll.gradient(&th).unwrap();
        let n = numerical_gradient(|x| nll.value(x), &th);
        for i in 0..3 {
            assert!((g[i] - n[i]).abs() < 1e-6, "{i} {} {}", g[i], n[i]);
        }
        let p = from_log(&th);
        let direct: f64 = obs.iter().map(|&(x, m)| p.log_likelihood_one(x, m)).sum();
        assert!((direct + nll.value(&th) * 4.0).abs() < 1e-9);
    }

    #[test]
    fn expected_spend_is_a_weighted_mean() {
        let p = GammaGammaParams {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        let pop = p.population_mean().unwrap();
        let e = p.expected_spend(3, 100.0).unwrap();
        assert!(e > pop.min(100.0) && e < pop.max(100.0));
        assert_eq!(p.expected_spend(0, 0.0), Some(pop));
    }

    /// Simulates spend from the Gamma-Gamma story (2013 note, section 2) and recovers p, q, γ.
    #[test]
    fn recovers_simulated_parameters() {
        use rand::{Rng, SeedableRng};
        use rand_distr::{Distribution, Gamma};
        let truth = GammaGammaParams {
            p: 6.0,
            q: 4.0,
            gamma: 15.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let nu_d = Gamma::new(truth.q, 1.0 / truth.gamma).unwrap();
        let mut obs = Vec::new();
        for _ in 0..4000 {
            let nu: f64 = nu_d.sample(&mut rng);
            let z = Gamma::new(truth.p, 1.0 / nu).unwrap();
            let x: u32 = rng.random_range(1..8);
            let m = (0..x).map(|_| z.sample(&mut rng)).sum::<f64>() / f64::from(x);
            obs.push((x, m));
        }
        let fit = fit(obs.into_iter(), None).unwrap();
        let (e, se) = (fit.params, fit.standard_errors);
        for (name, est, sd, tru) in [
            ("p", e.p, se.p, truth.p),
            ("q", e.q, se.q, truth.q),
            ("gamma", e.gamma, se.gamma, truth.gamma),
        ] {
            assert!(sd.is_finite() && sd > 0.0, "{name}: se {sd}");
            assert!(
                (est - tru).abs() < 3.0 * sd,
                "{name}: {est} ± {sd}, truth {tru}"
            );
        }
    }
}
