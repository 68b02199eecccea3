//! The unit of work: one transaction, one actor, and the engine's writes inside it. Every
//! public write (`create`, `update`, `act`, …) runs in one; an entity's behaviour receives it to
//! read other records and to make its side effects, which are authorized, validated, audited and
//! indexed exactly like the writes people make, and commit or vanish with the write that caused
//! them.

use crate::db::WriteTxn;
use chrono::{DateTime, Utc};
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

    /// Work in a transaction of its own on SQLite ([`crate::db::Db::begin_alone`]): a batch.
    pub(crate) async fn begin_alone(core: &'a Core, actor: &'a Actor) -> CoreResult<Work<'a>> {
        Ok(Work {
            core,
            actor,
            txn: core.db.begin_alone().await?,
            depth: 0,
            at: None,
            blocking: Vec::new(),
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
