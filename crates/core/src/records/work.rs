//! The unit of work: one transaction, one actor, and the engine's writes inside it. Every
//! public write (`create`, `update`, `act`, …) runs in one; an entity's behaviour receives it to
//! read other records and to make its side effects, which are authorized, validated, audited and
//! indexed exactly like the writes people make, and commit or vanish with the write that caused
//! them.

use std::collections::HashMap;

use crate::db::{self, Committing, WriteTxn, col, get_opt_ts, get_opt_uuid, get_uuid};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use serde_json::Value;
use uuid::Uuid;

use super::def::EntityDef;
use super::filter::Filter;
use super::service::Record;
use crate::authz::Actor;
use crate::dedupe::{Action, Rule};
use crate::error::{CoreError, CoreResult};
use crate::settings::Settings;
use crate::{Core, Registry};

/// How many records [`Work::read_referenced`] reads in one statement.
const READ_REFERENCED_AT_ONCE: usize = 500;

/// How deep side effects may cause further side effects: far beyond any real rule, and short of
/// a loop between two entities' hooks running forever.
const MAX_DEPTH: u8 = 8;

pub struct Work<'a> {
    core: &'a Core,
    actor: &'a Actor,
    txn: WriteTxn,
    depth: u8,
    /// The instant the work is recorded at, where it is not now (see [`Work::now`]).
    at: Option<DateTime<Utc>>,
    /// The duplicate-check rules that block, by entity, as read once in this transaction.
    blocking: Vec<(&'static str, Vec<Rule>)>,
    /// Records that references were checked against, by table and id (see [`Referenced`]).
    referenced: HashMap<(&'static str, Uuid), Referenced>,
}

/// What checking a reference to a stored record reads of it: who owns it and whether it is in
/// the recycle bin. Kept for the rest of the transaction, so that a batch whose records refer to
/// the same few records (an import's contacts at their companies) reads them once, together,
/// not once a record: that read was a round trip a row, and it waited for the row written
/// before it.
///
/// Kept facts stay true while only creates run: the work's own updates and deletes forget
/// them all ([`Work::forget_referenced`]), and on SQLite no one else writes during the
/// transaction. On PostgreSQL another transaction may change the record meanwhile, as it may
/// between a single check and the insert after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Referenced {
    pub owner: Uuid,
    pub team: Option<Uuid>,
    pub deleted: bool,
}

impl<'a> Work<'a> {
    /// Work recorded at `at` (`None`: as it happens).
    pub(crate) async fn begin(
        core: &'a Core,
        actor: &'a Actor,
        at: Option<DateTime<Utc>>,
    ) -> CoreResult<Work<'a>> {
        Ok(Work {
            core,
            actor,
            txn: core.db.begin().await?,
            depth: 0,
            at,
            blocking: Vec::new(),
            referenced: HashMap::new(),
        })
    }

    /// The duplicate-check rules of `def` that block a save (an administrator's choice, or the
    /// rule's default), read once per transaction: a batch of saves asks for every record.
    pub(crate) async fn blocking_rules(&mut self, def: &EntityDef) -> CoreResult<Vec<Rule>> {
        if let Some((_, rules)) = self.blocking.iter().find(|(e, _)| *e == def.name) {
            return Ok(rules.clone());
        }
        let rules: Vec<Rule> = crate::dedupe::rules::actions_in(&self.txn, def)
            .await?
            .into_iter()
            .filter(|(_, a)| *a == Action::Block)
            .map(|(r, _)| r)
            .collect();
        self.blocking.push((def.name, rules.clone()));
        Ok(rules)
    }

    /// What a reference check read of record `id` of `table` earlier in this transaction.
    pub(crate) fn referenced(&self, table: &'static str, id: Uuid) -> Option<Referenced> {
        self.referenced.get(&(table, id)).copied()
    }

    /// Reads what reference checks need of records `ids` of `table` and keeps it for the
    /// transaction (a record that does not exist is not kept: the work may create it). A batch
    /// asks for the records its next rows name at once; a single check asks for one.
    pub(crate) async fn read_referenced(
        &mut self,
        table: &'static str,
        ids: &[Uuid],
    ) -> CoreResult<()> {
        let wanted: Vec<Uuid> = ids
            .iter()
            .filter(|id| !self.referenced.contains_key(&(table, **id)))
            .copied()
            .collect();
        for chunk in wanted.chunks(READ_REFERENCED_AT_ONCE) {
            let mut q = Query::select();
            q.columns(["id", "owner_id", "deleted_at"].map(col))
                .expr_as(
                    Expr::cust(format!(
                        "(SELECT team_id FROM users WHERE users.id = {table}.owner_id)"
                    )),
                    Alias::new("owner_team"),
                )
                .from(col(table))
                .and_where(Expr::col(col("id")).is_in(chunk.iter().copied()));
            for row in db::fetch_all(&self.txn, &q).await? {
                let facts = Referenced {
                    owner: get_uuid(&row, "owner_id")?,
                    team: get_opt_uuid(&row, "owner_team")?,
                    deleted: get_opt_ts(&row, "deleted_at")?.is_some(),
                };
                self.referenced
                    .insert((table, get_uuid(&row, "id")?), facts);
            }
        }
        Ok(())
    }

    /// Forgets what reference checks read: the work changed or removed a stored record.
    pub(crate) fn forget_referenced(&mut self) {
        self.referenced.clear();
    }

    /// Work in a transaction of its own on SQLite ([`crate::db::Db::begin_alone`]): a batch.
    pub(crate) async fn begin_alone(core: &'a Core, actor: &'a Actor) -> CoreResult<Work<'a>> {
        Ok(Work {
            core,
            actor,
            txn: core.db.begin_alone().await?,
            depth: 0,
            at: None,
            blocking: Vec::new(),
            referenced: HashMap::new(),
        })
    }

    /// When the work happens, as its records and history say: now, or the instant history
    /// being loaded happened at (`RecordService::as_of`).
    pub fn now(&self) -> DateTime<Utc> {
        self.at.unwrap_or_else(crate::now)
    }

    pub(crate) async fn commit(self) -> CoreResult<()> {
        self.txn.commit().await?;
        Ok(())
    }

    /// Starts the commit; the caller goes on while it runs (see
    /// [`WriteTxn::commit_in_background`]).
    pub(crate) fn commit_in_background(self) -> Committing {
        self.txn.commit_in_background()
    }

    /// Undoes everything the work wrote (a dry run's batch).
    pub(crate) async fn rollback(self) -> CoreResult<()> {
        self.txn.rollback().await
    }

    /// The transaction, for the engine's own statements; hooks have no way to it.
    pub(crate) fn conn(&self) -> &WriteTxn {
        &self.txn
    }

    /// Who the work is done for: side effects act with their rights.
    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    pub fn settings(&self) -> &'a Settings {
        &self.core.settings
    }

    pub fn registry(&self) -> &'static Registry {
        self.core.registry
    }

    fn nest(&mut self) -> CoreResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(CoreError::Internal(
                "side effects nest too deep (a rule that triggers itself?)".into(),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// A record the actor may read, as this transaction sees it (with what was written so far).
    pub async fn get(&self, def: &'static EntityDef, id: Uuid) -> CoreResult<Record> {
        self.core.records(def).get_in(self, id).await
    }

    /// Creates a record as the actor would through the API.
    pub async fn create(&mut self, def: &'static EntityDef, input: &Value) -> CoreResult<Record> {
        self.nest()?;
        let out = self.core.records(def).create_in(self, input).await;
        self.depth -= 1;
        out
    }

    /// Changes fields of a record as a `PATCH` by the actor would, state machine included.
    pub async fn modify(
        &mut self,
        def: &'static EntityDef,
        id: Uuid,
        input: &Value,
    ) -> CoreResult<Record> {
        self.nest()?;
        let out = self
            .core
            .records(def)
            .update_in(self, id, None, input)
            .await;
        self.depth -= 1;
        out
    }

    /// Carries out a declared action on a record.
    pub async fn act(
        &mut self,
        def: &'static EntityDef,
        id: Uuid,
        action: &str,
        input: &Value,
    ) -> CoreResult<Record> {
        self.nest()?;
        let out = self
            .core
            .records(def)
            .act_in(self, id, action, None, input, &serde_json::Map::new())
            .await;
        self.depth -= 1;
        out
    }

    /// Makes the reminders that a field of record `id` keeps be those `kept` says, replacing
    /// those it kept before: an activity's "remind me 15 minutes before", kept as its time,
    /// people or reminder change.
    pub async fn keep_reminders(
        &self,
        def: &'static EntityDef,
        id: Uuid,
        kept: crate::reminders::Kept<'_>,
    ) -> CoreResult<()> {
        crate::reminders::keep(self.core, &self.txn, def, id, kept).await
    }

    /// How many live records match, whoever owns them: for rules that keep data whole (a stage
    /// still in use), which must see what the actor cannot.
    pub async fn count_all(&self, def: &'static EntityDef, filter: &Filter) -> CoreResult<u64> {
        self.core.records(def).count_all_in(self, filter).await
    }
}
