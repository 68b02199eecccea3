//! The business areas and the entities each declares (DESIGN.md section 3). This is the one
//! place that lists them; the engine, the API and the UI learn them from the [`Registry`] built
//! here and passed through `Core`.

pub mod activities;
pub mod customers;
pub mod ledger;
pub mod lists;
pub mod sales;

use std::sync::OnceLock;

use crate::records::registry::Registry;

/// Every entity of every area, in the order navigation shows them.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut all = customers::ENTITIES.to_vec();
        all.extend(sales::ENTITIES);
        all.extend(activities::ENTITIES);
        Registry::new(all)
    })
}

pub(crate) fn str_field<'a>(rec: &'a crate::records::JsonMap, k: &str) -> &'a str {
    rec.get(k).and_then(|v| v.as_str()).unwrap_or("")
}
