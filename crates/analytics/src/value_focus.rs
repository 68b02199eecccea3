//! Perceived-value focus (客户认知价值焦点): which value dimension matters most to a customer and
//! is served worst, by importance-performance analysis with regression-derived importance.
//!
//! # Source
//!
//! Martilla, J. A. & James, J. C. (1977), "Importance-performance analysis", *Journal of
//! Marketing* 41(1), 77–79: plot each attribute's importance against its performance and split
//! the plane at cross-hairs into four quadrants — "concentrate here", "keep up the good work",
//! "low priority", "possible overkill". Importance is *derived* rather than asked: the
//! standardised coefficients of a least-squares regression of the overall rating on the
//! dimension ratings (the derived-importance approach discussed by Matzler, Bailom, Hinterhuber,
//! Renzl & Pichler 2004, *Industrial Marketing Management* 33(4)). Dimension presets: the five
//! SERVQUAL/RATER dimensions of Parasuraman, Zeithaml & Berry (1988), *Journal of Retailing*
//! 64(1); the four value sources of Kotler's customer delivered value (顾客让渡价值: product,
//! service, personnel, image value); or product / service / price / relationship.
//!
//! # Equations
//!
//! With `z`-scores of the dimension ratings `x_j` and of the overall rating `y` over the
//! responses, the standardised coefficients solve the normal equations
//!
//! ```text
//! R_xx β = r_xy,        R² = βᵀ r_xy                                                (1)
//! ```
//!
//! (`R_xx` the correlation matrix of the dimensions, `r_xy` their correlations with `y`); this
//! equals ordinary least squares with an intercept on the raw ratings, rescaled by `sd_j / sd_y`.
//! Dimensions with no variation get `β = 0`. Relative importance and the performance gap are
//!
//! ```text
//! importance_j = max(β_j, 0) / Σ_k max(β_k, 0)                                      (2)
//! gap_j        = target − mean_j          (target defaults to the scale maximum)    (3)
//! priority_j   = importance_j · max(gap_j, 0)                                       (4)
//! ```
//!
//! A negative `β` (usually a sign of correlated dimensions) is reported but earns no importance.
//! The cross-hairs are the means of importance and performance across dimensions; "high" means at
//! or above the cross-hair. The **focus dimension** is the one with the largest priority (4): the
//! dimension where improvement buys the most perceived value. Per customer, the segment's
//! importance is combined with the customer's own gap.
//!
//! # For a sales manager
//!
//! "Concentrate here" (重点改进) dimensions drive how customers rate us overall and we score
//! poorly on them: fix these first. "Keep up the good work" (继续保持) are strengths that matter.
//! "Low priority" (次要改进) are weak but matter little. "Possible overkill" (过度投入) are strong
//! but matter little: resources might move elsewhere. The customer's focus dimension is what to
//! talk about on the next call.
//!
//! # CLI notes
//!
//! `guanxi analytics value-focus --survey FILE [--dimensions auto|rater|pspr|delivered]
//! [--overall-column NAME] [--scale-max N] [--target N] [--min-segment-responses N]
//! [--rows dimensions|customers] [--settings FILE] [--print-settings] [--skip-bad-rows]
//! [--format json|csv|table]`. The survey has one row per customer: `customer_id`, an optional
//! `segment`, the overall rating (`overall` unless `--overall-column` names another) and one
//! numeric column per dimension. A preset ([`rater_dimensions`],
//! [`product_service_price_relationship`], [`delivered_value_dimensions`]) requires exactly its
//! keys as columns; `auto` uses a preset when the columns are exactly its keys and otherwise
//! takes the columns as given, in file order. Dimension ratings must lie in 0…`scale_max`; the
//! overall rating may be on any scale, since only its variation enters (1). JSON holds the whole
//! [`ValueFocusReport`]; CSV and the table show the per-dimension analysis of all responses and
//! of each segment, or with `--rows customers` each customer's focus.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::churn::cholesky_solve;

/// Errors from the value-focus analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ValueFocusError {
    /// Not enough responses to fit the regression.
    #[error("need at least {needed} responses, got {got}")]
    TooFewResponses {
        /// Needed.
        needed: usize,
        /// Given.
        got: usize,
    },
    /// A response has the wrong number of dimension scores.
    #[error("customer {customer_id}: {got} scores for {expected} dimensions")]
    WrongWidth {
        /// The customer.
        customer_id: String,
        /// Scores given.
        got: usize,
        /// Dimensions.
        expected: usize,
    },
    /// A score was NaN or infinite.
    #[error("customer {0}: a score is not finite")]
    NotFinite(String),
    /// No dimensions were given.
    #[error("no dimensions")]
    NoDimensions,
    /// The overall rating does not vary, so importance cannot be derived.
    #[error("the overall rating has no variation")]
    ConstantOverall,
    /// The dimensions are perfectly collinear.
    #[error("the dimension ratings are collinear; importance cannot be separated")]
    Collinear,
    /// The configuration is invalid.
    #[error("invalid value-focus configuration: {0}")]
    InvalidConfig(String),
}

/// A value dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// Machine key.
    pub key: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

fn dims(list: &[(&str, &str, &str)]) -> Vec<Dimension> {
    list.iter()
        .map(|(k, zh, en)| Dimension {
            key: (*k).into(),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
        })
        .collect()
}

/// The five RATER (SERVQUAL) dimensions.
pub fn rater_dimensions() -> Vec<Dimension> {
    dims(&[
        ("reliability", "可靠性", "Reliability"),
        ("assurance", "保证性", "Assurance"),
        ("tangibles", "有形性", "Tangibles"),
        ("empathy", "移情性", "Empathy"),
        ("responsiveness", "响应性", "Responsiveness"),
    ])
}

/// Product / service / price / relationship.
pub fn product_service_price_relationship() -> Vec<Dimension> {
    dims(&[
        ("product", "产品", "Product"),
        ("service", "服务", "Service"),
        ("price", "价格", "Price"),
        ("relationship", "关系", "Relationship"),
    ])
}

/// The four value sources of customer delivered value (顾客让渡价值).
pub fn delivered_value_dimensions() -> Vec<Dimension> {
    dims(&[
        ("product_value", "产品价值", "Product value"),
        ("service_value", "服务价值", "Service value"),
        ("personnel_value", "人员价值", "Personnel value"),
        ("image_value", "形象价值", "Image value"),
    ])
}

/// One survey response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// Customer identifier.
    pub customer_id: String,
    /// Segment (e.g. tier or RFM segment), if any.
    pub segment: Option<String>,
    /// One rating per dimension, in dimension order.
    pub scores: Vec<f64>,
    /// Overall rating (satisfaction or perceived value).
    pub overall: f64,
}

/// Configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueFocusConfig {
    /// Target performance for the gap; `None` = the scale maximum.
    pub target: Option<f64>,
    /// The best possible rating (e.g. 5 or 7).
    pub scale_max: f64,
    /// Fewest responses for a segment to get its own regression (otherwise it borrows the
    /// overall importance); never fewer than dimensions + 2.
    pub min_segment_responses: usize,
}

impl Default for ValueFocusConfig {
    fn default() -> Self {
        Self {
            target: None,
            scale_max: 5.0,
            min_segment_responses: 30,
        }
    }
}

impl ValueFocusConfig {
    /// Checks the scale and target, since a non-finite or non-positive one would make every gap
    /// meaningless rather than fail.
    pub fn validate(&self) -> Result<(), ValueFocusError> {
        if !self.scale_max.is_finite() || self.scale_max <= 0.0 {
            return Err(ValueFocusError::InvalidConfig(
                "scale_max must be a positive number".into(),
            ));
        }
        if self.target.is_some_and(|t| !t.is_finite()) {
            return Err(ValueFocusError::InvalidConfig(
                "target must be a number".into(),
            ));
        }
        Ok(())
    }
}

/// Importance-performance quadrant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpaQuadrant {
    /// High importance, low performance.
    ConcentrateHere,
    /// High importance, high performance.
    KeepUpTheGoodWork,
    /// Low importance, low performance.
    LowPriority,
    /// Low importance, high performance.
    PossibleOverkill,
}

impl IpaQuadrant {
    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::ConcentrateHere => "重点改进",
            Self::KeepUpTheGoodWork => "继续保持",
            Self::LowPriority => "次要改进",
            Self::PossibleOverkill => "过度投入",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::ConcentrateHere => "Concentrate here",
            Self::KeepUpTheGoodWork => "Keep up the good work",
            Self::LowPriority => "Low priority",
            Self::PossibleOverkill => "Possible overkill",
        }
    }
}

/// One dimension's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionResult {
    /// Dimension key.
    pub key: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Standardised regression coefficient β, equation (1).
    pub coefficient: f64,
    /// Relative importance, 0–1, equation (2).
    pub importance: f64,
    /// Mean rating (performance).
    pub performance: f64,
    /// Gap to the target, equation (3).
    pub gap: f64,
    /// Priority, equation (4).
    pub priority: f64,
    /// IPA quadrant.
    pub quadrant: IpaQuadrant,
    /// Quadrant, Chinese.
    pub quadrant_zh: String,
    /// Quadrant, English.
    pub quadrant_en: String,
}

/// An importance-performance analysis of one group of responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ipa {
    /// Responses used.
    pub responses: usize,
    /// R² of the regression.
    pub r_squared: f64,
    /// Importance cross-hair.
    pub importance_cut: f64,
    /// Performance cross-hair.
    pub performance_cut: f64,
    /// Per dimension, in dimension order.
    pub dimensions: Vec<DimensionResult>,
    /// Key of the focus dimension (largest priority).
    pub focus: String,
}

/// A segment's analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentIpa {
    /// Segment name.
    pub segment: String,
    /// Whether importance was fitted on this segment (else borrowed from the overall fit).
    pub own_regression: bool,
    /// The analysis.
    pub ipa: Ipa,
}

/// One customer's focus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFocus {
    /// Customer identifier.
    pub customer_id: String,
    /// Segment.
    pub segment: Option<String>,
    /// Focus dimension key.
    pub focus: String,
    /// Its Chinese name.
    pub focus_zh: String,
    /// Its English name.
    pub focus_en: String,
    /// The customer's gap on it.
    pub gap: f64,
    /// Priority (importance × the customer's gap); 0 when the customer rates every important
    /// dimension at the target, in which case the segment's focus is named.
    pub priority: f64,
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueFocusReport {
    /// All responses together.
    pub overall: Ipa,
    /// Per segment, sorted by name.
    pub segments: Vec<SegmentIpa>,
    /// Per response, input order.
    pub customers: Vec<CustomerFocus>,
}

/// Standardised regression coefficients and R² by equation (1).
pub fn standardized_coefficients(
    x: &[Vec<f64>],
    y: &[f64],
) -> Result<(Vec<f64>, f64), ValueFocusError> {
    let n = y.len();
    let k = x.first().map_or(0, Vec::len);
    if k == 0 {
        return Err(ValueFocusError::NoDimensions);
    }
    if n < k + 2 {
        return Err(ValueFocusError::TooFewResponses {
            needed: k + 2,
            got: n,
        });
    }
    let nf = n as f64;
    let mean = |f: &dyn Fn(usize) -> f64| (0..n).map(f).sum::<f64>() / nf;
    let mx: Vec<f64> = (0..k).map(|j| mean(&|i| x[i][j])).collect();
    let my = mean(&|i| y[i]);
    let sx: Vec<f64> = (0..k)
        .map(|j| mean(&|i| (x[i][j] - mx[j]).powi(2)).sqrt())
        .collect();
    let sy = mean(&|i| (y[i] - my).powi(2)).sqrt();
    if sy <= 1e-12 * (1.0 + my.abs()) {
        return Err(ValueFocusError::ConstantOverall);
    }
    let active: Vec<usize> = (0..k)
        .filter(|&j| sx[j] > 1e-12 * (1.0 + mx[j].abs()))
        .collect();
    let z = |i: usize, j: usize| (x[i][j] - mx[j]) / sx[j];
    let zy = |i: usize| (y[i] - my) / sy;
    let m = active.len();
    let mut rxx = vec![0.0; m * m];
    let mut rxy = vec![0.0; m];
    for (a, &ja) in active.iter().enumerate() {
        rxy[a] = mean(&|i| z(i, ja) * zy(i));
        for (b, &jb) in active.iter().enumerate().take(a + 1) {
            let r = mean(&|i| z(i, ja) * z(i, jb));
            rxx[a * m + b] = r;
            rxx[b * m + a] = r;
        }
    }
    let beta_active = if m == 0 {
        Vec::new()
    } else {
        cholesky_solve(&rxx, &rxy)
            .filter(|b| b.iter().all(|v| v.is_finite() && v.abs() < 1e6))
            .ok_or(ValueFocusError::Collinear)?
    };
    let r2 = beta_active.iter().zip(&rxy).map(|(b, r)| b * r).sum();
    let mut beta = vec![0.0; k];
    for (a, &j) in active.iter().enumerate() {
        beta[j] = beta_active[a];
    }
    Ok((beta, r2))
}

fn relative_importance(beta: &[f64]) -> Vec<f64> {
    let pos: f64 = beta.iter().map(|b| b.max(0.0)).sum();
    if pos > 0.0 {
        beta.iter().map(|b| b.max(0.0) / pos).collect()
    } else {
        vec![1.0 / beta.len() as f64; beta.len()]
    }
}

fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

fn build_ipa(
    dims: &[Dimension],
    responses: &[&SurveyResponse],
    beta: Vec<f64>,
    r2: f64,
    target: f64,
) -> Ipa {
    let k = dims.len();
    let n = responses.len().max(1) as f64;
    let importance = relative_importance(&beta);
    let performance: Vec<f64> = (0..k)
        .map(|j| responses.iter().map(|r| r.scores[j]).sum::<f64>() / n)
        .collect();
    let icut = importance.iter().sum::<f64>() / k as f64;
    let pcut = performance.iter().sum::<f64>() / k as f64;
    let dimensions: Vec<DimensionResult> = (0..k)
        .map(|j| {
            let gap = target - performance[j];
            let q = match (importance[j] >= icut, performance[j] >= pcut) {
                (true, false) => IpaQuadrant::ConcentrateHere,
                (true, true) => IpaQuadrant::KeepUpTheGoodWork,
                (false, false) => IpaQuadrant::LowPriority,
                (false, true) => IpaQuadrant::PossibleOverkill,
            };
            DimensionResult {
                key: dims[j].key.clone(),
                name_zh: dims[j].name_zh.clone(),
                name_en: dims[j].name_en.clone(),
                coefficient: beta[j],
                importance: importance[j],
                performance: performance[j],
                gap,
                priority: importance[j] * gap.max(0.0),
                quadrant: q,
                quadrant_zh: q.name_zh().into(),
                quadrant_en: q.name_en().into(),
            }
        })
        .collect();
    let pri: Vec<f64> = dimensions.iter().map(|d| d.priority).collect();
    let focus_idx = if pri.iter().any(|p| *p > 0.0) {
        argmax(&pri)
    } else {
        argmax(&importance)
    };
    Ipa {
        responses: responses.len(),
        r_squared: r2,
        importance_cut: icut,
        performance_cut: pcut,
        focus: dims[focus_idx].key.clone(),
        dimensions,
    }
}

/// One customer's focus under an analysis of its group (`ipa`): the dimension where importance
/// times the customer's own gap to `target` is largest, or the group's focus when the customer
/// rates every important dimension at the target.
pub fn customer_focus(
    dims: &[Dimension],
    ipa: &Ipa,
    r: &SurveyResponse,
    target: f64,
) -> CustomerFocus {
    let pri: Vec<f64> = ipa
        .dimensions
        .iter()
        .zip(&r.scores)
        .map(|(d, s)| d.importance * (target - s).max(0.0))
        .collect();
    let j = if pri.iter().any(|p| *p > 0.0) {
        argmax(&pri)
    } else {
        ipa.dimensions
            .iter()
            .position(|d| d.key == ipa.focus)
            .unwrap_or(0)
    };
    CustomerFocus {
        customer_id: r.customer_id.clone(),
        segment: r.segment.clone(),
        focus: dims[j].key.clone(),
        focus_zh: dims[j].name_zh.clone(),
        focus_en: dims[j].name_en.clone(),
        gap: target - r.scores[j],
        priority: pri.get(j).copied().unwrap_or_default(),
    }
}

/// Runs the analysis over all responses, per segment, and per customer.
pub fn analyze(
    dims: &[Dimension],
    responses: &[SurveyResponse],
    config: &ValueFocusConfig,
) -> Result<ValueFocusReport, ValueFocusError> {
    config.validate()?;
    let k = dims.len();
    if k == 0 {
        return Err(ValueFocusError::NoDimensions);
    }
    for r in responses {
        if r.scores.len() != k {
            return Err(ValueFocusError::WrongWidth {
                customer_id: r.customer_id.clone(),
                got: r.scores.len(),
                expected: k,
            });
        }
        if !r.overall.is_finite() || r.scores.iter().any(|s| !s.is_finite()) {
            return Err(ValueFocusError::NotFinite(r.customer_id.clone()));
        }
    }
    if responses.len() < k + 2 {
        return Err(ValueFocusError::TooFewResponses {
            needed: k + 2,
            got: responses.len(),
        });
    }
    let target = config.target.unwrap_or(config.scale_max);
    let fit = |rs: &[&SurveyResponse]| {
        let x: Vec<Vec<f64>> = rs.iter().map(|r| r.scores.clone()).collect();
        let y: Vec<f64> = rs.iter().map(|r| r.overall).collect();
        standardized_coefficients(&x, &y)
    };
    let all: Vec<&SurveyResponse> = responses.iter().collect();
    let (beta, r2) = fit(&all)?;
    let overall = build_ipa(dims, &all, beta.clone(), r2, target);

    let mut groups: BTreeMap<&str, Vec<&SurveyResponse>> = BTreeMap::new();
    for r in responses {
        if let Some(s) = &r.segment {
            groups.entry(s.as_str()).or_default().push(r);
        }
    }
    let min_n = config.min_segment_responses.max(k + 2);
    let mut segments = Vec::new();
    for (name, rs) in &groups {
        let own = if rs.len() >= min_n {
            fit(rs).ok()
        } else {
            None
        };
        let own_regression = own.is_some();
        let (b, r) = own.unwrap_or_else(|| (beta.clone(), r2));
        segments.push(SegmentIpa {
            segment: (*name).to_string(),
            own_regression,
            ipa: build_ipa(dims, rs, b, r, target),
        });
    }

    let customers = responses
        .iter()
        .map(|r| {
            let ipa = r
                .segment
                .as_ref()
                .and_then(|s| segments.iter().find(|g| &g.segment == s))
                .map_or(&overall, |g| &g.ipa);
            customer_focus(dims, ipa, r, target)
        })
        .collect();
    Ok(ValueFocusReport {
        overall,
        segments,
        customers,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// Simulated survey: overall = 0.5·service + 0.3·product + 0.1·price + 0·relationship +
    /// noise. Service is important and rated low: it must be the focus.
    fn simulate(n: usize, seed: u64) -> Vec<SurveyResponse> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let product = rng.random_range(3.0..5.0);
                let service = rng.random_range(1.0..4.0);
                let price = rng.random_range(2.0..5.0);
                let relationship = rng.random_range(3.5..5.0);
                let overall =
                    0.5 * service + 0.3 * product + 0.1 * price + rng.random_range(-0.3..0.3);
                SurveyResponse {
                    customer_id: format!("c{i}"),
                    segment: Some(if i % 2 == 0 { "A" } else { "B" }.into()),
                    scores: vec![product, service, price, relationship],
                    overall,
                }
            })
            .collect()
    }

    #[test]
    fn recovers_the_important_weak_dimension() {
        let d = product_service_price_relationship();
        let mut rs = simulate(400, 3);
        // a customer delighted with service but unhappy with the product
        rs.push(SurveyResponse {
            customer_id: "happy".into(),
            segment: None,
            scores: vec![1.0, 5.0, 4.0, 4.0],
            overall: 3.5,
        });
        let rep = analyze(&d, &rs, &ValueFocusConfig::default()).unwrap();
        let o = &rep.overall;
        assert_eq!(o.focus, "service");
        let service = &o.dimensions[1];
        assert_eq!(service.quadrant, IpaQuadrant::ConcentrateHere);
        assert_eq!(service.quadrant_zh, "重点改进");
        assert!(o.dimensions[3].importance < 0.05);
        assert!(o.r_squared > 0.8, "{}", o.r_squared);
        assert_eq!(rep.segments.len(), 2);
        assert!(rep.segments.iter().all(|s| s.own_regression));
        assert_eq!(rep.customers[0].focus, "service");
        let happy = rep.customers.last().unwrap();
        assert_eq!(happy.focus, "product");
        assert_eq!(happy.focus_zh, "产品");
        assert!((happy.gap - 4.0).abs() < 1e-12);
    }

    #[test]
    fn small_segments_borrow_overall_importance() {
        let d = product_service_price_relationship();
        let mut rs = simulate(100, 5);
        rs[0].segment = Some("tiny".into());
        let rep = analyze(&d, &rs, &ValueFocusConfig::default()).unwrap();
        let tiny = rep.segments.iter().find(|s| s.segment == "tiny").unwrap();
        assert!(!tiny.own_regression);
        assert_eq!(tiny.ipa.responses, 1);
    }

    #[test]
    fn errors() {
        let d = rater_dimensions();
        assert!(matches!(
            analyze(&d, &[], &ValueFocusConfig::default()),
            Err(ValueFocusError::TooFewResponses { .. })
        ));
        let r = SurveyResponse {
            customer_id: "x".into(),
            segment: None,
            scores: vec![1.0],
            overall: 3.0,
        };
        assert!(matches!(
            analyze(&d, std::slice::from_ref(&r), &ValueFocusConfig::default()),
            Err(ValueFocusError::WrongWidth { .. })
        ));
        let bad = ValueFocusConfig {
            scale_max: f64::NAN,
            ..Default::default()
        };
        assert!(matches!(
            analyze(&d, &[r], &bad),
            Err(ValueFocusError::InvalidConfig(_))
        ));
    }

    /// Agreement with scikit-learn `LinearRegression` on standardised data, fixture from
    /// `tests/reference/segments_reference.py`.
    #[test]
    fn agrees_with_scikit_learn() {
        let text = include_str!("../tests/reference/segments_survey.csv");
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let mut x = Vec::new();
        let mut y = Vec::new();
        for r in rdr.records() {
            let r = r.unwrap();
            let k = r.len();
            x.push(
                (1..k - 1)
                    .map(|j| r[j].parse::<f64>().unwrap())
                    .collect::<Vec<_>>(),
            );
            y.push(r[k - 1].parse::<f64>().unwrap());
        }
        let (beta, r2) = standardized_coefficients(&x, &y).unwrap();
        let reference: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/reference/segments_survey_sklearn.json"
        ))
        .unwrap();
        for (b, w) in beta
            .iter()
            .zip(reference["standardized_coef"].as_array().unwrap())
        {
            assert!((b - w.as_f64().unwrap()).abs() < 1e-9, "{b} vs {w}");
        }
        assert!((r2 - reference["r_squared"].as_f64().unwrap()).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn importance_is_a_distribution_and_order_invariant(seed in 0u64..1000) {
            let d = product_service_price_relationship();
            let rs = simulate(40, seed);
            let a = analyze(&d, &rs, &ValueFocusConfig::default()).unwrap();
            let s: f64 = a.overall.dimensions.iter().map(|d| d.importance).sum();
            prop_assert!((s - 1.0).abs() < 1e-9);
            prop_assert!(a.overall.dimensions.iter().all(|d| (0.0..=1.0).contains(&d.importance)));
            let mut rev = rs.clone();
            rev.reverse();
            let b = analyze(&d, &rev, &ValueFocusConfig::default()).unwrap();
            prop_assert_eq!(&a.overall.focus, &b.overall.focus);
            for (x, y) in a.overall.dimensions.iter().zip(&b.overall.dimensions) {
                prop_assert!((x.coefficient - y.coefficient).abs() < 1e-9);
            }
        }
    }
}
