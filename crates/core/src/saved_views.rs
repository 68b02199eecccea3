//! Saved list views: a name and the list's query string, per user and entity.

use sea_orm::sea_query::{Expr, Order, Query};
use serde::Serialize;
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, Db, col, get_string, get_uuid};
use crate::error::{CoreError, CoreResult, FieldError, codes};

#[derive(Debug, Clone, Serialize)]
pub struct SavedView {
    pub id: Uuid,
    pub entity: String,
    pub name: String,
    /// The list's query string (filters, sort, columns), without the cursor.
    pub query: String,
}

pub async fn list(db: &Db, actor: &Actor, entity: &str) -> CoreResult<Vec<SavedView>> {
    let mut q = Query::select();
    q.columns(["id", "entity", "name", "query"].map(col))
        .from(col("saved_views"))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("entity")).eq(entity))
        .order_by(col("name"), Order::Asc);
    db::fetch_all(db.reader(), &q)
        .await?
        .iter()
        .map(|r| {
            Ok(SavedView {
                id: get_uuid(r, "id")?,
                entity: get_string(r, "entity")?,
                name: get_string(r, "name")?,
                query: get_string(r, "query")?,
            })
        })
        .collect()
}

/// The longest view name.
const MAX_NAME_CHARS: usize = 100;
/// The longest query string a view keeps.
const MAX_QUERY_BYTES: usize = 4000;

/// Saves (or replaces, by name) a view.
pub async fn save(
    db: &Db,
    registry: &crate::Registry,
    actor: &Actor,
    entity: &str,
    name: &str,
    query: &str,
) -> CoreResult<SavedView> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::field("name", FieldError::new(codes::REQUIRED)));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CoreError::field(
            "name",
            FieldError::new(codes::TOO_LONG).with("max", MAX_NAME_CHARS),
        ));
    }
    // Bytes, not characters: the limit is on what is stored and sent back in a link.
    if query.len() > MAX_QUERY_BYTES {
        return Err(CoreError::field(
            "query",
            FieldError::new(codes::TOO_LONG).with("max", MAX_QUERY_BYTES),
        ));
    }
    // PostgreSQL refuses NUL in text, so control characters are refused here, not by a 500.
    for (field, v) in [("name", name), ("query", query)] {
        if let Err(e) = crate::normalize::check_name_chars(v) {
            return Err(CoreError::field(field, e));
        }
    }
    if registry.by_name(entity).is_none() {
        return Err(CoreError::field("entity", registry.not_an_entity(entity)));
    }
    let txn = db.begin().await?;
    let mut d = Query::delete();
    d.from_table(col("saved_views"))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("entity")).eq(entity))
        .and_where(Expr::col(col("name")).eq(name));
    db::delete(&txn, &d).await?;
    let id = Uuid::now_v7();
    let mut q = Query::insert();
    q.into_table(col("saved_views"))
        .columns(["id", "user_id", "entity", "name", "query", "created_at"].map(col))
        .values_panic([
            id.into(),
            actor.user_id.into(),
            entity.into(),
            name.into(),
            query.into(),
            crate::now().into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(SavedView {
        id,
        entity: entity.to_string(),
        name: name.to_string(),
        query: query.to_string(),
    })
}

pub async fn delete(db: &Db, actor: &Actor, id: Uuid) -> CoreResult<()> {
    let mut d = Query::delete();
    d.from_table(col("saved_views"))
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id));
    let txn = db.begin().await?;
    let n = db::delete(&txn, &d).await?;
    txn.commit().await?;
    if n == 0 {
        Err(CoreError::NotFound)
    } else {
        Ok(())
    }
}
