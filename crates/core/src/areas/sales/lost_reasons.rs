//! Lost reasons (输单原因): the admin-edited list a lost opportunity names its reason from.

use crate::areas::lists::{LIST_FIELDS, list_names, list_title};
use crate::records::Plain;
use crate::records::def::{Access, EntityDef};

pub static LOST_REASONS: EntityDef = EntityDef {
    name: "lost_reason",
    plural: "lost_reasons",
    area: "sales",
    table: "lost_reasons",
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
