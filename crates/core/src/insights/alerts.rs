//! Insight alerts: when a refresh finds an insight crossing its rule's threshold (a gold or
//! silver customer whose churn risk rises above 0.6), the account's owner and their team's
//! managers are notified — once. Each raised alert is a row keyed by account and rule, written in
//! the refresh's batch transaction with the new values; a second refresh (or a second instance
//! running one at the same time) finds the row and notifies no one again. When the value falls
//! back the row goes, so a later crossing alerts anew.
//!
//! An alert whose insight had no value before (an account's first insights, the first accepted
//! churn model) is raised without notifying: a first import of years of ledger would otherwise
//! ring every bell at once. Those accounts show in "customers at risk" on the home page. Only a
//! refresh as of today raises or clears alerts: a back-test says nothing about now.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use serde_json::json;
use uuid::Uuid;

use super::Shown;
use super::store::Row;
use crate::authz::Role;
use crate::db::{self, Backend, col, get_at};
use crate::error::CoreResult;
use crate::identity::users;
use crate::notifications::{self, Notice};
use crate::{Core, now};

/// The churn risk above which a customer is at risk: the alert's threshold and the home page's.
pub const AT_RISK: f64 = 0.6;

/// The notice kind of an alert.
pub const NOTICE: &str = notifications::INSIGHT_ALERT;

/// A rule: which insight, above what, for which tiers.
pub struct Rule {
    pub name: &'static str,
    pub insight: &'static str,
    pub above: f64,
    /// Only customers of these tiers: the ones worth a call.
    pub tiers: &'static [&'static str],
}

/// The rules alerts are raised by.
pub const RULES: [Rule; 1] = [Rule {
    name: "churn_risk_high",
    insight: "churn_risk",
    above: AT_RISK,
    tiers: &["gold", "silver"],
}];

/// The insight's value as computed (not rounded as shown), so the alert, the home page's list
/// and the panel's colour agree at the threshold.
fn value(row: &Row, insight: &str) -> Option<f64> {
    match insight {
        "churn_risk" => row.churn_risk,
        _ => None,
    }
}

impl Rule {
    fn holds(&self, row: &Row) -> bool {
        self.tiers.contains(&row.tier.as_str())
            && value(row, self.insight).is_some_and(|v| v > self.above)
    }
}

/// Raises and clears the alerts of one batch of `rows`, in the batch's transaction; `before`
/// holds the shown values of the accounts that had insights before this refresh. Notifies the
/// owner and the managers of their team of each newly raised alert on an account that had
/// insights before. Returns how many were notified about.
pub async fn apply<C: ConnectionTrait>(
    core: &Core,
    conn: &C,
    backend: Backend,
    as_of: chrono::NaiveDate,
    rows: &[Row],
    before: &HashMap<Uuid, HashMap<&'static str, Shown>>,
) -> CoreResult<u64> {
    let mut raised = 0;
    for rule in &RULES {
        let (holding, cleared): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| rule.holds(r));
        if !cleared.is_empty() {
            let ids: Vec<Uuid> = cleared.iter().map(|r| r.account).collect();
            let mut q = Query::delete();
            q.from_table(col("insight_alerts"))
                .and_where(Expr::col(col("rule")).eq(rule.name))
                .and_where(db::id_in(
                    backend,
                    Expr::col(col("account_id")).into(),
                    &ids,
                ));
            db::delete(conn, &q).await?;
        }
        for row in holding {
            let mut q = Query::insert();
            q.into_table(col("insight_alerts"))
                .columns([col("account_id"), col("rule"), col("raised_on")])
                .values_panic([row.account.into(), rule.name.into(), as_of.into()])
                .on_conflict(
                    OnConflict::columns([col("account_id"), col("rule")])
                        .do_nothing()
                        .to_owned(),
                );
            // Zero rows: the alert was already up (raised by an earlier or a concurrent refresh).
            if db::insert(conn, &q).await? == 0 {
                continue;
            }
            // Only a value that was known before and has risen is news: a first value (a new
            // account, a first accepted model, the upgrade that brought churn risk) is not.
            let Some(Shown::Number(was)) =
                before.get(&row.account).and_then(|b| b.get(rule.insight))
            else {
                continue;
            };
            let previous = format!("{:.0}%", was * 100.0);
            let now_value = value(row, rule.insight).unwrap_or_default();
            let facts = title_facts(conn, row.account).await?;
            for (user, locale) in recipients(core, conn, row.account).await? {
                // The account's title as the recipient reads it (a person's name order).
                let title = (super::subject().title)(&facts, &locale);
                let params = json!({
                    "rule": rule.name,
                    "title": title,
                    "value": format!("{:.0}%", now_value * 100.0),
                    "before": previous,
                    "tier": row.tier,
                });
                notifications::notify(
                    core,
                    conn,
                    Notice {
                        user_id: user,
                        kind: NOTICE,
                        params,
                        about: Some((super::subject().name, row.account)),
                        visible_at: now(),
                    },
                )
                .await?;
            }
            raised += 1;
        }
    }
    Ok(raised)
}

/// The fields the account's title is made of, read from its table (the notice keeps the title
/// as it was when the alert was raised).
async fn title_facts<C: ConnectionTrait>(
    conn: &C,
    account: Uuid,
) -> CoreResult<serde_json::Map<String, serde_json::Value>> {
    let def = super::subject();
    let mut q = Query::select();
    q.columns(def.title_fields.iter().map(|f| col(f)))
        .from(col(def.table))
        .and_where(Expr::col(col("id")).eq(account));
    let mut facts = serde_json::Map::new();
    if let Some(r) = db::fetch_one(conn, &q).await? {
        for (i, f) in def.title_fields.iter().enumerate() {
            let v: Option<String> = get_at(&r, i, f)?;
            facts.insert((*f).to_string(), json!(v.unwrap_or_default()));
        }
    }
    Ok(facts)
}

/// The owner of `account` and the active managers of the owner's team, with their locales.
async fn recipients<C: ConnectionTrait>(
    core: &Core,
    conn: &C,
    account: Uuid,
) -> CoreResult<Vec<(Uuid, String)>> {
    let def = super::subject();
    let mut q = Query::select();
    q.column(col("owner_id"))
        .from(col(def.table))
        .and_where(Expr::col(col("id")).eq(account));
    let Some(r) = db::fetch_one(conn, &q).await? else {
        return Ok(Vec::new());
    };
    let owner: Uuid = get_at(&r, 0, "owner_id")?;
    let everyone = users::list(&core.db).await?;
    let Some(owner) = everyone.iter().find(|u| u.id == owner) else {
        return Ok(Vec::new());
    };
    let team = owner.team_id;
    let mut out = Vec::new();
    if !owner.disabled {
        out.push((owner.id, owner.locale.clone()));
    }
    out.extend(
        everyone
            .iter()
            .filter(|u| {
                u.role == Role::Manager
                    && !u.disabled
                    && team.is_some()
                    && u.team_id == team
                    && u.id != owner.id
            })
            .map(|u| (u.id, u.locale.clone())),
    );
    Ok(out)
}

/// Removes the alerts of accounts that have no insights any more (see `store::forget_others`),
/// so one that comes back at risk is news again.
pub async fn forget_others<C: ConnectionTrait>(conn: &C) -> CoreResult<u64> {
    let sql = "DELETE FROM insight_alerts WHERE account_id NOT IN (SELECT account_id FROM account_insights)";
    let r = conn
        .execute(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await?;
    Ok(r.rows_affected())
}

/// When each of `accounts` had its churn alert raised (the day its risk rose above the line).
pub async fn raised_on<C: ConnectionTrait>(
    conn: &C,
    backend: Backend,
    accounts: &[Uuid],
) -> CoreResult<HashMap<Uuid, chrono::NaiveDate>> {
    let mut out = HashMap::new();
    if accounts.is_empty() {
        return Ok(out);
    }
    let mut q = Query::select();
    q.columns([col("account_id"), col("raised_on")])
        .from(col("insight_alerts"))
        .and_where(Expr::col(col("rule")).eq(RULES[0].name))
        .and_where(db::id_in(
            backend,
            Expr::col(col("account_id")).into(),
            accounts,
        ));
    for r in db::fetch_all(conn, &q).await? {
        out.insert(get_at(&r, 0, "account_id")?, get_at(&r, 1, "raised_on")?);
    }
    Ok(out)
}
