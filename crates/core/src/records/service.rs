//! Create, read, update, delete, restore, purge, owner changes and lists for any entity, with
//! authorization, validation, optimistic locking, audit and search indexing in one transaction.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sea_orm::sea_query::{
    Alias, Condition, Expr, NullOrdering, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::Value;
use uuid::Uuid;

use super::JsonMap;
use super::behaviour::Event;
use super::children;
use super::cursor::Cursor;
use super::def::{Access, ActionDef, EntityDef, FieldKind, SYSTEM_FIELDS};
use super::filter::{Filter, FilterContext, Narrowing};
use super::layout::{self, RowLayout, RowsJson};
use super::row::{self, RowImage, Stamp};
use super::scope_plan::{self, IN_ORDER_FROM, MERGE_OWNERS_AT_MOST, Reader, ScopeRead};
use super::values::{self, SortColumn, blank};
use super::work::Work;
use crate::authz::{Actor, Scope};
use crate::custom_fields::{self, CustomFieldDef};
use crate::db::{self, Backend, col, get_at, get_bool, get_i64, get_opt_uuid, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, FieldErrors, codes};
use crate::{Core, audit, dedupe, search};

/// A record in its API shape.
pub type Record = JsonMap;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// `name` or `-name` (descending).
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: u64,
    /// Also count the matching records (a second query).
    pub count: Count,
    /// List the recycle bin instead of live records.
    pub deleted: bool,
    /// Only these fields of each record (`custom` for the custom values, `created_at` and the
    /// like for system fields), beside its id, owner and version: a board's cards or a
    /// calendar's entries show a few fields of hundreds of records, and decoding the rest was
    /// most of such a page's time. `None`: every field.
    pub fields: Option<Vec<String>>,
}

/// Whether a list also counts what matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Count {
    #[default]
    No,
    /// Exactly up to [`COUNT_CAP`], and "more than that" beyond: what a list page shows. A
    /// count stops reading once it is past the cap, so it costs the same on a million matching
    /// records as on ten thousand.
    Capped,
    /// Every matching record, however many: asked for on purpose.
    Exact,
}

/// Where a capped count stops.
pub const COUNT_CAP: u64 = 10_000;

/// How many records a list matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Total {
    /// The count, or [`COUNT_CAP`] when capped.
    pub count: u64,
    /// More than `count` match (a capped count that reached the cap).
    pub more: bool,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Record>,
    pub next_cursor: Option<String>,
    pub total: Option<Total>,
}

/// A page whose records are still the rows they were read from.
pub struct RowPage {
    rows: Vec<QueryResult>,
    layout: Arc<RowLayout>,
    defs: Vec<CustomFieldDef>,
    pub next_cursor: Option<String>,
    pub total: Option<Total>,
}

impl RowPage {
    /// The records as the JSON array the API shows, each exactly as its [`Record`] from
    /// [`RecordService::list`] serializes.
    pub fn items(&self) -> RowsJson<'_> {
        self.layout.json(&self.rows, &self.defs)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    /// As asked for: `name` or `-name`.
    pub key: String,
    /// The field (or system instant) sorted by.
    pub field: String,
    /// The column it orders by (a money field's amount, not its column prefix) and the type of
    /// its values.
    pub by: SortColumn,
    pub desc: bool,
}

pub const MAX_LIMIT: u64 = 500;
pub const MAX_BULK: usize = 1000;

/// Formats instants the one way the API shows them.
pub fn ts_string(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The input key that lets a save go ahead despite matches of duplicate-check rules that only
/// warn.
pub const ALLOW_DUPLICATE: &str = "allow_duplicate";

/// What a write does about duplicates (`dedupe::check`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DupCheck {
    /// Refuses a match of any rule: a create or an update without `allow_duplicate`.
    Refuse,
    /// Refuses a match of a rule that blocks only: `allow_duplicate: true`.
    AllowWarnings,
    /// No check: an action, which takes no record fields.
    Skip,
}

/// A reference a write is about to store, to check before it is.
struct RefToCheck<'r> {
    /// Where an error about it is reported: `account_id`, `custom.partner`, `lines[1].product`.
    key: String,
    kind: &'r FieldKind,
    /// The entity's own column, for the cycle check of a reference to its own kind.
    column: Option<&'static str>,
    value: &'r Value,
}

/// A loaded row: the record plus what authorization needs.
struct Loaded {
    rec: Record,
    owner: Uuid,
    owner_team: Option<Uuid>,
    version: i64,
}

pub struct RecordService<'a> {
    core: &'a Core,
    def: &'static EntityDef,
    layout: Arc<RowLayout>,
    /// The instant writes are recorded at, where it is not now ([`RecordService::as_of`]).
    at: Option<DateTime<Utc>>,
}

impl<'a> RecordService<'a> {
    pub fn new(core: &'a Core, def: &'static EntityDef) -> Self {
        RecordService {
            core,
            def,
            layout: core.registry.layout(def),
            at: None,
        }
    }

    /// The same service, its creates, updates and actions recorded as made at `at`: the
    /// records' times, their history and the times their rules stamp. For loading history
    /// that happened elsewhere or before (the demo's year of work); never offered to a request,
    /// whose writes happen now.
    pub fn as_of(&self, at: DateTime<Utc>) -> RecordService<'a> {
        RecordService {
            core: self.core,
            def: self.def,
            layout: self.layout.clone(),
            at: Some(at.trunc_subsecs(6)),
        }
    }

    pub fn def(&self) -> &'static EntityDef {
        self.def
    }

    pub(crate) fn core(&self) -> &'a Core {
        self.core
    }

    fn table(&self) -> db::Name {
        col(self.def.table)
    }

    /// The record's columns; `with_owner_team` adds the owner's team, which authorizing one
    /// record needs and a list (already narrowed by scope in SQL) does not.
    fn base_select(&self, with_owner_team: bool) -> SelectStatement {
        self.select_of(&self.layout, with_owner_team)
    }

    /// The select of `layout`'s columns (the whole row, or a page's fields).
    fn select_of(&self, layout: &RowLayout, with_owner_team: bool) -> SelectStatement {
        let t = self.def.table;
        let mut q = Query::select();
        q.from(self.table());
        for c in layout.columns() {
            q.column((self.table(), col(c)));
        }
        if !with_owner_team {
            return q;
        }
        q.expr_as(
            Expr::cust(format!(
                "(SELECT team_id FROM users WHERE users.id = {t}.owner_id)"
            )),
            Alias::new("owner_team"),
        );
        q
    }

    /// A record from a row of [`Self::base_select`].
    fn decode_row(&self, row: &QueryResult) -> CoreResult<Loaded> {
        Ok(Loaded {
            rec: self.layout.record(row)?,
            owner: get_at(row, layout::OWNER_AT, "owner_id")?,
            owner_team: row.try_get::<Option<Uuid>>("", "owner_team").ok().flatten(),
            version: get_at(row, layout::VERSION_AT, "version")?,
        })
    }

    async fn load<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
        deleted: bool,
    ) -> CoreResult<Loaded> {
        let mut q = self.base_select(true);
        q.and_where(Expr::col((self.table(), col("id"))).eq(id));
        q.and_where(if deleted {
            Expr::col((self.table(), col("deleted_at"))).is_not_null()
        } else {
            Expr::col((self.table(), col("deleted_at"))).is_null()
        });
        let row = db::fetch_one(conn, &q).await?.ok_or(CoreError::NotFound)?;
        let mut loaded = self.decode_row(&row)?;
        children::load(conn, self.def, id, &mut loaded.rec).await?;
        Ok(loaded)
    }

    /// Loads a record the actor may read; records outside their scope look absent.
    async fn load_readable<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: Uuid,
        deleted: bool,
    ) -> CoreResult<Loaded> {
        let l = self.load(conn, id, deleted).await?;
        if !actor.reaches(actor.grant(self.def.name).read, l.owner, l.owner_team)
            && !self.shared_with_reader(actor, &l.rec)
            && !self.read_through(conn, actor, &l.rec).await?
        {
            return Err(CoreError::NotFound);
        }
        Ok(l)
    }

    /// Whether `rec` names `actor` on a line of the collection it is shared through
    /// ([`EntityDef::shared_with`]), and their role may read the entity at all.
    fn shared_with_reader(&self, actor: &Actor, rec: &Record) -> bool {
        let Some((child, field)) = self.def.shared_with else {
            return false;
        };
        let me = actor.user_id.to_string();
        actor.grant(self.def.name).read != Scope::None
            && rec
                .get(child)
                .and_then(Value::as_array)
                .is_some_and(|lines| {
                    lines
                        .iter()
                        .any(|l| l.get(field).and_then(Value::as_str) == Some(me.as_str()))
                })
    }

    /// Whether `actor` may read `rec` through the record it regards ([`EntityDef::read_through`]):
    /// a live record of another entity that they may read by its owner. A role that may read
    /// none of this entity reads none of it, whatever it regards.
    async fn read_through<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        rec: &Record,
    ) -> CoreResult<bool> {
        let Some(field) = self.def.read_through else {
            return Ok(false);
        };
        if actor.grant(self.def.name).read == Scope::None {
            return Ok(false);
        }
        let regarded = rec.get(field);
        // A reference names its entity in the declaration; a "regarding" value names its own.
        let (entity, id) = match self.def.field(field).map(|f| &f.kind) {
            Some(FieldKind::Ref { entity, .. }) => (Some(*entity), regarded),
            _ => (
                regarded
                    .and_then(|v| v.get("entity"))
                    .and_then(Value::as_str),
                regarded.and_then(|v| v.get("id")),
            ),
        };
        let Some(def) = entity
            .and_then(|name| self.core.registry.by_name(name))
            .filter(|d| d.access == Access::Records && d.name != self.def.name)
        else {
            return Ok(false);
        };
        let Some(id) = id
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            return Ok(false);
        };
        match self.core.records(def).load(conn, id, false).await {
            Ok(l) => Ok(actor.reaches(actor.grant(def.name).read, l.owner, l.owner_team)),
            Err(CoreError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn check_write(&self, actor: &Actor, l: &Loaded) -> CoreResult<()> {
        if actor.reaches(actor.grant(self.def.name).write, l.owner, l.owner_team) {
            Ok(())
        } else {
            Err(CoreError::forbidden_for(
                codes::RECORD_OUT_OF_REACH,
                self.def.name,
            ))
        }
    }

    /// Adds their lines to records a list read (lists leave lines out): one read of each
    /// collection for all of them, where a `get` each read every record again.
    pub async fn with_lines(&self, recs: &mut [Record]) -> CoreResult<()> {
        children::load_many(self.core.db.reader(), self.def, recs).await
    }

    pub async fn get(&self, actor: &Actor, id: Uuid) -> CoreResult<Record> {
        let rec = self
            .load_readable(self.core.db.reader(), actor, id, false)
            .await?
            .rec;
        let rec = self
            .present(vec![rec], &self.custom_defs().await?)
            .pop()
            .unwrap_or_default();
        self.learnt(actor, id, &rec);
        Ok(rec)
    }

    /// Whether `actor` may read live record `id`: not found when not. Known without reading
    /// it again when this read has read it already (a record page asks for its history and its
    /// reminders after showing the record).
    pub async fn check_readable(&self, actor: &Actor, id: Uuid) -> CoreResult<()> {
        match db::memo::title(actor.user_id, self.def.name, id) {
            Some(Some(_)) => Ok(()),
            _ => self.get(actor, id).await.map(|_| ()),
        }
    }

    /// Keeps the title of a live record `actor` has just read for the rest of a read: what
    /// refers to it on the same page is named without reading it again.
    fn learnt(&self, actor: &Actor, id: Uuid, rec: &Record) {
        let title = (self.def.title)(rec, &actor.locale);
        db::memo::keep_title(actor.user_id, self.def.name, id, Some(title));
    }

    /// Leaves out values of custom fields whose definition was deleted: they stay in the stored
    /// JSON until the record's next write, but are no longer part of the record.
    fn present(&self, mut recs: Vec<Record>, defs: &[CustomFieldDef]) -> Vec<Record> {
        for rec in &mut recs {
            if let Some(c) = rec.get_mut("custom") {
                layout::declared_only(c, defs);
            }
        }
        recs
    }

    /// A record in the recycle bin.
    pub async fn get_deleted(&self, actor: &Actor, id: Uuid) -> CoreResult<Record> {
        let rec = self
            .load_readable(self.core.db.reader(), actor, id, true)
            .await?
            .rec;
        Ok(self
            .present(vec![rec], &self.custom_defs().await?)
            .pop()
            .unwrap_or_default())
    }

    /// A record and whether the actor may change it (for showing or hiding edit controls).
    pub async fn get_with_access(&self, actor: &Actor, id: Uuid) -> CoreResult<(Record, bool)> {
        let l = self
            .load_readable(self.core.db.reader(), actor, id, false)
            .await?;
        let writable = self.check_write(actor, &l).is_ok();
        let rec = self
            .present(vec![l.rec], &self.custom_defs().await?)
            .pop()
            .unwrap_or_default();
        self.learnt(actor, id, &rec);
        Ok((rec, writable))
    }

    pub async fn custom_defs(&self) -> CoreResult<Vec<CustomFieldDef>> {
        self.core.custom_fields.of(self.core, self.def.name).await
    }

    /// [`Self::custom_defs`] for a write: read in its transaction when not kept.
    async fn custom_defs_in(&self, work: &Work<'_>) -> CoreResult<Vec<CustomFieldDef>> {
        self.core
            .custom_fields
            .of_on(work.conn(), self.core.registry, self.def.name)
            .await
    }

    /// Applies input fields onto `rec` (canonical JSON), collecting errors per field. Child
    /// collections are validated line by line against the stored lines.
    fn apply_input(
        &self,
        obj: &JsonMap,
        stored: Option<&Record>,
        rec: &mut Record,
        errors: &mut FieldErrors,
    ) {
        for (k, v) in obj {
            if k == "custom" || k == "owner_id" || k == "version" {
                continue;
            }
            if let Some(child) = self.def.child(k) {
                if child.computed {
                    errors.insert(k.clone(), FieldError::new(codes::COMPUTED));
                    continue;
                }
                let lines = children::canonical(
                    child,
                    v,
                    stored.and_then(|s| s.get(k)),
                    &self.core.settings,
                    errors,
                );
                rec.insert(k.clone(), lines);
                continue;
            }
            match self.def.field(k) {
                Some(f) if f.computed => {
                    errors.insert(k.clone(), FieldError::new(codes::COMPUTED));
                }
                Some(f) => match values::canonical(&f.kind, v, &self.core.settings) {
                    Ok(c) => {
                        rec.insert(k.clone(), c);
                    }
                    Err(e) => {
                        errors.insert(k.clone(), e);
                    }
                },
                None if SYSTEM_FIELDS.contains(&k.as_str()) => {
                    errors.insert(k.clone(), FieldError::new(codes::READ_ONLY));
                }
                None => {
                    errors.insert(k.clone(), FieldError::new(codes::UNKNOWN_FIELD));
                }
            }
        }
    }

    fn finish_validation(&self, rec: &mut Record, errors: &mut FieldErrors) {
        self.def.behaviour.derive(rec, errors);
        for f in self.def.fields {
            if f.required && rec.get(f.name).is_none_or(blank) {
                errors
                    .entry(f.name.into())
                    .or_insert_with(|| FieldError::new(codes::REQUIRED));
            }
        }
    }

    /// Checks a proposed owner: an active user within the actor's write scope.
    async fn check_owner<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        owner: Uuid,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        let mut q = Query::select();
        q.columns(["team_id", "disabled"].map(col))
            .from(col("users"))
            .and_where(Expr::col(col("id")).eq(owner));
        match db::fetch_one(conn, &q).await? {
            None => {
                errors.insert("owner_id".into(), FieldError::new(codes::NO_SUCH_USER));
            }
            Some(row) => {
                let disabled: bool = row.try_get("", "disabled").unwrap_or(true);
                let team = get_opt_uuid(&row, "team_id")?;
                if disabled {
                    errors.insert("owner_id".into(), FieldError::new(codes::USER_DISABLED));
                } else if !actor.reaches(actor.grant(self.def.name).write, owner, team) {
                    errors.insert(
                        "owner_id".into(),
                        FieldError::new(codes::OWNER_OUT_OF_REACH),
                    );
                }
            }
        }
        Ok(())
    }

    /// Every reference the record holds that changed since `before`: its own fields', its
    /// lines' and its custom fields', each with the key an error about it is reported under.
    fn changed_refs<'r>(
        &self,
        rec: &'r Record,
        before: Option<&'r Record>,
        custom: &'r [CustomFieldDef],
    ) -> Vec<RefToCheck<'r>> {
        let refers = |k: &FieldKind| {
            matches!(
                k,
                FieldKind::Ref { .. }
                    | FieldKind::LineRef { .. }
                    | FieldKind::User
                    | FieldKind::Regarding
            )
        };
        let mut out = Vec::new();
        for f in self.def.fields.iter().filter(|f| refers(&f.kind)) {
            let v = rec.get(f.name).unwrap_or(&Value::Null);
            if !v.is_null() && before.is_none_or(|b| b.get(f.name) != Some(v)) {
                out.push(RefToCheck {
                    key: f.name.to_string(),
                    kind: &f.kind,
                    column: Some(f.column),
                    value: v,
                });
            }
        }
        let custom_of = |r: Option<&'r Record>, key: &str| -> Option<&'r Value> {
            r.and_then(|r| r.get("custom"))
                .and_then(|c| c.get(key))
                .filter(|v| !v.is_null())
        };
        for d in custom.iter().filter(|d| refers(&d.kind)) {
            let Some(v) = custom_of(Some(rec), &d.key) else {
                continue;
            };
            if custom_of(before, &d.key) != Some(v) {
                out.push(RefToCheck {
                    key: d.path(),
                    kind: &d.kind,
                    column: None,
                    value: v,
                });
            }
        }
        for child in self.def.children {
            let old: Vec<&Value> = before
                .and_then(|b| b.get(child.name))
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let Some(lines) = rec.get(child.name).and_then(Value::as_array) else {
                continue;
            };
            for (i, line) in lines.iter().enumerate() {
                for f in child.fields.iter().filter(|f| refers(&f.kind)) {
                    let v = line.get(f.name).unwrap_or(&Value::Null);
                    // A reference an unchanged line already held was checked when it was made.
                    let kept = old
                        .iter()
                        .any(|o| o.get("id") == line.get("id") && o.get(f.name) == Some(v));
                    if !v.is_null() && !kept {
                        out.push(RefToCheck {
                            key: children::key(child, i, f.name),
                            kind: &f.kind,
                            column: None,
                            value: v,
                        });
                    }
                }
            }
        }
        out
    }

    /// Checks references to other records and users: a record exists, is not in the recycle bin,
    /// is readable, and (for a record's own kind) forms no cycle; a user exists and is active.
    /// A line reference must name a line of the record its `via` field refers to.
    async fn check_refs(
        &self,
        work: &mut Work<'_>,
        id: Uuid,
        (rec, before): (&Record, Option<&Record>),
        custom: &[CustomFieldDef],
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        let as_id = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
        };
        for r in self.changed_refs(rec, before, custom) {
            match r.kind {
                FieldKind::Ref { table, entity } => {
                    let Some(target) = as_id(Some(r.value)) else {
                        continue;
                    };
                    let own = (*table == self.def.table).then_some(r.column).flatten();
                    self.check_record(work, id, (table, entity), target, own, r.key, errors)
                        .await?;
                }
                FieldKind::Regarding => {
                    let (Some(name), Some(target)) = (
                        r.value.get("entity").and_then(Value::as_str),
                        as_id(r.value.get("id")),
                    ) else {
                        continue;
                    };
                    let readable = self
                        .core
                        .registry
                        .by_name(name)
                        .filter(|e| e.access == Access::Records);
                    match readable {
                        Some(e) => {
                            self.check_record(
                                work,
                                id,
                                (e.table, e.name),
                                target,
                                None,
                                r.key,
                                errors,
                            )
                            .await?;
                        }
                        None => {
                            let names: Vec<&str> = self
                                .core
                                .registry
                                .all()
                                .iter()
                                .filter(|e| e.access == Access::Records)
                                .map(|e| e.name)
                                .collect();
                            errors.insert(
                                format!("{}.entity", r.key),
                                FieldError::not_one_of(name, &names),
                            );
                        }
                    }
                }
                FieldKind::User => {
                    let Some(user) = as_id(Some(r.value)) else {
                        continue;
                    };
                    let mut q = Query::select();
                    q.column(col("disabled"))
                        .from(col("users"))
                        .and_where(Expr::col(col("id")).eq(user));
                    match db::fetch_one(work.conn(), &q).await? {
                        None => {
                            errors.insert(r.key, FieldError::new(codes::NO_SUCH_USER));
                        }
                        Some(row) if get_bool(&row, "disabled")? => {
                            errors.insert(r.key, FieldError::new(codes::USER_DISABLED));
                        }
                        Some(_) => {}
                    }
                }
                FieldKind::LineRef { via, child } => {
                    let Some(target) = as_id(Some(r.value)) else {
                        continue;
                    };
                    let parent = children::parent_of(work.conn(), child, target).await?;
                    let expected = as_id(rec.get(*via));
                    if parent.is_none() || parent != expected {
                        let entity = self
                            .def
                            .field(via)
                            .and_then(|v| match v.kind {
                                FieldKind::Ref { entity, .. } => Some(entity),
                                _ => None,
                            })
                            .unwrap_or(via);
                        errors.insert(
                            r.key,
                            FieldError::new(codes::NOT_A_LINE_OF).with("entity", entity),
                        );
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// One reference to a record of `(table, entity)`: it exists, is live and readable, and,
    /// along `own_column` of this entity's own table, is not the record itself or a descendant.
    #[allow(clippy::too_many_arguments)]
    async fn check_record(
        &self,
        work: &mut Work<'_>,
        id: Uuid,
        (table, entity): (&'static str, &str),
        target: Uuid,
        own_column: Option<&str>,
        key: String,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        if target == id {
            errors.insert(key, FieldError::new(codes::REFERS_TO_ITSELF));
            return Ok(());
        }
        let no_such = || FieldError::new(codes::NO_SUCH_RECORD).with("entity", entity);
        if work.referenced(table, target).is_none() {
            work.read_referenced(table, &[target]).await?;
        }
        let Some(facts) = work.referenced(table, target) else {
            errors.insert(key, no_such());
            return Ok(());
        };
        let actor = work.actor();
        if facts.deleted {
            errors.insert(
                key,
                FieldError::new(codes::IN_RECYCLE_BIN).with("entity", entity),
            );
        } else if !actor.reaches(actor.grant(entity).read, facts.owner, facts.team) {
            errors.insert(key, no_such());
        } else if let Some(column) = own_column
            && self.is_ancestor(work.conn(), id, target, column).await?
        {
            errors.insert(key, FieldError::new(codes::OWN_ANCESTOR));
        }
        Ok(())
    }

    /// Whether `id` appears among `start` and its ancestors along `column`.
    async fn is_ancestor<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
        start: Uuid,
        column: &str,
    ) -> CoreResult<bool> {
        let mut cur = Some(start);
        for _ in 0..100 {
            let Some(c) = cur else { return Ok(false) };
            if c == id {
                return Ok(true);
            }
            let mut q = Query::select();
            q.column(col(column))
                .from(self.table())
                .and_where(Expr::col(col("id")).eq(c));
            cur = match db::fetch_one(conn, &q).await? {
                Some(row) => get_opt_uuid(&row, column)?,
                None => None,
            };
        }
        Ok(true)
    }

    async fn reindex<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
        owner: Uuid,
        rec: &Record,
    ) -> CoreResult<()> {
        search::points::replace(conn, self.def.name, id, rec).await?;
        dedupe::keys::replace(conn, self.def, id, rec).await?;
        search::index(conn, self.def, id, owner, rec).await
    }

    /// Writes the search entries of up to `limit` live records whose ids follow `after`, in id
    /// order, in `conn`; returns how many and the last id. For building the index again from the
    /// records after a bulk load (`moveall::import_all`), where the records came in as rows.
    pub async fn index_page<C: ConnectionTrait>(
        &self,
        conn: &C,
        after: Option<Uuid>,
        limit: u64,
    ) -> CoreResult<(usize, Option<Uuid>)> {
        let mut q = self.base_select(false);
        q.and_where(Expr::col((self.table(), col("deleted_at"))).is_null());
        if let Some(after) = after {
            q.and_where(Expr::col((self.table(), col("id"))).gt(after));
        }
        q.order_by((self.table(), col("id")), Order::Asc)
            .limit(limit);
        let rows = db::fetch_all(conn, &q).await?;
        let mut loaded = Vec::with_capacity(rows.len());
        for row in &rows {
            loaded.push(self.decode_row(row)?);
        }
        let mut recs: Vec<Record> = loaded
            .iter_mut()
            .map(|l| std::mem::take(&mut l.rec))
            .collect();
        children::load_many(conn, self.def, &mut recs).await?;
        let mut last = None;
        for (rec, l) in recs.iter().zip(&loaded) {
            let Some(id) = rec
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
            else {
                continue;
            };
            search::index(conn, self.def, id, l.owner, rec).await?;
            last = Some(id);
        }
        Ok((recs.len(), last))
    }

    fn parse_owner(obj: &JsonMap, errors: &mut FieldErrors) -> Option<Uuid> {
        match obj.get("owner_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match Uuid::parse_str(s.trim()) {
                Ok(u) => Some(u),
                Err(_) => {
                    errors.insert(
                        "owner_id".into(),
                        FieldError::new(codes::NOT_AN_ID).with("value", crate::error::shown(s)),
                    );
                    None
                }
            },
            Some(other) => {
                errors.insert(
                    "owner_id".into(),
                    FieldError::not_parsed(codes::NOT_AN_ID, other),
                );
                None
            }
        }
    }

    fn object(input: &Value) -> CoreResult<&JsonMap> {
        input
            .as_object()
            .ok_or_else(|| CoreError::bad_request("invalid_body", "the body must be a JSON object"))
    }

    /// The input of a create or an update without `allow_duplicate` (which is no field: it says
    /// that a match of a duplicate-check rule that only warns may be saved), and what it said.
    fn without_allow_duplicate<'i>(
        obj: &'i JsonMap,
        errors: &mut FieldErrors,
    ) -> (std::borrow::Cow<'i, JsonMap>, DupCheck) {
        let Some(v) = obj.get(ALLOW_DUPLICATE) else {
            return (std::borrow::Cow::Borrowed(obj), DupCheck::Refuse);
        };
        let check = match v {
            Value::Bool(true) => DupCheck::AllowWarnings,
            Value::Bool(false) | Value::Null => DupCheck::Refuse,
            other => {
                errors.insert(
                    ALLOW_DUPLICATE.into(),
                    FieldError::not_parsed(codes::NOT_A_BOOLEAN, other),
                );
                DupCheck::Refuse
            }
        };
        let mut rest = obj.clone();
        rest.remove(ALLOW_DUPLICATE);
        (std::borrow::Cow::Owned(rest), check)
    }

    pub async fn create(&self, actor: &Actor, input: &Value) -> CoreResult<Record> {
        let mut work = Work::begin(self.core, actor, self.at).await?;
        let rec = self.create_in(&mut work, input).await?;
        work.commit().await?;
        self.get_by_id(actor, &rec).await
    }

    /// Applies a partial update. `expected_version` (from `If-Match` or the body's `version`)
    /// makes a stale write fail instead of overwriting someone else's change.
    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: Option<i64>,
        input: &Value,
    ) -> CoreResult<Record> {
        let mut work = Work::begin(self.core, actor, self.at).await?;
        self.update_in(&mut work, id, expected_version, input)
            .await?;
        work.commit().await?;
        self.get(actor, id).await
    }

    /// Carries out a declared action (`POST /{plural}/{id}/{action}`).
    pub async fn act(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &str,
        expected_version: Option<i64>,
        input: &Value,
    ) -> CoreResult<Record> {
        self.act_setting(actor, id, action, expected_version, input, &JsonMap::new())
            .await
    }

    /// Runs `action` on record `id` and sets `fields` (values of the record's own fields, as an
    /// update takes them) in the same write: every rule of the action and of the record
    /// applies to the record as both leave it, and a refusal changes nothing.
    pub async fn act_setting(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &str,
        expected_version: Option<i64>,
        input: &Value,
        fields: &JsonMap,
    ) -> CoreResult<Record> {
        let mut work = Work::begin(self.core, actor, self.at).await?;
        self.act_in(&mut work, id, action, expected_version, input, fields)
            .await?;
        work.commit().await?;
        self.get(actor, id).await
    }

    /// Runs custom code's change to a record in a unit of work of its own: the same rules as
    /// `update`, for callers that are not a request.
    pub async fn modify(&self, actor: &Actor, id: Uuid, input: &Value) -> CoreResult<Record> {
        self.update(actor, id, None, input).await
    }

    async fn get_by_id(&self, actor: &Actor, rec: &Record) -> CoreResult<Record> {
        let id = rec
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| CoreError::Internal("a written record has no id".into()))?;
        self.get(actor, id).await
    }

    pub(crate) async fn get_in(&self, work: &Work<'_>, id: Uuid) -> CoreResult<Record> {
        Ok(self
            .load_readable(work.conn(), work.actor(), id, false)
            .await?
            .rec)
    }

    /// The live records of `ids` the actor may read, as [`Self::get_in`] reads each, in one
    /// read (and one of each collection's lines): an import's matched rows, read ahead.
    pub(crate) async fn get_many_in(
        &self,
        work: &Work<'_>,
        ids: &[Uuid],
    ) -> CoreResult<Vec<Record>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let conn = work.conn();
        let actor = work.actor();
        let mut q = self.base_select(true);
        q.and_where(Expr::col((self.table(), col("id"))).is_in(ids.iter().copied()));
        q.and_where(Expr::col((self.table(), col("deleted_at"))).is_null());
        let mut loaded = Vec::with_capacity(ids.len());
        for row in db::fetch_all(conn, &q).await? {
            loaded.push(self.decode_row(&row)?);
        }
        let mut recs: Vec<Record> = loaded
            .iter_mut()
            .map(|l| std::mem::take(&mut l.rec))
            .collect();
        children::load_many(conn, self.def, &mut recs).await?;
        let mut out = Vec::with_capacity(recs.len());
        for (l, rec) in loaded.into_iter().zip(recs) {
            if actor.reaches(actor.grant(self.def.name).read, l.owner, l.owner_team)
                || self.shared_with_reader(actor, &rec)
                || self.read_through(conn, actor, &rec).await?
            {
                out.push(rec);
            }
        }
        Ok(out)
    }

    pub(crate) async fn create_in(&self, work: &mut Work<'_>, input: &Value) -> CoreResult<Record> {
        let actor = work.actor();
        if actor.grant(self.def.name).write == Scope::None {
            return Err(CoreError::forbidden_for(
                codes::ROLE_CANNOT_WRITE,
                self.def.name,
            ));
        }
        let mut errors = FieldErrors::new();
        let (obj, dup) = Self::without_allow_duplicate(Self::object(input)?, &mut errors);
        let obj = obj.as_ref();
        if obj.contains_key("version") {
            errors.insert("version".into(), FieldError::new(codes::READ_ONLY));
        }
        let owner = Self::parse_owner(obj, &mut errors).unwrap_or(actor.user_id);
        let mut rec = Record::new();
        for f in self.def.fields {
            rec.insert(
                f.name.into(),
                values::canonical(&f.kind, &Value::Null, &self.core.settings)
                    .unwrap_or(Value::Null),
            );
        }
        for child in self.def.children {
            rec.insert(child.name.into(), Value::Array(vec![]));
        }
        rec.insert("owner_id".into(), Value::String(owner.to_string()));
        let id = Uuid::now_v7();
        self.write(work, id, None, obj, None, dup, rec, errors)
            .await
    }

    pub(crate) async fn update_in(
        &self,
        work: &mut Work<'_>,
        id: Uuid,
        expected_version: Option<i64>,
        input: &Value,
    ) -> CoreResult<Record> {
        let mut errors = FieldErrors::new();
        let (obj, dup) = Self::without_allow_duplicate(Self::object(input)?, &mut errors);
        let obj = obj.as_ref();
        let body_version = match obj.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_i64() {
                Some(n) => Some(n),
                None => {
                    errors.insert(
                        "version".into(),
                        FieldError::not_parsed(codes::NOT_A_WHOLE_NUMBER, v),
                    );
                    None
                }
            },
        };
        let current = self
            .load_current(work, id, expected_version.or(body_version))
            .await?;
        let mut rec = current.rec.clone();
        if let Some(owner) = Self::parse_owner(obj, &mut errors) {
            rec.insert("owner_id".into(), Value::String(owner.to_string()));
        }
        self.write(work, id, Some(&current), obj, None, dup, rec, errors)
            .await
    }

    pub(crate) async fn act_in(
        &self,
        work: &mut Work<'_>,
        id: Uuid,
        action: &str,
        expected_version: Option<i64>,
        input: &Value,
        fields: &JsonMap,
    ) -> CoreResult<Record> {
        let def = self.def.action(action).ok_or(CoreError::NotFound)?;
        let obj = Self::object(input)?;
        let current = self.load_current(work, id, expected_version).await?;
        let mut errors = FieldErrors::new();
        if let Some(states) = self.def.states {
            let state = current
                .rec
                .get(states.field)
                .and_then(Value::as_str)
                .unwrap_or("");
            if !def.from.is_empty() && !def.from.contains(&state) {
                // Named as the state machine's refusals are: the action as `<entity>-<action>`
                // and the state as the key of its label.
                let state_key = match self.def.field(states.field).map(|f| &f.kind) {
                    Some(FieldKind::Choice(set)) => set.label_key(state),
                    _ => state.to_string(),
                };
                let mut params = crate::error::Params::new();
                params.insert(
                    "actions",
                    Value::from(vec![format!("{}-{action}", self.def.name)]),
                );
                params.insert("from_state", Value::from(state_key));
                return Err(CoreError::Conflict {
                    code: codes::ACTION_NOT_IN_STATE,
                    message: format!("'{action}' cannot be done while the record is {state}"),
                    params,
                });
            }
        }
        for (k, _) in obj {
            if def.field(k).is_none() && k != "version" {
                errors.insert(k.clone(), FieldError::new(codes::UNKNOWN_INPUT));
            }
        }
        // Only the record's own fields go with an action, none it computes.
        for (k, _) in fields {
            match self.def.field(k) {
                Some(f) if f.computed => {
                    errors.insert(k.clone(), FieldError::new(codes::COMPUTED));
                }
                Some(_) => {}
                None => {
                    errors.insert(k.clone(), FieldError::new(codes::UNKNOWN_FIELD));
                }
            }
        }
        let mut args = JsonMap::new();
        for f in def.input {
            let v = obj.get(f.name).unwrap_or(&Value::Null);
            match values::canonical(&f.kind, v, &self.core.settings) {
                Ok(c) => {
                    if f.required && blank(&c) {
                        errors.insert(f.name.into(), FieldError::new(codes::REQUIRED));
                    }
                    args.insert(f.name.into(), c);
                }
                Err(e) => {
                    errors.insert(f.name.into(), e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        let rec = current.rec.clone();
        self.write(
            work,
            id,
            Some(&current),
            fields,
            Some((def, &args)),
            DupCheck::Skip,
            rec,
            errors,
        )
        .await
    }

    /// Loads a record for a write: readable, writable by the actor, at the expected version.
    async fn load_current(
        &self,
        work: &Work<'_>,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> CoreResult<Loaded> {
        let current = self
            .load_readable(work.conn(), work.actor(), id, false)
            .await?;
        self.check_write(work.actor(), &current)?;
        if let Some(v) = expected_version
            && v != current.version
        {
            return Err(CoreError::StaleVersion {
                current: current.version,
            });
        }
        Ok(current)
    }

    /// The one write path of create, update and actions: input, the action, derived fields, the
    /// entity's rules, references, the state machine, the duplicate check; then the row, its
    /// lines, the search index, the matching keys and the audit row; then the entity's side
    /// effects.
    #[allow(clippy::too_many_arguments)]
    async fn write(
        &self,
        work: &mut Work<'_>,
        id: Uuid,
        current: Option<&Loaded>,
        obj: &JsonMap,
        action: Option<(&'static ActionDef, &JsonMap)>,
        dup: DupCheck,
        mut rec: Record,
        mut errors: FieldErrors,
    ) -> CoreResult<Record> {
        let stored = current.map(|c| &c.rec);
        let defs = self.custom_defs_in(work).await?;
        self.apply_input(obj, stored, &mut rec, &mut errors);
        if action.is_none() {
            let custom = custom_fields::validate(
                &defs,
                obj.get("custom"),
                stored
                    .and_then(|c| c.get("custom"))
                    .and_then(Value::as_object),
                &self.core.settings,
                &mut errors,
            );
            rec.insert("custom".into(), Value::Object(custom));
        }
        let event = Event {
            id,
            stored,
            action: action.map(|(a, _)| a),
            input: action.map(|(_, args)| args).unwrap_or(obj),
        };
        if let Some((_, args)) = action {
            self.def
                .behaviour
                .act(work, &event, args, &mut rec, &mut errors)
                .await?;
        }
        self.finish_validation(&mut rec, &mut errors);
        self.def
            .behaviour
            .validate(work, &event, &mut rec, &mut errors)
            .await?;
        if let (Some(states), Some(stored)) = (self.def.states, stored) {
            let from = stored
                .get(states.field)
                .and_then(Value::as_str)
                .unwrap_or("");
            let to = rec.get(states.field).and_then(Value::as_str).unwrap_or("");
            let via = event.action.map(|a| a.name);
            if !states.allows(from, to, via) {
                let actions = states.actions_between(from, to);
                // States and actions are named so the wording can find their labels:
                // the keys of their labels (`option-<set>-<state>`) and `<entity>-<action>`.
                let label = |state: &str| match self.def.field(states.field).map(|f| &f.kind) {
                    Some(FieldKind::Choice(set)) => set.label_key(state),
                    _ => state.to_string(),
                };
                let error = if actions.is_empty() {
                    FieldError::new(codes::STATE_CHANGE_NOT_ALLOWED)
                } else {
                    FieldError::new(codes::STATE_BY_ACTION_ONLY).with(
                        "actions",
                        actions
                            .iter()
                            .map(|a| format!("{}-{a}", self.def.name))
                            .collect::<Vec<_>>(),
                    )
                };
                errors.insert(
                    states.field.into(),
                    error
                        .with("from_state", label(from))
                        .with("to_state", label(to)),
                );
            }
        }
        let owner = rec
            .get("owner_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or(work.actor().user_id);
        let now = work.now();
        let actor = work.actor().user_id;
        // A valid create's rows are laid out before the checks that read, not after: a bulk
        // load sends each record's write ahead (`WriteTxn::send_writes_ahead`), and what is
        // worked out here overlaps the write of the record before, where the first read below
        // waits for it. Checks that refuse the record drop the layout.
        let image = match current {
            None if errors.is_empty() => {
                rec.insert("id".into(), Value::String(id.to_string()));
                let stamp = Stamp {
                    id,
                    owner,
                    at: now,
                    actor,
                    audit_id: Uuid::now_v7(),
                };
                Some(RowImage::of_create(
                    self.def,
                    &rec,
                    &stamp,
                    self.core.db.backend(),
                )?)
            }
            _ => None,
        };
        // The actor as owner needs no look-up: they were found enabled when this request was
        // authenticated, and every write scope reaches its own holder. It would be a round trip
        // in the single writer's turn (see `db::group_commit`) on every create.
        if current.is_none_or(|c| c.owner != owner) && owner != work.actor().user_id {
            self.check_owner(work.conn(), work.actor(), owner, &mut errors)
                .await?;
        }
        self.check_refs(work, id, (&rec, stored), &defs, &mut errors)
            .await?;
        if let Some(stored) = stored {
            self.check_lines_in_use(work, stored, &rec, &mut errors)
                .await?;
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        if dup != DupCheck::Skip && !self.def.dedupe.is_empty() {
            // A save that allows duplicates can be refused by a rule that blocks only: the
            // others' matches are not looked for (an import's rows, each checked on its natural
            // keys already, pay for one look-up instead of two).
            let blocking = match dup {
                DupCheck::AllowWarnings => Some(work.blocking_rules(self.def).await?),
                _ => None,
            };
            if blocking.as_ref().is_none_or(|b| !b.is_empty()) {
                let matches = dedupe::check::on_write(
                    work.conn(),
                    self.core,
                    work.actor(),
                    self.def,
                    (&rec, stored),
                    id,
                    blocking.as_deref(),
                )
                .await?;
                if let Some(e) =
                    dedupe::check::refusal(self.def, &matches, dup == DupCheck::AllowWarnings)
                {
                    return Err(e);
                }
            }
        }
        match (current, image) {
            (None, image) => {
                // A create writes its row image: the one layout of a new record's rows, which
                // bulk loaders render too. (Laid out above: the errors that would leave it
                // unmade refused the record already.)
                let Some(image) = image else {
                    return Err(CoreError::Internal("a create without its rows".into()));
                };
                image.write(work.conn()).await?;
            }
            (Some(current), _) => {
                let verb = action.map_or("update", |(a, _)| a.name);
                let mut changes = audit::diff(&self.plain(stored), &self.plain(Some(&rec)));
                for child in self.def.children {
                    let before = stored
                        .and_then(|s| s.get(child.name))
                        .unwrap_or(&Value::Null);
                    let after = rec.get(child.name).unwrap_or(&Value::Null);
                    if !child.computed {
                        changes.extend(children::diff(child, before, after));
                    }
                }
                let lines_changed = self.def.children.iter().any(|c| {
                    stored.and_then(|s| s.get(c.name)).unwrap_or(&Value::Null)
                        != rec.get(c.name).unwrap_or(&Value::Null)
                });
                if changes.is_empty() && !lines_changed && action.is_none() {
                    return Ok(current.rec.clone());
                }
                // What reference checks read may be this record's owner or state.
                work.forget_referenced();
                let mut q = Query::update();
                q.table(self.table());
                for (c, v) in row::field_columns(self.def, &rec) {
                    q.value(col(&c), v);
                }
                q.value(col("owner_id"), owner)
                    .value(col("version"), current.version + 1)
                    .value(col("updated_at"), now)
                    .value(col("updated_by"), actor)
                    .and_where(Expr::col(col("id")).eq(id))
                    .and_where(Expr::col(col("version")).eq(current.version))
                    .and_where(Expr::col(col("deleted_at")).is_null());
                if db::update(work.conn(), &q).await? == 0 {
                    return Err(CoreError::StaleVersion {
                        current: current.version + 1,
                    });
                }
                for child in self.def.children {
                    let before = stored.and_then(|s| s.get(child.name));
                    let after = rec.get(child.name).unwrap_or(&Value::Null);
                    if before != Some(after) || children::carried_changed(child, stored, &rec) {
                        let carried = children::carried(self.def, child, &rec);
                        children::save(work.conn(), child, id, after, &carried).await?;
                    }
                }
                rec.insert("id".into(), Value::String(id.to_string()));
                self.reindex(work.conn(), id, owner, &rec).await?;
                audit::write(
                    work.conn(),
                    self.def.name,
                    id,
                    verb,
                    Some(actor),
                    &changes,
                    now,
                )
                .await?;
            }
        }
        self.def.behaviour.after(work, &event, &rec).await?;
        Ok(rec)
    }

    /// Refuses to remove a line that records of any entity still refer to (a stage that
    /// opportunities are in), as a foreign key would: they must move first.
    async fn check_lines_in_use(
        &self,
        work: &Work<'_>,
        stored: &Record,
        rec: &Record,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        for child in self.def.children {
            let ids = |r: &Record| -> Vec<Value> {
                r.get(child.name)
                    .and_then(Value::as_array)
                    .map(|lines| lines.iter().filter_map(|l| l.get("id").cloned()).collect())
                    .unwrap_or_default()
            };
            let kept = ids(rec);
            let removed: Vec<Value> = ids(stored)
                .into_iter()
                .filter(|id| !kept.contains(id))
                .collect();
            if removed.is_empty() {
                continue;
            }
            for reference in work.registry().line_references_to(child) {
                let filter = Filter::Cond {
                    field: reference.field.name.into(),
                    op: super::FilterOp::In,
                    value: Value::Array(removed.clone()),
                };
                let n = work.count_all(reference.from, &filter).await?;
                if n > 0 {
                    errors.insert(
                        child.name.into(),
                        FieldError::new(codes::LINE_IN_USE)
                            .with("entity", reference.from.name)
                            .with("count", n),
                    );
                }
            }
        }
        Ok(())
    }

    /// The record without its child collections, which the audit trail words line by line.
    fn plain(&self, rec: Option<&Record>) -> Record {
        let mut out = rec.cloned().unwrap_or_default();
        for child in self.def.children {
            out.remove(child.name);
        }
        if rec.is_none() {
            out.clear();
        }
        out
    }

    /// How many live records match `filter`, whoever owns them.
    pub(crate) async fn count_all_in(&self, work: &Work<'_>, filter: &Filter) -> CoreResult<u64> {
        let defs = self.custom_defs_in(work).await?;
        let ctx = FilterContext {
            entity: self.def,
            custom: &defs,
            backend: self.core.db.backend(),
            actor: work.actor(),
            settings: &self.core.settings,
            narrow: Narrowing::NONE,
            order: None,
        };
        let cond = Condition::all()
            .add(ctx.compile(filter)?)
            .add(Expr::col((self.table(), col("deleted_at"))).is_null());
        let mut sel = Query::select();
        sel.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from(self.table())
            .cond_where(cond);
        count_of(db::fetch_one(work.conn(), &sel).await?)
    }

    /// Moves a record to the recycle bin.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> CoreResult<()> {
        let mut work = Work::begin(self.core, actor, None).await?;
        self.delete_in(&mut work, id, expected_version).await?;
        work.commit().await
    }

    /// [`Self::delete`] inside a unit of work (a batch of an import's undo).
    pub(crate) async fn delete_in(
        &self,
        work: &mut Work<'_>,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> CoreResult<()> {
        work.forget_referenced();
        let actor = work.actor();
        let txn = work.conn();
        let current = self.load_readable(txn, actor, id, false).await?;
        self.check_write(actor, &current)?;
        if let Some(v) = expected_version
            && v != current.version
        {
            return Err(CoreError::StaleVersion {
                current: current.version,
            });
        }
        let now = work.now();
        let mut q = Query::update();
        q.table(self.table())
            .value(col("deleted_at"), now)
            .value(col("deleted_by"), actor.user_id)
            .value(col("version"), current.version + 1)
            .and_where(Expr::col(col("id")).eq(id))
            .and_where(Expr::col(col("version")).eq(current.version));
        if db::update(txn, &q).await? == 0 {
            return Err(CoreError::StaleVersion {
                current: current.version + 1,
            });
        }
        search::remove(txn, id).await?;
        dedupe::keys::remove(txn, self.def, id).await?;
        audit::write(
            txn,
            self.def.name,
            id,
            "delete",
            Some(actor.user_id),
            &[],
            now,
        )
        .await?;
        Ok(())
    }

    /// Brings a record back from the recycle bin.
    pub async fn restore(&self, actor: &Actor, id: Uuid) -> CoreResult<Record> {
        let txn = self.core.db.begin().await?;
        let current = self.load_readable(&txn, actor, id, true).await?;
        self.check_write(actor, &current)?;
        let mut q = Query::update();
        q.table(self.table())
            .value(col("deleted_at"), Option::<DateTime<Utc>>::None)
            .value(col("deleted_by"), Option::<Uuid>::None)
            .value(col("version"), current.version + 1)
            .and_where(Expr::col(col("id")).eq(id))
            .and_where(Expr::col(col("version")).eq(current.version));
        if db::update(&txn, &q).await? == 0 {
            return Err(CoreError::StaleVersion {
                current: current.version + 1,
            });
        }
        self.reindex(&txn, id, current.owner, &current.rec).await?;
        audit::write(
            &txn,
            self.def.name,
            id,
            "restore",
            Some(actor.user_id),
            &[],
            crate::now(),
        )
        .await?;
        txn.commit().await?;
        self.get(actor, id).await
    }

    /// Deletes a record in the recycle bin for good. Administrators only; the audit trail keeps
    /// a snapshot of what was purged.
    pub async fn purge(&self, actor: &Actor, id: Uuid) -> CoreResult<()> {
        if !actor.is_admin() {
            return Err(CoreError::forbidden(codes::ADMIN_ONLY));
        }
        let txn = self.core.db.begin().await?;
        let current = self.load(&txn, id, true).await?;
        search::points::remove(&txn, id).await?;
        search::remove(&txn, id).await?;
        dedupe::keys::remove(&txn, self.def, id).await?;
        let mut q = Query::delete();
        q.from_table(self.table())
            .and_where(Expr::col(col("id")).eq(id));
        db::delete(&txn, &q).await?;
        audit::write(
            &txn,
            self.def.name,
            id,
            "purge",
            Some(actor.user_id),
            &audit::diff(&current.rec, &Record::new()),
            crate::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Gives records a new owner, all or none: one record the actor may not change fails the lot.
    pub async fn change_owner(
        &self,
        actor: &Actor,
        ids: &[Uuid],
        new_owner: Uuid,
    ) -> CoreResult<u64> {
        if ids.is_empty() {
            return Err(CoreError::field("ids", FieldError::new(codes::REQUIRED)));
        }
        if ids.len() > MAX_BULK {
            return Err(CoreError::field(
                "ids",
                FieldError::new(codes::TOO_MANY_ENTRIES).with("max", MAX_BULK),
            ));
        }
        // A role that may write nothing is refused as such (403), as on create, rather than
        // told that the new owner is out of its reach.
        if actor.grant(self.def.name).write == Scope::None {
            return Err(CoreError::forbidden_for(
                codes::ROLE_CANNOT_WRITE,
                self.def.name,
            ));
        }
        let txn = self.core.db.begin().await?;
        let mut errors = FieldErrors::new();
        self.check_owner(&txn, actor, new_owner, &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        let mut changed = 0;
        for &id in ids {
            let current = self.load_readable(&txn, actor, id, false).await?;
            self.check_write(actor, &current)?;
            if current.owner == new_owner {
                continue;
            }
            let mut q = Query::update();
            q.table(self.table())
                .value(col("owner_id"), new_owner)
                .value(col("version"), current.version + 1)
                .value(col("updated_at"), crate::now())
                .value(col("updated_by"), actor.user_id)
                .and_where(Expr::col(col("id")).eq(id))
                .and_where(Expr::col(col("version")).eq(current.version));
            if db::update(&txn, &q).await? == 0 {
                return Err(CoreError::StaleVersion {
                    current: current.version + 1,
                });
            }
            let mut rec = current.rec.clone();
            rec.insert("owner_id".into(), Value::String(new_owner.to_string()));
            search::index(&txn, self.def, id, new_owner, &rec).await?;
            audit::write(
                &txn,
                self.def.name,
                id,
                "update",
                Some(actor.user_id),
                &audit::diff(&current.rec, &rec),
                crate::now(),
            )
            .await?;
            changed += 1;
        }
        txn.commit().await?;
        Ok(changed)
    }

    pub async fn history(&self, actor: &Actor, id: Uuid) -> CoreResult<Vec<audit::Entry>> {
        match self.check_readable(actor, id).await {
            Err(CoreError::NotFound) => {
                self.load_readable(self.core.db.reader(), actor, id, true)
                    .await?;
            }
            other => other?,
        }
        audit::history(&self.core.db, id, 500).await
    }

    /// Resolves a sort parameter against the entity's sortable fields.
    pub fn sort_spec(&self, sort: Option<&str>, deleted: bool) -> CoreResult<SortSpec> {
        let key = sort.filter(|s| !s.is_empty()).unwrap_or(if deleted {
            "-deleted_at"
        } else {
            self.def.default_sort
        });
        let (desc, name) = match key.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, key),
        };
        let by = if matches!(name, "created_at" | "updated_at") || (deleted && name == "deleted_at")
        {
            Some(SortColumn::timestamp(name))
        } else {
            self.def
                .field(name)
                .filter(|f| f.sortable)
                .and_then(values::sort_column)
        };
        let Some(by) = by else {
            let mut allowed: Vec<&str> = self
                .def
                .fields
                .iter()
                .filter(|f| f.sortable && values::sort_column(f).is_some())
                .map(|f| f.name)
                .collect();
            allowed.extend(["created_at", "updated_at"]);
            return Err(CoreError::bad_request(
                "invalid_sort",
                format!(
                    "'{name}' cannot be sorted; sortable fields: {}",
                    allowed.join(", ")
                ),
            ));
        };
        Ok(SortSpec {
            key: key.to_string(),
            field: name.to_string(),
            by,
            desc,
        })
    }

    fn scope_condition(&self, actor: &Actor) -> CoreResult<Condition> {
        self.scope_read(actor, ScopeRead::ByOwner)
    }

    /// The records `actor` may read, written so the database reads them as `read` says.
    fn scope_read(&self, actor: &Actor, read: ScopeRead) -> CoreResult<Condition> {
        let owner = match (read, self.core.db.backend()) {
            // `+column` is SQLite's way to keep a term from choosing an index.
            (ScopeRead::InListOrder | ScopeRead::OwnerByOwner, Backend::Sqlite) => {
                Expr::expr(Expr::cust(format!("+\"{}\".\"owner_id\"", self.def.table)))
            }
            (ScopeRead::OwnerIndex, Backend::Sqlite)
                if actor.grant(self.def.name).read == Scope::All =>
            {
                // SQLite's planner takes a partial index only for a term on its column, and
                // `IS NOT NULL` on a NOT NULL column is folded away. Owners are stored as
                // 16-byte blobs, and every blob sorts at or after the empty one, so this term
                // holds for every record and reads them all through the owner index.
                return Ok(Condition::all()
                    .add(Expr::col((self.table(), col("owner_id"))).gte(Expr::cust("x''"))));
            }
            _ => Expr::col((self.table(), col("owner_id"))),
        };
        let by_owner = self.scope_on(actor, owner)?;
        let mut readable = match self.def.read_through {
            None => by_owner,
            Some(field) => Condition::any()
                .add(by_owner)
                .add(self.regarded_readable(actor, field)?),
        };
        if let Some((child, field)) = self.def.shared_with {
            readable = Condition::any()
                .add(readable)
                .add(self.shared_readable(actor, child, field)?);
        }
        Ok(readable)
    }

    /// The records that name `actor` on a line of `child` in its user `field`
    /// ([`EntityDef::shared_with`]).
    fn shared_readable(&self, actor: &Actor, child: &str, field: &str) -> CoreResult<Condition> {
        let Some(lines) = self.def.children.iter().find(|c| c.name == child) else {
            return Err(CoreError::Internal(format!(
                "{} is shared through {child}, which it does not have",
                self.def.name
            )));
        };
        let column = lines.field(field).map_or(field, |f| f.column);
        let mut sub = Query::select();
        sub.column(col(lines.parent_column))
            .from(col(lines.table))
            .and_where(
                Expr::col(col(column)).eq(db::unprobed(self.core.db.backend(), actor.user_id)),
            );
        Ok(Condition::all().add(Expr::col((self.table(), col("id"))).in_subquery(sub)))
    }

    /// The records whose `field` regards a live record that `actor` may read by its owner, of
    /// any other entity of business records ([`EntityDef::read_through`]).
    fn regarded_readable(&self, actor: &Actor, field: &str) -> CoreResult<Condition> {
        let column = self.def.field(field).map_or(field, |f| f.column);
        if let Some(FieldKind::Ref { entity, .. }) = self.def.field(field).map(|f| &f.kind) {
            return self.referenced_readable(actor, column, entity);
        }
        let entity = Expr::col((self.table(), col(&format!("{column}_entity"))));
        let id = Expr::col((self.table(), col(&format!("{column}_id"))));
        let mut any = Condition::any();
        for def in self.core.registry.all() {
            if def.access != Access::Records || def.name == self.def.name {
                continue;
            }
            let arm = match actor.grant(def.name).read {
                Scope::None => continue,
                Scope::All => Condition::all().add(entity.clone().eq(def.name)),
                _ => {
                    let regarded = self.core.records(def);
                    let mut sub = Query::select();
                    sub.column(col("id"))
                        .from(col(def.table))
                        .cond_where(regarded.scope_on(actor, Expr::col(col("owner_id")))?)
                        .and_where(Expr::col(col("deleted_at")).is_null());
                    Condition::all()
                        .add(entity.clone().eq(def.name))
                        .add(id.clone().in_subquery(sub))
                }
            };
            any = any.add(arm);
        }
        Ok(any)
    }

    /// The records whose reference `column` names a live record of `entity` that `actor` may
    /// read by its owner: a ledger row read through its account.
    fn referenced_readable(
        &self,
        actor: &Actor,
        column: &str,
        entity: &str,
    ) -> CoreResult<Condition> {
        let Some(def) = self
            .core
            .registry
            .by_name(entity)
            .filter(|d| d.access == Access::Records && d.name != self.def.name)
        else {
            return Ok(Condition::any());
        };
        let id = Expr::col((self.table(), col(column)));
        Ok(match actor.grant(def.name).read {
            Scope::None => Condition::any(),
            Scope::All => Condition::all().add(id.is_not_null()),
            _ => {
                let referenced = self.core.records(def);
                let mut sub = Query::select();
                sub.column(col("id"))
                    .from(col(def.table))
                    .cond_where(referenced.scope_on(actor, Expr::col(col("owner_id")))?)
                    .and_where(Expr::col(col("deleted_at")).is_null());
                Condition::all().add(id.in_subquery(sub))
            }
        })
    }

    /// The records `actor` may read, as a condition on `owner`, an owner column.
    pub(crate) fn scope_on(&self, actor: &Actor, owner: Expr) -> CoreResult<Condition> {
        Ok(match actor.grant(self.def.name).read {
            Scope::None => {
                return Err(CoreError::forbidden_for(
                    codes::ROLE_CANNOT_READ,
                    self.def.name,
                ));
            }
            Scope::All => Condition::all(),
            Scope::Own => Condition::all().add(owner.eq(actor.user_id)),
            Scope::Team => match actor.team_id {
                None => Condition::all().add(owner.eq(actor.user_id)),
                Some(team) => {
                    // One `IN` rather than `owner = me OR owner IN team`: SQLite answers an OR
                    // by collecting row ids and reading every row, where one `IN` over the
                    // owner indexes reads the index alone for a count.
                    let backend = self.core.db.backend();
                    let mut sub = Query::select();
                    sub.column(col("id")).from(col("users")).cond_where(
                        Condition::any()
                            .add(Expr::col(col("team_id")).eq(db::unprobed(backend, team)))
                            .add(Expr::col(col("id")).eq(db::unprobed(backend, actor.user_id))),
                    );
                    Condition::all().add(owner.in_subquery(sub))
                }
            },
        })
    }

    /// How a page should read the records of `actor`'s scope (see [`super::scope_plan`]): a
    /// count of the scope's first records through the owner index (no table rows) and, for a
    /// large scope of a few owners, how many of it are at the ends of the list order tell
    /// which, unless this reader's plan was chosen lately. PostgreSQL's planner keeps real
    /// statistics.
    async fn scope_read_for_page(&self, actor: &Actor) -> CoreResult<ScopeRead> {
        let scope = actor.grant(self.def.name).read;
        // A scope that also reaches through regarded records is not a set of owners: the plans
        // below read by owner.
        if self.core.db.backend() != Backend::Sqlite
            || matches!(scope, Scope::All | Scope::None)
            || self.def.read_through.is_some()
            || self.def.shared_with.is_some()
        {
            return Ok(ScopeRead::ByOwner);
        }
        let reader = Reader {
            entity: self.def.name,
            user: actor.user_id,
            scope,
            team: actor.team_id,
        };
        if let Some(plan) = self.core.scope_plans.recent(&reader) {
            return Ok(plan);
        }
        let mut inner = Query::select();
        inner
            .expr(Expr::val(1))
            .from(self.table())
            .cond_where(self.scope_condition(actor)?)
            .limit(IN_ORDER_FROM);
        let mut sel = Query::select();
        sel.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(inner, Alias::new("scope"));
        let counted = count_of(db::fetch_one(self.core.db.reader(), &sel).await?)?;
        let thinnest_end = match self.scope_owners(actor, MERGE_OWNERS_AT_MOST).await? {
            Some(owners) if counted >= IN_ORDER_FROM && owners.len() <= MERGE_OWNERS_AT_MOST => {
                let mut fewest = u64::MAX;
                for newest in [true, false] {
                    let scope = self.scope_on(actor, Expr::col(col("owner_id")))?;
                    let sel = scope_plan::in_scope_at_end(self.table(), scope, newest);
                    let n = count_of(db::fetch_one(self.core.db.reader(), &sel).await?)?;
                    fewest = fewest.min(n);
                }
                Some(fewest)
            }
            _ => None,
        };
        let plan = scope_plan::plan_for(counted, thinnest_end);
        tracing::debug!(
            entity = self.def.name,
            user = %actor.user_id,
            counted,
            ?thinnest_end,
            ?plan,
            "list plan chosen"
        );
        Ok(self.core.scope_plans.keep(reader, plan))
    }

    /// Whether `actor` may read every record of `owners` by its owner alone, so that a list
    /// confined to them needs no condition of the reader's scope: a rep's own tasks, or the
    /// team's calendar for one who reads the team's records. The scope's condition asks, row
    /// by row, whether the reader may read the record or what it regards (five subqueries for
    /// an activity), and made such a statement several times dearer to prepare, which SQLite
    /// does again whenever its values are bound. A role that may read none of this entity
    /// still gets its refusal from the scope.
    async fn owners_readable(&self, actor: &Actor, owners: Option<&[Uuid]>) -> CoreResult<bool> {
        let Some(owners) = owners else {
            return Ok(false);
        };
        Ok(match (actor.grant(self.def.name).read, actor.team_id) {
            (Scope::None, _) => false,
            (Scope::All, _) => true,
            (Scope::Own, _) | (Scope::Team, None) => owners.iter().all(|o| *o == actor.user_id),
            (Scope::Team, Some(team)) => {
                let people = crate::identity::users::list(&self.core.db).await?;
                owners.iter().all(|o| {
                    *o == actor.user_id
                        || people.iter().any(|u| u.id == *o && u.team_id == Some(team))
                })
            }
        })
    }

    /// The owners whose records `actor`'s scope holds, up to one more than `at_most` (so that
    /// more than that is told from that many): the actor, or the actor and the team. `None`
    /// for a scope of every owner's records (or none). Taken from the company's people as
    /// [`users::list`](crate::identity::users::list) keeps them, which their stamp keeps
    /// current (a newcomer or a move between teams shows at once): a page that names people
    /// has read the stamp already, so the team costs it no statement of its own.
    pub(super) async fn scope_owners(
        &self,
        actor: &Actor,
        at_most: usize,
    ) -> CoreResult<Option<Vec<Uuid>>> {
        let team = match (actor.grant(self.def.name).read, actor.team_id) {
            (Scope::Own, _) | (Scope::Team, None) => return Ok(Some(vec![actor.user_id])),
            (Scope::Team, Some(team)) => team,
            (Scope::All | Scope::None, _) => return Ok(None),
        };
        let people = crate::identity::users::list(&self.core.db).await?;
        Ok(Some(
            people
                .iter()
                .filter(|u| u.team_id == Some(team) || u.id == actor.user_id)
                .map(|u| u.id)
                .take(at_most + 1)
                .collect(),
        ))
    }

    /// Whether a page reads owner by owner and merges (see [`super::scope_plan`]): under the
    /// [`ScopeRead::OwnerByOwner`] plan, for a page of business records by creation with no
    /// filter, out of the recycle bin (every such entity has the index on (owner, creation, id)
    /// the merge reads; a test holds them to it).
    fn merges(&self, q: &ListQuery, sort: &SortSpec, read: ScopeRead) -> bool {
        read == ScopeRead::OwnerByOwner
            && self.def.access == Access::Records
            && sort.field == "created_at"
            && !q.deleted
            && q.filter.as_ref().is_none_or(Filter::is_everything)
    }

    /// The text conditions of `filter` that pieces could narrow, with how many documents hold
    /// their pieces (up to [`COUNT_NARROW_BELOW`]; `None` where the database decides).
    /// The recycle bin is read without them: deleting a record removes its search entry.
    async fn probe_pieces(&self, q: &ListQuery) -> CoreResult<Vec<Probed>> {
        let Some(filter) = q.filter.as_ref().filter(|_| !q.deleted) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for ((field, typed), tokens) in Narrowing::candidates(self.def, filter) {
            let holding =
                crate::search::count_holding(&self.core.db, &tokens, COUNT_NARROW_BELOW).await?;
            out.push(Probed {
                field,
                typed,
                tokens,
                holding,
            });
        }
        Ok(out)
    }

    /// The conditions shared by a list and its count.
    async fn list_conditions(
        &self,
        actor: &Actor,
        q: &ListQuery,
        defs: &[CustomFieldDef],
        narrow: &Narrowing,
        scope: ScopeRead,
        order: Option<&str>,
    ) -> CoreResult<Condition> {
        let ctx = FilterContext {
            entity: self.def,
            custom: defs,
            backend: self.core.db.backend(),
            actor,
            settings: &self.core.settings,
            narrow,
            order,
        };
        let owners = q.filter.as_ref().and_then(|f| ctx.owners_named(f));
        let mut cond = if self.owners_readable(actor, owners.as_deref()).await? {
            Condition::all()
        } else {
            Condition::all().add(self.scope_read(actor, scope)?)
        };
        if let Some(f) = &q.filter {
            cond = cond.add(ctx.compile(f)?);
        }
        let deleted = Expr::col((self.table(), col("deleted_at")));
        Ok(cond.add(if q.deleted {
            deleted.is_not_null()
        } else {
            deleted.is_null()
        }))
    }

    /// Where a page after a cursor continues: one or two runs of rows, in list order, each a
    /// condition that an index on (sort column, id) answers with a seek. The common case is one
    /// row-value comparison, `(sort, id) > (v, last id)`, which both databases answer with an
    /// index seek; the equivalent OR of two conditions makes SQLite scan. Blanks (NULLs) compare
    /// as unknown, so they get runs of their own rather than an OR, which would turn the seek
    /// into a scan from the start of the order:
    ///
    /// - ascending, blanks first: after a value, the greater (value, id), blanks excluded; after
    ///   a blank, the blanks with a greater id, then every value;
    /// - descending, blanks last: after a value, the smaller (value, id), then every blank;
    ///   after a blank, the blanks with a smaller id.
    fn after(&self, sort: &SortSpec, cur: &Cursor) -> CoreResult<Vec<SimpleExpr>> {
        let v = sort.by.bind(&cur.v).map_err(|why| {
            CoreError::bad_request(
                "invalid_cursor",
                format!("the cursor is malformed ({why}); start again from the first page"),
            )
        })?;
        let key = Expr::col((self.table(), col(&sort.by.column)));
        let id = Expr::col((self.table(), col("id")));
        Ok(match v {
            Some(v) => {
                let pair = Expr::tuple([key.clone().into(), id.into()]);
                let last = Expr::tuple([SimpleExpr::Value(v), SimpleExpr::Value(cur.id.into())]);
                if !sort.desc {
                    vec![pair.gt(last)]
                } else if sort.by.nullable {
                    vec![pair.lt(last), key.is_null()]
                } else {
                    vec![pair.lt(last)]
                }
            }
            None if sort.desc => vec![key.is_null().and(id.lt(cur.id))],
            None => vec![key.clone().is_null().and(id.gt(cur.id)), key.is_not_null()],
        })
    }

    /// The row a list reads: the whole row, or only `fields` (and what its sort reads, which
    /// its cursor is made of) beside the id, owner and version, which every row holds. A name
    /// that is no field of the entity is refused.
    fn layout_of(&self, fields: Option<&[String]>, sort: &SortSpec) -> CoreResult<Arc<RowLayout>> {
        let Some(fields) = fields else {
            return Ok(Arc::clone(&self.layout));
        };
        let mut wanted: Vec<&str> = Vec::with_capacity(fields.len() + 1);
        for f in fields {
            let system = super::def::SYSTEM_FIELDS.contains(&f.as_str());
            if f != "custom" && !system && self.def.field(f).is_none() {
                return Err(CoreError::bad_request(
                    codes::UNKNOWN_FIELD,
                    format!("'{f}' is no field of {}", self.def.plural),
                ));
            }
            wanted.push(f);
        }
        wanted.push(&sort.field);
        Ok(Arc::new(RowLayout::of_fields(self.def, &wanted)))
    }

    /// A page of records the actor may read, as records.
    pub async fn list(&self, actor: &Actor, q: &ListQuery) -> CoreResult<Page> {
        let page = self.list_rows(actor, q).await?;
        let items = page
            .rows
            .iter()
            .map(|r| page.layout.record(r))
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(Page {
            items: self.present(items, &page.defs),
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    /// A page of records the actor may read, still in their rows: what [`Self::list`] decodes,
    /// and what the API writes straight into JSON.
    pub async fn list_rows(&self, actor: &Actor, q: &ListQuery) -> CoreResult<RowPage> {
        let limit = q.limit.clamp(1, MAX_LIMIT);
        let sort = self.sort_spec(q.sort.as_deref(), q.deleted)?;
        let layout = self.layout_of(q.fields.as_deref(), &sort)?;
        let defs = self.custom_defs().await?;
        let page_scope = self.scope_read_for_page(actor).await?;
        let cursor = match &q.cursor {
            None => None,
            Some(c) => Some(Cursor::decode(c, &sort.key)?),
        };
        // A numbered page reads the rows before it and drops them: bounded by the count's cap,
        // past which a list has no page numbers.
        let skip = cursor.as_ref().and_then(|c| c.o).unwrap_or(0);
        if skip > COUNT_CAP {
            return Err(CoreError::bad_request(
                "invalid_cursor",
                format!("a page can start at most {COUNT_CAP} rows in; follow next_cursor"),
            ));
        }
        let cursor = cursor.filter(|c| c.o.is_none());
        let runs = match &cursor {
            None => vec![None],
            Some(c) => self.after(&sort, c)?.into_iter().map(Some).collect(),
        };
        // One more row than the page shows tells whether there is a next page.
        let wanted = skip + limit + 1;
        let page = PageRead {
            actor,
            q,
            defs: &defs,
            sort: &sort,
            runs: &runs,
            wanted,
            scope: page_scope,
            merged: self.merges(q, &sort, page_scope),
            layout: &layout,
        };
        let mut probed = None;
        let rows = match self.in_creation_order(&page, cursor.as_ref()).await? {
            Some(rows) => rows,
            None => {
                let p = self.probe_pieces(q).await?;
                let cond = self
                    .list_conditions(
                        actor,
                        q,
                        &defs,
                        &narrowing(&p, PAGE_NARROW_BELOW),
                        page_scope,
                        Some(&sort.field),
                    )
                    .await?;
                probed = Some(p);
                self.fetch_page(&page, cond).await?
            }
        };
        let mut rows = rows;
        rows.drain(..(skip as usize).min(rows.len()));
        let next_cursor = match rows.get(limit as usize - 1) {
            Some(last) if rows.len() as u64 > limit => Some(
                Cursor {
                    s: sort.key.clone(),
                    v: sort.by.read(last)?,
                    id: get_uuid(last, "id")?,
                    o: None,
                }
                .encode(),
            ),
            _ => None,
        };
        // A count reads every match (up to the cap), not a page of them, so it narrows by
        // pieces that many more records hold, and reads a scope through the owner index.
        let probed = match (probed, q.count) {
            (Some(p), _) => p,
            (None, Count::No) => Vec::new(),
            (None, _) => self.probe_pieces(q).await?,
        };
        let count_cond = || async {
            self.list_conditions(
                actor,
                q,
                &defs,
                &narrowing(&probed, COUNT_NARROW_BELOW),
                count_read(q),
                None,
            )
            .await
        };
        let total = match q.count {
            Count::No => None,
            Count::Capped => Some(self.count_capped(count_cond().await?).await?),
            Count::Exact => Some(Total {
                count: self.count_where(count_cond().await?).await?,
                more: false,
            }),
        };
        rows.truncate(limit as usize);
        Ok(RowPage {
            rows,
            layout,
            defs,
            next_cursor,
            total,
        })
    }

    /// The rows of a page (and the one after it) that meet `cond`, in list order, run by run.
    async fn fetch_page(
        &self,
        page: &PageRead<'_>,
        cond: Condition,
    ) -> CoreResult<Vec<QueryResult>> {
        let sort = page.sort;
        let key = (self.table(), col(&sort.by.column));
        let id = (self.table(), col("id"));
        let order = if sort.desc { Order::Desc } else { Order::Asc };
        let mut rows = Vec::new();
        for run in page.runs {
            let mut sel = self.select_of(page.layout, false);
            sel.cond_where(cond.clone());
            if let Some(run) = run {
                sel.and_where(run.clone());
            }
            if page.merged {
                let want = page.wanted - rows.len() as u64;
                rows.extend(
                    self.merged_page(page.actor, sel, run, sort.desc, want)
                        .await?,
                );
                if rows.len() as u64 >= page.wanted {
                    break;
                }
                continue;
            }
            if sort.by.nullable {
                // Blanks first ascending and last descending, on both backends: unless told,
                // SQLite puts NULLs first and PostgreSQL last. It is where '' puts blank text,
                // and the order an index on (column, id) gives read forwards and backwards
                // (on PostgreSQL when it is declared NULLS FIRST, as the sort indexes are).
                let nulls = if sort.desc {
                    NullOrdering::Last
                } else {
                    NullOrdering::First
                };
                sel.order_by_with_nulls(key.clone(), order.clone(), nulls);
            } else {
                sel.order_by(key.clone(), order.clone());
            }
            sel.order_by(id.clone(), order.clone())
                .limit(page.wanted - rows.len() as u64);
            rows.extend(db::fetch_all(self.core.db.reader(), &sel).await?);
            if rows.len() as u64 >= page.wanted {
                break;
            }
        }
        Ok(rows)
    }

    /// Up to `want` rows of `sel` (a page's select after `run`, without order and limit), in
    /// creation order, read owner by owner and merged; for a scope that has grown past
    /// [`MERGE_OWNERS_AT_MOST`] owners since its plan was chosen, in list order as other pages
    /// are. The owners are asked now: a list kept with the plan would miss a newcomer's records.
    async fn merged_page(
        &self,
        actor: &Actor,
        sel: SelectStatement,
        run: &Option<SimpleExpr>,
        desc: bool,
        want: u64,
    ) -> CoreResult<Vec<QueryResult>> {
        let order = if desc { Order::Desc } else { Order::Asc };
        let mut sel = sel;
        if let Some(owners) = self.scope_owners(actor, MERGE_OWNERS_AT_MOST).await?
            && owners.len() <= MERGE_OWNERS_AT_MOST
        {
            let keys = scope_plan::merged_keys(self.table(), run.clone(), &owners, desc, want);
            // The page's own conditions (scope and deletion) still hold: the keys only say
            // where to look.
            sel.and_where(Expr::col((self.table(), col("rowid"))).in_subquery(keys));
        }
        sel.order_by((self.table(), col("created_at")), order.clone())
            .order_by((self.table(), col("id")), order)
            .limit(want);
        db::fetch_all(self.core.db.reader(), &sel).await
    }

    /// A page in creation order narrowed by a text's pieces, read from the first records
    /// holding them in that order (SQLite, `search::order`) rather than from all of them: the
    /// first `1.25 × page + 2` keys, then eight times as many while the page is not settled, up to
    /// [`ORDERED_KEYS_AT_MOST`]. `None` where this does not apply or did not settle; the caller
    /// then reads as before.
    ///
    /// A page is settled when the keys ran out, or when it is full and its last row (the one
    /// that tells whether a next page exists) was created at least two milliseconds after the
    /// last key read: every record not read was created in that key's millisecond or before
    /// (one millisecond spare for rounding), so it sorts after the whole page.
    async fn in_creation_order(
        &self,
        page: &PageRead<'_>,
        cursor: Option<&Cursor>,
    ) -> CoreResult<Option<Vec<QueryResult>>> {
        let (q, sort) = (page.q, page.sort);
        if self.core.db.backend() != Backend::Sqlite || q.deleted || sort.field != "created_at" {
            return Ok(None);
        }
        let Some(filter) = &q.filter else {
            return Ok(None);
        };
        let Some(((field, typed), tokens)) =
            Narrowing::required(self.def, filter).into_iter().next()
        else {
            return Ok(None);
        };
        let slot = 1i64 << search::order::SLOT_BITS;
        let at_cursor = cursor
            .and_then(|c| c.v.as_str())
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.timestamp_millis());
        let range = match (at_cursor, sort.desc) {
            (None, _) => (None, None),
            (Some(ms), true) => (None, Some(ms.saturating_add(2).saturating_mul(slot))),
            (Some(ms), false) => (Some(ms.saturating_sub(1).saturating_mul(slot)), None),
        };
        let owner = self.scope_on(page.actor, Expr::col(col("owner_id")))?;
        // A quarter more keys than rows wanted, for what the page's `LIKE` turns down among the
        // holders of several pieces, and two, the spare that lets the last row settle. A text
        // that is its own one piece (a two-character name) needs no quarter: its holders hold
        // it. Each key is a record read, and for a sales rep an owner checked among many more
        // holders, so a wider first reading costs every page what only a few need.
        let spare = if search::grams::is_one_piece(&typed) {
            0
        } else {
            page.wanted / 4
        };
        let mut take = page.wanted + spare + 2;
        // FTS5 intersects several pieces backwards only after loading each one's whole posting
        // list from every segment of the index, and cannot skip ahead in the long ones as it
        // does forwards: for a rare name's page that cost more than the page itself (2.3 ms
        // against 0.5 ms forwards for a name three contacts hold among three million). The
        // holders of several pieces are usually few, so a newest-first page first reads them
        // forwards: fewer keys than it asked for are all the holders in range, in whatever
        // order they were read; as many, and it reads again newest first. One piece reads as
        // fast either way.
        let mut forwards = sort.desc && tokens.len() > 1;
        while take <= ORDERED_KEYS_AT_MOST {
            let sel = search::order::keys_query(
                self.def.name,
                &tokens,
                owner.clone(),
                range,
                sort.desc && !forwards,
                take,
                UNORDERED_KEYS_AT_MOST + 1,
            );
            let (mut ordered, mut unordered) = (0u64, 0u64);
            let mut last_ms = None;
            let mut ids = Vec::new();
            for r in db::fetch_all(self.core.db.reader(), &sel).await? {
                let k = get_i64(&r, "k")?;
                match search::order::millisecond(k) {
                    Some(ms) => {
                        ordered += 1;
                        // The last key read: the oldest newest-first, the newest oldest-first.
                        last_ms = Some(match last_ms {
                            None => ms,
                            Some(l) if sort.desc => ms.min(l),
                            Some(l) => ms.max(l),
                        });
                    }
                    None => unordered += 1,
                }
                ids.push(get_uuid(&r, "record_id")?);
            }
            if unordered > UNORDERED_KEYS_AT_MOST {
                return Ok(None);
            }
            let ran_out = ordered < take;
            if forwards {
                forwards = false;
                if !ran_out {
                    continue;
                }
            }
            let mut narrow = Narrowing::default();
            narrow.add_records(field.clone(), typed.clone(), ids);
            let cond = self
                .list_conditions(
                    page.actor,
                    q,
                    page.defs,
                    &narrow,
                    page.scope,
                    Some(&sort.field),
                )
                .await?;
            // The candidates are a few ids: read as one, not owner by owner.
            let whole = PageRead {
                merged: false,
                ..*page
            };
            let rows = self.fetch_page(&whole, cond).await?;
            let settled = ran_out
                || match (rows.get(page.wanted as usize - 1), last_ms) {
                    (Some(last), Some(key_ms)) => {
                        let ms = get_ts(last, "created_at")?.timestamp_millis();
                        if sort.desc {
                            ms > key_ms.saturating_add(1)
                        } else {
                            ms < key_ms.saturating_sub(1)
                        }
                    }
                    _ => false,
                };
            if settled {
                return Ok(Some(rows));
            }
            take *= 8;
        }
        Ok(None)
    }

    pub async fn count(&self, actor: &Actor, q: &ListQuery) -> CoreResult<u64> {
        let cond = self.matching(actor, q).await?;
        self.count_where(cond).await
    }

    /// The records `actor` may read that `q` matches, as a condition read the way a count reads
    /// them (every match, not a page): what counts and aggregations compute over.
    pub(crate) async fn matching(&self, actor: &Actor, q: &ListQuery) -> CoreResult<Condition> {
        let defs = self.custom_defs().await?;
        let probed = self.probe_pieces(q).await?;
        self.list_conditions(
            actor,
            q,
            &defs,
            &narrowing(&probed, COUNT_NARROW_BELOW),
            count_read(q),
            None,
        )
        .await
    }

    /// Titles, in the actor's language, of those of `ids` that are live records the actor may
    /// read: the same scope as [`Self::list`] and [`Self::get`], so a reference never names a
    /// record that could not be opened. Called only through [`crate::refs::titles`], which every
    /// caller showing a reference goes through.
    pub(crate) async fn titles(
        &self,
        actor: &Actor,
        ids: &[Uuid],
    ) -> CoreResult<std::collections::HashMap<Uuid, String>> {
        let mut out = std::collections::HashMap::new();
        // A role that may read none of this entity sees every reference to it as unreadable,
        // which is not an error for the page that holds the reference.
        if ids.is_empty() || actor.grant(self.def.name).read == Scope::None {
            return Ok(out);
        }
        // Only what the title reads: a page names hundreds of references, and a whole record
        // each (forty-odd fields of an account) was most of what naming them cost.
        let layout = RowLayout::naming(self.def);
        let mut sel = self.select_of(&layout, false);
        sel.cond_where(
            Condition::all()
                .add(self.scope_condition(actor)?)
                .add(db::id_in(
                    self.core.db.backend(),
                    Expr::col((self.table(), col("id"))).into(),
                    ids,
                ))
                .add(Expr::col((self.table(), col("deleted_at"))).is_null()),
        );
        for row in db::fetch_all(self.core.db.reader(), &sel).await? {
            let rec = layout.record(&row)?;
            out.insert(
                get_at(&row, layout::ID_AT, "id")?,
                (self.def.title)(&rec, &actor.locale),
            );
        }
        Ok(out)
    }

    /// Those of `ids` that are live records, as `conn` sees them, without their lines or the
    /// reader's scope: for the duplicate check, which decides what the reader sees of each.
    pub(crate) async fn live_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        ids: &[Uuid],
    ) -> CoreResult<Vec<Record>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut sel = self.base_select(false);
        sel.and_where(Expr::col((self.table(), col("id"))).is_in(ids.iter().copied()))
            .and_where(Expr::col((self.table(), col("deleted_at"))).is_null());
        db::fetch_all(conn, &sel)
            .await?
            .iter()
            .map(|row| self.layout.record(row))
            .collect()
    }

    /// Whether the table holds any record at all, live or in the recycle bin: setup lists are
    /// filled with their defaults only where nobody has ever kept one.
    pub async fn never_used(&self) -> CoreResult<bool> {
        let mut q = Query::select();
        q.expr(Expr::val(1)).from(self.table()).limit(1);
        Ok(db::fetch_one(self.core.db.reader(), &q).await?.is_none())
    }

    /// Counts up to one past the cap: the database stops reading there.
    async fn count_capped(&self, cond: Condition) -> CoreResult<Total> {
        let mut inner = Query::select();
        inner
            .expr(Expr::val(1))
            .from(self.table())
            .cond_where(cond)
            .limit(COUNT_CAP + 1);
        let mut sel = Query::select();
        sel.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(inner, Alias::new("capped"));
        let n = count_of(db::fetch_one(self.core.db.reader(), &sel).await?)?;
        Ok(Total {
            count: n.min(COUNT_CAP),
            more: n > COUNT_CAP,
        })
    }

    async fn count_where(&self, cond: Condition) -> CoreResult<u64> {
        let mut sel = Query::select();
        sel.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from(self.table())
            .cond_where(cond);
        count_of(db::fetch_one(self.core.db.reader(), &sel).await?)
    }
}

/// The count `n` of a `COUNT(*)` row; none is zero.
fn count_of(row: Option<QueryResult>) -> CoreResult<u64> {
    Ok(row
        .map(|r| get_i64(&r, "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

/// A page in creation order reads at most this many keys of a text's holders in that order
/// before it reads as other orders do (see `in_creation_order`).
const ORDERED_KEYS_AT_MOST: u64 = 20_000;
/// …and at most this many holders in no order (normally none): the ids of both go to one
/// statement, which SQLite allows 32,766 parameters.
const UNORDERED_KEYS_AT_MOST: u64 = 10_000;

/// What one list page reads: the request, its sort, where it continues, and how many rows.
#[derive(Clone, Copy)]
struct PageRead<'a> {
    actor: &'a Actor,
    q: &'a ListQuery,
    defs: &'a [CustomFieldDef],
    sort: &'a SortSpec,
    runs: &'a [Option<SimpleExpr>],
    wanted: u64,
    scope: ScopeRead,
    /// Whether the page reads owner by owner and merges ([`RecordService::merges`]).
    merged: bool,
    /// The columns it reads: the whole row, or the fields the query asks for.
    layout: &'a RowLayout,
}

/// A page reads the records holding a text's pieces first when fewer than this many do; when
/// more do, the text is common, and reading in list order finds a page of it sooner.
const PAGE_NARROW_BELOW: u64 = 10_000;
/// A count reads every match, so it narrows by pieces that up to this many records hold: each
/// costs a lookup, where reading in list order costs every row up to the cap's last match.
const COUNT_NARROW_BELOW: u64 = 200_000;

/// How a count reads the scope: a whole list of live records through the owner index alone. A
/// filter has its own index to read, which a term over every owner could make the planner pass
/// over, and the recycle bin is not in the live records' index.
fn count_read(q: &ListQuery) -> ScopeRead {
    if q.filter.as_ref().is_none_or(Filter::is_everything) && !q.deleted {
        ScopeRead::OwnerIndex
    } else {
        ScopeRead::ByOwner
    }
}

/// A text condition that pieces could narrow, and how many documents hold its pieces.
struct Probed {
    field: String,
    typed: String,
    tokens: Vec<String>,
    /// Counted up to [`COUNT_NARROW_BELOW`]; `None` where the database chooses by itself.
    holding: Option<u64>,
}

/// The conditions of `probed` whose pieces fewer than `below` documents hold.
fn narrowing(probed: &[Probed], below: u64) -> Narrowing {
    let mut n = Narrowing::default();
    for p in probed {
        if p.holding.is_none_or(|h| h < below) {
            n.add(p.field.clone(), p.typed.clone(), p.tokens.clone());
        }
    }
    n
}
