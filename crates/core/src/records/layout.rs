//! Where an entity's values sit in a row of its table, and a record read back out of a row: as a
//! [`Record`] for code to work on, or serialized straight into its API shape for a list page.
//!
//! Both read every value the same way ([`Slot::value`]) and in the order a record's keys sort,
//! so a page written from its rows is, byte for byte, the page its records serialize to. The
//! exception is what SQLite stores as the very text a value shows (text, an address's parts,
//! lists kept as JSON): a page writes that straight from the row ([`Slot::stored_text`]), and tests hold the
//! bytes equal. Writing
//! it from the rows skips building a map per record (thirty-odd keys, each allocated and sorted
//! in) only to serialize it and drop it, which was most of a list page's CPU.

use chrono::{DateTime, Utc};
use sea_orm::QueryResult;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::def::{ADDRESS_PARTS, EntityDef, FieldDef, FieldKind};
use super::service::{Record, ts_string};
use super::values;
use crate::custom_fields::CustomFieldDef;
use crate::db::get_at;
use crate::error::{CoreError, CoreResult};

/// How a column's value becomes JSON.
#[derive(Debug, Clone, Copy)]
enum Source {
    Id,
    OptId,
    Version,
    Instant,
    OptInstant,
    /// The custom fields' values, one JSON object.
    Custom,
    Field(&'static FieldDef),
}

/// The system columns every record table starts with, in the order a row selects them; the
/// same names as [`super::def::SYSTEM_FIELDS`] (a test holds them together).
const SYSTEM: [(&str, Source); 9] = [
    ("id", Source::Id),
    ("owner_id", Source::Id),
    ("version", Source::Version),
    ("created_at", Source::Instant),
    ("created_by", Source::OptId),
    ("updated_at", Source::Instant),
    ("updated_by", Source::OptId),
    ("deleted_at", Source::OptInstant),
    ("deleted_by", Source::OptId),
];

/// Positions of the system columns a service reads apart from the record.
pub const ID_AT: usize = 0;
pub const OWNER_AT: usize = 1;
pub const VERSION_AT: usize = 2;

/// How many of the system columns, from the first, every row holds however few fields a page
/// reads: what tells records apart, whose they are (the reader's scope), and the version a
/// change must name.
const ALWAYS: usize = 3;

/// One key of a record and where its value starts in the row.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: &'static str,
    at: usize,
    source: Source,
}

impl Slot {
    fn value(&self, row: &QueryResult) -> CoreResult<Value> {
        let (at, key) = (self.at, self.key);
        let instant = |t: DateTime<Utc>| Value::String(ts_string(t));
        Ok(match self.source {
            Source::Id => values::id_json(get_at(row, at, key)?),
            Source::OptId => get_at::<Option<Uuid>>(row, at, key)?
                .map(values::id_json)
                .unwrap_or(Value::Null),
            Source::Version => Value::from(get_at::<i64>(row, at, key)?),
            Source::Instant => instant(get_at(row, at, key)?),
            Source::OptInstant => get_at::<Option<DateTime<Utc>>>(row, at, key)?
                .map(instant)
                .unwrap_or(Value::Null),
            Source::Custom => get_at(row, at, key)?,
            Source::Field(f) => values::from_row(f, row, at)?,
        })
    }
}

/// An entity's row: its columns in select order, and its keys in the order they sort.
#[derive(Debug, Clone)]
pub struct RowLayout {
    columns: Vec<String>,
    slots: Vec<Slot>,
}

impl RowLayout {
    /// The whole row: every field and the custom values.
    pub fn of(def: &'static EntityDef) -> RowLayout {
        RowLayout::with(def, |_| true)
    }

    /// A row of the id, owner and version and only the fields `wanted` names (`custom` for the
    /// custom values, `created_at` and the like for the other system fields): what a page that
    /// shows a few fields of each record reads, where decoding the rest cost most of its time.
    /// A record read through it holds those keys only.
    pub fn of_fields(def: &'static EntityDef, wanted: &[&str]) -> RowLayout {
        RowLayout::with(def, |name| wanted.contains(&name))
    }

    /// A row of the id and the fields the title reads, and nothing else: what naming the
    /// hundreds of records a page refers to reads (a board names the accounts of its 300
    /// cards), where decoding each row's system columns besides cost more than the title.
    pub fn naming(def: &'static EntityDef) -> RowLayout {
        let columns = vec!["id".to_string()];
        let slots = vec![Slot {
            key: "id",
            at: 0,
            source: Source::Id,
        }];
        let title = def
            .fields
            .iter()
            .filter(|f| def.title_fields.contains(&f.name));
        RowLayout::then_fields(columns, slots, title)
    }

    /// The row of the system columns every row holds, and of the other system columns, the
    /// custom values and the fields `wanted` names.
    fn with(def: &'static EntityDef, wanted: impl Fn(&str) -> bool) -> RowLayout {
        let mut columns: Vec<String> = Vec::new();
        let mut slots: Vec<Slot> = Vec::new();
        for (i, &(key, source)) in SYSTEM.iter().enumerate() {
            if i < ALWAYS || wanted(key) {
                slots.push(Slot {
                    key,
                    at: columns.len(),
                    source,
                });
                columns.push(key.to_string());
            }
        }
        if wanted("custom") {
            slots.push(Slot {
                key: "custom",
                at: columns.len(),
                source: Source::Custom,
            });
            columns.push("custom".into());
        }
        let fields = def.fields.iter().filter(|f| wanted(f.name));
        RowLayout::then_fields(columns, slots, fields)
    }

    /// The row of `columns` and `slots` so far, then `fields`' columns.
    fn then_fields(
        mut columns: Vec<String>,
        mut slots: Vec<Slot>,
        fields: impl Iterator<Item = &'static FieldDef>,
    ) -> RowLayout {
        for f in fields {
            slots.push(Slot {
                key: f.name,
                at: columns.len(),
                source: Source::Field(f),
            });
            columns.extend(values::columns(f));
        }
        // A record is a map whose keys iterate in byte order; the slots follow it.
        slots.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        RowLayout { columns, slots }
    }

    /// The columns a row selects, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The record a row holds, with every custom value stored.
    pub fn record(&self, row: &QueryResult) -> CoreResult<Record> {
        let mut rec = Record::new();
        for slot in &self.slots {
            rec.insert(slot.key.into(), slot.value(row)?);
        }
        Ok(rec)
    }

    /// Rows as the JSON array of their records, each showing only the custom values `defs`
    /// declares (as [`declared_only`] leaves a record).
    pub fn json<'a>(&'a self, rows: &'a [QueryResult], defs: &'a [CustomFieldDef]) -> RowsJson<'a> {
        RowsJson {
            layout: self,
            rows,
            defs,
        }
    }
}

/// Drops the custom values no field declares any more: a deleted field's values stay stored
/// until the record is next saved, but are not shown.
pub fn declared_only(custom: &mut Value, defs: &[CustomFieldDef]) {
    if let Value::Object(c) = custom {
        c.retain(|k, _| defs.iter().any(|d| &d.key == k));
    }
}

/// Records still in their rows, serialized as a JSON array of records.
pub struct RowsJson<'a> {
    layout: &'a RowLayout,
    rows: &'a [QueryResult],
    defs: &'a [CustomFieldDef],
}

impl Serialize for RowsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            seq.serialize_element(&RowJson { of: self, row })?;
        }
        seq.end()
    }
}

struct RowJson<'a> {
    of: &'a RowsJson<'a>,
    row: &'a QueryResult,
}

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let slots = &self.of.layout.slots;
        let mut map = s.serialize_map(Some(slots.len()))?;
        let sqlite = self.row.try_as_sqlite_row();
        for slot in slots {
            if let Some(text) = sqlite.and_then(|r| slot.stored_text(r)) {
                match text.map_err(S::Error::custom)? {
                    StoredText::Text(t) => map.serialize_entry(slot.key, &t)?,
                    StoredText::Json(t) => {
                        let raw: &RawValue = serde_json::from_str(t).map_err(S::Error::custom)?;
                        map.serialize_entry(slot.key, raw)?
                    }
                    StoredText::Address(parts) => map.serialize_entry(slot.key, &parts)?,
                }
                continue;
            }
            match slot.source {
                // Formatted on the stack: two ids a record, a hundred a page.
                Source::Id => {
                    let id: Uuid = get_at(self.row, slot.at, slot.key).map_err(S::Error::custom)?;
                    map.serialize_entry(slot.key, id.hyphenated().encode_lower(&mut [0; 36]))?;
                }
                _ => {
                    let mut v = slot.value(self.row).map_err(S::Error::custom)?;
                    if let Source::Custom = slot.source {
                        declared_only(&mut v, self.of.defs);
                    }
                    map.serialize_entry(slot.key, &v)?;
                }
            }
        }
        map.end()
    }
}

/// A value SQLite stores as text that a page can write without a copy: text shown as it is
/// stored (`None` for empty), or JSON written as stored.
enum StoredText<'r> {
    Text(Option<&'r str>),
    Json(&'r str),
    Address(AddressParts<'r>),
}

/// An address's parts as stored, written as the object a record holds: keys in byte order,
/// empty parts `null`.
struct AddressParts<'r>([(&'static str, Option<&'r str>); ADDRESS_PARTS.len()]);

impl Serialize for AddressParts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut parts = self.0;
        parts.sort_unstable_by_key(|(k, _)| *k);
        let mut map = s.serialize_map(Some(parts.len()))?;
        for (k, v) in parts {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

impl Slot {
    /// The stored text of this slot's value in an SQLite row, where the value is that text
    /// (see [`values::from_row`]): text kinds, dates, addresses, and the lists kept as JSON. A page of fifty
    /// records holds about a thousand of them; written from the row, none is copied into a
    /// `String` or parsed into a `Value` first. `None` for every other kind, and for
    /// PostgreSQL, which returns JSON as `jsonb`.
    fn stored_text<'r>(&self, row: &'r SqliteRow) -> Option<CoreResult<StoredText<'r>>> {
        let Source::Field(f) = self.source else {
            return None;
        };
        let read = |at: usize| {
            row.try_get::<Option<&str>, _>(at).map_err(|e| {
                CoreError::Internal(format!("reading column {} (#{at}): {e}", f.column))
            })
        };
        Some(match f.kind {
            FieldKind::Text { .. }
            | FieldKind::LongText { .. }
            | FieldKind::Choice(_)
            | FieldKind::Url
            | FieldKind::TaxId => {
                read(self.at).map(|t| StoredText::Text(t.filter(|t| !t.is_empty())))
            }
            FieldKind::Phones
            | FieldKind::Emails
            | FieldKind::StringList { .. }
            | FieldKind::MultiChoice(_) => match read(self.at) {
                Ok(Some(t)) => Ok(StoredText::Json(t)),
                Ok(None) => Ok(StoredText::Json("null")),
                Err(e) => Err(e),
            },
            FieldKind::Date => {
                return values::stored_date(row, self.at).map(|t| Ok(StoredText::Text(t)));
            }
            FieldKind::Address => {
                let mut parts = [("", None); ADDRESS_PARTS.len()];
                for (i, part) in ADDRESS_PARTS.iter().enumerate() {
                    match read(self.at + i) {
                        Ok(t) => parts[i] = (*part, t.filter(|t| !t.is_empty())),
                        Err(e) => return Some(Err(e)),
                    }
                }
                Ok(StoredText::Address(AddressParts(parts)))
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::def::SYSTEM_FIELDS;

    #[test]
    fn system_columns_are_the_system_fields_in_order() {
        let names: Vec<&str> = SYSTEM.iter().map(|(c, _)| *c).collect();
        assert_eq!(names, SYSTEM_FIELDS);
        assert_eq!(SYSTEM[ID_AT].0, "id");
        assert_eq!(SYSTEM[OWNER_AT].0, "owner_id");
        assert_eq!(SYSTEM[VERSION_AT].0, "version");
    }
}
