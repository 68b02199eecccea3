//! Transactions: the one input every customer model reads, and the per-customer summary the
//! repeat-purchase models (BG/NBD, Pareto/NBD, Gamma-Gamma) are fitted on.
//!
//! # Input contract
//!
//! A CSV file with a header row containing at least `customer_id`, `date` and `amount` (header
//! names are matched case-insensitively; other columns are ignored). `date` is `YYYY-MM-DD` or
//! `YYYYMMDD`. Optional columns: `cost` (cost of goods, for margin), `order_id` and `product`
//! (for baskets and cross-sell). A malformed row is an error naming its line number and the
//! reason; with [`ParseOptions::skip_bad_rows`] such rows are collected in
//! [`Transactions::bad_rows`] instead and reading goes on.
//!
//! Reading is built for tens of millions of rows: customer ids, order ids and products are
//! interned (each distinct id is stored once and rows carry a `u32`), numbers and dates are
//! parsed straight from the bytes, chunks of the file are parsed on all cores (see
//! [`Transactions::read`]), and a progress callback reports the bytes read so far.
//!
//! # The summary, in a sales manager's words
//!
//! For each customer, as of the end of the calibration (observation) window:
//!
//! - **frequency** — how many times the customer came back after the first purchase (purchases on
//!   the same day count as one);
//! - **recency** — how long after the first purchase the most recent one happened (0 if the
//!   customer never came back);
//! - **T** (age) — how long the customer has been a customer: from the first purchase to the end
//!   of the window;
//! - **monetary** — the average value of the repeat purchases (0 if there were none);
//! - **holdout** — what the customer actually did after the window, so predictions can be checked.
//!
//! Times are measured in the chosen [`Period`]: days, weeks (days / 7) or months
//! (days / 30.4375, the mean Gregorian month).

use std::io::Read;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

// Reading one row: the header's columns, dates, numbers and the validated fields.
mod fields;
// One customer's purchases by day, and baskets for cross-sell.
mod histories;
// Interning ids to dense keys, and merging the ids of chunks parsed in parallel.
mod interner;
// The quote-free chunk parser of the parallel reader (a word-at-a-time byte scanner).
mod plain_chunk;
// The parallel reader: blocks, cuts at line ends, merging the chunks in file order.
mod read_parallel;
// The sequential reader, on the csv crate.
mod read_sequential;
// The compressed (frequency, recency, T) triples the repeat-purchase models are fitted on.
mod repeat_data;
// Per-customer summaries as of the calibration end.
mod summary;
#[cfg(test)]
mod tests;

pub use fields::parse_date;
pub(crate) use fields::parse_number;
pub use histories::{Basket, Histories, History};
pub use interner::{IdHasher, Interner};
pub(crate) use read_sequential::{CountingReader, TERMINATOR, record_line};
pub use repeat_data::{RepeatData, RepeatRow};
pub use summary::{CustomerSummary, Summary, SummaryOptions, summarize};

/// A calendar day as a day number (days since 0001-01-01 in the proleptic Gregorian calendar,
/// as [`chrono::Datelike::num_days_from_ce`] counts them).
pub type DayNumber = i32;

/// Converts a date to its [`DayNumber`].
pub fn day_number(date: NaiveDate) -> DayNumber {
    date.num_days_from_ce()
}

/// Converts a [`DayNumber`] back to a date (`None` when out of chrono's range).
pub fn date_from_day_number(day: DayNumber) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(day)
}

/// The unit in which recency, T and forecast horizons are measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// One calendar day.
    Day,
    /// Seven days (a time in weeks is days / 7).
    #[default]
    Week,
    /// The mean Gregorian month, 365.2425 / 12 = 30.436875 days.
    Month,
}

impl Period {
    /// Length of one period in days.
    pub fn days(self) -> f64 {
        match self {
            Period::Day => 1.0,
            Period::Week => 7.0,
            Period::Month => 365.2425 / 12.0,
        }
    }

    /// The lowercase name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

impl std::str::FromStr for Period {
    type Err = TransactionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "days" | "d" => Ok(Period::Day),
            "week" | "weeks" | "w" => Ok(Period::Week),
            "month" | "months" | "m" => Ok(Period::Month),
            other => Err(TransactionError::InvalidOption(format!(
                "unknown period `{other}` (expected day, week or month)"
            ))),
        }
    }
}

/// A row that could not be read, with its 1-based line number in the file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadRow {
    /// 1-based line number (the header is line 1).
    pub line: u64,
    /// Why the row was rejected.
    pub reason: String,
}

/// Everything that can go wrong reading transactions or summarising them.
#[derive(Debug, thiserror::Error)]
pub enum TransactionError {
    /// The underlying reader or the CSV framing failed.
    #[error("cannot read transactions: {0}")]
    Read(String),
    /// The header lacks a required column.
    #[error("the header has no `{0}` column (required: customer_id, date, amount)")]
    MissingColumn(&'static str),
    /// A malformed row (only when rows are not being skipped).
    #[error("line {line}: {reason}")]
    BadRow {
        /// 1-based line number.
        line: u64,
        /// What is wrong with the row.
        reason: String,
    },
    /// An option value is not acceptable (unknown period, holdout before calibration end …).
    #[error("{0}")]
    InvalidOption(String),
    /// More distinct ids than fit in the interning table.
    #[error("too many distinct ids (more than 4,294,967,294)")]
    TooManyIds,
}

/// Options for [`Transactions::read`].
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// Collect malformed rows in [`Transactions::bad_rows`] instead of failing on the first.
    pub skip_bad_rows: bool,
    /// Field delimiter, `b','` by default.
    pub delimiter: u8,
    /// Reject negative amounts (returns); `true` by default.
    pub reject_negative_amounts: bool,
    /// Parse chunks on rayon's threads. The result is identical to the sequential parse: same
    /// rows in the same order, same interned keys, same bad rows and line numbers, same first
    /// error. `true` by default: on the 1 M-customer / 10 M-row benchmark file it took about
    /// 0.6 s on 2 cores against 1.1–1.2 s for the sequential reader, and 1.3 s against 3.6 s with
    /// the same rows shuffled (`examples/parse_time.rs`). From the first `"` in the data on
    /// (quotes can hide line breaks), and with a line feed as delimiter, the rest is read
    /// sequentially, at the sequential reader's speed.
    pub parallel: bool,
    /// Target size in bytes of one chunk parsed by one thread (parallel parsing only).
    pub chunk_bytes: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            skip_bad_rows: false,
            delimiter: b',',
            reject_negative_amounts: true,
            parallel: true,
            chunk_bytes: 4 << 20,
        }
    }
}

/// One transaction row as read (before same-day merging).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Interned customer key (index into [`Transactions::customer_id`]).
    pub customer: u32,
    /// The transaction date.
    pub day: DayNumber,
    /// The transaction amount.
    pub amount: f64,
}

/// Marker for "no value" in the interned optional columns.
pub const NONE_KEY: u32 = u32::MAX;

/// All transactions of a file, with interned ids. Build with [`Transactions::read`] or
/// [`TransactionsBuilder`].
#[derive(Clone, Debug, Default)]
pub struct Transactions {
    customers: Interner,
    rows: Vec<Row>,
    costs: Option<Vec<f64>>,
    orders: Option<(Interner, Vec<u32>)>,
    products: Option<(Interner, Vec<u32>)>,
    bad_rows: Vec<BadRow>,
}

/// Builds [`Transactions`] from values in memory (tests, other callers, the database later).
#[derive(Default, Debug)]
pub struct TransactionsBuilder {
    inner: Transactions,
}

impl TransactionsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one transaction. `cost`, `order_id` and `product` are optional; once any row has one,
    /// rows without it hold "missing" (cost 0, no order / product).
    pub fn push(
        &mut self,
        customer_id: &str,
        date: NaiveDate,
        amount: f64,
        cost: Option<f64>,
        order_id: Option<&str>,
        product: Option<&str>,
    ) -> Result<&mut Self, TransactionError> {
        let t = &mut self.inner;
        let n = t.rows.len();
        let customer = t.customers.intern(customer_id)?;
        t.rows.push(Row {
            customer,
            day: day_number(date),
            amount,
        });
        if let Some(c) = cost {
            t.costs.get_or_insert_with(|| vec![0.0; n]).push(c);
        } else if let Some(cs) = t.costs.as_mut() {
            cs.push(0.0);
        }
        push_interned(&mut t.orders, n, order_id)?;
        push_interned(&mut t.products, n, product)?;
        Ok(self)
    }

    /// Finishes the build.
    pub fn build(self) -> Transactions {
        self.inner
    }
}

fn push_interned(
    col: &mut Option<(Interner, Vec<u32>)>,
    n: usize,
    value: Option<&str>,
) -> Result<(), TransactionError> {
    match (col.as_mut(), value) {
        (Some((int, keys)), Some(v)) => keys.push(int.intern(v)?),
        (Some((_, keys)), None) => keys.push(NONE_KEY),
        (None, Some(v)) => {
            let mut int = Interner::default();
            let mut keys = vec![NONE_KEY; n];
            keys.push(int.intern(v)?);
            *col = Some((int, keys));
        }
        (None, None) => {}
    }
    Ok(())
}

impl Transactions {
    /// Reads the CSV contract described in the module docs from any reader.
    ///
    /// `progress`, when given, is called with the number of bytes read so far (about every MiB, or
    /// after each block of the parallel reader, and once at the end), so a caller can draw a
    /// progress bar.
    ///
    /// With [`ParseOptions::parallel`] (the default) the input is read in blocks; each block is
    /// cut at line ends into chunks that are parsed on rayon's threads, each with its own
    /// interning tables, and the chunks' ids are then merged in file order (see `merge_ids`),
    /// so the result is the same as a sequential parse. Line breaks inside quoted fields would
    /// make a cut at a line end wrong, so from the first `"` in the data on, the rest of the input
    /// is read sequentially (by the csv crate, as [`Self::read_sequential`] does).
    pub fn read<R: Read>(
        reader: R,
        options: &ParseOptions,
        progress: Option<&mut dyn FnMut(u64)>,
    ) -> Result<Transactions, TransactionError> {
        if options.parallel {
            Self::read_parallel(reader, options, progress)
        } else {
            Self::read_sequential(reader, options, progress)
        }
    }

    /// The rows as read, in file order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
    /// Cost per row (same order as [`Self::rows`]) when the file had a `cost` column.
    pub fn costs(&self) -> Option<&[f64]> {
        self.costs.as_deref()
    }
    /// Interned order key per row ([`NONE_KEY`] when blank) when the file had `order_id`.
    pub fn order_keys(&self) -> Option<&[u32]> {
        self.orders.as_ref().map(|(_, k)| k.as_slice())
    }
    /// Interned product key per row ([`NONE_KEY`] when blank) when the file had `product`.
    pub fn product_keys(&self) -> Option<&[u32]> {
        self.products.as_ref().map(|(_, k)| k.as_slice())
    }
    /// The order id for an order key.
    pub fn order_id(&self, key: u32) -> Option<&str> {
        self.orders.as_ref().and_then(|(i, _)| i.resolve(key))
    }
    /// The product name for a product key.
    pub fn product(&self, key: u32) -> Option<&str> {
        self.products.as_ref().and_then(|(i, _)| i.resolve(key))
    }
    /// Number of distinct products.
    pub fn num_products(&self) -> usize {
        self.products.as_ref().map_or(0, |(i, _)| i.len())
    }
    /// Rows rejected while reading with `skip_bad_rows`.
    pub fn bad_rows(&self) -> &[BadRow] {
        &self.bad_rows
    }
    /// Number of distinct customers.
    pub fn num_customers(&self) -> usize {
        self.customers.len()
    }
    /// The customer id for a customer key.
    pub fn customer_id(&self, key: u32) -> &str {
        self.customers.resolve(key).unwrap_or("")
    }
    /// The key of a customer id, if present.
    pub fn customer_key(&self, id: &str) -> Option<u32> {
        self.customers.get(id)
    }
    /// Whether a `cost` column was present.
    pub fn has_cost(&self) -> bool {
        self.costs.is_some()
    }
    /// The latest transaction date, if any.
    pub fn last_day(&self) -> Option<DayNumber> {
        self.rows.iter().map(|r| r.day).max()
    }
    /// The earliest transaction date, if any.
    pub fn first_day(&self) -> Option<DayNumber> {
        self.rows.iter().map(|r| r.day).min()
    }
}
