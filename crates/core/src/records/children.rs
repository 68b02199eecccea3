//! Child collections ([`ChildDef`]): lines that belong to one record, loaded with it, validated
//! and saved with it in its transaction, and audited as `name[index].field`.

use sea_orm::sea_query::{Expr, Order, Query};
use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::Value;
use uuid::Uuid;

use super::JsonMap;
use super::def::{ChildDef, EntityDef};
use super::row::TableRow;
use super::values;
use crate::audit::Change;
use crate::db::{self, col, get_uuid};
use crate::error::{CoreResult, FieldError, FieldErrors, codes};
use crate::settings::Settings;

/// A line's fields from a row that selected them in order after `first` other columns.
fn line_fields(child: &ChildDef, row: &QueryResult, first: usize) -> CoreResult<JsonMap> {
    let mut line = JsonMap::new();
    let mut at = first;
    for f in child.fields {
        line.insert(f.name.into(), values::from_row(f, row, at)?);
        at += values::column_count(f);
    }
    Ok(line)
}

/// Adds every child collection's lines, in order, to the record of `parent`.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    parent: Uuid,
    rec: &mut JsonMap,
) -> CoreResult<()> {
    for child in def.children {
        let mut q = Query::select();
        q.column(col("id")).from(col(child.table));
        for f in child.fields {
            for c in values::columns(f) {
                q.column(col(&c));
            }
        }
        q.and_where(Expr::col(col(child.parent_column)).eq(parent))
            .order_by(col("position"), Order::Asc);
        let mut lines = Vec::new();
        for row in db::fetch_all(conn, &q).await? {
            let mut line = line_fields(child, &row, 1)?;
            line.insert(
                "id".into(),
                Value::String(get_uuid(&row, "id")?.to_string()),
            );
            lines.push(Value::Object(line));
        }
        rec.insert(child.name.into(), Value::Array(lines));
    }
    Ok(())
}

/// Adds every child collection's lines to each of `recs` (records of `def`, each with its `id`),
/// with one query per collection for all of them: a page of an export would otherwise cost a
/// query per record and collection.
pub async fn load_many<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    recs: &mut [JsonMap],
) -> CoreResult<()> {
    if def.children.is_empty() || recs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = recs
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str))
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    for child in def.children {
        let mut by_parent: std::collections::HashMap<Uuid, Vec<Value>> =
            std::collections::HashMap::new();
        // Bound parameters per query stay far below both databases' limits.
        for chunk in ids.chunks(500) {
            let mut q = Query::select();
            q.column(col("id"))
                .column(col(child.parent_column))
                .from(col(child.table));
            for f in child.fields {
                for c in values::columns(f) {
                    q.column(col(&c));
                }
            }
            q.and_where(Expr::col(col(child.parent_column)).is_in(chunk.iter().copied()))
                .order_by(col(child.parent_column), Order::Asc)
                .order_by(col("position"), Order::Asc);
            for row in db::fetch_all(conn, &q).await? {
                let mut line = line_fields(child, &row, 2)?;
                line.insert(
                    "id".into(),
                    Value::String(get_uuid(&row, "id")?.to_string()),
                );
                by_parent
                    .entry(get_uuid(&row, child.parent_column)?)
                    .or_default()
                    .push(Value::Object(line));
            }
        }
        for rec in recs.iter_mut() {
            let lines = rec
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .and_then(|id| by_parent.remove(&id))
                .unwrap_or_default();
            rec.insert(child.name.into(), Value::Array(lines));
        }
    }
    Ok(())
}

/// Where an error about a line's field is reported: `contact_roles[1].role`.
pub fn key(child: &ChildDef, index: usize, field: &str) -> String {
    format!("{}[{index}].{field}", child.name)
}

/// Validates a collection sent by a caller into its canonical lines. A line keeps its `id` when
/// it names one of the stored lines; any other line is new and gets a fresh id.
pub fn canonical(
    child: &ChildDef,
    input: &Value,
    stored: Option<&Value>,
    settings: &Settings,
    errors: &mut FieldErrors,
) -> Value {
    let items = match input {
        Value::Null => return Value::Array(vec![]),
        Value::Array(items) => items,
        _ => {
            errors.insert(child.name.into(), FieldError::new(codes::NOT_A_LIST));
            return Value::Array(vec![]);
        }
    };
    if items.len() > child.max {
        errors.insert(
            child.name.into(),
            FieldError::new(codes::TOO_MANY_ENTRIES).with("max", child.max),
        );
        return Value::Array(vec![]);
    }
    let stored_ids: Vec<&str> = stored
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| l.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    let mut seen: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errors.insert(
                format!("{}[{i}]", child.name),
                FieldError::new(codes::NOT_AN_OBJECT),
            );
            continue;
        };
        let mut line = JsonMap::new();
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| stored_ids.contains(id) && !seen.iter().any(|s| s == id))
            .map(str::to_string)
            .unwrap_or_else(|| Uuid::now_v7().to_string());
        seen.push(id.clone());
        line.insert("id".into(), Value::String(id));
        for (k, v) in obj {
            if k == "id" {
                continue;
            }
            match child.field(k) {
                // As for a record's own computed fields: refused, even when sent back as read.
                Some(f) if f.computed => {
                    errors.insert(key(child, i, k), FieldError::new(codes::COMPUTED));
                }
                Some(f) => match values::canonical(&f.kind, v, settings) {
                    Ok(c) => {
                        line.insert(k.clone(), c);
                    }
                    Err(e) => {
                        errors.insert(key(child, i, k), e);
                    }
                },
                None => {
                    errors.insert(key(child, i, k), FieldError::new(codes::UNKNOWN_FIELD));
                }
            }
        }
        for f in child.fields {
            if !line.contains_key(f.name) {
                line.insert(
                    f.name.into(),
                    values::canonical(&f.kind, &Value::Null, settings).unwrap_or(Value::Null),
                );
            }
            if f.required && line.get(f.name).is_none_or(values::blank) {
                errors
                    .entry(key(child, i, f.name))
                    .or_insert_with(|| FieldError::new(codes::REQUIRED));
            }
        }
        out.push(Value::Object(line));
    }
    Value::Array(out)
}

/// The columns each line of `child` carries from its parent record `rec`
/// ([`ChildDef::carries`]).
pub fn carried(def: &EntityDef, child: &ChildDef, rec: &JsonMap) -> values::Columns {
    child
        .carries
        .iter()
        .filter_map(|name| def.field(name))
        .flat_map(|f| values::to_columns(f, rec.get(f.name).unwrap_or(&Value::Null)))
        .collect()
}

/// Whether a write from `before` to `after` changes what the lines of `child` carry.
pub fn carried_changed(child: &ChildDef, before: Option<&JsonMap>, after: &JsonMap) -> bool {
    child.carries.iter().any(|name| {
        before.and_then(|b| b.get(*name)).unwrap_or(&Value::Null)
            != after.get(*name).unwrap_or(&Value::Null)
    })
}

/// Replaces the stored lines of `parent` with `lines`, in their order, each carrying `carried`.
pub async fn save<C: ConnectionTrait>(
    conn: &C,
    child: &ChildDef,
    parent: Uuid,
    lines: &Value,
    carried: &values::Columns,
) -> CoreResult<()> {
    let mut d = Query::delete();
    d.from_table(col(child.table))
        .and_where(Expr::col(col(child.parent_column)).eq(parent));
    db::delete(conn, &d).await?;
    TableRow::write_all(conn, &rows(child, parent, lines, carried)).await?;
    Ok(())
}

/// The rows of a collection's lines of `parent`, in their order, each carrying `carried`.
pub fn rows(
    child: &ChildDef,
    parent: Uuid,
    lines: &Value,
    carried: &values::Columns,
) -> Vec<TableRow> {
    let lines = lines.as_array().map(Vec::as_slice).unwrap_or(&[]);
    lines
        .iter()
        .enumerate()
        .map(|(position, line)| {
            let id = line
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_else(Uuid::now_v7);
            let mut columns = vec![
                ("id".to_string(), id.into()),
                (child.parent_column.to_string(), parent.into()),
                (
                    "position".to_string(),
                    i64::try_from(position).unwrap_or(i64::MAX).into(),
                ),
            ];
            for f in child.fields {
                columns.extend(values::to_columns(
                    f,
                    line.get(f.name).unwrap_or(&Value::Null),
                ));
            }
            columns.extend(carried.iter().cloned());
            TableRow::new(child.table, columns)
        })
        .collect()
}

/// Line-level differences for the audit trail: `contact_roles[1].role` from "user" to
/// "decision_maker"; a line added or removed as a whole at its index.
pub fn diff(child: &ChildDef, before: &Value, after: &Value) -> Vec<Change> {
    let empty = Vec::new();
    let b = before.as_array().unwrap_or(&empty);
    let a = after.as_array().unwrap_or(&empty);
    let strip = |line: &Value| -> Value {
        let mut l = line.as_object().cloned().unwrap_or_default();
        l.remove("id");
        Value::Object(l)
    };
    let mut out = Vec::new();
    for i in 0..b.len().max(a.len()) {
        match (b.get(i), a.get(i)) {
            (Some(x), Some(y)) => {
                for f in child.fields {
                    let from = x.get(f.name).cloned().unwrap_or(Value::Null);
                    let to = y.get(f.name).cloned().unwrap_or(Value::Null);
                    if from != to {
                        out.push(Change {
                            field: key(child, i, f.name),
                            from,
                            to,
                        });
                    }
                }
            }
            (Some(x), None) => out.push(Change {
                field: format!("{}[{i}]", child.name),
                from: strip(x),
                to: Value::Null,
            }),
            (None, Some(y)) => out.push(Change {
                field: format!("{}[{i}]", child.name),
                from: Value::Null,
                to: strip(y),
            }),
            (None, None) => {}
        }
    }
    out
}

/// The titles of lines by id, for showing a [`super::FieldKind::LineRef`] (a stage by its name).
pub async fn line_titles<C: ConnectionTrait>(
    conn: &C,
    child: &ChildDef,
    ids: &[Uuid],
    locale: &str,
) -> CoreResult<std::collections::HashMap<Uuid, String>> {
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut q = Query::select();
    q.column(col("id")).from(col(child.table));
    for f in child.fields {
        for c in values::columns(f) {
            q.column(col(&c));
        }
    }
    q.and_where(Expr::col(col("id")).is_in(ids.iter().copied()));
    for row in db::fetch_all(conn, &q).await? {
        let line = line_fields(child, &row, 1)?;
        out.insert(get_uuid(&row, "id")?, (child.title)(&line, locale));
    }
    Ok(out)
}

/// The parent of a line, if the line exists.
pub async fn parent_of<C: ConnectionTrait>(
    conn: &C,
    child: &ChildDef,
    line: Uuid,
) -> CoreResult<Option<Uuid>> {
    let mut q = Query::select();
    q.column(col(child.parent_column))
        .from(col(child.table))
        .and_where(Expr::col(col("id")).eq(line));
    db::fetch_one(conn, &q)
        .await?
        .map(|row| get_uuid(&row, child.parent_column))
        .transpose()
}
