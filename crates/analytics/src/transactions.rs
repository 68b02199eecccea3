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

use std::hash::Hasher;
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

/// The hash of an id as the interning tables use it. The length is mixed in because
/// [`IdHasher::write`] pads the last word with zeros (`a` and `a\0` would always collide).
fn hash_id(bytes: &[u8], mask: u64) -> u64 {
    let mut h = IdHasher::default();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish() & mask
}

/// Bits of an id's hash that choose its shard of a customer / order / product table. Shards are
/// separate tables, so the parallel reader can fill them on all threads at once; 64 keeps them
/// balanced on machines with a few dozen threads.
const SHARD_BITS: u32 = 6;

fn shard_of(hash: u64, bits: u32) -> usize {
    // `checked_shr(64)` is `None`: with no shard bits everything is shard 0.
    hash.checked_shr(64 - bits).unwrap_or(0) as usize
}

/// Marks a slot whose entry is still being merged (see [`merge_ids`]): its value is then an index
/// into that merge's list of new ids, not a key.
const PENDING: u32 = 1 << 31;

/// The bits of a hash kept in a slot, so most mismatches are rejected without reading the string.
fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32 & !PENDING
}

/// One slot of a [`Table`]: `value` 0 is empty, otherwise key + 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    tag: u32,
    value: u32,
}

impl Slot {
    fn index(self) -> usize {
        self.value as usize - 1
    }
    fn pending(self) -> bool {
        self.tag & PENDING != 0
    }
}

/// An open-addressing (linear probing) index of entries stored elsewhere: it holds only keys, so
/// the strings are allocated once, in one buffer.
#[derive(Clone, Debug, Default)]
struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    /// The position of the slot for which `eq` holds, among those with the hash's tag.
    fn find(&self, hash: u64, mut eq: impl FnMut(Slot) -> bool) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = tag_of(hash);
        let mut pos = hash as usize & mask;
        loop {
            let s = self.slots[pos];
            if s.value == 0 {
                return None;
            }
            if s.tag & !PENDING == tag && eq(s) {
                return Some(pos);
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds an entry known to be absent. `hash_of` gives the hash of an existing slot's entry
    /// (needed when the table grows).
    fn insert(&mut self, hash: u64, slot: Slot, hash_of: impl Fn(Slot) -> u64) {
        // At most half full, so probe sequences stay short.
        if (self.len + 1) * 2 > self.slots.len() {
            let cap = (self.slots.len() * 2).max(16);
            let old = std::mem::replace(&mut self.slots, vec![Slot::default(); cap]);
            for s in old.into_iter().filter(|s| s.value != 0) {
                self.place(hash_of(s), s);
            }
        }
        self.place(hash, slot);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut pos = hash as usize & mask;
        while self.slots[pos].value != 0 {
            pos = (pos + 1) & mask;
        }
        self.slots[pos] = slot;
    }
}

/// The bytes of entry `k` in an interner's concatenated strings.
fn span<'a>(text: &'a str, ends: &[usize], k: usize) -> &'a [u8] {
    let start = if k == 0 { 0 } else { ends[k - 1] };
    &text.as_bytes()[start..ends[k]]
}

/// Maps distinct strings to dense `u32` keys (in order of first interning). The strings live in
/// one buffer; the index is split in shards by hash, so that the parallel reader can merge
/// chunks' ids into it on all threads (see `merge_ids`).
#[derive(Clone, Debug)]
pub struct Interner {
    text: String,
    /// End of each key's string in `text`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// `1 << shard_bits` tables.
    tables: Vec<Table>,
    shard_bits: u32,
    /// ANDed into every hash: all ones, except in tests that force collisions.
    mask: u64,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_layout(SHARD_BITS, u64::MAX)
    }
}

impl Interner {
    fn with_layout(shard_bits: u32, mask: u64) -> Self {
        Interner {
            text: String::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            tables: vec![Table::default(); 1 << shard_bits],
            shard_bits,
            mask,
        }
    }

    fn bytes_at(&self, k: usize) -> &[u8] {
        span(&self.text, &self.ends, k)
    }

    fn find_hashed(&self, hash: u64, s: &[u8]) -> Option<u32> {
        let table = &self.tables[shard_of(hash, self.shard_bits)];
        let pos = table.find(hash, |slot| self.bytes_at(slot.index()) == s)?;
        Some(table.slots[pos].value - 1)
    }

    /// The key of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Result<u32, TransactionError> {
        let hash = hash_id(s.as_bytes(), self.mask);
        if let Some(k) = self.find_hashed(hash, s.as_bytes()) {
            return Ok(k);
        }
        let k = u32::try_from(self.hashes.len()).map_err(|_| TransactionError::TooManyIds)?;
        if k == NONE_KEY {
            return Err(TransactionError::TooManyIds);
        }
        self.text.push_str(s);
        self.ends.push(self.text.len());
        self.hashes.push(hash);
        let hashes = &self.hashes;
        let slot = Slot {
            tag: tag_of(hash),
            value: k + 1,
        };
        self.tables[shard_of(hash, self.shard_bits)].insert(hash, slot, |s| hashes[s.index()]);
        Ok(k)
    }
    /// The key of `s`, adding it if new (the string is copied into the shared buffer).
    pub fn intern_owned(&mut self, s: Box<str>) -> Result<u32, TransactionError> {
        self.intern(&s)
    }
    /// The key of `s` if present.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.find_hashed(hash_id(s.as_bytes(), self.mask), s.as_bytes())
    }
    /// The string for a key.
    pub fn resolve(&self, key: u32) -> Option<&str> {
        let k = key as usize;
        let end = *self.ends.get(k)?;
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        self.text.get(start..end)
    }
    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }
    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
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
pub(crate) fn record_line<R: Read>(
    csv: &csv::Reader<CountingReader<'_, R>>,
    record: &csv::ByteRecord,
) -> u64 {
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
    /// The number of leading fields that hold every column read.
    fn width(&self) -> usize {
        [self.cost, self.order, self.product]
            .into_iter()
            .flatten()
            .chain([self.customer, self.date, self.amount])
            .max()
            .unwrap_or(0)
            + 1
    }

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
    let digit = |i: usize| -> Option<u32> {
        let d = b[i].wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let number = |at: &[usize]| -> Option<u32> {
        at.iter().try_fold(0u32, |v, &i| Some(v * 10 + digit(i)?))
    };
    let ymd = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => {
            (number(&[0, 1, 2, 3]), number(&[5, 6]), number(&[8, 9]))
        }
        8 => (number(&[0, 1, 2, 3]), number(&[4, 5]), number(&[6, 7])),
        _ => (None, None, None),
    };
    let bad = || {
        format!(
            "date `{}` is not YYYY-MM-DD or YYYYMMDD",
            String::from_utf8_lossy(b)
        )
    };
    match ymd {
        (Some(y), Some(m), Some(d)) => {
            let y = i32::try_from(y).map_err(|_| bad())?;
            day_number_ymd(y, m, d)
                .ok_or_else(|| format!("date `{}` does not exist", String::from_utf8_lossy(b)))
        }
        _ => Err(bad()),
    }
}

/// The day number of a date, `None` if it does not exist. Years of four digits are computed
/// directly (days from civil, as in H. Hinnant's `chrono`-compatible algorithms), because chrono's
/// general constructor took a tenth of the parse time; other years go to chrono.
fn day_number_ymd(y: i32, m: u32, d: u32) -> Option<DayNumber> {
    if !(0..=9999).contains(&y) {
        return NaiveDate::from_ymd_opt(y, m, d).map(day_number);
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let length = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > length {
        return None;
    }
    // Years start in March, so the leap day ends a year.
    let (m, d) = (m as i32, d as i32);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days from 0000-03-01 to 1970-01-01, which is day 719,163 from the common era.
    Some(era * 146_097 + day_of_era - 719_468 + 719_163)
}

/// Reads `[-]digits[.digits]` with at most 15 digits the way `str::parse::<f64>` does, or `None`
/// for anything else. The digits make an integer below 2^53 and the power of ten is exact, so
/// one division, correctly rounded like the parser, gives the same bits (Clinger's fast path,
/// which the parser also takes); skipping the general parser and its UTF-8 check is what saves.
fn parse_simple_decimal(t: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut point = None;
    for (i, &c) in digits.iter().enumerate() {
        if c.is_ascii_digit() {
            mantissa = mantissa * 10 + u64::from(c - b'0');
        } else if c == b'.' && point.is_none() && i > 0 && i + 1 < digits.len() {
            point = Some(i);
        } else {
            return None;
        }
    }
    let (count, scale) = match point {
        Some(p) => (digits.len() - 1, digits.len() - p - 1),
        None => (digits.len(), 0),
    };
    if count > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[scale];
    Some(if negative { -v } else { v })
}

pub(crate) fn parse_number(b: &[u8], what: &str) -> Result<f64, String> {
    let t = trim(b);
    if let Some(v) = parse_simple_decimal(t) {
        return Ok(v);
    }
    let s = std::str::from_utf8(t).map_err(|_| format!("{what} is not valid UTF-8"))?;
    if s.is_empty() {
        return Err(format!("{what} is empty"));
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{what} `{s}` is not a number")),
    }
}

/// Cuts `text` (whole lines) into about `pieces` parts of similar size, at line ends: the part
/// boundaries, from 0 to `text.len()`.
fn cut_at_lines(text: &[u8], pieces: usize) -> Vec<usize> {
    let target = text.len().div_ceil(pieces.max(1)).max(1);
    let mut cuts = vec![0];
    let mut at = 0;
    while at < text.len() {
        let want = (at + target).min(text.len());
        let end = match text[want..].iter().position(|&b| b == b'\n') {
            Some(p) => want + p + 1,
            None => text.len(),
        };
        cuts.push(end);
        at = end;
    }
    cuts
}

/// A parsed chunk (with its own interning tables) and the number of line feeds in it.
type ChunkResult = Result<(Transactions, u64), TransactionError>;

/// The positions of the delimiter and line feed bytes in a text, in order. Found a word at a time
/// (a SWAR byte search), which is what makes the quote-free chunk parser fast.
struct Separators<'a> {
    bytes: &'a [u8],
    /// Start of the word after the one `found` belongs to.
    next: usize,
    /// One high bit per matching byte of the current word.
    found: u64,
    delimiter: u64,
    line_feed: u64,
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each zero byte of `v`, and nothing else (exact, unlike the shorter trick whose
/// borrow can mark the byte after a zero).
fn zero_bytes(v: u64) -> u64 {
    !(((v & LOW_SEVEN) + LOW_SEVEN) | v | LOW_SEVEN)
}

impl<'a> Separators<'a> {
    fn new(bytes: &'a [u8], delimiter: u8) -> Self {
        Separators {
            bytes,
            next: 0,
            found: 0,
            delimiter: LOW_BITS * u64::from(delimiter),
            line_feed: LOW_BITS * u64::from(b'\n'),
        }
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        while self.found == 0 {
            let at = self.next;
            let rest = self.bytes.get(at..).filter(|r| !r.is_empty())?;
            let mut w = [0u8; 8];
            let valid = rest.len().min(8);
            if valid == 8 {
                w.copy_from_slice(&rest[..8]);
            } else {
                w[..valid].copy_from_slice(rest);
            }
            let v = u64::from_le_bytes(w);
            let mut found = zero_bytes(v ^ self.delimiter) | zero_bytes(v ^ self.line_feed);
            if valid < 8 {
                // The zero padding must not match a NUL delimiter.
                found &= (1u64 << (8 * valid)) - 1;
            }
            self.found = found;
            self.next = at + 8;
        }
        let i = self.found.trailing_zeros() as usize / 8;
        self.found &= self.found - 1;
        Some(self.next - 8 + i)
    }
}

/// What [`merge_ids`] found for one chunk-local id.
#[derive(Clone, Copy, Debug)]
enum Found {
    /// Interned before this merge, under this key.
    Old(u32),
    /// First met in this merge, here: entry `p` of the shard's list of new ids.
    New(u32),
    /// First met in this merge, in an earlier chunk: entry `p` of the shard's list of new ids.
    Again(u32),
}

/// Interns the ids of consecutive chunks into `global` with the keys a sequential parse would
/// have given them, and returns for each chunk the global key of each of its local keys. Each
/// `locals[c]` holds chunk `c`'s distinct ids in the order of their first occurrence in it (and
/// their hashes, which are not computed again).
///
/// A sequential parse numbers ids by first occurrence, so a new id's key is the number of ids
/// interned before, plus the number of new ids in earlier chunks, plus its rank among its own
/// chunk's new ids. Which ids are new is decided shard by shard, in parallel: each shard's
/// table is searched and filled by one thread, walking the chunks in order, so the first chunk
/// to hold an id is the one that adds it. Until the counts are known the added entries point
/// into the chunks (`PENDING`); they are then rewritten to their keys, and the new strings are
/// appended in key order.
fn merge_ids(global: &mut Interner, locals: &[&Interner]) -> Result<MergedIds, TransactionError> {
    let bits = global.shard_bits;
    let shards = global.tables.len();
    // Each chunk's local keys grouped by shard: `order[starts[s]..starts[s + 1]]`, ascending.
    let groups: Vec<(Vec<usize>, Vec<u32>)> = locals
        .par_iter()
        .map(|local| {
            let mut starts = vec![0usize; shards + 1];
            for &h in &local.hashes {
                starts[shard_of(h, bits) + 1] += 1;
            }
            for s in 0..shards {
                starts[s + 1] += starts[s];
            }
            let mut fill = starts.clone();
            let mut order = vec![0u32; local.len()];
            for (k, &h) in (0u32..).zip(&local.hashes) {
                let s = shard_of(h, bits);
                order[fill[s]] = k;
                fill[s] += 1;
            }
            (starts, order)
        })
        .collect();
    // Where chunk `c`'s results start in shard `s`'s list: `at[c][s]`.
    let mut at = vec![vec![0usize; shards]; locals.len()];
    for s in 0..shards {
        let mut n = 0;
        for (c, (starts, _)) in groups.iter().enumerate() {
            at[c][s] = n;
            n += starts[s + 1] - starts[s];
        }
    }
    let Interner {
        text,
        ends,
        hashes,
        tables,
        ..
    } = global;
    let (text, ends, hashes) = (&*text, &*ends, &*hashes);
    // Per shard: what each of its local ids is, and the (chunk, local key) of each new id.
    type ShardFinds = (Vec<Found>, Vec<(u32, u32)>);
    let finds: Vec<ShardFinds> = tables
        .par_iter_mut()
        .enumerate()
        .map(|(s, table)| -> Result<ShardFinds, TransactionError> {
            let mut found = Vec::new();
            let mut new: Vec<(u32, u32)> = Vec::new();
            for (c, (local, (starts, order))) in (0u32..).zip(locals.iter().zip(&groups)) {
                for &l in &order[starts[s]..starts[s + 1]] {
                    let hash = local.hashes[l as usize];
                    let bytes = local.bytes_at(l as usize);
                    let hit = table.find(hash, |slot| {
                        if slot.pending() {
                            let (pc, pl) = new[slot.index()];
                            locals[pc as usize].bytes_at(pl as usize) == bytes
                        } else {
                            span(text, ends, slot.index()) == bytes
                        }
                    });
                    if let Some(pos) = hit {
                        let slot = table.slots[pos];
                        found.push(if slot.pending() {
                            Found::Again(slot.value - 1)
                        } else {
                            Found::Old(slot.value - 1)
                        });
                        continue;
                    }
                    let p = u32::try_from(new.len())
                        .ok()
                        .filter(|&p| p < u32::MAX)
                        .ok_or(TransactionError::TooManyIds)?;
                    new.push((c, l));
                    let slot = Slot {
                        tag: tag_of(hash) | PENDING,
                        value: p + 1,
                    };
                    table.insert(hash, slot, |slot| {
                        if slot.pending() {
                            let (pc, pl) = new[slot.index()];
                            locals[pc as usize].hashes[pl as usize]
                        } else {
                            hashes[slot.index()]
                        }
                    });
                    found.push(Found::New(p));
                }
            }
            Ok((found, new))
        })
        .collect::<Result<_, _>>()?;
    // Calls `f(shard, local key, found)` for every local id of chunk `c`.
    let each = |c: usize, f: &mut dyn FnMut(usize, u32, Found)| {
        let (starts, order) = &groups[c];
        for (s, (found, _)) in finds.iter().enumerate() {
            let keys = &order[starts[s]..starts[s + 1]];
            for (&l, &x) in keys.iter().zip(&found[at[c][s]..]) {
                f(s, l, x);
            }
        }
    };
    // Each chunk's new ids numbered in local key order (`NONE_KEY` for the others).
    let ranks: Vec<(Vec<u32>, u64)> = (0..locals.len())
        .into_par_iter()
        .map(|c| {
            let mut rank = vec![NONE_KEY; locals[c].len()];
            each(c, &mut |_, l, x| {
                if matches!(x, Found::New(_)) {
                    rank[l as usize] = 0;
                }
            });
            let mut n = 0u32;
            for r in rank.iter_mut().filter(|r| **r != NONE_KEY) {
                *r = n;
                n += 1;
            }
            (rank, u64::from(n))
        })
        .collect();
    let mut bases = Vec::with_capacity(ranks.len());
    let mut next = hashes.len() as u64;
    for (_, n) in &ranks {
        bases.push(next);
        next += n;
    }
    // The sequential parse fails when the next key would be `NONE_KEY`.
    if next > u64::from(NONE_KEY) {
        return Err(TransactionError::TooManyIds);
    }
    let key_of = |c: usize, l: u32| (bases[c] + u64::from(ranks[c].0[l as usize])) as u32;
    let new_keys: Vec<Vec<u32>> = tables
        .par_iter_mut()
        .zip(&finds)
        .map(|(table, (_, new))| {
            (0u32..)
                .zip(new)
                .map(|(p, &(c, l))| {
                    let key = key_of(c as usize, l);
                    let hash = locals[c as usize].hashes[l as usize];
                    let pending = table.find(hash, |slot| slot.pending() && slot.value == p + 1);
                    debug_assert!(pending.is_some(), "every new id has its pending slot");
                    if let Some(pos) = pending {
                        table.slots[pos] = Slot {
                            tag: tag_of(hash),
                            value: key + 1,
                        };
                    }
                    key
                })
                .collect()
        })
        .collect();
    let remaps: Vec<Vec<u32>> = (0..locals.len())
        .into_par_iter()
        .map(|c| {
            let mut remap = vec![NONE_KEY; locals[c].len()];
            each(c, &mut |s, l, x| {
                remap[l as usize] = match x {
                    Found::Old(k) => k,
                    Found::New(p) | Found::Again(p) => new_keys[s][p as usize],
                };
            });
            remap
        })
        .collect();
    let fresh = ranks
        .into_iter()
        .map(|(rank, _)| {
            (0u32..)
                .zip(rank)
                .filter(|&(_, r)| r != NONE_KEY)
                .map(|(l, _)| l)
                .collect()
        })
        .collect();
    Ok(MergedIds { remaps, fresh })
}

/// What [`merge_ids`] gives for a run of chunks.
struct MergedIds {
    /// Per chunk, the global key of each local key.
    remaps: Vec<Vec<u32>>,
    /// Per chunk, the local keys of the ids new to the global table, in key order. Their strings
    /// are added by [`push_fresh`], which must come before the next merge into the same table.
    fresh: Vec<Vec<u32>>,
}

/// Chunks whose keys are global, with what [`push_fresh`] needs for the customer, order and
/// product tables.
struct Merged {
    chunks: Vec<(Transactions, u64)>,
    fresh: [Option<Vec<Vec<u32>>>; 3],
}

/// Appends the strings of the ids [`merge_ids`] added (their keys are already in the tables).
fn push_fresh<'a>(
    global: &mut Interner,
    locals: impl Iterator<Item = &'a Interner>,
    fresh: &[Vec<u32>],
) {
    for (local, keys) in locals.zip(fresh) {
        for &l in keys {
            global.text.push_str(local.resolve(l).unwrap_or_default());
            global.ends.push(global.text.len());
            global.hashes.push(local.hashes[l as usize]);
        }
    }
}

/// One row's values, validated but not yet interned.
struct Fields<'a> {
    customer: &'a str,
    day: DayNumber,
    amount: f64,
    cost: Option<f64>,
    order: Option<&'a str>,
    product: Option<&'a str>,
}

/// Validates one record: `field(i)` is its `i`-th field and `len` its number of fields. Both
/// readers go through here, so they accept and reject the same rows with the same reasons.
fn parse_fields<'a>(
    field: impl Fn(usize) -> Option<&'a [u8]>,
    len: usize,
    cols: Columns,
    options: &ParseOptions,
) -> Result<Fields<'a>, String> {
    let required = |i: usize, name: &str| -> Result<&'a [u8], String> {
        field(i).ok_or_else(|| format!("missing field `{name}` (row has {len} fields)"))
    };
    let cid = trim(required(cols.customer, "customer_id")?);
    if cid.is_empty() {
        return Err("customer_id is empty".into());
    }
    let customer =
        std::str::from_utf8(cid).map_err(|_| "customer_id is not valid UTF-8".to_string())?;
    let day = parse_date(required(cols.date, "date")?)?;
    let amount = parse_number(required(cols.amount, "amount")?, "amount")?;
    if options.reject_negative_amounts && amount < 0.0 {
        return Err(format!("amount {amount} is negative"));
    }
    let cost = match cols.cost {
        Some(i) => {
            let raw = field(i).map(trim).unwrap_or(b"");
            if raw.is_empty() {
                Some(0.0)
            } else {
                Some(parse_number(raw, "cost")?)
            }
        }
        None => None,
    };
    let opt_str = |i: Option<usize>, name: &str| -> Result<Option<&'a str>, String> {
        match i.and_then(&field).map(trim) {
            Some(b) if !b.is_empty() => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| format!("{name} is not valid UTF-8")),
            _ => Ok(None),
        }
    };
    Ok(Fields {
        customer,
        day,
        amount,
        cost,
        order: opt_str(cols.order, "order_id")?,
        product: opt_str(cols.product, "product")?,
    })
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

    /// The single-threaded reader, on the csv crate (the reference for [`Self::read`]).
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
        let mut t = Transactions::empty_for(cols, SHARD_BITS, u64::MAX);
        t.parse_records(&mut csv, cols, options, 0)?;
        Ok(t)
    }

    fn empty_for(cols: Columns, shard_bits: u32, mask: u64) -> Transactions {
        let interner = || Interner::with_layout(shard_bits, mask);
        Transactions {
            customers: interner(),
            costs: cols.cost.map(|_| Vec::new()),
            orders: cols.order.map(|_| (interner(), Vec::new())),
            products: cols.product.map(|_| (interner(), Vec::new())),
            ..Transactions::default()
        }
    }

    /// Reads records up to the end of `csv` into `self`. Line numbers are those of `csv`'s input
    /// plus `line_offset`.
    fn parse_records<R: Read>(
        &mut self,
        csv: &mut csv::Reader<CountingReader<'_, R>>,
        cols: Columns,
        options: &ParseOptions,
        line_offset: u64,
    ) -> Result<(), TransactionError> {
        let mut record = csv::ByteRecord::new();
        let mut last = None;
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
                            line: line + line_offset,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                    return Err(TransactionError::Read(e.to_string()));
                }
            }
            let line = record_line(csv, &record) + line_offset;
            if record.len() == 1 && trim(&record[0]).is_empty() {
                continue; // blank line
            }
            if let Err(reason) = self.push_record(&record, cols, options, &mut last) {
                if options.skip_bad_rows {
                    self.bad_rows.push(BadRow { line, reason });
                } else {
                    return Err(TransactionError::BadRow { line, reason });
                }
            }
        }
        Ok(())
    }

    /// Parses one chunk of whole lines without any `"` (and no header); line numbers are
    /// relative to the chunk (its first line is line 1). Returns the chunk's transactions, with
    /// its own interning tables, and the number of line feeds in it; or its first error.
    ///
    /// Without quotes every line feed ends a record and every delimiter ends a field, so the csv
    /// state machine is not needed: the chunk is scanned for both bytes a word at a time, and the
    /// fields go through the same [`parse_fields`] as the csv reader's. Like the csv reader, an
    /// empty line is no record and a line of one blank field is skipped.
    fn parse_plain_chunk(
        bytes: &[u8],
        cols: Columns,
        options: &ParseOptions,
        mask: u64,
    ) -> ChunkResult {
        let mut t = Transactions::empty_for(cols, 0, mask);
        let need = cols.width();
        // The first `need` fields of the current line, as byte ranges.
        let mut fields: Vec<(usize, usize)> = Vec::with_capacity(need);
        let mut count = 1;
        let mut field_start = 0;
        let mut line_start = 0;
        let mut line = 1u64;
        let mut last = None;
        let mut record = |t: &mut Transactions,
                          fields: &[(usize, usize)],
                          count: usize,
                          start: usize,
                          end: usize,
                          line: u64|
         -> Result<(), TransactionError> {
            if count == 1 && trim(&bytes[start..end]).is_empty() {
                return Ok(());
            }
            let field = |i: usize| fields.get(i).map(|&(a, b)| &bytes[a..b]);
            let pushed = parse_fields(field, count, cols, options)
                .and_then(|f| t.push_fields(&f, &mut last));
            match pushed {
                Ok(()) => Ok(()),
                Err(reason) if options.skip_bad_rows => {
                    t.bad_rows.push(BadRow { line, reason });
                    Ok(())
                }
                Err(reason) => Err(TransactionError::BadRow { line, reason }),
            }
        };
        for pos in Separators::new(bytes, options.delimiter) {
            if fields.len() < need {
                fields.push((field_start, pos));
            }
            field_start = pos + 1;
            if bytes[pos] == b'\n' {
                record(&mut t, &fields, count, line_start, pos, line)?;
                fields.clear();
                count = 1;
                line_start = pos + 1;
                line += 1;
            } else {
                count += 1;
            }
        }
        if line_start < bytes.len() {
            if fields.len() < need {
                fields.push((field_start, bytes.len()));
            }
            record(&mut t, &fields, count, line_start, bytes.len(), line)?;
        }
        Ok((t, line - 1))
    }

    /// Merges the ids of chunks parsed from the text that follows `self`'s (each chunk with the
    /// line number of its first line, minus one) and turns their keys into global ones. The
    /// result still has to be added with [`Self::append_merged`], before the next merge.
    fn merge_chunks(
        &mut self,
        mut chunks: Vec<(Transactions, u64)>,
    ) -> Result<Merged, TransactionError> {
        let locals: Vec<&Interner> = chunks.iter().map(|(c, _)| &c.customers).collect();
        let customers = merge_ids(&mut self.customers, &locals)?;
        let merge_column = |column: &mut Option<(Interner, Vec<u32>)>,
                            get: fn(&Transactions) -> Option<&Interner>|
         -> Result<Option<MergedIds>, TransactionError> {
            match column.as_mut() {
                Some((global, _)) => {
                    let locals: Vec<&Interner> =
                        chunks.iter().filter_map(|(c, _)| get(c)).collect();
                    Ok(Some(merge_ids(global, &locals)?))
                }
                None => Ok(None),
            }
        };
        let orders = merge_column(&mut self.orders, |c| c.orders.as_ref().map(|(i, _)| i))?;
        let products = merge_column(&mut self.products, |c| c.products.as_ref().map(|(i, _)| i))?;
        chunks
            .par_iter_mut()
            .enumerate()
            .for_each(|(c, (chunk, _))| {
                if let Some(map) = customers.remaps.get(c) {
                    for r in &mut chunk.rows {
                        r.customer = map[r.customer as usize];
                    }
                }
                for (ids, column) in [
                    (&orders, &mut chunk.orders),
                    (&products, &mut chunk.products),
                ] {
                    let map = ids.as_ref().and_then(|m| m.remaps.get(c));
                    if let (Some(map), Some((_, keys))) = (map, column.as_mut()) {
                        for k in keys.iter_mut().filter(|k| **k != NONE_KEY) {
                            *k = map[*k as usize];
                        }
                    }
                }
            });
        Ok(Merged {
            chunks,
            fresh: [
                Some(customers.fresh),
                orders.map(|m| m.fresh),
                products.map(|m| m.fresh),
            ],
        })
    }

    /// Adds merged chunks: their new ids' strings, then their rows.
    fn append_merged(&mut self, merged: Merged) {
        let [customers, orders, products] = merged.fresh;
        let chunks = merged.chunks;
        if let Some(fresh) = customers {
            push_fresh(
                &mut self.customers,
                chunks.iter().map(|(c, _)| &c.customers),
                &fresh,
            );
        }
        if let (Some((global, _)), Some(fresh)) = (self.orders.as_mut(), orders) {
            let locals = chunks
                .iter()
                .filter_map(|(c, _)| c.orders.as_ref().map(|(i, _)| i));
            push_fresh(global, locals, &fresh);
        }
        if let (Some((global, _)), Some(fresh)) = (self.products.as_mut(), products) {
            let locals = chunks
                .iter()
                .filter_map(|(c, _)| c.products.as_ref().map(|(i, _)| i));
            push_fresh(global, locals, &fresh);
        }
        for (chunk, line_offset) in chunks {
            self.rows.extend_from_slice(&chunk.rows);
            if let (Some(mine), Some(theirs)) = (self.costs.as_mut(), chunk.costs) {
                mine.extend_from_slice(&theirs);
            }
            for (mine, theirs) in [
                (&mut self.orders, chunk.orders),
                (&mut self.products, chunk.products),
            ] {
                if let (Some((_, keys)), Some((_, theirs))) = (mine.as_mut(), theirs) {
                    keys.extend_from_slice(&theirs);
                }
            }
            self.bad_rows
                .extend(chunk.bad_rows.into_iter().map(|b| BadRow {
                    line: b.line + line_offset,
                    reason: b.reason,
                }));
        }
    }

    fn read_parallel<R: Read>(
        reader: R,
        options: &ParseOptions,
        progress: Option<&mut dyn FnMut(u64)>,
    ) -> Result<Transactions, TransactionError> {
        Self::read_parallel_with(reader, options, progress, u64::MAX)
    }

    /// [`Self::read_parallel`] with the hashes of ids ANDed with `mask` (tests use this to force
    /// collisions).
    fn read_parallel_with<R: Read>(
        mut reader: R,
        options: &ParseOptions,
        mut progress: Option<&mut dyn FnMut(u64)>,
        mask: u64,
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
        let mut t = Transactions::empty_for(cols, SHARD_BITS, mask);
        buf.drain(..data_start);
        let mut line_offset = data_line.saturating_sub(1);
        let mut consumed = data_start as u64;
        let mut reported: Option<u64> = None;
        let mut merged: Option<Merged> = None;
        // Buffers are reused: fresh memory costs a page fault per 4 KiB.
        let mut spare = Vec::new();
        // How much of `buf` is known to hold no `"`.
        let mut unquoted = 0;
        // Quotes may hide line breaks, so a cut at a line feed could fall inside a field; and a
        // line feed delimiter would make every field a line. In both cases the rest of the input
        // is left to the csv crate, on this thread.
        let mut streaming = options.delimiter == b'\n';
        while !streaming {
            if !eof && buf.len() < block {
                let want = block - buf.len();
                total += fill(&mut buf, want, &mut eof)?;
            }
            if buf.is_empty() {
                break;
            }
            if buf[unquoted..].contains(&b'"') {
                streaming = true;
                break;
            }
            unquoted = buf.len();
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
            let cuts = cut_at_lines(text, pieces);
            let mut next = std::mem::take(&mut spare);
            next.clear();
            next.extend_from_slice(&buf[usable..]);
            let mut next_unquoted = next.len();
            let mut parsed: Vec<ChunkResult> = Vec::new();
            let mut read = Ok(0);
            // While the pool parses this block, this thread appends the previous one and reads
            // the next (the reader need not be `Send`, so it cannot move to the pool).
            rayon::in_place_scope(|scope| {
                scope.spawn(|_| {
                    parsed = cuts
                        .par_windows(2)
                        .map(|w| Self::parse_plain_chunk(&text[w[0]..w[1]], cols, options, mask))
                        .collect();
                });
                if let Some(m) = merged.take() {
                    t.append_merged(m);
                }
                if !eof {
                    let want = block.saturating_sub(next.len());
                    read = fill(&mut next, want, &mut eof);
                    if !next[next_unquoted..].contains(&b'"') {
                        next_unquoted = next.len();
                    }
                }
            });
            let mut parts = Vec::with_capacity(parsed.len());
            for result in parsed {
                match result {
                    Ok((part, newlines)) => {
                        parts.push((part, line_offset));
                        line_offset += newlines;
                    }
                    Err(TransactionError::BadRow { line, reason }) => {
                        return Err(TransactionError::BadRow {
                            line: line + line_offset,
                            reason,
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
            merged = Some(t.merge_chunks(parts)?);
            // A read error comes after every row before it, as in a sequential parse.
            total += read?;
            consumed += usable as u64;
            spare = std::mem::replace(&mut buf, next);
            unquoted = next_unquoted;
            if let Some(p) = progress.as_mut() {
                p(consumed);
                reported = Some(consumed);
            }
        }
        if let Some(m) = merged.take() {
            t.append_merged(m);
        }
        if streaming {
            let mut report = |bytes: u64| {
                if let Some(p) = progress.as_mut() {
                    p(consumed + bytes);
                }
            };
            let rest = std::io::Cursor::new(buf).chain(reader);
            let mut csv = csv::ReaderBuilder::new()
                .delimiter(options.delimiter)
                .has_headers(false)
                .flexible(true)
                .terminator(TERMINATOR)
                .buffer_capacity(1 << 20)
                .from_reader(CountingReader::new(rest, Some(&mut report)));
            t.parse_records(&mut csv, cols, options, line_offset)?;
            return Ok(t);
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
        last: &mut Option<u32>,
    ) -> Result<(), String> {
        let fields = parse_fields(|i| rec.get(i), rec.len(), cols, options)?;
        self.push_fields(&fields, last)
    }

    /// Appends a validated row. `last` is the customer key of the previous row: files are often
    /// sorted by customer, and comparing with it is cheaper than a lookup.
    fn push_fields(&mut self, f: &Fields<'_>, last: &mut Option<u32>) -> Result<(), String> {
        let customer = match *last {
            Some(k) if self.customers.bytes_at(k as usize) == f.customer.as_bytes() => k,
            _ => self
                .customers
                .intern(f.customer)
                .map_err(|e| e.to_string())?,
        };
        *last = Some(customer);
        self.rows.push(Row {
            customer,
            day: f.day,
            amount: f.amount,
        });
        if let (Some(cs), Some(c)) = (self.costs.as_mut(), f.cost) {
            cs.push(c);
        }
        if let Some((int, keys)) = self.orders.as_mut() {
            keys.push(match f.order {
                Some(o) => int.intern(o).map_err(|e| e.to_string())?,
                None => NONE_KEY,
            });
        }
        if let Some((int, keys)) = self.products.as_mut() {
            keys.push(match f.product {
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
        for t in [a, b] {
            assert_lookups(&t.customers);
            for (int, _) in t.orders.iter().chain(&t.products) {
                assert_lookups(int);
            }
        }
    }

    /// Every string of an interner is found under its key, and the table takes more strings.
    fn assert_lookups(int: &Interner) {
        for k in 0..int.len() as u32 {
            let s = int.resolve(k).unwrap();
            assert_eq!(int.get(s), Some(k), "{s:?}");
        }
        let mut more = int.clone();
        let n = more.len() as u32;
        for i in 0..40 {
            assert_eq!(more.intern(&format!("new {i}")).unwrap(), n + i);
        }
        if let Some(s) = int.resolve(0) {
            assert_eq!(more.intern(s).unwrap(), 0);
        }
        assert_eq!(more.get("new 39"), Some(n + 39));
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
        parse_with(text, &opts, None)
    }

    /// Hash masks that force collisions: everything in one slot of one shard; two shards and few
    /// slots; same slot, different tags; same tags, no shard bits.
    const WEAK_MASKS: [u64; 4] = [
        0,
        0x8000_0000_0000_0003,
        0xffff_ffff_0000_0000,
        0x0000_0000_ffff_ffff,
    ];

    /// Reads `text`; in parallel with ids' hashes ANDed with `mask` if one is given.
    fn parse_with(
        text: &str,
        opts: &ParseOptions,
        mask: Option<u64>,
    ) -> Result<Transactions, String> {
        let mut last = 0u64;
        let mut calls = 0usize;
        let mut cb = |b: u64| {
            assert!(b >= last, "progress goes forward");
            last = b;
            calls += 1;
        };
        let r = match mask {
            Some(mask) => {
                Transactions::read_parallel_with(text.as_bytes(), opts, Some(&mut cb), mask)
            }
            None => Transactions::read(text.as_bytes(), opts, Some(&mut cb)),
        }
        .map_err(|e| e.to_string());
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
                let opts = ParseOptions {
                    skip_bad_rows: skip,
                    chunk_bytes: 200,
                    ..ParseOptions::default()
                };
                for mask in WEAK_MASKS {
                    match (&seq, &parse_with(&text, &opts, Some(mask))) {
                        (Ok(a), Ok(b)) => assert_same(a, b),
                        (Err(a), Err(b)) => assert_eq!(a, b, "seed {seed} mask {mask:x}"),
                        (a, b) => panic!("seed {seed} skip {skip} mask {mask:x}: {a:?} vs {b:?}"),
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

    /// Keys must follow first occurrence in the file even when an id first occurs late, in a
    /// later chunk or block, or in several chunks of one block; checked against the order of
    /// first occurrence computed here, not only against the sequential reader.
    #[test]
    fn keys_follow_first_occurrence_across_chunks_and_blocks() {
        let mut text = String::from("customer_id,date,amount,order_id,product\n");
        let mut ids = Vec::new();
        for i in 0..3000u64 {
            // Few ids early, more later, and ids that come back after a long gap.
            let c = if i < 1000 { i % 7 } else { (i * 7919) % 613 };
            let id = format!("k{c}");
            let line = format!(
                "{id},2023-01-{:02},{i}.5,o{},p{}\n",
                1 + i % 28,
                i / 3,
                c % 11
            );
            text.push_str(&line);
            ids.push(id);
        }
        let mut first: Vec<&str> = Vec::new();
        for id in &ids {
            if !first.contains(&id.as_str()) {
                first.push(id);
            }
        }
        for chunk in [1, 30, 500, 1 << 20] {
            let opts = ParseOptions {
                chunk_bytes: chunk,
                ..ParseOptions::default()
            };
            for mask in std::iter::once(None).chain(WEAK_MASKS.map(Some)) {
                let t = parse_with(&text, &opts, mask).unwrap();
                assert_eq!(t.num_customers(), first.len());
                for (k, id) in first.iter().enumerate() {
                    assert_eq!(t.customer_id(k as u32), *id, "chunk {chunk} mask {mask:?}");
                }
                let keys: Vec<u32> = t.rows().iter().map(|r| r.customer).collect();
                let expected: Vec<u32> = ids
                    .iter()
                    .map(|id| first.iter().position(|f| f == id).unwrap() as u32)
                    .collect();
                assert_eq!(keys, expected);
                let orders = t.order_keys().unwrap();
                assert!(orders.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
                assert_eq!(t.order_id(orders[2999]), Some("o999"));
                assert_eq!(t.num_products(), 11);
                assert_same(&t, &parse(&text, false, false, 1).unwrap());
            }
        }
    }

    #[test]
    fn merge_ids_numbers_new_ids_by_chunk_then_first_occurrence() {
        for mask in std::iter::once(u64::MAX).chain(WEAK_MASKS) {
            let interner = |ids: &[&str], bits: u32| {
                let mut int = Interner::with_layout(bits, mask);
                for id in ids {
                    int.intern(id).unwrap();
                }
                int
            };
            let mut global = interner(&["a", "b"], SHARD_BITS);
            let chunks = [
                interner(&["c", "a", "d"], 0),
                interner(&["d", "e", "b", "c"], 0),
                interner(&[], 0),
                interner(&["f", "a"], 0),
            ];
            let locals: Vec<&Interner> = chunks.iter().collect();
            let merged = merge_ids(&mut global, &locals).unwrap();
            assert_eq!(
                merged.remaps,
                vec![vec![2, 0, 3], vec![3, 4, 1, 2], vec![], vec![5, 0]],
                "mask {mask:x}"
            );
            assert_eq!(merged.fresh, vec![vec![0, 2], vec![1], vec![], vec![0]]);
            push_fresh(&mut global, locals.into_iter(), &merged.fresh);
            let all: Vec<&str> = (0..6).map(|k| global.resolve(k).unwrap()).collect();
            assert_eq!(all, ["a", "b", "c", "d", "e", "f"]);
            assert_lookups(&global);
        }
    }

    #[test]
    fn colliding_ids_in_one_shard() {
        for mask in WEAK_MASKS {
            let mut int = Interner::with_layout(SHARD_BITS, mask);
            for i in 0..300u32 {
                assert_eq!(int.intern(&format!("id{i}")).unwrap(), i);
                assert_eq!(int.intern(&format!("id{}", i / 2)).unwrap(), i / 2);
            }
            // "x" and "x\0" pad to the same word: the length keeps them apart.
            let x = int.intern("x").unwrap();
            assert_ne!(int.intern("x\0").unwrap(), x);
            assert_eq!(int.get("id299"), Some(299));
            assert_eq!(int.get("id300"), None);
            assert_lookups(&int);
        }
    }

    #[test]
    fn separators_match_a_byte_scan() {
        let mut st = 0x9e37_79b9_7f4a_7c15u64;
        for delimiter in [b',', b';', b'\t', 0, 0xff] {
            for len in 0..70 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        st ^= st << 13;
                        st ^= st >> 7;
                        st ^= st << 17;
                        [b'a', b'\n', delimiter, 0, b'\r', 0x80, 0x7f, b'0'][(st % 8) as usize]
                    })
                    .collect();
                let fast: Vec<usize> = Separators::new(&bytes, delimiter).collect();
                let slow: Vec<usize> = (0..len)
                    .filter(|&i| bytes[i] == delimiter || bytes[i] == b'\n')
                    .collect();
                assert_eq!(fast, slow, "{bytes:?}");
            }
        }
    }

    /// What `parse_number` did before its fast path.
    fn std_number(b: &[u8]) -> Result<f64, String> {
        let s = std::str::from_utf8(trim(b)).map_err(|_| "x is not valid UTF-8".to_string())?;
        if s.is_empty() {
            return Err("x is empty".into());
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("x `{s}` is not a number")),
        }
    }

    #[test]
    fn numbers_parse_like_std() {
        let cases = [
            "0",
            "-0",
            "-0.0",
            "0.1",
            "0.3",
            "1.",
            ".5",
            "-.5",
            "12.345",
            "999999999999999",
            "9999999999999999",
            "99999999999999.9",
            "0.000000000000001",
            "1.0000000000000002",
            "123456789012345",
            "1234567890.12345",
            "+1",
            "1e3",
            "1..2",
            "-",
            "",
            " 7.25 ",
            "00012.50",
            "4.35",
            "0.1234567891234",
            "--1",
            "1-",
            "3.14159265358979",
        ];
        for c in cases {
            let (a, b) = (parse_number(c.as_bytes(), "x"), std_number(c.as_bytes()));
            assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "{c:?}");
        }
    }

    #[test]
    fn dates_match_chrono() {
        let years = (0..=12).chain(1581..=2420).chain(9988..=9999);
        for y in years {
            for m in 0..=13 {
                for d in 0..=32 {
                    let ours = day_number_ymd(y, m, d);
                    let chrono = NaiveDate::from_ymd_opt(y, m, d).map(day_number);
                    assert_eq!(ours, chrono, "{y}-{m}-{d}");
                }
            }
        }
        assert_eq!(parse_date(b"0000-02-29"), Ok(day_number(d("0000-02-29"))));
        assert_eq!(parse_date(b" 20240229 "), Ok(day_number(d("2024-02-29"))));
        assert!(
            parse_date(b"2023-02-29")
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(parse_date(b"2023-2-028").unwrap_err().contains("is not"));
        assert!(parse_date(b"2023-0a-01").unwrap_err().contains("is not"));
    }

    #[test]
    fn other_delimiters_equal_sequential() {
        let text = generated_csv(11, 1500, 29, false);
        for delimiter in [b';', b'\t', 0, b'\n'] {
            let text = text.replace(',', &char::from(delimiter).to_string());
            for skip in [true, false] {
                let opts = |parallel: bool, chunk_bytes: usize| ParseOptions {
                    skip_bad_rows: skip,
                    delimiter,
                    parallel,
                    chunk_bytes,
                    ..ParseOptions::default()
                };
                let seq = parse_with(&text, &opts(false, 1), None);
                for chunk in [1, 100, 1 << 20] {
                    match (&seq, &parse_with(&text, &opts(true, chunk), None)) {
                        (Ok(a), Ok(b)) => assert_same(a, b),
                        (Err(a), Err(b)) => assert_eq!(a, b),
                        (a, b) => panic!("{delimiter} {skip} {chunk}: {a:?} vs {b:?}"),
                    }
                }
                if delimiter != b'\n' && skip {
                    assert!(seq.as_ref().unwrap().rows().len() > 1000);
                }
            }
        }
    }

    /// From the first quote on, the rest is read by the csv crate: rows, keys and line numbers
    /// before and after it must still come out right.
    #[test]
    fn quote_after_several_blocks() {
        let mut text = String::from("customer_id,date,amount\n");
        let mut bad = Vec::new();
        for i in 0..400 {
            let line = match i {
                250 => "\"q\nr\",2023-01-01,1".to_string(),
                _ if i % 37 == 5 => format!("c{},2023-01-01,x", i % 13),
                _ => format!("c{},2023-01-01,{i}", (i * 7) % 50),
            };
            if line.ends_with(",x") {
                // Line 1 is the header; the quoted field above adds a line.
                bad.push(i + 2 + u64::from(i > 250));
            }
            text.push_str(&line);
            text.push('\n');
        }
        let seq = parse(&text, true, false, 1).unwrap();
        assert_eq!(
            seq.bad_rows().iter().map(|b| b.line).collect::<Vec<_>>(),
            bad
        );
        assert_eq!(seq.customer_key("q\nr"), Some(50));
        for chunk in [1, 64, 300] {
            assert_same(&seq, &parse(&text, true, true, chunk).unwrap());
            let err = parse(&text, false, true, chunk).unwrap_err();
            assert_eq!(err, format!("line {}: amount `x` is not a number", bad[0]));
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
