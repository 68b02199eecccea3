//! Importing a file's rows as records of any declared entity: each row turned into the record
//! the API would take, matched on natural keys against what is stored, and written through the
//! record engine's batch path ([`crate::records::bulk`]), so an imported record is the same as
//! one created through the API (row, contact points, search document, matching keys, audit row).
//!
//! # A run
//!
//! [`run`] reads a [`Source`] through a resolved [`Plan`]:
//!
//! 1. Each row becomes the API's JSON ([`prepare`]): list fields (phones, e-mails) take every
//!    column mapped to them and every value of a cell that holds several, never dropping one;
//!    a whole name is split ([`super::names::split`]); dates are read with the column's format;
//!    the owner and user fields are found by a user's name or e-mail; a reference to another
//!    record given by name (公司名称 → the contact's account) is found by that entity's name
//!    rule of the duplicate check (查重), or, when nothing goes by that name, created.
//! 2. Unless the policy is [`Policy::Create`], the row is matched on its natural keys
//!    ([`NATURAL_KEYS`]: e-mail, phone, web domain, tax id, company name) through the duplicate
//!    check's stored keys, as the batch's transaction sees them (rows earlier in the same file
//!    included). A row matching several records is a row error naming them, never a guess.
//!    The keys of the next rows of a batch are looked up together, one statement for many
//!    rows ([`LOOK_AHEAD`]); what the batch's own rows add or take away is followed in memory
//!    (two rows of the file with the same e-mail: the second matches the first), and a row
//!    whose keys lead anywhere but to none or one readable record is asked about alone, as the
//!    batch's transaction sees it. The engine's save then checks only the rules that block
//!    (the row allows what merely warns), so a row costs one look-up, not two.
//! 3. Rows go in batches of at most [`BATCH_ROWS`], each batch one transaction that takes new
//!    rows only until [`BATCH_BUDGET`] has passed ([`BUSY_BATCH_BUDGET`] while other writes
//!    wait for SQLite's writer). A batch is written without a savepoint per
//!    row. A row refused before it wrote anything (its company's name is several accounts, it
//!    matches several records) fails alone and the batch goes on. When a row is refused after
//!    it wrote (the database refused its record), the batch is rolled back and its rows written
//!    again each in a savepoint of its own, so a row refused leaves the rest of its batch
//!    standing (and the batches after one with refusals go row by row until one has none).
//!    A batch's commit runs while the next rows are read, prepared and their keys worked out;
//!    its rows count as imported (in the progress, the error file) once it is done.
//!
//! # Re-runs
//!
//! Each row's outcome is written in the transaction that writes the row (`import_rows`, keyed on
//! the entity, the file's [`fingerprint`] and the row's line). A later run of the same file
//! passes over every row already imported, whatever its policy, so the same file twice creates
//! nothing new and a run stopped half-way (killed, or cut short by
//! [`RunOptions::stop_after`]) and started again imports each row exactly once. Rows that failed
//! are tried again.
//!
//! # Dry runs
//!
//! A dry run does everything a run does, batch by batch, and rolls each batch back: every row is
//! validated by the engine itself, references and duplicates included, and nothing is written
//! (no run record either). Rows of one batch see each other; a repeat of a row in an earlier
//! batch is counted as new, since that batch is gone.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, OnConflict, Query};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::already::Imported;
use super::keys::{KeyIndex, Keyed};
use super::keys::{LOOK_AHEAD, NATURAL_KEYS};
use super::mapping::{Plan, TargetKind};
use super::prepare::{NamedRef, People, Prepared, prepare};
use super::{ReadError, Source};
use crate::Core;
use crate::authz::{Actor, Scope};
use crate::db::{self, col, get_i64, get_string};
use crate::dedupe::{self, Rule};
use crate::error::{CoreError, CoreResult, FieldError, Params, codes};
use crate::records::bulk::BulkWrite;
use crate::records::def::{EntityDef, FieldKind};
use crate::records::values::{self, blank};
use crate::records::{JsonMap, Record};

/// Most rows one transaction takes.
///
/// A contact row costs the engine about 1 ms of CPU on SQLite (validation, the duplicate
/// check's look-ups, the row image, the search document; measured on two shared cores), so the
/// time budget below ends a batch first, at about 100 rows; the row limit bounds what a batch
/// reads ahead on a machine several times quicker. More rows would only lengthen the wait of
/// everyone else's writes; fewer would pay more commits.
pub const BATCH_ROWS: usize = 500;

/// How long a batch keeps taking rows. The issue allows no import transaction to hold SQLite's
/// one writer for more than 200 ms. A batch stops taking rows at 75 ms, which leaves the last
/// row, the row outcomes, the search index's settling and the commit within it: at 100 ms the
/// longest of 1,700 batches (100,000 rows twice, two busy shared cores) was 250 ms.
pub const BATCH_BUDGET: Duration = Duration::from_millis(75);

/// How long a batch keeps taking rows while other writes (people saving in the app) wait for
/// SQLite's writer: they wait for the whole batch, so it ends sooner and they take their turn
/// before the next one. Counted, like [`BATCH_BUDGET`], from when the batch asked for the
/// writer, so a batch that waited long for its turn takes few rows. Beside 16 clients creating
/// companies (bench/README §39): at 30 ms their p99 was 111 ms and the import 1,368 rows/s; at
/// 20 ms, 57 ms and 497 rows/s; at 25 ms, 84 ms and 1,060 rows/s, the batches holding the
/// writer 122 ms at most.
pub const BUSY_BATCH_BUDGET: Duration = Duration::from_millis(25);

/// What a row that matches a stored record does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The record is left as it is.
    Skip,
    /// Only the record's empty fields are set; phones and e-mails the record lacks are added.
    Fill,
    /// The row's mapped fields replace the record's.
    Overwrite,
    /// No matching: every row is a new record (a block rule of the duplicate check still
    /// refuses one, as it refuses anyone).
    Create,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::Skip,
        Policy::Fill,
        Policy::Overwrite,
        Policy::Create,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Skip => "skip",
            Policy::Fill => "fill",
            Policy::Overwrite => "overwrite",
            Policy::Create => "create",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub policy: Policy,
    pub dry_run: bool,
    /// The file's name as people know it, for the run's record.
    pub file_name: String,
    /// [`fingerprint`] of the file's bytes.
    pub fingerprint: String,
    /// The mapping as saved (TOML), for the run's record.
    pub mapping: String,
    /// Stop once this many rows were written or refused (rows imported before are not
    /// counted): a run cut short, as a test makes one.
    pub stop_after: Option<u64>,
    /// The run's record when it was made beforehand ([`queue_run`]: the wizard makes it as the
    /// job is queued, so people can follow it), or by an earlier attempt of the same job; `None`:
    /// a new one.
    pub run_id: Option<Uuid>,
    /// Create the records references name that none holds, also where the field takes only
    /// existing ones ([`FieldDef::creates_missing`]): a ledger's customers, on request.
    pub create_missing: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Rows read from the file.
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    /// Matched rows left as they were: by the skip policy, or because they changed nothing.
    pub skipped: u64,
    pub failed: u64,
    /// Rows a run of the same file imported before, passed over.
    pub already: u64,
    /// Records a row referred to by name and that were created for it (the contact's account).
    pub linked_created: u64,
}

/// What is wrong with one row: its line, the header of the column it is about (empty when it
/// is about the row), the error's code and the params its wording needs, and the row's values,
/// so that an error file can be corrected and imported again.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub code: &'static str,
    pub params: Params,
    pub values: Vec<String>,
}

/// Where a run reports as it goes.
pub trait Sink {
    /// A row's error (a row may have several).
    fn error(&mut self, error: RowError);
    /// The counts so far, after each batch.
    fn progress(&mut self, _counts: &Counts) {}
    /// What became of a row (once its batch is written, or rolled back in a dry run), with the
    /// stored record it created, updated or matched: what a preview shows.
    fn row(&mut self, _line: u64, _outcome: Outcome, _record: Option<Uuid>) {}
}

impl Sink for Vec<RowError> {
    fn error(&mut self, error: RowError) {
        self.push(error);
    }
}

/// What a run ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The run's record; none for a dry run.
    pub run_id: Option<Uuid>,
    pub counts: Counts,
    /// Cut short by [`RunOptions::stop_after`], or stopped by a person
    /// ([`super::ledger::request_stop`]): a later run of the file does the rest.
    pub stopped: bool,
    /// The longest a batch's transaction held the database's writer (on SQLite the one
    /// writer everyone takes turns at): from the moment it had the writer to its commit, not
    /// counting its wait for its turn.
    pub longest_batch: Duration,
    /// How many batches the rows took.
    pub batches: u64,
    /// How many of them were written again row by row after a row was refused.
    pub retried: u64,
}

/// The file's fingerprint: the SHA-256 of its bytes, in hex.
pub fn fingerprint<R: Read>(mut reader: R) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// What became of a row, as `import_rows` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Skipped,
    Unchanged,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Skipped => "skipped",
            Outcome::Unchanged => "unchanged",
            Outcome::Failed => "failed",
        }
    }
}

/// One row's outcome, to be written with the batch.
struct Done {
    line: u64,
    outcome: Outcome,
    record_id: Option<Uuid>,
    before: Option<JsonMap>,
    code: &'static str,
}

impl Done {
    /// A row that failed, with the code of its first error.
    fn failed(line: u64, errors: &[RowError]) -> Done {
        Done {
            line,
            outcome: Outcome::Failed,
            record_id: None,
            before: None,
            code: errors.first().map_or("", |e| e.code),
        }
    }
}

/// Which column an error about `key` (`phones`, `billing_address.city`, `phones[2]`,
/// `custom.budget`, `family_name`) is about: the header of the first column feeding it.
struct Columns(HashMap<String, String>);

impl Columns {
    fn of(plan: &Plan) -> Columns {
        let mut out: HashMap<String, String> = HashMap::new();
        for (header, c) in plan.headers.iter().zip(&plan.columns) {
            let Some(c) = c else { continue };
            let mut put = |k: &str| {
                out.entry(k.to_string()).or_insert_with(|| header.clone());
            };
            put(&c.field);
            match &c.kind {
                TargetKind::WholeName { family, given } => {
                    put(family);
                    put(given);
                }
                TargetKind::AddressPart { field, .. } => put(field),
                _ => {}
            }
        }
        Columns(out)
    }

    fn header(&self, key: &str) -> String {
        let mut k = key;
        loop {
            if let Some(h) = self.0.get(k) {
                return h.clone();
            }
            match k.rfind(['.', '[']) {
                Some(at) => k = &k[..at],
                None => return String::new(),
            }
        }
    }
}

/// A row refused: its errors, one per field the engine named.
fn row_errors(
    def: &EntityDef,
    e: CoreError,
    columns: &Columns,
    line: u64,
    values: &[String],
) -> Vec<RowError> {
    let one = |column: String, code: &'static str, params: Params| RowError {
        line,
        column,
        code,
        params,
        values: values.to_vec(),
    };
    match e {
        CoreError::Validation(fields) => fields
            .into_iter()
            .map(|(k, f)| one(columns.header(&k), f.code, f.params))
            .collect(),
        CoreError::Conflict { code, params, .. } => {
            // A duplicate names the rule; the column is that rule's field's.
            let column = params
                .get("rule")
                .and_then(Value::as_str)
                .and_then(|r| def.dedupe.iter().find(|d| d.rule.as_str() == r))
                .and_then(|d| d.fields.first())
                .map(|f| columns.header(f))
                .unwrap_or_default();
            let mut params = params;
            // What the row matched is worded by its owner and title, not by ids or lists.
            params.remove("matches");
            params.remove("record_id");
            vec![one(column, code, params)]
        }
        CoreError::Forbidden { code, params } | CoreError::BadRequest { code, params, .. } => {
            vec![one(String::new(), code, params)]
        }
        other => {
            let mut p = Params::new();
            p.insert("message", Value::String(other.to_string()));
            vec![one(String::new(), codes::IMPORT_ROW_FAILED, p)]
        }
    }
}

/// A statement sea-query refused to build (a count of values that is not the columns').
fn statement(e: sea_orm::sea_query::error::Error) -> CoreError {
    CoreError::Internal(format!("building a statement: {e}"))
}

/// The id of a written record.
fn id_of(rec: &Record) -> CoreResult<Uuid> {
    rec.get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| CoreError::Internal("a written record has no id".into()))
}

/// The fields an update of `stored` by the row's `input` changes under `policy`, and their
/// values before.
fn patch(
    def: &EntityDef,
    core: &Core,
    policy: Policy,
    stored: &Record,
    input: &JsonMap,
) -> (JsonMap, JsonMap) {
    let mut out = JsonMap::new();
    let mut before = JsonMap::new();
    let fill = policy == Policy::Fill;
    for (k, v) in input {
        let sv = stored.get(k).unwrap_or(&Value::Null);
        if k == "owner_id" {
            if !fill && sv != v {
                out.insert(k.clone(), v.clone());
                before.insert(k.clone(), sv.clone());
            }
            continue;
        }
        if k == "custom" {
            let stored_custom = sv.as_object().cloned().unwrap_or_default();
            let mut changed = JsonMap::new();
            for (ck, cv) in v.as_object().into_iter().flatten() {
                let old = stored_custom.get(ck).unwrap_or(&Value::Null);
                let same_text = old.as_str().map(str::trim) == cv.as_str().map(str::trim)
                    || cv
                        .as_str()
                        .and_then(|c| serde_json::from_str::<Value>(c).ok())
                        .is_some_and(|c| &c == old);
                if (fill && !blank(old)) || same_text {
                    continue;
                }
                changed.insert(ck.clone(), cv.clone());
            }
            if !changed.is_empty() {
                before.insert(k.clone(), Value::Object(stored_custom));
                out.insert(k.clone(), Value::Object(changed));
            }
            continue;
        }
        let Some(f) = def.field(k) else {
            out.insert(k.clone(), v.clone());
            continue;
        };
        // A value the engine refuses goes in as it is, for the engine to say why.
        let Ok(nv) = values::canonical(&f.kind, v, &core.settings) else {
            out.insert(k.clone(), v.clone());
            before.insert(k.clone(), sv.clone());
            continue;
        };
        let new = match &f.kind {
            FieldKind::Phones | FieldKind::Emails | FieldKind::StringList { .. } => {
                let key = |x: &Value| {
                    x.get("number")
                        .or_else(|| x.get("address"))
                        .unwrap_or(x)
                        .clone()
                };
                let old: Vec<Value> = sv.as_array().cloned().unwrap_or_default();
                if fill {
                    // Phones and e-mails the record lacks are added, never dropped.
                    let mut merged = old.clone();
                    for item in nv.as_array().into_iter().flatten() {
                        if !merged.iter().any(|m| key(m) == key(item)) {
                            merged.push(item.clone());
                        }
                    }
                    (merged.len() != old.len()).then_some(Value::Array(merged))
                } else {
                    let keys = |a: &Value| -> Vec<Value> {
                        a.as_array().into_iter().flatten().map(key).collect()
                    };
                    (keys(&nv) != keys(sv)).then_some(nv)
                }
            }
            FieldKind::MultiChoice(_) => {
                let old: Vec<Value> = sv.as_array().cloned().unwrap_or_default();
                if fill {
                    let mut merged = old.clone();
                    for item in nv.as_array().into_iter().flatten() {
                        if !merged.contains(item) {
                            merged.push(item.clone());
                        }
                    }
                    (merged.len() != old.len()).then_some(Value::Array(merged))
                } else {
                    (&nv != sv).then_some(nv)
                }
            }
            FieldKind::Address => {
                let mut merged = sv.as_object().cloned().unwrap_or_default();
                let mut changed = false;
                for (part, pv) in nv.as_object().into_iter().flatten() {
                    if blank(pv) {
                        continue;
                    }
                    let old = merged.get(part).unwrap_or(&Value::Null);
                    if (fill && !blank(old)) || old == pv {
                        continue;
                    }
                    merged.insert(part.clone(), pv.clone());
                    changed = true;
                }
                changed.then_some(Value::Object(merged))
            }
            _ => {
                if blank(&nv) || (fill && !blank(sv)) || &nv == sv {
                    None
                } else {
                    Some(nv)
                }
            }
        };
        if let Some(new) = new {
            out.insert(k.clone(), new);
            before.insert(k.clone(), sv.clone());
        }
    }
    (out, before)
}

/// The input with `allow_duplicate`: a row says what it matches through the policy, and a
/// warning of the duplicate check (two 张伟) is no reason to refuse it; a rule that blocks still
/// refuses.
fn allowing_duplicates(mut input: JsonMap) -> Value {
    input.insert("allow_duplicate".into(), Value::Bool(true));
    Value::Object(input)
}

/// A new record's input with the values its fields start with in a form ([`FieldDef::initial`]:
/// an account is a company unless a column says otherwise) where the row gives none.
///
/// [`FieldDef::initial`]: crate::records::def::FieldDef::initial
fn new_record(def: &EntityDef, mut input: JsonMap) -> Value {
    for f in def.fields {
        if let Some(v) = f.initial
            && input.get(f.name).is_none_or(blank)
        {
            input.insert(f.name.to_string(), Value::String(v.to_string()));
        }
    }
    input.insert("allow_duplicate".into(), Value::Bool(true));
    Value::Object(input)
}

/// Where a batch takes its rows from.
enum Rows<'p> {
    /// The rows read ahead, as long as the batch's time allows.
    Pending(&'p mut VecDeque<Prepared>),
    /// The rows of an attempt that was rolled back, all of them, again.
    Again(std::vec::IntoIter<Prepared>),
}

/// A batch written, whose commit may still be under way ([`Runner::reported`]).
struct Unreported {
    /// None for a dry run's batch, rolled back.
    committing: Option<db::Committing>,
    done: Vec<Done>,
    errors: Vec<RowError>,
    /// When its transaction had the writer.
    held: Instant,
}

/// One attempt at a batch, written but not yet committed.
struct Attempt<'a> {
    bulk: BulkWrite<'a>,
    done: Vec<Done>,
    errors: Vec<RowError>,
    /// A row failed in an attempt without savepoints: it must be rolled back and written again
    /// row by row.
    broke: bool,
    /// Rows refused in an attempt with savepoints.
    refused: usize,
    /// When its transaction had the writer.
    held: Instant,
}

/// The state a run keeps between batches.
struct Runner<'a> {
    core: &'a Core,
    actor: &'a Actor,
    def: &'static EntityDef,
    options: &'a RunOptions,
    columns: Columns,
    counts: Counts,
    longest_batch: Duration,
    batches: u64,
    retried: u64,
    /// References found or made by name in batches already committed: (entity, name) → id.
    named: HashMap<(&'static str, String), Uuid>,
    /// Those found or made by rows of the batch being written, kept so far.
    batch_named: Vec<(&'static str, String, Uuid)>,
    /// Records made for references by rows of the batch being written, kept so far, with the
    /// row's line: what an undo removes with the rows.
    batch_linked: Vec<(&'static EntityDef, Uuid, u64)>,
    /// The line of the row being written.
    line: u64,
    /// The batch's natural keys.
    index: KeyIndex,
    /// The last line whose named records' reference facts the batch has read (see
    /// [`Runner::read_referenced`]).
    referenced_through: u64,
    /// Names of the next rows' references looked up together (see [`Runner::read_referenced`]):
    /// the one record of that name the actor may read, or none by that name at all. A name
    /// with several holders, or one out of reach, is not here: the row asks alone.
    names_ahead: HashMap<(&'static str, String), Option<Uuid>>,
    /// Whether the next batch writes each row in a savepoint of its own from the start: the
    /// last one had rows refused.
    careful: bool,
    /// The last batch, until its commit is done and its rows reported.
    committing: Option<Unreported>,
}

impl<'a> Runner<'a> {
    /// Whether rows are matched on natural keys at all.
    fn matching(&self) -> bool {
        self.options.policy != Policy::Create && !self.def.dedupe.is_empty()
    }

    /// The row's values of the fields the duplicate check reads, as the engine stores them.
    fn keyed(&self, input: &JsonMap) -> JsonMap {
        let mut keyed = JsonMap::new();
        for name in self.def.dedupe.iter().flat_map(|d| d.fields) {
            if let (Some(f), Some(v)) = (self.def.field(name), input.get(*name))
                && let Ok(c) = values::canonical(&f.kind, v, &self.core.settings)
            {
                keyed.insert((*name).to_string(), c);
            }
        }
        keyed
    }

    /// The row's natural keys, worked out the first time they are asked for.
    fn keys<'p>(&self, p: &'p mut Prepared) -> &'p Keyed {
        p.keys.get_or_insert_with(|| {
            let values = self.keyed(&p.input);
            let keys = dedupe::check::keys_of(self.def, &values, NATURAL_KEYS);
            Keyed { values, keys }
        })
    }

    /// Looks up the natural keys of the next rows (up to [`LOOK_AHEAD`]) in one statement.
    async fn look_ahead<'p>(
        &mut self,
        bulk: &BulkWrite<'_>,
        rows: impl Iterator<Item = &'p mut Prepared>,
    ) -> CoreResult<()> {
        let mut wanted: Vec<(Rule, Vec<String>)> = Vec::new();
        let mut lines = Vec::new();
        let mut count = 0u64;
        for p in rows.filter(|p| p.errors.is_empty()).take(LOOK_AHEAD) {
            lines.push(p.line);
            for (rule, ks) in &self.keys(p).keys {
                count += ks.len() as u64;
                match wanted.iter_mut().find(|(r, _)| r == rule) {
                    Some((_, all)) => all.extend(ks.iter().cloned()),
                    None => wanted.push((*rule, ks.clone())),
                }
            }
        }
        for (_, ks) in &mut wanted {
            ks.sort();
            ks.dedup();
        }
        match dedupe::check::holders_by_key(bulk.conn(), self.def, &wanted, count * 4 + 64).await? {
            Some(found) => {
                // The stored records that rows will update or compare, read now with one
                // statement rather than each by the row that matches it.
                if self.options.policy != Policy::Skip {
                    let mut ids: Vec<Uuid> = found
                        .values()
                        .flatten()
                        .map(|h| h.id)
                        .filter(|id| !self.index.records.contains_key(id))
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    for rec in bulk.get_many(self.def, &ids).await? {
                        if let Ok(id) = id_of(&rec) {
                            self.index.records.insert(id, rec);
                        }
                    }
                }
                self.index.stored.extend(found);
                self.index.looked.extend(lines);
            }
            None => self.index.off = true,
        }
        Ok(())
    }

    /// Reads at once what the engine's reference checks need of the records that the next rows
    /// (up to [`LOOK_AHEAD`]) name and earlier batches found, so that each row's check of its
    /// company is not a read of its own.
    async fn read_referenced<'p>(
        &mut self,
        bulk: &mut BulkWrite<'_>,
        rows: impl Iterator<Item = &'p Prepared>,
    ) -> CoreResult<()> {
        let mut wanted: Vec<(&'static EntityDef, Vec<Uuid>)> = Vec::new();
        let mut unnamed: Vec<(&'static EntityDef, Vec<(String, String)>)> = Vec::new();
        for p in rows.take(LOOK_AHEAD) {
            self.referenced_through = self.referenced_through.max(p.line);
            for r in &p.refs {
                let Some(id) = self.named.get(&(r.entity.name, r.name.clone())) else {
                    if let Some(key) = self.name_key(r) {
                        match unnamed.iter_mut().find(|(e, _)| e.name == r.entity.name) {
                            Some((_, names)) => names.push((r.name.clone(), key)),
                            None => unnamed.push((r.entity, vec![(r.name.clone(), key)])),
                        }
                    }
                    continue;
                };
                match wanted.iter_mut().find(|(e, _)| e.name == r.entity.name) {
                    Some((_, ids)) => ids.push(*id),
                    None => wanted.push((r.entity, vec![*id])),
                }
            }
        }
        for (def, mut ids) in wanted {
            ids.sort_unstable();
            ids.dedup();
            bulk.read_referenced(def, &ids).await?;
        }
        for (def, names) in unnamed {
            let mut ids = self.look_up_names(bulk, def, names).await?;
            ids.sort_unstable();
            ids.dedup();
            bulk.read_referenced(def, &ids).await?;
        }
        Ok(())
    }

    /// The key of the duplicate check's name rule that the record `r` names would hold, if its
    /// entity has a single title field to hold the name.
    fn name_key(&self, r: &NamedRef) -> Option<String> {
        let [title_field] = r.entity.title_fields else {
            return None;
        };
        let f = r.entity.field(title_field)?;
        let value =
            values::canonical(&f.kind, &Value::String(r.name.clone()), &self.core.settings).ok()?;
        let mut rec = JsonMap::new();
        rec.insert((*title_field).to_string(), value);
        let keys = dedupe::check::keys_of(r.entity, &rec, &[Rule::Name]);
        match keys.as_slice() {
            [(_, ks)] => match ks.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// A record of `def` was made: names looked ahead that nothing held may be its now (its
    /// name's key, which leaves out the region, is theirs: 重庆天成环保 made, 长沙天成环保 is it).
    fn forget_absent(&mut self, def: &EntityDef) {
        if !self.names_ahead.is_empty() {
            self.names_ahead
                .retain(|(entity, _), known| *entity != def.name || known.is_some());
        }
    }

    /// Looks up at once which records of `def` hold the name keys of `names` (name, key), for
    /// [`Runner::reference`]: one the actor may read, or none. The records found that way.
    async fn look_up_names(
        &mut self,
        bulk: &BulkWrite<'_>,
        def: &'static EntityDef,
        names: Vec<(String, String)>,
    ) -> CoreResult<Vec<Uuid>> {
        let mut keys: Vec<String> = names.iter().map(|(_, k)| k.clone()).collect();
        keys.sort();
        keys.dedup();
        let most = keys.len() as u64 * 4 + 64;
        let Some(found) =
            dedupe::check::holders_by_key(bulk.conn(), def, &[(Rule::Name, keys)], most).await?
        else {
            return Ok(Vec::new());
        };
        let read = self.actor.grant(def.name).read;
        let mut ids = Vec::new();
        for (name, key) in names {
            let holders = found.get(&(Rule::Name, key));
            let known = match holders.map(Vec::as_slice).unwrap_or_default() {
                [] => Some(None),
                [h] if self.actor.reaches(read, h.owner, h.owner_team) => Some(Some(h.id)),
                _ => None,
            };
            if let Some(known) = known {
                ids.extend(known);
                self.names_ahead.insert((def.name, name), known);
            }
        }
        Ok(ids)
    }

    /// Finds the record `r` names, or creates it; the id, or the row's error.
    async fn reference(
        &mut self,
        bulk: &mut BulkWrite<'_>,
        r: &NamedRef,
        made: &mut Vec<(&'static str, String, Uuid)>,
    ) -> Result<Uuid, FieldError> {
        let cache_key = (r.entity.name, r.name.clone());
        if let Some(id) = self.named.get(&cache_key) {
            return Ok(*id);
        }
        if let Some((_, _, id)) = made
            .iter()
            .chain(&self.batch_named)
            .find(|(e, n, _)| *e == r.entity.name && *n == r.name)
        {
            return Ok(*id);
        }
        let target = r.entity;
        let not_found = || {
            FieldError::new(codes::IMPORT_NO_SUCH_REFERENCE)
                .with("entity", target.name)
                .with("value", r.name.clone())
        };
        let [title_field] = target.title_fields else {
            return Err(not_found());
        };
        let mut rec = JsonMap::new();
        rec.insert((*title_field).to_string(), Value::String(r.name.clone()));
        // An ERP export may name the customer by its unified social credit code: found by the
        // tax-id rule, never made (a company named by a code is no company anyone knows).
        let by_code = crate::normalize::is_uscc(&r.name)
            .then(|| {
                target
                    .dedupe
                    .iter()
                    .find(|d| d.rule == Rule::TaxId)
                    .and_then(|d| d.fields.first())
            })
            .flatten();
        let matches = match (by_code, self.names_ahead.get(&cache_key)) {
            (Some(field), _) => {
                let mut coded = JsonMap::new();
                coded.insert(
                    (*field).to_string(),
                    Value::String(r.name.trim().to_string()),
                );
                dedupe::check::holders(
                    bulk.conn(),
                    self.core,
                    self.actor,
                    target,
                    &coded,
                    &[Rule::TaxId],
                )
                .await
                .map_err(|_| not_found())?
            }
            (None, found) => match found {
                Some(Some(id)) => {
                    made.push((target.name, r.name.clone(), *id));
                    return Ok(*id);
                }
                // Nothing by this name when the rows were looked ahead, and nothing made by it since
                // (the batch's own are above).
                Some(None) => Vec::new(),
                None => dedupe::check::holders(
                    bulk.conn(),
                    self.core,
                    self.actor,
                    target,
                    &rec,
                    &[Rule::Name],
                )
                .await
                .map_err(|_| not_found())?,
            },
        };
        let readable: Vec<&dedupe::Match> = matches.iter().filter(|m| m.readable).collect();
        match readable.as_slice() {
            [one] => {
                let id = one.record_id.ok_or_else(not_found)?;
                made.push((target.name, r.name.clone(), id));
                Ok(id)
            }
            [_, _, ..] => Err(FieldError::new(codes::IMPORT_AMBIGUOUS_REFERENCE)
                .with("entity", target.name)
                .with("value", r.name.clone())
                .with(
                    "titles",
                    readable
                        .iter()
                        .filter_map(|m| m.title.clone())
                        .collect::<Vec<_>>(),
                )),
            [] => {
                let may_make = by_code.is_none()
                    && (self.options.create_missing
                        || self.def.field(&r.key).is_none_or(|f| f.creates_missing));
                if !may_make || self.actor.grant(target.name).write == Scope::None {
                    return Err(not_found());
                }
                match bulk.create(target, &new_record(target, rec)).await {
                    Ok(created) => {
                        let id = id_of(&created).map_err(|_| not_found())?;
                        if target.name == self.def.name {
                            self.index.off = true;
                        }
                        made.push((target.name, r.name.clone(), id));
                        self.forget_absent(target);
                        self.counts.linked_created += 1;
                        self.batch_linked.push((target, id, self.line));
                        Ok(id)
                    }
                    Err(CoreError::Validation(mut fields)) => Err(fields
                        .remove(*title_field)
                        .or_else(|| fields.into_values().next())
                        .unwrap_or_else(not_found)),
                    Err(_) => Err(not_found()),
                }
            }
        }
    }

    /// Writes one row (inside its savepoint): what became of it, or why not.
    async fn write_row(
        &mut self,
        bulk: &mut BulkWrite<'_>,
        p: &mut Prepared,
        made: &mut Vec<(&'static str, String, Uuid)>,
    ) -> Result<Done, Vec<RowError>> {
        let line = p.line;
        let mut errors = Vec::new();
        for r in &p.refs {
            match self.reference(bulk, r, made).await {
                Ok(id) => {
                    let value = Value::String(id.to_string());
                    match r.key.strip_prefix("custom.") {
                        Some(key) => {
                            let custom = p
                                .input
                                .entry("custom".to_string())
                                .or_insert_with(|| json!({}));
                            if let Value::Object(o) = custom {
                                o.insert(key.to_string(), value);
                            }
                        }
                        None => {
                            p.input.insert(r.key.clone(), value);
                        }
                    }
                }
                Err(e) => errors.push(RowError {
                    line,
                    column: r.column.clone(),
                    code: e.code,
                    params: e.params,
                    values: p.values.clone(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // A reference just written into a field the keys are read from changes them.
        let keyed_fields = || self.def.dedupe.iter().flat_map(|d| d.fields);
        if p.refs.iter().any(|r| keyed_fields().any(|f| *f == r.key)) {
            p.keys = None;
        }
        let keyed = if self.matching() {
            self.keys(p);
            p.keys.take()
        } else {
            None
        };
        let fail = |e: CoreError| row_errors(self.def, e, &self.columns, line, &p.values);
        let quick = keyed
            .as_ref()
            .and_then(|k| self.index.quick(self.actor, self.def, line, &k.keys));
        let matched = if let Some(quick) = quick {
            quick
        } else if let Some(keyed) = keyed {
            // Another system's id first: a row that matches one record by it is that record,
            // whatever its other keys match.
            let by_external_id = dedupe::check::holders(
                bulk.conn(),
                self.core,
                self.actor,
                self.def,
                &keyed.values,
                &[Rule::ExternalId],
            )
            .await
            .map_err(&fail)?;
            let matches = if by_external_id.len() == 1 {
                by_external_id
            } else {
                dedupe::check::holders(
                    bulk.conn(),
                    self.core,
                    self.actor,
                    self.def,
                    &keyed.values,
                    NATURAL_KEYS,
                )
                .await
                .map_err(&fail)?
            };
            match matches.as_slice() {
                [] => None,
                [one] => match one.record_id.filter(|_| one.readable) {
                    Some(id) => Some(id),
                    None => {
                        return Err(vec![RowError {
                            line,
                            column: String::new(),
                            code: codes::IMPORT_MATCH_OUT_OF_REACH,
                            params: [("owner", Value::String(one.owner_name.clone()))]
                                .into_iter()
                                .collect(),
                            values: p.values.clone(),
                        }]);
                    }
                },
                several => {
                    let titles: Vec<String> = several
                        .iter()
                        .map(|m| m.title.clone().unwrap_or_else(|| m.owner_name.clone()))
                        .collect();
                    return Err(vec![RowError {
                        line,
                        column: String::new(),
                        code: codes::IMPORT_SEVERAL_MATCHES,
                        params: [
                            ("count", Value::from(titles.len())),
                            ("titles", Value::from(titles)),
                        ]
                        .into_iter()
                        .collect(),
                        values: p.values.clone(),
                    }]);
                }
            }
        } else {
            None
        };
        let done = |outcome, record_id, before| Done {
            line,
            outcome,
            record_id: Some(record_id),
            before,
            code: "",
        };
        match matched {
            None => {
                let input = new_record(self.def, std::mem::take(&mut p.input));
                let rec = bulk.create(self.def, &input).await.map_err(&fail)?;
                let id = id_of(&rec).map_err(&fail)?;
                if self.matching() {
                    self.index.wrote(self.def, id, None, &rec);
                }
                self.forget_absent(self.def);
                Ok(done(Outcome::Created, id, None))
            }
            Some(id) if self.options.policy == Policy::Skip => Ok(done(Outcome::Skipped, id, None)),
            Some(id) => {
                let stored = match self.index.records.remove(&id) {
                    Some(stored) => stored,
                    None => bulk.get(self.def, id).await.map_err(&fail)?,
                };
                let (changes, before) =
                    patch(self.def, self.core, self.options.policy, &stored, &p.input);
                if changes.is_empty() {
                    self.index.records.insert(id, stored);
                    return Ok(done(Outcome::Unchanged, id, None));
                }
                let rec = bulk
                    .update(self.def, id, &allowing_duplicates(changes))
                    .await
                    .map_err(&fail)?;
                self.index.wrote(self.def, id, Some(&stored), &rec);
                Ok(done(Outcome::Updated, id, Some(before)))
            }
        }
    }

    fn count(&mut self, outcome: Outcome) {
        let c = &mut self.counts;
        match outcome {
            Outcome::Created => c.created += 1,
            Outcome::Updated => c.updated += 1,
            Outcome::Skipped | Outcome::Unchanged => c.skipped += 1,
            Outcome::Failed => c.failed += 1,
        }
    }

    /// Writes a batch's rows in one transaction; the rows it had no time for are left in
    /// `pending`. Written without savepoints first; when a row is refused, rolled back and
    /// written again with a savepoint per row (see the module's documentation). Its commit is
    /// started, not waited for: [`Runner::reported`] does that.
    async fn batch(
        &mut self,
        pending: &mut VecDeque<Prepared>,
        run_id: Option<Uuid>,
        budget: &mut Option<u64>,
    ) -> CoreResult<()> {
        let started = Instant::now();
        let linked = self.counts.linked_created;
        let mut taken = Vec::new();
        let careful = self.careful;
        let mut attempt = self
            .attempt(Rows::Pending(pending), careful, budget, &mut taken, started)
            .await?;
        let mut retried = false;
        if attempt.broke {
            attempt.bulk.rollback().await?;
            self.longest_batch = self.longest_batch.max(attempt.held.elapsed());
            self.counts.linked_created = linked;
            retried = true;
            self.retried += 1;
            attempt = self
                .attempt(
                    Rows::Again(taken.into_iter()),
                    true,
                    budget,
                    &mut Vec::new(),
                    started,
                )
                .await?;
        }
        self.careful = retried || attempt.refused > 0;
        let Attempt {
            bulk,
            done,
            errors,
            held,
            ..
        } = attempt;
        for d in &done {
            self.count(d.outcome);
        }
        if let Some(run_id) = run_id {
            self.record(&bulk, run_id, &done).await?;
        }
        let committing = if self.options.dry_run {
            bulk.rollback().await?;
            self.longest_batch = self.longest_batch.max(held.elapsed());
            None
        } else {
            Some(bulk.commit_in_background())
        };
        self.committing = Some(Unreported {
            committing,
            done,
            errors,
            held,
        });
        Ok(())
    }

    /// Waits for the last batch's commit, if one is under way, and reports its rows: they are
    /// the file's only once it is done. Until then the run works out the next rows.
    async fn reported(&mut self, sink: &mut (dyn Sink + Send)) -> CoreResult<()> {
        let Some(Unreported {
            committing,
            done,
            errors,
            held,
        }) = self.committing.take()
        else {
            return Ok(());
        };
        if let Some(c) = committing {
            let ended = c.wait().await?;
            for (e, n, id) in std::mem::take(&mut self.batch_named) {
                self.named.insert((e, n), id);
            }
            // The writer was held until the commit was done, not until the run asked.
            self.longest_batch = self
                .longest_batch
                .max(ended.saturating_duration_since(held));
        }
        self.batches += 1;
        for d in &done {
            sink.row(d.line, d.outcome, d.record_id);
        }
        for e in errors {
            sink.error(e);
        }
        sink.progress(&self.counts);
        Ok(())
    }

    /// One attempt at a batch: its rows written in a new transaction, each in a savepoint of its
    /// own when `careful`. Without, the first row refused ends the attempt (`broke`); the rows
    /// taken are copied into `taken` for the attempt that follows.
    async fn attempt(
        &mut self,
        mut rows: Rows<'_>,
        careful: bool,
        budget: &mut Option<u64>,
        taken: &mut Vec<Prepared>,
        started: Instant,
    ) -> CoreResult<Attempt<'a>> {
        let mut bulk = BulkWrite::begin(self.core, self.actor).await?;
        let held = Instant::now();
        // Without savepoints any failure takes the whole attempt back, so each row's write may
        // go ahead while the next row is worked out; a failure it meets shows in a later row
        // or when the attempt ends, and the attempt after it writes row by row.
        bulk.send_writes_ahead(!careful);
        let broke = |bulk, done, errors| Attempt {
            bulk,
            done,
            errors,
            broke: true,
            refused: 1,
            held,
        };
        let mut done: Vec<Done> = Vec::new();
        let mut errors: Vec<RowError> = Vec::new();
        let mut refused = 0;
        self.batch_named.clear();
        // An attempt rolled back took what its rows made with it.
        self.batch_linked.clear();
        self.index = KeyIndex::default();
        self.referenced_through = 0;
        self.names_ahead.clear();
        loop {
            let mut p = match &mut rows {
                Rows::Pending(pending) => {
                    let spent = started.elapsed();
                    let busy = self.core.db.writes_waiting() > 0;
                    if spent >= BATCH_BUDGET
                        || (spent >= BUSY_BATCH_BUDGET && busy)
                        || budget.is_some_and(|n| n == 0)
                    {
                        break;
                    }
                    // Rows held back are written when the batch ends, after its budget: with
                    // people's saves waiting, few are held (beside 16 clients, holding 32 let a
                    // batch keep the writer 224 ms).
                    bulk.hold_few(busy);
                    let Some(front) = pending.front().map(|p| p.line) else {
                        break;
                    };
                    if self.matching() && !self.index.off && !self.index.looked.contains(&front) {
                        let looked = self.look_ahead(&bulk, pending.iter_mut()).await;
                        match looked {
                            Err(_) if !careful => return Ok(broke(bulk, done, errors)),
                            other => other?,
                        }
                    }
                    if front > self.referenced_through {
                        let read = self.read_referenced(&mut bulk, pending.iter()).await;
                        match read {
                            Err(_) if !careful => return Ok(broke(bulk, done, errors)),
                            other => other?,
                        }
                    }
                    let Some(p) = pending.pop_front() else {
                        break;
                    };
                    if let Some(n) = budget.as_mut() {
                        *n -= 1;
                    }
                    if !careful {
                        taken.push(p.clone());
                    }
                    p
                }
                Rows::Again(again) => {
                    if self.matching()
                        && !self.index.off
                        && again
                            .as_slice()
                            .first()
                            .is_some_and(|f| !self.index.looked.contains(&f.line))
                    {
                        self.look_ahead(&bulk, again.as_mut_slice().iter_mut())
                            .await?;
                    }
                    let Some(p) = again.next() else {
                        break;
                    };
                    p
                }
            };
            if !p.errors.is_empty() {
                done.push(Done::failed(p.line, &p.errors));
                errors.append(&mut p.errors);
                continue;
            }
            if careful {
                bulk.begin_step().await?;
            }
            let mut made = Vec::new();
            let linked_before = self.counts.linked_created;
            let linked_kept = self.batch_linked.len();
            self.line = p.line;
            let before = bulk.conn().statements();
            match self.write_row(&mut bulk, &mut p, &mut made).await {
                Ok(d) => {
                    if careful {
                        bulk.keep_step().await?;
                    }
                    self.batch_named.extend(made);
                    done.push(d);
                }
                // A row refused before it wrote anything (a name that is several records, a
                // row matching several) and without a statement failing leaves the batch as it
                // was: it fails alone, and the batch goes on. Anything else takes the batch
                // back, to be written again row by row.
                Err(mut e) if !careful && bulk.conn().statements() == before => {
                    done.push(Done::failed(p.line, &e));
                    errors.append(&mut e);
                }
                Err(_) if !careful => return Ok(broke(bulk, done, errors)),
                Err(mut e) => {
                    bulk.undo_step().await?;
                    // What the row created went with its savepoint (its keys were never
                    // followed: that happens once a row is written).
                    self.counts.linked_created = linked_before;
                    self.batch_linked.truncate(linked_kept);
                    refused += 1;
                    done.push(Done::failed(p.line, &e));
                    errors.append(&mut e);
                }
            }
        }
        if !careful && bulk.settle_ahead().await.is_err() {
            return Ok(broke(bulk, done, errors));
        }
        Ok(Attempt {
            bulk,
            done,
            errors,
            broke: false,
            refused,
            held,
        })
    }

    /// The batch's row outcomes and the run's counts, in the batch's transaction.
    async fn record(&self, bulk: &BulkWrite<'_>, run_id: Uuid, done: &[Done]) -> CoreResult<()> {
        let conn = bulk.conn();
        let written: Vec<Uuid> = done
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Created | Outcome::Updated))
            .filter_map(|d| d.record_id)
            .collect();
        let versions = super::ledger::versions(conn, self.def, &written).await?;
        super::ledger::remember_linked(conn, run_id, &self.batch_linked).await?;
        for chunk in done.chunks(200) {
            let mut q = Query::insert();
            q.into_table(col("import_rows")).columns(
                [
                    "entity",
                    "fingerprint",
                    "line",
                    "run_id",
                    "outcome",
                    "record_id",
                    "before",
                    "code",
                    "version",
                ]
                .map(col),
            );
            for d in chunk {
                let before = d
                    .before
                    .as_ref()
                    .map(|b| Value::Object(b.clone()).to_string())
                    .unwrap_or_default();
                q.values([
                    self.def.name.into(),
                    self.options.fingerprint.clone().into(),
                    i64::try_from(d.line).unwrap_or(i64::MAX).into(),
                    run_id.into(),
                    d.outcome.as_str().into(),
                    d.record_id.into(),
                    before.into(),
                    d.code.into(),
                    d.record_id
                        .filter(|_| matches!(d.outcome, Outcome::Created | Outcome::Updated))
                        .and_then(|id| versions.get(&id).copied())
                        .into(),
                ])
                .map_err(statement)?;
            }
            q.on_conflict(
                OnConflict::columns(["entity", "fingerprint", "line"].map(col))
                    .update_columns(
                        [
                            "run_id",
                            "outcome",
                            "record_id",
                            "before",
                            "code",
                            "version",
                        ]
                        .map(col),
                    )
                    .to_owned(),
            );
            db::insert(conn, &q).await?;
        }
        let c = &self.counts;
        let mut q = Query::update();
        q.table(col("import_runs"))
            .value(col("rows_read"), c.read as i64)
            .value(col("created"), c.created as i64)
            .value(col("updated"), c.updated as i64)
            .value(col("skipped"), c.skipped as i64)
            .value(col("failed"), c.failed as i64)
            .value(col("already"), c.already as i64)
            .value(col("heartbeat_at"), crate::now())
            .and_where(Expr::col(col("id")).eq(run_id));
        db::update(conn, &q).await?;
        Ok(())
    }
}

/// Imports `source`'s rows as records of `def` for `actor` (see the module's documentation).
/// A file the reader gives up on part-way ends the run with its error, after the batches before
/// it were written; the run's record then says `stopped`.
pub async fn run(
    core: &Core,
    actor: &Actor,
    def: &'static EntityDef,
    source: &mut Source,
    plan: &Plan,
    options: &RunOptions,
    sink: &mut (dyn Sink + Send),
) -> CoreResult<Report> {
    if actor.grant(def.name).write == Scope::None {
        return Err(CoreError::forbidden_for(codes::ROLE_CANNOT_WRITE, def.name));
    }
    let people = People::load(core).await?;
    if !options.dry_run {
        super::ledger::mark_interrupted(core, def, &options.fingerprint).await?;
    }
    let mut imported = Imported::open(core, def, &options.fingerprint).await?;
    let run_id = if options.dry_run {
        None
    } else {
        Some(start_run(core, actor, def, options).await?)
    };
    let mut runner = Runner {
        core,
        actor,
        def,
        options,
        columns: Columns::of(plan),
        counts: Counts::default(),
        longest_batch: Duration::ZERO,
        batches: 0,
        retried: 0,
        named: HashMap::new(),
        batch_named: Vec::new(),
        batch_linked: Vec::new(),
        line: 0,
        index: KeyIndex::default(),
        referenced_through: 0,
        names_ahead: HashMap::new(),
        careful: false,
        committing: None,
    };
    let mut pending: VecDeque<Prepared> = VecDeque::new();
    let mut budget = options.stop_after;
    let mut fatal: Option<ReadError> = None;
    let mut ended = false;
    let mut halted = false;
    loop {
        while !ended && fatal.is_none() && pending.len() < BATCH_ROWS {
            match source.next() {
                None => ended = true,
                Some(Ok(row)) => {
                    runner.counts.read += 1;
                    if imported
                        .contains(core, def, &options.fingerprint, row.line)
                        .await?
                    {
                        runner.counts.already += 1;
                        continue;
                    }
                    let mut p = prepare(def, core, actor, plan, &people, row);
                    // Worked out now, while the last batch commits, not when the batch that
                    // takes the row looks its keys up with the writer waiting.
                    if runner.matching() && p.errors.is_empty() {
                        runner.keys(&mut p);
                    }
                    pending.push_back(p);
                }
                Some(Err(e)) if e.is_fatal() => fatal = Some(e),
                Some(Err(e)) => {
                    runner.counts.read += 1;
                    let line = e.line().unwrap_or(0);
                    if imported
                        .contains(core, def, &options.fingerprint, line)
                        .await?
                    {
                        runner.counts.already += 1;
                        continue;
                    }
                    pending.push_back(Prepared {
                        line,
                        input: JsonMap::new(),
                        refs: Vec::new(),
                        values: Vec::new(),
                        keys: None,
                        errors: vec![RowError {
                            line,
                            column: String::new(),
                            code: e.code(),
                            params: e.params(),
                            values: Vec::new(),
                        }],
                    });
                }
            }
        }
        runner.reported(sink).await?;
        if pending.is_empty() || budget == Some(0) {
            break;
        }
        // Someone asked the run to stop (on its page, on any instance): the batches written stay.
        if let Some(id) = run_id
            && super::ledger::stop_requested(core, id).await?
        {
            halted = true;
            break;
        }
        runner.batch(&mut pending, run_id, &mut budget).await?;
    }
    let stopped = halted || (budget == Some(0) && (!pending.is_empty() || !ended));
    if let Some(id) = run_id {
        let status = if stopped || fatal.is_some() {
            "stopped"
        } else {
            "finished"
        };
        finish_run(core, actor, id, status).await?;
    }
    if let Some(e) = fatal {
        return Err(e.into());
    }
    Ok(Report {
        run_id,
        counts: runner.counts,
        stopped,
        longest_batch: runner.longest_batch,
        batches: runner.batches,
        retried: runner.retried,
    })
}

async fn start_run(
    core: &Core,
    actor: &Actor,
    def: &EntityDef,
    options: &RunOptions,
) -> CoreResult<Uuid> {
    if let Some(id) = options.run_id {
        // Made beforehand (queued), or by an attempt that stopped: running again.
        let mut q = Query::update();
        q.table(col("import_runs"))
            .value(col("status"), "running")
            .value(
                col("finished_at"),
                Option::<chrono::DateTime<chrono::Utc>>::None,
            )
            .and_where(Expr::col(col("id")).eq(id))
            .and_where(Expr::col(col("entity")).eq(def.name));
        let txn = core.db.begin().await?;
        let n = db::update(&txn, &q).await?;
        txn.commit().await?;
        if n > 0 {
            return Ok(id);
        }
    }
    let id = options.run_id.unwrap_or_else(Uuid::now_v7);
    let txn = core.db.begin().await?;
    insert_run(&txn, actor, def, options, id, "running").await?;
    txn.commit().await?;
    Ok(id)
}

/// Makes the record of a run that a job will do, in `conn` (the transaction that queues the
/// job), with the status `queued`; [`run`] given its id in [`RunOptions::run_id`] takes it up.
pub async fn queue_run<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    def: &EntityDef,
    options: &RunOptions,
    id: Uuid,
) -> CoreResult<()> {
    insert_run(conn, actor, def, options, id, "queued").await
}

async fn insert_run<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    def: &EntityDef,
    options: &RunOptions,
    id: Uuid,
    status: &str,
) -> CoreResult<()> {
    let mut q = Query::insert();
    q.into_table(col("import_runs"))
        .columns(
            [
                "id",
                "entity",
                "file_name",
                "fingerprint",
                "mapping",
                "policy",
                "created_by",
                "started_at",
                "heartbeat_at",
                "status",
            ]
            .map(col),
        )
        .values([
            id.into(),
            def.name.into(),
            options.file_name.clone().into(),
            options.fingerprint.clone().into(),
            options.mapping.clone().into(),
            options.policy.as_str().into(),
            actor.user_id.into(),
            crate::now().into(),
            crate::now().into(),
            status.into(),
        ])
        .map_err(statement)?;
    db::insert(conn, &q).await?;
    Ok(())
}

async fn finish_run(core: &Core, _actor: &Actor, id: Uuid, status: &str) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("import_runs"))
        .value(col("status"), status)
        .value(col("finished_at"), crate::now())
        .and_where(Expr::col(col("id")).eq(id));
    let txn = core.db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// A run as its record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: Uuid,
    pub entity: String,
    pub file_name: String,
    pub fingerprint: String,
    pub policy: String,
    pub status: String,
    pub created_by: Uuid,
    pub counts: Counts,
}

/// The runs of an import, newest first (for a later undo and for people to see).
pub async fn runs(core: &Core) -> CoreResult<Vec<RunRecord>> {
    let mut q = Query::select();
    q.columns(
        [
            "id",
            "entity",
            "file_name",
            "fingerprint",
            "policy",
            "status",
            "created_by",
            "rows_read",
            "created",
            "updated",
            "skipped",
            "failed",
            "already",
        ]
        .map(col),
    )
    .from(col("import_runs"))
    .order_by(col("id"), sea_orm::sea_query::Order::Desc);
    let mut out = Vec::new();
    for row in db::fetch_all(core.db.reader(), &q).await? {
        let n = |c: &str| get_i64(&row, c).map(|v| u64::try_from(v).unwrap_or(0));
        out.push(RunRecord {
            id: db::get_uuid(&row, "id")?,
            entity: get_string(&row, "entity")?,
            file_name: get_string(&row, "file_name")?,
            fingerprint: get_string(&row, "fingerprint")?,
            policy: get_string(&row, "policy")?,
            status: get_string(&row, "status")?,
            created_by: db::get_uuid(&row, "created_by")?,
            counts: Counts {
                read: n("rows_read")?,
                created: n("created")?,
                updated: n("updated")?,
                skipped: n("skipped")?,
                failed: n("failed")?,
                already: n("already")?,
                linked_created: 0,
            },
        });
    }
    Ok(out)
}
