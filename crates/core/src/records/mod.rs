//! The generic record engine: one implementation of create, read, update, soft delete, restore,
//! purge, owner changes, lists with filters and keyset pagination, audit and search indexing,
//! driven by an [`EntityDef`] per business entity. Accounts and contacts are the first two; later
//! areas add a definition (and a migration) rather than another copy of this code.

pub mod aggregate;
pub mod behaviour;
pub mod board;
pub mod bulk;
pub mod calendar;
pub mod children;
pub mod cursor;
pub mod def;
pub mod export;
pub mod filter;
pub mod layout;
pub mod magnitude;
pub mod money;
pub mod percent;
pub mod pinyin_match;
pub mod registry;
pub mod rollup;
pub mod row;
pub mod scope_plan;
pub mod service;
pub mod sort_key;
pub mod values;
pub mod work;

pub use behaviour::{Behaviour, Event, Plain};
pub use def::{
    Access, ActionDef, BoardDef, CalendarDef, ChartDef, ChartKind, ChildDef, EntityDef, FieldDef,
    FieldGroup, FieldKind, OptionSet, RollupDef, StateMachine, TimelineDef, Transition,
};
pub use filter::{Filter, FilterOp};
pub use registry::{Reference, Registry};
pub use row::{RowImage, Stamp, TableRow};
pub use service::{COUNT_CAP, Count, ListQuery, Page, Record, RowPage, SortSpec, Total};
pub use work::Work;

/// A JSON object: records travel through the engine in their API shape.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
