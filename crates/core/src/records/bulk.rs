//! The engine's batch path: many creates and updates validated and written in one transaction,
//! each exactly as the API's `create` and `update` write it (the same rules, references,
//! duplicate check, row image, contact points, search document, matching keys and audit row;
//! there is no second writer), each in a savepoint of its own so that one refused or failed
//! write leaves the others of the batch standing.
//!
//! A bulk load (an import) pays one commit for hundreds of records instead of one each. The
//! caller keeps each batch short: on SQLite the batch holds the one writer until it commits,
//! and every other write waits for it (see `db::group_commit`).

use serde_json::Value;
use uuid::Uuid;

use super::def::EntityDef;
use super::filter::Filter;
use super::service::Record;
use super::work::Work;
use crate::Core;
use crate::authz::Actor;
use crate::db::{Committing, WriteTxn};
use crate::error::CoreResult;
use sea_orm::ConnectionTrait;

/// The savepoint each write of a batch runs in.
const ONE: &str = "bulk_one";

/// One transaction of writes, as `actor`.
pub struct BulkWrite<'a> {
    core: &'a Core,
    work: Work<'a>,
}

impl<'a> BulkWrite<'a> {
    /// Opens the transaction (on SQLite: waits for the writer).
    pub async fn begin(core: &'a Core, actor: &'a Actor) -> CoreResult<BulkWrite<'a>> {
        Ok(BulkWrite {
            core,
            work: Work::begin_alone(core, actor).await?,
        })
    }

    pub fn actor(&self) -> &'a Actor {
        self.work.actor()
    }

    /// The transaction, for reads that must see the batch's own writes (matching keys) and for
    /// the caller's own bookkeeping rows, which commit or vanish with the records.
    pub fn conn(&self) -> &WriteTxn {
        self.work.conn()
    }

    /// Lets each record's rows be sent ahead: the caller goes on with the next record while the
    /// database writes them (see [`WriteTxn::send_writes_ahead`]). A write that fails is then
    /// reported by a later call or by [`Self::settle_ahead`], so a caller that allows this
    /// takes the whole batch back on any failure.
    pub fn send_writes_ahead(&self, on: bool) {
        self.conn().send_writes_ahead(on);
    }

    /// Holds back at most one record's rows when `few` (others wait for the writer), or
    /// several (see [`WriteTxn::hold_few`]).
    pub fn hold_few(&self, few: bool) {
        self.conn().hold_few(few);
    }

    /// Reads at once what checking references to records `ids` of `def` needs, for the rest of
    /// the batch: rows that name the same few records (contacts at their companies) then check
    /// them without a read each, which would wait for the row written before it.
    pub async fn read_referenced(
        &mut self,
        def: &'static EntityDef,
        ids: &[Uuid],
    ) -> CoreResult<()> {
        self.work.read_referenced(def.table, ids).await
    }

    /// Waits for a write sent ahead: its failure, if it failed.
    pub async fn settle_ahead(&self) -> CoreResult<()> {
        Ok(self.conn().settle_ahead().await?)
    }

    /// Starts a step whose writes [`Self::undo_step`] can take back alone.
    pub async fn begin_step(&self) -> CoreResult<()> {
        self.conn()
            .execute_unprepared(&format!("SAVEPOINT {ONE}"))
            .await?;
        Ok(())
    }

    /// Keeps the step's writes in the batch.
    pub async fn keep_step(&self) -> CoreResult<()> {
        self.conn()
            .execute_unprepared(&format!("RELEASE SAVEPOINT {ONE}"))
            .await?;
        Ok(())
    }

    /// Takes the step's writes back, leaving the batch's others (and the transaction usable,
    /// also after a failed statement on PostgreSQL).
    pub async fn undo_step(&self) -> CoreResult<()> {
        self.conn()
            .execute_unprepared(&format!(
                "ROLLBACK TO SAVEPOINT {ONE}; RELEASE SAVEPOINT {ONE}"
            ))
            .await?;
        Ok(())
    }

    /// Creates a record as `POST /{plural}` would; its id is the returned record's `id`.
    pub async fn create(&mut self, def: &'static EntityDef, input: &Value) -> CoreResult<Record> {
        self.core
            .records(def)
            .create_in(&mut self.work, input)
            .await
    }

    /// Changes a record as `PATCH /{plural}/{id}` would.
    pub async fn update(
        &mut self,
        def: &'static EntityDef,
        id: Uuid,
        input: &Value,
    ) -> CoreResult<Record> {
        self.core
            .records(def)
            .update_in(&mut self.work, id, None, input)
            .await
    }

    /// Changes a record as `PATCH /{plural}/{id}` with `If-Match: expected_version` would: a
    /// record written since is refused as stale.
    pub async fn update_at(
        &mut self,
        def: &'static EntityDef,
        id: Uuid,
        expected_version: i64,
        input: &Value,
    ) -> CoreResult<Record> {
        self.core
            .records(def)
            .update_in(&mut self.work, id, Some(expected_version), input)
            .await
    }

    /// Moves a record to the recycle bin as `DELETE /{plural}/{id}` with `If-Match` would.
    pub async fn delete(
        &mut self,
        def: &'static EntityDef,
        id: Uuid,
        expected_version: i64,
    ) -> CoreResult<()> {
        self.core
            .records(def)
            .delete_in(&mut self.work, id, Some(expected_version))
            .await
    }

    /// How many live records of `def` match `filter`, whoever owns them (as the batch sees
    /// them): whether anything still refers to a record.
    pub async fn count_all(&self, def: &'static EntityDef, filter: &Filter) -> CoreResult<u64> {
        self.work.count_all(def, filter).await
    }

    /// A record the actor may read, as the batch sees it.
    pub async fn get(&self, def: &'static EntityDef, id: Uuid) -> CoreResult<Record> {
        self.core.records(def).get_in(&self.work, id).await
    }

    /// The records of `ids` the actor may read, as [`Self::get`] reads each, in one read; the
    /// others are left out.
    pub async fn get_many(&self, def: &'static EntityDef, ids: &[Uuid]) -> CoreResult<Vec<Record>> {
        self.core.records(def).get_many_in(&self.work, ids).await
    }

    /// Commits every kept write at once.
    pub async fn commit(self) -> CoreResult<()> {
        self.work.commit().await
    }

    /// Starts committing every kept write at once and returns without waiting: the caller
    /// works out its next batch while the database commits this one.
    pub fn commit_in_background(self) -> Committing {
        self.work.commit_in_background()
    }

    /// Takes every write back.
    pub async fn rollback(self) -> CoreResult<()> {
        self.work.rollback().await
    }
}
