//! Per-customer side files: CSV files keyed by `customer_id` that carry what the transactions do
//! not — complaints, satisfaction scores, invoices and payments, survey answers, contract terms.
//!
//! Every side file follows the same rules as the transactions file, so a user learns them once:
//! a header row names the columns (case-insensitive, surrounding spaces and a UTF-8 byte-order
//! mark ignored); dates are `YYYY-MM-DD` or `YYYYMMDD`; a malformed row is reported with its
//! 1-based line number (the header is line 1) and fails the read unless rows are being skipped.
//! Unlike the transactions file, a column the model does not know is an error, not ignored: a
//! misspelt `satisfation` column would otherwise silently drop a feature.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::NaiveDate;

use crate::transactions::{
    BadRow, CountingReader, TERMINATOR, date_from_day_number, parse_date, parse_number, record_line,
};

/// Which columns a side file has.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Columns that must be present (besides `customer_id`, which always is).
    pub required: &'static [&'static str],
    /// Columns that may be present.
    pub optional: &'static [&'static str],
    /// Whether columns outside `required` and `optional` are kept (survey dimensions) or
    /// rejected.
    pub others: Others,
}

/// What to do with columns a [`Layout`] does not name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Others {
    /// Unknown columns are an error naming them.
    Reject,
    /// Unknown columns are data (e.g. one column per survey dimension).
    Keep,
}

/// Everything that can go wrong reading a side file.
#[derive(Debug, thiserror::Error)]
pub enum SideFileError {
    /// The underlying reader or the CSV framing failed.
    #[error("cannot read the file: {0}")]
    Read(String),
    /// The header lacks a required column.
    #[error("the header has no `{column}` column (columns: {expected})")]
    MissingColumn {
        /// The missing column.
        column: String,
        /// What the file may hold.
        expected: String,
    },
    /// The header names a column the model does not use.
    #[error("unknown column `{column}` (columns: {expected})")]
    UnknownColumn {
        /// The unknown column as written.
        column: String,
        /// What the file may hold.
        expected: String,
    },
    /// The header names a column twice.
    #[error("the header names `{0}` twice")]
    DuplicateColumn(String),
    /// A malformed row (only when rows are not being skipped).
    #[error("line {line}: {reason}")]
    BadRow {
        /// 1-based line number.
        line: u64,
        /// What is wrong with the row.
        reason: String,
    },
}

/// The header of a side file, names normalised to lower case.
#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// Column names in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The position of a column.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The columns a layout does not name, with their positions (survey dimensions).
    pub fn others(&self, layout: &Layout) -> Vec<(usize, String)> {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, n)| !is_named(layout, n))
            .map(|(i, n)| (i, n.clone()))
            .collect()
    }
}

fn is_named(layout: &Layout, name: &str) -> bool {
    name == "customer_id" || layout.required.contains(&name) || layout.optional.contains(&name)
}

fn expected(layout: &Layout) -> String {
    let mut v = vec!["customer_id".to_string()];
    v.extend(layout.required.iter().map(|c| c.to_string()));
    v.extend(layout.optional.iter().map(|c| format!("{c} (optional)")));
    if layout.others == Others::Keep {
        v.push("one column per dimension".into());
    }
    v.join(", ")
}

/// One data row of a side file.
pub struct Record<'a> {
    /// 1-based line number of the row.
    pub line: u64,
    header: &'a Header,
    fields: &'a csv::ByteRecord,
}

impl Record<'_> {
    /// The header the row belongs to.
    pub fn header(&self) -> &Header {
        self.header
    }

    fn raw(&self, index: usize) -> &[u8] {
        self.fields
            .get(index)
            .map(<[u8]>::trim_ascii)
            .unwrap_or(b"")
    }

    /// The trimmed text at a position; `None` when empty or absent.
    pub fn text_at(&self, index: usize) -> Result<Option<&str>, String> {
        let raw = self.raw(index);
        if raw.is_empty() {
            return Ok(None);
        }
        std::str::from_utf8(raw)
            .map(Some)
            .map_err(|_| format!("{} is not valid UTF-8", self.name(index)))
    }

    fn name(&self, index: usize) -> &str {
        self.header.names.get(index).map_or("field", String::as_str)
    }

    /// The trimmed text of a column; `None` when the column is absent or the cell empty.
    pub fn text(&self, column: &str) -> Result<Option<&str>, String> {
        match self.header.position(column) {
            Some(i) => self.text_at(i),
            None => Ok(None),
        }
    }

    /// The customer id, which every row must have.
    pub fn customer_id(&self) -> Result<&str, String> {
        self.text("customer_id")?
            .ok_or_else(|| "customer_id is empty".to_string())
    }

    /// A number at a position; `None` when empty or absent.
    pub fn number_at(&self, index: usize) -> Result<Option<f64>, String> {
        let raw = self.raw(index);
        if raw.is_empty() {
            return Ok(None);
        }
        parse_number(raw, self.name(index)).map(Some)
    }

    /// A number in a column; `None` when the column is absent or the cell empty.
    pub fn number(&self, column: &str) -> Result<Option<f64>, String> {
        match self.header.position(column) {
            Some(i) => self.number_at(i),
            None => Ok(None),
        }
    }

    /// A number that must be present.
    pub fn required_number(&self, column: &str) -> Result<f64, String> {
        self.number(column)?
            .ok_or_else(|| format!("{column} is empty"))
    }

    /// A date in a column; `None` when the column is absent or the cell empty.
    pub fn date(&self, column: &str) -> Result<Option<NaiveDate>, String> {
        let Some(i) = self.header.position(column) else {
            return Ok(None);
        };
        let raw = self.raw(i);
        if raw.is_empty() {
            return Ok(None);
        }
        let day = parse_date(raw).map_err(|e| format!("{column}: {e}"))?;
        date_from_day_number(day)
            .map(Some)
            .ok_or_else(|| format!("{column}: date out of range"))
    }

    /// A date that must be present.
    pub fn required_date(&self, column: &str) -> Result<NaiveDate, String> {
        self.date(column)?
            .ok_or_else(|| format!("{column} is empty"))
    }

    /// A yes/no cell (`1`/`0`, `true`/`false`, `yes`/`no`, `y`/`n`, `是`/`否`); `None` when empty.
    pub fn flag(&self, column: &str) -> Result<Option<bool>, String> {
        let Some(t) = self.text(column)? else {
            return Ok(None);
        };
        match t.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "y" | "是" => Ok(Some(true)),
            "0" | "false" | "no" | "n" | "否" => Ok(Some(false)),
            _ => Err(format!("{column} `{t}` is not yes or no")),
        }
    }
}

/// Checks that a file keyed by customer has one row per customer, naming both lines when not.
#[derive(Debug, Default)]
pub struct OneRowPerCustomer {
    first_line: HashMap<String, u64>,
}

impl OneRowPerCustomer {
    /// Records `record`'s customer, or says on which line that customer already appeared.
    pub fn check(&mut self, record: &Record<'_>) -> Result<(), String> {
        let id = record.customer_id()?;
        if let Some(first) = self.first_line.get(id) {
            return Err(format!(
                "customer_id `{id}` is also on line {first} (one row per customer)"
            ));
        }
        self.first_line.insert(id.to_string(), record.line);
        Ok(())
    }
}

/// Reads a side file, calling `visit` for every non-blank data row. A row that `visit` rejects
/// (returns the reason) or that is malformed fails the read with its line number, unless
/// `skip_bad_rows` is set, in which case it is returned in the list of bad rows. Callers collect
/// into their own structures and use them only when this returns `Ok`, so a failed read leaves
/// nothing half-applied.
pub fn read<R: Read>(
    reader: R,
    layout: &Layout,
    skip_bad_rows: bool,
    mut visit: impl FnMut(&Record<'_>) -> Result<(), String>,
) -> Result<Vec<BadRow>, SideFileError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .terminator(TERMINATOR)
        .from_reader(CountingReader::new(reader, None));
    let header = read_header(&mut csv, layout)?;
    let mut bad = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                if skip_bad_rows && line > 0 && !matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    bad.push(BadRow {
                        line,
                        reason: e.to_string(),
                    });
                    continue;
                }
                return Err(SideFileError::Read(e.to_string()));
            }
        }
        let line = record_line(&csv, &record);
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        let row = Record {
            line,
            header: &header,
            fields: &record,
        };
        let result = if record.len() > header.names.len() {
            Err(format!(
                "{} fields, but the header has {}",
                record.len(),
                header.names.len()
            ))
        } else {
            visit(&row)
        };
        if let Err(reason) = result {
            if skip_bad_rows {
                bad.push(BadRow { line, reason });
            } else {
                return Err(SideFileError::BadRow { line, reason });
            }
        }
    }
    Ok(bad)
}

fn read_header<R: Read>(
    csv: &mut csv::Reader<CountingReader<'_, R>>,
    layout: &Layout,
) -> Result<Header, SideFileError> {
    let raw = csv
        .byte_headers()
        .map_err(|e| SideFileError::Read(e.to_string()))?;
    let names: Vec<String> = raw
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .trim()
                .to_lowercase()
        })
        .collect();
    let mut seen = HashSet::new();
    for n in &names {
        if !n.is_empty() && !seen.insert(n.as_str()) {
            return Err(SideFileError::DuplicateColumn(n.clone()));
        }
        if layout.others == Others::Reject && !is_named(layout, n) {
            return Err(SideFileError::UnknownColumn {
                column: n.clone(),
                expected: expected(layout),
            });
        }
    }
    for column in std::iter::once(&"customer_id").chain(layout.required) {
        if !names.iter().any(|n| n == column) {
            return Err(SideFileError::MissingColumn {
                column: column.to_string(),
                expected: expected(layout),
            });
        }
    }
    Ok(Header { names })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: Layout = Layout {
        required: &["date"],
        optional: &["score"],
        others: Others::Reject,
    };

    type Collected = (Vec<(u64, String)>, Vec<BadRow>);

    fn collect(text: &str, skip: bool) -> Result<Collected, SideFileError> {
        let mut rows = Vec::new();
        let bad = read(text.as_bytes(), &LAYOUT, skip, |r| {
            let date = r.required_date("date")?;
            let score = r.number("score")?;
            rows.push((r.line, format!("{} {date} {score:?}", r.customer_id()?)));
            Ok(())
        })?;
        Ok((rows, bad))
    }

    #[test]
    fn reads_rows_with_line_numbers_and_optional_columns() {
        let (rows, bad) = collect(
            "\u{feff}Customer_ID , DATE,score\nc1,2024-01-02,4\n\nc2,20240105,\r\n",
            false,
        )
        .unwrap();
        assert!(bad.is_empty());
        assert_eq!(
            rows,
            vec![
                (2, "c1 2024-01-02 Some(4.0)".to_string()),
                (4, "c2 2024-01-05 None".to_string())
            ]
        );
    }

    #[test]
    fn bad_rows_name_their_line_and_reason() {
        let err = collect("customer_id,date\nc1,2024-01-02\nc2,2024-02-30\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: date: date `2024-02-30` does not exist"
        );
        let err = collect("customer_id,date,score\n,2024-01-02,1\n", false).unwrap_err();
        assert_eq!(err.to_string(), "line 2: customer_id is empty");
        let err = collect("customer_id,date,score\nc,2024-01-02,high\n", false).unwrap_err();
        assert_eq!(err.to_string(), "line 2: score `high` is not a number");
        let err = collect("customer_id,date\nc,2024-01-02,9\n", false).unwrap_err();
        assert_eq!(err.to_string(), "line 2: 3 fields, but the header has 2");
    }

    #[test]
    fn skipping_keeps_the_good_rows_and_lists_the_bad() {
        let (rows, bad) = collect(
            "customer_id,date\nc1,2024-01-02\nc2,x\nc3,2024-01-03\n",
            true,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 3);
    }

    #[test]
    fn header_problems_are_named() {
        let err = collect("customer_id,dat\nc1,2024-01-02\n", false).unwrap_err();
        assert!(matches!(err, SideFileError::UnknownColumn { ref column, .. } if column == "dat"));
        assert!(err.to_string().contains("date, score (optional)"), "{err}");
        let err = collect("customer_id,score\n", false).unwrap_err();
        assert!(matches!(err, SideFileError::MissingColumn { ref column, .. } if column == "date"));
        let err = collect("customer_id,date,Date\n", false).unwrap_err();
        assert!(matches!(err, SideFileError::DuplicateColumn(ref c) if c == "date"));
    }

    #[test]
    fn a_second_row_for_a_customer_names_both_lines() {
        let mut once = OneRowPerCustomer::default();
        let err = read(
            "customer_id,date\na,2024-01-01\nb,2024-01-01\na,2024-01-02\n".as_bytes(),
            &LAYOUT,
            false,
            |r| once.check(r),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 4: customer_id `a` is also on line 2 (one row per customer)"
        );
    }

    #[test]
    fn flags_and_kept_columns() {
        let layout = Layout {
            required: &[],
            optional: &["vip"],
            others: Others::Keep,
        };
        let mut seen = Vec::new();
        read(
            "customer_id,vip,Price,Service\nc1,是,3,4.5\nc2,no,,5\n".as_bytes(),
            &layout,
            false,
            |r| {
                let others = r.header().others(&layout);
                let values: Vec<Option<f64>> = others
                    .iter()
                    .map(|(i, _)| r.number_at(*i))
                    .collect::<Result<_, _>>()?;
                seen.push((r.flag("vip")?, values));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (Some(true), vec![Some(3.0), Some(4.5)]),
                (Some(false), vec![None, Some(5.0)])
            ]
        );
        let err = read(
            "customer_id,vip\nc1,maybe\n".as_bytes(),
            &layout,
            false,
            |r| r.flag("vip").map(|_| ()),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "line 2: vip `maybe` is not yes or no");
    }
}
