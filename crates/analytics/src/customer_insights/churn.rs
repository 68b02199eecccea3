//! Churn risk from a sales ledger and its invoices, as the product's refresh and
//! `guanxi analytics churn` compute it: the purchase features of [`crate::churn`] plus, when
//! invoices are known, how long the customer takes to pay (`days_to_pay`, amount-weighted, open
//! invoices counting with their age at the cutoff) — slow payment often comes before a customer
//! stops buying.
//!
//! Training is honest about time: features at `as_of − 2·window`, labelled by the window after
//! it; evaluated on features at `as_of − window`, labelled by the last window, which the model
//! never saw. A model whose out-of-time AUC is below the floor is refused with its evaluation, so
//! an admin can see why and the last good model stays in use.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::churn::{
    self, BookedReturn, ChurnError, ChurnModel, ChurnScore, ChurnTrainingReport, CustomerHistory,
    FeatureConfig, FeatureTable, LabelledSet, LogisticConfig,
};
use crate::tiers::{self, Invoice};
use crate::transactions::Transactions;

/// The payment feature's name.
pub const DAYS_TO_PAY: &str = "days_to_pay";

/// Settings of the product's churn model (the CLI's `churn` settings key).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnOptions {
    /// Churned = no purchase in the next this many days.
    pub window_days: i64,
    /// L2 penalty of the logistic regression.
    pub lambda: f64,
    /// The lowest out-of-time AUC a model may have to be used.
    pub floor_auc: f64,
}

impl Default for ChurnOptions {
    fn default() -> Self {
        ChurnOptions {
            window_days: 180,
            lambda: 1.0,
            floor_auc: 0.6,
        }
    }
}

impl ChurnOptions {
    /// Checks the settings, naming the first wrong one.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3650).contains(&self.window_days) {
            return Err(format!(
                "churn.window_days must be 1–3650 days (got {})",
                self.window_days
            ));
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(format!("churn.lambda must be ≥ 0 (got {})", self.lambda));
        }
        if !(0.5..=1.0).contains(&self.floor_auc) {
            return Err(format!(
                "churn.floor_auc must be 0.5–1 (got {})",
                self.floor_auc
            ));
        }
        Ok(())
    }
}

/// Each customer's days to pay over the invoices issued on or before `cutoff`.
pub fn days_to_pay_at(invoices: &[Invoice], cutoff: NaiveDate) -> HashMap<String, f64> {
    tiers::payment_behaviour(invoices, cutoff, None, Some(cutoff))
        .into_iter()
        .filter_map(|(id, b)| b.days_to_pay.map(|d| (id, d)))
        .collect()
}

/// Adds `days_to_pay` at the set's cutoff (nothing without invoices).
pub fn with_payments(set: LabelledSet, invoices: &[Invoice]) -> LabelledSet {
    if invoices.is_empty() {
        return set;
    }
    let days = days_to_pay_at(invoices, set.cutoff);
    LabelledSet {
        table: set.table.with_column(DAYS_TO_PAY, &days),
        ..set
    }
}

/// What a churn model learns from: the purchase histories, the returns as booked (so that none
/// booked after a cutoff is seen before it) and the invoices for days to pay.
#[derive(Debug, Clone, Copy)]
pub struct TrainingLedger<'a> {
    pub histories: &'a [CustomerHistory],
    pub returns: &'a [BookedReturn],
    pub invoices: &'a [Invoice],
}

/// Trains a logistic model on features at `train_cutoff` labelled by the following window and
/// evaluates it on the next window, with `days_to_pay` when there are invoices. The data run
/// through `data_end` (the last purchase when `None`). The model returned is then refitted on
/// the later window ([`refit`]): the evaluation says how well this way of modelling predicts a
/// period it has not seen; the refitted model knows the latest period's churn rate.
pub fn train_at(
    ledger: TrainingLedger<'_>,
    train_cutoff: NaiveDate,
    window_days: i64,
    features: FeatureConfig,
    lambda: f64,
    data_end: Option<NaiveDate>,
) -> Result<ChurnTrainingReport, ChurnError> {
    let TrainingLedger {
        histories,
        returns,
        invoices,
    } = ledger;
    let (train, test) = match data_end {
        Some(end) => churn::time_split_through(
            histories,
            returns,
            train_cutoff,
            window_days,
            &features,
            end,
        )?,
        None => churn::time_split(histories, train_cutoff, window_days, &features)?,
    };
    let (train, test) = (
        with_payments(train, invoices),
        with_payments(test, invoices),
    );
    let mut report = churn::fit_and_evaluate(
        &train,
        &test,
        window_days,
        Some(features),
        &LogisticConfig {
            lambda,
            ..LogisticConfig::default()
        },
    )?;
    report.model = refit(&test, features, lambda)?;
    Ok(report)
}

/// Fits the model to be used on the latest labelled window (the evaluation's test set): churn
/// rates move — the year a competitor opens is not the year before — and a model fitted on the
/// older window would under- or over-state every risk by the difference.
pub fn refit(
    latest: &LabelledSet,
    features: FeatureConfig,
    lambda: f64,
) -> Result<ChurnModel, ChurnError> {
    let mut model = churn::fit(
        &latest.table,
        &latest.labels,
        &LogisticConfig {
            lambda,
            ..LogisticConfig::default()
        },
    )?;
    model.feature_config = Some(features);
    Ok(model)
}

/// A model's scoring features at `as_of`, with `days_to_pay` when the model uses it.
pub fn features_at(
    model: &ChurnModel,
    histories: &[CustomerHistory],
    invoices: &[Invoice],
    as_of: NaiveDate,
) -> FeatureTable {
    let table = model.build_features(histories, as_of);
    if model.feature_names.iter().any(|f| f == DAYS_TO_PAY) {
        table.with_column(DAYS_TO_PAY, &days_to_pay_at(invoices, as_of))
    } else {
        table
    }
}

/// The purchase features the product trains on: the standard ones without tenure, with the
/// silence ratio (see [`FeatureConfig::tenure`] and [`FeatureConfig::silence`]; the CLI's
/// `churn train --no-tenure --silence-ratio`).
pub fn product_features() -> FeatureConfig {
    FeatureConfig {
        tenure: false,
        silence: true,
        ..FeatureConfig::default()
    }
}

/// Why a trained model is not used.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Refusal {
    /// The ledger does not reach back two windows before the as-of date.
    TooLittleHistory,
    /// Everyone churned, or no one did, in a window: nothing to learn or to measure.
    OneClass,
    /// The out-of-time AUC is below the floor.
    BelowFloor { auc: f64, floor: f64 },
}

impl Refusal {
    /// The code, as stored and translated.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::TooLittleHistory => "too_little_history",
            Refusal::OneClass => "one_class",
            Refusal::BelowFloor { .. } => "below_floor",
        }
    }
}

/// The product's training as of a date: the model with its evaluations, or why there is none;
/// a model that trained but scores below the floor comes with its report and its refusal.
#[derive(Clone, Debug)]
pub struct Training {
    pub report: Option<ChurnTrainingReport>,
    pub refusal: Option<Refusal>,
}

impl Training {
    /// The model, when it may be used.
    pub fn accepted(&self) -> Option<&ChurnModel> {
        match (&self.report, self.refusal) {
            (Some(r), None) => Some(&r.model),
            _ => None,
        }
    }
}

/// Trains as of `as_of` (train cutoff `as_of − 2·window`) and applies the floor. `returns` are
/// the returns of `tx` with the days they were booked, so each cutoff sees only those booked by
/// then.
pub fn train(
    tx: &Transactions,
    returns: &[BookedReturn],
    invoices: &[Invoice],
    as_of: NaiveDate,
    options: &ChurnOptions,
) -> Result<Training, ChurnError> {
    let histories: Vec<CustomerHistory> = churn::histories_from_transactions(tx)
        .into_iter()
        .map(|mut h| {
            h.purchases.retain(|(d, _)| *d <= as_of);
            h
        })
        .filter(|h| !h.purchases.is_empty())
        .collect();
    let cutoff = as_of - Duration::days(2 * options.window_days);
    let refused = |refusal| {
        Ok(Training {
            report: None,
            refusal: Some(refusal),
        })
    };
    let earliest = histories
        .iter()
        .filter_map(|h| h.purchases.iter().map(|(d, _)| *d).min())
        .min();
    if earliest.is_none_or(|e| e > cutoff) {
        return refused(Refusal::TooLittleHistory);
    }
    let invoices: Vec<Invoice> = invoices
        .iter()
        .filter(|i| i.invoice_date <= as_of)
        .cloned()
        .collect();
    let ledger = TrainingLedger {
        histories: &histories,
        returns,
        invoices: &invoices,
    };
    let report = match train_at(
        ledger,
        cutoff,
        options.window_days,
        product_features(),
        options.lambda,
        Some(as_of),
    ) {
        Ok(r) => r,
        Err(ChurnError::OneClass | ChurnError::NoRows) => return refused(Refusal::OneClass),
        Err(ChurnError::InsufficientHistory { .. }) => return refused(Refusal::TooLittleHistory),
        Err(e) => return Err(e),
    };
    let refusal = match report.test.as_ref().and_then(|t| t.auc) {
        None => Some(Refusal::OneClass),
        Some(auc) if auc < options.floor_auc => Some(Refusal::BelowFloor {
            auc,
            floor: options.floor_auc,
        }),
        Some(_) => None,
    };
    Ok(Training {
        report: Some(report),
        refusal,
    })
}

/// Scores every customer with a purchase on or before `as_of` with `model`.
pub fn score(
    model: &ChurnModel,
    tx: &Transactions,
    invoices: &[Invoice],
    as_of: NaiveDate,
) -> Result<Vec<ChurnScore>, ChurnError> {
    let histories = churn::histories_from_transactions(tx);
    let table = features_at(model, &histories, invoices, as_of);
    if table.rows.is_empty() {
        return Ok(Vec::new());
    }
    model.score(&table)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::TransactionsBuilder;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 400 customers buying every 10–60 days for three years; a fifth stop at a random day in
    /// the last eighteen months. Churners pay slowly.
    fn ledger() -> (Transactions, Vec<Invoice>) {
        let mut rng = StdRng::seed_from_u64(5);
        let mut b = TransactionsBuilder::new();
        let mut invoices = Vec::new();
        let start = d("2022-01-01");
        let end = d("2024-12-31");
        for c in 0..400 {
            let id = format!("c{c:03}");
            let gap = rng.random_range(10..60);
            let churner = c % 5 == 0;
            let stop = if churner {
                end - Duration::days(rng.random_range(30..540))
            } else {
                end
            };
            let mut day = start + Duration::days(rng.random_range(0..60));
            while day <= stop {
                b.push(&id, day, 100.0, Some(60.0), None, None).unwrap();
                let pay = if churner { 70 } else { 20 } + rng.random_range(0..20);
                invoices.push(Invoice {
                    customer_id: id.clone(),
                    invoice_date: day,
                    paid_date: Some(day + Duration::days(pay)),
                    amount: 100.0,
                    written_off: false,
                    written_off_on: None,
                });
                day += Duration::days(gap + rng.random_range(-5..=5));
            }
        }
        (b.build(), invoices)
    }

    #[test]
    fn a_model_trained_on_the_ledger_ranks_the_leavers_first() {
        let (tx, invoices) = ledger();
        let t = train(
            &tx,
            &[],
            &invoices,
            d("2024-12-31"),
            &ChurnOptions::default(),
        )
        .unwrap();
        let model = t.accepted().expect("accepted");
        assert!(model.feature_names.iter().any(|f| f == DAYS_TO_PAY));
        let auc = t
            .report
            .as_ref()
            .unwrap()
            .test
            .as_ref()
            .unwrap()
            .auc
            .unwrap();
        assert!(auc > 0.8, "{auc}");
        let scores = score(model, &tx, &invoices, d("2024-12-31")).unwrap();
        assert_eq!(scores.len(), 400);
        let mean = |churner: bool| {
            let v: Vec<f64> = scores
                .iter()
                .filter(|s| (s.customer_id[1..].parse::<u32>().unwrap() % 5 == 0) == churner)
                .map(|s| s.probability)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(
            mean(true) > mean(false) + 0.2,
            "{} {}",
            mean(true),
            mean(false)
        );
    }

    #[test]
    fn a_short_ledger_and_a_weak_model_are_refused_with_their_reason() {
        let (tx, invoices) = ledger();
        // Two windows of 600 days reach back before the first purchase.
        let long = ChurnOptions {
            window_days: 600,
            ..ChurnOptions::default()
        };
        let t = train(&tx, &[], &invoices, d("2024-12-31"), &long).unwrap();
        assert_eq!(t.refusal, Some(Refusal::TooLittleHistory));
        assert!(t.accepted().is_none());
        // A floor no model reaches keeps the report (for the admin) but refuses the model.
        let strict = ChurnOptions {
            floor_auc: 1.0,
            ..ChurnOptions::default()
        };
        let t = train(&tx, &[], &invoices, d("2024-12-31"), &strict).unwrap();
        assert!(matches!(t.refusal, Some(Refusal::BelowFloor { .. })));
        assert!(t.report.is_some() && t.accepted().is_none());
    }

    #[test]
    fn only_rows_up_to_the_as_of_date_are_read() {
        let (tx, invoices) = ledger();
        let early = train(
            &tx,
            &[],
            &invoices,
            d("2024-06-30"),
            &ChurnOptions::default(),
        )
        .unwrap();
        let r = early.report.unwrap();
        assert_eq!(r.test_cutoff, d("2024-06-30") - Duration::days(180));
        let settings = ChurnOptions {
            window_days: 0,
            ..ChurnOptions::default()
        };
        assert!(settings.validate().unwrap_err().contains("window_days"));
    }
}
