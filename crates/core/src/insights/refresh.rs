//! A full refresh: read the ledgers as of a date, run the analytics crate's entry point, write
//! every account's insights in batches, forget the insights of accounts with no purchase by
//! then, and keep thirteen months of history. Each refresh is a run with its date, its models
//! and its settings, which every insight it wrote names (its model version).

use chrono::{DateTime, Months, NaiveDate, Utc};
use guanxi_analytics::customer_insights::facts::FactInsights;
use guanxi_analytics::customer_insights::{
    self, CustomerInsight, Deciles, InsightError, InsightOptions, Population,
};
use guanxi_analytics::lifecycle::Stage;
use guanxi_analytics::timing::DueStatus;
use guanxi_analytics::transactions::date_from_day_number;
use sea_orm::sea_query::{Expr, Query};
use serde_json::json;
use uuid::Uuid;

use std::collections::HashMap;

use guanxi_analytics::churn::{ChurnScore, Evaluation};
use guanxi_analytics::customer_insights::churn::{self, ChurnOptions, Refusal};

use super::store::{self, ChurnDriver, Row};
use super::{alerts, models, read};
use crate::db::{self, col};
use crate::error::{CoreError, CoreResult, codes};
use crate::{Core, time_zone};

/// How many accounts one write transaction holds: short enough that people's saves do not
/// wait long for SQLite's writer between batches.
const BATCH: usize = 500;

/// Whether a refresh trains the churn model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Train {
    /// When no model was trained in the week up to the as-of date (the nightly refresh).
    IfStale,
    /// Always (`guanxi insights refresh --train`).
    Always,
    /// Never: score with the last accepted model.
    Never,
}

/// A churn model a refresh trained: its id, its out-of-time evaluation and why it was refused.
#[derive(Clone, Debug)]
pub struct Trained {
    pub id: Uuid,
    pub test: Option<Evaluation>,
    pub refusal: Option<Refusal>,
}

/// What a refresh did.
#[derive(Clone, Debug)]
pub struct Refreshed {
    pub run: Uuid,
    pub as_of: NaiveDate,
    /// Accounts given insights.
    pub accounts: u64,
    /// Sales rows read.
    pub rows: u64,
    /// Accounts whose insights were removed (no purchase by the as-of date any more).
    pub forgotten: u64,
    /// The churn model this refresh trained, if it trained one.
    pub trained: Option<Trained>,
    /// The churn model that scored the accounts.
    pub churn_model: Option<Uuid>,
    /// Alerts newly raised and notified (see [`super::alerts`]).
    pub alerted: u64,
}

/// Where a refresh is, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Reading the ledgers.
    Reading,
    /// Fitting and scoring.
    Computing,
    /// Training the churn model.
    Training,
    /// Writing: accounts done of all.
    Writing { done: u64, of: u64 },
}

fn stage_code(s: Stage) -> &'static str {
    s.en()
}

fn due_code(s: DueStatus) -> &'static str {
    match s {
        DueStatus::Unknown => "",
        DueStatus::NotYetDue => "not_yet_due",
        DueStatus::Due => "due",
        DueStatus::Overdue => "overdue",
    }
}

/// The date a refresh is as of when none is asked for: today in the instance's time zone.
pub fn today(core: &Core, now: DateTime<Utc>) -> NaiveDate {
    time_zone::day_of(now, core.settings.default_time_zone)
}

/// Refreshes every account's insights as of `as_of` (today when `None`): only ledger rows dated
/// on or before it are read.
pub async fn refresh(
    core: &Core,
    as_of: Option<NaiveDate>,
    train: Train,
    progress: &(dyn Fn(Progress) + Sync),
) -> CoreResult<Refreshed> {
    let today = today(core, crate::now());
    let as_of = as_of.unwrap_or(today);
    if as_of > today {
        return Err(CoreError::bad_request(
            codes::INSIGHTS_AS_OF_IN_FUTURE,
            format!("a refresh as of {as_of} is after today ({today})"),
        )
        .with_param("today", json!(today.to_string())));
    }
    let settings = super::settings::current(core.db.reader()).await?;
    let options = settings.options();
    let churn_options = settings.churn;
    let run = Uuid::now_v7();
    let mut start = Query::insert();
    start
        .into_table(col("insight_runs"))
        .columns([
            col("id"),
            col("as_of"),
            col("started_at"),
            col("state"),
            col("scored"),
        ])
        .values_panic([
            run.into(),
            as_of.into(),
            crate::now().into(),
            "running".into(),
            0i64.into(),
        ]);
    {
        let txn = core.db.begin().await?;
        db::insert(&txn, &start).await?;
        txn.commit().await?;
    }
    let outcome =
        compute_and_write(core, run, as_of, &options, churn_options, train, progress).await;
    let (state, accounts, error, models) = match &outcome {
        Ok((done, models)) => ("done", done.accounts as i64, String::new(), models.clone()),
        Err(e) => ("failed", 0, e.to_string(), json!({})),
    };
    let mut finish = Query::update();
    finish
        .table(col("insight_runs"))
        .values([
            (col("finished_at"), crate::now().into()),
            (col("state"), state.into()),
            (col("scored"), accounts.into()),
            (col("error"), error.into()),
            (col("models"), models.into()),
        ])
        .and_where(Expr::col(col("id")).eq(run));
    let txn = core.db.begin().await?;
    db::update(&txn, &finish).await?;
    txn.commit().await?;
    outcome.map(|(done, _)| done)
}

async fn compute_and_write(
    core: &Core,
    run: Uuid,
    as_of: NaiveDate,
    options: &InsightOptions,
    churn_options: ChurnOptions,
    train: Train,
    progress: &(dyn Fn(Progress) + Sync),
) -> CoreResult<(Refreshed, serde_json::Value)> {
    let backend = core.db.backend();
    progress(Progress::Reading);
    let ledger = read::ledger(
        core.db.reader(),
        backend,
        as_of,
        &core.settings.default_currency,
        None,
    )
    .await?;
    let ledger = std::sync::Arc::new(ledger);
    let rows_read = ledger.rows;
    let must_train = match train {
        Train::Always => true,
        Train::Never => false,
        Train::IfStale => models::stale(core.db.reader(), as_of).await?,
    };
    let trained = if must_train {
        progress(Progress::Training);
        let l = ledger.clone();
        let training = blocking(move || {
            churn::train(
                &l.transactions,
                &l.returns,
                &l.invoices,
                as_of,
                &churn_options,
            )
        })
        .await?;
        match training {
            Ok(training) => {
                let txn = core.db.begin_alone().await?;
                let id = models::record(&txn, as_of, &training, &churn_options).await?;
                txn.commit().await?;
                Some(Trained {
                    id,
                    test: training.report.and_then(|r| r.test),
                    refusal: training.refusal,
                })
            }
            // A model that cannot be fitted (a singular system) is no reason to leave every
            // other insight stale: the last accepted model keeps scoring.
            Err(e) => {
                tracing::warn!(error = %e, "the churn model could not be trained");
                None
            }
        }
    } else {
        None
    };
    let churn_model = models::accepted(core.db.reader(), as_of).await?;
    progress(Progress::Computing);
    let options = options.clone();
    let l = ledger.clone();
    let (result, scores) = blocking(move || {
        let r = customer_insights::compute(&l.transactions, &l.invoices, &l.facts, as_of, &options);
        let scores =
            churn_model.map(|(id, m)| (id, churn::score(&m, &l.transactions, &l.invoices, as_of)));
        (r, scores)
    })
    .await?;
    let report = match result {
        Ok(r) => Some(r),
        Err(InsightError::NoPurchases(_)) => None,
        Err(InsightError::Settings(m)) => {
            return Err(
                CoreError::bad_request(codes::INSIGHTS_SETTINGS_INVALID, m.clone())
                    .with_param("message", json!(m)),
            );
        }
        Err(InsightError::Model(m)) => return Err(CoreError::Internal(m)),
    };
    let churn = match scores {
        Some((id, Ok(s))) => Some((id, s)),
        // As with training: the other insights are still written, without churn risk.
        Some((id, Err(e))) => {
            tracing::warn!(error = %e, model = %id, "churn risk could not be scored");
            None
        }
        None => None,
    };
    let churn_model = churn.as_ref().map(|(id, _)| *id);
    let rows = report
        .as_ref()
        .map(|r| rows_of(&r.customers, &ledger, churn.as_ref()))
        .unwrap_or_default();
    let of = rows.len() as u64;
    let mut done = 0u64;
    let mut alerted = 0u64;
    // Alerts are about now: a back-test as of a date before the newest refresh's neither
    // raises nor clears them.
    let live = !later_run(core, as_of).await?;
    for chunk in rows.chunks(BATCH) {
        let txn = core.db.begin_alone().await?;
        claim_writer(&txn, run).await?;
        let previous = store::write(&txn, backend, run, as_of, chunk).await?;
        if live {
            alerted += alerts::apply(core, &txn, backend, as_of, chunk, &previous).await?;
        }
        txn.commit().await?;
        done += chunk.len() as u64;
        progress(Progress::Writing { done, of });
    }
    let txn = core.db.begin_alone().await?;
    let forgotten = store::forget_others(&txn, run).await?;
    if live {
        alerts::forget_others(&txn).await?;
    }
    let keep_from = as_of.checked_sub_months(Months::new(13)).unwrap_or(as_of);
    store::trim_history(&txn, keep_from).await?;
    txn.commit().await?;
    // What the next rescoring of one account places it against.
    let learnt = report.map(|r| Learnt {
        population: r.population,
        churn: churn.as_ref().map(|(id, scores)| ChurnLearnt {
            model: *id,
            deciles: Deciles::of(scores.iter().map(|s| (s.probability, s.risk_decile))),
        }),
    });
    let models = learnt
        .and_then(|l| serde_json::to_value(l).ok())
        .unwrap_or_else(|| json!({}));
    Ok((
        Refreshed {
            run,
            as_of,
            accounts: of,
            rows: rows_read,
            forgotten,
            trained,
            churn_model,
            alerted,
        },
        models,
    ))
}

/// Writes first in a batch's transaction, so that it holds SQLite's write lock before it reads
/// the accounts' previous values: a transaction that read first and then wrote after another
/// process's commit (a second instance refreshing, a server beside the CLI) would be refused
/// at once ("database is locked") instead of waiting its turn. A no-op on the run's own row.
async fn claim_writer<C: sea_orm::ConnectionTrait>(conn: &C, run: Uuid) -> CoreResult<()> {
    let mut touch = Query::update();
    touch
        .table(col("insight_runs"))
        .value(col("scored"), Expr::col(col("scored")))
        .and_where(Expr::col(col("id")).eq(run));
    db::update(conn, &touch).await?;
    Ok(())
}

/// Whether a refresh as of a later date than `as_of` has finished.
async fn later_run(core: &Core, as_of: NaiveDate) -> CoreResult<bool> {
    let mut q = Query::select();
    q.column(col("id"))
        .from(col("insight_runs"))
        .and_where(Expr::col(col("state")).eq("done"))
        .and_where(Expr::col(col("as_of")).gt(as_of))
        .limit(1);
    Ok(db::fetch_one(core.db.reader(), &q).await?.is_some())
}

/// Runs CPU-bound model work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> CoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::Internal(format!("insights: {e}")))
}

/// What a refresh learnt from the whole population, as its run keeps it (`models`): enough to
/// score one account again against it ([`super::rescore`]).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Learnt {
    pub population: Population,
    /// The churn model that scored the population, and where its risks fell.
    pub churn: Option<ChurnLearnt>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct ChurnLearnt {
    pub model: Uuid,
    pub deciles: Deciles,
}

/// The customers' insights as rows to store, keyed back to their accounts.
pub(super) fn rows_of(
    customers: &[CustomerInsight],
    ledger: &read::Ledger,
    churn: Option<&(Uuid, Vec<ChurnScore>)>,
) -> Vec<Row> {
    let tx = &ledger.transactions;
    let risk: HashMap<&str, &ChurnScore> = churn
        .map(|(_, s)| s.iter().map(|s| (s.customer_id.as_str(), s)).collect())
        .unwrap_or_default();
    customers
        .iter()
        .filter_map(|c| {
            let id = tx.customer_id(c.customer);
            let account = Uuid::parse_str(id).ok()?;
            let mut row = Row {
                account,
                revenue: Some(c.revenue),
                value_decile: Some(i64::from(c.value_decile)),
                lifecycle_stage: stage_code(c.lifecycle.stage).to_string(),
                lifecycle_reason: c.lifecycle.reason.code().to_string(),
                tenure_days: c.lifecycle.tenure_days.map(i64::from),
                trend: c.lifecycle.trend,
                usual_interval_days: c.lifecycle.usual_interval_days,
                purchases: Some(c.lifecycle.purchases as i64),
                recency_days: c.lifecycle.days_since_last.map(i64::from),
                next_due_from: c.timing.due_from.and_then(date_from_day_number),
                next_due_to: c.timing.due_to.and_then(date_from_day_number),
                due_status: due_code(c.timing.status).to_string(),
                ..Row::default()
            };
            if let Some(r) = &c.rfm {
                row.rfm_segment = r.segment.code().to_string();
                row.rfm = Some([r.r, r.f, r.m].map(i64::from));
            }
            match &c.tier {
                Ok(t) => {
                    row.tier = t.tier.code().to_string();
                    row.tier_reason = t.reason.code().to_string();
                    row.profitability = Some(t.score);
                    row.margin_rate = Some(t.margin_rate);
                    row.days_to_pay = t.days_to_pay;
                }
                Err(m) => row.tier_reason = m.code().to_string(),
            }
            match &c.value {
                Ok(v) => {
                    row.p_alive = Some(v.p_alive);
                    row.expected_purchases = Some(v.expected_purchases);
                    row.clv = Some(v.clv);
                }
                Err(m) => row.value_missing = m.code().to_string(),
            }
            if let Ok(level) = c.relationship {
                row.relationship_level = level.code().to_string();
            }
            facts_into(&mut row, &c.facts, &ledger.product_names);
            match (churn, risk.get(id)) {
                (Some((model, _)), Some(s)) => {
                    row.churn_risk = Some(s.probability);
                    row.churn_decile = Some(i64::from(s.risk_decile));
                    row.churn_drivers = s
                        .drivers
                        .iter()
                        .filter(|d| d.log_odds >= MATERIAL_LOG_ODDS)
                        .map(|d| ChurnDriver {
                            feature: d.feature.clone(),
                            value: d.value,
                        })
                        .collect();
                    row.churn_model = Some(*model);
                }
                _ => row.churn_missing = NO_CHURN_MODEL.to_string(),
            }
            Some(row)
        })
        .collect()
}

/// Loyalty, switching cost, value focus and next best products into `row`, with why each is
/// missing.
fn facts_into(row: &mut Row, f: &FactInsights, names: &HashMap<String, String>) {
    if let Some(l) = f.loyalty {
        row.loyalty_index = Some(l.index);
        row.loyalty_behaviour = Some(l.behaviour);
        row.loyalty_attitude = l.attitude;
        row.loyalty_type = l.kind.map(|k| k.code().to_string()).unwrap_or_default();
    }
    let missing = &mut row.facts_missing;
    match &f.switching {
        Ok(s) => {
            row.switching_cost = Some(s.index);
            row.switching_level = s.level.code().to_string();
            row.switching_lever = s.lever.clone();
        }
        Err(m) => missing.switching_cost = m.code().to_string(),
    }
    match &f.focus {
        Ok(v) => {
            row.value_focus = v.dimension.clone();
            row.value_focus_gap = Some(v.gap);
        }
        Err(m) => missing.value_focus = m.code().to_string(),
    }
    let name = |p: &str| names.get(p).cloned().unwrap_or_default();
    match &f.next_products {
        Ok(list) => {
            row.next_products = list
                .iter()
                .map(|p| store::NextProduct {
                    product: p.product.clone(),
                    name: name(&p.product),
                    confidence: p.confidence,
                    lift: p.lift,
                    because: p
                        .because
                        .iter()
                        .map(|b| Some(name(b)).filter(|n| !n.is_empty()).unwrap_or(b.clone()))
                        .collect(),
                })
                .collect();
        }
        Err(m) => missing.next_products = m.code().to_string(),
    }
    missing.inputs = f.missing.iter().map(|i| i.code().to_string()).collect();
}

/// A driver shown as a reason must raise the odds of churning by at least a quarter (e^0.25 ≈
/// 1.28): a fact that nudges the risk by a hair is no reason to call anyone.
const MATERIAL_LOG_ODDS: f64 = 0.25;

/// Why an account has no churn risk: no accepted model yet (too little history, or every model
/// so far below the floor).
pub const NO_CHURN_MODEL: &str = "no_churn_model";

/// The nightly refresh's job kind.
pub const KIND: &str = "insights_refresh";

/// Nightly at 02:30 Beijing time (18:30 UTC), after the day's ledger rows are in and before
/// people start work; the tidy job follows at 03:00.
pub fn schedule() -> crate::jobs::Schedule {
    crate::jobs::Schedule::daily_at(18, 30)
}

/// Runs the nightly refresh ([`KIND`]): as of the day it runs.
pub struct NightlyRefresh;

#[async_trait::async_trait]
impl crate::jobs::JobHandler for NightlyRefresh {
    async fn run(
        &self,
        core: &Core,
        payload: &serde_json::Value,
    ) -> Result<serde_json::Value, crate::jobs::JobError> {
        // An administrator's "refresh now" asks for a new churn model too.
        let train = if payload.get("train").and_then(serde_json::Value::as_bool) == Some(true) {
            Train::Always
        } else {
            Train::IfStale
        };
        let done = refresh(core, None, train, &|_| {})
            .await
            .map_err(|e| crate::jobs::JobError::Retry(e.to_string()))?;
        Ok(
            json!({"as_of": done.as_of.to_string(), "scored": done.accounts,
                  "rows": done.rows, "cleared": done.forgotten}),
        )
    }
}

/// Queues a refresh now, training the churn model (an administrator's "refresh now"; it runs in
/// the background like the nightly one). Administrators only.
pub async fn request(core: &Core, actor: &crate::authz::Actor) -> CoreResult<()> {
    if !actor.is_admin() {
        return Err(CoreError::forbidden(codes::ADMIN_ONLY));
    }
    let txn = core.db.begin().await?;
    crate::jobs::enqueue(
        &txn,
        crate::jobs::NewJob::new(KIND, json!({"train": true, "by": actor.user_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A refresh as the administrator's page lists it.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub as_of: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub scored: i64,
    pub error: String,
}

/// The newest refreshes, newest first.
pub async fn recent_runs<C: sea_orm::ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> CoreResult<Vec<RunSummary>> {
    let mut q = Query::select();
    q.columns(
        [
            "as_of",
            "started_at",
            "finished_at",
            "state",
            "scored",
            "error",
        ]
        .map(col),
    )
    .from(col("insight_runs"))
    .order_by(col("started_at"), sea_orm::sea_query::Order::Desc)
    .limit(limit);
    db::fetch_all(conn, &q)
        .await?
        .iter()
        .map(|r| {
            Ok(RunSummary {
                as_of: db::get_at(r, 0, "as_of")?,
                started_at: db::get_at(r, 1, "started_at")?,
                finished_at: db::get_at(r, 2, "finished_at")?,
                state: db::get_at(r, 3, "state")?,
                scored: db::get_at(r, 4, "scored")?,
                error: db::get_at(r, 5, "error")?,
            })
        })
        .collect()
}
