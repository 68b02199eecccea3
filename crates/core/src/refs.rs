//! Titles of referenced records, as one reader may see them (DESIGN.md section 9: record-level
//! authorization in core, including for the titles of referenced records).
//!
//! A reference field stores only the id of the record it points at; whoever shows the reference
//! by name asks [`titles`], which applies the reader's read scope exactly as lists and `get` do.
//! There is no other way to turn a reference into a title, so no page, export or API response
//! can name a record its reader could not open.

use foldhash::{HashMap, HashMapExt, HashSet};

use serde_json::Value;
use uuid::Uuid;

use crate::authz::Actor;
use crate::custom_fields::CustomFieldDef;
use crate::db::memo;
use crate::error::CoreResult;
use crate::records::{FieldKind, JsonMap, Registry};
use crate::{Core, EntityDef};

/// The record a reference field's value points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The referenced entity's singular code, from the field's [`FieldKind::Ref`].
    pub entity: &'static str,
    pub id: Uuid,
}

/// How a reference reads to one reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefView<'a> {
    /// A live record the reader may read, by its title in the reader's language.
    Readable(&'a str),
    /// Outside the reader's scope, in the recycle bin, or gone. One case for all three, so that
    /// what is shown does not tell a reader that a record they may not see exists.
    Unreadable,
}

/// Titles resolved for one reader by [`titles`]; a target not in it reads as unreadable.
#[derive(Clone, Debug, Default)]
pub struct Titles {
    readable: HashMap<Target, String>,
}

impl Titles {
    pub fn view(&self, target: Target) -> RefView<'_> {
        match self.readable.get(&target) {
            Some(t) => RefView::Readable(t),
            None => RefView::Unreadable,
        }
    }
}

/// What a value of a field of `kind` points at: `None` for a kind that is not a reference to a
/// record, an empty value, one that is not an id, or (for "regarding") an entity not registered.
pub fn target_of(registry: &Registry, kind: &FieldKind, value: &Value) -> Option<Target> {
    let (entity, id) = match kind {
        FieldKind::Ref { entity, .. } => (*entity, value),
        // A line is named by its collection's table, which no entity shares.
        FieldKind::LineRef { child, .. } => (child.table, value),
        FieldKind::Regarding => (
            registry.by_name(value.get("entity")?.as_str()?)?.name,
            value.get("id")?,
        ),
        _ => return None,
    };
    let id = Uuid::parse_str(id.as_str()?.trim()).ok()?;
    Some(Target { entity, id })
}

/// Every reference held in the records' reference fields that `wanted` names: their own (by
/// name), their custom fields' (`custom.<key>`) and their lines' (by the collection's name).
pub fn targets<'r>(
    registry: &Registry,
    def: &EntityDef,
    custom: &[CustomFieldDef],
    recs: impl IntoIterator<Item = &'r JsonMap>,
    wanted: impl Fn(&str) -> bool,
) -> Vec<Target> {
    let mut out = Vec::new();
    // Only the fields that can refer to a record are looked up in each record: a board's 350
    // cards looked up every field of theirs by name, most of them to find nothing.
    let refers = |kind: &FieldKind| {
        matches!(
            kind,
            FieldKind::Ref { .. } | FieldKind::LineRef { .. } | FieldKind::Regarding
        )
    };
    let fields: Vec<_> = def
        .fields
        .iter()
        .filter(|f| refers(&f.kind) && wanted(f.name))
        .collect();
    let custom: Vec<_> = custom
        .iter()
        .filter(|d| refers(&d.kind) && wanted(&format!("custom.{}", d.key)))
        .collect();
    let children: Vec<_> = def
        .children
        .iter()
        .filter(|c| c.fields.iter().any(|f| refers(&f.kind)) && wanted(c.name))
        .collect();
    for rec in recs {
        for f in &fields {
            if let Some(t) = rec
                .get(f.name)
                .and_then(|v| target_of(registry, &f.kind, v))
            {
                out.push(t);
            }
        }
        let values = rec.get("custom");
        for d in &custom {
            if let Some(t) = values
                .and_then(|c| c.get(&d.key))
                .and_then(|v| target_of(registry, &d.kind, v))
            {
                out.push(t);
            }
        }
        for child in &children {
            let lines = rec.get(child.name).and_then(Value::as_array);
            for line in lines.into_iter().flatten() {
                for f in child.fields.iter().filter(|f| refers(&f.kind)) {
                    if let Some(t) = line
                        .get(f.name)
                        .and_then(|v| target_of(registry, &f.kind, v))
                    {
                        out.push(t);
                    }
                }
            }
        }
    }
    out
}

/// Ids per query: a page of records refers to a few hundred at most, and this keeps any one
/// query far below the databases' limits on bound parameters.
const CHUNK: usize = 500;

/// The titles of those `targets` that `actor` may read, in the actor's language.
pub async fn titles(core: &Core, actor: &Actor, targets: &[Target]) -> CoreResult<Titles> {
    let reader = actor.user_id;
    let mut readable = HashMap::new();
    let mut by_entity: HashMap<&'static str, HashSet<Uuid>> = HashMap::new();
    for t in targets {
        // Learnt earlier in this read (the page's own record, named again by its related
        // lists), whether readable or not.
        match memo::title(reader, t.entity, t.id) {
            Some(Some(title)) => {
                readable.insert(*t, title);
            }
            Some(None) => {}
            None => {
                by_entity.entry(t.entity).or_default().insert(t.id);
            }
        }
    }
    for (entity, ids) in by_entity {
        let mut found = HashMap::new();
        match core.registry.by_name(entity) {
            None => line_titles(core, actor, entity, &ids, &mut found).await?,
            Some(def) => {
                let svc = core.records(def);
                let ids: Vec<Uuid> = ids.iter().copied().collect();
                for chunk in ids.chunks(CHUNK) {
                    for (id, title) in svc.titles(actor, chunk).await? {
                        found.insert(Target { entity, id }, title);
                    }
                }
            }
        }
        for id in ids {
            let target = Target { entity, id };
            memo::keep_title(reader, entity, id, found.get(&target).cloned());
        }
        readable.extend(found);
    }
    Ok(Titles { readable })
}

/// Titles of lines of a child collection (a pipeline's stages), named by its table. A line reads
/// as its parent entity does: whoever may read that entity at all may read its lines' names. A
/// table no entity declares cannot be read by anyone.
async fn line_titles(
    core: &Core,
    actor: &Actor,
    table: &'static str,
    ids: &HashSet<Uuid>,
    readable: &mut HashMap<Target, String>,
) -> CoreResult<()> {
    let Some((parent, child)) = core.registry.all().iter().find_map(|e| {
        e.children
            .iter()
            .find(|c| c.table == table)
            .map(|c| (*e, c))
    }) else {
        return Ok(());
    };
    if actor.grant(parent.name).read == crate::Scope::None {
        return Ok(());
    }
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let found =
            crate::records::children::line_titles(core.db.reader(), child, chunk, &actor.locale)
                .await?;
        for (id, title) in found {
            readable.insert(Target { entity: table, id }, title);
        }
    }
    Ok(())
}
