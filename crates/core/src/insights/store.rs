//! Writing a refresh's results: each account's row of current values (with what each was before
//! and when it changed), and a history row whenever an insight's shown value changes. Refreshes
//! write no audit rows: they record what the models say, not what someone did.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, OnConflict, Query, SimpleExpr};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Shown, TABLE, TRACKED};
use crate::db::{self, Backend, col, get_at};
use crate::error::CoreResult;

/// A churn driver as stored: the feature that raises the risk and the customer's value of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChurnDriver {
    pub feature: String,
    pub value: Option<f64>,
}

/// A product worth offering an account, with the rule behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NextProduct {
    /// The product as the ledger keys it (its code, or its name without one).
    pub product: String,
    /// Its name, when the ledger gives one beside the code.
    #[serde(default)]
    pub name: String,
    pub confidence: f64,
    pub lift: f64,
    /// What the account holds that points to it (names where known).
    #[serde(default)]
    pub because: Vec<String>,
}

/// Why the facts' insights are missing for an account, and which facts its record lacks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FactsMissing {
    /// Why there is no switching cost (`no_facts`), empty when there is one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub switching_cost: String,
    /// Why there is no value focus (`no_facts`, `no_survey`, `few_surveys`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value_focus: String,
    /// Why there are no next best products (`no_products`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_products: String,
    /// The customer facts the account's record leaves blank (`satisfaction`, `ratings` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

/// One account's values, as a refresh writes them and the page reads them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    #[serde(skip)]
    pub account: Uuid,
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
    /// Probability of no purchase in the churn model's window.
    pub churn_risk: Option<f64>,
    /// 1 = the riskiest tenth of customers.
    pub churn_decile: Option<i64>,
    /// What raises this customer's risk most, largest first.
    pub churn_drivers: Vec<ChurnDriver>,
    /// Why there is no churn risk (`no_churn_model`).
    pub churn_missing: String,
    /// The churn model that scored it.
    pub churn_model: Option<Uuid>,
    /// The level of relationship worth building (`basic` … `partnership`), empty without costs.
    pub relationship_level: String,
    /// Loyalty index 0–100, and its behaviour and attitude sides.
    pub loyalty_index: Option<f64>,
    pub loyalty_behaviour: Option<f64>,
    pub loyalty_attitude: Option<f64>,
    /// Dick & Basu's type (`true`, `latent`, `spurious`, `none`), empty without attitude.
    pub loyalty_type: String,
    /// Switching cost 0–100, its level and the component with most to gain.
    pub switching_cost: Option<f64>,
    pub switching_level: String,
    pub switching_lever: String,
    /// The value dimension to work on (`product`, `service`, `price`, `relationship`) and the
    /// account's gap on it.
    pub value_focus: String,
    pub value_focus_gap: Option<f64>,
    /// Next best products, best first.
    pub next_products: Vec<NextProduct>,
    pub facts_missing: FactsMissing,
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
            "churn_risk" => Shown::number(name, self.churn_risk),
            "relationship_level" => Shown::code(&self.relationship_level),
            "loyalty_type" => Shown::code(&self.loyalty_type),
            "switching_level" => Shown::code(&self.switching_level),
            "value_focus" => Shown::code(&self.value_focus),
            _ => Shown::None,
        }
    }

    /// Reads a row selected with [`COLUMNS`].
    pub(super) fn read(r: &sea_orm::QueryResult) -> CoreResult<Row> {
        let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap_or(0);
        let get_f = |n: &str| get_at::<Option<f64>>(r, at(n), n);
        let get_i = |n: &str| get_at::<Option<i64>>(r, at(n), n);
        let get_s = |n: &str| get_at::<String>(r, at(n), n);
        let get_d = |n: &str| get_at::<Option<NaiveDate>>(r, at(n), n);
        let rfm = match (get_i("rfm_r")?, get_i("rfm_f")?, get_i("rfm_m")?) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        let drivers = serde_json::from_value(json_at(r, at("churn_drivers"), "churn_drivers")?)
            .unwrap_or_default();
        let next_products =
            serde_json::from_value(json_at(r, at("next_products"), "next_products")?)
                .unwrap_or_default();
        let facts_missing =
            serde_json::from_value(json_at(r, at("facts_missing"), "facts_missing")?)
                .unwrap_or_default();
        Ok(Row {
            account: get_at(r, at("account_id"), "account_id")?,
            tier: get_s("tier")?,
            tier_reason: get_s("tier_reason")?,
            profitability: get_f("profitability")?,
            margin_rate: get_f("margin_rate")?,
            days_to_pay: get_f("days_to_pay")?,
            rfm_segment: get_s("rfm_segment")?,
            rfm,
            recency_days: get_i("recency_days")?,
            purchases: get_i("purchases")?,
            revenue: get_f("revenue")?,
            value_decile: get_i("value_decile")?,
            p_alive: get_f("p_alive")?,
            expected_purchases: get_f("expected_purchases")?,
            clv: get_f("clv")?,
            value_missing: get_s("value_missing")?,
            lifecycle_stage: get_s("lifecycle_stage")?,
            lifecycle_reason: get_s("lifecycle_reason")?,
            tenure_days: get_i("tenure_days")?,
            trend: get_f("trend")?,
            usual_interval_days: get_f("usual_interval_days")?,
            next_due_from: get_d("next_due_from")?,
            next_due_to: get_d("next_due_to")?,
            due_status: get_s("due_status")?,
            churn_risk: get_f("churn_risk")?,
            churn_decile: get_i("churn_decile")?,
            churn_drivers: drivers,
            churn_missing: get_s("churn_missing")?,
            churn_model: get_at(r, at("churn_model"), "churn_model")?,
            relationship_level: get_s("relationship_level")?,
            loyalty_index: get_f("loyalty_index")?,
            loyalty_behaviour: get_f("loyalty_behaviour")?,
            loyalty_attitude: get_f("loyalty_attitude")?,
            loyalty_type: get_s("loyalty_type")?,
            switching_cost: get_f("switching_cost")?,
            switching_level: get_s("switching_level")?,
            switching_lever: get_s("switching_lever")?,
            value_focus: get_s("value_focus")?,
            value_focus_gap: get_f("value_focus_gap")?,
            next_products,
            facts_missing,
        })
    }
}

/// The columns of an account's row, in the order it is written and read.
pub(super) const COLUMNS: [&str; 46] = [
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
    "churn_risk",
    "churn_decile",
    "churn_drivers",
    "churn_missing",
    "churn_model",
    "relationship_level",
    "loyalty_index",
    "loyalty_behaviour",
    "loyalty_attitude",
    "loyalty_type",
    "switching_cost",
    "switching_level",
    "switching_lever",
    "value_focus",
    "value_focus_gap",
    "next_products",
    "facts_missing",
];

/// The JSON in column `at` of a row: JSON on PostgreSQL, its text on SQLite.
pub(super) fn json_at(r: &sea_orm::QueryResult, at: usize, name: &str) -> CoreResult<Value> {
    Ok(match get_at::<Value>(r, at, name)? {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::Null),
        v => v,
    })
}

/// The record of changes in column `at` of a row.
pub(super) fn changes_at(r: &sea_orm::QueryResult, at: usize) -> CoreResult<Map<String, Value>> {
    Ok(match json_at(r, at, "changes")? {
        Value::Object(m) => m,
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
                "tier" | "rfm_segment" | "lifecycle_stage" | "due_status"
                | "relationship_level" | "loyalty_type" | "switching_level" | "value_focus" => {
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

/// The shown values of tracked insights, per account that had insights before a write.
pub type Previous = HashMap<Uuid, HashMap<&'static str, Shown>>;

/// Writes one batch of rows of the refresh `run` as of `as_of`, in the caller's transaction;
/// returns what the accounts that had insights before showed then.
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    backend: Backend,
    run: Uuid,
    as_of: NaiveDate,
    rows: &[Row],
) -> CoreResult<Previous> {
    let mut previous = Previous::new();
    if rows.is_empty() {
        return Ok(previous);
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
    // An upsert, not a delete and an insert: two refreshes at once (two instances) would each
    // delete the rows the other had not committed yet and then collide on inserting them.
    insert
        .into_table(col(TABLE))
        .columns(COLUMNS.map(col))
        .on_conflict(
            OnConflict::column(col("account_id"))
                .update_columns(
                    COLUMNS
                        .iter()
                        .filter(|c| **c != "account_id")
                        .map(|c| col(c)),
                )
                .to_owned(),
        );
    let f64_null = sea_orm::Value::Double(None);
    let i64_null = sea_orm::Value::BigInt(None);
    let date_null = sea_orm::Value::ChronoDate(None);
    for r in rows {
        let was = old.remove(&r.account);
        let mut changes = was.as_ref().map(|b| b.changes.clone()).unwrap_or_default();
        if let Some(b) = &was {
            previous.insert(r.account, b.shown.clone());
        }
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
        let [rr, rf, rm] = r.rfm.map_or([None; 3], |v| v.map(Some));
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
            opt(r.churn_risk, f64_null.clone()),
            opt(r.churn_decile, i64_null.clone()),
            Expr::val(serde_json::to_value(&r.churn_drivers).unwrap_or_default()).into(),
            Expr::val(r.churn_missing.clone()).into(),
            opt(r.churn_model, sea_orm::Value::Uuid(None)),
            Expr::val(r.relationship_level.clone()).into(),
            opt(r.loyalty_index, f64_null.clone()),
            opt(r.loyalty_behaviour, f64_null.clone()),
            opt(r.loyalty_attitude, f64_null.clone()),
            Expr::val(r.loyalty_type.clone()).into(),
            opt(r.switching_cost, f64_null.clone()),
            Expr::val(r.switching_level.clone()).into(),
            Expr::val(r.switching_lever.clone()).into(),
            Expr::val(r.value_focus.clone()).into(),
            opt(r.value_focus_gap, f64_null.clone()),
            Expr::val(serde_json::to_value(&r.next_products).unwrap_or_default()).into(),
            Expr::val(serde_json::to_value(&r.facts_missing).unwrap_or_default()).into(),
        ]);
    }
    db::insert(conn, &insert).await?;
    if any_history {
        db::insert(conn, &history).await?;
    }
    Ok(previous)
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
