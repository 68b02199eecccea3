//! Churn propensity: which customers are likely to stop buying, by L2-regularised logistic
//! regression trained on labelled history with a time-based holdout.
//!
//! # Source
//!
//! Logistic regression with a ridge (L2) penalty: le Cessie & van Houwelingen (1992), "Ridge
//! estimators in logistic regression", *Applied Statistics* 41(1); fitted by Newton–Raphson, which
//! for the logistic likelihood is iteratively reweighted least squares (McCullagh & Nelder 1989,
//! *Generalized Linear Models*, §4.4). Churn modelling practice (features at a cutoff, label from
//! the following window, out-of-time validation, top-decile lift): Neslin, Gupta, Kamakura, Lu &
//! Mason (2006), "Defection detection", *Journal of Marketing Research* 43(2). AUC as the
//! Mann–Whitney statistic: Hanley & McNeil (1982), *Radiology* 143. Calibration in deciles of
//! predicted risk: Hosmer & Lemeshow (1980).
//!
//! # The model
//!
//! Each feature is standardised, `z_j = (x_j − mean_j) / sd_j` (population sd over the training
//! rows; a missing value is replaced by the training mean, i.e. `z = 0`). With `η = b + wᵀz` and
//! `p = 1 / (1 + e^{−η})`, training minimises
//!
//! ```text
//! f(b, w) = Σ_i [ log(1 + e^{η_i}) − y_i η_i ] + (λ / 2) ‖w‖²                     (1)
//! ```
//!
//! (the intercept `b` is not penalised). Newton steps solve `H δ = ∇f` with
//!
//! ```text
//! ∇f = Xᵀ(p − y) + λ (0, w),   H = Xᵀ diag(p(1 − p)) X + λ diag(0, 1, …, 1)        (2)
//! ```
//!
//! by Cholesky decomposition, with step halving until `f` decreases. `f` is strictly convex for
//! `λ > 0`, so the minimum is unique and Newton converges quadratically; it needs a handful of
//! passes over the data, each parallelised over fixed-size row chunks (deterministic sums).
//!
//! **Mapping to scikit-learn.** `LogisticRegression(C=c)` minimises `½‖w‖² + c Σ loss`, which is
//! (1) divided by `c` with `λ = 1 / c`. So `C = 1/λ` gives identical coefficients (checked against
//! a fixture).
//!
//! # Features ([`build_features`])
//!
//! At a cutoff date, from each customer's history up to and including the cutoff:
//! `recency_days` (cutoff − last purchase), `log_frequency` (ln(1 + purchase days)),
//! `log_monetary` (ln(1 + mean spend per purchase day)), `tenure_days` (cutoff − first purchase;
//! left out with [`FeatureConfig::tenure`] off), optionally `silence_ratio` (recency over the
//! customer's usual interval, [`FeatureConfig::silence`]),
//! `trend` ((purchases in the last `trend_window_days` − purchases in the window before) / (their
//! sum), 0 when both are 0; −1 = stopped buying recently, +1 = started), and when the data has
//! them `complaints` (count in the last `complaint_window_days`) and `satisfaction` (latest score at
//! or before the cutoff). Further columns, such as `p_alive` from BG/NBD at the same cutoff, are
//! added with [`FeatureTable::with_column`].
//!
//! The label ([`churn_labels`]) is *churned* = no purchase in `(cutoff, cutoff + window]`.
//!
//! # Honest evaluation ([`time_split`])
//!
//! Train on features at cutoff `c` labelled by `(c, c + w]`; test on features at `c + w`
//! labelled by `(c + w, c + 2w]`. The test period lies wholly after everything the model saw,
//! as it will in use.
//!
//! # What the outputs mean, for a sales manager
//!
//! - **Churn probability** — the chance the customer makes no purchase in the coming window.
//! - **Risk decile** — 1 = the riskiest tenth of customers. Call decile 1 first.
//! - **Drivers** — which facts push this customer's risk up (e.g. "recency_days": a long time
//!   since the last order).
//! - **AUC** — how well the model ranks: 0.5 is a coin toss, 1.0 perfect; 0.7–0.8 is useful.
//! - **Precision at top decile** — of the 10% we flag as riskiest, the share who really left.
//!   **Recall at top decile** — the share of all leavers that those 10% contain. **Lift** —
//!   precision divided by the overall churn rate: how much better than calling at random.
//! - **Calibration** — in each tenth of predicted risk, the average predicted probability next to
//!   the share who actually churned; close numbers mean the probabilities can be taken at face
//!   value.
//!
//! # CLI notes
//!
//! `guanxi analytics churn train --transactions FILE --cutoff DATE --window-days N
//! [--model logistic|gbm] [--lambda L] [--complaints FILE] [--satisfaction FILE] [--p-alive]
//! --model-out OUT.json`: [`histories_from_transactions`], with complaints and survey answers
//! from side files ([`COMPLAINTS_FILE`], [`SATISFACTION_FILE`]) added by [`attach_complaints`]
//! and [`attach_satisfaction`], then [`time_split`] at the cutoff (the training cutoff; the test
//! cutoff is cutoff + window, so the data must reach cutoff + 2·window, else
//! [`ChurnError::InsufficientHistory`]), `p_alive` added to both sets with
//! [`FeatureTable::with_column`], and [`fit_and_evaluate`] (logistic, the default) or
//! [`crate::gbm::fit_and_evaluate`] (`--model gbm`, see [`crate::gbm`] for its options); write
//! [`SavedChurnModel::to_json`] (the model with a `"kind"`); print the `train` and `test`
//! [`Evaluation`]s (AUC, top decile, calibration table), `"model": "logistic" | "gbm"`, and
//! [`ChurnModel::explain`] as `coefficients` (logistic) or [`crate::gbm::GbmModel::importance`]
//! as `importance` (gbm). `guanxi analytics churn score --transactions FILE --model IN.json
//! [--as-of DATE]`: [`SavedChurnModel::from_json`] (a file without `kind`, as written by
//! [`ChurnModel::to_json`] before boosted trees existed, is logistic); the command refuses a model
//! whose complaints/satisfaction file is not given; [`SavedChurnModel::build_features`] at the
//! as-of date (default: the last transaction date), plus `p_alive` when the model uses it, then
//! [`SavedChurnModel::score`]; the rows are the [`ChurnScore`]s (customer, probability, risk
//! decile, band, drivers), the same shape for both kinds ([`rank_scores`], [`top_drivers`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::customer_file::{Layout, Others};
use crate::gbm::{GbmError, GbmModel};
use crate::transactions::{Transactions, date_from_day_number};

/// Errors from churn modelling.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ChurnError {
    /// No rows to train or score.
    #[error("no customers with purchases on or before the cutoff")]
    NoRows,
    /// Labels and rows differ in number.
    #[error("{rows} rows but {labels} labels")]
    LengthMismatch {
        /// Rows.
        rows: usize,
        /// Labels.
        labels: usize,
    },
    /// Training needs both churners and non-churners.
    #[error("training data must contain both churned and retained customers")]
    OneClass,
    /// A feature value was not finite.
    #[error("customer {customer_id}: feature {feature} is not finite")]
    NotFinite {
        /// The customer.
        customer_id: String,
        /// The feature.
        feature: String,
    },
    /// The model needs a feature the table lacks.
    #[error("feature {0} required by the model is missing from the input")]
    MissingFeature(String),
    /// The penalty must be non-negative and finite.
    #[error("lambda must be finite and >= 0 (got {0})")]
    BadLambda(f64),
    /// The Newton system could not be solved.
    #[error("the Hessian is singular; add a penalty (lambda > 0)")]
    Singular,
    /// The history does not reach the end of the label window.
    #[error("data ends {data_end} but labels need history up to {needed}")]
    InsufficientHistory {
        /// Last purchase date in the data.
        data_end: NaiveDate,
        /// Date needed.
        needed: NaiveDate,
    },
    /// A serialized model could not be read or written.
    #[error("model JSON: {0}")]
    Json(String),
}

/// One customer's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CustomerHistory {
    /// Customer identifier.
    pub customer_id: String,
    /// Purchases: date and amount (any order; same-day purchases count as one purchase day).
    pub purchases: Vec<(NaiveDate, f64)>,
    /// Dates of complaints.
    #[serde(default)]
    pub complaints: Vec<NaiveDate>,
    /// Satisfaction survey results: date and score.
    #[serde(default)]
    pub satisfaction: Vec<(NaiveDate, f64)>,
}

/// Purchase histories from parsed [`Transactions`] (one per customer, same-day purchases merged;
/// no complaints or satisfaction — add them from other sources). Sorted by customer id.
pub fn histories_from_transactions(tx: &Transactions) -> Vec<CustomerHistory> {
    let histories = tx.histories();
    let mut out: Vec<CustomerHistory> = histories
        .iter()
        .map(|(key, h)| CustomerHistory {
            customer_id: tx.customer_id(key).to_string(),
            purchases: h
                .days
                .iter()
                .zip(h.amounts)
                .filter_map(|(d, a)| date_from_day_number(*d).map(|d| (d, *a)))
                .collect(),
            complaints: Vec::new(),
            satisfaction: Vec::new(),
        })
        .collect();
    out.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    out
}

/// A return as the ledger booked it: netted against its order's purchase (`order_date`), but
/// booked on `booked_on`, so features at a cutoff before that day must not see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookedReturn {
    /// Customer identifier.
    pub customer_id: String,
    /// The day of the order it returns, where the histories net it.
    pub order_date: NaiveDate,
    /// The day it was booked.
    pub booked_on: NaiveDate,
    /// Its amount (negative, as netted).
    pub amount: f64,
}

/// The histories as they were known at `cutoff`: the returns booked after it, which the
/// histories already net against earlier orders, are added back, so a model evaluated out of
/// time never learns from a return it could not have seen. Histories are sorted by customer id
/// (as [`histories_from_transactions`] returns them); borrowed unchanged when no return is late.
pub fn known_at<'a>(
    histories: &'a [CustomerHistory],
    returns: &[BookedReturn],
    cutoff: NaiveDate,
) -> std::borrow::Cow<'a, [CustomerHistory]> {
    let late: Vec<&BookedReturn> = returns
        .iter()
        .filter(|r| r.booked_on > cutoff && r.order_date <= cutoff)
        .collect();
    if late.is_empty() {
        return std::borrow::Cow::Borrowed(histories);
    }
    let mut out = histories.to_vec();
    for r in late {
        if let Ok(i) = out.binary_search_by(|h| h.customer_id.as_str().cmp(&r.customer_id)) {
            out[i].purchases.push((r.order_date, -r.amount));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The columns of a booked-returns file: one row per return netted on an earlier order's date
/// (`customer_id,order_date,booked_on,amount`, the amount negative as netted).
pub const BOOKED_RETURNS_FILE: Layout = Layout {
    required: &["order_date", "booked_on", "amount"],
    optional: &[],
    others: Others::Reject,
};

/// The columns of a complaints file: one row per complaint (`customer_id,date`; a case id and
/// category may be kept alongside for the user's reference).
pub const COMPLAINTS_FILE: Layout = Layout {
    required: &["date"],
    optional: &["case_id", "category"],
    others: Others::Reject,
};

/// The columns of a satisfaction file: one row per survey answer (`customer_id,date,score`, any
/// scale as long as higher is more satisfied).
pub const SATISFACTION_FILE: Layout = Layout {
    required: &["date", "score"],
    optional: &["survey_id"],
    others: Others::Reject,
};

/// Adds complaint dates to the histories (sorted by customer id, as
/// [`histories_from_transactions`] returns them). Returns how many complaints belong to customers
/// without purchases, who have no history to attach them to and are not scored.
pub fn attach_complaints(
    histories: &mut [CustomerHistory],
    complaints: impl IntoIterator<Item = (String, NaiveDate)>,
) -> usize {
    let mut unmatched = 0;
    for (id, date) in complaints {
        match find_history(histories, &id) {
            Some(h) => h.complaints.push(date),
            None => unmatched += 1,
        }
    }
    unmatched
}

/// Adds satisfaction answers to the histories; returns how many belong to customers without
/// purchases (see [`attach_complaints`]).
pub fn attach_satisfaction(
    histories: &mut [CustomerHistory],
    answers: impl IntoIterator<Item = (String, NaiveDate, f64)>,
) -> usize {
    let mut unmatched = 0;
    for (id, date, score) in answers {
        match find_history(histories, &id) {
            Some(h) => h.satisfaction.push((date, score)),
            None => unmatched += 1,
        }
    }
    unmatched
}

fn find_history<'a>(
    histories: &'a mut [CustomerHistory],
    id: &str,
) -> Option<&'a mut CustomerHistory> {
    let i = histories
        .binary_search_by(|h| h.customer_id.as_str().cmp(id))
        .ok()?;
    histories.get_mut(i)
}

/// Three-way switch for optional features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Include {
    /// Include when at least one customer has data for it.
    #[default]
    Auto,
    /// Always include.
    Yes,
    /// Never include.
    No,
}

/// Feature-building settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Window length for the purchase trend (each of the two windows), days.
    pub trend_window_days: i64,
    /// Look-back for counting complaints, days.
    pub complaint_window_days: i64,
    /// Whether to include complaints.
    pub complaints: Include,
    /// Whether to include satisfaction.
    pub satisfaction: Include,
    /// Whether to include `tenure_days`. A population that joined at about the same time has a
    /// narrow tenure spread at the training cutoff and is older by the scoring date, so the
    /// feature extrapolates; the product's refresh leaves it out. Models saved before this
    /// setting existed have it.
    #[serde(default = "included")]
    pub tenure: bool,
    /// Whether to include `silence_ratio`: days since the last purchase over the customer's
    /// usual days between purchases (first to last purchase over the gaps; missing with one
    /// purchase day; at most 12). A customer silent for three of their own intervals is overdue whatever
    /// their rhythm, which the raw recency cannot say across customers who buy weekly and
    /// quarterly.
    #[serde(default)]
    pub silence: bool,
}

fn included() -> bool {
    true
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            trend_window_days: 90,
            complaint_window_days: 365,
            complaints: Include::Auto,
            satisfaction: Include::Auto,
            tenure: true,
            silence: false,
        }
    }
}

/// A feature matrix with named columns; `None` marks a missing value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FeatureTable {
    /// Column names.
    pub names: Vec<String>,
    /// Rows.
    pub rows: Vec<FeatureRow>,
}

/// One customer's features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    /// Customer identifier.
    pub customer_id: String,
    /// Values, in the order of [`FeatureTable::names`].
    pub values: Vec<Option<f64>>,
}

impl FeatureTable {
    /// Adds a column from a map of customer id to value (customers not in the map get `None`).
    /// Use it for `p_alive` or any other externally computed feature at the same cutoff.
    pub fn with_column(mut self, name: impl Into<String>, values: &HashMap<String, f64>) -> Self {
        self.names.push(name.into());
        for r in &mut self.rows {
            r.values.push(values.get(&r.customer_id).copied());
        }
        self
    }

    /// The index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Builds features at `cutoff` (see the module docs). Customers without a purchase on or before
/// the cutoff are left out; rows come sorted by customer id.
pub fn build_features(
    histories: &[CustomerHistory],
    cutoff: NaiveDate,
    config: &FeatureConfig,
) -> FeatureTable {
    let want = |inc: Include, any: bool| match inc {
        Include::Auto => any,
        Include::Yes => true,
        Include::No => false,
    };
    let use_complaints = want(
        config.complaints,
        histories.iter().any(|h| !h.complaints.is_empty()),
    );
    let use_satisfaction = want(
        config.satisfaction,
        histories.iter().any(|h| !h.satisfaction.is_empty()),
    );
    let mut names: Vec<String> = ["recency_days", "log_frequency", "log_monetary"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if config.tenure {
        names.push("tenure_days".into());
    }
    names.push("trend".into());
    if config.silence {
        names.push("silence_ratio".into());
    }
    if use_complaints {
        names.push("complaints".into());
    }
    if use_satisfaction {
        names.push("satisfaction".into());
    }
    let tw = config.trend_window_days.max(1);
    let mut rows: Vec<FeatureRow> = histories
        .par_iter()
        .filter_map(|h| {
            let mut days: Vec<(NaiveDate, f64)> = h
                .purchases
                .iter()
                .filter(|(d, _)| *d <= cutoff)
                .copied()
                .collect();
            if days.is_empty() {
                return None;
            }
            days.sort_by_key(|(d, _)| *d);
            // merge same-day purchases
            let mut merged: Vec<(NaiveDate, f64)> = Vec::with_capacity(days.len());
            for (d, a) in days {
                match merged.last_mut() {
                    Some((ld, la)) if *ld == d => *la += a,
                    _ => merged.push((d, a)),
                }
            }
            let first = merged[0].0;
            let last = merged[merged.len() - 1].0;
            let n = merged.len() as f64;
            let spend: f64 = merged.iter().map(|(_, a)| a).sum();
            let age = |d: NaiveDate| (cutoff - d).num_days();
            let recent = merged.iter().filter(|(d, _)| age(*d) < tw).count() as f64;
            let previous = merged
                .iter()
                .filter(|(d, _)| (tw..2 * tw).contains(&age(*d)))
                .count() as f64;
            let trend = if recent + previous > 0.0 {
                (recent - previous) / (recent + previous)
            } else {
                0.0
            };
            let mut values = vec![
                Some(age(last) as f64),
                Some(n.ln_1p()),
                Some((spend / n).max(0.0).ln_1p()),
            ];
            if config.tenure {
                values.push(Some(age(first) as f64));
            }
            values.push(Some(trend));
            if config.silence {
                let usual = (last - first).num_days() as f64 / (n - 1.0);
                // Capped: past a dozen intervals a customer is simply gone, and a few extreme
                // ratios (two orders a day apart, then years of silence) would squash the rest.
                values.push((n >= 2.0).then(|| (age(last) as f64 / usual.max(1.0)).min(12.0)));
            }
            if use_complaints {
                let c = h
                    .complaints
                    .iter()
                    .filter(|d| **d <= cutoff && age(**d) < config.complaint_window_days)
                    .count();
                values.push(Some(c as f64));
            }
            if use_satisfaction {
                let latest = h
                    .satisfaction
                    .iter()
                    .filter(|(d, _)| *d <= cutoff)
                    .max_by_key(|(d, _)| *d)
                    .map(|(_, s)| *s);
                values.push(latest);
            }
            Some(FeatureRow {
                customer_id: h.customer_id.clone(),
                values,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
    FeatureTable { names, rows }
}

/// Churn labels: `true` when the customer made no purchase in `(cutoff, cutoff + window_days]`.
pub fn churn_labels(
    histories: &[CustomerHistory],
    cutoff: NaiveDate,
    window_days: i64,
) -> HashMap<String, bool> {
    let end = cutoff + chrono::Duration::days(window_days);
    histories
        .iter()
        .map(|h| {
            let bought = h.purchases.iter().any(|(d, _)| *d > cutoff && *d <= end);
            (h.customer_id.clone(), !bought)
        })
        .collect()
}

/// Features with labels aligned to its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSet {
    /// Cutoff of the features.
    pub cutoff: NaiveDate,
    /// The features.
    pub table: FeatureTable,
    /// `true` = churned, one per row.
    pub labels: Vec<bool>,
}

/// Builds the labelled set at a cutoff, checking that the data reach the end of the window
/// (the data end is the last purchase in `histories`).
pub fn labelled_set(
    histories: &[CustomerHistory],
    cutoff: NaiveDate,
    window_days: i64,
    config: &FeatureConfig,
) -> Result<LabelledSet, ChurnError> {
    labelled_set_through(
        histories,
        cutoff,
        window_days,
        config,
        last_purchase(histories)?,
    )
}

/// The last purchase date in `histories`.
fn last_purchase(histories: &[CustomerHistory]) -> Result<NaiveDate, ChurnError> {
    histories
        .iter()
        .flat_map(|h| h.purchases.iter().map(|(d, _)| *d))
        .max()
        .ok_or(ChurnError::NoRows)
}

/// [`labelled_set`] for data known to run through `data_end` (a ledger as of a date reaches that
/// date even when nobody bought on it).
pub fn labelled_set_through(
    histories: &[CustomerHistory],
    cutoff: NaiveDate,
    window_days: i64,
    config: &FeatureConfig,
    data_end: NaiveDate,
) -> Result<LabelledSet, ChurnError> {
    let needed = cutoff + chrono::Duration::days(window_days);
    if data_end < needed {
        return Err(ChurnError::InsufficientHistory { data_end, needed });
    }
    let table = build_features(histories, cutoff, config);
    let labels_by_id = churn_labels(histories, cutoff, window_days);
    let labels = table
        .rows
        .iter()
        .map(|r| labels_by_id.get(&r.customer_id).copied().unwrap_or(true))
        .collect();
    Ok(LabelledSet {
        cutoff,
        table,
        labels,
    })
}

/// Time-based split: training set at `train_cutoff`, test set at `train_cutoff + window_days`.
pub fn time_split(
    histories: &[CustomerHistory],
    train_cutoff: NaiveDate,
    window_days: i64,
    config: &FeatureConfig,
) -> Result<(LabelledSet, LabelledSet), ChurnError> {
    time_split_through(
        histories,
        &[],
        train_cutoff,
        window_days,
        config,
        last_purchase(histories)?,
    )
}

/// [`time_split`] for data known to run through `data_end`, each set's features from what was
/// known at its cutoff (`returns` booked later are not netted yet; see [`known_at`]).
pub fn time_split_through(
    histories: &[CustomerHistory],
    returns: &[BookedReturn],
    train_cutoff: NaiveDate,
    window_days: i64,
    config: &FeatureConfig,
    data_end: NaiveDate,
) -> Result<(LabelledSet, LabelledSet), ChurnError> {
    let train = labelled_set_through(
        &known_at(histories, returns, train_cutoff),
        train_cutoff,
        window_days,
        config,
        data_end,
    )?;
    let test_cutoff = train_cutoff + chrono::Duration::days(window_days);
    let mut test = labelled_set_through(
        &known_at(histories, returns, test_cutoff),
        test_cutoff,
        window_days,
        config,
        data_end,
    )?;
    // score the test set on exactly the training columns
    test.table = align(&test.table, &train.table.names);
    Ok((train, test))
}

fn align(table: &FeatureTable, names: &[String]) -> FeatureTable {
    let idx: Vec<Option<usize>> = names.iter().map(|n| table.column(n)).collect();
    FeatureTable {
        names: names.to_vec(),
        rows: table
            .rows
            .iter()
            .map(|r| FeatureRow {
                customer_id: r.customer_id.clone(),
                values: idx.iter().map(|i| i.and_then(|i| r.values[i])).collect(),
            })
            .collect(),
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticConfig {
    /// L2 penalty λ of equation (1) (scikit-learn `C = 1/λ`).
    pub lambda: f64,
    /// Maximum Newton iterations.
    pub max_iterations: usize,
    /// Convergence tolerance on the Newton decrement per row.
    pub tolerance: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        Self {
            lambda: 1.0,
            max_iterations: 100,
            tolerance: 1e-12,
        }
    }
}

/// How training went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Training rows.
    pub rows: usize,
    /// Churned rows among them.
    pub churned: usize,
    /// Newton iterations used.
    pub iterations: usize,
    /// Whether the tolerance was met.
    pub converged: bool,
    /// Final value of objective (1).
    pub objective: f64,
}

/// A trained churn model: everything needed to score new data (serialize with serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnModel {
    /// Feature names, in coefficient order.
    pub feature_names: Vec<String>,
    /// Training means (also the value imputed for a missing feature).
    pub means: Vec<f64>,
    /// Training standard deviations (1 where a feature was constant).
    pub scales: Vec<f64>,
    /// Intercept on the standardised scale.
    pub intercept: f64,
    /// Coefficients on the standardised scale (log-odds per standard deviation).
    pub coefficients: Vec<f64>,
    /// Penalty used.
    pub lambda: f64,
    /// Feature settings used to build the training features (reuse them when scoring).
    pub feature_config: Option<FeatureConfig>,
    /// Training diagnostics.
    pub training: TrainingInfo,
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Solves `A x = b` for a symmetric positive definite `A` (row-major `n × n`) by Cholesky.
/// Returns `None` when `A` is not positive definite.
pub(crate) fn cholesky_solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    if a.len() != n * n {
        return None;
    }
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    Some(x)
}

const CHUNK: usize = 4096;

/// Design matrix (row-major, first column 1) of standardised features.
struct Design {
    x: Vec<f64>,
    y: Vec<f64>,
    d: usize,
}

impl Design {
    fn rows(&self) -> usize {
        self.y.len()
    }

    fn objective(&self, theta: &[f64], lambda: f64) -> f64 {
        let d = self.d;
        let loss: f64 = self
            .x
            .par_chunks(CHUNK * d)
            .zip(self.y.par_chunks(CHUNK))
            .map(|(xc, yc)| {
                xc.chunks(d)
                    .zip(yc)
                    .map(|(row, y)| {
                        let eta: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
                        softplus(eta) - y * eta
                    })
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
            .iter()
            .sum();
        loss + 0.5 * lambda * theta[1..].iter().map(|w| w * w).sum::<f64>()
    }

    /// Gradient and Hessian of (1), equation (2).
    fn grad_hess(&self, theta: &[f64], lambda: f64) -> (Vec<f64>, Vec<f64>) {
        let d = self.d;
        let parts: Vec<(Vec<f64>, Vec<f64>)> = self
            .x
            .par_chunks(CHUNK * d)
            .zip(self.y.par_chunks(CHUNK))
            .map(|(xc, yc)| {
                let mut g = vec![0.0; d];
                let mut h = vec![0.0; d * d];
                for (row, y) in xc.chunks(d).zip(yc) {
                    let eta: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
                    let p = sigmoid(eta);
                    let r = p - y;
                    let w = p * (1.0 - p);
                    for j in 0..d {
                        g[j] += r * row[j];
                        let wj = w * row[j];
                        for k in 0..=j {
                            h[j * d + k] += wj * row[k];
                        }
                    }
                }
                (g, h)
            })
            .collect();
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        for (pg, ph) in parts {
            for j in 0..d {
                g[j] += pg[j];
            }
            for j in 0..d * d {
                h[j] += ph[j];
            }
        }
        for j in 0..d {
            for k in 0..j {
                h[k * d + j] = h[j * d + k];
            }
        }
        for j in 1..d {
            g[j] += lambda * theta[j];
            h[j * d + j] += lambda;
        }
        (g, h)
    }
}

fn check_finite(table: &FeatureTable) -> Result<(), ChurnError> {
    for r in &table.rows {
        for (name, v) in table.names.iter().zip(&r.values) {
            if let Some(v) = v
                && !v.is_finite()
            {
                return Err(ChurnError::NotFinite {
                    customer_id: r.customer_id.clone(),
                    feature: name.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Trains the model on a feature table and labels (`true` = churned).
pub fn fit(
    table: &FeatureTable,
    labels: &[bool],
    config: &LogisticConfig,
) -> Result<ChurnModel, ChurnError> {
    if table.rows.is_empty() {
        return Err(ChurnError::NoRows);
    }
    if labels.len() != table.rows.len() {
        return Err(ChurnError::LengthMismatch {
            rows: table.rows.len(),
            labels: labels.len(),
        });
    }
    if !(config.lambda.is_finite() && config.lambda >= 0.0) {
        return Err(ChurnError::BadLambda(config.lambda));
    }
    let churned = labels.iter().filter(|l| **l).count();
    if churned == 0 || churned == labels.len() {
        return Err(ChurnError::OneClass);
    }
    check_finite(table)?;
    let p = table.names.len();
    let mut means = vec![0.0; p];
    let mut scales = vec![1.0; p];
    for j in 0..p {
        let vals: Vec<f64> = table.rows.iter().filter_map(|r| r.values[j]).collect();
        if vals.is_empty() {
            continue;
        }
        let m = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / vals.len() as f64;
        means[j] = m;
        scales[j] = if var > 1e-24 * (1.0 + m * m) {
            var.sqrt()
        } else {
            1.0
        };
    }
    let model0 = ChurnModel {
        feature_names: table.names.clone(),
        means,
        scales,
        intercept: 0.0,
        coefficients: vec![0.0; p],
        lambda: config.lambda,
        feature_config: None,
        training: TrainingInfo {
            rows: labels.len(),
            churned,
            iterations: 0,
            converged: false,
            objective: f64::NAN,
        },
    };
    let d = p + 1;
    let mut x = Vec::with_capacity(labels.len() * d);
    for r in &table.rows {
        x.push(1.0);
        x.extend(model0.standardize(&r.values));
    }
    let design = Design {
        x,
        y: labels.iter().map(|l| f64::from(u8::from(*l))).collect(),
        d,
    };
    let n = design.rows() as f64;
    // start at the base rate
    let rate = churned as f64 / n;
    let mut theta = vec![0.0; d];
    theta[0] = (rate / (1.0 - rate)).ln();
    let mut f = design.objective(&theta, config.lambda);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < config.max_iterations {
        iterations += 1;
        let (g, mut h) = design.grad_hess(&theta, config.lambda);
        let step = match cholesky_solve(&h, &g) {
            Some(s) => s,
            None => {
                // tiny ridge for a numerically singular Hessian (e.g. lambda = 0, constant column)
                for j in 0..d {
                    h[j * d + j] += 1e-8 * (1.0 + h[j * d + j]);
                }
                cholesky_solve(&h, &g).ok_or(ChurnError::Singular)?
            }
        };
        let decrement: f64 = g.iter().zip(&step).map(|(a, b)| a * b).sum();
        if decrement / n < config.tolerance {
            converged = true;
            break;
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..50 {
            let cand: Vec<f64> = theta.iter().zip(&step).map(|(a, s)| a - t * s).collect();
            let fc = design.objective(&cand, config.lambda);
            if fc <= f - 1e-4 * t * decrement || (fc <= f && t < 1e-6) {
                theta = cand;
                f = fc;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // no decrease possible at machine precision: at the optimum
            converged = decrement / n < 1e-8;
            break;
        }
    }
    Ok(ChurnModel {
        intercept: theta[0],
        coefficients: theta[1..].to_vec(),
        training: TrainingInfo {
            rows: labels.len(),
            churned,
            iterations,
            converged,
            objective: f,
        },
        ..model0
    })
}

/// One row of [`ChurnModel::explain`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientRow {
    /// Feature name.
    pub feature: String,
    /// Standardised coefficient (log-odds per standard deviation).
    pub coefficient: f64,
    /// `e^coefficient`.
    pub odds_ratio_per_sd: f64,
    /// The feature's training standard deviation.
    pub standard_deviation: f64,
    /// Log-odds per raw unit of the feature.
    pub raw_coefficient: f64,
}

/// One scored customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnScore {
    /// Customer identifier.
    pub customer_id: String,
    /// Probability of churning in the coming window, 0–1.
    pub probability: f64,
    /// Risk decile, 1 = riskiest 10%.
    pub risk_decile: u8,
    /// Risk band.
    pub risk_band: RiskBand,
    /// Band name, Chinese.
    pub risk_band_zh: String,
    /// The features that raise the risk most (largest positive log-odds contributions: `w_j z_j`
    /// for the logistic model, path attributions for boosted trees), at most three.
    pub drivers: Vec<Driver>,
}

/// A feature's contribution to one customer's risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// Feature name.
    pub feature: String,
    /// The customer's value.
    pub value: Option<f64>,
    /// Contribution to the log-odds of churning.
    pub log_odds: f64,
}

/// Risk bands by probability: high ≥ 0.6, medium ≥ 0.3, low below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskBand {
    /// Probability ≥ 0.6.
    High,
    /// 0.3 ≤ probability < 0.6.
    Medium,
    /// Probability < 0.3.
    Low,
}

impl RiskBand {
    /// Band for a probability.
    pub fn of(p: f64) -> Self {
        if p >= 0.6 {
            RiskBand::High
        } else if p >= 0.3 {
            RiskBand::Medium
        } else {
            RiskBand::Low
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            RiskBand::High => "高风险",
            RiskBand::Medium => "中风险",
            RiskBand::Low => "低风险",
        }
    }
}

impl ChurnModel {
    fn standardize(&self, values: &[Option<f64>]) -> Vec<f64> {
        values
            .iter()
            .enumerate()
            .map(|(j, v)| v.map_or(0.0, |v| (v - self.means[j]) / self.scales[j]))
            .collect()
    }

    /// Coefficients on the original feature scale: `(intercept, slopes)` with
    /// `β_j = w_j / sd_j` and `β_0 = b − Σ w_j mean_j / sd_j`.
    pub fn raw_coefficients(&self) -> (f64, Vec<f64>) {
        let slopes: Vec<f64> = self
            .coefficients
            .iter()
            .zip(&self.scales)
            .map(|(w, s)| w / s)
            .collect();
        let b0 = self.intercept
            - slopes
                .iter()
                .zip(&self.means)
                .map(|(b, m)| b * m)
                .sum::<f64>();
        (b0, slopes)
    }

    fn aligned(&self, table: &FeatureTable) -> Result<Vec<usize>, ChurnError> {
        self.feature_names
            .iter()
            .map(|n| {
                table
                    .column(n)
                    .ok_or_else(|| ChurnError::MissingFeature(n.clone()))
            })
            .collect()
    }

    /// Churn probabilities for the rows of `table` (columns matched by name).
    pub fn predict(&self, table: &FeatureTable) -> Result<Vec<f64>, ChurnError> {
        let idx = self.aligned(table)?;
        check_finite(table)?;
        Ok(table
            .rows
            .par_iter()
            .map(|r| {
                let vals: Vec<Option<f64>> = idx.iter().map(|&i| r.values[i]).collect();
                let z = self.standardize(&vals);
                let eta = self.intercept
                    + z.iter()
                        .zip(&self.coefficients)
                        .map(|(a, b)| a * b)
                        .sum::<f64>();
                sigmoid(eta)
            })
            .collect())
    }

    /// Scores customers: probability, risk decile, band and drivers (the largest positive
    /// log-odds contributions `w_j z_j`).
    pub fn score(&self, table: &FeatureTable) -> Result<Vec<ChurnScore>, ChurnError> {
        let probs = self.predict(table)?;
        let idx = self.aligned(table)?;
        let drivers: Vec<Vec<Driver>> = table
            .rows
            .iter()
            .map(|r| {
                let vals: Vec<Option<f64>> = idx.iter().map(|&k| r.values[k]).collect();
                let z = self.standardize(&vals);
                let contrib: Vec<f64> = self
                    .coefficients
                    .iter()
                    .zip(&z)
                    .map(|(w, z)| w * z)
                    .collect();
                top_drivers(&self.feature_names, &vals, &contrib)
            })
            .collect();
        Ok(rank_scores(table, &probs, drivers))
    }

    /// Builds the scoring features at `as_of` with the settings the model was trained with,
    /// including exactly the optional columns the model uses (a customer without complaint or
    /// satisfaction data then gets 0 complaints / the training mean). Extra columns such as
    /// `p_alive` must still be added with [`FeatureTable::with_column`].
    pub fn build_features(&self, histories: &[CustomerHistory], as_of: NaiveDate) -> FeatureTable {
        build_model_features(&self.feature_names, self.feature_config, histories, as_of)
    }

    /// The coefficients in words: per feature, the standardised coefficient, the odds ratio per
    /// standard deviation (`e^w`: 2.0 means one standard deviation more of this feature doubles
    /// the odds of churning), and the coefficient per raw unit.
    pub fn explain(&self) -> Vec<CoefficientRow> {
        let (_, raw) = self.raw_coefficients();
        self.feature_names
            .iter()
            .zip(self.coefficients.iter().zip(&self.scales))
            .zip(raw)
            .map(|((name, (w, sd)), r)| CoefficientRow {
                feature: name.clone(),
                coefficient: *w,
                odds_ratio_per_sd: w.exp(),
                standard_deviation: *sd,
                raw_coefficient: r,
            })
            .collect()
    }

    /// The model as JSON.
    pub fn to_json(&self) -> Result<String, ChurnError> {
        serde_json::to_string_pretty(self).map_err(|e| ChurnError::Json(e.to_string()))
    }

    /// Reads a model from JSON.
    pub fn from_json(text: &str) -> Result<Self, ChurnError> {
        let m: ChurnModel =
            serde_json::from_str(text).map_err(|e| ChurnError::Json(e.to_string()))?;
        m.check_dimensions()?;
        Ok(m)
    }

    fn check_dimensions(&self) -> Result<(), ChurnError> {
        let p = self.feature_names.len();
        if self.means.len() != p || self.scales.len() != p || self.coefficients.len() != p {
            return Err(ChurnError::Json("inconsistent model dimensions".into()));
        }
        Ok(())
    }
}

/// The drivers of one customer's risk from per-feature log-odds contributions (any model):
/// the features pushing the risk up, largest first, at most three.
pub fn top_drivers(names: &[String], values: &[Option<f64>], contributions: &[f64]) -> Vec<Driver> {
    let mut drivers: Vec<Driver> = names
        .iter()
        .zip(contributions)
        .enumerate()
        .filter(|(_, (_, c))| **c > 0.0)
        .map(|(j, (name, c))| Driver {
            feature: name.clone(),
            value: values.get(j).copied().flatten(),
            log_odds: *c,
        })
        .collect();
    drivers.sort_by(|a, b| b.log_odds.total_cmp(&a.log_odds));
    drivers.truncate(3);
    drivers
}

/// Turns probabilities and per-row drivers (both in the order of `table.rows`) into
/// [`ChurnScore`]s: risk decile by rank (riskiest first, ties by customer id) and risk band. Shared
/// by every model kind so that their scores read the same.
pub fn rank_scores(
    table: &FeatureTable,
    probabilities: &[f64],
    drivers: Vec<Vec<Driver>>,
) -> Vec<ChurnScore> {
    let n = probabilities.len().min(table.rows.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        probabilities[b]
            .total_cmp(&probabilities[a])
            .then_with(|| table.rows[a].customer_id.cmp(&table.rows[b].customer_id))
    });
    let mut decile = vec![10u8; n];
    let mut pos = 0;
    for (d, s) in crate::pareto::group_sizes(n, 10).into_iter().enumerate() {
        for &i in &order[pos..pos + s] {
            decile[i] = d as u8 + 1;
        }
        pos += s;
    }
    table
        .rows
        .iter()
        .zip(probabilities)
        .zip(drivers.into_iter().chain(std::iter::repeat_with(Vec::new)))
        .enumerate()
        .map(|(i, ((r, &p), drivers))| {
            let band = RiskBand::of(p);
            ChurnScore {
                customer_id: r.customer_id.clone(),
                probability: p,
                risk_decile: decile[i],
                risk_band: band,
                risk_band_zh: band.name_zh().to_string(),
                drivers,
            }
        })
        .collect()
}

/// Scoring features for a saved model of any kind: the saved `config` (defaults for a model
/// saved without one) with exactly the optional columns among `feature_names`, so that a
/// customer without complaint or satisfaction data still gets the column the model needs.
pub(crate) fn build_model_features(
    feature_names: &[String],
    config: Option<FeatureConfig>,
    histories: &[CustomerHistory],
    as_of: NaiveDate,
) -> FeatureTable {
    let has = |n: &str| {
        if feature_names.iter().any(|f| f == n) {
            Include::Yes
        } else {
            Include::No
        }
    };
    let config = FeatureConfig {
        complaints: has("complaints"),
        satisfaction: has("satisfaction"),
        tenure: feature_names.iter().any(|f| f == "tenure_days"),
        silence: feature_names.iter().any(|f| f == "silence_ratio"),
        ..config.unwrap_or_default()
    };
    build_features(histories, as_of, &config)
}

/// A saved churn model of either kind. Written as the model's own fields plus `"kind":
/// "logistic" | "gbm"`; a file without `kind` (written before boosted trees existed, by
/// [`ChurnModel::to_json`]) reads as logistic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SavedChurnModel {
    /// Logistic regression ([`fit`]).
    Logistic(ChurnModel),
    /// Gradient-boosted trees ([`crate::gbm::fit`]).
    Gbm(GbmModel),
}

impl SavedChurnModel {
    /// `"logistic"` or `"gbm"`, as in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            SavedChurnModel::Logistic(_) => "logistic",
            SavedChurnModel::Gbm(_) => "gbm",
        }
    }

    /// The model's feature names.
    pub fn feature_names(&self) -> &[String] {
        match self {
            SavedChurnModel::Logistic(m) => &m.feature_names,
            SavedChurnModel::Gbm(m) => &m.feature_names,
        }
    }

    /// Scoring features at `as_of`, built as at training (see [`ChurnModel::build_features`]).
    pub fn build_features(&self, histories: &[CustomerHistory], as_of: NaiveDate) -> FeatureTable {
        match self {
            SavedChurnModel::Logistic(m) => m.build_features(histories, as_of),
            SavedChurnModel::Gbm(m) => m.build_features(histories, as_of),
        }
    }

    /// Churn probabilities.
    pub fn predict(&self, table: &FeatureTable) -> Result<Vec<f64>, GbmError> {
        match self {
            SavedChurnModel::Logistic(m) => Ok(m.predict(table)?),
            SavedChurnModel::Gbm(m) => m.predict(table),
        }
    }

    /// Scores with the same output shape whatever the kind.
    pub fn score(&self, table: &FeatureTable) -> Result<Vec<ChurnScore>, GbmError> {
        match self {
            SavedChurnModel::Logistic(m) => Ok(m.score(table)?),
            SavedChurnModel::Gbm(m) => m.score(table),
        }
    }

    /// The model as JSON, with its `kind`.
    pub fn to_json(&self) -> Result<String, ChurnError> {
        serde_json::to_string_pretty(self).map_err(|e| ChurnError::Json(e.to_string()))
    }

    /// Reads a model of either kind and checks it; the error type is [`GbmError`] because it
    /// covers both kinds' problems.
    pub fn from_json(text: &str) -> Result<Self, GbmError> {
        let json = |e: serde_json::Error| GbmError::from(ChurnError::Json(e.to_string()));
        // peek for the tag first: an untagged file is the logistic-only format
        let value: serde_json::Value = serde_json::from_str(text).map_err(json)?;
        if value.get("kind").is_none() {
            return Ok(SavedChurnModel::Logistic(ChurnModel::from_json(text)?));
        }
        let m: SavedChurnModel = serde_json::from_str(text).map_err(json)?;
        match &m {
            SavedChurnModel::Logistic(l) => l.check_dimensions()?,
            SavedChurnModel::Gbm(g) => g.check()?,
        }
        Ok(m)
    }
}

/// One bin of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Bin, 1–10 from lowest to highest predicted risk.
    pub bin: u8,
    /// Customers in it.
    pub customers: usize,
    /// Mean predicted probability.
    pub mean_predicted: f64,
    /// Observed churn rate.
    pub observed_rate: f64,
}

/// Precision, recall and lift among the top-scored share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopShareMetrics {
    /// Share of customers flagged (0.1 = top decile).
    pub share: f64,
    /// Customers flagged (`ceil(share · n)`).
    pub flagged: usize,
    /// Churners among the flagged / flagged.
    pub precision: f64,
    /// Churners among the flagged / all churners.
    pub recall: f64,
    /// Precision / base rate.
    pub lift: f64,
}

/// Model quality on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rows.
    pub customers: usize,
    /// Churned rows.
    pub churned: usize,
    /// Churn rate.
    pub base_rate: f64,
    /// Area under the ROC curve (ties count one half); `None` with one class only.
    pub auc: Option<f64>,
    /// Top-decile metrics.
    pub top_decile: TopShareMetrics,
    /// Mean squared error of the probabilities.
    pub brier: f64,
    /// Mean log loss.
    pub log_loss: f64,
    /// Calibration in ten equal-count bins of predicted risk.
    pub calibration: Vec<CalibrationBin>,
    /// Hosmer–Lemeshow statistic over the non-empty bins.
    pub hosmer_lemeshow: f64,
}

/// AUC by the Mann–Whitney statistic with average ranks for ties:
/// `AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋)`.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let pos = labels[..n].iter().filter(|l| **l).count();
    let neg = n - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let p = pos as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * neg as f64))
}

/// Precision/recall/lift among the `share` of rows with the highest scores (ties at the boundary
/// broken by row order).
pub fn top_share_metrics(scores: &[f64], labels: &[bool], share: f64) -> TopShareMetrics {
    let n = scores.len().min(labels.len());
    let k = ((share * n as f64).ceil() as usize).min(n);
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let hits = idx[..k].iter().filter(|&&i| labels[i]).count() as f64;
    let pos = labels[..n].iter().filter(|l| **l).count() as f64;
    let precision = if k > 0 { hits / k as f64 } else { 0.0 };
    let base = if n > 0 { pos / n as f64 } else { 0.0 };
    TopShareMetrics {
        share,
        flagged: k,
        precision,
        recall: if pos > 0.0 { hits / pos } else { 0.0 },
        lift: if base > 0.0 { precision / base } else { 0.0 },
    }
}

/// Evaluates predicted probabilities against labels.
pub fn evaluate(probabilities: &[f64], labels: &[bool]) -> Result<Evaluation, ChurnError> {
    if probabilities.len() != labels.len() {
        return Err(ChurnError::LengthMismatch {
            rows: probabilities.len(),
            labels: labels.len(),
        });
    }
    let n = labels.len();
    if n == 0 {
        return Err(ChurnError::NoRows);
    }
    let churned = labels.iter().filter(|l| **l).count();
    let y = |l: bool| f64::from(u8::from(l));
    let brier = probabilities
        .iter()
        .zip(labels)
        .map(|(p, l)| (p - y(*l)).powi(2))
        .sum::<f64>()
        / n as f64;
    let eps = 1e-15;
    let log_loss = -probabilities
        .iter()
        .zip(labels)
        .map(|(p, l)| {
            let p = p.clamp(eps, 1.0 - eps);
            if *l { p.ln() } else { (1.0 - p).ln() }
        })
        .sum::<f64>()
        / n as f64;
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| {
        probabilities[a]
            .total_cmp(&probabilities[b])
            .then(a.cmp(&b))
    });
    let mut calibration = Vec::with_capacity(10);
    let mut hl = 0.0;
    let mut pos = 0;
    for (b, s) in crate::pareto::group_sizes(n, 10).into_iter().enumerate() {
        let members = &idx[pos..pos + s];
        pos += s;
        if s == 0 {
            continue;
        }
        let e: f64 = members.iter().map(|&i| probabilities[i]).sum();
        let o: f64 = members.iter().map(|&i| y(labels[i])).sum();
        let denom = e * (1.0 - e / s as f64);
        if denom > 0.0 {
            hl += (o - e).powi(2) / denom;
        }
        calibration.push(CalibrationBin {
            bin: b as u8 + 1,
            customers: s,
            mean_predicted: e / s as f64,
            observed_rate: o / s as f64,
        });
    }
    Ok(Evaluation {
        customers: n,
        churned,
        base_rate: churned as f64 / n as f64,
        auc: auc(probabilities, labels),
        top_decile: top_share_metrics(probabilities, labels, 0.1),
        brier,
        log_loss,
        calibration,
        hosmer_lemeshow: hl,
    })
}

/// A trained model with its in-sample and out-of-time evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport<M> {
    /// The model (save it with its `to_json`).
    pub model: M,
    /// Training cutoff.
    pub train_cutoff: NaiveDate,
    /// Test cutoff (train cutoff + window).
    pub test_cutoff: NaiveDate,
    /// Label window, days.
    pub window_days: i64,
    /// Quality on the training rows.
    pub train: Evaluation,
    /// Quality on the later, unseen period; `None` when that period has no customers.
    pub test: Option<Evaluation>,
}

/// The logistic model's training report.
pub type ChurnTrainingReport = TrainingReport<ChurnModel>;

impl<M> TrainingReport<M> {
    /// Evaluates a trained `model` on its training set and on the later test set, whatever the
    /// kind of model: `predict` gives its probabilities for a feature table.
    pub fn evaluate<E: From<ChurnError>>(
        model: M,
        predict: impl Fn(&M, &FeatureTable) -> Result<Vec<f64>, E>,
        train: &LabelledSet,
        test: &LabelledSet,
        window_days: i64,
    ) -> Result<Self, E> {
        let train_eval = evaluate(&predict(&model, &train.table)?, &train.labels)?;
        let test_eval = if test.table.rows.is_empty() {
            None
        } else {
            Some(evaluate(&predict(&model, &test.table)?, &test.labels)?)
        };
        Ok(TrainingReport {
            model,
            train_cutoff: train.cutoff,
            test_cutoff: test.cutoff,
            window_days,
            train: train_eval,
            test: test_eval,
        })
    }
}

/// Builds the time split, trains on the earlier period and evaluates on the later one.
pub fn train_with_holdout(
    histories: &[CustomerHistory],
    train_cutoff: NaiveDate,
    window_days: i64,
    features: &FeatureConfig,
    logistic: &LogisticConfig,
) -> Result<ChurnTrainingReport, ChurnError> {
    let (train, test) = time_split(histories, train_cutoff, window_days, features)?;
    fit_and_evaluate(&train, &test, window_days, Some(*features), logistic)
}

/// Trains on `train` and evaluates on `test` (columns matched by name). Use it instead of
/// [`train_with_holdout`] when extra columns are added to both sets, e.g. `p_alive` from a
/// BG/NBD fit at each cutoff:
///
/// ```text
/// let (train, test) = time_split(&histories, cutoff, window, &features)?;
/// let train = LabelledSet { table: train.table.with_column("p_alive", &p_alive_at_cutoff), ..train };
/// let test = LabelledSet { table: test.table.with_column("p_alive", &p_alive_at_test_cutoff), ..test };
/// let report = fit_and_evaluate(&train, &test, window, Some(features), &LogisticConfig::default())?;
/// ```
///
/// When scoring with such a model, add the same columns to the scoring table.
pub fn fit_and_evaluate(
    train: &LabelledSet,
    test: &LabelledSet,
    window_days: i64,
    features: Option<FeatureConfig>,
    logistic: &LogisticConfig,
) -> Result<ChurnTrainingReport, ChurnError> {
    let mut model = fit(&train.table, &train.labels, logistic)?;
    model.feature_config = features;
    TrainingReport::evaluate(model, ChurnModel::predict, train, test, window_days)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use rand_distr::{Distribution, Exp, StandardNormal};

    fn table(names: &[&str], rows: Vec<Vec<f64>>) -> FeatureTable {
        FeatureTable {
            names: names.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, v)| FeatureRow {
                    customer_id: format!("c{i:05}"),
                    values: v.into_iter().map(Some).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn saved_models_carry_their_kind_and_old_files_read_as_logistic() {
        let mut rng = StdRng::seed_from_u64(11);
        let rows: Vec<Vec<f64>> = (0..600)
            .map(|_| vec![rng.random_range(0.0..100.0), rng.random()])
            .collect();
        let y: Vec<bool> = rows
            .iter()
            .map(|r| rng.random::<f64>() < r[0] / 100.0)
            .collect();
        let t = table(&["recency_days", "noise"], rows);
        let mut lr = fit(&t, &y, &LogisticConfig::default()).unwrap();
        lr.feature_config = Some(FeatureConfig::default());
        // the logistic-only format: no kind
        let old = lr.to_json().unwrap();
        assert!(!old.contains("\"kind\""));
        let back = SavedChurnModel::from_json(&old).unwrap();
        assert_eq!(back, SavedChurnModel::Logistic(lr.clone()));
        assert_eq!(back.score(&t).unwrap(), lr.score(&t).unwrap());
        // tagged files of both kinds round-trip
        let tagged = SavedChurnModel::Logistic(lr.clone()).to_json().unwrap();
        assert!(tagged.contains("\"kind\": \"logistic\""));
        assert_eq!(SavedChurnModel::from_json(&tagged).unwrap(), back);
        let gbm = crate::gbm::fit(&t, &y, &crate::gbm::GbmOptions::default()).unwrap();
        let saved = SavedChurnModel::Gbm(gbm.clone());
        let text = saved.to_json().unwrap();
        let read = SavedChurnModel::from_json(&text).unwrap();
        assert_eq!(read.kind(), "gbm");
        assert_eq!(read.predict(&t).unwrap(), gbm.predict(&t).unwrap());
        assert_eq!(read.score(&t).unwrap(), gbm.score(&t).unwrap());
        // a bad kind or inconsistent dimensions are errors
        let unknown = tagged.replace("\"logistic\"", "\"forest\"");
        assert!(SavedChurnModel::from_json(&unknown).is_err());
        let mut short = lr;
        short.means.pop();
        let text = SavedChurnModel::Logistic(short).to_json().unwrap();
        assert!(SavedChurnModel::from_json(&text).is_err());
    }

    #[test]
    fn cholesky_solves() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&a, &[2.0, 1.0]).unwrap();
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-12);
        assert!((2.0 * x[0] + 3.0 * x[1] - 1.0).abs() < 1e-12);
        assert!(cholesky_solve(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0]).is_none());
    }

    #[test]
    fn auc_known_values() {
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(auc(&[0.5, 0.6], &[true, true]), None);
    }

    /// Simulate from a known logistic model and recover its coefficients.
    #[test]
    fn recovers_simulated_coefficients() {
        let mut rng = StdRng::seed_from_u64(7);
        let truth = [-1.0, 1.5, -2.0, 0.5];
        let n = 20_000;
        let mut rows = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        let mut true_p = Vec::with_capacity(n);
        for _ in 0..n {
            let x1: f64 = StandardNormal.sample(&mut rng);
            let x2: f64 = 3.0
                + 2.0 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
            let x3: f64 = rng.random_range(0.0..10.0);
            let eta =
                truth[0] + truth[1] * x1 + truth[2] * (x2 - 3.0) / 2.0 + truth[3] * (x3 - 5.0);
            let p = sigmoid(eta);
            rows.push(vec![x1, x2, x3]);
            labels.push(rng.random::<f64>() < p);
            true_p.push(p);
        }
        let t = table(&["x1", "x2", "x3"], rows);
        let m = fit(
            &t,
            &labels,
            &LogisticConfig {
                lambda: 1e-3,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(m.training.converged);
        assert!(m.training.iterations < 15);
        let (b0, b) = m.raw_coefficients();
        let expect_b = [truth[1], truth[2] / 2.0, truth[3]];
        let expect_b0 = truth[0] - truth[2] * 3.0 / 2.0 - truth[3] * 5.0;
        for (got, want) in b.iter().zip(expect_b) {
            assert!((got - want).abs() < 0.08, "{got} vs {want}");
        }
        assert!((b0 - expect_b0).abs() < 0.25, "{b0} vs {expect_b0}");
        let probs = m.predict(&t).unwrap();
        let ours = auc(&probs, &labels).unwrap();
        let oracle = auc(&true_p, &labels).unwrap();
        assert!(
            ours > 0.8 && (ours - oracle).abs() < 0.005,
            "{ours} vs {oracle}"
        );
        let ev = evaluate(&probs, &labels).unwrap();
        // well calibrated in every decile
        for bin in &ev.calibration {
            assert!(
                (bin.mean_predicted - bin.observed_rate).abs() < 0.05,
                "{bin:?}"
            );
        }
        assert!(ev.top_decile.lift > 1.5);
    }

    /// Agreement with scikit-learn `LogisticRegression(C = 1/λ)` after `StandardScaler`, fixture
    /// from `tests/reference/segments_reference.py`.
    #[test]
    fn agrees_with_scikit_learn() {
        let text = include_str!("../tests/reference/segments_logit_data.csv");
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        let names: Vec<&str> = headers[1..headers.len() - 1]
            .iter()
            .map(|s| s.as_str())
            .collect();
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for r in rdr.records() {
            let r = r.unwrap();
            let k = r.len();
            rows.push(
                (1..k - 1)
                    .map(|j| r[j].parse::<f64>().unwrap())
                    .collect::<Vec<_>>(),
            );
            labels.push(&r[k - 1] == "1");
        }
        let t = table(&names, rows);
        let reference: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/reference/segments_logit_sklearn.json"
        ))
        .unwrap();
        for case in reference["fits"].as_array().unwrap() {
            let lambda = case["lambda"].as_f64().unwrap();
            let m = fit(
                &t,
                &labels,
                &LogisticConfig {
                    lambda,
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(m.training.converged);
            let want_b = case["intercept"].as_f64().unwrap();
            assert!(
                (m.intercept - want_b).abs() < 1e-5,
                "λ={lambda}: {} vs {want_b}",
                m.intercept
            );
            for (got, want) in m.coefficients.iter().zip(case["coef"].as_array().unwrap()) {
                let want = want.as_f64().unwrap();
                assert!((got - want).abs() < 1e-5, "λ={lambda}: {got} vs {want}");
            }
            let probs = m.predict(&t).unwrap();
            let want_auc = case["auc"].as_f64().unwrap();
            assert!((auc(&probs, &labels).unwrap() - want_auc).abs() < 1e-9);
            let ev = evaluate(&probs, &labels).unwrap();
            assert!(
                (ev.top_decile.precision - case["precision_top_decile"].as_f64().unwrap()).abs()
                    < 1e-12
            );
            assert!(
                (ev.top_decile.recall - case["recall_top_decile"].as_f64().unwrap()).abs() < 1e-12
            );
            assert!((ev.brier - case["brier"].as_f64().unwrap()).abs() < 1e-6);
            assert!((ev.log_loss - case["log_loss"].as_f64().unwrap()).abs() < 1e-6);
        }
        // AUC with heavy ties against sklearn's roc_auc_score
        let ties = &reference["auc_ties"];
        let s: Vec<f64> = ties["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let l: Vec<bool> = ties["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap() == 1)
            .collect();
        assert!((auc(&s, &l).unwrap() - ties["auc"].as_f64().unwrap()).abs() < 1e-12);
    }

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, 1, 1).unwrap() + chrono::Duration::days(n)
    }

    /// Simulated customers who buy at their own rate until they lapse; the out-of-time holdout
    /// should rank leavers well above chance.
    #[test]
    fn holdout_on_simulated_histories() {
        let mut rng = StdRng::seed_from_u64(11);
        let horizon = 730;
        let mut histories = Vec::new();
        for i in 0..1500 {
            let start = rng.random_range(0..300);
            let rate: f64 = rng.random_range(0.01..0.08); // purchases per day
            let life = Exp::new(1.0 / 400.0).unwrap().sample(&mut rng) as i64;
            let end = (start + life).min(horizon);
            let mut t = start as f64;
            let mut purchases = vec![(day(start), 50.0)];
            loop {
                t += Exp::new(rate).unwrap().sample(&mut rng);
                if t as i64 >= end {
                    break;
                }
                purchases.push((day(t as i64), rng.random_range(10.0..200.0)));
            }
            let complaints = if rng.random::<f64>() < 0.2 {
                vec![day(start + 10)]
            } else {
                vec![]
            };
            histories.push(CustomerHistory {
                customer_id: format!("k{i}"),
                purchases,
                complaints,
                satisfaction: vec![],
            });
        }
        let rep = train_with_holdout(
            &histories,
            day(480),
            120,
            &FeatureConfig::default(),
            &LogisticConfig::default(),
        )
        .unwrap();
        assert_eq!(rep.test_cutoff, day(600));
        assert!(rep.model.feature_names.contains(&"complaints".to_string()));
        assert!(
            !rep.model
                .feature_names
                .contains(&"satisfaction".to_string())
        );
        let test = rep.test.unwrap();
        assert!(test.auc.unwrap() > 0.75, "{:?}", test.auc);
        assert!(test.top_decile.lift > 1.2);
        // recency raises churn risk
        let r = rep
            .model
            .feature_names
            .iter()
            .position(|n| n == "recency_days")
            .unwrap();
        assert!(rep.model.coefficients[r] > 0.0);
        // save and load round-trip, then score
        let json = rep.model.to_json().unwrap();
        let back = ChurnModel::from_json(&json).unwrap();
        assert_eq!(back, rep.model);
        // scoring data without complaints still gets the complaints column the model needs
        let no_complaints: Vec<CustomerHistory> = histories
            .iter()
            .map(|h| CustomerHistory {
                complaints: vec![],
                ..h.clone()
            })
            .collect();
        let table = back.build_features(&no_complaints, day(720));
        assert_eq!(table.names, back.feature_names);
        let scores = back.score(&table).unwrap();
        assert_eq!(scores.len(), table.rows.len());
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(&s.probability)));
        let top = scores.iter().filter(|s| s.risk_decile == 1).count();
        assert_eq!(top, scores.len().div_ceil(10));
        // too short a history is an error, not a silent result
        assert!(matches!(
            time_split(&histories, day(600), 120, &FeatureConfig::default()),
            Err(ChurnError::InsufficientHistory { .. })
        ));
    }

    #[test]
    fn histories_from_transactions_merge_days() {
        use crate::transactions::TransactionsBuilder;
        let mut b = TransactionsBuilder::new();
        b.push("z", day(3), 1.0, None, None, None).unwrap();
        b.push("y", day(1), 2.0, None, None, None).unwrap();
        b.push("y", day(1), 3.0, None, None, None).unwrap();
        let h = histories_from_transactions(&b.build());
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].customer_id, "y");
        assert_eq!(h[0].purchases, vec![(day(1), 5.0)]);
    }

    #[test]
    fn complaints_and_satisfaction_attach_by_customer_and_become_features() {
        use crate::transactions::TransactionsBuilder;
        let mut b = TransactionsBuilder::new();
        b.push("b", day(10), 1.0, None, None, None).unwrap();
        b.push("a", day(20), 2.0, None, None, None).unwrap();
        let mut h = histories_from_transactions(&b.build());
        let unmatched = attach_complaints(
            &mut h,
            vec![
                ("b".to_string(), day(30)),
                ("b".to_string(), day(200)),
                ("nobody".to_string(), day(40)),
            ],
        );
        assert_eq!(unmatched, 1);
        assert_eq!(
            attach_satisfaction(
                &mut h,
                vec![
                    ("a".to_string(), day(25), 2.0),
                    ("a".to_string(), day(90), 4.0)
                ]
            ),
            0
        );
        let t = build_features(&h, day(100), &FeatureConfig::default());
        let c = t.column("complaints").unwrap();
        let s = t.column("satisfaction").unwrap();
        // a: no complaints, latest answer before the cutoff; b: only the complaint before the
        // cutoff counts, and no answer is missing (filled by the training mean later)
        assert_eq!(t.rows[0].customer_id, "a");
        assert_eq!(t.rows[0].values[c], Some(0.0));
        assert_eq!(t.rows[0].values[s], Some(4.0));
        assert_eq!(t.rows[1].values[c], Some(1.0));
        assert_eq!(t.rows[1].values[s], None);
    }

    #[test]
    fn extra_column_such_as_p_alive() {
        // churn is driven by an external p_alive; the model should find it
        let mut rng = StdRng::seed_from_u64(5);
        let n = 3000;
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut pa = HashMap::new();
        for i in 0..n {
            let p_alive: f64 = rng.random();
            rows.push(vec![rng.random::<f64>()]);
            labels.push(rng.random::<f64>() < 1.0 - p_alive);
            pa.insert(format!("c{i:05}"), p_alive);
        }
        let t = table(&["noise"], rows).with_column("p_alive", &pa);
        let set = LabelledSet {
            cutoff: day(0),
            table: t,
            labels,
        };
        let rep = fit_and_evaluate(&set, &set, 30, None, &LogisticConfig::default()).unwrap();
        let ex = rep.model.explain();
        assert_eq!(ex[1].feature, "p_alive");
        assert!(ex[1].coefficient < -1.0 && ex[1].odds_ratio_per_sd < 0.4);
        assert!(ex[0].coefficient.abs() < 0.15);
        assert!(rep.test.unwrap().auc.unwrap() > 0.75);
        // scoring without the column is an error, not a silent default
        let bare = table(&["noise"], vec![vec![0.5]]);
        assert_eq!(
            rep.model.predict(&bare),
            Err(ChurnError::MissingFeature("p_alive".into()))
        );
    }

    #[test]
    fn features_at_cutoff() {
        let h = CustomerHistory {
            customer_id: "a".into(),
            purchases: vec![
                (day(0), 10.0),
                (day(0), 30.0),
                (day(100), 20.0),
                (day(150), 5.0),
                (day(400), 1.0),
            ],
            complaints: vec![day(120), day(500)],
            satisfaction: vec![(day(50), 3.0), (day(140), 4.0), (day(300), 1.0)],
        };
        let t = build_features(
            std::slice::from_ref(&h),
            day(180),
            &FeatureConfig::default(),
        );
        assert_eq!(
            t.names,
            [
                "recency_days",
                "log_frequency",
                "log_monetary",
                "tenure_days",
                "trend",
                "complaints",
                "satisfaction"
            ]
        );
        let v: Vec<f64> = t.rows[0].values.iter().map(|v| v.unwrap()).collect();
        assert_eq!(v[0], 30.0);
        assert!((v[1] - 3f64.ln_1p()).abs() < 1e-12);
        assert!((v[2] - (65.0f64 / 3.0).ln_1p()).abs() < 1e-12);
        assert_eq!(v[3], 180.0);
        // last 90 days: days 100 and 150; the 90 days before: none (day 0 is 180 days back,
        // outside both windows) → trend +1
        assert_eq!(v[4], 1.0);
        assert_eq!(v[5], 1.0);
        assert_eq!(v[6], 4.0);
        let labels = churn_labels(&[h], day(180), 180);
        assert!(labels["a"]);
    }

    proptest! {
        #[test]
        fn probabilities_bounded_and_row_order_invariant(
            data in prop::collection::vec((-5.0f64..5.0, -5.0f64..5.0, any::<bool>()), 8..60)
        ) {
            let labels: Vec<bool> = data.iter().map(|d| d.2).collect();
            prop_assume!(labels.iter().any(|l| *l) && labels.iter().any(|l| !*l));
            let t = table(&["a", "b"], data.iter().map(|d| vec![d.0, d.1]).collect());
            let m = fit(&t, &labels, &LogisticConfig::default()).unwrap();
            let p = m.predict(&t).unwrap();
            prop_assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
            let mut rev = t.clone();
            rev.rows.reverse();
            let mut rl = labels.clone();
            rl.reverse();
            let m2 = fit(&rev, &rl, &LogisticConfig::default()).unwrap();
            for (a, b) in m.coefficients.iter().zip(&m2.coefficients) {
                prop_assert!((a - b).abs() < 1e-8);
            }
            let ev = evaluate(&p, &labels).unwrap();
            if let Some(a) = ev.auc { prop_assert!((0.0..=1.0).contains(&a)); }
            prop_assert!((0.0..=1.0).contains(&ev.top_decile.precision));
            prop_assert!((0.0..=1.0).contains(&ev.top_decile.recall));
        }
    }
}
