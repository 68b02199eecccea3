//! Common input and output handling for `guanxi analytics …`.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use guanxi_analytics::customer_file::{self, Layout, Record};
use guanxi_analytics::tiers::{self, Invoice};
use guanxi_analytics::transactions::{BadRow, ParseOptions, Transactions, date_from_day_number};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// Input options shared by every analytics command.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Transactions CSV with a header containing customer_id,date,amount (optional cost,
    /// order_id, product; dates YYYY-MM-DD or YYYYMMDD).
    #[arg(long, value_name = "FILE")]
    pub transactions: PathBuf,
    /// Skip malformed rows (reported on stderr) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Accept negative amounts as returns, netted against the purchases of their day (as
    /// `guanxi insights export-ledger` writes them: each return on its order's date).
    #[arg(long)]
    pub returns: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Output format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON document.
    Json,
    /// CSV of the per-customer (or per-row) table.
    Csv,
    /// An aligned text table for reading in a terminal.
    Table,
}

/// Parses a `YYYY-MM-DD` or `YYYYMMDD` command-line date.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

/// Reads the transactions file, with a progress bar when stderr is a terminal. Malformed rows fail
/// the command (nothing is printed on stdout) unless `--skip-bad-rows` is given, in which case
/// they are listed on stderr.
pub fn load(args: &InputArgs) -> anyhow::Result<Transactions> {
    let file = File::open(&args.transactions)
        .with_context(|| format!("cannot open {}", args.transactions.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let opts = ParseOptions {
        skip_bad_rows: args.skip_bad_rows,
        reject_negative_amounts: !args.returns,
        ..ParseOptions::default()
    };
    let bar = if std::io::stderr().is_terminal() && len > 0 {
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message("reading transactions");
        Some(bar)
    } else {
        None
    };
    let mut cb = |n: u64| {
        if let Some(b) = bar.as_ref() {
            b.set_position(n);
        }
    };
    let t = Transactions::read(file, &opts, Some(&mut cb));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let t = t.with_context(|| format!("reading {}", args.transactions.display()))?;
    report_skipped(&args.transactions, t.bad_rows());
    if t.rows().is_empty() {
        bail!("{} holds no transactions", args.transactions.display());
    }
    Ok(t)
}

/// The date a report is made as of: the one given, else the day of the last transaction.
pub fn as_of_or_last(given: Option<NaiveDate>, tx: &Transactions) -> anyhow::Result<NaiveDate> {
    given
        .or_else(|| tx.last_day().and_then(date_from_day_number))
        .ok_or_else(|| anyhow::anyhow!("no transactions"))
}

/// Reads a per-customer side file (complaints, payments, survey answers …; see
/// `guanxi_analytics::customer_file`), calling `visit` per row. Malformed rows fail the command
/// with the file name and line number, unless `skip_bad_rows`, in which case they are listed on
/// stderr.
pub fn load_side_file(
    path: &Path,
    layout: &Layout,
    skip_bad_rows: bool,
    visit: impl FnMut(&Record<'_>) -> Result<(), String>,
) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let bad = customer_file::read(std::io::BufReader::new(file), layout, skip_bad_rows, visit)
        .with_context(|| format!("reading {}", path.display()))?;
    report_skipped(path, &bad);
    Ok(())
}

fn report_skipped(path: &Path, bad: &[BadRow]) {
    if bad.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    for b in bad.iter().take(20) {
        let _ = writeln!(
            err,
            "{}: skipped line {}: {}",
            path.display(),
            b.line,
            b.reason
        );
    }
    let _ = writeln!(
        err,
        "{}: skipped {} malformed row(s)",
        path.display(),
        bad.len()
    );
}

/// A table for CSV and text output.
pub trait Tabular {
    /// Column names.
    fn headers() -> Vec<&'static str>;
    /// One row's cells.
    fn cells(&self) -> Vec<String>;
}

/// Neutralises spreadsheet formula injection in a text cell (DESIGN.md section 8).
pub fn safe_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Formats an optional number for CSV/table cells.
pub fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        // `+ 0.0` turns a negative zero into zero, so no "-0.00" cells
        Some(v) if v.is_finite() => format!("{:.digits$}", v + 0.0),
        _ => String::new(),
    }
}

/// Writes a JSON document to stdout.
pub fn write_json<T: Serialize>(doc: &T) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    serde_json::to_writer(&mut out, doc)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Writes rows as CSV to stdout.
pub fn write_csv<R: Tabular>(rows: &[R]) -> anyhow::Result<()> {
    let out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut w = csv::Writer::from_writer(out);
    w.write_record(R::headers())?;
    for r in rows {
        w.write_record(r.cells())?;
    }
    w.flush()?;
    Ok(())
}

/// Writes a preamble of `key: value` lines and rows as an aligned text table to stdout.
pub fn write_table<R: Tabular>(preamble: &[(String, String)], rows: &[R]) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    for (k, v) in preamble {
        writeln!(out, "{k}: {v}")?;
    }
    if !preamble.is_empty() {
        writeln!(out)?;
    }
    let headers: Vec<String> = R::headers().iter().map(|h| h.to_string()).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells()).collect();
    for line in aligned(&headers, &cells) {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// Lines of a table whose columns line up in a terminal. Widths are display widths, not
/// character counts: a Chinese character takes two columns, so counting characters would push
/// every cell after a Chinese name out of line.
fn aligned(headers: &[String], cells: &[Vec<String>]) -> Vec<String> {
    let mut width: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in cells {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = width.get_mut(i) {
                *w = (*w).max(c.width());
            }
        }
    }
    std::iter::once(headers)
        .chain(cells.iter().map(Vec::as_slice))
        .map(|row| {
            let mut s = String::new();
            for (i, c) in row.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                s.push_str(c);
                let pad = width.get(i).copied().unwrap_or(0).saturating_sub(c.width());
                s.push_str(&" ".repeat(pad));
            }
            s.trim_end().to_string()
        })
        .collect()
}

/// Reads the payments file into invoices (all or nothing, unless --skip-bad-rows).
pub fn read_invoices(path: &Path, skip_bad_rows: bool) -> anyhow::Result<Vec<Invoice>> {
    let mut invoices = Vec::new();
    load_side_file(path, &tiers::PAYMENTS_FILE, skip_bad_rows, |r| {
        // with an amount column every row needs an amount; without one all invoices weigh 1
        let amount = match r.header().position("amount") {
            Some(_) => r.required_number("amount")?,
            None => 1.0,
        };
        let invoice = Invoice {
            customer_id: r.customer_id()?.to_string(),
            invoice_date: r.required_date("invoice_date")?,
            paid_date: r.date("paid_date")?,
            amount,
            written_off: r.flag("written_off")?.unwrap_or(false)
                || r.date("written_off_on")?.is_some(),
            written_off_on: r.date("written_off_on")?,
        };
        invoice.validate()?;
        invoices.push(invoice);
        Ok(())
    })?;
    Ok(invoices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_cells_line_up_by_display_width() {
        let headers = vec![
            "customer".to_string(),
            "segment".to_string(),
            "m".to_string(),
        ];
        let cells = vec![
            vec![
                "张三".to_string(),
                "重要价值客户".to_string(),
                "1".to_string(),
            ],
            vec!["Li".to_string(), "general".to_string(), "22".to_string()],
        ];
        let lines = aligned(&headers, &cells);
        assert_eq!(
            lines,
            vec![
                "customer  segment       m",
                "张三      重要价值客户  1",
                "Li        general       22",
            ]
        );
        // the last column starts at the same display column on every line
        for l in &lines {
            let start = l.trim_end().rfind("  ").map(|i| l[..i + 2].width());
            assert_eq!(start, Some(24), "{l}");
        }
    }
}
