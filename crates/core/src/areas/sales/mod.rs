//! Sales (销售管理): pipelines with their stages, the reasons deals are lost, and the
//! opportunities (商机) that move through them.

pub mod lost_reasons;
pub mod opportunities;
pub mod pipelines;

use crate::records::EntityDef;

pub use lost_reasons::LOST_REASONS;
pub use opportunities::OPPORTUNITIES;
pub use pipelines::PIPELINES;

/// This area's entities, in the order navigation shows them.
pub const ENTITIES: [&EntityDef; 3] = [&OPPORTUNITIES, &PIPELINES, &LOST_REASONS];
