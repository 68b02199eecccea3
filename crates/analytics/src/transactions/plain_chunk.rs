//! The parser of the parallel reader's quote-free chunks: without quotes every line feed ends a
//! record and every delimiter ends a field, so a word-at-a-time scan for those two bytes
//! ([`Separators`]) replaces the csv state machine.

use super::fields::{Columns, parse_fields, trim};
use super::{BadRow, ParseOptions, TransactionError, Transactions};

/// A parsed chunk (with its own interning tables) and the number of line feeds in it.
pub(super) type ChunkResult = Result<(Transactions, u64), TransactionError>;

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

impl Transactions {
    /// Parses one chunk of whole lines without any `"` (and no header); line numbers are
    /// relative to the chunk (its first line is line 1). Returns the chunk's transactions, with
    /// its own interning tables, and the number of line feeds in it; or its first error.
    ///
    /// Without quotes every line feed ends a record and every delimiter ends a field, so the csv
    /// state machine is not needed: the chunk is scanned for both bytes a word at a time, and the
    /// fields go through the same [`parse_fields`] as the csv reader's. Like the csv reader, an
    /// empty line is no record and a line of one blank field is skipped.
    pub(super) fn parse_plain_chunk(
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
}
