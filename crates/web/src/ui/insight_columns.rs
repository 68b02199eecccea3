//! Insights as list columns: on the list of the entity insights are about, the column chooser
//! offers `insight.<name>` columns (tier, churn risk, lifetime value …), filled from each listed
//! account's current insights in one read, worded as the insights panel words them.

use std::collections::HashMap;

use guanxi_core::insights::{self, current, store::Row};
use guanxi_core::records::EntityDef;
use uuid::Uuid;

use super::cells::Cell;
use super::insights_panel;
use crate::State;
use crate::error::ApiError;
use crate::i18n::I18n;

/// The insights a list may show as columns, in the chooser's order.
const SHOWN: [&str; 14] = [
    "tier",
    "churn_risk",
    "clv",
    "p_alive",
    "lifecycle_stage",
    "rfm_segment",
    "value_decile",
    "relationship_level",
    "loyalty_type",
    "loyalty_index",
    "switching_cost",
    "value_focus",
    "due_status",
    "revenue",
];

/// The column key of insight `name`.
fn key(name: &str) -> String {
    format!("insight.{name}")
}

/// The insight a column key names, if it is one a list may show.
fn insight_of(key: &str) -> Option<&'static str> {
    let name = key.strip_prefix("insight.")?;
    SHOWN.iter().copied().find(|s| *s == name)
}

/// Whether lists of `def` may show insights.
fn has_insights(def: &EntityDef) -> bool {
    def.name == insights::subject().name
}

/// The insight columns offered for `def`'s list, with their labels.
pub fn offered(def: &EntityDef, i18n: &I18n) -> Vec<(String, String)> {
    if !has_insights(def) {
        return Vec::new();
    }
    SHOWN.iter().map(|n| (key(n), label(n, i18n))).collect()
}

fn label(name: &str, i18n: &I18n) -> String {
    i18n.t1("insight-column", "name", i18n.t(&format!("insight-{name}")))
}

/// The labels of every insight a list may filter on (`insight.<name>`), for its chips.
pub fn filter_labels(def: &EntityDef, i18n: &I18n) -> Vec<(String, String)> {
    if !has_insights(def) {
        return Vec::new();
    }
    insights::FILTERABLE
        .iter()
        .map(|(n, _)| (key(n), label(n, i18n)))
        .collect()
}

/// The labels of conditions on an insight's value then (`insight.churn_risk@2026-11-01`)
/// among `fields`: "Churn risk on 2026-11-01", the value the first refresh on or after that day
/// left.
pub fn then_labels(def: &EntityDef, fields: &[&str], i18n: &I18n) -> Vec<(String, String)> {
    if !has_insights(def) {
        return Vec::new();
    }
    fields
        .iter()
        .filter_map(|f| {
            let (name, day) = f.strip_prefix("insight.")?.split_once('@')?;
            insights::filterable(name)?;
            Some((
                (*f).to_string(),
                i18n.t_with(
                    "insight-then",
                    &[
                        ("name", i18n.t(&format!("insight-{name}"))),
                        ("date", day.to_string()),
                    ],
                ),
            ))
        })
        .collect()
}

/// The label of column `key` when it is an insight.
pub fn label_of(def: &EntityDef, key: &str, i18n: &I18n) -> Option<String> {
    (has_insights(def))
        .then(|| insight_of(key).map(|n| label(n, i18n)))
        .flatten()
}

/// The cells of the insight columns among `columns` for the listed `ids`: per record id, per
/// column key. Nothing when no insight column is chosen.
pub async fn cells(
    st: &State,
    def: &EntityDef,
    ids: &[Uuid],
    columns: &[String],
    i18n: &I18n,
) -> Result<HashMap<Uuid, HashMap<String, Cell>>, ApiError> {
    let chosen: Vec<(&String, &'static str)> = columns
        .iter()
        .filter_map(|k| insight_of(k).map(|n| (k, n)))
        .collect();
    if chosen.is_empty() || !has_insights(def) {
        return Ok(HashMap::new());
    }
    let found = current::of_accounts(st.core.db.reader(), st.core.db.backend(), ids).await?;
    let currency = &st.core.settings.default_currency;
    Ok(found
        .into_iter()
        .map(|(id, ins)| {
            let row: HashMap<String, Cell> = chosen
                .iter()
                .map(|(k, n)| {
                    (
                        (*k).clone(),
                        Cell::text(value(n, &ins.values, currency, i18n)),
                    )
                })
                .collect();
            (id, row)
        })
        .collect())
}

/// An insight's value as a list cell shows it: empty when there is none.
fn value(name: &str, v: &Row, currency: &str, i18n: &I18n) -> String {
    let code = |c: &str| {
        if c.is_empty() {
            String::new()
        } else {
            i18n.t(&format!("insight-{name}-{c}"))
        }
    };
    match name {
        "tier" => code(&v.tier),
        "lifecycle_stage" => code(&v.lifecycle_stage),
        "rfm_segment" => code(&v.rfm_segment),
        "relationship_level" => code(&v.relationship_level),
        "due_status" => code(&v.due_status),
        "loyalty_type" => code(&v.loyalty_type),
        "value_focus" => code(&v.value_focus),
        "loyalty_index" => v
            .loyalty_index
            .map(|x| format!("{x:.0}"))
            .unwrap_or_default(),
        "switching_cost" => match (v.switching_cost, v.switching_level.as_str()) {
            (Some(x), level) => format!(
                "{x:.0} · {}",
                i18n.t(&format!("insight-switching_level-{level}"))
            ),
            (None, _) => String::new(),
        },
        "churn_risk" => v
            .churn_risk
            .map(insights_panel::risk_pct)
            .unwrap_or_default(),
        "p_alive" => v
            .p_alive
            .map(|p| format!("{:.0}%", p * 100.0))
            .unwrap_or_default(),
        "clv" => v
            .clv
            .map(|x| insights_panel::money(x, currency, i18n))
            .unwrap_or_default(),
        "revenue" => v
            .revenue
            .map(|x| insights_panel::money(x, currency, i18n))
            .unwrap_or_default(),
        "value_decile" => v
            .value_decile
            .map(|d| i18n.t1("insight-decile", "n", d))
            .unwrap_or_default(),
        _ => String::new(),
    }
}
