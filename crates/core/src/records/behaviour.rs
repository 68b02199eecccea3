//! The seam through which an entity adds what the generic engine cannot know: fields computed
//! from others, rules that read other records, what a declared action does, and side effects.
//!
//! A hook sees the stored version, the new one and the unit of work ([`Work`]). It never writes
//! SQL: what it changes elsewhere goes through the unit of work's `create`, `modify` and `act`,
//! which authorize, validate, audit and index like any other write, inside the same transaction.
//! If anything fails afterwards — the entity's own validation, the state machine, a stale
//! version — the transaction is dropped and nothing a hook did remains.

use async_trait::async_trait;
use uuid::Uuid;

use super::JsonMap;
use super::def::ActionDef;
use super::work::Work;
use crate::error::{CoreResult, FieldErrors};

/// The write a hook is called for.
pub struct Event<'a> {
    pub id: Uuid,
    /// The version in the database; `None` for a record being created.
    pub stored: Option<&'a JsonMap>,
    /// The action being carried out, or `None` for a create or an update.
    pub action: Option<&'static ActionDef>,
    /// What the caller sent (the record's fields, or the action's input), before validation:
    /// how a hook tells a value the user chose from one it may fill in.
    pub input: &'a JsonMap,
}

impl Event<'_> {
    /// Whether the caller sent this field.
    pub fn sent(&self, field: &str) -> bool {
        self.input.contains_key(field)
    }
}

#[async_trait]
pub trait Behaviour: Sync {
    /// Fills computed fields from the record's own fields and checks rules across them. Pure (no
    /// reads), so bulk loads run it too.
    fn derive(&self, _rec: &mut JsonMap, _errors: &mut FieldErrors) {}

    /// Carries out a declared action on the new version of the record, before it is validated.
    /// `input` holds the action's input fields, already validated against their kinds.
    async fn act(
        &self,
        _work: &mut Work<'_>,
        _event: &Event<'_>,
        _input: &JsonMap,
        _rec: &mut JsonMap,
        _errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        Ok(())
    }

    /// Checks and completes a record about to be written (create, update or action), after its
    /// fields were validated one by one and [`Behaviour::derive`] ran.
    async fn validate(
        &self,
        _work: &mut Work<'_>,
        _event: &Event<'_>,
        _rec: &mut JsonMap,
        _errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        Ok(())
    }

    /// Side effects once the record is written, in the same transaction.
    async fn after(
        &self,
        _work: &mut Work<'_>,
        _event: &Event<'_>,
        _rec: &JsonMap,
    ) -> CoreResult<()> {
        Ok(())
    }
}

/// An entity with no behaviour beyond its declaration.
pub struct Plain;

impl Behaviour for Plain {}
