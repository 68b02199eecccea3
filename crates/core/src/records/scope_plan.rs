//! How a list page reads a sales rep's records on SQLite, remembered per reader for a minute.
//!
//! SQLite's planner, left alone, reads every record of a team through the owner index and sorts
//! them all for one page (half a second per page for a team of 100,000 among 1,000,000 records),
//! because its sampled statistics count far fewer records per owner than there are. A scope of at
//! least [`IN_ORDER_FROM`] records is therefore read in list order, skipping other people's
//! records, which finds a page after reading a few times its length; below that, the owner index
//! and a sort are cheaper. The records skipped are entries of an index that holds each one's
//! owner and deletion (migration m0011), not rows.
//!
//! That holds while the scope's records are spread among everyone's. When the newest (or
//! oldest) records are nearly all someone else's, as after an administrator's import of 24,000
//! accounts, a page in creation order reads past every one of them (4 ms of CPU there, and more
//! the larger the import). So for a scope of at most [`MERGE_OWNERS_AT_MOST`] owners the ends
//! of the list order are sampled too: when fewer than [`MERGE_BELOW`] of the [`END_SAMPLE`]
//! newest or oldest live records are the scope's, a page by creation with no filter reads each
//! owner's records in order through the index on (owner, creation, id) and merges them
//! ([`merged_keys`]): at most a page per owner, whatever the others did (1.2 ms of CPU for
//! that first page rather than 3.5). Merging costs a page from where the scope is spread about
//! 0.5 ms more than reading in list order (looking for each page in a bounded window of the list
//! order first, and merging only when the window held too few, cost every page 0.25–0.4 ms), so
//! it is kept for the readers that need it.
//!
//! Counting the first records of a scope and sampling the ends cost about a page's work, and
//! the answers only choose a plan: the records listed are the same either way. So the plan is
//! kept for [`TTL`] per entity and reader.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, Order, Query, SelectStatement, SimpleExpr, UnionType,
};
use uuid::Uuid;

use crate::authz::Scope;
use crate::db::col;

/// Whether a list reads a scope's records through the owner index or in list order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeRead {
    ByOwner,
    InListOrder,
    /// In list order, but a page by creation with no filter reads each owner's records in
    /// order and merges them ([`merged_keys`]): the scope is thin at an end of the list.
    OwnerByOwner,
    /// Every record of the scope through the live records' owner index, even when the scope is
    /// everyone's: what a count of a whole list reads. An entry there is a 16-byte owner and a
    /// row id where a row is hundreds of bytes, so a capped count of a million accounts reads a
    /// tenth of the pages (1.9 → 0.6 ms).
    OwnerIndex,
}

/// A scope of at least this many records is read in list order for a page: a page then costs at
/// most about 50 / (this / all records) rows read, where the owner index costs every record of
/// the scope and a sort.
pub(crate) const IN_ORDER_FROM: u64 = 5_000;

/// How many of the newest and of the oldest live records are sampled to tell whether a scope
/// is thin at an end of the list order. Reading them is index entries only (about 0.4 ms a
/// side at 1,000,000 records), once per reader and [`TTL`].
pub(crate) const END_SAMPLE: u64 = 2_000;

/// A scope with fewer than this many of an end's [`END_SAMPLE`] records is read owner by owner:
/// a page of 50 in list order would read past about 2,000 others' records there, which costs
/// more than the merge (reading in list order skips about 6,000 entries a millisecond).
pub(crate) const MERGE_BELOW: u64 = 100;

/// A scope of at most this many owners may be read owner by owner; each owner's part reads up
/// to a page, so eight owners read at most eight pages.
pub(crate) const MERGE_OWNERS_AT_MOST: usize = 8;

/// How long a plan is kept. A scope that grows past [`IN_ORDER_FROM`] (or shrinks below it)
/// is read the old way for at most this long, which costs time, never a wrong record.
const TTL: Duration = Duration::from_secs(60);

/// Plans are kept for at most this many readers and entities; past it the map starts afresh
/// rather than growing with every reader a long-running server has seen.
const MAX_KEPT: usize = 50_000;

/// Who reads what: the plan holds only for the same entity, reader, reach and team.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Reader {
    pub entity: &'static str,
    pub user: Uuid,
    pub scope: Scope,
    pub team: Option<Uuid>,
}

/// The plans lately chosen, shared by every request of a [`crate::Core`].
#[derive(Default)]
pub struct ScopePlans {
    chosen: Mutex<HashMap<Reader, (Instant, ScopeRead)>>,
}

impl ScopePlans {
    fn entries(&self) -> MutexGuard<'_, HashMap<Reader, (Instant, ScopeRead)>> {
        // A panic while the map was held leaves nothing half-done worth refusing to read.
        self.chosen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The plan chosen for `reader` within the last [`TTL`], if any.
    pub(crate) fn recent(&self, reader: &Reader) -> Option<ScopeRead> {
        match self.entries().get(reader) {
            Some((at, plan)) if at.elapsed() < TTL => Some(*plan),
            _ => None,
        }
    }

    /// The plan lately chosen for `user`'s pages of `entity`, if any: what a page of theirs
    /// reads now, for diagnostics and tests.
    pub fn chosen(&self, entity: &str, user: Uuid) -> Option<ScopeRead> {
        self.entries()
            .iter()
            .find(|(r, (at, _))| r.entity == entity && r.user == user && at.elapsed() < TTL)
            .map(|(_, (_, plan))| *plan)
    }

    /// Forgets every plan, so that the next page of each reader chooses afresh: for a change
    /// that moves many records at once (an import, the transfer of a departing rep's records),
    /// whose readers would otherwise read the old way for up to [`TTL`].
    pub fn forget(&self) {
        self.entries().clear();
    }

    /// Remembers `plan` for `reader` and returns it.
    pub(crate) fn keep(&self, reader: Reader, plan: ScopeRead) -> ScopeRead {
        let mut entries = self.entries();
        if entries.len() >= MAX_KEPT {
            entries.clear();
        }
        entries.insert(reader, (Instant::now(), plan));
        plan
    }
}

/// The plan for a scope of `counted` records (counted up to [`IN_ORDER_FROM`]), of which
/// `thinnest_end` are among the [`END_SAMPLE`] newest or oldest live records, whichever are
/// fewer (`None` when not sampled: a scope of too many owners to merge).
pub(crate) fn plan_for(counted: u64, thinnest_end: Option<u64>) -> ScopeRead {
    match thinnest_end {
        _ if counted < IN_ORDER_FROM => ScopeRead::ByOwner,
        Some(n) if n < MERGE_BELOW => ScopeRead::OwnerByOwner,
        _ => ScopeRead::InListOrder,
    }
}

/// How many records of the scope (`scope`, a condition on an unqualified `owner_id`) are among
/// the [`END_SAMPLE`] newest (`newest`) or oldest live records of `table`. SQLite reads them
/// from the index on (creation, id, owner, deletion) alone.
pub(crate) fn in_scope_at_end(
    table: crate::db::Name,
    scope: Condition,
    newest: bool,
) -> SelectStatement {
    let order = if newest { Order::Desc } else { Order::Asc };
    let mut end = Query::select();
    end.column(col("owner_id"))
        .from(table)
        .and_where(Expr::col(col("deleted_at")).is_null())
        .order_by(col("created_at"), order.clone())
        .order_by(col("id"), order)
        .limit(END_SAMPLE);
    let mut sel = Query::select();
    sel.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(end, Alias::new("list_end"))
        .cond_where(scope);
    sel
}

/// The row ids of the first `limit` live records of `owners` in `table` in creation order
/// (after `run`, a cursor's condition): each owner's first `limit` through the index on
/// (owner, creation, id), and the first `limit` of them all. SQLite takes an order and a limit
/// inside a compound select only in a subquery of its own.
pub(crate) fn merged_keys(
    table: crate::db::Name,
    run: Option<SimpleExpr>,
    owners: &[Uuid],
    desc: bool,
    limit: u64,
) -> SelectStatement {
    let order = if desc { Order::Desc } else { Order::Asc };
    let mut parts: Option<SelectStatement> = None;
    for (i, owner) in owners.iter().enumerate() {
        let mut part = Query::select();
        part.expr_as(Expr::col((table.clone(), col("rowid"))), Alias::new("rid"))
            .expr_as(
                Expr::col((table.clone(), col("created_at"))),
                Alias::new("at"),
            )
            .expr_as(Expr::col((table.clone(), col("id"))), Alias::new("rec"))
            .from(table.clone())
            .and_where(Expr::col((table.clone(), col("owner_id"))).eq(*owner))
            .and_where(Expr::col((table.clone(), col("deleted_at"))).is_null());
        if let Some(run) = &run {
            part.and_where(run.clone());
        }
        part.order_by((table.clone(), col("created_at")), order.clone())
            .order_by((table.clone(), col("id")), order.clone())
            .limit(limit);
        let mut one = Query::select();
        one.column(Asterisk)
            .from_subquery(part, Alias::new(format!("owner_{i}")));
        match &mut parts {
            None => parts = Some(one),
            Some(all) => {
                all.union(UnionType::All, one);
            }
        }
    }
    let mut keys = Query::select();
    keys.column(col("rid"));
    match parts {
        Some(all) => keys.from_subquery(all, Alias::new("merged")),
        // No owner: no keys.
        None => keys
            .expr_as(Expr::val(0), Alias::new("rid"))
            .and_where(Expr::cust("FALSE")),
    };
    keys.order_by(col("at"), order.clone())
        .order_by(col("rec"), order)
        .limit(limit);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(user: Uuid, team: Option<Uuid>) -> Reader {
        Reader {
            entity: "things",
            user,
            scope: Scope::Team,
            team,
        }
    }

    #[test]
    fn a_plan_follows_the_scope_size_and_its_thinnest_end() {
        use ScopeRead::*;
        for (counted, thinnest, want) in [
            (IN_ORDER_FROM - 1, None, ByOwner),
            (IN_ORDER_FROM - 1, Some(0), ByOwner),
            (IN_ORDER_FROM, None, InListOrder),
            (IN_ORDER_FROM, Some(MERGE_BELOW), InListOrder),
            (IN_ORDER_FROM, Some(MERGE_BELOW - 1), OwnerByOwner),
            (IN_ORDER_FROM, Some(0), OwnerByOwner),
        ] {
            assert_eq!(plan_for(counted, thinnest), want, "{counted} {thinnest:?}");
        }
    }

    #[test]
    fn a_plan_is_kept_per_reader() {
        let plans = ScopePlans::default();
        let (a, b, team) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Some(Uuid::from_u128(3)),
        );
        assert_eq!(plans.recent(&reader(a, team)), None);
        assert_eq!(
            plans.keep(reader(a, team), ScopeRead::InListOrder),
            ScopeRead::InListOrder
        );
        assert_eq!(
            plans.keep(reader(b, team), ScopeRead::ByOwner),
            ScopeRead::ByOwner
        );
        assert_eq!(plans.recent(&reader(a, team)), Some(ScopeRead::InListOrder));
        assert_eq!(plans.recent(&reader(b, team)), Some(ScopeRead::ByOwner));
        // Another team, or another reach, is another reader.
        assert_eq!(plans.recent(&reader(a, None)), None);
        let own = Reader {
            scope: Scope::Own,
            ..reader(a, team)
        };
        assert_eq!(plans.recent(&own), None);
    }
}
