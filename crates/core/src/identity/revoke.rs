//! Ending a user's sessions and API tokens, inside the caller's transaction: a new password or
//! a disabled account takes effect in the same commit as the change that causes it.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Query};
use uuid::Uuid;

use crate::db::{self, col};
use crate::error::CoreResult;

/// Revokes every live row of a user's in `table` (sessions or API tokens).
async fn revoke_all<C: ConnectionTrait>(conn: &C, table: &str, user_id: Uuid) -> CoreResult<()> {
    let mut q = Query::update();
    q.table(col(table))
        .value(col("revoked_at"), crate::now())
        .and_where(Expr::col(col("user_id")).eq(user_id))
        .and_where(Expr::col(col("revoked_at")).is_null());
    db::update(conn, &q).await?;
    Ok(())
}

pub(crate) async fn sessions<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> CoreResult<()> {
    revoke_all(conn, "sessions", user_id).await
}

pub(crate) async fn tokens<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> CoreResult<()> {
    revoke_all(conn, "api_tokens", user_id).await
}
