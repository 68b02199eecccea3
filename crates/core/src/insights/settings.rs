//! The insight models' settings an administrator keeps: tier rules, RFM thresholds, lifecycle
//! bands, loyalty and switching-cost weights, value focus, cross-sell rules and the churn
//! model's window and floor — a section per model, under the name and with the keys of the
//! CLI's `--settings` files, stored as written over the defaults. The next refresh uses them; a
//! setting the models do not have, or a value they cannot use, is refused with its key and
//! nothing is stored.

use guanxi_analytics::customer_insights::InsightSettings;
use guanxi_analytics::settings::{self, SettingsError};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use serde_json::{Value, json};

use super::store::json_at;
use crate::authz::Actor;
use crate::db::{self, col};
use crate::error::{CoreError, CoreResult, codes};
use crate::{Core, now};

const TABLE: &str = "insight_settings";
/// The one row's key.
const ROW: &str = "models";

/// What the administrator wrote (an object of sections), `{}` before anything was.
pub async fn written<C: ConnectionTrait>(conn: &C) -> CoreResult<Value> {
    let mut q = Query::select();
    q.column(col("settings"))
        .from(col(TABLE))
        .and_where(Expr::col(col("id")).eq(ROW));
    Ok(match db::fetch_one(conn, &q).await? {
        Some(r) => match json_at(&r, 0, "settings")? {
            v @ Value::Object(_) => v,
            _ => json!({}),
        },
        None => json!({}),
    })
}

/// The settings in effect: the defaults with what was written over them. Settings stored by an
/// older version that no longer fit fall back to the defaults, logged, rather than stop every
/// refresh.
pub async fn current<C: ConnectionTrait>(conn: &C) -> CoreResult<InsightSettings> {
    let user = written(conn).await?;
    match checked(user) {
        Ok(s) => Ok(s),
        Err(e) => {
            tracing::warn!(error = %e, "stored insight settings no longer fit; using the defaults");
            Ok(InsightSettings::default())
        }
    }
}

/// `user` over the defaults, checked as a refresh would use it.
fn checked(user: Value) -> CoreResult<InsightSettings> {
    let s = settings::overlay(&InsightSettings::default(), user).map_err(|e| match e {
        SettingsError::UnknownKey(key) => CoreError::bad_request(
            codes::INSIGHTS_SETTINGS_UNKNOWN,
            format!("unknown setting `{key}`"),
        )
        .with_param("key", json!(key)),
        SettingsError::NotAnObject => not_json("the settings must be a JSON object"),
        SettingsError::Invalid(m) => invalid(&m),
    })?;
    s.validate().map_err(|m| invalid(&m))?;
    Ok(s)
}

fn invalid(m: &str) -> CoreError {
    CoreError::bad_request(codes::INSIGHTS_SETTINGS_INVALID, m.to_string())
        .with_param("message", json!(m))
}

fn not_json(m: &str) -> CoreError {
    CoreError::bad_request(codes::INSIGHTS_SETTINGS_NOT_JSON, m.to_string())
        .with_param("message", json!(m))
}

/// Stores `text` (JSON: sections over the defaults) as the settings, when `actor` is an
/// administrator and every key and value fits; returns the settings now in effect.
pub async fn save(core: &Core, actor: &Actor, text: &str) -> CoreResult<InsightSettings> {
    if !actor.is_admin() {
        return Err(CoreError::forbidden(codes::ADMIN_ONLY));
    }
    let user: Value = serde_json::from_str(text).map_err(|e| not_json(&e.to_string()))?;
    let in_effect = checked(user.clone())?;
    let mut q = Query::insert();
    q.into_table(col(TABLE))
        .columns([
            col("id"),
            col("settings"),
            col("updated_at"),
            col("updated_by"),
        ])
        .values_panic([ROW.into(), user.into(), now().into(), actor.user_id.into()])
        .on_conflict(
            OnConflict::column(col("id"))
                .update_columns([col("settings"), col("updated_at"), col("updated_by")])
                .to_owned(),
        );
    let txn = core.db.begin().await?;
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(in_effect)
}
