//! How a list page reads a sales rep's records on SQLite, remembered per reader for a minute.
//!
//! SQLite's planner, left alone, reads every record of a team through the owner index and sorts
//! them all for one page (half a second per page for a team of 100,000 among 1,000,000 records),
//! because its sampled statistics count far fewer records per owner than there are. A scope of at
//! least [`IN_ORDER_FROM`] records is therefore read in list order, skipping other people's
//! records, which finds a page after reading a few times its length; below that, the owner index
//! and a sort are cheaper. Newest first, the records skipped are entries of an index that holds
//! each one's owner and deletion (migration m0011), not rows; still, when the newest records are
//! nearly all others' (an administrator's import of 24,000), a page reads past every one of them. Counting the first records of a scope to tell which costs about a third
//! of a page's work, and the answer only chooses a plan: the records listed are the same either
//! way. So the answer is kept for [`TTL`] per entity and reader.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::authz::Scope;

/// Whether a list reads a scope's records through the owner index or in list order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScopeRead {
    ByOwner,
    InListOrder,
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

    /// Remembers the plan chosen from a scope of `counted` records (counted up to
    /// [`IN_ORDER_FROM`]) and returns it.
    pub(crate) fn choose(&self, reader: Reader, counted: u64) -> ScopeRead {
        let plan = if counted >= IN_ORDER_FROM {
            ScopeRead::InListOrder
        } else {
            ScopeRead::ByOwner
        };
        let mut entries = self.entries();
        if entries.len() >= MAX_KEPT {
            entries.clear();
        }
        entries.insert(reader, (Instant::now(), plan));
        plan
    }
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
    fn a_plan_is_kept_per_reader_and_chosen_by_the_scope_size() {
        let plans = ScopePlans::default();
        let (a, b, team) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Some(Uuid::from_u128(3)),
        );
        assert_eq!(plans.recent(&reader(a, team)), None);
        assert_eq!(
            plans.choose(reader(a, team), IN_ORDER_FROM),
            ScopeRead::InListOrder
        );
        assert_eq!(
            plans.choose(reader(b, team), IN_ORDER_FROM - 1),
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
