//! Sources (来源): the admin-edited list of where accounts and deals come from (a website, a
//! referral, a trade show), so managers can see which channels bring customers.

use crate::areas::lists::{LIST_FIELDS, list_names, list_title};
use crate::records::Plain;
use crate::records::def::{Access, EntityDef};

pub static SOURCES: EntityDef = EntityDef {
    name: "source",
    plural: "sources",
    area: "customers",
    table: "sources",
    fields: LIST_FIELDS,
    default_sort: "position",
    default_columns: &["name", "position", "description"],
    related_columns: &["name"],
    title_sort: "position",
    title: list_title,
    search_names: list_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Setup,
    example: None,
    behaviour: &Plain,
    error_codes: &[],
};
