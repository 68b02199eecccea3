//! One account's insights as the account's page and the API show them: every value with its
//! reason code, what it was before and when it changed, and the refresh that made them. Who may
//! read the account may read its insights; the caller checks that first.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, Query};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::TABLE;
use super::store::{self, COLUMNS};
use crate::db::{self, col, get_at};
use crate::error::CoreResult;

/// An account's insights.
#[derive(Clone, Debug, Serialize)]
pub struct AccountInsights {
    /// The date the values are as of.
    pub as_of: NaiveDate,
    /// The refresh that made them (the model version).
    pub run: Uuid,
    pub tier: String,
    /// The rule that decided the tier, or why there is none (`no_cost`).
    pub tier_reason: String,
    pub profitability: Option<f64>,
    pub margin_rate: Option<f64>,
    pub days_to_pay: Option<f64>,
    pub rfm_segment: String,
    pub rfm: Option<[i64; 3]>,
    pub recency_days: Option<i64>,
    pub purchases: Option<i64>,
    pub revenue: Option<f64>,
    pub value_decile: Option<i64>,
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub clv: Option<f64>,
    /// Why there is no lifetime value (`too_new`, `no_model`).
    pub value_missing: String,
    pub lifecycle_stage: String,
    pub lifecycle_reason: String,
    pub tenure_days: Option<i64>,
    pub trend: Option<f64>,
    pub usual_interval_days: Option<f64>,
    pub next_due_from: Option<NaiveDate>,
    pub next_due_to: Option<NaiveDate>,
    pub due_status: String,
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
    let rfm = match (
        get_at::<Option<i64>>(&r, 9, "rfm_r")?,
        get_at::<Option<i64>>(&r, 10, "rfm_f")?,
        get_at::<Option<i64>>(&r, 11, "rfm_m")?,
    ) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    let changes = store::changes_at(&r, 28)?;
    Ok(Some(AccountInsights {
        as_of: get_at(&r, 2, "as_of")?,
        run: get_at(&r, 1, "run_id")?,
        tier: get_at(&r, 3, "tier")?,
        tier_reason: get_at(&r, 4, "tier_reason")?,
        profitability: get_at(&r, 5, "profitability")?,
        margin_rate: get_at(&r, 6, "margin_rate")?,
        days_to_pay: get_at(&r, 7, "days_to_pay")?,
        rfm_segment: get_at(&r, 8, "rfm_segment")?,
        rfm,
        recency_days: get_at(&r, 12, "recency_days")?,
        purchases: get_at(&r, 13, "purchases")?,
        revenue: get_at(&r, 14, "revenue")?,
        value_decile: get_at(&r, 15, "value_decile")?,
        p_alive: get_at(&r, 16, "p_alive")?,
        expected_purchases: get_at(&r, 17, "expected_purchases")?,
        clv: get_at(&r, 18, "clv")?,
        value_missing: get_at(&r, 19, "value_missing")?,
        lifecycle_stage: get_at(&r, 20, "lifecycle_stage")?,
        lifecycle_reason: get_at(&r, 21, "lifecycle_reason")?,
        tenure_days: get_at(&r, 22, "tenure_days")?,
        trend: get_at(&r, 23, "trend")?,
        usual_interval_days: get_at(&r, 24, "usual_interval_days")?,
        next_due_from: get_at(&r, 25, "next_due_from")?,
        next_due_to: get_at(&r, 26, "next_due_to")?,
        due_status: get_at(&r, 27, "due_status")?,
        changes,
    }))
}
