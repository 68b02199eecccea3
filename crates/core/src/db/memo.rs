//! A value read from the database and kept for as long as a cheap "stamp" of its source reads
//! the same. For small tables every page reads whole and that change rarely (the people of the
//! company): reading and decoding them is most of what some pages cost, and reading the stamp
//! first keeps every instance on the same database seeing a change at once, without telling
//! one another.

use std::any::Any;
use std::sync::{Arc, Mutex};

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
