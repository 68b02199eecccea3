//! The parallel reader: the input is read in blocks, each block is cut at line ends into chunks
//! parsed on rayon's threads ([`Transactions::parse_plain_chunk`]), and the chunks' ids are
//! merged in file order, so the result is the same as a sequential parse.

use std::io::Read;

use rayon::prelude::*;

use super::fields::Columns;
use super::interner::{Interner, MergedIds, SHARD_BITS, merge_ids, push_fresh};
use super::plain_chunk::ChunkResult;
use super::read_sequential::{CountingReader, TERMINATOR};
use super::{BadRow, NONE_KEY, ParseOptions, TransactionError, Transactions};

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

/// Chunks whose keys are global, with what [`push_fresh`] needs for the customer, order and
/// product tables.
struct Merged {
    chunks: Vec<(Transactions, u64)>,
    fresh: [Option<Vec<Vec<u32>>>; 3],
}

impl Transactions {
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

    pub(super) fn read_parallel<R: Read>(
        reader: R,
        options: &ParseOptions,
        progress: Option<&mut dyn FnMut(u64)>,
    ) -> Result<Transactions, TransactionError> {
        Self::read_parallel_with(reader, options, progress, u64::MAX)
    }

    /// [`Self::read_parallel`] with the hashes of ids ANDed with `mask` (tests use this to force
    /// collisions).
    pub(super) fn read_parallel_with<R: Read>(
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
}
