//! The row image of a new record: every row a create writes, built in one place.
//!
//! The record service writes these rows with bound parameters; a bulk loader may render the same
//! rows as SQL text. Either way the columns and values come from here (and from the per-table
//! builders this calls: [`audit::row`], [`search::entry`], [`search::points::rows`],
//! [`dedupe::keys::rows`], [`children::rows`]), so a loader cannot drift into a layout of its own.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{InsertStatement, Query, SimpleExpr, Value as SqlValue};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use uuid::Uuid;

use super::def::EntityDef;
use super::values::{self, blank};
use super::{JsonMap, children};
use crate::audit::{self, Change};
use crate::db::{self, Backend, col};
use crate::error::{CoreError, CoreResult};
use crate::{dedupe, search};

/// One row of one table: its columns and the values stored in them, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub table: &'static str,
    pub columns: Vec<(String, SqlValue)>,
}

impl TableRow {
    pub fn new(table: &'static str, columns: Vec<(String, SqlValue)>) -> TableRow {
        TableRow { table, columns }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(c, _)| c.as_str())
    }

    pub fn values(&self) -> impl Iterator<Item = &SqlValue> {
        self.columns.iter().map(|(_, v)| v)
    }

    /// The value of column `name`, if the row has it.
    pub fn get(&self, name: &str) -> Option<&SqlValue> {
        self.columns.iter().find(|(c, _)| c == name).map(|(_, v)| v)
    }

    /// Replaces the value of column `name`, if the row has it.
    pub fn set(&mut self, name: &str, value: SqlValue) {
        if let Some((_, v)) = self.columns.iter_mut().find(|(c, _)| c == name) {
            *v = value;
        }
    }

    /// One `INSERT` of `rows`, which must all be rows of the same table with the same columns;
    /// `None` when there are none.
    pub fn insert_all(rows: &[TableRow]) -> CoreResult<Option<InsertStatement>> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut q = Query::insert();
        q.into_table(col(first.table))
            .columns(first.names().map(col));
        for row in rows {
            if row.table != first.table || !row.names().eq(first.names()) {
                return Err(CoreError::Internal(format!(
                    "rows of {} and {} in one insert",
                    first.table, row.table
                )));
            }
            q.values(row.values().map(|v| SimpleExpr::Value(v.clone())))
                .map_err(|e| CoreError::Internal(format!("building an insert: {e}")))?;
        }
        Ok(Some(q))
    }
}

impl TableRow {
    /// [`Self::insert_all`] as the statement it builds for `conn`'s backend, its SQL text
    /// written directly: the same text and parameters, without building a statement tree for
    /// every row a write adds (a tenth of a bulk load's time went there).
    pub fn statement_all<C: ConnectionTrait>(
        conn: &C,
        rows: &[TableRow],
    ) -> CoreResult<Option<Statement>> {
        Self::statement_of(conn.get_database_backend(), rows.to_vec())
    }

    /// [`Self::statement_all`] of rows that go into the statement: their values are moved, not
    /// copied (a record's search document and audit changes are its largest).
    fn statement_of(
        backend: sea_orm::DbBackend,
        rows: Vec<TableRow>,
    ) -> CoreResult<Option<Statement>> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let width = first.columns.len();
        let mut sql = String::with_capacity(32 + width * (16 + 6 * rows.len()));
        sql.push_str("INSERT INTO ");
        quote(&mut sql, first.table);
        sql.push_str(" (");
        for (i, name) in first.names().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            quote(&mut sql, name);
        }
        sql.push_str(") VALUES ");
        let table = first.table;
        let names: Vec<String> = first.names().map(str::to_string).collect();
        let mut values = Vec::with_capacity(width * rows.len());
        for (r, row) in rows.into_iter().enumerate() {
            if row.table != table || !row.names().eq(names.iter().map(String::as_str)) {
                return Err(CoreError::Internal(format!(
                    "rows of {} and {} in one insert",
                    table, row.table
                )));
            }
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (i, (_, v)) in row.columns.into_iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    sea_orm::DbBackend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(values.len() + 1).to_string());
                    }
                    _ => sql.push('?'),
                }
                values.push(v);
            }
            sql.push(')');
        }
        Ok(Some(Statement::from_sql_and_values(backend, sql, values)))
    }

    /// Inserts `rows` (see [`Self::statement_all`]); how many were written.
    pub async fn write_all<C: ConnectionTrait>(conn: &C, rows: &[TableRow]) -> CoreResult<u64> {
        match Self::statement_all(conn, rows)? {
            Some(s) => Ok(conn.execute(s).await?.rows_affected()),
            None => Ok(0),
        }
    }
}

/// An identifier as sea-query quotes one for both backends: in double quotes, a double quote
/// doubled.
fn quote(sql: &mut String, name: &str) {
    sql.push('"');
    for c in name.chars() {
        if c == '"' {
            sql.push('"');
        }
        sql.push(c);
    }
    sql.push('"');
}

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

    /// Writes the rows with bound parameters, as the record service does.
    /// One batch (see [`db::Batch`]): on SQLite the rows of a record cost one round trip; sent
    /// ahead where the transaction allows it (a bulk load's, see `WriteTxn::send_writes_ahead`).
    pub async fn write(self, conn: &db::WriteTxn) -> CoreResult<()> {
        let backend = conn.get_database_backend();
        let mut batch = db::Batch::new();
        let RowImage {
            record,
            lines,
            points,
            search,
            audit,
        } = self;
        for rows in [vec![record], lines, points] {
            // Lines of different collections go to different tables.
            let mut rows = rows.into_iter().peekable();
            while let Some(first) = rows.next() {
                let mut group = vec![first];
                while let Some(next) = rows.next_if(|r| r.table == group[0].table) {
                    group.push(next);
                }
                if let Some(s) = TableRow::statement_of(backend, group)? {
                    batch.push(s);
                }
            }
        }
        batch.push(search::entry_statement(conn, search));
        if let Some(s) = TableRow::statement_of(backend, vec![audit])? {
            batch.push(s);
        }
        batch.run_ahead(conn).await
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

    /// The directly written insert is sea-query's, text and parameters.
    #[test]
    fn direct_inserts_are_sea_querys() {
        let rows = vec![
            TableRow::new(
                "t",
                vec![
                    ("a".into(), SqlValue::from(1i64)),
                    ("b\"c".into(), SqlValue::from("x")),
                ],
            ),
            TableRow::new(
                "t",
                vec![
                    ("a".into(), SqlValue::from(2i64)),
                    ("b\"c".into(), SqlValue::from("y")),
                ],
            ),
        ];
        let q = TableRow::insert_all(&rows).unwrap().unwrap();
        use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
        let sqlite = TableRow::statement_of(sea_orm::DbBackend::Sqlite, rows.clone())
            .unwrap()
            .unwrap();
        let (sql, values) = q.build(SqliteQueryBuilder);
        assert_eq!(sqlite.sql, sql);
        assert_eq!(sqlite.values, Some(values));
        let pg = TableRow::statement_of(sea_orm::DbBackend::Postgres, rows.clone())
            .unwrap()
            .unwrap();
        let (sql, values) = q.build(PostgresQueryBuilder);
        assert_eq!(pg.sql, sql);
        assert_eq!(pg.values, Some(values));
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
