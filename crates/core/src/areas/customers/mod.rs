//! Customers (客户管理): the accounts a business deals with and the people at them.

pub mod accounts;
pub mod contacts;

use crate::records::EntityDef;

pub use accounts::ACCOUNTS;
pub use contacts::CONTACTS;

/// This area's entities, in the order navigation shows them.
pub const ENTITIES: [&EntityDef; 2] = [&ACCOUNTS, &CONTACTS];
