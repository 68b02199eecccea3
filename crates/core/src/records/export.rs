//! Exports: every record of an entity that a reader may see and a list query matches, as rows of
//! values in their code form, and a CSV writer that words them through a [`Formatter`].
//!
//! The data side lives here so that the API, the UI and the command line export the same rows
//! under the same scope: [`Export`] decides the columns once (from the declaration and the custom
//! fields defined when it starts) and then reads one keyset page at a time, exactly as a list
//! does, so an export of any size holds one page in memory. What a value reads as to a person
//! (a choice's label, a reference's title, a user's name, a date in the reader's format) is the
//! formatter's business: core ships [`Codes`], the form for machines, and the presentation layer
//! brings one with its translations.

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value;
use uuid::Uuid;

use super::children;
use super::def::{ADDRESS_PARTS, ChildDef, EntityDef, FieldDef, FieldKind};
use super::registry::Registry;
use super::service::{Count, ListQuery, MAX_LIMIT, Record};
use crate::Core;
use crate::authz::Actor;
use crate::custom_fields::CustomFieldDef;
use crate::error::{CoreError, CoreResult};
use crate::identity::users;
use crate::refs::{self, RefView, Titles};

/// The most rows one export writes. It bounds how long one export keeps a database reader busy;
/// memory does not grow with it.
pub const EXPORT_MAX_ROWS: usize = 100_000;

/// The two parts a money value is exported as, each in a column of its own: a spreadsheet can
/// sum an amount only when the currency is not in the same cell.
pub const MONEY_PARTS: [&str; 2] = ["amount", "currency"];

/// System fields every export carries after the entity's own, in this order.
pub const SYSTEM_COLUMNS: [&str; 4] = ["owner_id", "created_at", "updated_at", "version"];

/// Where a column's values come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The record's id.
    Id,
    /// A field whose whole value is one cell.
    Field(&'static FieldDef),
    /// One part of a compound field: an address part, or a money value's amount or currency.
    Part {
        field: &'static FieldDef,
        part: &'static str,
    },
    /// A system field ([`SYSTEM_COLUMNS`]).
    System(&'static str),
    /// A custom field, as defined when the export started.
    Custom(CustomFieldDef),
    /// The lines of a child collection, all in one cell.
    Lines(&'static ChildDef),
}

/// One column of an export: its code (the header of the code form) and where its values come
/// from.
#[derive(Debug, Clone)]
pub struct Column {
    /// `name`, `billing_address.city`, `amount.currency`, `custom.tier`, the collection's name.
    pub code: String,
    pub source: Source,
}

/// The columns of an export of `def`: the id, the entity's fields in declaration order (addresses
/// and money split into their parts), its child collections, the system fields, then the custom
/// fields in `custom`'s order.
pub fn columns(def: &'static EntityDef, custom: &[CustomFieldDef]) -> Vec<Column> {
    let mut out = vec![Column {
        code: "id".into(),
        source: Source::Id,
    }];
    for f in def.fields {
        let parts: &[&'static str] = match f.kind {
            FieldKind::Address => &ADDRESS_PARTS,
            FieldKind::Money => &MONEY_PARTS,
            _ => &[],
        };
        if parts.is_empty() {
            out.push(Column {
                code: f.name.into(),
                source: Source::Field(f),
            });
        }
        for part in parts {
            out.push(Column {
                code: format!("{}.{part}", f.name),
                source: Source::Part { field: f, part },
            });
        }
    }
    for child in def.children {
        out.push(Column {
            code: child.name.into(),
            source: Source::Lines(child),
        });
    }
    for s in SYSTEM_COLUMNS {
        out.push(Column {
            code: s.into(),
            source: Source::System(s),
        });
    }
    for d in custom {
        out.push(Column {
            code: format!("custom.{}", d.key),
            source: Source::Custom(d.clone()),
        });
    }
    out
}

/// A column's value in a record, in its code form (the API's JSON for it; `null` when absent).
pub fn value_of(column: &Column, rec: &Record) -> Value {
    let get = |k: &str| rec.get(k).cloned().unwrap_or(Value::Null);
    match &column.source {
        Source::Id => get("id"),
        Source::Field(f) => get(f.name),
        Source::Part { field, part } => rec
            .get(field.name)
            .and_then(|v| v.get(*part))
            .cloned()
            .unwrap_or(Value::Null),
        Source::System(s) => get(s),
        Source::Custom(d) => rec
            .get("custom")
            .and_then(|c| c.get(&d.key))
            .cloned()
            .unwrap_or(Value::Null),
        Source::Lines(child) => get(child.name),
    }
}

/// What cells that name things need, resolved for one reader: the titles of the records and
/// lines a page refers to (under the reader's scope, [`refs::titles`]) and users' names.
#[derive(Debug, Clone, Default)]
pub struct Names {
    titles: Titles,
    users: HashMap<Uuid, String>,
    /// Which entities there are, to find what a "regarding" value names.
    registry: Option<&'static Registry>,
}

impl Names {
    /// How a value of a field of `kind` reads to the reader when it refers to a record; `None`
    /// when the kind is not a reference or the value is blank.
    pub fn reference(&self, kind: &FieldKind, value: &Value) -> Option<RefView<'_>> {
        refs::target_of(self.registry?, kind, value).map(|t| self.titles.view(t))
    }

    /// The name of the user whose id is `value`, if there is one.
    pub fn user(&self, value: &Value) -> Option<&str> {
        let id = Uuid::parse_str(value.as_str()?).ok()?;
        self.users.get(&id).map(String::as_str)
    }
}

/// One page of an export: a row per record, a value per column.
#[derive(Debug, Clone, Default)]
pub struct ExportPage {
    pub rows: Vec<Vec<Value>>,
    /// Empty unless the export was asked for names ([`Export::with_names`]).
    pub names: Names,
}

/// An export in progress: reads the matching records a page at a time, as the reader.
pub struct Export {
    core: Core,
    actor: Actor,
    def: &'static EntityDef,
    query: ListQuery,
    columns: Vec<Column>,
    /// Where the next page starts; `None` before the first page and after the last.
    cursor: Option<String>,
    started: bool,
    rows: usize,
    truncated: bool,
    names: bool,
    users: Option<HashMap<Uuid, String>>,
}

impl Export {
    /// Prepares an export of the records of `def` that `actor` may read and `query` matches, in
    /// its sort, from the query's cursor if it has one (as a list page would). Its limit and
    /// count are ignored: an export pages as it likes. Nothing is read but the custom field definitions, so
    /// errors in the query (a bad filter, no permission) come from the first [`Self::next_page`].
    pub async fn start(
        core: &Core,
        actor: &Actor,
        def: &'static EntityDef,
        mut query: ListQuery,
    ) -> CoreResult<Export> {
        let custom = core.records(def).custom_defs().await?;
        let cursor = query.cursor.take().filter(|c| !c.is_empty());
        query.count = Count::No;
        query.deleted = false;
        query.limit = MAX_LIMIT;
        Ok(Export {
            core: core.clone(),
            actor: actor.clone(),
            def,
            query,
            columns: columns(def, &custom),
            cursor,
            started: false,
            rows: 0,
            truncated: false,
            names: false,
            users: None,
        })
    }

    /// Also resolve, per page, the titles of referenced records and the names of users, for a
    /// formatter that shows them ([`Formatter::wants_names`]).
    pub fn with_names(mut self, names: bool) -> Export {
        self.names = names;
        self
    }

    pub fn def(&self) -> &'static EntityDef {
        self.def
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Rows read so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the export stopped at [`EXPORT_MAX_ROWS`] with more records matching.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The next page, or `None` when every matching record (up to [`EXPORT_MAX_ROWS`]) has been
    /// read. Records made while an export runs appear if they sort after where it has got to.
    pub async fn next_page(&mut self) -> CoreResult<Option<ExportPage>> {
        if self.started && self.cursor.is_none() {
            return Ok(None);
        }
        if self.rows >= EXPORT_MAX_ROWS {
            self.truncated = true;
            self.cursor = None;
            return Ok(None);
        }
        let svc = self.core.records(self.def);
        let mut q = self.query.clone();
        q.cursor = self.cursor.take();
        q.limit = MAX_LIMIT.min((EXPORT_MAX_ROWS - self.rows) as u64);
        let page = svc.list(&self.actor, &q).await?;
        self.started = true;
        self.cursor = page.next_cursor;
        let mut recs = page.items;
        children::load_many(self.core.db.reader(), self.def, &mut recs).await?;
        self.rows += recs.len();
        let names = if self.names {
            self.names_for(&recs).await?
        } else {
            Names::default()
        };
        let rows = recs
            .iter()
            .map(|rec| self.columns.iter().map(|c| value_of(c, rec)).collect())
            .collect();
        Ok(Some(ExportPage { rows, names }))
    }

    async fn names_for(&mut self, recs: &[Record]) -> CoreResult<Names> {
        let custom: Vec<CustomFieldDef> = self
            .columns
            .iter()
            .filter_map(|c| match &c.source {
                Source::Custom(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        let targets = refs::targets(self.core.registry, self.def, &custom, recs);
        let titles = refs::titles(&self.core, &self.actor, &targets).await?;
        // Users are few next to records, and every list page names them: read once.
        let users = match &self.users {
            Some(u) => u.clone(),
            None => {
                let u: HashMap<Uuid, String> = users::list(&self.core.db)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, u.name))
                    .collect();
                self.users = Some(u.clone());
                u
            }
        };
        Ok(Names {
            titles,
            users,
            registry: Some(self.core.registry),
        })
    }
}

/// Words an export: the header of each column and the text of each cell. Implementations must
/// not fail; a value they do not recognize is best shown in its code form ([`code_text`]).
pub trait Formatter {
    /// The header cell of `column`.
    fn header(&self, column: &Column) -> String;
    /// The cell of `column` holding `value` (its code form); `names` are the page's.
    fn cell(&self, column: &Column, value: &Value, names: &Names) -> String;
    /// Whether cells show referenced records' titles or users' names, which the export then
    /// resolves for every page ([`Export::with_names`]).
    fn wants_names(&self) -> bool {
        false
    }
}

/// The code form, for machines: headers are column codes, and each cell is the value as the API
/// gives it (text as it is, numbers and `true`/`false` as written in JSON, lists, lines and texts
/// per language as JSON; blank for none and for an empty list).
#[derive(Debug, Clone, Copy, Default)]
pub struct Codes;

impl Formatter for Codes {
    fn header(&self, column: &Column) -> String {
        column.code.clone()
    }

    fn cell(&self, _column: &Column, value: &Value, _names: &Names) -> String {
        code_text(value)
    }
}

/// A value's code form as one cell (see [`Codes`]).
pub fn code_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => String::new(),
        other => other.to_string(),
    }
}

fn csv_failed(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("writing CSV: {e}"))
}

/// Turns an export's pages into CSV, a page at a time. The columns are fixed when it is made, so
/// a custom field defined while an export runs does not shift later rows.
pub struct CsvWriter {
    columns: Vec<Column>,
    formatter: Box<dyn Formatter + Send + Sync>,
    /// Written but not yet handed out (the header, until the first page takes it).
    pending: Vec<u8>,
}

impl CsvWriter {
    /// A writer for `columns` that starts with the header row.
    pub fn new(
        columns: &[Column],
        formatter: Box<dyn Formatter + Send + Sync>,
    ) -> CoreResult<CsvWriter> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(columns.iter().map(|c| neutralize(formatter.header(c))))
            .map_err(csv_failed)?;
        let pending = w.into_inner().map_err(csv_failed)?;
        Ok(CsvWriter {
            columns: columns.to_vec(),
            formatter,
            pending,
        })
    }

    /// Whether the formatter needs names resolved (pass it to [`Export::with_names`]).
    pub fn wants_names(&self) -> bool {
        self.formatter.wants_names()
    }

    /// The CSV of one page, after whatever was written before it and not yet taken.
    pub fn page(&mut self, page: &ExportPage) -> CoreResult<Vec<u8>> {
        let mut w = csv::Writer::from_writer(std::mem::take(&mut self.pending));
        for row in &page.rows {
            let cells = self.columns.iter().zip(row).map(|(c, v)| {
                let text = self.formatter.cell(c, v, &page.names);
                if is_number(c, v, &text) {
                    text
                } else {
                    neutralize(text)
                }
            });
            w.write_record(cells).map_err(csv_failed)?;
        }
        w.into_inner().map_err(csv_failed)
    }

    /// What was written and not yet taken (the header of an export with no page yet).
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }
}

/// Reads every page of `export` and writes it to `out` as CSV through `formatter`; the number of
/// rows written. What the command line uses; the server streams pages itself.
pub async fn write_csv(
    export: Export,
    formatter: Box<dyn Formatter + Send + Sync>,
    out: &mut dyn Write,
) -> CoreResult<usize> {
    let mut writer = CsvWriter::new(export.columns(), formatter)?;
    let names = writer.wants_names();
    let mut export = export.with_names(names);
    while let Some(page) = export.next_page().await? {
        out.write_all(&writer.page(&page)?).map_err(csv_failed)?;
    }
    out.write_all(&writer.finish()).map_err(csv_failed)?;
    out.flush().map_err(csv_failed)?;
    Ok(export.rows())
}

/// A number stays as it is: a spreadsheet reads `-5` as minus five, never as a formula. Only
/// values that are numbers in the code form count (a text field holding `-2` is text).
fn is_number(column: &Column, value: &Value, text: &str) -> bool {
    let amount = match column.source {
        Source::Part { field, part } => matches!(field.kind, FieldKind::Money) && part == "amount",
        _ => false,
    };
    (value.is_number() || amount) && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Spreadsheets run cells starting with these as formulas; a leading apostrophe keeps them text.
pub fn neutralize(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formula_cells_are_neutralized() {
        assert_eq!(neutralize("=1+1".into()), "'=1+1");
        assert_eq!(neutralize("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(neutralize("北京".into()), "北京");
    }

    #[test]
    fn code_text_is_the_api_value() {
        assert_eq!(code_text(&Value::Null), "");
        assert_eq!(code_text(&json!("a")), "a");
        assert_eq!(code_text(&json!(true)), "true");
        assert_eq!(code_text(&json!(12)), "12");
        assert_eq!(code_text(&json!([])), "");
        assert_eq!(code_text(&json!({"en": "x"})), r#"{"en":"x"}"#);
    }
}
