//! Contact points: a record's normalized phones, e-mails and company domains in one indexed
//! table, the natural keys for filters, matching and dedupe.

use std::collections::BTreeSet;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Query};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{self, col};
use crate::error::CoreResult;
use crate::normalize;
use crate::records::JsonMap;
use crate::records::row::TableRow;

/// The (kind, value) pairs a record contributes.
pub fn of_record(rec: &JsonMap) -> BTreeSet<(&'static str, String)> {
    let mut out = BTreeSet::new();
    if let Some(Value::Array(phones)) = rec.get("phones") {
        for p in phones {
            if let Some(n) = p.get("number").and_then(Value::as_str) {
                out.insert(("phone", n.to_string()));
            }
        }
    }
    if let Some(Value::Array(emails)) = rec.get("emails") {
        for e in emails {
            if let Some(a) = e.get("address").and_then(Value::as_str) {
                out.insert(("email", a.to_string()));
                if let Some(d) = normalize::company_domain_of_email(a) {
                    out.insert(("domain", d));
                }
            }
        }
    }
    if let Some(d) = rec.get("domain").and_then(Value::as_str) {
        out.insert(("domain", d.to_string()));
    }
    out
}

/// The `contact_points` rows of a record.
pub fn rows(entity: &str, id: Uuid, rec: &JsonMap) -> Vec<TableRow> {
    of_record(rec)
        .into_iter()
        .map(|(kind, value)| {
            TableRow::new(
                "contact_points",
                vec![
                    ("entity".into(), entity.into()),
                    ("record_id".into(), id.into()),
                    ("kind".into(), kind.into()),
                    ("value".into(), value.into()),
                ],
            )
        })
        .collect()
}

pub async fn replace<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    id: Uuid,
    rec: &JsonMap,
) -> CoreResult<()> {
    remove(conn, id).await?;
    TableRow::write_all(conn, &rows(entity, id, rec)).await?;
    Ok(())
}

pub async fn remove<C: ConnectionTrait>(conn: &C, id: Uuid) -> CoreResult<()> {
    let mut q = Query::delete();
    q.from_table(col("contact_points"))
        .and_where(Expr::col(col("record_id")).eq(id));
    db::delete(conn, &q).await?;
    Ok(())
}
