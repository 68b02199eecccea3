//! The row image of a new record: every row a create writes, built in one place.
//!
//! The record service writes these rows with bound parameters; a bulk loader may render the same
//! rows as SQL text. Either way the columns and values come from here (and from the per-table
//! builders this calls: [`audit::row`], [`search::entry`], [`search::points::rows`],
//! [`dedupe::keys::rows`], [`children::rows`]), so a loader cannot drift into a layout of its own.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Value as SqlValue;
use serde_json::Value;
use uuid::Uuid;

use super::def::EntityDef;
use super::values::{self, blank};
use super::{JsonMap, children};
use crate::audit::{self, Change};
pub use crate::db::TableRow;
use crate::db::{self, Backend, Part};
use crate::error::CoreResult;
use crate::{dedupe, search};

/// Who creates a record and when: the values a create adds to the record's own fields.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub id: Uuid,
    pub owner: Uuid,
    /// The instant of the create: `created_at`, `updated_at` and the audit entry's `at`.
    pub at: DateTime<Utc>,
    /// The user who creates it: `created_by`, `updated_by` and the audit entry's actor.
    pub actor: Uuid,
    /// The id of the create's audit entry.
    pub audit_id: Uuid,
}

/// Every row a create writes, in the order it writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct RowImage {
    /// The entity's row, system columns included.
    pub record: TableRow,
    /// The lines of its child collections, collection by collection, in order.
    pub lines: Vec<TableRow>,
    /// Its matching keys: its normalized phones, e-mails and domains (`contact_points`), then
    /// its other duplicate-check keys (`dedupe_keys`, see `dedupe::keys`).
    pub points: Vec<TableRow>,
    /// Its global-search document.
    pub search: TableRow,
    /// The "create" audit entry with the field-level changes.
    pub audit: TableRow,
}

/// The system columns a new row gets beside its fields and `custom`, in the order they are
/// written.
pub const CREATE_SYSTEM_COLUMNS: [&str; 7] = [
    "id",
    "owner_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
];

impl RowImage {
    /// The rows of a new record of `def`. `rec` is the canonical record after validation and
    /// derived fields, with its child collections; its owner is the stamp's. The search
    /// document's text is in the form `backend` stores it.
    pub fn of_create(
        def: &EntityDef,
        rec: &JsonMap,
        stamp: &Stamp,
        backend: Backend,
    ) -> CoreResult<RowImage> {
        let mut record = field_columns(def, rec);
        let system: [SqlValue; CREATE_SYSTEM_COLUMNS.len()] = [
            stamp.id.into(),
            stamp.owner.into(),
            stamp.at.into(),
            stamp.actor.into(),
            stamp.at.into(),
            stamp.actor.into(),
            1i64.into(),
        ];
        record.extend(
            CREATE_SYSTEM_COLUMNS
                .iter()
                .map(|c| c.to_string())
                .zip(system),
        );
        let mut lines = Vec::new();
        for child in def.children {
            lines.extend(children::rows(
                child,
                stamp.id,
                rec.get(child.name).unwrap_or(&Value::Null),
                &children::carried(def, child, rec),
            ));
        }
        let audit = audit::row(
            stamp.audit_id,
            def.name,
            stamp.id,
            "create",
            Some(stamp.actor),
            stamp.at,
            &create_changes(def, rec, stamp.owner),
        )?;
        Ok(RowImage {
            record: TableRow::new(def.table, record),
            lines,
            points: search::points::rows(def.name, stamp.id, rec)
                .into_iter()
                .chain(dedupe::keys::rows(def, stamp.id, rec))
                .collect(),
            search: search::entry(
                def,
                stamp.id,
                stamp.owner,
                search::order::slot(stamp.at),
                rec,
                backend,
            ),
            audit,
        })
    }

    /// Writes the rows with bound parameters, as the record service does: on SQLite one round
    /// trip (see [`db::Batch`]), held to go with the next records' where the transaction sends
    /// writes ahead (a bulk load's, see `WriteTxn::write_record`).
    pub async fn write(self, conn: &db::WriteTxn) -> CoreResult<()> {
        let RowImage {
            record,
            lines,
            points,
            search,
            audit,
        } = self;
        let mut parts = vec![Part::Rows(vec![record])];
        for rows in [lines, points] {
            // Lines of different collections go to different tables.
            let mut rows = rows.into_iter().peekable();
            while let Some(first) = rows.next() {
                let mut group = vec![first];
                while let Some(next) = rows.next_if(|r| r.table == group[0].table) {
                    group.push(next);
                }
                parts.push(Part::Rows(group));
            }
        }
        parts.push(Part::Alone(search::entry_statement(conn, search)));
        parts.push(Part::Rows(vec![audit]));
        Ok(conn.write_record(parts).await?)
    }
}

/// The columns of a record's fields and its custom fields, as every write stores them.
pub fn field_columns(def: &EntityDef, rec: &JsonMap) -> Vec<(String, SqlValue)> {
    let mut out = Vec::with_capacity(def.fields.len() + 1 + CREATE_SYSTEM_COLUMNS.len());
    for f in def.fields {
        out.extend(values::to_columns(
            f,
            rec.get(f.name).unwrap_or(&Value::Null),
        ));
    }
    out.push((
        "custom".into(),
        SqlValue::Json(Some(Box::new(
            rec.get("custom")
                .cloned()
                .unwrap_or(Value::Object(JsonMap::new())),
        ))),
    ));
    out
}

/// The changes a create's audit entry lists: every field from nothing to its value (children
/// line by line), as [`audit::diff`] and [`children::diff`] word an update.
pub fn create_changes(def: &EntityDef, rec: &JsonMap, owner: Uuid) -> Vec<Change> {
    // A blank value is no change from nothing, so only the others are copied for the diff.
    let mut after: JsonMap = rec
        .iter()
        .filter(|(k, v)| def.child(k).is_none() && !blank(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    after.insert("owner_id".into(), Value::String(owner.to_string()));
    let mut changes = audit::diff(&JsonMap::new(), &after);
    for child in def.children.iter().filter(|c| !c.computed) {
        changes.extend(children::diff(
            child,
            &Value::Null,
            rec.get(child.name).unwrap_or(&Value::Null),
        ));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    /// A canonical record of `def` as the service holds one before a create: every field, the
    /// entity's example values (lines included) where it has them, and a custom field.
    fn record(def: &EntityDef, owner: Uuid) -> JsonMap {
        let settings = Settings::default();
        let mut rec = JsonMap::new();
        for f in def.fields {
            rec.insert(
                f.name.into(),
                values::canonical(&f.kind, &Value::Null, &settings).unwrap_or(Value::Null),
            );
        }
        let example = def.example.map(|e| e(1)).unwrap_or_default();
        for child in def.children {
            let mut errors = crate::error::FieldErrors::new();
            let lines = children::canonical(
                child,
                example.get(child.name).unwrap_or(&Value::Null),
                None,
                &settings,
                &mut errors,
            );
            assert!(errors.is_empty(), "{}: {errors:?}", def.name);
            rec.insert(child.name.into(), lines);
        }
        for (k, v) in &example {
            if let Some(f) = def.field(k) {
                rec.insert(k.clone(), values::canonical(&f.kind, v, &settings).unwrap());
            }
        }
        rec.insert(
            "custom".into(),
            serde_json::json!({"note": "x", "empty": null}),
        );
        rec.insert("owner_id".into(), Value::String(owner.to_string()));
        rec
    }

    /// A create's changes are the diff from nothing that the service words an update with:
    /// leaving blank values out before diffing changes nothing.
    #[test]
    fn create_changes_are_the_diff_from_nothing() {
        let owner = Uuid::now_v7();
        for def in crate::areas::registry().all() {
            let rec = record(def, owner);
            let mut plain = rec.clone();
            for child in def.children {
                plain.remove(child.name);
            }
            let mut expected = audit::diff(&JsonMap::new(), &plain);
            for child in def.children.iter().filter(|c| !c.computed) {
                expected.extend(children::diff(
                    child,
                    &Value::Null,
                    rec.get(child.name).unwrap_or(&Value::Null),
                ));
            }
            let changes = create_changes(def, &rec, owner);
            assert_eq!(changes, expected, "{}", def.name);
            assert!(changes.iter().any(|c| c.field == "owner_id"));
            assert!(changes.iter().any(|c| c.field == "custom.note"));
        }
    }

    /// The image holds a row per line, the system columns after the fields, and the create's
    /// audit entry at the create's instant.
    #[test]
    fn the_image_holds_every_row_of_a_create() {
        let stamp = Stamp {
            id: Uuid::now_v7(),
            owner: Uuid::now_v7(),
            at: crate::now(),
            actor: Uuid::now_v7(),
            audit_id: Uuid::now_v7(),
        };
        for def in crate::areas::registry().all() {
            let rec = record(def, stamp.owner);
            let image = RowImage::of_create(def, &rec, &stamp, Backend::Sqlite).unwrap();
            assert_eq!(image.record.table, def.table);
            let names: Vec<&str> = image.record.names().collect();
            assert_eq!(
                names[names.len() - CREATE_SYSTEM_COLUMNS.len()..],
                CREATE_SYSTEM_COLUMNS,
                "{}",
                def.name
            );
            let lines: usize = def
                .children
                .iter()
                .map(|c| rec[c.name].as_array().map_or(0, Vec::len))
                .sum();
            assert_eq!(image.lines.len(), lines, "{}", def.name);
            let audit: Vec<(&str, &SqlValue)> = image
                .audit
                .columns
                .iter()
                .map(|(c, v)| (c.as_str(), v))
                .collect();
            assert_eq!(audit[3], ("action", &SqlValue::from("create")));
            assert_eq!(audit[5], ("at", &SqlValue::from(stamp.at)));
            assert_eq!(image.search.table, "search_entries");
        }
    }
}
