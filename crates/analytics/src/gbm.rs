//! Churn propensity by gradient-boosted decision trees: an alternative to the logistic regression
//! of [`crate::churn`] that can pick up thresholds and interactions the linear model cannot
//! ("recency matters, but only for new customers").
//!
//! # Source
//!
//! Gradient boosting for the binomial log-likelihood: Friedman (2001), "Greedy function
//! approximation: a gradient boosting machine", *Annals of Statistics* 29(5), 1189–1232 —
//! Algorithm 5 (L_K TreeBoost with K = 2), where each leaf takes one Newton step
//! `γ = Σ (y − p) / Σ p(1 − p)` over its rows, shrunk by the learning rate ν (Friedman's §5,
//! "regularization"). The L2 penalty λ on leaf values, which turns the leaf step into
//! `γ = Σ (y − p) / (Σ p(1 − p) + λ)` and the split gain into equation (1) below: Chen &
//! Guestrin (2016), "XGBoost: a scalable tree boosting system", *KDD*, eqs. (5)–(7). Split
//! finding on pre-binned features (histograms of gradient sums per bin, missing values with a
//! learned default direction): Ke et al. (2017), "LightGBM: a highly efficient gradient boosting
//! decision tree", *NIPS* 30, §2 (histogram-based algorithm); default direction for missing
//! values as in Chen & Guestrin (2016), Algorithm 3.
//! Per-customer drivers by path attribution: Saabas (2014), "Interpreting random forests",
//! <http://blog.datadive.net/interpreting-random-forests/> (the `treeinterpreter` method); its
//! known weakness, that credit can depend on which feature a tree asks first, is discussed by
//! Lundberg, Erion & Lee (2018), "Consistent individualized feature attribution for tree
//! ensembles", arXiv:1802.03888, whose TreeSHAP fixes it at higher cost.
//!
//! # The model
//!
//! The churn log-odds is a sum of small trees, `F(x) = F₀ + Σ_m ν f_m(x)`, with `F₀` the
//! log-odds of the training churn rate and `p = 1 / (1 + e^{−F})`. Tree `m` is grown on the
//! gradients `g_i = p_i − y_i` and Hessians `h_i = p_i (1 − p_i)` of the log loss at the current
//! `F`. A node with sums `G`, `H` is split into `L`, `R` where
//!
//! ```text
//! gain = G_L² / (H_L + λ) + G_R² / (H_R + λ) − G² / (H + λ)                      (1)
//! ```
//!
//! is largest, subject to at least `min_rows_per_leaf` rows on each side and a depth limit
//! (default 3, so a tree can express three-way interactions). A leaf's value is
//! `−ν G / (H + λ)`.
//!
//! **Bins.** Each feature is cut into at most `max_bins` (default 64) bins at quantiles of the
//! training rows; a missing value has a bin of its own, and each split learns whether missing
//! values go left or right (when the training rows had none, they go to the side with more rows).
//! Split points are stored as raw feature values (midpoints between neighbouring training
//! values), so scoring needs no bins.
//!
//! **How many trees.** A share of the training rows (default 20%, chosen by a hash of the
//! customer id, so the choice does not depend on row order) is held back as a validation slice.
//! Trees are added while the validation log loss keeps improving; after `patience` rounds
//! without improvement the model is cut back to the best number of trees. The out-of-time test
//! set of [`crate::churn::time_split`] is never looked at, so its scores stay honest.
//!
//! **Determinism.** There is no randomness: rows are put in a canonical order (customer id, then
//! label and values) before anything else, and histogram sums over fixed-size row chunks are
//! added in chunk order, so the same data give bit-identical models whatever the input order and
//! thread count.
//!
//! **Drivers** ([`GbmModel::contributions`]). Every node, split or leaf, stores the value a leaf
//! there would have had (`−ν G / (H + λ)` over its training rows). For one customer, walking a
//! tree from the root to its leaf, each step from a node to a child changes that value; the
//! change is credited to the node's split feature. The steps telescope, so per tree the root value
//! plus the credits is the leaf value, and over the model
//! `F(x) = [F₀ + Σ_m root_m] + Σ_j contribution_j(x)`: [`GbmModel::expected_log_odds`] plus the
//! customer's contributions is exactly the predicted log-odds. The drivers of a score are the
//! largest positive contributions, as for the logistic model ([`crate::churn::top_drivers`]).
//!
//! # What it means, for a sales manager
//!
//! The model asks a few hundred small yes/no questions in sequence ("has it been more than 75
//! days since the last order? is the customer newer than half a year?") and adds up what each
//! answer says about the risk. Unlike the logistic model it does not assume that "twice as long
//! since the last order" always adds the same amount of risk; it learns where the risk jumps and
//! for which kinds of customer. The price: no single coefficient per feature to read off. The
//! [`GbmModel::importance`] figures say how much each fact contributed to the model's decisions
//! overall, not in which direction. The probabilities, risk deciles, AUC, lift and calibration
//! read exactly as for the logistic model.
//! The drivers per customer read like the logistic model's ("recency_days +0.8": this fact
//! raises this customer's log-odds of churning by 0.8), but they are the model's path through its
//! questions, not a slope: the same fact can weigh differently for different customers.
//!
//! # CLI notes
//!
//! `guanxi analytics churn train --model gbm [--trees-max N] [--depth N] [--learning-rate R]
//! [--lambda L] …` (the other options as for the logistic model, including `--complaints`,
//! `--satisfaction` and `--p-alive`): [`fit_and_evaluate`] with [`GbmOptions`] (unset options at
//! their defaults; `--lambda` is the leaf penalty λ), the [`crate::churn::FeatureConfig`] stored
//! in [`GbmModel::feature_config`], saved as [`crate::churn::SavedChurnModel::Gbm`] (`"kind":
//! "gbm"`). The report has the logistic report's keys, `"model": "gbm"`, and `importance`
//! ([`GbmModel::importance`]) and `trees` instead of `coefficients`. `churn score` reads either
//! kind; for this one it calls [`GbmModel::build_features`] and [`GbmModel::score`].

use std::cmp::Ordering;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use chrono::NaiveDate;

use crate::churn::{
    self, ChurnError, ChurnScore, CustomerHistory, Driver, FeatureConfig, FeatureTable, LabelledSet,
};

/// Errors from the boosted-tree model.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GbmError {
    /// A problem shared with the logistic model (no rows, one class, missing feature, …).
    #[error(transparent)]
    Churn(#[from] ChurnError),
    /// An option is out of range.
    #[error("option {name} = {value} is out of range ({expected})")]
    BadOption {
        /// Option name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// The validation slice for early stopping is empty, or leaves one class to fit on.
    #[error(
        "of {rows} training rows {validation} fell in the validation slice; early stopping needs \
         validation rows and both churned and retained customers among the rest"
    )]
    ValidationSlice {
        /// Training rows.
        rows: usize,
        /// Rows in the validation slice.
        validation: usize,
    },
    /// A deserialized model is internally inconsistent.
    #[error("malformed model: {0}")]
    Malformed(String),
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GbmOptions {
    /// Upper limit on the number of trees; early stopping usually ends sooner.
    pub max_trees: usize,
    /// Shrinkage ν applied to every leaf value, in (0, 1].
    pub learning_rate: f64,
    /// Maximum tree depth (1 = stumps, no interactions).
    pub max_depth: usize,
    /// Minimum training rows in every leaf.
    pub min_rows_per_leaf: usize,
    /// L2 penalty λ on leaf values (≥ 0).
    pub lambda: f64,
    /// Bins per feature for non-missing values, 2–254 (a missing value has a bin of its own).
    pub max_bins: usize,
    /// Share of training rows held back for early stopping, in (0, 0.5].
    pub validation_share: f64,
    /// Rounds without improvement of the validation log loss before stopping.
    pub patience: usize,
}

impl Default for GbmOptions {
    fn default() -> Self {
        Self {
            max_trees: 1000,
            learning_rate: 0.1,
            max_depth: 3,
            min_rows_per_leaf: 20,
            lambda: 1.0,
            max_bins: 64,
            validation_share: 0.2,
            patience: 30,
        }
    }
}

impl GbmOptions {
    fn check(&self) -> Result<(), GbmError> {
        let bad = |name, value: f64, expected| {
            Err(GbmError::BadOption {
                name,
                value,
                expected,
            })
        };
        if self.max_trees == 0 {
            return bad("max_trees", 0.0, ">= 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad("learning_rate", self.learning_rate, "0 < ν <= 1");
        }
        if !(1..=16).contains(&self.max_depth) {
            return bad("max_depth", self.max_depth as f64, "1 to 16");
        }
        if self.min_rows_per_leaf == 0 {
            return bad("min_rows_per_leaf", 0.0, ">= 1");
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return bad("lambda", self.lambda, "finite and >= 0");
        }
        // bins are stored as u8 with one extra code for "missing"
        if !(2..=254).contains(&self.max_bins) {
            return bad("max_bins", self.max_bins as f64, "2 to 254");
        }
        if !(self.validation_share > 0.0 && self.validation_share <= 0.5) {
            return bad(
                "validation_share",
                self.validation_share,
                "0 < share <= 0.5",
            );
        }
        if self.patience == 0 {
            return bad("patience", 0.0, ">= 1");
        }
        Ok(())
    }
}

/// One node of a tree; children always have larger indices than their parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// Go left when the value is `<= threshold` (or missing and `missing_left`), else right.
    Split {
        /// Index into [`GbmModel::feature_names`].
        feature: usize,
        /// Split point on the raw feature scale (`f64::MAX` = "any value goes left, only a
        /// missing one can go right").
        threshold: f64,
        /// Where a missing value goes.
        missing_left: bool,
        /// Left child.
        left: usize,
        /// Right child.
        right: usize,
        /// Loss reduction of equation (1), for [`GbmModel::importance`].
        gain: f64,
        /// The value a leaf here would have had, `−ν G / (H + λ)` over the node's rows: the
        /// starting point of the path attribution of [`GbmModel::contributions`].
        value: f64,
    },
    /// A leaf: its contribution to the churn log-odds (learning rate already applied).
    Leaf {
        /// Log-odds contribution.
        value: f64,
    },
}

/// One tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes.
    pub nodes: Vec<Node>,
}

/// How training went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbmTrainingInfo {
    /// All training rows.
    pub rows: usize,
    /// Churned rows among them.
    pub churned: usize,
    /// Rows the trees were fitted on.
    pub fit_rows: usize,
    /// Rows held back for early stopping.
    pub validation_rows: usize,
    /// Trees grown before stopping.
    pub trees_grown: usize,
    /// Trees kept (the best validation log loss).
    pub trees_kept: usize,
    /// Validation log loss of the base rate alone (no trees).
    pub validation_log_loss_base: f64,
    /// Validation log loss with the trees kept.
    pub validation_log_loss: f64,
}

/// A trained boosted-tree churn model (serialize with serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbmModel {
    /// Feature names; the `feature` of a [`Node::Split`] indexes them.
    pub feature_names: Vec<String>,
    /// `F₀`: log-odds of the churn rate in the fitting rows.
    pub base_score: f64,
    /// The trees, in boosting order.
    pub trees: Vec<Tree>,
    /// Options used.
    pub options: GbmOptions,
    /// Training diagnostics.
    pub training: GbmTrainingInfo,
    /// Feature settings used to build the training features, so that scoring rebuilds the same
    /// columns (`None` when the model was fitted on a hand-made table).
    #[serde(default)]
    pub feature_config: Option<FeatureConfig>,
}

/// One row of [`GbmModel::importance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// Feature name.
    pub feature: String,
    /// Share of the total split gain (sums to 1 over features when any split exists).
    pub gain_share: f64,
    /// Number of splits on the feature.
    pub splits: usize,
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn log_loss(raw: &[f64], y: &[f64]) -> f64 {
    // log(1 + e^F) − y F, computed without overflow
    let sum: f64 = raw
        .iter()
        .zip(y)
        .map(|(f, y)| f.max(0.0) + (-f.abs()).exp().ln_1p() - y * f)
        .sum();
    sum / raw.len().max(1) as f64
}

/// 64-bit FNV-1a followed by the SplitMix64 finaliser, so that ids differing in one trailing
/// character land far apart; stable across platforms and Rust versions (unlike `DefaultHasher`).
fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn in_validation(customer_id: &str, share: f64) -> bool {
    const SCALE: u64 = 1 << 20;
    ((stable_hash(customer_id) % SCALE) as f64) < share * SCALE as f64
}

fn check_finite(table: &FeatureTable, columns: &[usize]) -> Result<(), ChurnError> {
    for r in &table.rows {
        for &j in columns {
            if let Some(Some(v)) = r.values.get(j)
                && !v.is_finite()
            {
                return Err(ChurnError::NotFinite {
                    customer_id: r.customer_id.clone(),
                    feature: table.names.get(j).cloned().unwrap_or_default(),
                });
            }
        }
    }
    Ok(())
}

fn value(table: &FeatureTable, row: usize, col: usize) -> Option<f64> {
    table
        .rows
        .get(row)
        .and_then(|r| r.values.get(col).copied().flatten())
}

/// Split points for one feature: at most `max_bins − 1` cuts at quantiles of `vals`, each the
/// midpoint between two neighbouring distinct values. Bin `b` holds `cuts[b−1] < v <= cuts[b]`.
fn quantile_cuts(mut vals: Vec<f64>, max_bins: usize) -> Vec<f64> {
    vals.sort_by(f64::total_cmp);
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for v in vals.iter().copied() {
        match distinct.last_mut() {
            Some((d, c)) if *d == v => *c += 1,
            _ => distinct.push((v, 1)),
        }
    }
    let mid = |a: f64, b: f64| {
        let m = a + (b - a) / 2.0;
        // rounding can land on b when a and b are adjacent floats; b must stay above the cut
        if m < b { m } else { a }
    };
    let mut cuts = Vec::new();
    if distinct.len() <= max_bins {
        for w in distinct.windows(2) {
            cuts.push(mid(w[0].0, w[1].0));
        }
        return cuts;
    }
    let per = vals.len() as f64 / max_bins as f64;
    let mut target = per;
    let mut acc = 0usize;
    for w in distinct.windows(2) {
        acc += w[0].1;
        if acc as f64 >= target {
            cuts.push(mid(w[0].0, w[1].0));
            while target <= acc as f64 {
                target += per;
            }
        }
    }
    // each cut consumes a quantile target below n, so this never bites; it keeps the u8 promise
    cuts.truncate(max_bins - 1);
    cuts
}

/// Gradient and Hessian sums and a row count for one histogram bucket.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    g: f64,
    h: f64,
    n: usize,
}

impl Bucket {
    fn add(&mut self, o: &Bucket) {
        self.g += o.g;
        self.h += o.h;
        self.n += o.n;
    }
    fn minus(&self, o: &Bucket) -> Bucket {
        Bucket {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

/// Rows per histogram chunk: chunks are summed in parallel and then added in chunk order, so the
/// result does not depend on the thread count.
const CHUNK: usize = 4096;

/// The binned fitting rows.
struct Binned {
    /// `bins[j][i]`: bin of fitting row `i` in feature `j`; `cuts[j].len() + 1` = missing.
    bins: Vec<Vec<u8>>,
    cuts: Vec<Vec<f64>>,
    /// Start of feature `j`'s buckets in a flat histogram.
    offsets: Vec<usize>,
    buckets: usize,
}

impl Binned {
    fn missing_bin(&self, j: usize) -> usize {
        self.cuts[j].len() + 1
    }

    fn histogram(&self, rows: &[u32], grad: &[f64], hess: &[f64]) -> Vec<Bucket> {
        let parts: Vec<Vec<Bucket>> = rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut hist = vec![Bucket::default(); self.buckets];
                for (j, col) in self.bins.iter().enumerate() {
                    let off = self.offsets[j];
                    for &i in chunk {
                        let i = i as usize;
                        let b = &mut hist[off + usize::from(col[i])];
                        b.g += grad[i];
                        b.h += hess[i];
                        b.n += 1;
                    }
                }
                hist
            })
            .collect();
        let mut hist = vec![Bucket::default(); self.buckets];
        for p in &parts {
            for (a, b) in hist.iter_mut().zip(p) {
                a.add(b);
            }
        }
        hist
    }
}

struct SplitChoice {
    feature: usize,
    /// Last non-missing bin going left.
    bin: usize,
    missing_left: bool,
    gain: f64,
}

fn node_score(b: &Bucket, lambda: f64) -> f64 {
    let d = b.h + lambda;
    if d > 1e-12 { b.g * b.g / d } else { 0.0 }
}

/// Best split of a node by equation (1); ties go to the earlier feature and bin.
fn best_split(
    binned: &Binned,
    hist: &[Bucket],
    total: &Bucket,
    options: &GbmOptions,
) -> Option<SplitChoice> {
    let parent = node_score(total, options.lambda);
    let min = options.min_rows_per_leaf;
    let mut best: Option<SplitChoice> = None;
    for j in 0..binned.cuts.len() {
        let off = binned.offsets[j];
        let missing = hist[off + binned.missing_bin(j)];
        let present = binned.cuts[j].len() + 1;
        let mut left = Bucket::default();
        // b = present − 1 sends every non-missing value left: the "is it missing?" split
        for b in 0..present {
            left.add(&hist[off + b]);
            let options_for_missing: &[bool] = if missing.n > 0 {
                &[true, false]
            } else {
                // no missing values in training: send them where most rows go (decided below)
                &[true]
            };
            for &ml in options_for_missing {
                let l = if ml {
                    let mut l = left;
                    l.add(&missing);
                    l
                } else {
                    left
                };
                let r = total.minus(&l);
                if l.n < min || r.n < min {
                    continue;
                }
                let gain = node_score(&l, options.lambda) + node_score(&r, options.lambda) - parent;
                if gain > 1e-12 && best.as_ref().is_none_or(|s| gain > s.gain) {
                    let missing_left = if missing.n > 0 { ml } else { l.n >= r.n };
                    best = Some(SplitChoice {
                        feature: j,
                        bin: b,
                        missing_left,
                        gain,
                    });
                }
            }
        }
    }
    best
}

/// Grows one tree on the fitting rows; returns it and, per leaf, its rows and value.
fn grow_tree(
    binned: &Binned,
    grad: &[f64],
    hess: &[f64],
    rows: Vec<u32>,
    options: &GbmOptions,
) -> (Tree, Vec<(Vec<u32>, f64)>) {
    let mut nodes = vec![Node::Leaf { value: 0.0 }];
    let mut leaves = Vec::new();
    // depth-first, left before right: a fixed order, so node numbering is deterministic
    let mut stack: Vec<(usize, Vec<u32>, usize)> = vec![(0, rows, 0)];
    while let Some((id, rows, depth)) = stack.pop() {
        let mut total = Bucket::default();
        for &i in &rows {
            total.g += grad[i as usize];
            total.h += hess[i as usize];
            total.n += 1;
        }
        // the Newton step of equation (1)'s leaf, kept on split nodes too for path attribution
        let d = total.h + options.lambda;
        let value = if d > 1e-12 {
            -options.learning_rate * total.g / d
        } else {
            0.0
        };
        if depth < options.max_depth && rows.len() >= 2 * options.min_rows_per_leaf {
            let hist = binned.histogram(&rows, grad, hess);
            if let Some(s) = best_split(binned, &hist, &total, options) {
                let missing = binned.missing_bin(s.feature);
                let col = &binned.bins[s.feature];
                let (l, r): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&i| {
                    let b = usize::from(col[i as usize]);
                    if b == missing {
                        s.missing_left
                    } else {
                        b <= s.bin
                    }
                });
                let threshold = binned.cuts[s.feature]
                    .get(s.bin)
                    .copied()
                    .unwrap_or(f64::MAX);
                let left = nodes.len();
                nodes.push(Node::Leaf { value: 0.0 });
                nodes.push(Node::Leaf { value: 0.0 });
                nodes[id] = Node::Split {
                    feature: s.feature,
                    threshold,
                    missing_left: s.missing_left,
                    left,
                    right: left + 1,
                    gain: s.gain,
                    value,
                };
                stack.push((left + 1, r, depth + 1));
                stack.push((left, l, depth + 1));
                continue;
            }
        }
        nodes[id] = Node::Leaf { value };
        leaves.push((rows, value));
    }
    (Tree { nodes }, leaves)
}

impl Tree {
    /// The tree's log-odds contribution for one row (`values` in model feature order).
    fn value(&self, values: &[Option<f64>]) -> f64 {
        let mut i = 0;
        // children have larger indices than parents (checked by `GbmModel::check`), so this
        // terminates; a bad index ends at 0.0 rather than panicking
        while let Some(node) = self.nodes.get(i) {
            match node {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    threshold,
                    missing_left,
                    left,
                    right,
                    ..
                } => {
                    let go_left = match values.get(*feature).copied().flatten() {
                        Some(v) => v <= *threshold,
                        None => *missing_left,
                    };
                    let next = if go_left { *left } else { *right };
                    if next <= i {
                        return 0.0;
                    }
                    i = next;
                }
            }
        }
        0.0
    }
}

impl Tree {
    /// The node value at the root (what the tree would add if it stopped there).
    fn root_value(&self) -> f64 {
        match self.nodes.first() {
            Some(Node::Split { value, .. } | Node::Leaf { value }) => *value,
            None => 0.0,
        }
    }

    /// Saabas path attribution for one row: walks the decision path and adds each
    /// parent-to-child change of the node value to the parent's split feature in `contrib`.
    /// Root value plus the additions equals [`Tree::value`] for the row (a telescoping sum).
    fn attribute(&self, values: &[Option<f64>], contrib: &mut [f64]) {
        let mut i = 0;
        // same termination argument as `Tree::value`: indices only grow
        while let Some(Node::Split {
            feature,
            threshold,
            missing_left,
            left,
            right,
            value,
            ..
        }) = self.nodes.get(i)
        {
            let go_left = match values.get(*feature).copied().flatten() {
                Some(v) => v <= *threshold,
                None => *missing_left,
            };
            let next = if go_left { *left } else { *right };
            if next <= i {
                return;
            }
            let child = match self.nodes.get(next) {
                Some(Node::Split { value, .. } | Node::Leaf { value }) => *value,
                None => return,
            };
            if let Some(c) = contrib.get_mut(*feature) {
                *c += child - value;
            }
            i = next;
        }
    }
}

/// Trains boosted trees on a feature table and labels (`true` = churned).
pub fn fit(
    table: &FeatureTable,
    labels: &[bool],
    options: &GbmOptions,
) -> Result<GbmModel, GbmError> {
    options.check()?;
    let n = table.rows.len();
    if n == 0 {
        return Err(ChurnError::NoRows.into());
    }
    if labels.len() != n {
        return Err(ChurnError::LengthMismatch {
            rows: n,
            labels: labels.len(),
        }
        .into());
    }
    let churned = labels.iter().filter(|l| **l).count();
    if churned == 0 || churned == n {
        return Err(ChurnError::OneClass.into());
    }
    let p = table.names.len();
    let columns: Vec<usize> = (0..p).collect();
    check_finite(table, &columns)?;

    // canonical row order, so that sums (and hence the model) do not depend on input order
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&table.rows[a], &table.rows[b]);
        ra.customer_id
            .cmp(&rb.customer_id)
            .then(labels[a].cmp(&labels[b]))
            .then_with(|| {
                for j in 0..p {
                    let o = match (value(table, a, j), value(table, b, j)) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        (x, y) => x.is_some().cmp(&y.is_some()),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            })
    });
    let (val_rows, fit_rows): (Vec<usize>, Vec<usize>) = order
        .into_iter()
        .partition(|&i| in_validation(&table.rows[i].customer_id, options.validation_share));
    let fit_churned = fit_rows.iter().filter(|&&i| labels[i]).count();
    if val_rows.is_empty() || fit_churned == 0 || fit_churned == fit_rows.len() {
        return Err(GbmError::ValidationSlice {
            rows: n,
            validation: val_rows.len(),
        });
    }

    // bins from the fitting rows only
    let mut cuts = Vec::with_capacity(p);
    let mut bins = Vec::with_capacity(p);
    let mut offsets = Vec::with_capacity(p);
    let mut buckets = 0;
    for j in 0..p {
        let vals: Vec<f64> = fit_rows
            .iter()
            .filter_map(|&i| value(table, i, j))
            .collect();
        let c = quantile_cuts(vals, options.max_bins);
        let missing = c.len() + 1;
        let col: Vec<u8> = fit_rows
            .iter()
            .map(|&i| {
                let b = match value(table, i, j) {
                    Some(v) => c.partition_point(|&cut| cut < v),
                    None => missing,
                };
                // b <= max_bins <= 254 by the option check
                u8::try_from(b).unwrap_or(u8::MAX)
            })
            .collect();
        offsets.push(buckets);
        buckets += missing + 1;
        cuts.push(c);
        bins.push(col);
    }
    let binned = Binned {
        bins,
        cuts,
        offsets,
        buckets,
    };

    let y = |rows: &[usize]| -> Vec<f64> {
        rows.iter()
            .map(|&i| f64::from(u8::from(labels[i])))
            .collect()
    };
    let y_fit = y(&fit_rows);
    let y_val = y(&val_rows);
    let val_values: Vec<Vec<Option<f64>>> = val_rows
        .iter()
        .map(|&i| (0..p).map(|j| value(table, i, j)).collect())
        .collect();
    let rate = fit_churned as f64 / fit_rows.len() as f64;
    let base_score = (rate / (1.0 - rate)).ln();
    let mut raw_fit = vec![base_score; fit_rows.len()];
    let mut raw_val = vec![base_score; val_rows.len()];
    let base_loss = log_loss(&raw_val, &y_val);
    let mut best = (base_loss, 0usize);
    let mut trees = Vec::new();
    let all: Vec<u32> = (0..fit_rows.len() as u32).collect();
    let mut grad = vec![0.0; fit_rows.len()];
    let mut hess = vec![0.0; fit_rows.len()];
    while trees.len() < options.max_trees {
        for ((f, y), (g, h)) in raw_fit
            .iter()
            .zip(&y_fit)
            .zip(grad.iter_mut().zip(hess.iter_mut()))
        {
            let q = sigmoid(*f);
            *g = q - y;
            *h = q * (1.0 - q);
        }
        let (tree, leaves) = grow_tree(&binned, &grad, &hess, all.clone(), options);
        for (rows, v) in leaves {
            for i in rows {
                raw_fit[i as usize] += v;
            }
        }
        for (f, vals) in raw_val.iter_mut().zip(&val_values) {
            *f += tree.value(vals);
        }
        trees.push(tree);
        let loss = log_loss(&raw_val, &y_val);
        if loss < best.0 {
            best = (loss, trees.len());
        } else if trees.len() - best.1 >= options.patience {
            break;
        }
    }
    let trees_grown = trees.len();
    trees.truncate(best.1);
    Ok(GbmModel {
        feature_names: table.names.clone(),
        base_score,
        trees,
        options: *options,
        feature_config: None,
        training: GbmTrainingInfo {
            rows: n,
            churned,
            fit_rows: fit_rows.len(),
            validation_rows: val_rows.len(),
            trees_grown,
            trees_kept: best.1,
            validation_log_loss_base: base_loss,
            validation_log_loss: best.0,
        },
    })
}

impl GbmModel {
    /// Checks what serde cannot: feature indices in range, children after parents, finite
    /// numbers. Called by [`GbmModel::predict`] and [`GbmModel::from_json`].
    pub fn check(&self) -> Result<(), GbmError> {
        let bad = |m: String| Err(GbmError::Malformed(m));
        if !self.base_score.is_finite() {
            return bad("base score is not finite".into());
        }
        let p = self.feature_names.len();
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.nodes.is_empty() {
                return bad(format!("tree {t} has no nodes"));
            }
            let len = tree.nodes.len();
            for (i, node) in tree.nodes.iter().enumerate() {
                let ok = match node {
                    Node::Leaf { value } => value.is_finite(),
                    Node::Split {
                        feature,
                        threshold,
                        left,
                        right,
                        value,
                        ..
                    } => {
                        *feature < p
                            && value.is_finite()
                            && !threshold.is_nan()
                            && *left > i
                            && *right > i
                            && *left < len
                            && *right < len
                    }
                };
                if !ok {
                    return bad(format!("tree {t}, node {i}"));
                }
            }
        }
        Ok(())
    }

    /// Churn probabilities for the rows of `table` (columns matched by name; extra columns are
    /// ignored, a missing one is an error).
    pub fn predict(&self, table: &FeatureTable) -> Result<Vec<f64>, GbmError> {
        let rows = self.aligned_rows(table)?;
        Ok(rows
            .par_iter()
            .map(|vals| {
                let raw = self.base_score + self.trees.iter().map(|t| t.value(vals)).sum::<f64>();
                sigmoid(raw)
            })
            .collect())
    }

    /// Checks the model and the table, then gives each row's values in model feature order.
    fn aligned_rows(&self, table: &FeatureTable) -> Result<Vec<Vec<Option<f64>>>, GbmError> {
        self.check()?;
        let idx: Vec<usize> = self
            .feature_names
            .iter()
            .map(|n| {
                table
                    .column(n)
                    .ok_or_else(|| ChurnError::MissingFeature(n.clone()))
            })
            .collect::<Result<_, _>>()?;
        check_finite(table, &idx)?;
        Ok(table
            .rows
            .iter()
            .map(|r| {
                idx.iter()
                    .map(|&i| r.values.get(i).copied().flatten())
                    .collect()
            })
            .collect())
    }

    /// The log-odds every customer starts from in [`GbmModel::contributions`]: `F₀` plus each
    /// tree's root value (the prediction before any question is asked).
    pub fn expected_log_odds(&self) -> f64 {
        self.base_score + self.trees.iter().map(Tree::root_value).sum::<f64>()
    }

    /// Per row, each feature's contribution to the churn log-odds (in
    /// [`GbmModel::feature_names`] order), by Saabas path attribution (see the module docs):
    /// [`GbmModel::expected_log_odds`] plus a row's contributions is its predicted log-odds.
    pub fn contributions(&self, table: &FeatureTable) -> Result<Vec<Vec<f64>>, GbmError> {
        let rows = self.aligned_rows(table)?;
        let p = self.feature_names.len();
        Ok(rows
            .par_iter()
            .map(|vals| {
                let mut c = vec![0.0; p];
                for t in &self.trees {
                    t.attribute(vals, &mut c);
                }
                c
            })
            .collect())
    }

    /// Scores customers exactly like [`churn::ChurnModel::score`]: probability, risk decile,
    /// band, and as drivers the features with the largest positive path contributions.
    pub fn score(&self, table: &FeatureTable) -> Result<Vec<ChurnScore>, GbmError> {
        let probs = self.predict(table)?;
        let contributions = self.contributions(table)?;
        let values = self.aligned_rows(table)?;
        let drivers: Vec<Vec<Driver>> = contributions
            .iter()
            .zip(&values)
            .map(|(c, v)| churn::top_drivers(&self.feature_names, v, c))
            .collect();
        Ok(churn::rank_scores(table, &probs, drivers))
    }

    /// Builds the scoring features at `as_of` with the settings the model was trained with and
    /// exactly its optional columns, as [`churn::ChurnModel::build_features`] does.
    pub fn build_features(&self, histories: &[CustomerHistory], as_of: NaiveDate) -> FeatureTable {
        churn::build_model_features(&self.feature_names, self.feature_config, histories, as_of)
    }

    /// How much each feature contributed: its share of the total split gain (equation (1)) over
    /// all trees, largest first. Says which facts the model leans on, not in which direction.
    pub fn importance(&self) -> Vec<Importance> {
        let mut gain = vec![0.0; self.feature_names.len()];
        let mut splits = vec![0usize; self.feature_names.len()];
        for node in self.trees.iter().flat_map(|t| &t.nodes) {
            if let Node::Split {
                feature, gain: g, ..
            } = node
                && let (Some(a), Some(s)) = (gain.get_mut(*feature), splits.get_mut(*feature))
            {
                *a += g;
                *s += 1;
            }
        }
        let total: f64 = gain.iter().sum();
        let mut out: Vec<Importance> = self
            .feature_names
            .iter()
            .zip(gain.iter().zip(&splits))
            .map(|(f, (g, s))| Importance {
                feature: f.clone(),
                gain_share: if total > 0.0 { g / total } else { 0.0 },
                splits: *s,
            })
            .collect();
        out.sort_by(|a, b| b.gain_share.total_cmp(&a.gain_share));
        out
    }

    /// The model as JSON.
    pub fn to_json(&self) -> Result<String, GbmError> {
        serde_json::to_string(self).map_err(|e| ChurnError::Json(e.to_string()).into())
    }

    /// Reads a model from JSON and checks it.
    pub fn from_json(text: &str) -> Result<Self, GbmError> {
        let m: GbmModel = serde_json::from_str(text)
            .map_err(|e| GbmError::from(ChurnError::Json(e.to_string())))?;
        m.check()?;
        Ok(m)
    }
}

/// A boosted-tree model with its in-sample and out-of-time evaluations.
pub type GbmTrainingReport = churn::TrainingReport<GbmModel>;

/// Trains on `train` and evaluates on `test`, like [`churn::fit_and_evaluate`] (extra columns
/// such as `p_alive` work the same way: add them to both sets).
pub fn fit_and_evaluate(
    train: &LabelledSet,
    test: &LabelledSet,
    window_days: i64,
    features: Option<FeatureConfig>,
    options: &GbmOptions,
) -> Result<GbmTrainingReport, GbmError> {
    let mut model = fit(&train.table, &train.labels, options)?;
    model.feature_config = features;
    churn::TrainingReport::evaluate(model, GbmModel::predict, train, test, window_days)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::churn::{self, FeatureRow, LogisticConfig, auc};
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn table(names: &[&str], rows: Vec<Vec<Option<f64>>>) -> FeatureTable {
        FeatureTable {
            names: names.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, values)| FeatureRow {
                    customer_id: format!("c{i:06}"),
                    values,
                })
                .collect(),
        }
    }

    /// Churn iff (recency > 90) XOR (tenure < 100), with 10% of labels flipped, plus a noise
    /// column.
    fn xor_data(n: usize, seed: u64) -> (FeatureTable, Vec<bool>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut rows = Vec::with_capacity(n);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            // thresholds at the medians, so no single feature ranks on its own
            let recency: f64 = rng.random_range(0.0..180.0);
            let tenure: f64 = rng.random_range(0.0..200.0);
            let noise: f64 = rng.random();
            let rule = (recency > 90.0) != (tenure < 100.0);
            let flip = rng.random::<f64>() < 0.1;
            rows.push(vec![Some(recency), Some(tenure), Some(noise)]);
            labels.push(rule != flip);
        }
        (
            table(&["recency_days", "tenure_days", "noise"], rows),
            labels,
        )
    }

    #[test]
    fn learns_a_non_linear_rule_the_logistic_model_cannot() {
        let (train, yt) = xor_data(4000, 1);
        let (test, ys) = xor_data(4000, 2);
        let m = fit(&train, &yt, &GbmOptions::default()).unwrap();
        let p = m.predict(&test).unwrap();
        assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
        let a = auc(&p, &ys).unwrap();
        // with 10% flipped labels the best possible AUC is about 0.9
        assert!(a > 0.85, "gbm AUC {a}");
        let lr = churn::fit(&train, &yt, &LogisticConfig::default()).unwrap();
        let b = auc(&lr.predict(&test).unwrap(), &ys).unwrap();
        assert!(a > b + 0.2, "gbm {a} vs logistic {b}");
        // the noise column carries little of the gain
        let imp = m.importance();
        let noise = imp.iter().find(|i| i.feature == "noise").unwrap();
        assert!(noise.gain_share < 0.05, "{imp:?}");
        assert!(m.training.trees_kept > 10 && m.training.trees_kept < m.training.trees_grown);
    }

    #[test]
    fn invariant_to_row_order() {
        let (t, y) = xor_data(1500, 3);
        let m = fit(&t, &y, &GbmOptions::default()).unwrap();
        let mut rev = t.clone();
        rev.rows.reverse();
        let mut yr = y.clone();
        yr.reverse();
        let m2 = fit(&rev, &yr, &GbmOptions::default()).unwrap();
        assert_eq!(m, m2);
        let mut p2 = m2.predict(&rev).unwrap();
        p2.reverse();
        assert_eq!(m.predict(&t).unwrap(), p2);
    }

    #[test]
    fn early_stopping_keeps_few_trees_on_noise() {
        let mut rng = StdRng::seed_from_u64(4);
        let n = 3000;
        let rows: Vec<Vec<Option<f64>>> = (0..n)
            .map(|_| vec![Some(rng.random()), Some(rng.random())])
            .collect();
        let y: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.3).collect();
        let noise = fit(&table(&["a", "b"], rows), &y, &GbmOptions::default()).unwrap();
        let (t, ys) = xor_data(n, 5);
        let signal = fit(&t, &ys, &GbmOptions::default()).unwrap();
        // a handful of trees fit chance patterns in the validation slice; they barely move its loss
        let gain = |t: &GbmTrainingInfo| 1.0 - t.validation_log_loss / t.validation_log_loss_base;
        assert!(
            noise.training.trees_kept < 15
                && noise.training.trees_kept * 3 < signal.training.trees_kept
                && gain(&noise.training) < 0.01
                && gain(&signal.training) > 0.3,
            "noise {:?} signal {:?}",
            noise.training,
            signal.training
        );
        assert!(noise.training.trees_grown < noise.options.max_trees);
    }

    #[test]
    fn serde_round_trip_gives_identical_predictions() {
        let (t, y) = xor_data(2000, 6);
        let m = fit(&t, &y, &GbmOptions::default()).unwrap();
        let back = GbmModel::from_json(&m.to_json().unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.predict(&t).unwrap(), m.predict(&t).unwrap());
        // columns are matched by name, not position
        let mut shuffled = t.clone();
        shuffled.names.rotate_left(1);
        for r in &mut shuffled.rows {
            r.values.rotate_left(1);
        }
        assert_eq!(back.predict(&shuffled).unwrap(), m.predict(&t).unwrap());
        // a corrupted model is an error, not a panic
        let mut bad = m.clone();
        bad.trees[0].nodes[0] = Node::Split {
            feature: 9,
            threshold: 0.0,
            missing_left: true,
            left: 1,
            right: 2,
            gain: 1.0,
            value: 0.0,
        };
        assert!(matches!(bad.predict(&t), Err(GbmError::Malformed(_))));
    }

    #[test]
    fn missing_values_get_their_own_direction() {
        // satisfaction is missing for half the customers, and those churn more
        let mut rng = StdRng::seed_from_u64(7);
        let n = 4000;
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let answered = rng.random::<f64>() < 0.5;
            let score: f64 = rng.random_range(1.0..5.0);
            rows.push(vec![answered.then_some(score)]);
            y.push(rng.random::<f64>() < if answered { 0.15 } else { 0.6 });
        }
        let t = table(&["satisfaction"], rows);
        let m = fit(&t, &y, &GbmOptions::default()).unwrap();
        let probe = table(&["satisfaction"], vec![vec![None], vec![Some(3.0)]]);
        let p = m.predict(&probe).unwrap();
        assert!(
            (p[0] - 0.6).abs() < 0.05 && (p[1] - 0.15).abs() < 0.05,
            "{p:?}"
        );
    }

    #[test]
    fn errors_are_typed() {
        let (t, y) = xor_data(200, 8);
        assert_eq!(
            fit(&t, &y[1..], &GbmOptions::default()),
            Err(GbmError::Churn(ChurnError::LengthMismatch {
                rows: 200,
                labels: 199
            }))
        );
        assert_eq!(
            fit(&t, &[true; 200], &GbmOptions::default()),
            Err(GbmError::Churn(ChurnError::OneClass))
        );
        assert!(matches!(
            fit(
                &t,
                &y,
                &GbmOptions {
                    learning_rate: 0.0,
                    ..Default::default()
                }
            ),
            Err(GbmError::BadOption {
                name: "learning_rate",
                ..
            })
        ));
        let mut nan = t.clone();
        nan.rows[3].values[0] = Some(f64::NAN);
        assert!(matches!(
            fit(&nan, &y, &GbmOptions::default()),
            Err(GbmError::Churn(ChurnError::NotFinite { .. }))
        ));
        let m = fit(&t, &y, &GbmOptions::default()).unwrap();
        let bare = table(&["recency_days"], vec![vec![Some(1.0)]]);
        assert_eq!(
            m.predict(&bare),
            Err(GbmError::Churn(ChurnError::MissingFeature(
                "tenure_days".into()
            )))
        );
    }

    #[test]
    fn path_contributions_add_up_to_the_log_odds() {
        let (mut t, y) = xor_data(2000, 9);
        // some missing values, so the default directions are walked too
        for r in t.rows.iter_mut().step_by(7) {
            r.values[1] = None;
        }
        let m = fit(&t, &y, &GbmOptions::default()).unwrap();
        assert!(m.trees.len() > 5);
        let p = m.predict(&t).unwrap();
        let c = m.contributions(&t).unwrap();
        let base = m.expected_log_odds();
        for (p, c) in p.iter().zip(&c) {
            let logit = (p / (1.0 - p)).ln();
            let sum = base + c.iter().sum::<f64>();
            assert!((sum - logit).abs() < 1e-9, "{sum} vs {logit}");
        }
        // the noise column explains little of any customer's risk
        let mean_abs = |j: usize| c.iter().map(|r| r[j].abs()).sum::<f64>() / c.len() as f64;
        assert!(
            mean_abs(2) < 0.1 * mean_abs(0),
            "{} {}",
            mean_abs(2),
            mean_abs(0)
        );
        // scores: drivers are positive, sorted, at most three, and name model features
        let scores = m.score(&t).unwrap();
        assert_eq!(scores.len(), t.rows.len());
        assert!(scores.iter().any(|s| !s.drivers.is_empty()));
        for (s, c) in scores.iter().zip(&c) {
            assert!(s.drivers.len() <= 3);
            assert!(s.drivers.windows(2).all(|w| w[0].log_odds >= w[1].log_odds));
            for d in &s.drivers {
                let j = m
                    .feature_names
                    .iter()
                    .position(|f| *f == d.feature)
                    .unwrap();
                assert!(d.log_odds > 0.0 && d.log_odds == c[j]);
            }
        }
        assert_eq!(scores.iter().filter(|s| s.risk_decile == 1).count(), 200);
    }

    #[test]
    fn quantile_cuts_respect_the_bin_limit() {
        let v: Vec<f64> = (0..10_000).map(|i| f64::from(i % 997)).collect();
        let c = quantile_cuts(v, 64);
        assert!(c.len() <= 63 && c.len() > 55, "{}", c.len());
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(quantile_cuts(vec![1.0, 1.0, 2.0, 3.0], 64), vec![1.5, 2.5]);
        assert!(quantile_cuts(vec![4.0; 10], 64).is_empty());
    }
}
