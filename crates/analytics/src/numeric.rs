//! Numerical building blocks shared by the probability models: special functions, the Gauss
//! hypergeometric function, log-space arithmetic, the maximum-likelihood optimizer and the
//! numerical Hessian used for standard errors.
//!
//! Gamma and digamma come from `statrs`; the optimizers from `argmin` (Nelder-Mead for a robust
//! start, then BFGS with a Moré-Thuente line search to polish). The hypergeometric function
//! ₂F₁(a, b; c; z) for real parameters and 0 ≤ z < 1 is summed here from its defining power series
//! (Abramowitz & Stegun 15.1.1),
//!
//! ```text
//! ₂F₁(a, b; c; z) = Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ,
//! ```
//!
//! with each term obtained from the previous one by the ratio
//! (a + n)(b + n) z / ((c + n)(n + 1)). Callers apply Euler's transformation (A&S 15.3.3),
//! ₂F₁(a, b; c; z) = (1 − z)^(c − a − b) ₂F₁(c − a, c − b; c; z), where it turns a series whose
//! terms grow with the customer's purchase count into one whose terms shrink (see the model
//! modules for where and why).

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::BFGS;

pub use statrs::function::gamma::{digamma, ln_gamma};

/// Numerical failures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NumericError {
    /// A series did not converge within its term budget.
    #[error("hypergeometric series did not converge (a={a}, b={b}, c={c}, z={z})")]
    NoConvergence {
        /// Parameter a.
        a: f64,
        /// Parameter b.
        b: f64,
        /// Parameter c.
        c: f64,
        /// Argument z.
        z: f64,
    },
    /// Argument outside the supported domain.
    #[error("{0}")]
    Domain(String),
    /// The optimizer failed.
    #[error("optimizer failed: {0}")]
    Optimizer(String),
    /// A matrix could not be inverted.
    #[error("singular matrix")]
    Singular,
}

/// Why a model could not be fitted or applied.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Too little data for the model.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A numerical failure.
    #[error(transparent)]
    Numeric(#[from] NumericError),
    /// Bad input data.
    #[error(transparent)]
    Data(#[from] crate::transactions::TransactionError),
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln(eˣ + eʸ) without overflow.
#[inline]
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

/// ln(eˣ − eʸ) for x ≥ y (returns −∞ when equal, NaN when x < y).
#[inline]
pub fn log_sub_exp(x: f64, y: f64) -> f64 {
    if y == f64::NEG_INFINITY {
        return x;
    }
    if x < y {
        return f64::NAN;
    }
    x + (-(y - x).exp()).ln_1p()
}

const MAX_TERMS: usize = 2_000_000;

/// ₂F₁(a, b; c; z) for real a, b, c (c not a non-positive integer) and 0 ≤ z < 1, by direct
/// summation of the power series (A&S 15.1.1). Terms may change sign when a parameter is
/// negative; summation stops once the terms are decreasing and below 1e-16 of the sum.
/// Returns `(ln |F|, sign F)`: the sum is rescaled as it grows, so values beyond the range of
/// `f64` (heavy buyers, long horizons) are still represented.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<(f64, f64), NumericError> {
    if !(0.0..1.0).contains(&z) || !a.is_finite() || !b.is_finite() || !c.is_finite() {
        return Err(NumericError::Domain(format!(
            "hyp2f1 needs finite parameters and 0 <= z < 1 (a={a}, b={b}, c={c}, z={z})"
        )));
    }
    if c <= 0.0 && c.fract() == 0.0 {
        return Err(NumericError::Domain(format!("hyp2f1: c = {c} is a pole")));
    }
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut ln_scale = 0.0f64;
    if z == 0.0 {
        return Ok((0.0, 1.0));
    }
    const BIG: f64 = 1e200;
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 || (ratio.abs() < 1.0 && term.abs() <= 1e-16 * sum.abs()) {
            if sum == 0.0 {
                return Ok((f64::NEG_INFINITY, 1.0));
            }
            return Ok((sum.abs().ln() + ln_scale, sum.signum()));
        }
        if sum.abs() > BIG || term.abs() > BIG {
            sum /= BIG;
            term /= BIG;
            ln_scale += BIG.ln();
        }
        if !sum.is_finite() {
            break;
        }
    }
    Err(NumericError::NoConvergence { a, b, c, z })
}

/// ₂F₁(a, b; c; z) as a plain number (see [`ln_hyp2f1`]); overflows to ±∞ for huge values.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, NumericError> {
    let (l, s) = ln_hyp2f1(a, b, c, z)?;
    Ok(s * l.exp())
}

/// Term budget of [`ln_hyp2f1_c_eq_a_plus_1`]. Its terms fall at least as fast as zⁿ, so this
/// only binds for z within about 1e-3 of 1 — parameter regions (dropout rates with no spread at
/// all, s and β → ∞) that the Pareto/NBD fit then treats as infeasible.
pub const PARETO_MAX_TERMS: usize = 50_000;

/// ln ₂F₁(a, b; a + 1; z) for a, b > 0 and 0 ≤ z < 1: the form the Pareto/NBD likelihood needs.
///
/// Uses Euler's transformation (A&S 15.3.3): with c = a + 1,
/// ₂F₁(a, b; a+1; z) = (1 − z)^(1 − b) ₂F₁(1, a + 1 − b; a + 1; z). The transformed series has
/// terms (a + 1 − b)ₙ / (a + 1)ₙ zⁿ, which never exceed zⁿ when b > 0, so it cannot overflow
/// however large the purchase count in a and b is.
pub fn ln_hyp2f1_c_eq_a_plus_1(a: f64, b: f64, z: f64) -> Result<f64, NumericError> {
    if !(a > 0.0 && b > 0.0 && (0.0..1.0).contains(&z)) {
        return Err(NumericError::Domain(format!(
            "ln_hyp2f1_c_eq_a_plus_1 needs a, b > 0 and 0 <= z < 1 (a={a}, b={b}, z={z})"
        )));
    }
    let e = a + 1.0 - b;
    let c = a + 1.0;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    if z > 0.0 {
        let mut converged = false;
        for n in 0..PARETO_MAX_TERMS {
            let nf = n as f64;
            term *= (e + nf) / (c + nf) * z;
            sum += term;
            if term.abs() <= 1e-16 * sum {
                converged = true;
                break;
            }
        }
        if !converged {
            return Err(NumericError::NoConvergence { a, b, c, z });
        }
    }
    Ok((1.0 - b) * (-z).ln_1p() + sum.ln())
}

/// An objective to minimise over an unconstrained vector (the models minimise the negative
/// log-likelihood over log-parameters).
pub trait Objective: Sync {
    /// Objective value; non-finite means "infeasible".
    fn value(&self, x: &[f64]) -> f64;
    /// Analytic gradient, when the model has one; `None` falls back to central differences.
    fn gradient(&self, _x: &[f64]) -> Option<Vec<f64>> {
        None
    }
}

/// Central-difference gradient of `f` at `x` (step relative to |xᵢ|, at least 1e-6).
pub fn numerical_gradient<F: Fn(&[f64]) -> f64>(f: F, x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    let mut p = x.to_vec();
    for i in 0..x.len() {
        let h = 1e-6 * x[i].abs().max(1.0);
        p[i] = x[i] + h;
        let up = f(&p);
        p[i] = x[i] - h;
        let down = f(&p);
        p[i] = x[i];
        g[i] = (up - down) / (2.0 * h);
    }
    g
}

/// Hessian of `f` at `x` by second central differences, with steps `hᵢ = rel · max(|xᵢ|, 1e-3)`.
pub fn numerical_hessian<F: Fn(&[f64]) -> f64>(f: F, x: &[f64], rel: f64) -> Vec<Vec<f64>> {
    let n = x.len();
    let h: Vec<f64> = x.iter().map(|v| rel * v.abs().max(1e-3)).collect();
    let mut m = vec![vec![0.0; n]; n];
    let f0 = f(x);
    let mut p = x.to_vec();
    for i in 0..n {
        p[i] = x[i] + h[i];
        let fp = f(&p);
        p[i] = x[i] - h[i];
        let fm = f(&p);
        p[i] = x[i];
        m[i][i] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let mut eval = |si: f64, sj: f64| {
                p[i] = x[i] + si * h[i];
                p[j] = x[j] + sj * h[j];
                let v = f(&p);
                p[i] = x[i];
                p[j] = x[j];
                v
            };
            let v = (eval(1.0, 1.0) - eval(1.0, -1.0) - eval(-1.0, 1.0) + eval(-1.0, -1.0))
                / (4.0 * h[i] * h[j]);
            m[i][j] = v;
            m[j][i] = v;
        }
    }
    m
}

/// Inverse of a small square matrix by Gauss-Jordan elimination with partial pivoting.
pub fn invert(m: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, NumericError> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let scale = m
        .iter()
        .flat_map(|r| r.iter())
        .fold(0.0f64, |s, v| s.max(v.abs()));
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .ok_or(NumericError::Singular)?;
        let pivot = a[piv][col].abs();
        if pivot.is_nan() || pivot <= 1e-14 * scale {
            return Err(NumericError::Singular);
        }
        a.swap(col, piv);
        inv.swap(col, piv);
        let d = a[col][col];
        for k in 0..n {
            a[col][k] /= d;
            inv[col][k] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = a[r][col];
                if f != 0.0 {
                    for k in 0..n {
                        a[r][k] -= f * a[col][k];
                        inv[r][k] -= f * inv[col][k];
                    }
                }
            }
        }
    }
    Ok(inv)
}

/// Standard errors from the Hessian of the *negative* log-likelihood at the optimum:
/// the square roots of the diagonal of its inverse (the asymptotic covariance). `NaN` where the
/// Hessian is not positive definite along that direction.
pub fn standard_errors(hessian_nll: &[Vec<f64>]) -> Vec<f64> {
    match invert(hessian_nll) {
        Ok(cov) => (0..cov.len())
            .map(|i| {
                let v = cov[i][i];
                if v > 0.0 { v.sqrt() } else { f64::NAN }
            })
            .collect(),
        Err(_) => vec![f64::NAN; hessian_nll.len()],
    }
}

/// Result of [`minimize`].
#[derive(Debug, Clone)]
pub struct Minimum {
    /// Minimiser.
    pub x: Vec<f64>,
    /// Objective at the minimiser.
    pub value: f64,
    /// Objective evaluations spent in Nelder-Mead plus BFGS iterations.
    pub iterations: u64,
}

/// Options for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct MinimizeOptions {
    /// Nelder-Mead iteration cap.
    pub nelder_mead_iters: u64,
    /// Nelder-Mead stops when the objective's spread over the simplex falls below this.
    pub nelder_mead_tol: f64,
    /// Initial simplex edge.
    pub simplex_step: f64,
    /// BFGS iteration cap (0 skips the polish).
    pub bfgs_iters: u64,
}

impl Default for MinimizeOptions {
    fn default() -> Self {
        MinimizeOptions {
            nelder_mead_iters: 2000,
            nelder_mead_tol: 1e-9,
            simplex_step: 0.5,
            bfgs_iters: 200,
        }
    }
}

struct Problem<'a, O: Objective> {
    obj: &'a O,
}

/// Value substituted for infeasible points so the simplex moves away from them.
const INFEASIBLE: f64 = 1e300;

impl<O: Objective> CostFunction for Problem<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, argmin::core::Error> {
        let v = self.obj.value(p);
        Ok(if v.is_finite() { v } else { INFEASIBLE })
    }
}

impl<O: Objective> Gradient for Problem<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        let g = match self.obj.gradient(p) {
            Some(g) => g,
            None => numerical_gradient(|x| self.obj.value(x), p),
        };
        if g.iter().all(|v| v.is_finite()) {
            Ok(g)
        } else {
            Err(argmin::core::Error::msg("non-finite gradient"))
        }
    }
}

/// Minimises `obj` from `x0`: Nelder-Mead (derivative-free, robust far from the optimum) and then
/// a BFGS polish (fast, precise near it). The better of the two is returned.
pub fn minimize<O: Objective>(
    obj: &O,
    x0: &[f64],
    opts: &MinimizeOptions,
) -> Result<Minimum, NumericError> {
    minimize_warm(obj, None, x0, opts)
}

/// Like [`minimize`], but when `warm` is given, Nelder-Mead runs on it (a cheap stand-in such as
/// the likelihood of a stratified subsample) and only the BFGS polish runs on `obj`. The result is
/// the optimum of `obj`; the stand-in only supplies the starting point.
pub fn minimize_warm<O: Objective>(
    obj: &O,
    warm: Option<&O>,
    x0: &[f64],
    opts: &MinimizeOptions,
) -> Result<Minimum, NumericError> {
    let n = x0.len();
    let mut best_x = x0.to_vec();
    let mut iterations = 0;
    if opts.nelder_mead_iters > 0 {
        let mut simplex = vec![x0.to_vec()];
        for i in 0..n {
            let mut v = x0.to_vec();
            v[i] += opts.simplex_step;
            simplex.push(v);
        }
        let nm = NelderMead::new(simplex)
            .with_sd_tolerance(opts.nelder_mead_tol)
            .map_err(|e| NumericError::Optimizer(e.to_string()))?;
        let res = Executor::new(
            Problem {
                obj: warm.unwrap_or(obj),
            },
            nm,
        )
        .configure(|s| s.max_iters(opts.nelder_mead_iters))
        .run()
        .map_err(|e| NumericError::Optimizer(e.to_string()))?;
        let state = res.state();
        best_x = state
            .get_best_param()
            .cloned()
            .ok_or_else(|| NumericError::Optimizer("Nelder-Mead returned no point".into()))?;
        iterations = state.get_iter();
    }
    let mut best_v = obj.value(&best_x);
    if !best_v.is_finite() {
        return Err(NumericError::Optimizer(
            "no feasible point found (likelihood is not finite)".into(),
        ));
    }
    if opts.bfgs_iters > 0 {
        let identity: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        let ls = MoreThuenteLineSearch::new();
        // Objectives are mean negative log-likelihoods (order 1), so these tolerances sit just
        // above the rounding noise of a sum over a million customers.
        let bfgs = BFGS::new(ls)
            .with_tolerance_grad(1e-8)
            .and_then(|b| b.with_tolerance_cost(1e-12))
            .map_err(|e| NumericError::Optimizer(e.to_string()))?;
        let start = best_x.clone();
        // A failed polish is not fatal: the Nelder-Mead point stands.
        if let Ok(r) = Executor::new(Problem { obj }, bfgs)
            .configure(|s| {
                s.param(start)
                    .inv_hessian(identity)
                    .max_iters(opts.bfgs_iters)
            })
            .run()
        {
            iterations += r.state().get_iter();
            if let Some(p) = r.state().get_best_param() {
                let v = obj.value(p);
                if v.is_finite() && v <= best_v {
                    best_v = v;
                    best_x = p.clone();
                }
            }
        }
    }
    Ok(Minimum {
        x: best_x,
        value: best_v,
        iterations,
    })
}

/// Hessian from an analytic gradient by central differences of the gradient, symmetrised
/// (2n gradient evaluations instead of 2n² value evaluations).
pub fn hessian_from_gradient<G: Fn(&[f64]) -> Option<Vec<f64>>>(
    grad: G,
    x: &[f64],
    rel: f64,
) -> Option<Vec<Vec<f64>>> {
    let n = x.len();
    let mut m = vec![vec![0.0; n]; n];
    let mut p = x.to_vec();
    for i in 0..n {
        let h = rel * x[i].abs().max(1e-3);
        p[i] = x[i] + h;
        let up = grad(&p)?;
        p[i] = x[i] - h;
        let down = grad(&p)?;
        p[i] = x[i];
        for (mij, (u, d)) in m[i].iter_mut().zip(up.iter().zip(&down)) {
            *mij = (u - d) / (2.0 * h);
        }
    }
    // Symmetrise: average the two one-sided estimates of each cross derivative.
    let sym: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| 0.5 * (m[i][j] + m[j][i])).collect())
        .collect();
    Some(sym)
}

/// Log-parameters beyond ±this (parameters outside e^±15 ≈ 3e-7 … 3.3e6) are treated as
/// infeasible. Such values only arise when the likelihood is flat towards a boundary (for example
/// no heterogeneity at all in dropout); capping keeps the special functions cheap and finite.
pub const MAX_LOG_PARAM: f64 = 15.0;

/// Rows kept when a warm start runs on a subsample.
pub const WARM_START_ROWS: usize = 20_000;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn hyp2f1_known_values() {
        // 2F1(1,1;2;z) = -ln(1-z)/z
        let z = 0.7;
        let v = hyp2f1(1.0, 1.0, 2.0, z).unwrap();
        assert!((v - (-(1.0f64 - z).ln() / z)).abs() < 1e-13);
        // 2F1(a,b;b;z) = (1-z)^-a
        let v = hyp2f1(2.5, 3.0, 3.0, 0.4).unwrap();
        assert!((v - 0.6f64.powf(-2.5)).abs() < 1e-12);
        // Negative c (not an integer) still sums.
        let v = hyp2f1(0.5, 0.5, -0.5, 0.1).unwrap();
        assert!(v.is_finite());
        let l = ln_hyp2f1_c_eq_a_plus_1(1.0, 1.0, z).unwrap();
        assert!((l - (-(1.0f64 - z).ln() / z).ln()).abs() < 1e-13);
        // Large b (a purchase count) does not overflow.
        let l = ln_hyp2f1_c_eq_a_plus_1(500.3, 480.0, 0.95).unwrap();
        assert!(l.is_finite());
        // Compare with direct series for moderate values.
        let d = hyp2f1(3.2, 2.1, 4.2, 0.6).unwrap().ln();
        let e = ln_hyp2f1_c_eq_a_plus_1(3.2, 2.1, 0.6).unwrap();
        assert!((d - e).abs() < 1e-12, "{d} {e}");
    }

    #[test]
    fn log_arith() {
        assert!((log_add_exp(1.0f64.ln(), 2.0f64.ln()) - 3.0f64.ln()).abs() < 1e-15);
        assert!((log_sub_exp(3.0f64.ln(), 2.0f64.ln()) - 0.0).abs() < 1e-15);
    }

    #[test]
    fn inverse_and_minimize() {
        let m = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
        let inv = invert(&m).unwrap();
        assert!((inv[0][0] - 3.0 / 11.0).abs() < 1e-15);
        struct Rosen;
        impl Objective for Rosen {
            fn value(&self, x: &[f64]) -> f64 {
                (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
            }
        }
        let m = minimize(&Rosen, &[-1.0, 1.5], &MinimizeOptions::default()).unwrap();
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{:?}",
            m
        );
        let h = numerical_hessian(|x| Rosen.value(x), &[1.0, 1.0], 1e-4);
        assert!((h[0][0] - 802.0).abs() < 1e-2 && (h[0][1] + 400.0).abs() < 1e-2);
    }
}
