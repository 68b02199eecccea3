//! The sequential reader, on the csv crate: the reference the parallel reader must equal, and
//! what it hands the rest of the input to from the first `"` on.

use std::io::Read;

use super::fields::{Columns, parse_fields, trim};
use super::interner::{Interner, SHARD_BITS};
use super::{BadRow, ParseOptions, TransactionError, Transactions};

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

impl Transactions {
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

    pub(super) fn empty_for(cols: Columns, shard_bits: u32, mask: u64) -> Transactions {
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
    pub(super) fn parse_records<R: Read>(
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
}
