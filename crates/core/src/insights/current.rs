//! One account's insights as the account's page and the API show them: every value with its
//! reason code, what it was before and when it changed, and the refresh that made them. Who may
//! read the account may read its insights; the caller checks that first.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, Query};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::TABLE;
use super::store::{self, COLUMNS, Row};
use crate::db::{self, col, get_at};
use crate::error::CoreResult;

/// An account's insights.
#[derive(Clone, Debug, Serialize)]
pub struct AccountInsights {
    /// The date the values are as of.
    pub as_of: NaiveDate,
    /// The refresh that made them (the model version).
    pub run: Uuid,
    /// The values.
    #[serde(flatten)]
    pub values: Row,
    /// Per insight name: `{"previous": value, "changed_on": "YYYY-MM-DD"}`.
    pub changes: Map<String, Value>,
}

/// The insights of `account`, or `None` before its first refresh (or without purchases).
pub async fn of_account<C: sea_orm::ConnectionTrait>(
    conn: &C,
    account: Uuid,
) -> CoreResult<Option<AccountInsights>> {
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col(TABLE))
        .and_where(Expr::col(col("account_id")).eq(account));
    let Some(r) = db::fetch_all(conn, &q).await?.into_iter().next() else {
        return Ok(None);
    };
    let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap_or(0);
    Ok(Some(AccountInsights {
        as_of: get_at(&r, at("as_of"), "as_of")?,
        run: get_at(&r, at("run_id"), "run_id")?,
        values: Row::read(&r)?,
        changes: store::changes_at(&r, at("changes"))?,
    }))
}

/// The insights of each of `accounts` that has some, in one read.
pub async fn of_accounts<C: sea_orm::ConnectionTrait>(
    conn: &C,
    backend: crate::db::Backend,
    accounts: &[Uuid],
) -> CoreResult<std::collections::HashMap<Uuid, AccountInsights>> {
    let mut out = std::collections::HashMap::new();
    if accounts.is_empty() {
        return Ok(out);
    }
    let mut q = Query::select();
    q.columns(COLUMNS.map(col))
        .from(col(TABLE))
        .and_where(db::id_in(
            backend,
            Expr::col(col("account_id")).into(),
            accounts,
        ));
    let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap_or(0);
    for r in db::fetch_all(conn, &q).await? {
        let values = Row::read(&r)?;
        out.insert(
            values.account,
            AccountInsights {
                as_of: get_at(&r, at("as_of"), "as_of")?,
                run: get_at(&r, at("run_id"), "run_id")?,
                values,
                changes: store::changes_at(&r, at("changes"))?,
            },
        );
    }
    Ok(out)
}

/// The date of the newest insights held, or `None` before the first refresh.
pub async fn latest_as_of<C: sea_orm::ConnectionTrait>(conn: &C) -> CoreResult<Option<NaiveDate>> {
    let mut q = Query::select();
    q.expr_as(
        Expr::col(col("as_of")).max(),
        sea_orm::sea_query::Alias::new("latest"),
    )
    .from(col(TABLE));
    match db::fetch_one(conn, &q).await? {
        Some(r) => get_at::<Option<NaiveDate>>(&r, 0, "latest"),
        None => Ok(None),
    }
}
