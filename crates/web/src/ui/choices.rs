//! Options for fields whose values come from short lists that administrators keep: a reference
//! to a setup entity (a pipeline, a lost reason) is picked from a select rather than searched
//! for, and a line of one (a pipeline's stage) from the lines of every such record.

use std::collections::HashMap;

use guanxi_core::records::def::{Access, FieldDef, FieldKind};
use guanxi_core::records::{Count, ListQuery, Record};
use guanxi_core::{Actor, Core, EntityDef};
use serde_json::Value;

use crate::error::ApiError;

/// As many records as a setup list holds in practice; a longer one is cut, never an error.
const MAX_OPTIONS: u64 = 200;

/// Options (value, label) per field name.
#[derive(Default)]
pub struct Choices {
    by_field: HashMap<&'static str, Vec<(String, String)>>,
    /// The setup records read for them, by entity name, with their lines when a field picks
    /// one: what else the page needs of them is here without reading them again.
    records: HashMap<&'static str, Vec<Record>>,
}

impl Choices {
    /// The options of a field that is picked from a list, or `None` for one that is not.
    pub fn of(&self, field: &str) -> Option<&[(String, String)]> {
        self.by_field.get(field).map(Vec::as_slice)
    }

    /// The records of setup entity `entity` the options were read from, if any field picks
    /// from it.
    pub fn records(&self, entity: &str) -> Option<&[Record]> {
        self.records.get(entity).map(Vec::as_slice)
    }
}

/// The setup entity a field refers to, directly or through the record its lines belong to.
fn setup_target(core: &Core, fields: &[FieldDef], f: &FieldDef) -> Option<&'static EntityDef> {
    let entity = match f.kind {
        FieldKind::Ref { entity, .. } => entity,
        FieldKind::LineRef { via, .. } => match fields.iter().find(|v| v.name == via)?.kind {
            FieldKind::Ref { entity, .. } => entity,
            _ => return None,
        },
        _ => return None,
    };
    core.registry
        .by_name(entity)
        .filter(|d| d.access == Access::Setup)
}

/// Loads the options of every field among `fields` (and the action inputs `extra`, which may
/// name lines through the record's own fields) that is picked from a list.
pub async fn load(
    core: &Core,
    actor: &Actor,
    fields: &'static [FieldDef],
    extra: &[&'static FieldDef],
) -> Result<Choices, ApiError> {
    let mut out = Choices::default();
    let all = fields.iter().chain(extra.iter().copied());
    // A list read once however many fields pick from it (a deal's pipeline and its stage).
    // Each with whether its lines were read yet.
    let mut read: Vec<(&'static str, guanxi_core::records::Page, bool)> = Vec::new();
    for f in all {
        let Some(target) = setup_target(core, fields, f) else {
            continue;
        };
        let svc = core.records(target);
        let at = match read.iter().position(|(name, ..)| *name == target.name) {
            Some(at) => at,
            None => {
                let page = svc
                    .list(
                        actor,
                        &ListQuery {
                            limit: MAX_OPTIONS,
                            count: Count::No,
                            ..Default::default()
                        },
                    )
                    .await?;
                read.push((target.name, page, false));
                read.len() - 1
            }
        };
        // Lists leave lines out; a field picking a line needs them, read once for all.
        if matches!(f.kind, FieldKind::LineRef { .. }) && !read[at].2 {
            svc.with_lines(&mut read[at].1.items).await?;
            read[at].2 = true;
        }
        let page = &read[at].1;
        let mut options = Vec::new();
        for rec in &page.items {
            let title = (target.title)(rec, &actor.locale);
            let id = rec.get("id").and_then(Value::as_str).unwrap_or("");
            match f.kind {
                FieldKind::LineRef { child, .. } => {
                    for line in rec
                        .get(child.name)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(obj) = line.as_object() else {
                            continue;
                        };
                        let line_id = obj.get("id").and_then(Value::as_str).unwrap_or("");
                        let label = (child.title)(obj, &actor.locale);
                        let label = if page.items.len() > 1 {
                            format!("{title} · {label}")
                        } else {
                            label
                        };
                        options.push((line_id.to_string(), label));
                    }
                }
                _ => options.push((id.to_string(), title)),
            }
        }
        out.by_field.insert(f.name, options);
    }
    out.records = read
        .into_iter()
        .map(|(name, page, _)| (name, page.items))
        .collect();
    Ok(out)
}
