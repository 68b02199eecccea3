//! The natural keys of an import's rows (see [`super::run`]): worked out once a row, looked up
//! for many rows in one statement, and followed in memory as the batch's own rows add and take
//! them away.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::authz::Actor;
use crate::dedupe::check::Holder;
use crate::dedupe::{self, Rule};
use crate::records::JsonMap;
use crate::records::def::EntityDef;

/// The duplicate-check rules a row is matched on: keys that name one customer. A person's name
/// (two 张伟) and a name's pinyin (homophones) are not. Another system's id comes first: a row
/// that matches one record by it is that record, whatever its other keys match.
pub const NATURAL_KEYS: &[Rule] = &[
    Rule::ExternalId,
    Rule::TaxId,
    Rule::Domain,
    Rule::Email,
    Rule::Phone,
    Rule::Name,
];

/// How many rows' natural keys are looked up in one statement.
pub const LOOK_AHEAD: usize = 128;

/// A row's values of the fields the duplicate check reads, as the engine stores them, and the
/// natural keys they give.
#[derive(Clone)]
pub(super) struct Keyed {
    pub(super) values: JsonMap,
    pub(super) keys: Vec<(Rule, Vec<String>)>,
}

/// The natural keys of a batch's rows and the live records holding them, looked up many rows
/// at a time, with what the batch's own rows added and took away since (the batch's
/// transaction sees its writes; these maps follow them without asking it again).
#[derive(Default)]
pub(super) struct KeyIndex {
    /// The lines whose keys were looked up.
    pub(super) looked: HashSet<u64>,
    pub(super) stored: HashMap<(Rule, String), Vec<Holder>>,
    /// Keys the batch's rows wrote: to which records.
    pub(super) added: HashMap<(Rule, String), Vec<Uuid>>,
    /// Keys the batch's rows took from records (an overwrite of a record's e-mails).
    pub(super) removed: HashSet<(Rule, String, Uuid)>,
    /// Stored records the looked-up keys lead to, read with them, by id: a row that matches one
    /// takes it from here instead of reading it alone (which waits for the rows written before
    /// it). A record leaves when a row of the batch writes it.
    pub(super) records: HashMap<Uuid, JsonMap>,
    /// Not to be trusted for the rest of the batch (a key held by very many records, or a row
    /// that made a record of the imported entity by name): rows ask the database one by one.
    pub(super) off: bool,
}

impl KeyIndex {
    /// What the row with `keys` (on `line`) matches, when the index can say: `Some(None)`,
    /// nothing; `Some(Some(id))`, one stored record the actor may read. `None`: ask the
    /// database (several records, one out of reach, or one the batch itself wrote).
    pub(super) fn quick(
        &self,
        actor: &Actor,
        def: &EntityDef,
        line: u64,
        keys: &[(Rule, Vec<String>)],
    ) -> Option<Option<Uuid>> {
        if self.off || !self.looked.contains(&line) {
            return None;
        }
        let mut found: Vec<(Uuid, Option<Holder>)> = Vec::new();
        for (rule, ks) in keys {
            for k in ks {
                let key = (*rule, k.clone());
                let stored = self
                    .stored
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .map(|h| (h.id, Some(*h)));
                let added = self
                    .added
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .map(|id| (*id, None));
                for (id, holder) in stored.chain(added) {
                    if self.removed.contains(&(*rule, k.clone(), id)) {
                        continue;
                    }
                    match found.iter_mut().find(|(f, _)| *f == id) {
                        Some(f) => f.1 = f.1.or(holder),
                        None => found.push((id, holder)),
                    }
                }
            }
        }
        match found.as_slice() {
            [] => Some(None),
            [(id, Some(h))] if actor.reaches(actor.grant(def.name).read, h.owner, h.owner_team) => {
                Some(Some(*id))
            }
            _ => None,
        }
    }

    /// A row of the batch wrote record `id`: its keys are now `after`'s, no longer `before`'s
    /// (an update).
    pub(super) fn wrote(
        &mut self,
        def: &EntityDef,
        id: Uuid,
        before: Option<&JsonMap>,
        after: &JsonMap,
    ) {
        self.records.remove(&id);
        let now: Vec<(Rule, String)> = dedupe::check::keys_of(def, after, NATURAL_KEYS)
            .into_iter()
            .flat_map(|(r, ks)| ks.into_iter().map(move |k| (r, k)))
            .collect();
        if let Some(before) = before {
            for (r, ks) in dedupe::check::keys_of(def, before, NATURAL_KEYS) {
                for k in ks {
                    if !now.iter().any(|(nr, nk)| *nr == r && *nk == k) {
                        if let Some(ids) = self.added.get_mut(&(r, k.clone())) {
                            ids.retain(|x| *x != id);
                        }
                        self.removed.insert((r, k, id));
                    }
                }
            }
        }
        for (r, k) in now {
            self.removed.remove(&(r, k.clone(), id));
            let ids = self.added.entry((r, k)).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
}
