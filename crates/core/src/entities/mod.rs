//! The business entities the record engine serves, by name.

pub mod accounts;
pub mod contacts;

use crate::records::EntityDef;

pub use accounts::ACCOUNTS;
pub use contacts::CONTACTS;

pub const ALL: [&EntityDef; 2] = [&ACCOUNTS, &CONTACTS];

/// By singular code (`account`).
pub fn by_name(name: &str) -> Option<&'static EntityDef> {
    ALL.into_iter().find(|e| e.name == name)
}

/// By plural code (`accounts`), as in URLs.
pub fn by_plural(plural: &str) -> Option<&'static EntityDef> {
    ALL.into_iter().find(|e| e.plural == plural)
}

pub(crate) fn str_field<'a>(rec: &'a crate::records::JsonMap, k: &str) -> &'a str {
    rec.get(k).and_then(|v| v.as_str()).unwrap_or("")
}
