//! Undoing an import: the records a run created go to the recycle bin, the fields it changed
//! take their values of before again, and what someone changed since is left alone and listed.
//!
//! Everything goes through the record engine as a person's own delete and edit would
//! ([`BulkWrite::delete`], [`BulkWrite::update_at`]): the same rights, audit rows, search
//! entries and matching keys. Each record is written at the version the import left it at
//! (`import_rows.version`, `import_linked.version`); a record at another version was changed by
//! someone after the import (an edit, an owner change, a later import, a delete) and is skipped,
//! with its title in the report, as is a record the undoing user may not change, or one whose
//! values of before its rules no longer take.
//!
//! Records the run made for a row's reference by name (the account a contact's company name
//! created) are removed after the rows, unless a live record still refers to them.
//!
//! The undo goes in short transactions (as the import's batches, [`BATCH_BUDGET`]), newest row
//! first, each row marked `undone` in the transaction that undoes it; an undo stopped half-way
//! (a crash) keeps what it did and can be run again. Only the importing user and administrators
//! may undo; the run records who undid it, when, and the counts. Undoing an undone run changes
//! nothing and says so ([`codes::IMPORT_ALREADY_UNDONE`]). A row undone is no longer imported
//! for a later run of the same file, which imports it again.

use std::collections::HashMap;
use std::time::Instant;

use sea_orm::sea_query::{Expr, Order, Query};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::ledger::{self, status};
use super::run::BATCH_BUDGET;
use crate::Core;
use crate::authz::Actor;
use crate::db::{self, col, get_i64, get_string};
use crate::error::{CoreError, CoreResult, Params, codes};
use crate::identity::users;
use crate::records::bulk::BulkWrite;
use crate::records::def::{EntityDef, FieldKind};
use crate::records::filter::Filter;
use crate::records::{FilterOp, JsonMap, Record};

/// Rows read from the run's record at a time.
const PAGE: u64 = 500;

/// At most this many skipped records are listed by title in a report; all are counted.
pub const LISTED: usize = 1000;

/// A record the undo left as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub entity: &'static str,
    pub record_id: Uuid,
    /// Its title as the undoing user may see it; empty for a record out of their reach.
    pub title: String,
    /// Why, as a code worded `error-<code>` with `title`: [`codes::IMPORT_UNDO_CHANGED_SINCE`],
    /// `…_STILL_REFERRED`, `…_OUT_OF_REACH`, `…_GONE`, `…_REFUSED`.
    pub reason: &'static str,
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    pub run_id: Uuid,
    /// Records moved to the recycle bin (those the rows created and those made for references).
    pub removed: u64,
    /// Records whose fields took their values of before again.
    pub restored: u64,
    /// Records left as they were.
    pub skipped_count: u64,
    /// The first [`LISTED`] of them.
    pub skipped: Vec<Skipped>,
}

/// The run as the undo needs it.
struct RunRow {
    entity: String,
    status: String,
    created_by: Uuid,
    stale: bool,
    removed: u64,
    restored: u64,
}

async fn load_run(core: &Core, run_id: Uuid) -> CoreResult<RunRow> {
    let mut q = Query::select();
    q.columns(
        [
            "entity",
            "status",
            "created_by",
            "heartbeat_at",
            "started_at",
            "removed",
            "restored",
        ]
        .map(col),
    )
    .from(col("import_runs"))
    .and_where(Expr::col(col("id")).eq(run_id));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    let beat = db::get_opt_ts(&row, "heartbeat_at")?.unwrap_or(db::get_ts(&row, "started_at")?);
    let n = |c: &str| get_i64(&row, c).map(|v| u64::try_from(v).unwrap_or(0));
    Ok(RunRow {
        entity: get_string(&row, "entity")?,
        status: get_string(&row, "status")?,
        created_by: db::get_uuid(&row, "created_by")?,
        stale: beat < ledger::stale_before(),
        removed: n("removed")?,
        restored: n("restored")?,
    })
}

/// Takes the run for this undo: from the status it was seen in, so that two undos at once do
/// not both go.
async fn claim(core: &Core, run_id: Uuid, seen: &str) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col("import_runs"))
        .value(col("status"), status::UNDOING)
        .value(col("heartbeat_at"), crate::now())
        .and_where(Expr::col(col("id")).eq(run_id))
        .and_where(Expr::col(col("status")).eq(seen));
    if seen == status::RUNNING || seen == status::UNDOING {
        q.cond_where(ledger::stale_condition(ledger::stale_before()));
    }
    let txn = core.db.begin().await?;
    let n = db::update(&txn, &q).await?;
    txn.commit().await?;
    if n == 0 {
        return Err(in_progress());
    }
    Ok(())
}

fn in_progress() -> CoreError {
    CoreError::Conflict {
        code: codes::IMPORT_RUN_IN_PROGRESS,
        message: "the import or its undo is still running".into(),
        params: Params::new(),
    }
}

/// One row of the run to take back.
struct Item {
    line: i64,
    /// Whether the row created the record (else it updated it).
    created: bool,
    record_id: Uuid,
    before: JsonMap,
    /// The record's version after the import's write; unknown for runs from before versions
    /// were kept (a created record then counts as unchanged at version 1).
    version: Option<i64>,
    /// The entity, for a record made for a reference (else the run's).
    linked: Option<&'static EntityDef>,
}

/// The next page of the run's rows below `below` (newest first).
async fn page(core: &Core, run_id: Uuid, below: i64) -> CoreResult<Vec<Item>> {
    let mut q = Query::select();
    q.columns(["line", "outcome", "record_id", "before", "version"].map(col))
        .from(col("import_rows"))
        .and_where(Expr::col(col("run_id")).eq(run_id))
        .and_where(Expr::col(col("outcome")).is_in(["created", "updated"]))
        .and_where(Expr::col(col("line")).lt(below))
        .order_by(col("line"), Order::Desc)
        .limit(PAGE);
    let mut out = Vec::new();
    for row in db::fetch_all(core.db.reader(), &q).await? {
        let Some(record_id) = db::get_opt_uuid(&row, "record_id")? else {
            continue;
        };
        let before = get_string(&row, "before")?;
        out.push(Item {
            line: get_i64(&row, "line")?,
            created: get_string(&row, "outcome")? == "created",
            record_id,
            before: serde_json::from_str(&before).unwrap_or_default(),
            version: db::get_opt_i64(&row, "version")?,
            linked: None,
        });
    }
    Ok(out)
}

/// The next page of the records made for references, below line `below`.
async fn linked_page(core: &Core, run_id: Uuid, below: i64) -> CoreResult<Vec<Item>> {
    let mut q = Query::select();
    q.columns(["line", "entity", "record_id", "version"].map(col))
        .from(col("import_linked"))
        .and_where(Expr::col(col("run_id")).eq(run_id))
        .and_where(Expr::col(col("line")).lt(below))
        .order_by(col("line"), Order::Desc)
        .order_by(col("record_id"), Order::Desc)
        .limit(PAGE);
    let mut out = Vec::new();
    for row in db::fetch_all(core.db.reader(), &q).await? {
        let Some(def) = core.registry.by_name(&get_string(&row, "entity")?) else {
            continue;
        };
        out.push(Item {
            line: get_i64(&row, "line")?,
            created: true,
            record_id: db::get_uuid(&row, "record_id")?,
            before: JsonMap::new(),
            version: Some(get_i64(&row, "version")?),
            linked: Some(def),
        });
    }
    Ok(out)
}

/// What became of one item.
enum Outcome {
    Removed,
    Restored,
    /// Nothing left to do (the record went with an earlier step of this undo).
    Nothing,
    Skipped(&'static str),
    /// Another row of the run wrote the same record, which is skipped (and listed) already.
    SkippedAgain(&'static str),
}

struct Undo<'a> {
    core: &'a Core,
    actor: &'a Actor,
    def: &'static EntityDef,
    run_id: Uuid,
    removed: u64,
    restored: u64,
    skipped_count: u64,
    skipped: Vec<Skipped>,
    /// Records this undo already decided on: `None` to go ahead, or why it leaves them.
    decided: HashMap<Uuid, Option<&'static str>>,
}

/// The record's version and whether it is in the recycle bin, as the batch sees it.
async fn state(bulk: &BulkWrite<'_>, def: &EntityDef, id: Uuid) -> CoreResult<Option<(i64, bool)>> {
    let mut q = Query::select();
    q.columns(["version", "deleted_at"].map(col))
        .from(col(def.table))
        .and_where(Expr::col(col("id")).eq(id));
    let Some(row) = db::fetch_one(bulk.conn(), &q).await? else {
        return Ok(None);
    };
    Ok(Some((
        get_i64(&row, "version")?,
        db::get_opt_ts(&row, "deleted_at")?.is_some(),
    )))
}

/// The values an update replaced, as an update takes them again: an administrator's fields the
/// import added are emptied.
fn restoring(before: &JsonMap, current: &Record) -> Value {
    let mut input = JsonMap::new();
    for (k, v) in before {
        if k == "custom" {
            let mut custom = v.as_object().cloned().unwrap_or_default();
            for key in current
                .get("custom")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|c| c.keys())
            {
                custom.entry(key.clone()).or_insert(Value::Null);
            }
            input.insert(k.clone(), Value::Object(custom));
        } else {
            input.insert(k.clone(), v.clone());
        }
    }
    input.insert("allow_duplicate".into(), Value::Bool(true));
    Value::Object(input)
}

impl Undo<'_> {
    /// Whether a live record of any entity refers to record `id` of `def`.
    async fn referred(&self, bulk: &BulkWrite<'_>, def: &EntityDef, id: Uuid) -> CoreResult<bool> {
        let value = Value::String(id.to_string());
        for r in self.core.registry.references_to(def.name) {
            let filter = Filter::Cond {
                field: r.field.name.into(),
                op: FilterOp::Eq,
                value: value.clone(),
            };
            if bulk.count_all(r.from, &filter).await? > 0 {
                return Ok(true);
            }
        }
        for from in self.core.registry.all() {
            for f in from.fields {
                if matches!(f.kind, FieldKind::Regarding) {
                    let filter = Filter::Cond {
                        field: f.name.into(),
                        op: FilterOp::Eq,
                        value: value.clone(),
                    };
                    if bulk.count_all(from, &filter).await? > 0 {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// Takes one item back, in the batch (inside a savepoint the caller opened).
    async fn one(&mut self, bulk: &mut BulkWrite<'_>, item: &Item) -> CoreResult<Outcome> {
        let def = item.linked.unwrap_or(self.def);
        let id = item.record_id;
        if let Some(Some(reason)) = self.decided.get(&id) {
            return Ok(Outcome::SkippedAgain(reason));
        }
        let Some((version, deleted)) = state(bulk, def, id).await? else {
            return Ok(Outcome::Skipped(codes::IMPORT_UNDO_GONE));
        };
        if self.decided.contains_key(&id) {
            if deleted {
                return Ok(Outcome::Nothing);
            }
        } else {
            let expected = item.version.or(item.created.then_some(1));
            if deleted {
                return Ok(Outcome::Skipped(codes::IMPORT_UNDO_GONE));
            }
            if expected != Some(version) {
                return Ok(Outcome::Skipped(codes::IMPORT_UNDO_CHANGED_SINCE));
            }
        }
        if item.linked.is_some() && self.referred(bulk, def, id).await? {
            return Ok(Outcome::Skipped(codes::IMPORT_UNDO_STILL_REFERRED));
        }
        let done = if item.created {
            bulk.delete(def, id, version)
                .await
                .map(|_| Outcome::Removed)
        } else {
            match bulk.get(def, id).await {
                Ok(current) => bulk
                    .update_at(def, id, version, &restoring(&item.before, &current))
                    .await
                    .map(|_| Outcome::Restored),
                Err(e) => Err(e),
            }
        };
        match done {
            Ok(o) => Ok(o),
            Err(CoreError::Forbidden { .. } | CoreError::NotFound) => {
                Ok(Outcome::Skipped(codes::IMPORT_UNDO_OUT_OF_REACH))
            }
            Err(CoreError::StaleVersion { .. }) => {
                Ok(Outcome::Skipped(codes::IMPORT_UNDO_CHANGED_SINCE))
            }
            Err(
                CoreError::Validation(_)
                | CoreError::Conflict { .. }
                | CoreError::BadRequest { .. },
            ) => Ok(Outcome::Skipped(codes::IMPORT_UNDO_REFUSED)),
            Err(e) => Err(e),
        }
    }

    /// The title of a record skipped, as the undoing user may see it.
    async fn title(&self, def: &'static EntityDef, id: Uuid) -> String {
        let records = self.core.records(def);
        let rec = match records.get(self.actor, id).await {
            Ok(r) => Some(r),
            Err(_) => records.get_deleted(self.actor, id).await.ok(),
        };
        rec.map(|r| (def.title)(&r, &self.actor.locale))
            .unwrap_or_default()
    }

    /// Takes back `items` in as many short transactions as they need.
    async fn items(&mut self, items: Vec<Item>) -> CoreResult<()> {
        let mut at = 0;
        while at < items.len() {
            let mut bulk = BulkWrite::begin(self.core, self.actor).await?;
            let started = Instant::now();
            let mut undone: Vec<&Item> = Vec::new();
            let mut skipped: Vec<(&Item, &'static str)> = Vec::new();
            let (mut removed, mut restored) = (0, 0);
            while at < items.len() && started.elapsed() < BATCH_BUDGET {
                let item = &items[at];
                at += 1;
                bulk.begin_step().await?;
                match self.one(&mut bulk, item).await {
                    Ok(Outcome::Skipped(reason)) => {
                        bulk.undo_step().await?;
                        self.decided.insert(item.record_id, Some(reason));
                        self.skipped_count += 1;
                        if self.skipped.len() < LISTED {
                            self.skipped.push(Skipped {
                                entity: item.linked.unwrap_or(self.def).name,
                                record_id: item.record_id,
                                title: String::new(),
                                reason,
                            });
                        }
                        skipped.push((item, reason));
                    }
                    Ok(Outcome::SkippedAgain(reason)) => {
                        bulk.undo_step().await?;
                        skipped.push((item, reason));
                    }
                    Ok(o) => {
                        bulk.keep_step().await?;
                        self.decided.insert(item.record_id, None);
                        match o {
                            Outcome::Removed => removed += 1,
                            Outcome::Restored => restored += 1,
                            _ => {}
                        }
                        undone.push(item);
                    }
                    Err(e) => {
                        bulk.undo_step().await?;
                        return Err(e);
                    }
                }
            }
            self.mark(&bulk, &undone, &skipped).await?;
            self.removed += removed;
            self.restored += restored;
            self.counts(&bulk).await?;
            bulk.commit().await?;
        }
        Ok(())
    }

    /// Marks the items undone (a later run of the file imports their rows again) and the
    /// skipped ones with the reason, in the batch's transaction.
    async fn mark(
        &self,
        bulk: &BulkWrite<'_>,
        undone: &[&Item],
        skipped: &[(&Item, &'static str)],
    ) -> CoreResult<()> {
        let conn = bulk.conn();
        let (rows, linked): (Vec<&Item>, Vec<&Item>) =
            undone.iter().partition(|i| i.linked.is_none());
        if !rows.is_empty() {
            let mut q = Query::update();
            q.table(col("import_rows"))
                .value(col("outcome"), "undone")
                .value(col("code"), "")
                .and_where(Expr::col(col("run_id")).eq(self.run_id))
                .and_where(Expr::col(col("line")).is_in(rows.iter().map(|i| i.line)));
            db::update(conn, &q).await?;
        }
        if !linked.is_empty() {
            let mut q = Query::delete();
            q.from_table(col("import_linked"))
                .and_where(Expr::col(col("run_id")).eq(self.run_id))
                .and_where(Expr::col(col("record_id")).is_in(linked.iter().map(|i| i.record_id)));
            db::delete(conn, &q).await?;
        }
        for (item, reason) in skipped.iter().filter(|(i, _)| i.linked.is_none()) {
            let mut q = Query::update();
            q.table(col("import_rows"))
                .value(col("code"), *reason)
                .and_where(Expr::col(col("run_id")).eq(self.run_id))
                .and_where(Expr::col(col("line")).eq(item.line));
            db::update(conn, &q).await?;
        }
        Ok(())
    }

    /// The undo's counts so far and its heartbeat.
    async fn counts(&self, bulk: &BulkWrite<'_>) -> CoreResult<()> {
        let mut q = Query::update();
        q.table(col("import_runs"))
            .value(col("removed"), self.removed as i64)
            .value(col("restored"), self.restored as i64)
            .value(col("undo_skipped"), self.skipped_count as i64)
            .value(col("heartbeat_at"), crate::now())
            .and_where(Expr::col(col("id")).eq(self.run_id));
        db::update(bulk.conn(), &q).await?;
        Ok(())
    }
}

/// Undoes run `run_id` as `actor` (see the module's documentation).
pub async fn undo(core: &Core, actor: &Actor, run_id: Uuid) -> CoreResult<UndoReport> {
    let run = load_run(core, run_id).await?;
    if run.created_by != actor.user_id && !actor.is_admin() {
        return Err(CoreError::forbidden(codes::IMPORT_UNDO_NOT_ALLOWED));
    }
    if run.status == status::UNDONE {
        return Err(already_undone(core, run_id).await);
    }
    if (run.status == status::RUNNING || run.status == status::UNDOING) && !run.stale {
        return Err(in_progress());
    }
    let def = core
        .registry
        .by_name(&run.entity)
        .ok_or_else(|| CoreError::Internal(format!("no entity {}", run.entity)))?;
    claim(core, run_id, &run.status).await?;
    let mut undo = Undo {
        core,
        actor,
        def,
        run_id,
        // An undo stopped half-way and run again goes on from its counts.
        removed: run.removed,
        restored: run.restored,
        skipped_count: 0,
        skipped: Vec::new(),
        decided: HashMap::new(),
    };
    let mut below = i64::MAX;
    loop {
        let items = page(core, run_id, below).await?;
        let Some(last) = items.last() else { break };
        below = last.line;
        let full = items.len() as u64 == PAGE;
        undo.items(items).await?;
        if !full {
            break;
        }
    }
    // Skipped rows stay in the run's record: the page below them is read by line.
    let mut below = i64::MAX;
    loop {
        let items = linked_page(core, run_id, below).await?;
        let Some(last) = items.last() else { break };
        below = last.line;
        let full = items.len() as u64 == PAGE;
        undo.items(items).await?;
        if !full {
            break;
        }
    }
    let mut q = Query::update();
    q.table(col("import_runs"))
        .value(col("status"), status::UNDONE)
        .value(col("undone_at"), crate::now())
        .value(col("undone_by"), actor.user_id)
        .value(col("heartbeat_at"), crate::now())
        .and_where(Expr::col(col("id")).eq(run_id));
    let txn = core.db.begin().await?;
    db::update(&txn, &q).await?;
    txn.commit().await?;
    let mut skipped = std::mem::take(&mut undo.skipped);
    for s in &mut skipped {
        let def = core.registry.by_name(s.entity).unwrap_or(def);
        s.title = undo.title(def, s.record_id).await;
    }
    Ok(UndoReport {
        run_id,
        removed: undo.removed,
        restored: undo.restored,
        skipped_count: undo.skipped_count,
        skipped,
    })
}

/// The refusal of a second undo: when and by whom the first was.
async fn already_undone(core: &Core, run_id: Uuid) -> CoreError {
    let mut params = Params::new();
    let mut q = Query::select();
    q.columns(["undone_at", "undone_by"].map(col))
        .from(col("import_runs"))
        .and_where(Expr::col(col("id")).eq(run_id));
    if let Ok(Some(row)) = db::fetch_one(core.db.reader(), &q).await {
        if let Ok(Some(at)) = db::get_opt_ts(&row, "undone_at") {
            params.insert("at", Value::String(crate::records::service::ts_string(at)));
        }
        if let Ok(Some(by)) = db::get_opt_uuid(&row, "undone_by")
            && let Ok(list) = users::list(&core.db).await
            && let Some(u) = list.iter().find(|u| u.id == by)
        {
            params.insert("by", Value::String(u.name.clone()));
        }
    }
    CoreError::Conflict {
        code: codes::IMPORT_ALREADY_UNDONE,
        message: "the import was undone before".into(),
        params,
    }
}
