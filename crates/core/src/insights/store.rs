//! Writing a refresh's results: each account's row of current values (with what each was before
//! and when it changed), and a history row whenever an insight's shown value changes. Refreshes
//! write no audit rows: they record what the models say, not what someone did.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, OnConflict, Query, SimpleExpr};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Shown, TABLE, TRACKED};
use crate::db::{self, Backend, col, get_at};
use crate::error::CoreResult;

/// One account's row as the refresh writes it.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub account: Uuid,
    pub tier: String,
    pub tier_reason: String,
    pub profitability: Option<f64>,
    pub margin_rate: Option<f64>,
    pub days_to_pay: Option<f64>,
    pub rfm_segment: String,
    pub rfm: Option<(u8, u8, u8)>,
    pub recency_days: Option<i64>,
    pub purchases: Option<i64>,
    pub revenue: Option<f64>,
    pub value_decile: Option<i64>,
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub clv: Option<f64>,
    pub value_missing: String,
    pub lifecycle_stage: String,
    pub lifecycle_reason: String,
    pub tenure_days: Option<i64>,
    pub trend: Option<f64>,
    pub usual_interval_days: Option<f64>,
    pub next_due_from: Option<NaiveDate>,
    pub next_due_to: Option<NaiveDate>,
    pub due_status: String,
}

impl Row {
    /// The value of a tracked insight as people see it, for telling whether it changed.
    pub fn shown(&self, name: &str) -> Shown {
        match name {
            "tier" => Shown::code(&self.tier),
            "rfm_segment" => Shown::code(&self.rfm_segment),
            "lifecycle_stage" => Shown::code(&self.lifecycle_stage),
            "due_status" => Shown::code(&self.due_status),
            "value_decile" => Shown::number(name, self.value_decile.map(|d| d as f64)),
            "profitability" => Shown::number(name, self.profitability),
            "p_alive" => Shown::number(name, self.p_alive),
            "clv" => Shown::number(name, self.clv),
            _ => Shown::None,
        }
    }
}

/// The columns of an account's row, in the order it is written and read.
pub(super) const COLUMNS: [&str; 29] = [
    "account_id",
    "run_id",
    "as_of",
    "tier",
    "tier_reason",
    "profitability",
    "margin_rate",
    "days_to_pay",
    "rfm_segment",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "recency_days",
    "purchases",
    "revenue",
    "value_decile",
    "p_alive",
    "expected_purchases",
    "clv",
    "value_missing",
    "lifecycle_stage",
    "lifecycle_reason",
    "tenure_days",
    "trend",
    "usual_interval_days",
    "next_due_from",
    "next_due_to",
    "due_status",
    "changes",
];

/// The record of changes in column `at` of a row: JSON on PostgreSQL, its text on SQLite.
pub(super) fn changes_at(r: &sea_orm::QueryResult, at: usize) -> CoreResult<Map<String, Value>> {
    Ok(match get_at::<Value>(r, at, "changes")? {
        Value::Object(m) => m,
        Value::String(s) => serde_json::from_str(&s).unwrap_or_default(),
        _ => Map::new(),
    })
}

/// The shown values an account had before this refresh, and its record of changes.
struct Before {
    shown: HashMap<&'static str, Shown>,
    changes: Map<String, Value>,
}

async fn before<C: ConnectionTrait>(
    conn: &C,
    backend: Backend,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, Before>> {
    let mut q = Query::select();
    q.column(col("account_id"))
        .column(col("changes"))
        .from(col(TABLE))
        .and_where(db::id_in(
            backend,
            Expr::col(col("account_id")).into(),
            accounts,
        ));
    for name in TRACKED {
        q.column(col(name));
    }
    let mut out = HashMap::new();
    for r in db::fetch_all(conn, &q).await? {
        let account: Uuid = get_at(&r, 0, "account_id")?;
        let changes = changes_at(&r, 1)?;
        let mut shown = HashMap::new();
        for (i, name) in TRACKED.iter().enumerate() {
            let at = i + 2;
            let s = match *name {
                "tier" | "rfm_segment" | "lifecycle_stage" | "due_status" => {
                    Shown::code(&get_at::<String>(&r, at, name)?)
                }
                "value_decile" => {
                    Shown::number(name, get_at::<Option<i64>>(&r, at, name)?.map(|d| d as f64))
                }
                _ => Shown::number(name, get_at::<Option<f64>>(&r, at, name)?),
            };
            shown.insert(*name, s);
        }
        out.insert(account, Before { shown, changes });
    }
    Ok(out)
}

fn opt<T: Into<sea_orm::Value>>(v: Option<T>, null: sea_orm::Value) -> SimpleExpr {
    match v {
        Some(v) => Expr::val(v.into()).into(),
        None => Expr::val(null).into(),
    }
}

/// Writes one batch of rows of the refresh `run` as of `as_of`, in the caller's transaction.
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    backend: Backend,
    run: Uuid,
    as_of: NaiveDate,
    rows: &[Row],
) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.account).collect();
    let mut old = before(conn, backend, &ids).await?;
    let day = as_of.format("%Y-%m-%d").to_string();
    let mut history = Query::insert();
    history
        .into_table(col("insight_history"))
        .columns([
            col("account_id"),
            col("name"),
            col("valid_from"),
            col("number"),
            col("code"),
        ])
        .on_conflict(
            OnConflict::columns([col("account_id"), col("name"), col("valid_from")])
                .update_columns([col("number"), col("code")])
                .to_owned(),
        );
    let mut any_history = false;
    let mut insert = Query::insert();
    insert.into_table(col(TABLE)).columns(COLUMNS.map(col));
    let f64_null = sea_orm::Value::Double(None);
    let i64_null = sea_orm::Value::BigInt(None);
    let date_null = sea_orm::Value::ChronoDate(None);
    for r in rows {
        let was = old.remove(&r.account);
        let mut changes = was.as_ref().map(|b| b.changes.clone()).unwrap_or_default();
        for name in TRACKED {
            let now = r.shown(name);
            let then = was
                .as_ref()
                .and_then(|b| b.shown.get(name).cloned())
                .unwrap_or(Shown::None);
            if now == then {
                continue;
            }
            if was.is_some() {
                changes.insert(
                    (*name).to_string(),
                    json!({"previous": then.to_json(), "changed_on": day}),
                );
            }
            let (number, code) = match &now {
                Shown::Number(n) => (Some(*n), String::new()),
                Shown::Code(c) => (None, c.clone()),
                Shown::None => (None, String::new()),
            };
            history.values_panic([
                Expr::val(r.account).into(),
                Expr::val(name.to_string()).into(),
                Expr::val(as_of).into(),
                opt(number, f64_null.clone()),
                Expr::val(code).into(),
            ]);
            any_history = true;
        }
        let (rr, rf, rm) = match r.rfm {
            Some((a, b, c)) => (Some(i64::from(a)), Some(i64::from(b)), Some(i64::from(c))),
            None => (None, None, None),
        };
        insert.values_panic([
            Expr::val(r.account).into(),
            Expr::val(run).into(),
            Expr::val(as_of).into(),
            Expr::val(r.tier.clone()).into(),
            Expr::val(r.tier_reason.clone()).into(),
            opt(r.profitability, f64_null.clone()),
            opt(r.margin_rate, f64_null.clone()),
            opt(r.days_to_pay, f64_null.clone()),
            Expr::val(r.rfm_segment.clone()).into(),
            opt(rr, i64_null.clone()),
            opt(rf, i64_null.clone()),
            opt(rm, i64_null.clone()),
            opt(r.recency_days, i64_null.clone()),
            opt(r.purchases, i64_null.clone()),
            opt(r.revenue, f64_null.clone()),
            opt(r.value_decile, i64_null.clone()),
            opt(r.p_alive, f64_null.clone()),
            opt(r.expected_purchases, f64_null.clone()),
            opt(r.clv, f64_null.clone()),
            Expr::val(r.value_missing.clone()).into(),
            Expr::val(r.lifecycle_stage.clone()).into(),
            Expr::val(r.lifecycle_reason.clone()).into(),
            opt(r.tenure_days, i64_null.clone()),
            opt(r.trend, f64_null.clone()),
            opt(r.usual_interval_days, f64_null.clone()),
            opt(r.next_due_from, date_null.clone()),
            opt(r.next_due_to, date_null.clone()),
            Expr::val(r.due_status.clone()).into(),
            Expr::val(Value::Object(changes)).into(),
        ]);
    }
    let mut delete = Query::delete();
    delete.from_table(col(TABLE)).and_where(db::id_in(
        backend,
        Expr::col(col("account_id")).into(),
        &ids,
    ));
    db::delete(conn, &delete).await?;
    db::insert(conn, &insert).await?;
    if any_history {
        db::insert(conn, &history).await?;
    }
    Ok(())
}

/// Removes the insights of accounts this refresh did not reach (their purchases deleted, or
/// none by the as-of date), so no stale number stays on them.
pub async fn forget_others<C: ConnectionTrait>(conn: &C, run: Uuid) -> CoreResult<u64> {
    let mut delete = Query::delete();
    delete
        .from_table(col(TABLE))
        .and_where(Expr::col(col("run_id")).ne(run));
    db::delete(conn, &delete).await
}

/// Keeps thirteen months of history: a row older than `keep_from` goes once a later row of the
/// same account and insight also lies before `keep_from` (the value at `keep_from` stays known).
pub async fn trim_history<C: ConnectionTrait>(conn: &C, keep_from: NaiveDate) -> CoreResult<u64> {
    let sql = "DELETE FROM insight_history WHERE valid_from < $1 AND EXISTS (\
               SELECT 1 FROM insight_history later WHERE later.account_id = insight_history.account_id \
               AND later.name = insight_history.name AND later.valid_from > insight_history.valid_from \
               AND later.valid_from <= $1)";
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => sql.replace("$1", "?1"),
        _ => sql.to_string(),
    };
    let r = conn
        .execute(sea_orm::Statement::from_sql_and_values(
            backend,
            &sql,
            [keep_from.into()],
        ))
        .await?;
    Ok(r.rows_affected())
}
