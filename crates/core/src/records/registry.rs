//! The entities one installation serves, as the engine, the API and the UI see them. Built once
//! from the area modules (`crate::areas`) and handed around through `Core`, so nothing generic
//! needs to know which entities exist.

use std::sync::Arc;

use super::def::{ChildDef, EntityDef, FieldDef, FieldKind};
use super::layout::RowLayout;
use crate::error::FieldError;

pub struct Registry {
    entities: Vec<&'static EntityDef>,
    /// Each entity's row layout, in the order of `entities`: laid out once rather than on
    /// every request that reads a row.
    layouts: Vec<Arc<RowLayout>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entities.iter().map(|e| e.name))
            .finish()
    }
}

/// A reference from one entity to another: `field` of `from` holds ids of the target.
#[derive(Clone, Copy)]
pub struct Reference {
    pub from: &'static EntityDef,
    pub field: &'static FieldDef,
}

impl Registry {
    /// The registry of these entities, in the order navigation shows them.
    pub fn new(entities: Vec<&'static EntityDef>) -> Registry {
        let layouts = entities
            .iter()
            .map(|e| Arc::new(RowLayout::of(e)))
            .collect();
        Registry { entities, layouts }
    }

    /// Where `def`'s values sit in a row of its table. An entity outside the registry (one a
    /// test declares for itself) is laid out on each call.
    pub fn layout(&self, def: &'static EntityDef) -> Arc<RowLayout> {
        self.entities
            .iter()
            .position(|e| std::ptr::eq(*e, def))
            .and_then(|i| self.layouts.get(i))
            .cloned()
            .unwrap_or_else(|| Arc::new(RowLayout::of(def)))
    }

    pub fn all(&self) -> &[&'static EntityDef] {
        &self.entities
    }

    /// By singular code (`account`), as in permissions, audit and custom fields.
    pub fn by_name(&self, name: &str) -> Option<&'static EntityDef> {
        self.entities.iter().copied().find(|e| e.name == name)
    }

    /// By plural code (`accounts`), as in URLs.
    pub fn by_plural(&self, plural: &str) -> Option<&'static EntityDef> {
        self.entities.iter().copied().find(|e| e.plural == plural)
    }

    /// By either code, for parameters that accept both.
    pub fn find(&self, name_or_plural: &str) -> Option<&'static EntityDef> {
        self.by_name(name_or_plural)
            .or_else(|| self.by_plural(name_or_plural))
    }

    /// The error for a name that is none of the entities': which ones there are.
    pub fn not_an_entity(&self, name: &str) -> FieldError {
        let names: Vec<&str> = self.entities.iter().map(|e| e.name).collect();
        FieldError::not_one_of(name, &names)
    }

    /// The entity people land on first.
    pub fn home(&self) -> Option<&'static EntityDef> {
        self.entities.first().copied()
    }

    /// Every reference field, of any entity, that points at `target`: the related lists of a
    /// record page.
    pub fn references_to(&self, target: &str) -> Vec<Reference> {
        self.entities
            .iter()
            .flat_map(|from| {
                from.fields
                    .iter()
                    .filter_map(move |field| match field.kind {
                        FieldKind::Ref { entity, .. } if entity == target => {
                            Some(Reference { from, field })
                        }
                        _ => None,
                    })
            })
            .collect()
    }

    /// Every field, of any entity, that holds a line of `child` (an opportunity's stage, a line
    /// of a pipeline's stages).
    pub fn line_references_to(&self, child: &ChildDef) -> Vec<Reference> {
        self.entities
            .iter()
            .flat_map(|from| {
                from.fields
                    .iter()
                    .filter_map(move |field| match field.kind {
                        FieldKind::LineRef { child: c, .. } if std::ptr::eq(c, child) => {
                            Some(Reference { from, field })
                        }
                        _ => None,
                    })
            })
            .collect()
    }

    /// The business areas with their entities, in declaration order.
    pub fn areas(&self) -> Vec<(&'static str, Vec<&'static EntityDef>)> {
        let mut out: Vec<(&'static str, Vec<&'static EntityDef>)> = Vec::new();
        for e in &self.entities {
            match out.iter_mut().find(|(a, _)| *a == e.area) {
                Some((_, list)) => list.push(e),
                None => out.push((e.area, vec![e])),
            }
        }
        out
    }
}
