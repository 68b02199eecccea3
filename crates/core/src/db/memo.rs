//! A value read from the database and kept for as long as a cheap "stamp" of its source reads
//! the same. For small tables every page reads whole and that change rarely (the people of the
//! company): reading and decoding them is most of what some pages cost, and reading the stamp
//! first keeps every instance on the same database seeing a change at once, without telling
//! one another.

use foldhash::HashMap;
use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::error::CoreResult;

/// What one read has learnt so far.
#[derive(Default)]
struct Learnt {
    /// Stamps, by the name of what they stamp.
    stamps: HashMap<&'static str, String>,
    /// Records' titles as a reader sees them, by reader, entity and id: `None` for a record the
    /// reader may not read.
    titles: HashMap<(Uuid, &'static str, Uuid), Option<String>>,
}

tokio::task_local! {
    /// What has been read so far within one read ([`one_read`]).
    static READ: RefCell<Learnt>;
}

/// Runs `work` as one read: within it a stamp is read from the database once, however many
/// times the work asks (a record page names people in its header, its related lists and its
/// timeline, and each asked for the people's stamp: six reads of it a page). For requests that
/// only read; a write within it could change what a stamp stamps and not be seen.
pub async fn one_read<F: Future>(work: F) -> F::Output {
    READ.scope(RefCell::new(Learnt::default()), work).await
}

/// Stamp `name`: as read before within this [`one_read`], or read now by `read` (and kept
/// for the rest of it). Outside a `one_read`, always read.
pub(crate) async fn stamp<Fut>(name: &'static str, read: impl FnOnce() -> Fut) -> CoreResult<String>
where
    Fut: Future<Output = CoreResult<String>>,
{
    if let Ok(Some(kept)) = READ.try_with(|r| r.borrow().stamps.get(name).cloned()) {
        return Ok(kept);
    }
    let fresh = read().await?;
    // Outside a read there is nowhere to keep it, which is as it should be.
    let _ = READ.try_with(|r| r.borrow_mut().stamps.insert(name, fresh.clone()));
    Ok(fresh)
}

/// The title of record `id` of `entity` as `reader` sees it, if this [`one_read`] has learnt
/// it: `Some(None)` for a record they may not read. A record page names its own record from
/// its related lists (an account's contacts each name the account), and each asked again.
pub(crate) fn title(reader: Uuid, entity: &'static str, id: Uuid) -> Option<Option<String>> {
    READ.try_with(|r| r.borrow().titles.get(&(reader, entity, id)).cloned())
        .ok()
        .flatten()
}

/// Keeps what `reader` sees as the title of record `id` of `entity` for the rest of this
/// [`one_read`]; outside one, nothing.
pub(crate) fn keep_title(reader: Uuid, entity: &'static str, id: Uuid, title: Option<String>) {
    let _ = READ.try_with(|r| r.borrow_mut().titles.insert((reader, entity, id), title));
}

/// A kept value and the stamp it was read at.
type Kept = (String, Arc<dyn Any + Send + Sync>);

/// One kept value and the stamp it was read at. Cheap to clone: clones share the value.
#[derive(Clone, Default)]
pub struct Memo {
    slot: Arc<Mutex<Option<Kept>>>,
}

impl Memo {
    /// The value kept at `stamp`, if that is what is kept.
    pub fn get<T: Any + Send + Sync>(&self, stamp: &str) -> Option<Arc<T>> {
        let slot = self.slot.lock().ok()?;
        let (kept_at, value) = slot.as_ref()?;
        if kept_at != stamp {
            return None;
        }
        Arc::clone(value).downcast::<T>().ok()
    }

    /// Keeps `value`, read at `stamp`.
    pub fn put<T: Any + Send + Sync>(&self, stamp: String, value: Arc<T>) {
        // A poisoned lock only loses the memo: the next read goes to the database.
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((stamp, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stamp_is_read_once_within_a_read_and_every_time_outside() {
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let read = || async {
            let n = reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(format!("s{n}"))
        };
        assert_eq!(stamp("users", read).await.unwrap(), "s0");
        assert_eq!(
            stamp("users", read).await.unwrap(),
            "s1",
            "outside: read again"
        );
        let inside = one_read(async {
            let a = stamp("users", read).await.unwrap();
            let b = stamp("users", read).await.unwrap();
            let other = stamp("teams", read).await.unwrap();
            (a, b, other)
        })
        .await;
        assert_eq!(inside, ("s2".into(), "s2".into(), "s3".into()));
        let again = one_read(async { stamp("users", read).await.unwrap() }).await;
        assert_eq!(again, "s4", "each read reads its own");
    }

    #[tokio::test]
    async fn a_title_is_kept_for_its_reader_within_one_read_only() {
        let (rep, other, id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        keep_title(rep, "widget", id, Some("华为技术".into()));
        assert_eq!(
            title(rep, "widget", id),
            None,
            "outside a read: kept nowhere"
        );
        let seen = one_read(async {
            keep_title(rep, "widget", id, Some("华为技术".into()));
            keep_title(rep, "gadget", id, None);
            (
                title(rep, "widget", id),
                title(other, "widget", id),
                title(rep, "gadget", id),
                title(rep, "gizmo", id),
            )
        })
        .await;
        assert_eq!(
            seen,
            (Some(Some("华为技术".into())), None, Some(None), None),
            "per reader and entity; an unreadable record is known as such"
        );
        let again = one_read(async { title(rep, "widget", id) }).await;
        assert_eq!(again, None, "each read learns its own");
    }

    #[test]
    fn a_value_is_kept_only_at_its_stamp() {
        let m = Memo::default();
        assert!(m.get::<Vec<u8>>("a").is_none());
        m.put("a".into(), Arc::new(vec![1u8]));
        assert_eq!(m.get::<Vec<u8>>("a").as_deref(), Some(&vec![1u8]));
        assert!(m.get::<Vec<u8>>("b").is_none());
        assert!(
            m.get::<String>("a").is_none(),
            "another type is not this value"
        );
        let shared = m.clone();
        shared.put("b".into(), Arc::new(vec![2u8]));
        assert_eq!(m.get::<Vec<u8>>("b").as_deref(), Some(&vec![2u8]));
    }
}
