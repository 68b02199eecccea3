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
//! interned (each distinct id is allocated once and rows carry a `u32`), numbers and dates are
//! parsed straight from the bytes, and a progress callback reports the bytes read so far.
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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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
    /// error. `false` by default: on the 2-core benchmark machine under load the single-threaded
    /// merge of the chunks' interning tables (about 1 s for 1 M customers) made it slower than
    /// the sequential parse (bench/README-analytics.md).
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
            parallel: false,
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

/// A fast, non-cryptographic hasher for the interning tables (ids come from the user's own file,
/// so hash flooding is not a concern here).
#[derive(Default, Clone, Copy)]
pub struct IdHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.hash;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        self.hash = h;
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.hash = (self.hash.rotate_left(5) ^ u64::from(i)).wrapping_mul(SEED);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.hash = (self.hash.rotate_left(5) ^ i as u64).wrapping_mul(SEED);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // Final avalanche so the high bits hashbrown uses for its control bytes are mixed.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

/// Maps distinct strings to dense `u32` keys, allocating each string once.
#[derive(Default, Clone, Debug)]
pub struct Interner {
    ids: Vec<Box<str>>,
    map: HashMap<Box<str>, u32, BuildHasherDefault<IdHasher>>,
}

impl Interner {
    /// The key of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Result<u32, TransactionError> {
        if let Some(&k) = self.map.get(s) {
            return Ok(k);
        }
        let k = u32::try_from(self.ids.len()).map_err(|_| TransactionError::TooManyIds)?;
        if k == NONE_KEY {
            return Err(TransactionError::TooManyIds);
        }
        let b: Box<str> = s.into();
        self.ids.push(b.clone());
        self.map.insert(b, k);
        Ok(k)
    }
    /// The key of `s`, adding it (without copying) if new.
    pub fn intern_owned(&mut self, s: Box<str>) -> Result<u32, TransactionError> {
        if let Some(&k) = self.map.get(&*s) {
            return Ok(k);
        }
        let k = u32::try_from(self.ids.len()).map_err(|_| TransactionError::TooManyIds)?;
        if k == NONE_KEY {
            return Err(TransactionError::TooManyIds);
        }
        self.ids.push(s.clone());
        self.map.insert(s, k);
        Ok(k)
    }
    /// The key of `s` if present.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    /// The string for a key.
    pub fn resolve(&self, key: u32) -> Option<&str> {
        self.ids.get(key as usize).map(|b| &**b)
    }
    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

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

/// Records end at a line feed only. A CR before it is trailing whitespace of the last field,
/// which is trimmed like all whitespace; so `\r\n` files read as usual, and every record ends on a
/// line feed, which keeps line numbers exact (with csv's default, a record ending in `\r` is
/// reported one line too early). A lone CR is not a line end.
pub(crate) const TERMINATOR: csv::Terminator = csv::Terminator::Any(b'\n');

/// Reports progress every this many bytes.
const PROGRESS_STEP: u64 = 1 << 20;

/// A reader that counts the bytes read (for progress and exact line numbers).
pub(crate) struct CountingReader<'a, R> {
    inner: R,
    total: u64,
    last: u64,
    eof: bool,
    last_byte: u8,
    progress: Option<&'a mut dyn FnMut(u64)>,
}

impl<'a, R: Read> CountingReader<'a, R> {
    pub(crate) fn new(inner: R, progress: Option<&'a mut dyn FnMut(u64)>) -> Self {
        CountingReader {
            inner,
            total: 0,
            last: 0,
            eof: false,
            last_byte: b'\n',
            progress,
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if n == 0 {
            self.eof = true;
        } else {
            self.last_byte = buf[n - 1];
        }
        if self.total - self.last >= PROGRESS_STEP || n == 0 {
            self.last = self.total;
            if let Some(p) = self.progress.as_mut() {
                p(self.total);
            }
        }
        Ok(n)
    }
}

/// The 1-based line on which `record` (just read) starts. csv's own record position points before
/// any blank lines it skipped, so count back from the reader's position after the record instead:
/// it sits on the line after the record's terminator, and the record spans as many extra lines as
/// its (quoted) fields contain newlines.
pub(crate) fn record_line<R: Read>(csv: &csv::Reader<CountingReader<'_, R>>, record: &csv::ByteRecord) -> u64 {
    let pos = csv.position();
    let inner = csv.get_ref();
    let unterminated = inner.eof && pos.byte() == inner.total && inner.last_byte != b'\n';
    let end_line = if unterminated {
        pos.line()
    } else {
        pos.line().saturating_sub(1)
    };
    let inner_newlines = record
        .iter()
        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum::<u64>();
    end_line.saturating_sub(inner_newlines).max(1)
}

#[derive(Clone, Copy)]
struct Columns {
    customer: usize,
    date: usize,
    amount: usize,
    cost: Option<usize>,
    order: Option<usize>,
    product: Option<usize>,
}

impl Columns {
    fn find(header: &csv::ByteRecord) -> Result<Columns, TransactionError> {
        let find = |name: &str| -> Option<usize> {
            header.iter().position(|h| {
                let h = String::from_utf8_lossy(h);
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
        };
        Ok(Columns {
            customer: find("customer_id").ok_or(TransactionError::MissingColumn("customer_id"))?,
            date: find("date").ok_or(TransactionError::MissingColumn("date"))?,
            amount: find("amount").ok_or(TransactionError::MissingColumn("amount"))?,
            cost: find("cost"),
            order: find("order_id"),
            product: find("product"),
        })
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD` into a day number.
pub fn parse_date(b: &[u8]) -> Result<DayNumber, String> {
    let b = trim(b);
    let digits = |s: &[u8]| -> Option<u32> {
        let mut v = 0u32;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    let (y, m, d) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => {
            (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
        }
        8 => (digits(&b[0..4]), digits(&b[4..6]), digits(&b[6..8])),
        _ => (None, None, None),
    };
    let bad = || {
        format!(
            "date `{}` is not YYYY-MM-DD or YYYYMMDD",
            String::from_utf8_lossy(b)
        )
    };
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => {
            let y = i32::try_from(y).map_err(|_| bad())?;
            NaiveDate::from_ymd_opt(y, m, d)
                .map(day_number)
                .ok_or_else(|| format!("date `{}` does not exist", String::from_utf8_lossy(b)))
        }
        _ => Err(bad()),
    }
}

pub(crate) fn parse_number(b: &[u8], what: &str) -> Result<f64, String> {
    let t = trim(b);
    let s = std::str::from_utf8(t).map_err(|_| format!("{what} is not valid UTF-8"))?;
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{what} `{s}` is not a number")),
    }
}

impl Transactions {
    /// Reads the CSV contract described in the module docs from any reader.
    ///
    /// `progress`, when given, is called with the number of bytes read so far (about every MiB and
    /// once at the end), so a caller can draw a progress bar.
    ///
    /// With [`ParseOptions::parallel`] (off by default) the input is read in blocks; each block is
    /// cut at line ends into chunks that are parsed on rayon's threads, each with its own
    /// interning tables, and the chunks are then merged in file order (see [`Self::append`]), so
    /// the result is the same as a sequential parse. Line breaks inside quoted fields would make a
    /// cut at a line end wrong, so from the first `"` in the data on, the rest of the input is
    /// parsed as one chunk.
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

    /// The single-threaded reader (the reference for [`Self::read`]).
    pub fn read_sequential<R: Read>(
        reader: R,
        options: &ParseOptions,
        progress: Option<&mut dyn FnMut(u64)>,
    ) -> Result<Transactions, TransactionError> {
        let counting = CountingReader::new(reader, progress);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(true)
            .flexible(true)
            .terminator(TERMINATOR)
            .buffer_capacity(1 << 20)
            .from_reader(counting);
        let header = csv
            .byte_headers()
            .map_err(|e| TransactionError::Read(e.to_string()))?
            .clone();
        let cols = Columns::find(&header)?;
        let mut t = Transactions::empty_for(cols);
        t.parse_records(&mut csv, cols, options)?;
        Ok(t)
    }

    fn empty_for(cols: Columns) -> Transactions {
        Transactions {
            costs: cols.cost.map(|_| Vec::new()),
            orders: cols.order.map(|_| (Interner::default(), Vec::new())),
            products: cols.product.map(|_| (Interner::default(), Vec::new())),
            ..Transactions::default()
        }
    }

    /// Reads records up to the end of `csv` into `self`. Line numbers are those of `csv`'s input.
    fn parse_records<R: Read>(
        &mut self,
        csv: &mut csv::Reader<CountingReader<'_, R>>,
        cols: Columns,
        options: &ParseOptions,
    ) -> Result<(), TransactionError> {
        let mut record = csv::ByteRecord::new();
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    // Framing errors (bad UTF-8 never occurs with byte records; I/O errors do).
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    if options.skip_bad_rows
                        && line > 0
                        && !matches!(e.kind(), csv::ErrorKind::Io(_))
                    {
                        self.bad_rows.push(BadRow {
                            line,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                    return Err(TransactionError::Read(e.to_string()));
                }
            }
            let line = record_line(csv, &record);
            if record.len() == 1 && trim(&record[0]).is_empty() {
                continue; // blank line
            }
            if let Err(reason) = self.push_record(&record, cols, options) {
                if options.skip_bad_rows {
                    self.bad_rows.push(BadRow { line, reason });
                } else {
                    return Err(TransactionError::BadRow { line, reason });
                }
            }
        }
        Ok(())
    }

    /// Parses one chunk of whole records (no header); line numbers are relative to the chunk
    /// (its first line is line 1). Returns the chunk's transactions or its first error, and the
    /// number of line feeds in the chunk.
    fn parse_chunk(
        bytes: &[u8],
        cols: Columns,
        options: &ParseOptions,
    ) -> (Result<Transactions, TransactionError>, u64) {
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let counting = CountingReader::new(bytes, None);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(false)
            .flexible(true)
            .terminator(TERMINATOR)
            .buffer_capacity(1 << 16)
            .from_reader(counting);
        let mut t = Transactions::empty_for(cols);
        let result = t.parse_records(&mut csv, cols, options).map(|()| t);
        (result, newlines)
    }

    /// Appends `other` (parsed from the text right after `self`'s) as if both had been parsed in
    /// one pass: `other`'s ids are interned in the order of their first occurrence in `other`,
    /// which is the order a sequential parse would have met them in; `line_offset` is added to
    /// `other`'s line numbers.
    fn append(&mut self, other: Transactions, line_offset: u64) -> Result<(), TransactionError> {
        let remap = |into: &mut Interner, from: Interner| -> Result<Vec<u32>, TransactionError> {
            from.ids.into_iter().map(|s| into.intern_owned(s)).collect()
        };
        let customers = remap(&mut self.customers, other.customers)?;
        self.rows.extend(other.rows.iter().map(|r| Row {
            customer: customers[r.customer as usize],
            ..*r
        }));
        if let (Some(mine), Some(theirs)) = (self.costs.as_mut(), other.costs) {
            mine.extend(theirs);
        }
        for (mine, theirs) in [
            (&mut self.orders, other.orders),
            (&mut self.products, other.products),
        ] {
            if let (Some((int, keys)), Some((oint, okeys))) = (mine.as_mut(), theirs) {
                let map = remap(int, oint)?;
                keys.extend(okeys.iter().map(|&k| {
                    if k == NONE_KEY {
                        NONE_KEY
                    } else {
                        map[k as usize]
                    }
                }));
            }
        }
        self.bad_rows
            .extend(other.bad_rows.into_iter().map(|b| BadRow {
                line: b.line + line_offset,
                reason: b.reason,
            }));
        Ok(())
    }

    fn read_parallel<R: Read>(
        mut reader: R,
        options: &ParseOptions,
        mut progress: Option<&mut dyn FnMut(u64)>,
    ) -> Result<Transactions, TransactionError> {
        let chunk = options.chunk_bytes.max(1);
        let pieces = (2 * rayon::current_num_threads()).max(1);
        let block = chunk.saturating_mul(pieces);
        let mut buf: Vec<u8> = Vec::new();
        let mut total: u64 = 0;
        let mut eof = false;
        // Fills `buf` with up to `want` more bytes (fewer only at the end of the input).
        let mut fill =
            |buf: &mut Vec<u8>, want: usize, eof: &mut bool| -> Result<u64, TransactionError> {
                let start = buf.len();
                buf.resize(start + want, 0);
                let mut n = start;
                while n < buf.len() {
                    match reader.read(&mut buf[n..]) {
                        Ok(0) => {
                            *eof = true;
                            break;
                        }
                        Ok(k) => n += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(TransactionError::Read(e.to_string())),
                    }
                }
                buf.truncate(n);
                Ok((n - start) as u64)
            };
        // The header: read until a whole first record is in the buffer.
        total += fill(&mut buf, block.min(1 << 20), &mut eof)?;
        let (header, data_start, data_line) = loop {
            let mut csv = csv::ReaderBuilder::new()
                .delimiter(options.delimiter)
                .has_headers(false)
                .flexible(true)
                .terminator(TERMINATOR)
                .from_reader(buf.as_slice());
            let mut header = csv::ByteRecord::new();
            let got = csv
                .read_byte_record(&mut header)
                .map_err(|e| TransactionError::Read(e.to_string()))?;
            let pos = csv.position().clone();
            // Complete when the record's terminator is in the buffer (or the input ended).
            let complete = eof || (pos.byte() as usize) < buf.len();
            if complete {
                if !got {
                    header.clear();
                }
                break (header, pos.byte() as usize, pos.line());
            }
            total += fill(&mut buf, block, &mut eof)?;
        };
        let cols = Columns::find(&header)?;
        let mut t = Transactions::empty_for(cols);
        buf.drain(..data_start);
        let mut line_offset = data_line.saturating_sub(1);
        let mut consumed = data_start as u64;
        let mut sequential_rest = false;
        let mut reported: Option<u64> = None;
        loop {
            if !eof && buf.len() < block {
                let want = block - buf.len();
                total += fill(&mut buf, want, &mut eof)?;
            }
            if buf.is_empty() {
                break;
            }
            if buf.contains(&b'"') {
                sequential_rest = true;
            }
            if sequential_rest && !eof {
                // Quotes may hide line breaks: take the rest of the input as one chunk (the
                // buffer doubles, so the quote search above stays linear overall).
                let want = block.max(buf.len());
                total += fill(&mut buf, want, &mut eof)?;
                continue;
            }
            // Whole lines only, unless this is the end of the input.
            let usable = if eof {
                buf.len()
            } else {
                match buf.iter().rposition(|&b| b == b'\n') {
                    Some(p) => p + 1,
                    None => {
                        // A line longer than the block: read more.
                        total += fill(&mut buf, block, &mut eof)?;
                        continue;
                    }
                }
            };
            let text = &buf[..usable];
            let mut cuts = vec![0usize];
            if !sequential_rest {
                let target = text.len().div_ceil(pieces).max(1);
                let mut at = 0;
                while at < text.len() {
                    let want = (at + target).min(text.len());
                    let end = if want == text.len() {
                        want
                    } else {
                        match text[want..].iter().position(|&b| b == b'\n') {
                            Some(p) => want + p + 1,
                            None => text.len(),
                        }
                    };
                    cuts.push(end);
                    at = end;
                }
            } else {
                cuts.push(text.len());
            }
            let parsed: Vec<(Result<Transactions, TransactionError>, u64)> = cuts
                .par_windows(2)
                .map(|w| Self::parse_chunk(&text[w[0]..w[1]], cols, options))
                .collect();
            for (result, newlines) in parsed {
                match result {
                    Ok(part) => t.append(part, line_offset)?,
                    Err(TransactionError::BadRow { line, reason }) => {
                        return Err(TransactionError::BadRow {
                            line: line + line_offset,
                            reason,
                        });
                    }
                    Err(e) => return Err(e),
                }
                line_offset += newlines;
            }
            consumed += usable as u64;
            buf.drain(..usable);
            if let Some(p) = progress.as_mut() {
                p(consumed);
                reported = Some(consumed);
            }
            if eof && buf.is_empty() {
                break;
            }
        }
        if let Some(p) = progress.as_mut()
            && reported != Some(total)
        {
            p(total);
        }
        Ok(t)
    }

    fn push_record(
        &mut self,
        rec: &csv::ByteRecord,
        cols: Columns,
        options: &ParseOptions,
    ) -> Result<(), String> {
        let field = |i: usize, name: &str| -> Result<&[u8], String> {
            rec.get(i)
                .ok_or_else(|| format!("missing field `{name}` (row has {} fields)", rec.len()))
        };
        let cid = trim(field(cols.customer, "customer_id")?);
        if cid.is_empty() {
            return Err("customer_id is empty".into());
        }
        let cid =
            std::str::from_utf8(cid).map_err(|_| "customer_id is not valid UTF-8".to_string())?;
        let day = parse_date(field(cols.date, "date")?)?;
        let amount = parse_number(field(cols.amount, "amount")?, "amount")?;
        if options.reject_negative_amounts && amount < 0.0 {
            return Err(format!("amount {amount} is negative"));
        }
        let cost = match cols.cost {
            Some(i) => {
                let raw = rec.get(i).map(trim).unwrap_or(b"");
                if raw.is_empty() {
                    Some(0.0)
                } else {
                    Some(parse_number(raw, "cost")?)
                }
            }
            None => None,
        };
        let opt_str = |i: Option<usize>, name: &str| -> Result<Option<&str>, String> {
            match i.and_then(|i| rec.get(i)).map(trim) {
                Some(b) if !b.is_empty() => std::str::from_utf8(b)
                    .map(Some)
                    .map_err(|_| format!("{name} is not valid UTF-8")),
                _ => Ok(None),
            }
        };
        let order = opt_str(cols.order, "order_id")?;
        let product = opt_str(cols.product, "product")?;
        // Everything validated: now mutate.
        let customer = self.customers.intern(cid).map_err(|e| e.to_string())?;
        self.rows.push(Row {
            customer,
            day,
            amount,
        });
        if let (Some(cs), Some(c)) = (self.costs.as_mut(), cost) {
            cs.push(c);
        }
        if let Some((int, keys)) = self.orders.as_mut() {
            keys.push(match order {
                Some(o) => int.intern(o).map_err(|e| e.to_string())?,
                None => NONE_KEY,
            });
        }
        if let Some((int, keys)) = self.products.as_mut() {
            keys.push(match product {
                Some(p) => int.intern(p).map_err(|e| e.to_string())?,
                None => NONE_KEY,
            });
        }
        Ok(())
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

    /// Each customer's purchase history with same-day transactions merged (amounts and costs
    /// summed), days ascending. Linear time (a counting sort by customer, then a small sort per
    /// customer).
    pub fn histories(&self) -> Histories {
        let n = self.customers.len();
        let mut offsets = vec![0u32; n + 1];
        for r in &self.rows {
            offsets[r.customer as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut tmp: Vec<(DayNumber, f64, f64)> = vec![(0, 0.0, 0.0); self.rows.len()];
        for (i, r) in self.rows.iter().enumerate() {
            let slot = &mut fill[r.customer as usize];
            let c = self.costs.as_ref().map_or(0.0, |c| c[i]);
            tmp[*slot as usize] = (r.day, r.amount, c);
            *slot += 1;
        }
        // Sort each customer's slice by day and merge equal days.
        let mut days = Vec::with_capacity(tmp.len());
        let mut amounts = Vec::with_capacity(tmp.len());
        let mut costs = Vec::with_capacity(if self.costs.is_some() { tmp.len() } else { 0 });
        let mut out_offsets = Vec::with_capacity(n + 1);
        out_offsets.push(0u32);
        for c in 0..n {
            let s = &mut tmp[offsets[c] as usize..offsets[c + 1] as usize];
            if !s.is_sorted_by_key(|e| e.0) {
                s.sort_unstable_by_key(|e| e.0);
            }
            let mut last: Option<DayNumber> = None;
            for &(d, a, k) in s.iter() {
                if last == Some(d) {
                    if let Some(x) = amounts.last_mut() {
                        *x += a;
                    }
                    if let Some(x) = costs.last_mut() {
                        *x += k;
                    }
                } else {
                    days.push(d);
                    amounts.push(a);
                    if self.costs.is_some() {
                        costs.push(k);
                    }
                    last = Some(d);
                }
            }
            out_offsets.push(days.len() as u32);
        }
        Histories {
            offsets: out_offsets,
            days,
            amounts,
            costs: self.costs.as_ref().map(|_| costs),
        }
    }

    /// Baskets for cross-sell: the distinct products bought together, one basket per `order_id`
    /// (or, when the file has no `order_id`, per customer and day). Empty when there is no
    /// `product` column. Each basket's products are sorted and deduplicated.
    pub fn baskets(&self) -> Vec<Basket> {
        let Some((_, products)) = self.products.as_ref() else {
            return Vec::new();
        };
        let mut keyed: Vec<(u64, u32, u32)> = Vec::with_capacity(self.rows.len());
        for (i, r) in self.rows.iter().enumerate() {
            let p = products[i];
            if p == NONE_KEY {
                continue;
            }
            let key = match self.orders.as_ref().map(|(_, o)| o[i]) {
                Some(o) if o != NONE_KEY => u64::from(o),
                // No order id: customer and day identify the basket (high bit marks the kind).
                _ => (1u64 << 63) | (u64::from(r.customer) << 32) | u64::from(r.day as u32),
            };
            keyed.push((key, r.customer, p));
        }
        keyed.sort_unstable();
        let mut out: Vec<Basket> = Vec::new();
        let mut i = 0;
        while i < keyed.len() {
            let key = keyed[i].0;
            let customer = keyed[i].1;
            let mut items = Vec::new();
            while i < keyed.len() && keyed[i].0 == key {
                if items.last() != Some(&keyed[i].2) {
                    items.push(keyed[i].2);
                }
                i += 1;
            }
            out.push(Basket {
                customer,
                products: items,
            });
        }
        out
    }

    /// Per-customer summaries as of the calibration end. See [`summarize`].
    pub fn summarize(&self, options: &SummaryOptions) -> Result<Summary, TransactionError> {
        summarize(&self.histories(), options)
    }
}

/// One basket: the products one customer bought in one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Basket {
    /// Customer key.
    pub customer: u32,
    /// Product keys, sorted and distinct.
    pub products: Vec<u32>,
}

/// Purchase histories per customer, same-day purchases merged; compact column layout.
#[derive(Clone, Debug, Default)]
pub struct Histories {
    offsets: Vec<u32>,
    days: Vec<DayNumber>,
    amounts: Vec<f64>,
    costs: Option<Vec<f64>>,
}

/// One customer's history: parallel slices, days strictly ascending.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    /// Purchase days, strictly ascending.
    pub days: &'a [DayNumber],
    /// Amount per purchase day.
    pub amounts: &'a [f64],
    /// Cost per purchase day, when costs are known.
    pub costs: Option<&'a [f64]>,
}

impl Histories {
    /// Number of customers (keys are `0..len()`).
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The history of customer `key`.
    pub fn get(&self, key: u32) -> History<'_> {
        let k = key as usize;
        let (a, b) = match (self.offsets.get(k), self.offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        History {
            days: &self.days[a..b],
            amounts: &self.amounts[a..b],
            costs: self.costs.as_ref().map(|c| &c[a..b]),
        }
    }
    /// Iterates `(key, history)`.
    pub fn iter(&self) -> impl Iterator<Item = (u32, History<'_>)> + '_ {
        (0..self.len() as u32).map(move |k| (k, self.get(k)))
    }
}

/// Options for [`summarize`].
#[derive(Clone, Copy, Debug)]
pub struct SummaryOptions {
    /// Unit of recency, T and the holdout length.
    pub period: Period,
    /// Last day of the calibration window (inclusive).
    pub calibration_end: NaiveDate,
    /// Last day of the holdout window (inclusive), if predictions are to be checked.
    pub holdout_end: Option<NaiveDate>,
}

/// One customer's summary as of the calibration end (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CustomerSummary {
    /// Customer key (see [`Transactions::customer_id`]).
    pub customer: u32,
    /// Repeat purchases in the calibration window (purchase days minus one).
    pub frequency: u32,
    /// Time from first to last calibration purchase, in periods.
    pub recency: f64,
    /// Time from first purchase to the calibration end, in periods.
    pub t: f64,
    /// Mean value of the repeat purchases (0 without repeats).
    pub monetary: f64,
    /// First purchase day.
    pub first_day: DayNumber,
    /// Last purchase day within calibration.
    pub last_day: DayNumber,
    /// Total spend in calibration, first purchase included.
    pub total_amount: f64,
    /// Total cost in calibration (0 when unknown).
    pub total_cost: f64,
    /// Purchase days in the holdout window.
    pub holdout_frequency: u32,
    /// Spend in the holdout window.
    pub holdout_amount: f64,
}

impl CustomerSummary {
    /// Gross margin rate in calibration, `(amount − cost) / amount`, when costs are known.
    pub fn margin_rate(&self) -> Option<f64> {
        (self.total_amount > 0.0).then(|| (self.total_amount - self.total_cost) / self.total_amount)
    }
}

/// The per-customer summaries and the window they describe.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Time unit.
    pub period: Period,
    /// Calibration end day.
    pub calibration_end: DayNumber,
    /// Holdout end day, if any.
    pub holdout_end: Option<DayNumber>,
    /// Holdout length in periods (0 without holdout).
    pub holdout_length: f64,
    /// Whether costs were known.
    pub has_cost: bool,
    /// One row per customer whose first purchase is on or before the calibration end, by key.
    pub customers: Vec<CustomerSummary>,
}

impl Summary {
    /// Builds a summary straight from `(frequency, recency, T, monetary)` values, for callers
    /// that already hold them (and for tests). Keys are positions.
    pub fn from_values(period: Period, values: &[(u32, f64, f64, f64)]) -> Summary {
        let customers = values
            .iter()
            .enumerate()
            .map(|(i, &(x, tx, t, m))| CustomerSummary {
                customer: i as u32,
                frequency: x,
                recency: tx,
                t,
                monetary: m,
                first_day: 0,
                last_day: 0,
                total_amount: m * f64::from(x),
                total_cost: 0.0,
                holdout_frequency: 0,
                holdout_amount: 0.0,
            })
            .collect();
        Summary {
            period,
            calibration_end: 0,
            holdout_end: None,
            holdout_length: 0.0,
            has_cost: false,
            customers,
        }
    }
}

/// Summarises histories as of `options.calibration_end` (see the module docs). Customers whose
/// first purchase falls after the calibration end are left out (they were not customers yet).
pub fn summarize(
    histories: &Histories,
    options: &SummaryOptions,
) -> Result<Summary, TransactionError> {
    let cal = day_number(options.calibration_end);
    let hold = options.holdout_end.map(day_number);
    if hold.is_some_and(|h| h <= cal) {
        return Err(TransactionError::InvalidOption(
            "the holdout end must be after the calibration end".into(),
        ));
    }
    let pd = options.period.days();
    let mut customers = Vec::with_capacity(histories.len());
    for (key, h) in histories.iter() {
        let Some(&first) = h.days.first() else {
            continue;
        };
        if first > cal {
            continue;
        }
        let ncal = h.days.partition_point(|&d| d <= cal);
        let last = h.days[ncal - 1];
        let repeat = &h.amounts[1..ncal];
        let frequency = repeat.len() as u32;
        let monetary = if repeat.is_empty() {
            0.0
        } else {
            repeat.iter().sum::<f64>() / repeat.len() as f64
        };
        let total_amount: f64 = h.amounts[..ncal].iter().sum();
        let total_cost: f64 = h.costs.map_or(0.0, |c| c[..ncal].iter().sum());
        let (holdout_frequency, holdout_amount) = match hold {
            Some(he) => {
                let nh = h.days.partition_point(|&d| d <= he);
                ((nh - ncal) as u32, h.amounts[ncal..nh].iter().sum::<f64>())
            }
            None => (0, 0.0),
        };
        customers.push(CustomerSummary {
            customer: key,
            frequency,
            recency: f64::from(last - first) / pd,
            t: f64::from(cal - first) / pd,
            monetary,
            first_day: first,
            last_day: last,
            total_amount,
            total_cost,
            holdout_frequency,
            holdout_amount,
        });
    }
    Ok(Summary {
        period: options.period,
        calibration_end: cal,
        holdout_end: hold,
        holdout_length: hold.map_or(0.0, |h| f64::from(h - cal) / pd),
        has_cost: histories.costs.is_some(),
        customers,
    })
}

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_and_summarizes() {
        let csv = "Customer_ID,date,amount,cost,extra\n\
                   a,2024-01-01,10,4,x\n\
                   a,20240101,5,1,x\n\
                   a,2024-01-15,20,5,\n\
                   b,2024-01-08,7,,\n\
                   a,2024-02-05,30,10,\n\
                   a,2024-03-01,99,0,\n\
                   c,2024-03-01,1,0,\n";
        let t = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap();
        assert_eq!(t.num_customers(), 3);
        let s = t
            .summarize(&SummaryOptions {
                period: Period::Week,
                calibration_end: d("2024-02-12"),
                holdout_end: Some(d("2024-03-10")),
            })
            .unwrap();
        assert_eq!(s.customers.len(), 2);
        let a = s.customers[0];
        assert_eq!(a.frequency, 2);
        assert!((a.recency - 5.0).abs() < 1e-12);
        assert!((a.t - 6.0).abs() < 1e-12);
        assert!((a.monetary - 25.0).abs() < 1e-12);
        assert!((a.total_amount - 65.0).abs() < 1e-12);
        assert!((a.total_cost - 20.0).abs() < 1e-12);
        assert_eq!(a.holdout_frequency, 1);
        let b = s.customers[1];
        assert_eq!(b.frequency, 0);
        assert_eq!(b.monetary, 0.0);
        assert!((s.holdout_length - 27.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn bad_rows_fail_or_are_collected() {
        let csv = "customer_id,date,amount\na,2024-01-01,10\nb,2024-13-01,3\nc,2024-01-01,abc\n\nd,2024-01-02\n";
        let err = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap_err();
        match err {
            TransactionError::BadRow { line, reason } => {
                assert_eq!(line, 3);
                assert!(reason.contains("does not exist"), "{reason}");
            }
            other => panic!("{other}"),
        }
        let opts = ParseOptions {
            skip_bad_rows: true,
            ..ParseOptions::default()
        };
        let t = Transactions::read(csv.as_bytes(), &opts, None).unwrap();
        assert_eq!(t.rows().len(), 1);
        let lines: Vec<u64> = t.bad_rows().iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 6]);
    }

    #[test]
    fn line_numbers_count_quoted_newlines_and_unterminated_last_line() {
        let opts = ParseOptions {
            skip_bad_rows: true,
            ..ParseOptions::default()
        };
        let csv =
            "customer_id,date,amount\n\"x\ny\",2024-01-01,zz\n\n\na,2024-01-01,1\nb,2024-01-01,q";
        let t = Transactions::read(csv.as_bytes(), &opts, None).unwrap();
        let lines: Vec<u64> = t.bad_rows().iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![2, 7]);
    }

    /// Compares everything a parse produces.
    fn assert_same(a: &Transactions, b: &Transactions) {
        assert_eq!(a.rows(), b.rows());
        assert_eq!(a.costs(), b.costs());
        assert_eq!(a.order_keys(), b.order_keys());
        assert_eq!(a.product_keys(), b.product_keys());
        assert_eq!(a.bad_rows(), b.bad_rows());
        assert_eq!(a.num_customers(), b.num_customers());
        for k in 0..a.num_customers() as u32 {
            assert_eq!(a.customer_id(k), b.customer_id(k));
        }
        assert_eq!(a.num_products(), b.num_products());
        for k in 0..a.num_products() as u32 {
            assert_eq!(a.product(k), b.product(k));
        }
        let orders = a.order_keys().map_or(0, |o| {
            o.iter()
                .filter(|&&k| k != NONE_KEY)
                .max()
                .map_or(0, |m| m + 1)
        });
        for k in 0..orders {
            assert_eq!(a.order_id(k), b.order_id(k));
        }
    }

    /// A generated file with every kind of row: good rows in several date formats, blank and
    /// whitespace lines, bad dates, bad numbers, negative amounts, missing fields, empty ids,
    /// blank optional columns, CRLF line ends, and optionally no final line feed.
    fn generated_csv(seed: u64, rows: usize, bad_every: usize, terminated: bool) -> String {
        let mut st = seed | 1;
        let mut next = move || {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            st
        };
        let mut s = String::from("customer_id,date,amount,cost,order_id,product\n");
        for i in 0..rows {
            let r = next();
            let c = r % 97;
            let day = 1 + (r >> 8) % 28;
            let month = 1 + (r >> 16) % 12;
            let amount = (r >> 24) % 10_000;
            let order = (r >> 40) % 500;
            let product = ["milk", "bread", "tea", "", "rice"][((r >> 50) % 5) as usize];
            let date = if r % 3 == 0 {
                format!("2023{month:02}{day:02}")
            } else {
                format!("2023-{month:02}-{day:02}")
            };
            let line = if bad_every > 0 && i % bad_every == bad_every - 1 {
                match (r >> 33) % 7 {
                    0 => format!("c{c},2023-02-30,1,0,o{order},{product}"),
                    1 => format!("c{c},{date},abc,0,o{order},{product}"),
                    2 => format!("c{c},{date}"),
                    3 => format!(",{date},5,0,,"),
                    4 => format!("c{c},{date},-5,0,,"),
                    5 => "   ".to_string(),
                    _ => String::new(),
                }
            } else if r % 11 == 0 {
                format!("c{c},{date},{amount}.25,,,")
            } else {
                format!("c{c},{date},{amount}.5,{},o{order},{product}", amount / 3)
            };
            s.push_str(&line);
            s.push_str(if r % 13 == 0 { "\r\n" } else { "\n" });
        }
        if !terminated {
            s.push_str("c1,2023-05-05,7,1,o1,tea");
        }
        s
    }

    fn parse(text: &str, skip: bool, parallel: bool, chunk: usize) -> Result<Transactions, String> {
        let opts = ParseOptions {
            skip_bad_rows: skip,
            parallel,
            chunk_bytes: chunk,
            ..ParseOptions::default()
        };
        let mut last = 0u64;
        let mut calls = 0usize;
        let mut cb = |b: u64| {
            assert!(b >= last, "progress goes forward");
            last = b;
            calls += 1;
        };
        let r =
            Transactions::read(text.as_bytes(), &opts, Some(&mut cb)).map_err(|e| e.to_string());
        if r.is_ok() {
            assert_eq!(last, text.len() as u64, "progress ends at the input size");
            assert!(calls > 0);
        }
        r
    }

    #[test]
    fn parallel_parse_equals_sequential() {
        for (seed, rows, bad_every, terminated) in [
            (1, 3000, 0, true),
            (2, 3000, 37, true),
            (3, 2500, 5, false),
            (4, 1, 0, false),
            (5, 0, 0, true),
            (6, 4000, 400, true),
        ] {
            let text = generated_csv(seed, rows, bad_every, terminated);
            for skip in [true, false] {
                let seq = parse(&text, skip, false, 1);
                for chunk in [1, 50, 333, 4096, 4 << 20] {
                    let par = parse(&text, skip, true, chunk);
                    match (&seq, &par) {
                        (Ok(a), Ok(b)) => assert_same(a, b),
                        (Err(a), Err(b)) => assert_eq!(a, b, "seed {seed} chunk {chunk}"),
                        _ => panic!("seed {seed} skip {skip} chunk {chunk}: {seq:?} vs {par:?}"),
                    }
                }
                if bad_every > 0 && !skip {
                    assert!(seq.is_err(), "a bad row fails the parse");
                }
                if bad_every > 0 && skip {
                    assert!(!seq.as_ref().unwrap().bad_rows().is_empty());
                }
            }
        }
    }

    #[test]
    fn parallel_parse_with_quotes_and_odd_headers_equals_sequential() {
        let mut text = generated_csv(9, 500, 17, true);
        // a quoted field with a line break and a quoted id further down
        text.push_str("\"x\ny\",2023-01-01,zz,,,\n\"q,1\",2023-01-02,3,1,o9,\"tea, green\"\n");
        text.push_str(
            &generated_csv(10, 300, 23, false)
                .replace("customer_id,date,amount,cost,order_id,product\n", ""),
        );
        let others = [
            text.clone(),
            "\u{feff}Customer_ID,date,amount\r\na,2024-01-01,1\r\nb,20240102,2".to_string(),
            "customer_id,date,amount\n".to_string(),
            "customer_id,date,amount".to_string(),
            String::new(),
            "customer_id,day,amount\na,2024-01-01,1\n".to_string(),
            "\"customer_id\",\"date\",\"amount\"\na,2024-01-01,1\n\nb,2024-01-01,x\n".to_string(),
        ];
        for t in &others {
            for skip in [true, false] {
                let seq = parse(t, skip, false, 1);
                for chunk in [1, 7, 64, 1 << 20] {
                    match (&seq, &parse(t, skip, true, chunk)) {
                        (Ok(a), Ok(b)) => assert_same(a, b),
                        (Err(a), Err(b)) => assert_eq!(a, b),
                        (a, b) => panic!("{t:?} skip {skip} chunk {chunk}: {a:?} vs {b:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn crlf_line_numbers() {
        let csv =
            "customer_id,date,amount\r\na,2024-01-01,1\r\n,2024-01-01,2\r\n\r\nb,2024-01-01,x\r\n";
        for parallel in [false, true] {
            let opts = ParseOptions {
                skip_bad_rows: true,
                parallel,
                ..ParseOptions::default()
            };
            let t = Transactions::read(csv.as_bytes(), &opts, None).unwrap();
            let lines: Vec<u64> = t.bad_rows().iter().map(|b| b.line).collect();
            assert_eq!(lines, vec![3, 5]);
            assert_eq!(t.rows().len(), 1);
            assert_eq!(t.customer_id(0), "a");
        }
    }

    #[test]
    fn missing_column() {
        let err = Transactions::read(
            "customer_id,day,amount\n".as_bytes(),
            &ParseOptions::default(),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, TransactionError::MissingColumn("date")));
    }

    #[test]
    fn baskets_by_order_or_day() {
        let csv = "customer_id,date,amount,order_id,product\n\
                   a,2024-01-01,1,o1,milk\na,2024-01-01,1,o1,bread\na,2024-01-01,1,o2,milk\n";
        let t = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap();
        let b = t.baskets();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].products.len(), 2);
        let csv = "customer_id,date,amount,product\na,2024-01-01,1,milk\na,2024-01-01,1,bread\nb,2024-01-01,1,milk\n";
        let t = Transactions::read(csv.as_bytes(), &ParseOptions::default(), None).unwrap();
        assert_eq!(t.baskets().len(), 2);
    }

    #[test]
    fn progress_reports_bytes() {
        let csv = "customer_id,date,amount\na,2024-01-01,10\n";
        let mut seen = 0u64;
        let mut cb = |b: u64| seen = b;
        Transactions::read(csv.as_bytes(), &ParseOptions::default(), Some(&mut cb)).unwrap();
        assert_eq!(seen, csv.len() as u64);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn rows() -> impl Strategy<Value = Vec<(u8, u16, u32)>> {
            prop::collection::vec((0u8..20, 0u16..400, 1u32..100_000), 1..200)
        }

        fn build(rows: &[(u8, u16, u32)]) -> Transactions {
            let base = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
            let mut b = TransactionsBuilder::new();
            for &(c, d, cents) in rows {
                let date = base + chrono::Duration::days(i64::from(d));
                b.push(
                    &format!("c{c}"),
                    date,
                    f64::from(cents) / 100.0,
                    None,
                    None,
                    None,
                )
                .unwrap();
            }
            b.build()
        }

        fn by_id(t: &Transactions, s: &Summary) -> Vec<(String, CustomerSummary)> {
            let mut v: Vec<(String, CustomerSummary)> = s
                .customers
                .iter()
                .map(|c| {
                    (
                        t.customer_id(c.customer).to_string(),
                        CustomerSummary { customer: 0, ..*c },
                    )
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        }

        proptest! {
            #[test]
            fn summary_is_invariant_to_row_order(rows in rows(), seed in any::<u64>()) {
                let opts = SummaryOptions {
                    period: Period::Week,
                    calibration_end: NaiveDate::from_ymd_opt(2023, 10, 1).unwrap(),
                    holdout_end: NaiveDate::from_ymd_opt(2024, 2, 1),
                };
                let a = build(&rows);
                let mut shuffled = rows.clone();
                // Deterministic Fisher-Yates from the seed.
                let mut st = seed | 1;
                for i in (1..shuffled.len()).rev() {
                    st ^= st << 13; st ^= st >> 7; st ^= st << 17;
                    shuffled.swap(i, (st % (i as u64 + 1)) as usize);
                }
                let b = build(&shuffled);
                let (sa, sb) = (a.summarize(&opts).unwrap(), b.summarize(&opts).unwrap());
                let (va, vb) = (by_id(&a, &sa), by_id(&b, &sb));
                prop_assert_eq!(va.len(), vb.len());
                for ((ia, ca), (ib, cb)) in va.iter().zip(vb.iter()) {
                    prop_assert_eq!(ia, ib);
                    prop_assert_eq!(ca.frequency, cb.frequency);
                    prop_assert_eq!(ca.recency, cb.recency);
                    prop_assert_eq!(ca.t, cb.t);
                    prop_assert!((ca.monetary - cb.monetary).abs() <= 1e-9 * ca.monetary.abs().max(1.0));
                    prop_assert_eq!(ca.holdout_frequency, cb.holdout_frequency);
                    prop_assert!(ca.recency <= ca.t);
                }
            }
        }
    }
}
