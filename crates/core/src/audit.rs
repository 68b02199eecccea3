//! The audit trail: who changed which field from what to what, and when. Written in the same
//! transaction as the change it describes, so the two cannot disagree.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{self, Db, col, get_json, get_opt_uuid, get_string, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult};
use crate::records::JsonMap;
use crate::records::row::TableRow;

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Change {
    pub field: String,
    #[serde(default)]
    pub from: Value,
    #[serde(default)]
    pub to: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: Uuid,
    pub entity: String,
    pub record_id: Uuid,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
    pub changes: Vec<Change>,
}

/// Field-level differences between two versions of a record; custom fields appear as
/// `custom.<key>`. System bookkeeping fields are left out.
pub fn diff(before: &JsonMap, after: &JsonMap) -> Vec<Change> {
    const SKIP: &[&str] = &[
        "id",
        "version",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "deleted_at",
        "deleted_by",
        "custom",
    ];
    let mut out = Vec::new();
    let empty = JsonMap::new();
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if SKIP.contains(&k.as_str()) {
            continue;
        }
        let a = before.get(k).unwrap_or(&Value::Null);
        let b = after.get(k).unwrap_or(&Value::Null);
        if !same(a, b) {
            out.push(Change {
                field: k.clone(),
                from: a.clone(),
                to: b.clone(),
            });
        }
    }
    let cb = before
        .get("custom")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let ca = after
        .get("custom")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut ckeys: Vec<&String> = cb.keys().chain(ca.keys()).collect();
    ckeys.sort();
    ckeys.dedup();
    for k in ckeys {
        let a = cb.get(k).unwrap_or(&Value::Null);
        let b = ca.get(k).unwrap_or(&Value::Null);
        if !same(a, b) {
            out.push(Change {
                field: format!("custom.{k}"),
                from: a.clone(),
                to: b.clone(),
            });
        }
    }
    out
}

/// Equal for people: an empty list, an empty address and null are the same "nothing".
fn same(a: &Value, b: &Value) -> bool {
    use crate::records::values::blank;
    a == b || (blank(a) && blank(b))
}

/// The audit table's row of one entry.
pub fn row(
    id: Uuid,
    entity: &str,
    record_id: Uuid,
    action: &str,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    changes: &[Change],
) -> CoreResult<TableRow> {
    let changes = serde_json::to_value(changes)
        .map_err(|e| CoreError::Internal(format!("encoding audit changes: {e}")))?;
    Ok(TableRow::new(
        "audit_log",
        vec![
            ("id".into(), id.into()),
            ("entity".into(), entity.into()),
            ("record_id".into(), record_id.into()),
            ("action".into(), action.into()),
            ("actor_id".into(), actor.into()),
            ("at".into(), at.into()),
            ("changes".into(), changes.into()),
        ],
    ))
}

pub async fn write<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    record_id: Uuid,
    action: &str,
    actor: Option<Uuid>,
    changes: &[Change],
    at: DateTime<Utc>,
) -> CoreResult<()> {
    let row = row(
        Uuid::now_v7(),
        entity,
        record_id,
        action,
        actor,
        at,
        changes,
    )?;
    TableRow::write_all(conn, &[row]).await?;
    Ok(())
}

/// A record's history, newest first.
pub async fn history(db: &Db, record_id: Uuid, limit: u64) -> CoreResult<Vec<Entry>> {
    let mut q = Query::select();
    q.from(col("audit_log"))
        .columns(
            [
                "id",
                "entity",
                "record_id",
                "action",
                "actor_id",
                "at",
                "changes",
            ]
            .map(|c| (col("audit_log"), col(c))),
        )
        .expr_as(
            Expr::col((col("users"), col("name"))),
            Alias::new("actor_name"),
        )
        .left_join(
            col("users"),
            Expr::col((col("users"), col("id"))).equals((col("audit_log"), col("actor_id"))),
        )
        .and_where(Expr::col((col("audit_log"), col("record_id"))).eq(record_id))
        .order_by((col("audit_log"), col("at")), Order::Desc)
        .order_by((col("audit_log"), col("id")), Order::Desc)
        .limit(limit);
    let rows = db::fetch_all(db.reader(), &q).await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                id: get_uuid(r, "id")?,
                entity: get_string(r, "entity")?,
                record_id: get_uuid(r, "record_id")?,
                action: get_string(r, "action")?,
                actor_id: get_opt_uuid(r, "actor_id")?,
                actor_name: r.try_get::<Option<String>>("", "actor_name").ok().flatten(),
                at: get_ts(r, "at")?,
                changes: serde_json::from_value(get_json(r, "changes")?).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_fields_and_custom_fields() {
        let a = json!({"name": "甲", "phones": [], "custom": {"tier": "A"}, "version": 1});
        let b =
            json!({"name": "乙", "phones": null, "custom": {"tier": "B", "x": 1}, "version": 2});
        let d = diff(a.as_object().unwrap(), b.as_object().unwrap());
        assert_eq!(
            d,
            vec![
                Change {
                    field: "name".into(),
                    from: json!("甲"),
                    to: json!("乙")
                },
                Change {
                    field: "custom.tier".into(),
                    from: json!("A"),
                    to: json!("B")
                },
                Change {
                    field: "custom.x".into(),
                    from: Value::Null,
                    to: json!(1)
                },
            ]
        );
    }
}
