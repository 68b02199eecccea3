//! The (frequency, recency, T) triples of a summary, compressed for the repeat-purchase models.

use super::{Summary, TransactionError};

/// The (frequency, recency, T) triples the repeat-purchase models are fitted on, compressed:
/// identical triples are stored once with a weight, and times are indices into a table of the
/// distinct time values, so a likelihood evaluation computes each logarithm of a time once per
/// distinct time rather than once per customer.
#[derive(Clone, Debug, Default)]
pub struct RepeatData {
    /// Distinct time values (recency or T), ascending.
    pub times: Vec<f64>,
    /// Distinct triples with their multiplicity.
    pub rows: Vec<RepeatRow>,
    /// Largest frequency present.
    pub max_frequency: u32,
    /// Sum of the weights (number of customers).
    pub total_weight: f64,
}

/// One distinct (frequency, recency, T) triple.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepeatRow {
    /// Repeat purchases.
    pub x: u32,
    /// Index of the recency in [`RepeatData::times`].
    pub tx: u32,
    /// Index of T in [`RepeatData::times`].
    pub t: u32,
    /// How many customers share this triple.
    pub weight: f64,
}

impl RepeatData {
    /// Compresses `(frequency, recency, T)` triples. Invalid triples (non-finite, negative, or
    /// recency beyond T) are an error naming the position.
    pub fn from_triples(
        triples: impl Iterator<Item = (u32, f64, f64)> + Clone,
    ) -> Result<RepeatData, TransactionError> {
        let mut times: Vec<f64> = Vec::new();
        for (i, (_, tx, t)) in triples.clone().enumerate() {
            if !(tx.is_finite() && t.is_finite() && tx >= 0.0 && t >= tx) {
                return Err(TransactionError::InvalidOption(format!(
                    "customer #{i}: need 0 <= recency <= T (recency {tx}, T {t})"
                )));
            }
            times.push(tx);
            times.push(t);
        }
        times.sort_unstable_by(f64::total_cmp);
        times.dedup();
        let index = |v: f64| times.partition_point(|&u| u < v) as u32;
        let mut keyed: Vec<(u32, u32, u32)> =
            triples.map(|(x, tx, t)| (x, index(tx), index(t))).collect();
        keyed.sort_unstable();
        let mut rows: Vec<RepeatRow> = Vec::new();
        for (x, tx, t) in keyed {
            match rows.last_mut() {
                Some(r) if r.x == x && r.tx == tx && r.t == t => r.weight += 1.0,
                _ => rows.push(RepeatRow {
                    x,
                    tx,
                    t,
                    weight: 1.0,
                }),
            }
        }
        let max_frequency = rows.iter().map(|r| r.x).max().unwrap_or(0);
        let total_weight = rows.iter().map(|r| r.weight).sum();
        Ok(RepeatData {
            times,
            rows,
            max_frequency,
            total_weight,
        })
    }

    /// The compressed triples of a summary.
    pub fn from_summary(summary: &Summary) -> Result<RepeatData, TransactionError> {
        RepeatData::from_triples(
            summary
                .customers
                .iter()
                .map(|c| (c.frequency, c.recency, c.t)),
        )
    }

    /// A stratified subsample of at most about `max_rows` distinct rows (every k-th row of the
    /// sorted triples, so all frequencies stay represented), or `None` when the data is small.
    /// Used only to find a starting point for the full-data fit.
    pub fn subsample(&self, max_rows: usize) -> Option<RepeatData> {
        if self.rows.len() <= 2 * max_rows.max(1) {
            return None;
        }
        let stride = self.rows.len().div_ceil(max_rows.max(1));
        let rows: Vec<RepeatRow> = self.rows.iter().step_by(stride).copied().collect();
        Some(RepeatData {
            times: self.times.clone(),
            max_frequency: rows.iter().map(|r| r.x).max().unwrap_or(0),
            total_weight: rows.iter().map(|r| r.weight).sum(),
            rows,
        })
    }

    /// Mean frequency and mean T (for starting values).
    pub fn means(&self) -> (f64, f64) {
        let w = self.total_weight.max(1.0);
        let mx = self
            .rows
            .iter()
            .map(|r| f64::from(r.x) * r.weight)
            .sum::<f64>()
            / w;
        let mt = self
            .rows
            .iter()
            .map(|r| self.times[r.t as usize] * r.weight)
            .sum::<f64>()
            / w;
        (mx, mt)
    }
}
