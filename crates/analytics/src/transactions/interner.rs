//! Interning: each distinct id is stored once and rows carry a dense `u32` key. The index is
//! split in shards by hash, so the parallel reader can merge the ids of its chunks into it on all
//! threads at once ([`merge_ids`]), with the keys a sequential parse would have given them.

use std::hash::Hasher;

use rayon::prelude::*;

use super::{NONE_KEY, TransactionError};

/// A fast, non-cryptographic hasher for the interning tables (ids come from the user's own file,
/// so hash flooding is not a concern here).
#[derive(Default, Clone, Copy)]
pub struct IdHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.hash;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        self.hash = h;
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.hash = (self.hash.rotate_left(5) ^ u64::from(i)).wrapping_mul(SEED);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.hash = (self.hash.rotate_left(5) ^ i as u64).wrapping_mul(SEED);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // Final avalanche so the high bits hashbrown uses for its control bytes are mixed.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

/// The hash of an id as the interning tables use it. The length is mixed in because
/// [`IdHasher::write`] pads the last word with zeros (`a` and `a\0` would always collide).
fn hash_id(bytes: &[u8], mask: u64) -> u64 {
    let mut h = IdHasher::default();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish() & mask
}

/// Bits of an id's hash that choose its shard of a customer / order / product table. Shards are
/// separate tables, so the parallel reader can fill them on all threads at once; 64 keeps them
/// balanced on machines with a few dozen threads.
pub(super) const SHARD_BITS: u32 = 6;

fn shard_of(hash: u64, bits: u32) -> usize {
    // `checked_shr(64)` is `None`: with no shard bits everything is shard 0.
    hash.checked_shr(64 - bits).unwrap_or(0) as usize
}

/// Marks a slot whose entry is still being merged (see [`merge_ids`]): its value is then an index
/// into that merge's list of new ids, not a key.
const PENDING: u32 = 1 << 31;

/// The bits of a hash kept in a slot, so most mismatches are rejected without reading the string.
fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32 & !PENDING
}

/// One slot of a [`Table`]: `value` 0 is empty, otherwise key + 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    tag: u32,
    value: u32,
}

impl Slot {
    fn index(self) -> usize {
        self.value as usize - 1
    }
    fn pending(self) -> bool {
        self.tag & PENDING != 0
    }
}

/// An open-addressing (linear probing) index of entries stored elsewhere: it holds only keys, so
/// the strings are allocated once, in one buffer.
#[derive(Clone, Debug, Default)]
struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    /// The position of the slot for which `eq` holds, among those with the hash's tag.
    fn find(&self, hash: u64, mut eq: impl FnMut(Slot) -> bool) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = tag_of(hash);
        let mut pos = hash as usize & mask;
        loop {
            let s = self.slots[pos];
            if s.value == 0 {
                return None;
            }
            if s.tag & !PENDING == tag && eq(s) {
                return Some(pos);
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds an entry known to be absent. `hash_of` gives the hash of an existing slot's entry
    /// (needed when the table grows).
    fn insert(&mut self, hash: u64, slot: Slot, hash_of: impl Fn(Slot) -> u64) {
        // At most half full, so probe sequences stay short.
        if (self.len + 1) * 2 > self.slots.len() {
            let cap = (self.slots.len() * 2).max(16);
            let old = std::mem::replace(&mut self.slots, vec![Slot::default(); cap]);
            for s in old.into_iter().filter(|s| s.value != 0) {
                self.place(hash_of(s), s);
            }
        }
        self.place(hash, slot);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut pos = hash as usize & mask;
        while self.slots[pos].value != 0 {
            pos = (pos + 1) & mask;
        }
        self.slots[pos] = slot;
    }
}

/// The bytes of entry `k` in an interner's concatenated strings.
fn span<'a>(text: &'a str, ends: &[usize], k: usize) -> &'a [u8] {
    let start = if k == 0 { 0 } else { ends[k - 1] };
    &text.as_bytes()[start..ends[k]]
}

/// Maps distinct strings to dense `u32` keys (in order of first interning). The strings live in
/// one buffer; the index is split in shards by hash, so that the parallel reader can merge
/// chunks' ids into it on all threads (see `merge_ids`).
#[derive(Clone, Debug)]
pub struct Interner {
    text: String,
    /// End of each key's string in `text`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// `1 << shard_bits` tables.
    tables: Vec<Table>,
    shard_bits: u32,
    /// ANDed into every hash: all ones, except in tests that force collisions.
    mask: u64,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_layout(SHARD_BITS, u64::MAX)
    }
}

impl Interner {
    pub(super) fn with_layout(shard_bits: u32, mask: u64) -> Self {
        Interner {
            text: String::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            tables: vec![Table::default(); 1 << shard_bits],
            shard_bits,
            mask,
        }
    }

    pub(super) fn bytes_at(&self, k: usize) -> &[u8] {
        span(&self.text, &self.ends, k)
    }

    fn find_hashed(&self, hash: u64, s: &[u8]) -> Option<u32> {
        let table = &self.tables[shard_of(hash, self.shard_bits)];
        let pos = table.find(hash, |slot| self.bytes_at(slot.index()) == s)?;
        Some(table.slots[pos].value - 1)
    }

    /// The key of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Result<u32, TransactionError> {
        let hash = hash_id(s.as_bytes(), self.mask);
        if let Some(k) = self.find_hashed(hash, s.as_bytes()) {
            return Ok(k);
        }
        let k = u32::try_from(self.hashes.len()).map_err(|_| TransactionError::TooManyIds)?;
        if k == NONE_KEY {
            return Err(TransactionError::TooManyIds);
        }
        self.text.push_str(s);
        self.ends.push(self.text.len());
        self.hashes.push(hash);
        let hashes = &self.hashes;
        let slot = Slot {
            tag: tag_of(hash),
            value: k + 1,
        };
        self.tables[shard_of(hash, self.shard_bits)].insert(hash, slot, |s| hashes[s.index()]);
        Ok(k)
    }
    /// The key of `s`, adding it if new (the string is copied into the shared buffer).
    pub fn intern_owned(&mut self, s: Box<str>) -> Result<u32, TransactionError> {
        self.intern(&s)
    }
    /// The key of `s` if present.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.find_hashed(hash_id(s.as_bytes(), self.mask), s.as_bytes())
    }
    /// The string for a key.
    pub fn resolve(&self, key: u32) -> Option<&str> {
        let k = key as usize;
        let end = *self.ends.get(k)?;
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        self.text.get(start..end)
    }
    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }
    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// What [`merge_ids`] found for one chunk-local id.
#[derive(Clone, Copy, Debug)]
enum Found {
    /// Interned before this merge, under this key.
    Old(u32),
    /// First met in this merge, here: entry `p` of the shard's list of new ids.
    New(u32),
    /// First met in this merge, in an earlier chunk: entry `p` of the shard's list of new ids.
    Again(u32),
}

/// Interns the ids of consecutive chunks into `global` with the keys a sequential parse would
/// have given them, and returns for each chunk the global key of each of its local keys. Each
/// `locals[c]` holds chunk `c`'s distinct ids in the order of their first occurrence in it (and
/// their hashes, which are not computed again).
///
/// A sequential parse numbers ids by first occurrence, so a new id's key is the number of ids
/// interned before, plus the number of new ids in earlier chunks, plus its rank among its own
/// chunk's new ids. Which ids are new is decided shard by shard, in parallel: each shard's
/// table is searched and filled by one thread, walking the chunks in order, so the first chunk
/// to hold an id is the one that adds it. Until the counts are known the added entries point
/// into the chunks (`PENDING`); they are then rewritten to their keys, and the new strings are
/// appended in key order.
pub(super) fn merge_ids(
    global: &mut Interner,
    locals: &[&Interner],
) -> Result<MergedIds, TransactionError> {
    let bits = global.shard_bits;
    let shards = global.tables.len();
    // Each chunk's local keys grouped by shard: `order[starts[s]..starts[s + 1]]`, ascending.
    let groups: Vec<(Vec<usize>, Vec<u32>)> = locals
        .par_iter()
        .map(|local| {
            let mut starts = vec![0usize; shards + 1];
            for &h in &local.hashes {
                starts[shard_of(h, bits) + 1] += 1;
            }
            for s in 0..shards {
                starts[s + 1] += starts[s];
            }
            let mut fill = starts.clone();
            let mut order = vec![0u32; local.len()];
            for (k, &h) in (0u32..).zip(&local.hashes) {
                let s = shard_of(h, bits);
                order[fill[s]] = k;
                fill[s] += 1;
            }
            (starts, order)
        })
        .collect();
    // Where chunk `c`'s results start in shard `s`'s list: `at[c][s]`.
    let mut at = vec![vec![0usize; shards]; locals.len()];
    for s in 0..shards {
        let mut n = 0;
        for (c, (starts, _)) in groups.iter().enumerate() {
            at[c][s] = n;
            n += starts[s + 1] - starts[s];
        }
    }
    let Interner {
        text,
        ends,
        hashes,
        tables,
        ..
    } = global;
    let (text, ends, hashes) = (&*text, &*ends, &*hashes);
    // Per shard: what each of its local ids is, and the (chunk, local key) of each new id.
    type ShardFinds = (Vec<Found>, Vec<(u32, u32)>);
    let finds: Vec<ShardFinds> = tables
        .par_iter_mut()
        .enumerate()
        .map(|(s, table)| -> Result<ShardFinds, TransactionError> {
            let mut found = Vec::new();
            let mut new: Vec<(u32, u32)> = Vec::new();
            for (c, (local, (starts, order))) in (0u32..).zip(locals.iter().zip(&groups)) {
                for &l in &order[starts[s]..starts[s + 1]] {
                    let hash = local.hashes[l as usize];
                    let bytes = local.bytes_at(l as usize);
                    let hit = table.find(hash, |slot| {
                        if slot.pending() {
                            let (pc, pl) = new[slot.index()];
                            locals[pc as usize].bytes_at(pl as usize) == bytes
                        } else {
                            span(text, ends, slot.index()) == bytes
                        }
                    });
                    if let Some(pos) = hit {
                        let slot = table.slots[pos];
                        found.push(if slot.pending() {
                            Found::Again(slot.value - 1)
                        } else {
                            Found::Old(slot.value - 1)
                        });
                        continue;
                    }
                    let p = u32::try_from(new.len())
                        .ok()
                        .filter(|&p| p < u32::MAX)
                        .ok_or(TransactionError::TooManyIds)?;
                    new.push((c, l));
                    let slot = Slot {
                        tag: tag_of(hash) | PENDING,
                        value: p + 1,
                    };
                    table.insert(hash, slot, |slot| {
                        if slot.pending() {
                            let (pc, pl) = new[slot.index()];
                            locals[pc as usize].hashes[pl as usize]
                        } else {
                            hashes[slot.index()]
                        }
                    });
                    found.push(Found::New(p));
                }
            }
            Ok((found, new))
        })
        .collect::<Result<_, _>>()?;
    // Calls `f(shard, local key, found)` for every local id of chunk `c`.
    let each = |c: usize, f: &mut dyn FnMut(usize, u32, Found)| {
        let (starts, order) = &groups[c];
        for (s, (found, _)) in finds.iter().enumerate() {
            let keys = &order[starts[s]..starts[s + 1]];
            for (&l, &x) in keys.iter().zip(&found[at[c][s]..]) {
                f(s, l, x);
            }
        }
    };
    // Each chunk's new ids numbered in local key order (`NONE_KEY` for the others).
    let ranks: Vec<(Vec<u32>, u64)> = (0..locals.len())
        .into_par_iter()
        .map(|c| {
            let mut rank = vec![NONE_KEY; locals[c].len()];
            each(c, &mut |_, l, x| {
                if matches!(x, Found::New(_)) {
                    rank[l as usize] = 0;
                }
            });
            let mut n = 0u32;
            for r in rank.iter_mut().filter(|r| **r != NONE_KEY) {
                *r = n;
                n += 1;
            }
            (rank, u64::from(n))
        })
        .collect();
    let mut bases = Vec::with_capacity(ranks.len());
    let mut next = hashes.len() as u64;
    for (_, n) in &ranks {
        bases.push(next);
        next += n;
    }
    // The sequential parse fails when the next key would be `NONE_KEY`.
    if next > u64::from(NONE_KEY) {
        return Err(TransactionError::TooManyIds);
    }
    let key_of = |c: usize, l: u32| (bases[c] + u64::from(ranks[c].0[l as usize])) as u32;
    let new_keys: Vec<Vec<u32>> = tables
        .par_iter_mut()
        .zip(&finds)
        .map(|(table, (_, new))| {
            (0u32..)
                .zip(new)
                .map(|(p, &(c, l))| {
                    let key = key_of(c as usize, l);
                    let hash = locals[c as usize].hashes[l as usize];
                    let pending = table.find(hash, |slot| slot.pending() && slot.value == p + 1);
                    debug_assert!(pending.is_some(), "every new id has its pending slot");
                    if let Some(pos) = pending {
                        table.slots[pos] = Slot {
                            tag: tag_of(hash),
                            value: key + 1,
                        };
                    }
                    key
                })
                .collect()
        })
        .collect();
    let remaps: Vec<Vec<u32>> = (0..locals.len())
        .into_par_iter()
        .map(|c| {
            let mut remap = vec![NONE_KEY; locals[c].len()];
            each(c, &mut |s, l, x| {
                remap[l as usize] = match x {
                    Found::Old(k) => k,
                    Found::New(p) | Found::Again(p) => new_keys[s][p as usize],
                };
            });
            remap
        })
        .collect();
    let fresh = ranks
        .into_iter()
        .map(|(rank, _)| {
            (0u32..)
                .zip(rank)
                .filter(|&(_, r)| r != NONE_KEY)
                .map(|(l, _)| l)
                .collect()
        })
        .collect();
    Ok(MergedIds { remaps, fresh })
}

/// What [`merge_ids`] gives for a run of chunks.
pub(super) struct MergedIds {
    /// Per chunk, the global key of each local key.
    pub(super) remaps: Vec<Vec<u32>>,
    /// Per chunk, the local keys of the ids new to the global table, in key order. Their strings
    /// are added by [`push_fresh`], which must come before the next merge into the same table.
    pub(super) fresh: Vec<Vec<u32>>,
}

/// Appends the strings of the ids [`merge_ids`] added (their keys are already in the tables).
pub(super) fn push_fresh<'a>(
    global: &mut Interner,
    locals: impl Iterator<Item = &'a Interner>,
    fresh: &[Vec<u32>],
) {
    for (local, keys) in locals.zip(fresh) {
        for &l in keys {
            global.text.push_str(local.resolve(l).unwrap_or_default());
            global.ends.push(global.text.len());
            global.hashes.push(local.hashes[l as usize]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::transactions::tests::{WEAK_MASKS, assert_lookups};

    #[test]
    fn merge_ids_numbers_new_ids_by_chunk_then_first_occurrence() {
        for mask in std::iter::once(u64::MAX).chain(WEAK_MASKS) {
            let interner = |ids: &[&str], bits: u32| {
                let mut int = Interner::with_layout(bits, mask);
                for id in ids {
                    int.intern(id).unwrap();
                }
                int
            };
            let mut global = interner(&["a", "b"], SHARD_BITS);
            let chunks = [
                interner(&["c", "a", "d"], 0),
                interner(&["d", "e", "b", "c"], 0),
                interner(&[], 0),
                interner(&["f", "a"], 0),
            ];
            let locals: Vec<&Interner> = chunks.iter().collect();
            let merged = merge_ids(&mut global, &locals).unwrap();
            assert_eq!(
                merged.remaps,
                vec![vec![2, 0, 3], vec![3, 4, 1, 2], vec![], vec![5, 0]],
                "mask {mask:x}"
            );
            assert_eq!(merged.fresh, vec![vec![0, 2], vec![1], vec![], vec![0]]);
            push_fresh(&mut global, locals.into_iter(), &merged.fresh);
            let all: Vec<&str> = (0..6).map(|k| global.resolve(k).unwrap()).collect();
            assert_eq!(all, ["a", "b", "c", "d", "e", "f"]);
            assert_lookups(&global);
        }
    }

    #[test]
    fn colliding_ids_in_one_shard() {
        for mask in WEAK_MASKS {
            let mut int = Interner::with_layout(SHARD_BITS, mask);
            for i in 0..300u32 {
                assert_eq!(int.intern(&format!("id{i}")).unwrap(), i);
                assert_eq!(int.intern(&format!("id{}", i / 2)).unwrap(), i / 2);
            }
            // "x" and "x\0" pad to the same word: the length keeps them apart.
            let x = int.intern("x").unwrap();
            assert_ne!(int.intern("x\0").unwrap(), x);
            assert_eq!(int.get("id299"), Some(299));
            assert_eq!(int.get("id300"), None);
            assert_lookups(&int);
        }
    }
}
