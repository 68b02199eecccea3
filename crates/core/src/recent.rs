//! The records each user opened lately: what the home page lists as recently viewed. A visit
//! moves the record to the top; a user keeps the latest [`KEPT`]. What is listed is what the
//! reader may still read: a record since deleted, or moved out of their scope, drops out.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Order, Query};
use uuid::Uuid;

use crate::authz::Actor;
use crate::db::{self, col, get_string, get_ts, get_uuid};
use crate::error::CoreResult;
use crate::records::EntityDef;
use crate::refs::{self, RefView, Target};
use crate::{Core, now};

/// Visits kept per user.
pub const KEPT: u64 = 30;

/// A record the reader opened lately.
#[derive(Clone)]
pub struct Recent {
    pub def: &'static EntityDef,
    pub id: Uuid,
    /// Its title in the reader's language.
    pub title: String,
    pub viewed_at: DateTime<Utc>,
}

/// Notes that `actor` opened record `id` of `def`, and forgets their visits beyond the latest
/// [`KEPT`].
pub async fn note(core: &Core, actor: &Actor, def: &EntityDef, id: Uuid) -> CoreResult<()> {
    let txn = core.db.begin().await?;
    let mut insert = Query::insert();
    insert
        .into_table(col("recent_views"))
        .columns(["user_id", "entity", "record_id", "viewed_at"].map(col))
        .values_panic([
            actor.user_id.into(),
            def.name.into(),
            id.into(),
            now().into(),
        ])
        .on_conflict(
            OnConflict::columns(["user_id", "record_id"].map(col))
                .update_columns(["entity", "viewed_at"].map(col))
                .to_owned(),
        );
    db::insert(&txn, &insert).await?;
    // The visits past the latest KEPT: those older than the KEPT-th newest.
    let mut kept = Query::select();
    kept.column(col("record_id"))
        .from(col("recent_views"))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .order_by(col("viewed_at"), Order::Desc)
        .limit(KEPT);
    let mut forget = Query::delete();
    forget
        .from_table(col("recent_views"))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .and_where(Expr::col(col("record_id")).not_in_subquery(kept));
    db::delete(&txn, &forget).await?;
    txn.commit().await
}

/// The records `actor` opened lately and may still read, newest first, at most `limit`.
pub async fn list(core: &Core, actor: &Actor, limit: usize) -> CoreResult<Vec<Recent>> {
    let mut q = Query::select();
    q.columns(["entity", "record_id", "viewed_at"].map(col))
        .from(col("recent_views"))
        .and_where(Expr::col(col("user_id")).eq(actor.user_id))
        .order_by(col("viewed_at"), Order::Desc)
        .limit(KEPT);
    let rows = db::fetch_all(core.db.reader(), &q).await?;
    let mut visits = Vec::with_capacity(rows.len());
    for row in &rows {
        let entity = get_string(row, "entity")?;
        // A visit to an entity no longer declared is not listed.
        let Some(def) = core.registry.by_name(&entity) else {
            continue;
        };
        visits.push((def, get_uuid(row, "record_id")?, get_ts(row, "viewed_at")?));
    }
    let targets: Vec<Target> = visits
        .iter()
        .map(|(def, id, _)| Target {
            entity: def.name,
            id: *id,
        })
        .collect();
    let titles = refs::titles(core, actor, &targets).await?;
    Ok(visits
        .into_iter()
        .filter_map(|(def, id, viewed_at)| {
            match titles.view(Target {
                entity: def.name,
                id,
            }) {
                RefView::Readable(title) => Some(Recent {
                    def,
                    id,
                    title: title.to_string(),
                    viewed_at,
                }),
                RefView::Unreadable => None,
            }
        })
        .take(limit)
        .collect())
}
