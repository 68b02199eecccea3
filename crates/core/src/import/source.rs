//! A file's rows as a stream: its header, then one [`Row`] per record with the line people find
//! it on, in memory bounded by the longest record, however large the file.
//!
//! CSV is decoded as it is read ([`super::encoding`]) and split by its detected delimiter
//! ([`super::delimiter`]), quoted fields with line breaks and delimiters included. A workbook
//! (XLSX, and Excel 97–2003 `.xls`) is read on a thread of its own that streams the worksheet's
//! cells (an `.xls`, at most [`super::ReadOptions::max_bytes`] long, is read whole first), with
//! dates as `YYYY-MM-DD` (and `HH:MM[:SS]` when they have a time of day) and numbers as people
//! typed them: `13800138000`, not `13800138000.0`.
//!
//! Every row has as many fields as the header, trimmed; shorter rows are padded with empty
//! fields, blank rows skipped, and empty fields past the header's last column dropped. A row
//! with a value past the header's last column is an error naming its line
//! ([`ReadError::TooManyColumns`]), as is one holding bytes the file's encoding cannot read.

use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{Data, DataRef, ExcelDateTime, Reader, SheetType, SheetVisible, Xls, Xlsx};

use super::encoding::{self, DecodingReader};
use super::{ReadError, ReadOptions, delimiter};

/// What kind of file it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Delimited text: `.csv`, `.tsv`, `.txt`.
    Csv,
    /// An Office Open XML workbook: `.xlsx`, `.xlsm`.
    Xlsx,
    /// An Excel 97–2003 workbook: `.xls`.
    Xls,
}

impl FileKind {
    /// The kind a file's name says it is, by its extension.
    pub fn from_name(name: &str) -> Option<FileKind> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(FileKind::Csv),
            "xlsx" | "xlsm" => Some(FileKind::Xlsx),
            "xls" => Some(FileKind::Xls),
            _ => None,
        }
    }

    /// The kind the first bytes show: a workbook's signature, else text.
    fn sniff(magic: &[u8]) -> FileKind {
        if magic.starts_with(b"PK\x03\x04") {
            FileKind::Xlsx
        } else if magic.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            FileKind::Xls
        } else {
            FileKind::Csv
        }
    }
}

/// One record of the file: the line (or worksheet row) it starts on, from 1, and its fields,
/// as many as the header has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub fields: Vec<String>,
}

/// How the file was found to be written, for the import's preview and report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub kind: FileKind,
    /// A text file's encoding (its WHATWG name: `UTF-8`, `gb18030`, `UTF-16LE`), as its first
    /// bytes show it. A file whose first bytes are all ASCII says `UTF-8` here and is judged
    /// again at its first other byte (`encoding::DecodingReader::deciding_later`).
    pub encoding: Option<&'static str>,
    /// A text file's delimiter.
    pub delimiter: Option<u8>,
    /// A workbook's sheet.
    pub sheet: Option<String>,
}

/// How many rows at the top are looked at for the header.
const HEADER_SEARCH_ROWS: usize = 10;
/// How many worksheet rows the reading thread may be ahead.
const SHEET_ROWS_AHEAD: usize = 256;
/// How much decoded text the delimiter is judged from.
const DELIMITER_SAMPLE: usize = 64 * 1024;

type RawRow = (u64, Vec<String>);

enum Rows {
    Csv {
        reader: Box<csv::Reader<Box<dyn Read + Send>>>,
        record: csv::StringRecord,
        last_line: u64,
    },
    Sheet(Receiver<Result<RawRow, ReadError>>),
}

/// A file being read: its header and format, then its rows ([`Iterator`]). After a fatal error
/// ([`ReadError::is_fatal`]) it yields nothing more.
pub struct Source {
    headers: Vec<String>,
    header_line: u64,
    format: Format,
    rows: Rows,
    /// Rows read while looking for the header, to yield first.
    pending: std::collections::VecDeque<Result<RawRow, ReadError>>,
    done: bool,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("headers", &self.headers)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// Opens a file (or an upload held in memory) and reads its header row (see
    /// [`Source::header_line`]). Refuses a file larger than `options.max_bytes`, in an unknown encoding, with
    /// no header, or named a workbook but not one.
    pub fn open<R>(mut reader: R, options: &ReadOptions) -> Result<Source, ReadError>
    where
        R: Read + Seek + Send + 'static,
    {
        let unreadable = |_| ReadError::Unreadable { line: 1 };
        let len = reader.seek(SeekFrom::End(0)).map_err(unreadable)?;
        if len > options.max_bytes {
            return Err(ReadError::FileTooLarge {
                limit: options.max_bytes,
            });
        }
        reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        let mut magic = Vec::with_capacity(8);
        (&mut reader)
            .take(8)
            .read_to_end(&mut magic)
            .map_err(unreadable)?;
        reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        let kind = match (FileKind::sniff(&magic), options.kind) {
            (FileKind::Csv, Some(FileKind::Xlsx | FileKind::Xls)) => {
                return Err(ReadError::NotASpreadsheet);
            }
            (sniffed, _) => sniffed,
        };
        match kind {
            FileKind::Csv => Source::open_text(reader, len, options),
            FileKind::Xlsx | FileKind::Xls => Source::open_sheet(reader, kind, options),
        }
    }

    /// The header row's texts, trimmed; empty ones past the last named column dropped.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The line (or worksheet row) of the header: among the first rows that are not blank,
    /// the first that names at least half as many columns as the widest of them, so a
    /// template's title or note above it is passed over.
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    pub fn format(&self) -> &Format {
        &self.format
    }

    fn open_text<R>(mut reader: R, len: u64, options: &ReadOptions) -> Result<Source, ReadError>
    where
        R: Read + Send + 'static,
    {
        let mut prefix = Vec::new();
        (&mut reader)
            .take(options.sniff_bytes as u64)
            .read_to_end(&mut prefix)
            .map_err(|_| ReadError::Unreadable { line: 1 })?;
        let complete = prefix.len() as u64 >= len;
        let found = encoding::detect(&prefix, complete)?;
        let body = prefix.split_off(found.bom);
        let prefix_ascii = body.is_ascii();
        let raw: Box<dyn Read + Send> = Box::new(Cursor::new(body).chain(reader));
        // A beginning all in ASCII says nothing of the rest: judged again where it ends.
        let ascii = found.encoding == encoding_rs::UTF_8 && !complete && prefix_ascii;
        let mut decoded = if ascii {
            DecodingReader::deciding_later(raw)
        } else {
            DecodingReader::new(raw, found.encoding)
        };
        let mut sample = Vec::new();
        (&mut decoded)
            .take(DELIMITER_SAMPLE as u64)
            .read_to_end(&mut sample)
            .map_err(|e| {
                e.get_ref()
                    .and_then(|e| e.downcast_ref::<ReadError>())
                    .cloned()
                    .unwrap_or(ReadError::Unreadable { line: 1 })
            })?;
        let sample_complete = sample.len() < DELIMITER_SAMPLE;
        let text = String::from_utf8_lossy(&sample);
        let sep_line = delimiter::sep_line(&text).is_some();
        let delimiter = delimiter::detect(&text, sample_complete);
        let text: Box<dyn Read + Send> = Box::new(Cursor::new(sample).chain(decoded));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            // Records end at `\n` alone, so each is counted on the line it starts on (a `\r`
            // before it is trimmed away with the field it ends).
            .terminator(csv::Terminator::Any(b'\n'))
            .delimiter(delimiter)
            .from_reader(text);
        let mut rows = Rows::Csv {
            reader: Box::new(reader),
            record: csv::StringRecord::new(),
            last_line: 0,
        };
        let format = Format {
            kind: FileKind::Csv,
            encoding: Some(found.name()),
            delimiter: Some(delimiter),
            sheet: None,
        };
        if sep_line {
            // Excel's `sep=;` line comes before the header.
            rows.next_raw()?;
        }
        Source::with_header(rows, format)
    }

    fn open_sheet<R>(reader: R, kind: FileKind, options: &ReadOptions) -> Result<Source, ReadError>
    where
        R: Read + Seek + Send + 'static,
    {
        let (tx, rx) = sync_channel(SHEET_ROWS_AHEAD);
        let (name_tx, name_rx) = sync_channel(1);
        let wanted = options.sheet.clone();
        std::thread::Builder::new()
            .name("import-sheet".into())
            .spawn(move || read_sheet(BufReader::new(reader), kind, wanted, &name_tx, &tx))
            .map_err(|_| ReadError::Unreadable { line: 1 })?;
        // The thread names the sheet it reads, or says why it cannot.
        let sheet = match name_rx.recv() {
            Ok(Ok(sheet)) => sheet,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(ReadError::NotASpreadsheet),
        };
        let format = Format {
            kind,
            encoding: None,
            delimiter: None,
            sheet: Some(sheet),
        };
        Source::with_header(Rows::Sheet(rx), format)
    }

    /// Finds the header row among the first rows and sets the rows up after it: the first
    /// that names at least half as many columns as the widest of them (and two, when any names
    /// two), so that a template's title row (联系人导入模板) or note (带 * 为必填项) above the
    /// header is passed over.
    fn with_header(mut rows: Rows, format: Format) -> Result<Source, ReadError> {
        let mut top: Vec<RawRow> = Vec::new();
        let mut pending = std::collections::VecDeque::new();
        while top.len() < HEADER_SEARCH_ROWS {
            match rows.next_raw() {
                Ok(Some(row)) if row.1.iter().any(|f| !f.trim().is_empty()) => top.push(row),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) if top.is_empty() => return Err(e),
                Err(e) => {
                    pending.push_back(Err(e));
                    break;
                }
            }
        }
        let filled = |row: &RawRow| row.1.iter().filter(|f| !f.trim().is_empty()).count();
        let widest = top.iter().map(filled).max().ok_or(ReadError::EmptyFile)?;
        let at = top
            .iter()
            .position(|r| filled(r) * 2 >= widest && (filled(r) >= 2 || widest < 2))
            .unwrap_or(0);
        let mut top = top.into_iter().skip(at);
        let Some((line, fields)) = top.next() else {
            return Err(ReadError::EmptyFile);
        };
        let rest: Vec<_> = top.map(Ok).collect();
        for row in rest.into_iter().rev() {
            pending.push_front(row);
        }
        let mut headers: Vec<String> = fields
            .iter()
            .map(|f| f.trim().trim_start_matches('\u{FEFF}').trim().to_string())
            .collect();
        while headers.last().is_some_and(String::is_empty) {
            headers.pop();
        }
        if headers.iter().any(|h| h.contains('\u{FFFD}')) {
            return Err(ReadError::UnreadableCharacters { line });
        }
        Ok(Source {
            headers,
            header_line: line,
            format,
            rows,
            pending,
            done: false,
        })
    }
}

impl Rows {
    /// The next record as read, or `None` at the end.
    fn next_raw(&mut self) -> Result<Option<RawRow>, ReadError> {
        match self {
            Rows::Csv {
                reader,
                record,
                last_line,
            } => match reader.read_record(record) {
                Ok(true) => {
                    let line = record.position().map_or(*last_line + 1, |p| p.line());
                    *last_line = line;
                    Ok(Some((line, record.iter().map(str::to_string).collect())))
                }
                Ok(false) => Ok(None),
                Err(e) => Err(read_error_in(&e).unwrap_or(ReadError::Unreadable {
                    line: *last_line + 1,
                })),
            },
            Rows::Sheet(rx) => match rx.recv() {
                Ok(Ok(row)) => Ok(Some(row)),
                Ok(Err(e)) => Err(e),
                Err(_) => Ok(None),
            },
        }
    }
}

/// The import's own error that a read failed with (an encoding judged late), if it was one.
fn read_error_in(e: &csv::Error) -> Option<ReadError> {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.get_ref()?.downcast_ref::<ReadError>().cloned(),
        _ => None,
    }
}

impl Iterator for Source {
    type Item = Result<Row, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let next = match self.pending.pop_front() {
                Some(row) => row.map(Some),
                None => self.rows.next_raw(),
            };
            match next {
                Ok(Some((line, fields))) => {
                    if let Some(row) = shape(line, fields, self.headers.len()) {
                        return Some(row);
                    }
                }
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// A record as a row of the header's width, or `None` when blank.
fn shape(line: u64, fields: Vec<String>, width: usize) -> Option<Result<Row, ReadError>> {
    let mut fields: Vec<String> = fields
        .into_iter()
        .map(|f| {
            let t = f.trim();
            if t.len() == f.len() { f } else { t.to_string() }
        })
        .collect();
    let used = fields.iter().rposition(|f| !f.is_empty())? + 1;
    if used > width {
        return Some(Err(ReadError::TooManyColumns {
            line,
            columns: used,
            expected: width,
        }));
    }
    if fields.iter().any(|f| f.contains('\u{FFFD}')) {
        return Some(Err(ReadError::UnreadableCharacters { line }));
    }
    fields.resize(width, String::new());
    Some(Ok(Row { line, fields }))
}

/// Reads a workbook's sheet on its own thread: first its name (or why it cannot) on `name`,
/// then its rows on `rows`, until the reader hangs up.
fn read_sheet<R: Read + Seek>(
    reader: R,
    kind: FileKind,
    wanted: Option<String>,
    name: &SyncSender<Result<String, ReadError>>,
    rows: &SyncSender<Result<RawRow, ReadError>>,
) {
    match kind {
        FileKind::Xls => {
            let mut book = match Xls::new(reader) {
                Ok(book) => book,
                Err(_) => return drop(name.send(Err(ReadError::NotASpreadsheet))),
            };
            let sheet = match pick_sheet(book.sheets_metadata(), wanted) {
                Ok(sheet) => sheet,
                Err(e) => return drop(name.send(Err(e))),
            };
            let range = match book.worksheet_range(&sheet) {
                Ok(range) => range,
                Err(_) => return drop(name.send(Err(ReadError::NotASpreadsheet))),
            };
            if name.send(Ok(sheet)).is_err() {
                return;
            }
            let (top, left) = range.start().unwrap_or((0, 0));
            for (i, cells) in range.rows().enumerate() {
                let mut fields = vec![String::new(); left as usize];
                fields.extend(cells.iter().map(data_text));
                let line = u64::from(top) + i as u64 + 1;
                if rows.send(Ok((line, fields))).is_err() {
                    return;
                }
            }
        }
        FileKind::Xlsx | FileKind::Csv => {
            let mut book: Xlsx<R> = match Xlsx::new(reader) {
                Ok(book) => book,
                Err(_) => return drop(name.send(Err(ReadError::NotASpreadsheet))),
            };
            let sheet = match pick_sheet(book.sheets_metadata(), wanted) {
                Ok(sheet) => sheet,
                Err(e) => return drop(name.send(Err(e))),
            };
            let mut cells = match book.worksheet_cells_reader(&sheet) {
                Ok(cells) => cells,
                Err(_) => return drop(name.send(Err(ReadError::NotASpreadsheet))),
            };
            if name.send(Ok(sheet)).is_err() {
                return;
            }
            let mut current: Option<(u32, Vec<String>)> = None;
            loop {
                match cells.next_cell() {
                    Ok(Some(cell)) => {
                        let (r, c) = cell.get_position();
                        if current.as_ref().is_some_and(|(row, _)| *row != r)
                            && let Some((row, fields)) = current.take()
                            && rows.send(Ok((u64::from(row) + 1, fields))).is_err()
                        {
                            return;
                        }
                        let (_, fields) = current.get_or_insert_with(|| (r, Vec::new()));
                        let c = c as usize;
                        if fields.len() <= c {
                            fields.resize(c + 1, String::new());
                        }
                        fields[c] = cell_text(cell.get_value());
                    }
                    Ok(None) => {
                        if let Some((row, fields)) = current.take() {
                            let _ = rows.send(Ok((u64::from(row) + 1, fields)));
                        }
                        return;
                    }
                    Err(_) => {
                        let line = current.map_or(1, |(row, _)| u64::from(row) + 1);
                        let _ = rows.send(Err(ReadError::Unreadable { line }));
                        return;
                    }
                }
            }
        }
    }
}

/// The sheet asked for, or the first visible worksheet.
/// The visible worksheets of a workbook, in its order, for people to choose one.
pub fn sheet_names<R: Read + Seek>(reader: R, kind: FileKind) -> Result<Vec<String>, ReadError> {
    let visible = |sheets: &[calamine::Sheet]| -> Vec<String> {
        sheets
            .iter()
            .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
            .map(|s| s.name.clone())
            .collect()
    };
    match kind {
        FileKind::Csv => Ok(Vec::new()),
        FileKind::Xls => Xls::new(BufReader::new(reader))
            .map(|b| visible(b.sheets_metadata()))
            .map_err(|_| ReadError::NotASpreadsheet),
        FileKind::Xlsx => Xlsx::new(BufReader::new(reader))
            .map(|b| visible(b.sheets_metadata()))
            .map_err(|_| ReadError::NotASpreadsheet),
    }
}

fn pick_sheet(sheets: &[calamine::Sheet], wanted: Option<String>) -> Result<String, ReadError> {
    match wanted {
        Some(w) => sheets
            .iter()
            .find(|s| s.name == w)
            .map(|s| s.name.clone())
            .ok_or(ReadError::NoSuchSheet { sheet: w }),
        None => sheets
            .iter()
            .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
            .map(|s| s.name.clone())
            .ok_or(ReadError::NotASpreadsheet),
    }
}

/// A worksheet cell's value as text.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => date_text(d),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

/// An `.xls` cell's value as text.
fn data_text(value: &Data) -> String {
    match value {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => date_text(d),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

/// A number as Excel shows it in a General cell: a whole number without `.0` (a phone number
/// typed as a number), others with at most 15 significant digits, so `0.1 + 0.2` reads `0.3`.
pub fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{f:.0}");
    }
    let magnitude = f.abs().log10().floor() as i32;
    let decimals = (14 - magnitude).clamp(0, 20) as usize;
    let s = format!("{f:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A date cell as `YYYY-MM-DD`, with `HH:MM` (and `:SS` when not zero) when it has a time of
/// day; a time alone as `HH:MM[:SS]`; a duration as its number of days.
fn date_text(d: &ExcelDateTime) -> String {
    if d.is_duration() {
        return number_text(d.as_f64());
    }
    let Some(at) = d.as_datetime() else {
        return number_text(d.as_f64());
    };
    use chrono::Timelike;
    let time = at.time();
    let clock = if time.second() == 0 {
        "%H:%M"
    } else {
        "%H:%M:%S"
    };
    if d.as_f64() < 1.0 && d.as_f64() >= 0.0 {
        at.format(clock).to_string()
    } else if time == chrono::NaiveTime::MIN {
        at.format("%Y-%m-%d").to_string()
    } else {
        at.format(&format!("%Y-%m-%d {clock}")).to_string()
    }
}

#[cfg(test)]
mod tests;
