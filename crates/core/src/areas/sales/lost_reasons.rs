//! Lost reasons (输单原因): the admin-edited list a lost opportunity names its reason from.

use crate::records::def::{Access, EntityDef, FieldDef, FieldKind};
use crate::records::values::{LABEL_LOCALES, label_in};
use crate::records::{JsonMap, Plain};

const FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldKind::Labels { max: 100 }).required(),
    FieldDef::new(
        "position",
        FieldKind::Int {
            min: 0,
            max: 10_000,
        },
    )
    .sortable(),
    FieldDef::new("description", FieldKind::LongText { max: 2_000 }),
];

fn title(rec: &JsonMap, locale: &str) -> String {
    label_in(rec.get("name").unwrap_or(&serde_json::Value::Null), locale)
}

fn search_names(rec: &JsonMap) -> Vec<String> {
    let name = rec.get("name").unwrap_or(&serde_json::Value::Null);
    LABEL_LOCALES.iter().map(|l| label_in(name, l)).collect()
}

pub static LOST_REASONS: EntityDef = EntityDef {
    name: "lost_reason",
    plural: "lost_reasons",
    area: "sales",
    table: "lost_reasons",
    fields: FIELDS,
    default_sort: "position",
    default_columns: &["name", "position", "description"],
    related_columns: &["name"],
    title_sort: "position",
    title,
    search_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Setup,
    example: None,
    behaviour: &Plain,
    error_codes: &[],
};
