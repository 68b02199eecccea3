//! `guanxi analytics churn train|score`: churn propensity by regularised logistic regression or,
//! with `--model gbm`, gradient-boosted trees, with an out-of-time evaluation, and scoring with a
//! saved model of either kind (the file says which; files without a kind are logistic).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use guanxi_analytics::bgnbd;
use guanxi_analytics::churn::{
    self, BookedReturn, CalibrationBin, ChurnScore, CoefficientRow, CustomerHistory, Evaluation,
    FeatureConfig, LabelledSet, LogisticConfig, RiskBand, SavedChurnModel,
};
use guanxi_analytics::customer_insights::churn as insight_churn;
use guanxi_analytics::gbm::{self, GbmOptions, Importance};
use guanxi_analytics::transactions::{Period, RepeatData, SummaryOptions, Transactions};
use serde::Serialize;

use super::input::{
    Format, InputArgs, Tabular, as_of_or_last, load, load_side_file, num, parse_date,
    read_invoices, safe_text, write_csv, write_json, write_table,
};

/// The name of the optional BG/NBD feature.
const P_ALIVE: &str = "p_alive";

/// `guanxi analytics churn …`.
#[derive(Subcommand, Debug)]
pub enum ChurnCommand {
    /// Train on features at --cutoff labelled by the following window, evaluate on the next
    /// window (out of time), write the model to --model-out and print the evaluation.
    Train(TrainArgs),
    /// Score customers at --as-of with a model written by `churn train`.
    Score(ScoreArgs),
}

/// Arguments of `guanxi analytics churn train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Training cutoff: features from the history up to this day, label "churned" = no purchase
    /// in the following --window-days. The test cutoff is cutoff + window, so the data must reach
    /// cutoff + 2 × window.
    #[arg(long, value_parser = parse_date)]
    pub cutoff: NaiveDate,
    /// Label window in days.
    #[arg(long, default_value_t = 90)]
    pub window_days: i64,
    /// The last day the file covers, when no one bought on it (a ledger exported as of a
    /// date). Default: the last purchase in the file.
    #[arg(long, value_parser = parse_date)]
    pub data_end: Option<NaiveDate>,
    /// Returns with the days they were booked, one row per return:
    /// customer_id,order_date,booked_on,amount (as `guanxi insights export-ledger` writes
    /// returns.csv beside transactions netted on their orders' dates). Features at each cutoff
    /// leave out the returns booked after it, so the test does not see its future.
    #[arg(long, value_name = "FILE")]
    pub booked_returns: Option<PathBuf>,
    /// Which model: `logistic` (L2 logistic regression) or `gbm` (gradient-boosted trees, which
    /// can learn thresholds and interactions).
    #[arg(long, value_enum, default_value_t = ModelKind::Logistic)]
    pub model: ModelKind,
    /// L2 penalty λ: on the logistic coefficients (scikit-learn C = 1/λ), or with `--model gbm`
    /// on the tree leaf values.
    #[arg(long, default_value_t = 1.0)]
    pub lambda: f64,
    /// GBM only: upper limit on the number of trees (early stopping usually ends sooner).
    #[arg(long, value_name = "N")]
    pub trees_max: Option<usize>,
    /// GBM only: maximum tree depth (1 = no interactions).
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// GBM only: learning rate (shrinkage), in (0, 1].
    #[arg(long, value_name = "RATE")]
    pub learning_rate: Option<f64>,
    /// Window in days of the purchase-trend feature.
    #[arg(long, default_value_t = FeatureConfig::default().trend_window_days)]
    pub trend_window_days: i64,
    /// Add the BG/NBD probability alive (fitted at each cutoff) as a feature.
    #[arg(long)]
    pub p_alive: bool,
    /// Leave out `tenure_days` (as the product's refresh does: a population that joined at
    /// about the same time is older at scoring than at training, and tenure extrapolates).
    #[arg(long)]
    pub no_tenure: bool,
    /// Add `silence_ratio`: days since the last purchase over the customer's usual days
    /// between purchases (as the product's refresh does).
    #[arg(long)]
    pub silence_ratio: bool,
    /// Logistic only: after the evaluation, refit the model on the later (test) window and save
    /// that one, as the product's refresh does; the printed evaluation stays that of the model
    /// trained at --cutoff.
    #[arg(long)]
    pub refit: bool,
    #[command(flatten)]
    pub events: EventArgs,
    /// Where to write the trained model (JSON).
    #[arg(long, value_name = "FILE")]
    pub model_out: PathBuf,
}

/// The model family of `churn train --model`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// L2-regularised logistic regression.
    Logistic,
    /// Gradient-boosted decision trees.
    Gbm,
}

/// Arguments of `guanxi analytics churn score`.
#[derive(Args, Debug)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// A model written by `guanxi analytics churn train`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Scoring date (default: the last transaction date in the file).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub events: EventArgs,
}

/// Service events that become churn features.
#[derive(Args, Debug)]
pub struct EventArgs {
    /// Complaints CSV, one row per complaint: customer_id,date (optional case_id, category).
    /// Adds the feature `complaints`: the count in the year before the cutoff.
    #[arg(long, value_name = "FILE")]
    pub complaints: Option<PathBuf>,
    /// Satisfaction CSV, one row per survey answer: customer_id,date,score (optional
    /// survey_id; any scale, higher = more satisfied). Adds the feature `satisfaction`: the latest
    /// score on or before the cutoff.
    #[arg(long, value_name = "FILE")]
    pub satisfaction: Option<PathBuf>,
    /// Payments (回款) CSV, one row per invoice: customer_id,invoice_date and optionally
    /// paid_date, amount, written_off (as `analytics tiers --payments`). Adds the feature
    /// `days_to_pay`: amount-weighted days from invoice to payment over the invoices issued by
    /// the cutoff, open ones counting with their age.
    #[arg(long, value_name = "FILE")]
    pub payments: Option<PathBuf>,
}

/// The returns file of `--booked-returns`.
fn read_booked_returns(path: &Path, skip_bad_rows: bool) -> anyhow::Result<Vec<BookedReturn>> {
    let mut out = Vec::new();
    load_side_file(path, &churn::BOOKED_RETURNS_FILE, skip_bad_rows, |r| {
        let order_date = r.required_date("order_date")?;
        let booked_on = r.required_date("booked_on")?;
        if booked_on < order_date {
            return Err(format!(
                "booked_on {booked_on} is before order_date {order_date}"
            ));
        }
        out.push(BookedReturn {
            customer_id: r.customer_id()?.to_string(),
            order_date,
            booked_on,
            amount: r.required_number("amount")?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Purchase histories with the complaints and satisfaction answers of the given files. Events
/// of customers who never bought are reported on stderr and left out: without purchases there is
/// nobody to score.
fn histories(
    tx: &Transactions,
    events: &EventArgs,
    skip_bad_rows: bool,
) -> anyhow::Result<Vec<CustomerHistory>> {
    let mut histories = churn::histories_from_transactions(tx);
    if let Some(path) = &events.complaints {
        let mut rows = Vec::new();
        load_side_file(path, &churn::COMPLAINTS_FILE, skip_bad_rows, |r| {
            rows.push((r.customer_id()?.to_string(), r.required_date("date")?));
            Ok(())
        })?;
        let unmatched = churn::attach_complaints(&mut histories, rows);
        note_unmatched(path, unmatched, "complaint");
    }
    if let Some(path) = &events.satisfaction {
        let mut rows = Vec::new();
        load_side_file(path, &churn::SATISFACTION_FILE, skip_bad_rows, |r| {
            rows.push((
                r.customer_id()?.to_string(),
                r.required_date("date")?,
                r.required_number("score")?,
            ));
            Ok(())
        })?;
        let unmatched = churn::attach_satisfaction(&mut histories, rows);
        note_unmatched(path, unmatched, "answer");
    }
    Ok(histories)
}

fn note_unmatched(path: &Path, n: usize, what: &str) {
    if n > 0 {
        eprintln!(
            "{}: {n} {what}(s) of customers without purchases left out",
            path.display()
        );
    }
}

/// Runs `churn train` or `churn score`.
pub fn run(cmd: ChurnCommand) -> anyhow::Result<()> {
    match cmd {
        ChurnCommand::Train(a) => train(a),
        ChurnCommand::Score(a) => score(a),
    }
}

/// BG/NBD probability alive per customer id at `as_of` (weekly periods).
fn p_alive_at(tx: &Transactions, as_of: NaiveDate) -> anyhow::Result<HashMap<String, f64>> {
    let summary = tx.summarize(&SummaryOptions {
        period: Period::Week,
        calibration_end: as_of,
        holdout_end: None,
    })?;
    let data = RepeatData::from_summary(&summary)?;
    let fit = bgnbd::fit(&data, &bgnbd::FitOptions::default())
        .with_context(|| format!("fitting BG/NBD at {as_of} for the p_alive feature"))?;
    Ok(summary
        .customers
        .iter()
        .map(|c| {
            (
                tx.customer_id(c.customer).to_string(),
                fit.params.p_alive(c.frequency, c.recency, c.t),
            )
        })
        .collect())
}

fn with_p_alive(tx: &Transactions, set: LabelledSet) -> anyhow::Result<LabelledSet> {
    let values = p_alive_at(tx, set.cutoff)?;
    Ok(LabelledSet {
        table: set.table.with_column(P_ALIVE, &values),
        ..set
    })
}

#[derive(Serialize)]
struct TrainReport<'a> {
    model: &'static str,
    train_cutoff: String,
    test_cutoff: String,
    window_days: i64,
    lambda: f64,
    model_out: String,
    features: &'a [String],
    /// Logistic only: the coefficients.
    #[serde(skip_serializing_if = "Option::is_none")]
    coefficients: Option<&'a [CoefficientRow]>,
    /// GBM only: each feature's share of the split gain (trees have no coefficients).
    #[serde(skip_serializing_if = "Option::is_none")]
    importance: Option<&'a [Importance]>,
    /// GBM only: trees kept after early stopping.
    #[serde(skip_serializing_if = "Option::is_none")]
    trees: Option<usize>,
    train: &'a Evaluation,
    test: Option<&'a Evaluation>,
}

/// What `churn train` computed, whichever the model kind.
struct Trained {
    saved: SavedChurnModel,
    train_cutoff: NaiveDate,
    test_cutoff: NaiveDate,
    window_days: i64,
    train: Evaluation,
    test: Option<Evaluation>,
}

fn fit_model(
    args: &TrainArgs,
    train_set: &LabelledSet,
    test_set: &LabelledSet,
    features: FeatureConfig,
) -> anyhow::Result<Trained> {
    let gbm_only = args.trees_max.is_some() || args.depth.is_some() || args.learning_rate.is_some();
    match args.model {
        ModelKind::Logistic => {
            anyhow::ensure!(
                !gbm_only,
                "--trees-max, --depth and --learning-rate need --model gbm"
            );
            let r = churn::fit_and_evaluate(
                train_set,
                test_set,
                args.window_days,
                Some(features),
                &LogisticConfig {
                    lambda: args.lambda,
                    ..LogisticConfig::default()
                },
            )
            .context("training the churn model")?;
            Ok(Trained {
                saved: SavedChurnModel::Logistic(r.model),
                train_cutoff: r.train_cutoff,
                test_cutoff: r.test_cutoff,
                window_days: r.window_days,
                train: r.train,
                test: r.test,
            })
        }
        ModelKind::Gbm => {
            let d = GbmOptions::default();
            let options = GbmOptions {
                max_trees: args.trees_max.unwrap_or(d.max_trees),
                max_depth: args.depth.unwrap_or(d.max_depth),
                learning_rate: args.learning_rate.unwrap_or(d.learning_rate),
                lambda: args.lambda,
                ..d
            };
            let r = gbm::fit_and_evaluate(
                train_set,
                test_set,
                args.window_days,
                Some(features),
                &options,
            )
            .context("training the boosted-tree churn model")?;
            Ok(Trained {
                saved: SavedChurnModel::Gbm(r.model),
                train_cutoff: r.train_cutoff,
                test_cutoff: r.test_cutoff,
                window_days: r.window_days,
                train: r.train,
                test: r.test,
            })
        }
    }
}

/// One calibration bin with the set it belongs to (CSV and table rows of `churn train`).
struct CalibrationRow<'a> {
    set: &'static str,
    bin: &'a CalibrationBin,
}

impl Tabular for CalibrationRow<'_> {
    fn headers() -> Vec<&'static str> {
        vec!["set", "bin", "customers", "mean_predicted", "observed_rate"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.set.to_string(),
            self.bin.bin.to_string(),
            self.bin.customers.to_string(),
            num(Some(self.bin.mean_predicted), 4),
            num(Some(self.bin.observed_rate), 4),
        ]
    }
}

fn eval_line(e: &Evaluation) -> String {
    format!(
        "{} customers, {:.1}% churned; AUC {}; top decile: precision {:.3}, recall {:.3}, lift {:.2}; Brier {:.4}",
        e.customers,
        100.0 * e.base_rate,
        e.auc.map_or("n/a".to_string(), |a| format!("{a:.3}")),
        e.top_decile.precision,
        e.top_decile.recall,
        e.top_decile.lift,
        e.brier
    )
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.window_days > 0, "--window-days must be positive");
    let tx = load(&args.input)?;
    let histories = histories(&tx, &args.events, args.input.skip_bad_rows)?;
    let features = FeatureConfig {
        trend_window_days: args.trend_window_days,
        tenure: !args.no_tenure,
        silence: args.silence_ratio,
        ..FeatureConfig::default()
    };
    let returns = match &args.booked_returns {
        Some(path) => read_booked_returns(path, args.input.skip_bad_rows)?,
        None => Vec::new(),
    };
    let (mut train_set, mut test_set) = match args.data_end {
        Some(end) => churn::time_split_through(
            &histories,
            &returns,
            args.cutoff,
            args.window_days,
            &features,
            end,
        )?,
        None => {
            anyhow::ensure!(
                returns.is_empty(),
                "--booked-returns needs --data-end (the day the ledger was exported as of)"
            );
            churn::time_split(&histories, args.cutoff, args.window_days, &features)?
        }
    };
    if args.p_alive {
        train_set = with_p_alive(&tx, train_set)?;
        test_set = with_p_alive(&tx, test_set)?;
    }
    if let Some(path) = &args.events.payments {
        let invoices = read_invoices(path, args.input.skip_bad_rows)?;
        train_set = insight_churn::with_payments(train_set, &invoices);
        test_set = insight_churn::with_payments(test_set, &invoices);
    }
    let mut report = fit_model(&args, &train_set, &test_set, features)?;
    if args.refit {
        anyhow::ensure!(
            args.model == ModelKind::Logistic,
            "--refit is for the logistic model"
        );
        report.saved = SavedChurnModel::Logistic(
            insight_churn::refit(&test_set, features, args.lambda)
                .context("refitting the churn model on the later window")?,
        );
    }
    // Everything computed: write the model, then the report (nothing on stdout on failure).
    std::fs::write(&args.model_out, report.saved.to_json()?)
        .with_context(|| format!("cannot write {}", args.model_out.display()))?;
    let (coefficients, importance, trees) = match &report.saved {
        SavedChurnModel::Logistic(m) => (Some(m.explain()), None, None),
        SavedChurnModel::Gbm(m) => (None, Some(m.importance()), Some(m.trees.len())),
    };
    match args.input.format {
        Format::Json => write_json(&TrainReport {
            model: report.saved.kind(),
            train_cutoff: report.train_cutoff.to_string(),
            test_cutoff: report.test_cutoff.to_string(),
            window_days: report.window_days,
            lambda: args.lambda,
            model_out: args.model_out.display().to_string(),
            features: report.saved.feature_names(),
            coefficients: coefficients.as_deref(),
            importance: importance.as_deref(),
            trees,
            train: &report.train,
            test: report.test.as_ref(),
        }),
        Format::Csv | Format::Table => {
            let mut rows: Vec<CalibrationRow<'_>> = report
                .train
                .calibration
                .iter()
                .map(|bin| CalibrationRow { set: "train", bin })
                .collect();
            if let Some(t) = &report.test {
                rows.extend(
                    t.calibration
                        .iter()
                        .map(|bin| CalibrationRow { set: "test", bin }),
                );
            }
            if args.input.format == Format::Csv {
                return write_csv(&rows);
            }
            let mut pre = vec![
                (
                    "train".to_string(),
                    format!(
                        "cutoff {}: {}",
                        report.train_cutoff,
                        eval_line(&report.train)
                    ),
                ),
                (
                    "test (out of time)".to_string(),
                    match &report.test {
                        Some(t) => format!("cutoff {}: {}", report.test_cutoff, eval_line(t)),
                        None => "no customers".to_string(),
                    },
                ),
                (
                    "model".to_string(),
                    format!("{} ({})", args.model_out.display(), report.saved.kind()),
                ),
            ];
            if let Some(t) = trees {
                pre.push(("trees".to_string(), t.to_string()));
            }
            for i in importance.iter().flatten() {
                pre.push((
                    format!("importance {}", i.feature),
                    format!("{:.1}% of split gain", 100.0 * i.gain_share),
                ));
            }
            for c in coefficients.iter().flatten() {
                pre.push((
                    format!("coefficient {}", c.feature),
                    format!(
                        "{:+.4} per sd (odds × {:.3})",
                        c.coefficient, c.odds_ratio_per_sd
                    ),
                ));
            }
            write_table(&pre, &rows)
        }
    }
}

#[derive(Serialize)]
struct ScoreRow<'a> {
    customer_id: &'a str,
    probability: f64,
    risk_decile: u8,
    risk_band: RiskBand,
    risk_band_zh: &'a str,
    risk_band_en: &'static str,
    drivers: &'a [churn::Driver],
}

fn band_en(b: RiskBand) -> &'static str {
    match b {
        RiskBand::High => "High risk",
        RiskBand::Medium => "Medium risk",
        RiskBand::Low => "Low risk",
    }
}

fn band_code(b: RiskBand) -> &'static str {
    match b {
        RiskBand::High => "high",
        RiskBand::Medium => "medium",
        RiskBand::Low => "low",
    }
}

impl Tabular for ScoreRow<'_> {
    fn headers() -> Vec<&'static str> {
        vec![
            "customer_id",
            "probability",
            "risk_decile",
            "risk_band",
            "risk_band_zh",
            "risk_band_en",
            "drivers",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let drivers: Vec<String> = self
            .drivers
            .iter()
            .map(|d| format!("{} ({:+.2})", d.feature, d.log_odds))
            .collect();
        vec![
            safe_text(self.customer_id),
            num(Some(self.probability), 4),
            self.risk_decile.to_string(),
            band_code(self.risk_band).to_string(),
            self.risk_band_zh.to_string(),
            self.risk_band_en.to_string(),
            drivers.join("; "),
        ]
    }
}

#[derive(Serialize)]
struct ScoreReport<'a> {
    as_of: String,
    customers: usize,
    bands: BTreeMap<&'static str, usize>,
    per_customer: Vec<ScoreRow<'a>>,
}

fn score(args: ScoreArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.model)
        .with_context(|| format!("cannot read {}", args.model.display()))?;
    let model = SavedChurnModel::from_json(&text)
        .with_context(|| format!("{} is not a churn model", args.model.display()))?;
    for (feature, given, flag) in [
        (
            "complaints",
            args.events.complaints.is_some(),
            "--complaints",
        ),
        (
            "satisfaction",
            args.events.satisfaction.is_some(),
            "--satisfaction",
        ),
        (
            insight_churn::DAYS_TO_PAY,
            args.events.payments.is_some(),
            "--payments",
        ),
    ] {
        anyhow::ensure!(
            given || !model.feature_names().iter().any(|f| f == feature),
            "the model was trained with the `{feature}` feature: give {flag} FILE"
        );
    }
    let tx = load(&args.input)?;
    let as_of = as_of_or_last(args.as_of, &tx)?;
    let histories = histories(&tx, &args.events, args.input.skip_bad_rows)?;
    let mut table = model.build_features(&histories, as_of);
    anyhow::ensure!(
        !table.rows.is_empty(),
        "no customer made a purchase on or before {as_of}"
    );
    if model.feature_names().iter().any(|f| f == P_ALIVE) {
        table = table.with_column(P_ALIVE, &p_alive_at(&tx, as_of)?);
    }
    if let Some(path) = &args.events.payments
        && model
            .feature_names()
            .iter()
            .any(|f| f == insight_churn::DAYS_TO_PAY)
    {
        let invoices = read_invoices(path, args.input.skip_bad_rows)?;
        table = table.with_column(
            insight_churn::DAYS_TO_PAY,
            &insight_churn::days_to_pay_at(&invoices, as_of),
        );
    }
    let scores: Vec<ChurnScore> = model.score(&table).context("scoring")?;
    let rows: Vec<ScoreRow<'_>> = scores
        .iter()
        .map(|s| ScoreRow {
            customer_id: &s.customer_id,
            probability: s.probability,
            risk_decile: s.risk_decile,
            risk_band: s.risk_band,
            risk_band_zh: &s.risk_band_zh,
            risk_band_en: band_en(s.risk_band),
            drivers: &s.drivers,
        })
        .collect();
    let mut bands: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in &rows {
        *bands.entry(band_code(r.risk_band)).or_insert(0) += 1;
    }
    match args.input.format {
        Format::Json => write_json(&ScoreReport {
            as_of: as_of.to_string(),
            customers: rows.len(),
            bands,
            per_customer: rows,
        }),
        Format::Csv => write_csv(&rows),
        Format::Table => {
            let mut pre = vec![
                ("as of".to_string(), as_of.to_string()),
                ("customers".to_string(), rows.len().to_string()),
            ];
            for b in [RiskBand::High, RiskBand::Medium, RiskBand::Low] {
                pre.push((
                    format!("{} / {}", b.name_zh(), band_en(b)),
                    bands.get(band_code(b)).copied().unwrap_or(0).to_string(),
                ));
            }
            write_table(&pre, &rows)
        }
    }
}
