//! The churn models refreshes train, kept with their out-of-time evaluation and whether they
//! were accepted. A refresh scores with the newest accepted model trained as of its date or
//! before (a back-test never uses a model that saw its future); a refused model is kept too, so
//! an admin sees why the previous one is still in use.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_analytics::churn::{ChurnModel, CoefficientRow, Evaluation};
use guanxi_analytics::customer_insights::churn::{ChurnOptions, Refusal, Training};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::store::json_at;
use crate::db::{self, col, get_at};
use crate::error::{CoreError, CoreResult};

/// The kind of the churn model in `insight_models`.
pub const CHURN: &str = "churn";

/// How long a trained model stays fresh: a refresh within this many days of the last training
/// (as of dates) scores with it instead of training again.
pub const FRESH_DAYS: i64 = 7;

/// What a model's evaluation records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelEvaluation {
    pub train_cutoff: NaiveDate,
    pub test_cutoff: NaiveDate,
    pub window_days: i64,
    pub train: Evaluation,
    pub test: Option<Evaluation>,
    pub coefficients: Vec<CoefficientRow>,
}

/// A model as the admin page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelSummary {
    pub id: Uuid,
    pub kind: String,
    pub trained_at: DateTime<Utc>,
    pub as_of: NaiveDate,
    /// `accepted` or `refused`.
    pub state: String,
    /// Why it was refused: a [`Refusal`] code, with `auc` and `floor` for `below_floor`.
    pub refusal: Value,
    pub evaluation: Option<ModelEvaluation>,
}

impl ModelSummary {
    pub fn accepted(&self) -> bool {
        self.state == "accepted"
    }
}

/// Records a training's outcome; returns the new model's id.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    as_of: NaiveDate,
    training: &Training,
    options: &ChurnOptions,
) -> CoreResult<Uuid> {
    let id = Uuid::now_v7();
    let (evaluation, model) = match &training.report {
        Some(r) => (
            serde_json::to_value(ModelEvaluation {
                train_cutoff: r.train_cutoff,
                test_cutoff: r.test_cutoff,
                window_days: r.window_days,
                train: r.train.clone(),
                test: r.test.clone(),
                coefficients: r.model.explain(),
            })
            .map_err(|e| CoreError::Internal(format!("churn evaluation: {e}")))?,
            serde_json::to_value(&r.model)
                .map_err(|e| CoreError::Internal(format!("churn model: {e}")))?,
        ),
        None => (json!({}), json!({})),
    };
    let (state, refusal) = match training.refusal {
        None => ("accepted", json!({})),
        Some(r) => ("refused", serde_json::to_value(r).unwrap_or_default()),
    };
    let mut q = Query::insert();
    q.into_table(col("insight_models"))
        .columns(
            [
                "id",
                "kind",
                "trained_at",
                "as_of",
                "state",
                "refusal",
                "evaluation",
                "model",
                "settings",
            ]
            .map(col),
        )
        .values_panic([
            id.into(),
            CHURN.into(),
            crate::now().into(),
            as_of.into(),
            state.into(),
            refusal.to_string().into(),
            evaluation.into(),
            model.into(),
            serde_json::to_value(options).unwrap_or_default().into(),
        ]);
    db::insert(conn, &q).await?;
    Ok(id)
}

/// Whether a refresh as of `as_of` should train: no churn model was trained as of a date in
/// the [`FRESH_DAYS`] up to it.
pub async fn stale<C: ConnectionTrait>(conn: &C, as_of: NaiveDate) -> CoreResult<bool> {
    let mut q = Query::select();
    q.column(col("id"))
        .from(col("insight_models"))
        .and_where(Expr::col(col("kind")).eq(CHURN))
        .and_where(Expr::col(col("as_of")).lte(as_of))
        .and_where(Expr::col(col("as_of")).gt(as_of - Duration::days(FRESH_DAYS)))
        .limit(1);
    Ok(db::fetch_one(conn, &q).await?.is_none())
}

/// The newest accepted churn model trained as of `as_of` or before.
pub async fn accepted<C: ConnectionTrait>(
    conn: &C,
    as_of: NaiveDate,
) -> CoreResult<Option<(Uuid, ChurnModel)>> {
    let mut q = Query::select();
    q.columns([col("id"), col("model")])
        .from(col("insight_models"))
        .and_where(Expr::col(col("kind")).eq(CHURN))
        .and_where(Expr::col(col("state")).eq("accepted"))
        .and_where(Expr::col(col("as_of")).lte(as_of))
        .order_by(col("as_of"), Order::Desc)
        .order_by(col("trained_at"), Order::Desc)
        .limit(1);
    let Some(r) = db::fetch_one(conn, &q).await? else {
        return Ok(None);
    };
    let id: Uuid = get_at(&r, 0, "id")?;
    let model: ChurnModel = serde_json::from_value(json_at(&r, 1, "model")?)
        .map_err(|e| CoreError::Internal(format!("stored churn model {id}: {e}")))?;
    Ok(Some((id, model)))
}

/// The churn model `id`, when it is still kept.
pub async fn by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> CoreResult<Option<ChurnModel>> {
    let mut q = Query::select();
    q.column(col("model"))
        .from(col("insight_models"))
        .and_where(Expr::col(col("id")).eq(id))
        .and_where(Expr::col(col("kind")).eq(CHURN));
    let Some(r) = db::fetch_one(conn, &q).await? else {
        return Ok(None);
    };
    serde_json::from_value(json_at(&r, 0, "model")?)
        .map(Some)
        .map_err(|e| CoreError::Internal(format!("stored churn model {id}: {e}")))
}

/// The newest models, newest first.
pub async fn recent<C: ConnectionTrait>(conn: &C, limit: u64) -> CoreResult<Vec<ModelSummary>> {
    let mut q = Query::select();
    q.columns(
        [
            "id",
            "kind",
            "trained_at",
            "as_of",
            "state",
            "refusal",
            "evaluation",
        ]
        .map(col),
    )
    .from(col("insight_models"))
    .order_by(col("trained_at"), Order::Desc)
    .limit(limit);
    db::fetch_all(conn, &q)
        .await?
        .iter()
        .map(|r| {
            let refusal: String = get_at(r, 5, "refusal")?;
            Ok(ModelSummary {
                id: get_at(r, 0, "id")?,
                kind: get_at(r, 1, "kind")?,
                trained_at: get_at(r, 2, "trained_at")?,
                as_of: get_at(r, 3, "as_of")?,
                state: get_at(r, 4, "state")?,
                refusal: serde_json::from_str(&refusal).unwrap_or_default(),
                evaluation: serde_json::from_value(json_at(r, 6, "evaluation")?).ok(),
            })
        })
        .collect()
}

/// The refusal's code, for messages.
pub fn refusal_code(r: Option<Refusal>) -> &'static str {
    r.map_or("", Refusal::code)
}
