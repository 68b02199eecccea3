//! Scoring one account again within seconds of a change to its ledger (a sale, a return, a
//! payment, customer facts), against what the newest refresh learnt from the whole population:
//! its repeat-purchase and spend models, its cut points, its rules and the churn model it used.
//! Nothing is refitted, so it takes milliseconds; the next full refresh places everyone afresh.
//!
//! The ledger's write notes the account ([`crate::areas::ledger::changed`]) and queues
//! [`CHANGED_JOB`]; the job takes the account off the list before it reads the ledger, so a
//! write committed while it runs queues the account again rather than being missed.

use chrono::NaiveDate;
use guanxi_analytics::customer_insights::{self, churn};
use sea_orm::sea_query::{Expr, Order, Query};
use serde_json::json;
use uuid::Uuid;

use super::refresh::{Learnt, rows_of, today};
use super::store::json_at;
use super::{alerts, models, read, settings, store};
use crate::Core;
pub use crate::areas::ledger::CHANGED_JOB;
use crate::areas::ledger::CHANGED_TABLE;
use crate::db::{self, col, get_at};
use crate::error::{CoreError, CoreResult, codes};

/// What scoring one account again did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rescored {
    /// Its insights were written as of this day.
    Scored(NaiveDate),
    /// No refresh has run yet (or none that kept what it learnt): the first one will score it.
    NoRefresh,
    /// The account has no purchase on the ledger (or is in the recycle bin): nothing to score.
    NoPurchases,
}

/// The newest refresh that finished, with what it learnt.
async fn newest_learnt(core: &Core) -> CoreResult<Option<Learnt>> {
    let mut q = Query::select();
    q.column(col("models"))
        .from(col("insight_runs"))
        .and_where(Expr::col(col("state")).eq("done"))
        .order_by(col("as_of"), Order::Desc)
        .order_by(col("finished_at"), Order::Desc)
        .limit(1);
    let Some(r) = db::fetch_one(core.db.reader(), &q).await? else {
        return Ok(None);
    };
    // A run from before populations were kept, or one that found no purchases, has none.
    Ok(serde_json::from_value::<Learnt>(json_at(&r, 0, "models")?).ok())
}

/// The newest refresh started, finished or not: the row is written as of it, so that a refresh
/// running now does not take the account for one it has forgotten when it finishes.
async fn newest_run(core: &Core) -> CoreResult<Option<Uuid>> {
    let mut q = Query::select();
    q.column(col("id"))
        .from(col("insight_runs"))
        .order_by(col("started_at"), Order::Desc)
        .limit(1);
    match db::fetch_one(core.db.reader(), &q).await? {
        Some(r) => Ok(Some(get_at(&r, 0, "id")?)),
        None => Ok(None),
    }
}

/// Scores `account` again as of today against the newest refresh, writing its row, the history
/// of what changed and any alert it raises or clears, in one transaction.
pub async fn rescore(core: &Core, account: Uuid) -> CoreResult<Rescored> {
    let Some(learnt) = newest_learnt(core).await? else {
        return Ok(Rescored::NoRefresh);
    };
    let as_of = today(core, crate::now()).max(learnt.population.as_of);
    let options = settings::current(core.db.reader()).await?.options();
    let backend = core.db.backend();
    let ledger = read::ledger(
        core.db.reader(),
        backend,
        as_of,
        &core.settings.default_currency,
        Some(account),
    )
    .await?;
    let id = account.to_string();
    let insight = customer_insights::score_one(
        &ledger.transactions,
        &ledger.invoices,
        &ledger.facts,
        &id,
        as_of,
        &learnt.population,
        &options,
    )
    .map_err(|e| match e {
        customer_insights::InsightError::Settings(m) => {
            CoreError::bad_request(codes::INSIGHTS_SETTINGS_INVALID, m.clone())
                .with_param("message", json!(m))
        }
        other => CoreError::Internal(other.to_string()),
    })?;
    let Some(insight) = insight else {
        return Ok(Rescored::NoPurchases);
    };
    // Churn risk from the model the refresh used, placed among the risks it gave.
    let churn = match &learnt.churn {
        Some(c) => match models::by_id(core.db.reader(), c.model).await? {
            Some(model) => {
                match churn::score(&model, &ledger.transactions, &ledger.invoices, as_of) {
                    Ok(mut scores) => {
                        for s in &mut scores {
                            s.risk_decile = c.deciles.place(s.probability);
                        }
                        Some((c.model, scores))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, %account, "churn risk could not be scored");
                        None
                    }
                }
            }
            None => None,
        },
        None => None,
    };
    let rows = rows_of(std::slice::from_ref(&insight), &ledger, churn.as_ref());
    let Some(run) = newest_run(core).await? else {
        return Ok(Rescored::NoRefresh);
    };
    let txn = core.db.begin_alone().await?;
    let previous = store::write(&txn, backend, run, as_of, &rows).await?;
    alerts::apply(core, &txn, backend, as_of, &rows, &previous).await?;
    txn.commit().await?;
    Ok(Rescored::Scored(as_of))
}

/// Takes `account` off the waiting list; whether it was on it (a second job for it finds it
/// gone).
async fn claim(core: &Core, account: Uuid) -> CoreResult<bool> {
    let mut q = Query::delete();
    q.from_table(col(CHANGED_TABLE))
        .and_where(Expr::col(col("account_id")).eq(account));
    let txn = core.db.begin().await?;
    let n = db::delete(&txn, &q).await?;
    txn.commit().await?;
    Ok(n > 0)
}

/// Puts `account` back on the waiting list.
async fn wait(core: &Core, account: Uuid) -> CoreResult<()> {
    let mut q = Query::insert();
    q.into_table(col(CHANGED_TABLE))
        .columns([col("account_id"), col("since")])
        .values_panic([account.into(), crate::now().into()])
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(col("account_id"))
                .do_nothing()
                .to_owned(),
        );
    let txn = core.db.begin().await?;
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(())
}

/// Runs [`CHANGED_JOB`]: scores the account of its payload again.
pub struct Rescore;

#[async_trait::async_trait]
impl crate::jobs::JobHandler for Rescore {
    async fn run(
        &self,
        core: &Core,
        payload: &serde_json::Value,
    ) -> Result<serde_json::Value, crate::jobs::JobError> {
        let Some(account) = payload
            .get("subject")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            return Err(crate::jobs::JobError::Fatal(
                "the job names no account".into(),
            ));
        };
        let retry = |e: CoreError| crate::jobs::JobError::Retry(e.to_string());
        if !claim(core, account).await.map_err(retry)? {
            return Ok(json!({"subject": account, "done": "already"}));
        }
        let done = match rescore(core, account).await {
            Ok(done) => done,
            Err(e) => {
                // Back on the list for the retry, which claims it again.
                wait(core, account).await.map_err(retry)?;
                return Err(retry(e));
            }
        };
        Ok(json!({"subject": account, "done": match done {
            Rescored::Scored(d) => d.to_string(),
            Rescored::NoRefresh => "no_refresh".into(),
            Rescored::NoPurchases => "no_purchases".into(),
        }}))
    }
}
