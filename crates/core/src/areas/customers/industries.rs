//! Industries (行业): the admin-edited list accounts are filed under (manufacturing, finance,
//! retail), so customers can be segmented and campaigns aimed by trade.

use crate::areas::lists::{LIST_FIELDS, list_names, list_title};
use crate::records::Plain;
use crate::records::def::{Access, EntityDef};

pub static INDUSTRIES: EntityDef = EntityDef {
    name: "industry",
    plural: "industries",
    area: "customers",
    table: "industries",
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
