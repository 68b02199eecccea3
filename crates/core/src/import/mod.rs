//! Reading the files people import: CSV in whatever encoding and with whatever delimiter Chinese
//! Excel, WPS or another CRM wrote it, and XLSX, as rows streamed in bounded memory; which
//! entity field each column should feed; and a person's whole name split into its parts.
//!
//! Nothing here writes a record or knows an entity by name: the import job reads a file
//! through [`source::Source`], maps its columns with a [`mapping::Mapping`] (suggested by
//! [`mapping::suggest`] or read from a saved TOML file), and hands each row's values to the
//! record engine.
//!
//! # What is here
//!
//! - [`source::Source::open`]: any `Read + Seek` (a file, an upload in memory) and
//!   [`ReadOptions`] (size limit, kind from the file name, sheet) → the headers
//!   ([`Source::headers`], [`Source::header_line`]), how the file was written
//!   ([`Source::format`]: encoding, delimiter, sheet, for the wizard's preview), then
//!   `Iterator<Item = Result<Row, ReadError>>`.
//! - [`encoding::detect`] and [`encoding::DecodingReader`], [`delimiter::detect`]: the pieces
//!   `Source` is made of, usable alone.
//! - [`mapping::Targets::of`] (what an entity's columns can feed, custom fields included),
//!   [`mapping::suggest`] (headers → a [`mapping::Suggestion`], each column sure, likely or
//!   unmapped), [`mapping::Mapping`] (the saved form: `from_toml`, `to_toml`, `resolve`) and
//!   [`mapping::Plan`] (per column what it feeds; `values(&row)`, `unmapped()`).
//! - [`names::split`]: 姓名 → family and given name.
//!
//! The caller supplies the labels of fields in both languages through [`mapping::Labels`]
//! (the web layer's translations: `field-<entity>-<field>`, `field-<field>`, `addr-<part>`);
//! core has no translations of its own.
//!
//! # Using it
//!
//! ```no_run
//! use guanxi_core::import::{FileKind, ReadError, ReadOptions, Source, mapping};
//!
//! fn read(entity: &str, path: &str, labels: &dyn mapping::Labels) -> Result<(), ReadError> {
//!     let Some(def) = guanxi_core::areas::registry().by_name(entity) else { return Ok(()) };
//!     // 1. Open: the encoding and delimiter (or the workbook's sheet) are found from the
//!     //    first bytes, and the header row is read.
//!     let file = std::fs::File::open(path).map_err(|_| ReadError::Unreadable { line: 1 })?;
//!     let options = ReadOptions { kind: FileKind::from_name(path), ..ReadOptions::default() };
//!     let mut src = Source::open(file, &options)?;
//!     // 2. Map: suggest from the headers (or `Mapping::from_toml` for `--mapping M.toml`),
//!     //    then check the mapping against the entity and the file.
//!     let targets = mapping::Targets::of(def, &[]);
//!     let mapping = mapping::suggest(&targets, src.headers(), labels).mapping();
//!     let plan = mapping
//!         .resolve(&targets, src.headers())
//!         .map_err(|mut all| all.remove(0))?;
//!     // 3. Read: one `Row` per record, with the line people find it on.
//!     for row in src.by_ref() {
//!         match row {
//!             Ok(row) => {
//!                 for (_column, target, _value) in plan.values(&row) {
//!                     let _ = &target.field; // into the record's JSON, by `target.kind`
//!                 }
//!             }
//!             Err(e) if e.is_fatal() => return Err(e),
//!             Err(_row_error) => { /* into the report: e.line(), e.code(), e.params() */ }
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # Errors
//!
//! Every error is a [`ReadError`] with a stable code ([`ReadError::code`], one of
//! [`crate::codes`]) and the params its message needs ([`ReadError::params`]); both locales word
//! them as `error-<code>` (`locales/*/import.ftl`). Errors about one row (a row with more
//! columns than the header, characters the file's encoding cannot hold) leave the rows after
//! it readable; the others ([`ReadError::is_fatal`]) end the read.

mod already;
pub mod delimiter;
pub mod encoding;
pub mod job;
mod keys;
pub mod labels_back;
pub mod ledger;
pub mod mapping;
pub mod names;
pub mod prepare;
pub mod run;
pub mod source;
pub mod undo;
pub mod uploads;

use serde_json::Value;

use crate::error::{CoreError, Params, codes};

pub use source::{FileKind, Row, Source};

/// How a file is read. The defaults suit an upload: 2 GiB at most, the format taken from the
/// first bytes, the first visible worksheet.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// A larger file is refused before anything is read ([`ReadError::FileTooLarge`]).
    pub max_bytes: u64,
    /// What the file's name says it is (`FileKind::from_name`); `None`: judged from its first
    /// bytes. A file named `.xlsx` that is no spreadsheet is refused rather than read as text.
    pub kind: Option<FileKind>,
    /// The worksheet of a workbook to read; `None`: the first visible one.
    pub sheet: Option<String>,
    /// How many bytes the encoding and the delimiter are judged from.
    pub sniff_bytes: usize,
}

/// 2 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            kind: None,
            sheet: None,
            sniff_bytes: encoding::SNIFF_BYTES,
        }
    }
}

/// What went wrong reading a file or a mapping. Each variant has a code people read worded in
/// their language; `line` is the line of a text file (from 1, as an editor counts, so a record
/// whose quoted text holds line breaks starts on the line named) or the row of a worksheet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is larger than {limit} bytes")]
    FileTooLarge { limit: u64 },
    #[error("the file is in no encoding the import reads")]
    UnknownEncoding,
    #[error("the file has no header row")]
    EmptyFile,
    #[error("the file is not a spreadsheet")]
    NotASpreadsheet,
    #[error("the workbook has no worksheet {sheet:?}")]
    NoSuchSheet { sheet: String },
    #[error("line {line} has {columns} columns, the header {expected}")]
    TooManyColumns {
        line: u64,
        columns: usize,
        expected: usize,
    },
    #[error("line {line} holds bytes that are not text in the file's encoding")]
    UnreadableCharacters { line: u64 },
    #[error("the file cannot be read past line {line}")]
    Unreadable { line: u64 },
    #[error("the mapping file is not valid TOML (line {line})")]
    MappingUnreadable { line: u64 },
    #[error("the mapping is for {entity}")]
    MappingForOtherEntity { entity: String },
    #[error("column {column:?} is mapped to {field:?}, which is no field")]
    UnknownMappedField { column: String, field: String },
    #[error("{field:?} is computed or read-only")]
    FieldNotImportable { column: String, field: String },
    #[error("{field:?} is mapped from more than one column")]
    FieldMappedTwice { field: String },
    #[error("the file has no column {column:?}")]
    ColumnNotInFile { column: String },
    #[error("{value:?} is not a date format")]
    InvalidDateFormat { column: String, value: String },
    #[error("column {column:?} has a date format but {field:?} holds no dates")]
    DateFormatForNonDate { column: String, field: String },
}

impl ReadError {
    /// The stable code, worded by the translations as `error-<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::FileTooLarge { .. } => codes::FILE_TOO_LARGE,
            ReadError::UnknownEncoding => codes::UNKNOWN_ENCODING,
            ReadError::EmptyFile => codes::EMPTY_FILE,
            ReadError::NotASpreadsheet => codes::NOT_A_SPREADSHEET,
            ReadError::NoSuchSheet { .. } => codes::NO_SUCH_SHEET,
            ReadError::TooManyColumns { .. } => codes::TOO_MANY_COLUMNS,
            ReadError::UnreadableCharacters { .. } => codes::UNREADABLE_CHARACTERS,
            ReadError::Unreadable { .. } => codes::FILE_UNREADABLE,
            ReadError::MappingUnreadable { .. } => codes::MAPPING_UNREADABLE,
            ReadError::MappingForOtherEntity { .. } => codes::MAPPING_FOR_OTHER_ENTITY,
            ReadError::UnknownMappedField { .. } => codes::UNKNOWN_MAPPED_FIELD,
            ReadError::FieldNotImportable { .. } => codes::FIELD_NOT_IMPORTABLE,
            ReadError::FieldMappedTwice { .. } => codes::FIELD_MAPPED_TWICE,
            ReadError::ColumnNotInFile { .. } => codes::COLUMN_NOT_IN_FILE,
            ReadError::InvalidDateFormat { .. } => codes::INVALID_DATE_FORMAT,
            ReadError::DateFormatForNonDate { .. } => codes::DATE_FORMAT_FOR_NON_DATE,
        }
    }

    /// The values its message names: `line`, `columns`, `expected`, `column`, `field`,
    /// `value`, `entity`, `sheet`, and `limit` (in MiB, as people size files).
    pub fn params(&self) -> Params {
        let mut p = Params::new();
        let mut put = |k: &'static str, v: Value| {
            p.insert(k, v);
        };
        match self {
            ReadError::FileTooLarge { limit } => put("limit", Value::from(limit >> 20)),
            ReadError::UnknownEncoding | ReadError::EmptyFile | ReadError::NotASpreadsheet => {}
            ReadError::NoSuchSheet { sheet } => put("sheet", sheet.as_str().into()),
            ReadError::TooManyColumns {
                line,
                columns,
                expected,
            } => {
                put("line", (*line).into());
                put("columns", (*columns).into());
                put("expected", (*expected).into());
            }
            ReadError::UnreadableCharacters { line }
            | ReadError::Unreadable { line }
            | ReadError::MappingUnreadable { line } => put("line", (*line).into()),
            ReadError::MappingForOtherEntity { entity } => put("entity", entity.as_str().into()),
            ReadError::UnknownMappedField { column, field }
            | ReadError::FieldNotImportable { column, field }
            | ReadError::DateFormatForNonDate { column, field } => {
                put("column", column.as_str().into());
                put("field", field.as_str().into());
            }
            ReadError::FieldMappedTwice { field } => put("field", field.as_str().into()),
            ReadError::ColumnNotInFile { column } => put("column", column.as_str().into()),
            ReadError::InvalidDateFormat { column, value } => {
                put("column", column.as_str().into());
                put("value", value.as_str().into());
            }
        }
        p
    }

    /// Whether reading stops here; a row's own error leaves the rows after it readable.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ReadError::TooManyColumns { .. } | ReadError::UnreadableCharacters { .. }
        )
    }

    /// The line (or worksheet row) the error is about, when it is about one.
    pub fn line(&self) -> Option<u64> {
        match self {
            ReadError::TooManyColumns { line, .. }
            | ReadError::UnreadableCharacters { line }
            | ReadError::Unreadable { line } => Some(*line),
            _ => None,
        }
    }
}

/// A file or mapping refused as a whole is a bad request, worded from its code and params.
impl From<ReadError> for CoreError {
    fn from(e: ReadError) -> Self {
        CoreError::BadRequest {
            code: e.code(),
            message: e.to_string(),
            params: e.params(),
        }
    }
}
