//! Activities (跟进): the tasks, calls, meetings, visits and notes of a rep's day.

// The area and its one entity share a name: `areas/<area>/<entity>.rs` is the layout every
// area follows (DESIGN.md §3).
#[allow(clippy::module_inception)]
pub mod activities;

use crate::records::EntityDef;

pub use activities::ACTIVITIES;

/// This area's entities, in the order navigation shows them.
pub const ENTITIES: [&EntityDef; 1] = [&ACTIVITIES];
