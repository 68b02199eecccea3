//! Each user's calendar feed: a secret address (`/calendar/<secret>.ics`) that their phone's
//! calendar subscribes to, so their meetings and tasks show there. Only the secret's hash is
//! stored; the address is shown once, when made. Making a new one ends the old one; revoking
//! ends it. Whoever holds the address reads what its user may read, as that user.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use uuid::Uuid;

use super::{hash_token, random_token, users};
use crate::authz::Actor;
use crate::db::{self, col, get_ts, get_uuid};
use crate::error::{CoreError, CoreResult};
use crate::{Core, now};

fn table() -> crate::db::Name {
    col("calendar_feeds")
}

/// When the user's feed was made, if they have one.
pub async fn made_at(core: &Core, user_id: Uuid) -> CoreResult<Option<DateTime<Utc>>> {
    let mut q = Query::select();
    q.column(col("created_at"))
        .from(table())
        .and_where(Expr::col(col("user_id")).eq(user_id));
    match db::fetch_one(core.db.reader(), &q).await? {
        Some(row) => Ok(Some(get_ts(&row, "created_at")?)),
        None => Ok(None),
    }
}

/// Makes the actor's feed secret, replacing any earlier one (whose address stops working), and
/// returns it in clear: the only time it is seen.
pub async fn make(core: &Core, actor: &Actor) -> CoreResult<String> {
    let secret = random_token();
    let txn = core.db.begin().await?;
    let mut gone = Query::delete();
    gone.from_table(table())
        .and_where(Expr::col(col("user_id")).eq(actor.user_id));
    db::delete(&txn, &gone).await?;
    let mut q = Query::insert();
    q.into_table(table())
        .columns(["user_id", "secret_hash", "created_at"].map(col))
        .values_panic([
            actor.user_id.into(),
            hash_token(&secret).into(),
            now().into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(secret)
}

/// Ends the actor's feed: its address stops working.
pub async fn revoke(core: &Core, actor: &Actor) -> CoreResult<()> {
    let txn = core.db.begin().await?;
    let mut gone = Query::delete();
    gone.from_table(table())
        .and_where(Expr::col(col("user_id")).eq(actor.user_id));
    db::delete(&txn, &gone).await?;
    txn.commit().await?;
    Ok(())
}

/// The user a feed secret belongs to, as the actor who reads it; not found for a wrong or
/// revoked secret, or a disabled user.
pub async fn holder(core: &Core, secret: &str) -> CoreResult<Actor> {
    let mut q = Query::select();
    q.column(col("user_id"))
        .from(table())
        .and_where(Expr::col(col("secret_hash")).eq(hash_token(secret)));
    let row = db::fetch_one(core.db.reader(), &q)
        .await?
        .ok_or(CoreError::NotFound)?;
    let user = users::get(core.db.reader(), get_uuid(&row, "user_id")?).await?;
    if user.disabled {
        return Err(CoreError::NotFound);
    }
    users::actor_for(core, &user).await
}
