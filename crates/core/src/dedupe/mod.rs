//! Matching keys for the duplicate check (查重): when a rep types a company or a person, find
//! the record already stored even if it was written differently.
//!
//! # Why keys
//!
//! Every rule compares one *key* — a canonical form of a field, computed once when a record is
//! saved — for equality, instead of comparing names pairwise with a similarity measure. Each key
//! is stored indexed by (entity, rule, key), so checking a new record against millions is one index
//! lookup per rule, on both SQLite and PostgreSQL, inside the save's transaction; a fuzzy
//! comparison would have to read every candidate. What makes two spellings "the same" is decided
//! in the key function, where it can be tested exhaustively; the database only tests equality.
//!
//! Weaker and stronger rules are different keys of the same field: [`company_name_key`] (the
//! name without region and company form) and [`pinyin_key`] (that, read aloud) are two rules'
//! keys, and a rule names which one it compares ([`Rule`]).
//!
//! Keys change only with this code. When a key function changes, the stored keys are recomputed
//! (a migration or a job), never compared across versions.
//!
//! The key functions are pure: no database, no I/O. The phone, e-mail, domain and tax id keys
//! are the normalized forms in [`crate::normalize`]. Which keys a record holds and where they are
//! kept is [`keys`]; the check itself, which saves run too, is [`check`]; what each rule does
//! (warn or block) and how administrators change it is [`rules`].

pub mod check;
mod fold;
pub mod keys;
mod name_key;
mod person;
mod rule;
pub mod rules;

pub use check::{Match, find};
pub use name_key::{MIN_CORE_CHARS, RegionSet, company_name_key, pinyin_key};
pub use person::person_name_key;
pub use rule::{Action, Rule};
