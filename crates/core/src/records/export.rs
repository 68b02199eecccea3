//! Exports: every record of an entity that a reader may see and a list query matches, as rows of
//! values in their code form, and the writers (CSV, XLSX) that word them through a [`Formatter`].
//!
//! The data side lives here so that the API, the UI and the command line export the same rows
//! under the same scope: [`Export`] decides the columns once (from the declaration and the custom
//! fields defined when it starts, or the ones a person chose, [`Export::choose`]) and then reads
//! one keyset page at a time, exactly as a list does, so an export of any size holds one page in
//! memory. What a value reads as to a person (a choice's label, a reference's title, a user's
//! name, a date in the reader's format) is the formatter's business: core ships [`Codes`], the
//! form for machines, and the presentation layer brings one with its translations.
//!
//! Both writers take the same cells: the formatter's text and what the value is ([`Typed`]: a
//! number, a date, or only text). CSV writes the text; XLSX writes numbers as numbers and, for
//! people, dates as dates, and the text otherwise. Which columns, in which order, and what each
//! cell says are decided once, above the writers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
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

/// The most rows one download writes ([`Export::at_most`]). It bounds how long one person's
/// export keeps a server's reader busy; memory does not grow with it. The command line, run by
/// whoever runs the database, exports everything.
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
    /// The record's title in the reader's language, as a list's `name` column shows it: for an
    /// entity whose title is not one field of its own (made of several, or worded per language).
    /// Only where a person chose the column ([`choose`]).
    Title {
        title: fn(&Record, &str) -> String,
        locale: String,
    },
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

/// A column's value in a record, in its code form (the API's JSON for it; `null` when absent),
/// borrowed from the record where it is one of its values: an export words a million records'
/// values, and copying each before wording it was a tenth of the work.
pub fn value_of<'a>(column: &Column, rec: &'a Record) -> Cow<'a, Value> {
    const NULL: &Value = &Value::Null;
    let found = match &column.source {
        Source::Id => rec.get("id"),
        Source::Field(f) => rec.get(f.name),
        Source::Part { field, part } => rec.get(field.name).and_then(|v| v.get(*part)),
        Source::System(s) => rec.get(*s),
        Source::Custom(d) => rec.get("custom").and_then(|c| c.get(&d.key)),
        Source::Lines(child) => rec.get(child.name),
        Source::Title { title, locale } => return Cow::Owned(Value::String(title(rec, locale))),
    };
    Cow::Borrowed(found.unwrap_or(NULL))
}

/// The columns that `codes` name, in their order: what a person chose a list to show. A code is
/// a column's code (`name`, `billing_address.city`, `amount.currency`, `owner_id`,
/// `custom.level`); an address or money field's name for all its parts; `name` for the title of
/// an entity that has no field of that name (as lists show it); `created_by` or `updated_by`; or
/// a field by its storage column (`billing.city` for `billing_address.city`). `all` are the
/// export's columns ([`columns`]); `locale` is the reader's, for titles. A column named twice
/// appears once; the codes that name nothing are returned apart, in their order.
pub fn choose<S: AsRef<str>>(
    def: &'static EntityDef,
    all: &[Column],
    codes: &[S],
    locale: &str,
) -> (Vec<Column>, Vec<String>) {
    let mut chosen: Vec<Column> = Vec::new();
    let mut unknown = Vec::new();
    for code in codes {
        let code = code.as_ref().trim();
        if code.is_empty() {
            continue;
        }
        let found = named(def, all, code, locale);
        if found.is_empty() {
            unknown.push(code.to_string());
        }
        for c in found {
            if !chosen.iter().any(|x| x.code == c.code) {
                chosen.push(c);
            }
        }
    }
    (chosen, unknown)
}

/// The columns one code of [`choose`] names (none when it names nothing).
fn named(def: &'static EntityDef, all: &[Column], code: &str, locale: &str) -> Vec<Column> {
    if let Some(c) = all.iter().find(|c| c.code == code) {
        return vec![c.clone()];
    }
    let system = match code {
        "name" if def.field("name").is_none() => {
            return vec![Column {
                code: "name".into(),
                source: Source::Title {
                    title: def.title,
                    locale: locale.to_string(),
                },
            }];
        }
        "created_by" => Some("created_by"),
        "updated_by" => Some("updated_by"),
        _ => None,
    };
    if let Some(s) = system {
        return vec![Column {
            code: s.into(),
            source: Source::System(s),
        }];
    }
    // A field named by its storage column: `billing.city`, `billing`.
    let (base, part) = match code.split_once('.') {
        Some((b, p)) => (b, Some(p)),
        None => (code, None),
    };
    let base = def
        .fields
        .iter()
        .find(|f| f.column == base && f.column != f.name)
        .map_or(base, |f| f.name);
    match part {
        Some(p) => {
            let canonical = format!("{base}.{p}");
            all.iter()
                .filter(|c| c.code == canonical)
                .cloned()
                .collect()
        }
        // A compound field by its name: every part.
        None => all
            .iter()
            .filter(|c| matches!(&c.source, Source::Part { field, .. } if field.name == base))
            .cloned()
            .collect(),
    }
}

/// What a cell holds besides its text: for a writer that keeps numbers and dates as such (a
/// spreadsheet sums an amount and sorts by a date only when they are not text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Typed {
    /// Only its text.
    Text,
    /// A number, and how a spreadsheet shows it.
    Number(f64, NumberStyle),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant, in UTC (as the labels form words it).
    DateTime(NaiveDateTime),
}

/// How a number is shown in a spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberStyle {
    /// As it is.
    General,
    /// Grouped, with this many decimals: an amount of money.
    Decimals(u8),
    /// A fraction shown as a percentage (0.125 as 12.50%).
    Percent,
}

/// Who reads an export, which decides what a cell holds ([`typed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The code form: numbers are numbers; dates and times stay ISO text, as the API gives them,
    /// so they read back exactly.
    Programs,
    /// The labels form: numbers, percentages, dates and times as a spreadsheet's own values.
    People,
}

/// What the cell of `column` holding `value` (its code form) is, for `audience`. A number that a
/// spreadsheet could not hold exactly (more than 15 significant digits) stays text rather than
/// being changed.
pub fn typed(column: &Column, value: &Value, audience: Audience) -> Typed {
    enum K {
        Number,
        Percent,
        Duration,
        Date,
        DateTime,
        Other,
    }
    let kind_of = |kind: &FieldKind| match kind {
        FieldKind::Int { .. } | FieldKind::Decimal { .. } => K::Number,
        FieldKind::Percent => K::Percent,
        FieldKind::Duration => K::Duration,
        FieldKind::Date => K::Date,
        FieldKind::DateTime => K::DateTime,
        _ => K::Other,
    };
    let kind = match &column.source {
        Source::Field(f) => kind_of(&f.kind),
        Source::Custom(d) => kind_of(&d.kind),
        Source::Part { field, part } => {
            return if matches!(field.kind, FieldKind::Money) && *part == "amount" {
                amount(value)
            } else {
                Typed::Text
            };
        }
        Source::System("created_at" | "updated_at") => K::DateTime,
        Source::System("version") => K::Number,
        _ => K::Other,
    };
    match (kind, audience) {
        (K::Number, _) | (K::Percent | K::Duration, Audience::Programs) => number(value),
        (K::Percent, Audience::People) => match number(value) {
            Typed::Number(n, _) => Typed::Number(n / 100.0, NumberStyle::Percent),
            other => other,
        },
        (K::Date, Audience::People) => value
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .filter(in_spreadsheet_range)
            .map_or(Typed::Text, Typed::Date),
        (K::DateTime, Audience::People) => value
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.naive_utc())
            .filter(|t| in_spreadsheet_range(&t.date()))
            .map_or(Typed::Text, Typed::DateTime),
        _ => Typed::Text,
    }
}

/// Spreadsheets count days from 1900 and stop at 9999.
fn in_spreadsheet_range(d: &NaiveDate) -> bool {
    (1900..=9999).contains(&chrono::Datelike::year(d))
}

/// A JSON number as a spreadsheet number, when a double holds it exactly.
fn number(value: &Value) -> Typed {
    let Value::Number(n) = value else {
        return Typed::Text;
    };
    const EXACT: u64 = 1 << 53;
    let n = if let Some(i) = n.as_i64() {
        (i.unsigned_abs() <= EXACT).then_some(i as f64)
    } else if let Some(u) = n.as_u64() {
        (u <= EXACT).then_some(u as f64)
    } else {
        n.as_f64()
    };
    n.filter(|f| f.is_finite())
        .map_or(Typed::Text, |f| Typed::Number(f, NumberStyle::General))
}

/// A money amount (a decimal string such as `"120000.00"`) as a number with its decimals, when a
/// spreadsheet holds it exactly.
fn amount(value: &Value) -> Typed {
    let Some(text) = value.as_str() else {
        return Typed::Text;
    };
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !is_digits(whole) || !is_digits(fraction) {
        return Typed::Text;
    }
    let significant = whole.trim_start_matches('0').len() + fraction.len();
    match text.parse::<f64>() {
        Ok(n) if significant <= 15 && n.is_finite() => {
            Typed::Number(n, NumberStyle::Decimals(fraction.len().min(10) as u8))
        }
        _ => Typed::Text,
    }
}

/// What cells that name things need, resolved for one reader: the titles of the records and
/// lines a page refers to (under the reader's scope, [`refs::titles`]) and users' names.
#[derive(Debug, Clone, Default)]
pub struct Names {
    titles: Titles,
    /// Shared by every page of an export: read once, not copied per page.
    users: Arc<HashMap<Uuid, String>>,
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

/// One page of an export: its records, each a row whose cells the export's columns take from
/// it ([`value_of`]).
#[derive(Debug, Clone, Default)]
pub struct ExportPage {
    pub records: Vec<Record>,
    /// Empty unless the export was asked for names ([`Export::with_names`]).
    pub names: Names,
}

/// An export in progress: reads the matching records a page at a time, as the reader.
pub struct Export {
    core: Core,
    actor: Actor,
    def: &'static EntityDef,
    query: ListQuery,
    /// Where the next page starts; `None` before the first page and after the last.
    cursor: Option<String>,
    started: bool,
    rows: usize,
    /// Stop after this many rows; none: every matching record.
    max_rows: Option<usize>,
    truncated: bool,
    fill: Filling,
}

/// What fills a page of records before it is written: their child lines, and the titles and
/// users' names its cells show. Apart from the reading of records, so that the two can run
/// side by side ([`Export::read_ahead`]).
#[derive(Clone)]
struct Filling {
    core: Core,
    actor: Actor,
    def: &'static EntityDef,
    columns: Vec<Column>,
    names: bool,
    users: Option<Arc<HashMap<Uuid, String>>>,
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
            cursor,
            started: false,
            rows: 0,
            max_rows: None,
            truncated: false,
            fill: Filling {
                core: core.clone(),
                actor: actor.clone(),
                def,
                columns: columns(def, &custom),
                names: false,
                users: None,
            },
        })
    }

    /// Stops after `rows` rows, saying so ([`Self::truncated`]).
    pub fn at_most(mut self, rows: usize) -> Export {
        self.max_rows = Some(rows);
        self
    }

    /// Also resolve, per page, the titles of referenced records and the names of users, for a
    /// formatter that shows them ([`Formatter::wants_names`]).
    pub fn with_names(mut self, names: bool) -> Export {
        self.fill.names = names;
        self
    }

    pub fn def(&self) -> &'static EntityDef {
        self.def
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn columns(&self) -> &[Column] {
        &self.fill.columns
    }

    /// Exports only the columns `codes` name, in that order ([`choose`]): the columns a person
    /// chose for a list. The codes that name nothing are returned and left out; when none names
    /// anything, or there are none, every column stays. Call before the first page.
    pub fn choose<S: AsRef<str>>(&mut self, codes: &[S]) -> Vec<String> {
        let (chosen, unknown) = choose(self.def, &self.fill.columns, codes, &self.actor.locale);
        if !chosen.is_empty() {
            self.fill.columns = chosen;
        }
        unknown
    }

    /// Rows read so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the export stopped at its limit ([`Self::at_most`]) with more records matching.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The next page, or `None` when every matching record (up to its limit) has been
    /// read. Records made while an export runs appear if they sort after where it has got to.
    pub async fn next_page(&mut self) -> CoreResult<Option<ExportPage>> {
        match self.next_records().await? {
            Some(recs) => self.fill.fill(recs).await.map(Some),
            None => Ok(None),
        }
    }

    /// The next page's records as their table holds them, without their lines or names.
    async fn next_records(&mut self) -> CoreResult<Option<Vec<Record>>> {
        if self.started && self.cursor.is_none() {
            return Ok(None);
        }
        let left = self.max_rows.map(|m| m.saturating_sub(self.rows));
        if left == Some(0) {
            self.truncated = true;
            self.cursor = None;
            return Ok(None);
        }
        let svc = self.core.records(self.def);
        let mut q = self.query.clone();
        q.cursor = self.cursor.take();
        q.limit = left.map_or(MAX_LIMIT, |l| MAX_LIMIT.min(l as u64));
        let page = svc.list(&self.actor, &q).await?;
        self.started = true;
        self.cursor = page.next_cursor;
        self.rows += page.items.len();
        Ok(Some(page.items))
    }

    /// Reads the pages ahead of the one being written, up to `ahead` pages: one task reads the
    /// records, another fills them (lines, names), while the caller words and writes the page
    /// before. Where each waited for the others, a page's reading, filling and writing now run
    /// side by side, on both cores. For the command line; the server's downloads read a page
    /// at a time and take turns, so that exports never hold more than one core beside the
    /// requests everyone else makes.
    pub fn read_ahead(self, ahead: usize) -> ReadAhead {
        let ahead = ahead.max(1);
        let (send_records, mut records) = tokio::sync::mpsc::channel(ahead);
        let (send, pages) = tokio::sync::mpsc::channel(ahead);
        let mut fill = self.fill.clone();
        let task = tokio::spawn(async move {
            let mut export = self;
            loop {
                let recs = export.next_records().await;
                let last = !matches!(recs, Ok(Some(_)));
                // Whoever stopped listening (the writer, on an error of its own) needs no more.
                if send_records.send(recs).await.is_err() || last {
                    return export;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(recs) = records.recv().await {
                let page = match recs {
                    Ok(Some(recs)) => fill.fill(recs).await.map(Some),
                    other => other.map(|_| None),
                };
                let last = !matches!(page, Ok(Some(_)));
                if send.send(page).await.is_err() || last {
                    return;
                }
            }
        });
        ReadAhead { pages, task }
    }
}

impl Filling {
    /// The page of `recs` with their lines, and the names its cells show when they are wanted.
    async fn fill(&mut self, mut recs: Vec<Record>) -> CoreResult<ExportPage> {
        children::load_many(self.core.db.reader(), self.def, &mut recs).await?;
        let names = if self.names {
            self.names_for(&recs).await?
        } else {
            Names::default()
        };
        Ok(ExportPage {
            records: recs,
            names,
        })
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
        // Only the columns exported: a reference the export leaves out is never named.
        let columns = &self.columns;
        let targets = refs::targets(self.core.registry, self.def, &custom, recs, |f| {
            columns.iter().any(|c| c.code == f)
        });
        let titles = refs::titles(&self.core, &self.actor, &targets).await?;
        // Users are few next to records, and every list page names them: read once.
        let users = match &self.users {
            Some(u) => Arc::clone(u),
            None => {
                let u: Arc<HashMap<Uuid, String>> = Arc::new(
                    users::list(&self.core.db)
                        .await?
                        .iter()
                        .map(|u| (u.id, u.name.clone()))
                        .collect(),
                );
                self.users = Some(Arc::clone(&u));
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

/// An export's pages as a task reads them ahead ([`Export::read_ahead`]).
pub struct ReadAhead {
    pages: tokio::sync::mpsc::Receiver<CoreResult<Option<ExportPage>>>,
    task: tokio::task::JoinHandle<Export>,
}

impl ReadAhead {
    /// The next page, as [`Export::next_page`] gives it.
    pub async fn next_page(&mut self) -> CoreResult<Option<ExportPage>> {
        match self.pages.recv().await {
            Some(page) => page,
            // The reading task ended without saying so: it panicked. Its reason is in `finish`.
            None => Err(CoreError::Internal(
                "an export's reading stopped before its last page".into(),
            )),
        }
    }

    /// The export once its pages are read, for its counts ([`Export::rows`]).
    pub async fn finish(self) -> CoreResult<Export> {
        drop(self.pages);
        self.task
            .await
            .map_err(|e| CoreError::Internal(format!("an export's reading failed: {e}")))
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
    /// What the cell of `column` holding `value` is besides its text ([`typed`]); by default
    /// what it is to programs.
    fn typed(&self, column: &Column, value: &Value) -> Typed {
        typed(column, value, Audience::Programs)
    }
    /// The name of the sheet a spreadsheet holds the export in; by default the entity's plural.
    fn sheet_name(&self, def: &EntityDef) -> String {
        def.plural.to_string()
    }
}

/// The cells of one record's row: each column with the formatter's text and what the value is.
fn row_cells<'a>(
    columns: &'a [Column],
    formatter: &'a (dyn Formatter + Send + Sync),
    rec: &'a Record,
    names: &'a Names,
) -> impl Iterator<Item = (&'a Column, String, Typed)> + 'a {
    columns.iter().map(move |c| {
        let v = value_of(c, rec);
        (c, formatter.cell(c, &v, names), formatter.typed(c, &v))
    })
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

/// The UTF-8 byte order mark. Excel opens a CSV file as UTF-8 only when it starts with one; without
/// it Excel on Chinese Windows reads the bytes as GBK and every Chinese character is garbled.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

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

    /// Starts the file with the UTF-8 byte order mark ([`UTF8_BOM`]), for files people open in
    /// a spreadsheet. Readers of CSV for programs mostly take a BOM for part of the first header,
    /// so the code form goes without.
    pub fn with_bom(mut self) -> CsvWriter {
        self.pending.splice(0..0, UTF8_BOM.iter().copied());
        self
    }

    /// Whether the formatter needs names resolved (pass it to [`Export::with_names`]).
    pub fn wants_names(&self) -> bool {
        self.formatter.wants_names()
    }

    /// The CSV of one page, after whatever was written before it and not yet taken.
    pub fn page(&mut self, page: &ExportPage) -> CoreResult<Vec<u8>> {
        let mut w = csv::Writer::from_writer(std::mem::take(&mut self.pending));
        for rec in &page.records {
            let cells = row_cells(&self.columns, &*self.formatter, rec, &page.names)
                .map(|(_, text, typed)| csv_cell(text, typed));
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

fn xlsx_failed(e: XlsxError) -> CoreError {
    CoreError::Internal(format!("writing XLSX: {e}"))
}

/// The most text one cell of Excel holds, in UTF-16 units; longer text is cut there.
const XLSX_MAX_TEXT: usize = 32_767;
/// Column widths, in Excel's unit (about one Latin letter; a Chinese character takes two).
const MIN_WIDTH: f64 = 6.0;
const MAX_WIDTH: f64 = 60.0;

/// Turns an export's pages into an XLSX workbook of one sheet: a bold header row that stays in
/// view when the sheet scrolls (with filter buttons), then a row per record. Numbers are numbers
/// (amounts with their decimals, grouped), dates and times for people are dates with a date
/// format, any other cell is a text cell, never a formula, [`neutralize`]d as in CSV. Columns are
/// as wide as the header and the first page's values need, Chinese characters counted double.
///
/// The sheet is written in rust_xlsxwriter's constant-memory mode: each row goes to a temporary
/// file as the next begins, so the writer holds a row, not the sheet, and strings are written
/// inline rather than gathered in a shared table. [`Self::finish`] then writes the workbook (a zip
/// of the sheet and its parts) to any writer, streaming the temporary file through.
pub struct XlsxWriter {
    columns: Vec<Column>,
    formatter: Box<dyn Formatter + Send + Sync>,
    workbook: Workbook,
    sheet: Worksheet,
    formats: Formats,
    /// The row the next record goes to (the header is row 0).
    row: u32,
    /// Each column's width so far, until they are set after the first page.
    widths: Option<Vec<f64>>,
}

/// The cell formats a sheet uses, made once.
struct Formats {
    header: Format,
    date: Format,
    date_time: Format,
    percent: Format,
    wrap: Format,
    /// Amounts by their number of decimals.
    decimals: HashMap<u8, Format>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            // The labels form words times in UTC and says so; the sheet does the same.
            date_time: Format::new().set_num_format("yyyy-mm-dd hh:mm \"UTC\""),
            percent: Format::new().set_num_format("0.00%"),
            wrap: Format::new().set_text_wrap(),
            decimals: HashMap::new(),
        }
    }

    /// The format of a number in `style` (`None`: as it is).
    fn number(&mut self, style: NumberStyle) -> Option<&Format> {
        match style {
            NumberStyle::General => None,
            NumberStyle::Percent => Some(&self.percent),
            NumberStyle::Decimals(n) => Some(self.decimals.entry(n).or_insert_with(|| {
                let fraction = if n == 0 {
                    String::new()
                } else {
                    format!(".{}", "0".repeat(usize::from(n)))
                };
                Format::new().set_num_format(format!("#,##0{fraction}"))
            })),
        }
    }
}

impl XlsxWriter {
    /// A writer for `columns` with the header row written, its sheet called `sheet_name` (made
    /// fit for Excel: at most 31 characters, none of `[]:*?/\`).
    pub fn new(
        columns: &[Column],
        formatter: Box<dyn Formatter + Send + Sync>,
        sheet_name: &str,
    ) -> CoreResult<XlsxWriter> {
        let mut workbook = Workbook::new();
        let mut sheet = workbook
            .new_worksheet_with_constant_memory()
            .map_err(xlsx_failed)?;
        sheet
            .set_name(sheet_title(sheet_name))
            .map_err(xlsx_failed)?;
        let formats = Formats::new();
        let mut widths = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let header = clip(neutralize(formatter.header(c)));
            // Bold, and room for the filter button.
            widths.push(text_width(&header) as f64 * 1.1 + 3.0);
            sheet
                .write_string_with_format(0, column_number(i)?, header, &formats.header)
                .map_err(xlsx_failed)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_failed)?;
        Ok(XlsxWriter {
            columns: columns.to_vec(),
            formatter,
            workbook,
            sheet,
            formats,
            row: 1,
            widths: Some(widths),
        })
    }

    /// Whether the formatter needs names resolved (pass it to [`Export::with_names`]).
    pub fn wants_names(&self) -> bool {
        self.formatter.wants_names()
    }

    /// Writes one page's rows (to the sheet's temporary file).
    pub fn page(&mut self, page: &ExportPage) -> CoreResult<()> {
        for rec in &page.records {
            let cells = row_cells(&self.columns, &*self.formatter, rec, &page.names);
            for (i, (column, text, typed)) in cells.enumerate() {
                if let Some(w) = self.widths.as_mut().and_then(|w| w.get_mut(i)) {
                    *w = w.max(shown_width(&text, typed) + 2.0);
                }
                let col = column_number(i)?;
                let (sheet, row) = (&mut self.sheet, self.row);
                match typed {
                    Typed::Number(n, style) => match self.formats.number(style) {
                        Some(f) => sheet.write_number_with_format(row, col, n, f),
                        None => sheet.write_number(row, col, n),
                    },
                    Typed::Date(d) => {
                        sheet.write_datetime_with_format(row, col, d, &self.formats.date)
                    }
                    Typed::DateTime(t) => {
                        sheet.write_datetime_with_format(row, col, t, &self.formats.date_time)
                    }
                    Typed::Text if text.is_empty() => continue,
                    Typed::Text => {
                        let text = clip(neutralize(text));
                        if matches!(column.source, Source::Lines(_)) {
                            // One line per line of the collection.
                            sheet.write_string_with_format(row, col, text, &self.formats.wrap)
                        } else {
                            sheet.write_string(row, col, text)
                        }
                    }
                }
                .map_err(xlsx_failed)?;
            }
            self.row += 1;
        }
        self.set_widths();
        Ok(())
    }

    /// Sets the column widths measured so far, once.
    fn set_widths(&mut self) {
        for (i, w) in self
            .widths
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if let Ok(col) = column_number(i) {
                // Cannot fail: the column was checked when its header was written.
                let _ = self
                    .sheet
                    .set_column_width(col, w.clamp(MIN_WIDTH, MAX_WIDTH));
            }
        }
    }

    /// Writes the workbook to `out`; the rows written.
    pub fn finish<W: Write + Send>(mut self, out: W) -> CoreResult<usize> {
        self.set_widths();
        if let Ok(last_col) = column_number(self.columns.len().saturating_sub(1)) {
            self.sheet
                .autofilter(0, 0, self.row.saturating_sub(1), last_col)
                .map_err(xlsx_failed)?;
        }
        let rows = (self.row - 1) as usize;
        self.workbook.push_worksheet(self.sheet);
        self.workbook.save_to_writer(out).map_err(xlsx_failed)?;
        Ok(rows)
    }
}

/// A sheet column number; Excel has 16,384.
fn column_number(i: usize) -> CoreResult<u16> {
    u16::try_from(i)
        .ok()
        .filter(|c| *c < 16_384)
        .ok_or_else(|| CoreError::Internal(format!("an XLSX sheet has no column {i}")))
}

/// A name Excel takes for a sheet.
fn sheet_title(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let clean = clean.trim_matches('\'').trim();
    if clean.is_empty() || clean.eq_ignore_ascii_case("history") {
        "Sheet1".into()
    } else {
        clean.to_string()
    }
}

/// Text cut to what an Excel cell holds.
fn clip(text: String) -> String {
    if text.len() <= XLSX_MAX_TEXT {
        return text;
    }
    let mut units = 0;
    let end = text
        .char_indices()
        .find(|(_, c)| {
            units += c.len_utf16();
            units > XLSX_MAX_TEXT
        })
        .map_or(text.len(), |(i, _)| i);
    text[..end].to_string()
}

/// About how wide a cell's value shows, in Excel's unit.
fn shown_width(text: &str, typed: Typed) -> f64 {
    match typed {
        Typed::Date(_) => 10.0,
        Typed::DateTime(_) => 20.0,
        // Digits, and the group separators the format adds.
        Typed::Number(_, NumberStyle::Decimals(_)) => (text.len() + text.len() / 3) as f64,
        _ => text_width(text) as f64,
    }
}

/// The width of the longest line of `text`, a wide (Chinese, Japanese, Korean, full-width)
/// character counted as two.
fn text_width(text: &str) -> usize {
    text.lines()
        .map(|l| l.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum())
        .max()
        .unwrap_or(0)
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// A CSV cell: a number stays as it is, since a spreadsheet reads `-5` as minus five, never as a
/// formula; any other text is [`neutralize`]d. Only values that are numbers ([`Typed::Number`])
/// whose text reads as one count (a text field holding `-2` is text, and so is a percentage
/// worded `-5%`).
fn csv_cell(text: String, typed: Typed) -> String {
    if matches!(typed, Typed::Number(..)) && text.parse::<f64>().is_ok_and(f64::is_finite) {
        text
    } else {
        neutralize(text)
    }
}

/// Spreadsheets run cells starting with these as formulas; a leading apostrophe keeps them text.
/// The one rule for both writers: CSV cells and XLSX text cells get the same apostrophe, so the
/// two files of one export say the same, and the text stays inert when a spreadsheet saves the
/// XLSX as CSV, or someone edits the cell (Excel turns an edited text cell that starts with `=`
/// into a formula; one that starts with `'` stays text).
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
    fn amounts_are_numbers_only_when_a_spreadsheet_keeps_them_exactly() {
        assert_eq!(
            amount(&json!("1234567.89")),
            Typed::Number(1234567.89, NumberStyle::Decimals(2))
        );
        assert_eq!(
            amount(&json!("-5")),
            Typed::Number(-5.0, NumberStyle::Decimals(0))
        );
        // 16 significant digits: a double would change it.
        assert_eq!(amount(&json!("12345678901234.56")), Typed::Text);
        assert_eq!(amount(&json!("1e5")), Typed::Text);
        assert_eq!(amount(&Value::Null), Typed::Text);
        assert_eq!(number(&json!(9_007_199_254_740_993_i64)), Typed::Text);
        assert_eq!(
            number(&json!(42)),
            Typed::Number(42.0, NumberStyle::General)
        );
    }

    #[test]
    fn people_get_dates_and_percentages_programs_get_iso_text() {
        static DAY: FieldDef = FieldDef::new("day", FieldKind::Date);
        static AT: FieldDef = FieldDef::new("at", FieldKind::DateTime);
        static SHARE: FieldDef = FieldDef::new("share", FieldKind::Percent);
        let col = |f: &'static FieldDef| Column {
            code: f.name.into(),
            source: Source::Field(f),
        };
        let day = json!("2026-03-01");
        let at = json!("2026-03-01T08:30:00+08:00");
        assert_eq!(
            typed(&col(&DAY), &day, Audience::People),
            Typed::Date(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
        );
        assert_eq!(
            typed(&col(&AT), &at, Audience::People),
            Typed::DateTime(
                NaiveDate::from_ymd_opt(2026, 3, 1)
                    .unwrap()
                    .and_hms_opt(0, 30, 0)
                    .unwrap()
            ),
            "in UTC"
        );
        assert_eq!(typed(&col(&DAY), &day, Audience::Programs), Typed::Text);
        assert_eq!(typed(&col(&AT), &at, Audience::Programs), Typed::Text);
        assert_eq!(
            typed(&col(&SHARE), &json!(12.5), Audience::People),
            Typed::Number(0.125, NumberStyle::Percent)
        );
        assert_eq!(
            typed(&col(&SHARE), &json!(12.5), Audience::Programs),
            Typed::Number(12.5, NumberStyle::General)
        );
        assert_eq!(
            typed(&col(&DAY), &json!("1850-01-01"), Audience::People),
            Typed::Text,
            "before spreadsheets' calendar"
        );
    }

    #[test]
    fn csv_keeps_numbers_and_neutralizes_the_rest() {
        let n = Typed::Number(-5.0, NumberStyle::General);
        assert_eq!(csv_cell("-5".into(), n), "-5");
        assert_eq!(csv_cell("-5%".into(), n), "'-5%");
        assert_eq!(csv_cell("-5".into(), Typed::Text), "'-5");
    }

    #[test]
    fn xlsx_text_fits_excel() {
        assert_eq!(sheet_title("客户"), "客户");
        assert_eq!(sheet_title("a/b[c]:d*e?f\\g"), "abcdefg");
        assert_eq!(sheet_title("'History'"), "Sheet1");
        assert_eq!(sheet_title(&"x".repeat(40)).len(), 31);
        let long = "中".repeat(XLSX_MAX_TEXT + 5);
        assert_eq!(clip(long).chars().count(), XLSX_MAX_TEXT);
        let emoji = "😀".repeat(XLSX_MAX_TEXT);
        assert_eq!(clip(emoji).chars().count(), XLSX_MAX_TEXT / 2);
        assert_eq!(text_width("北京 ab"), 7);
        assert_eq!(text_width("a\n张三李四"), 8);
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
