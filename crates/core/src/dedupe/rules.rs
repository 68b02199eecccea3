//! What each duplicate-check rule of an entity does: its default ([`Rule::default_action`]) or
//! what an administrator chose, kept in `dedupe_rules` (entity, rule, action). A rule without a
//! row does its default.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Query};
use serde::Serialize;

use super::{Action, Rule};
use crate::authz::Actor;
use crate::db::{self, Db, col, get_string};
use crate::error::{CoreError, CoreResult, FieldError, codes};
use crate::records::def::EntityDef;

/// The table of administrators' choices.
pub const TABLE: &str = "dedupe_rules";

/// One rule of an entity as administrators see and set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSetting {
    pub rule: Rule,
    /// What a match does now.
    pub action: Action,
    /// What it does when no administrator has chosen.
    pub default_action: Action,
    /// The fields whose values it compares.
    pub fields: Vec<&'static str>,
}

/// What each of `def`'s rules does, in declaration order, as `conn` sees it.
pub(crate) async fn actions_in<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
) -> CoreResult<Vec<(Rule, Action)>> {
    if def.dedupe.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Query::select();
    q.columns(["rule", "action"].map(col))
        .from(col(TABLE))
        .and_where(Expr::col(col("entity")).eq(def.name));
    let mut chosen = Vec::new();
    for row in db::fetch_all(conn, &q).await? {
        if let (Some(rule), Some(action)) = (
            Rule::parse(&get_string(&row, "rule")?),
            Action::parse(&get_string(&row, "action")?),
        ) {
            chosen.push((rule, action));
        }
    }
    let mut out: Vec<(Rule, Action)> = Vec::with_capacity(def.dedupe.len());
    for d in def.dedupe {
        if out.iter().any(|(r, _)| *r == d.rule) {
            continue;
        }
        let action = chosen
            .iter()
            .find(|(r, _)| *r == d.rule)
            .map_or_else(|| d.rule.default_action(), |(_, a)| *a);
        out.push((d.rule, action));
    }
    Ok(out)
}

fn setting(def: &EntityDef, rule: Rule, action: Action) -> RuleSetting {
    RuleSetting {
        rule,
        action,
        default_action: rule.default_action(),
        fields: def
            .dedupe
            .iter()
            .filter(|d| d.rule == rule)
            .flat_map(|d| d.fields.iter().copied())
            .collect(),
    }
}

/// The entity's rules and what each does, in declaration order. Anyone may read them: the form
/// says which matches it will refuse.
pub async fn list(db: &Db, def: &EntityDef) -> CoreResult<Vec<RuleSetting>> {
    Ok(actions_in(db.reader(), def)
        .await?
        .into_iter()
        .map(|(rule, action)| setting(def, rule, action))
        .collect())
}

/// Sets what a match of one of the entity's rules does. Administrators only. The choice is kept
/// with who made it and when.
pub async fn set(
    db: &Db,
    actor: &Actor,
    def: &EntityDef,
    rule: Rule,
    action: Action,
) -> CoreResult<RuleSetting> {
    if !actor.is_admin() {
        return Err(CoreError::forbidden(codes::ADMIN_ONLY));
    }
    if !def.dedupe.iter().any(|d| d.rule == rule) {
        let declared: Vec<&str> = def.dedupe.iter().map(|d| d.rule.as_str()).collect();
        return Err(CoreError::field(
            "rule",
            FieldError::not_one_of(rule.as_str(), &declared),
        ));
    }
    let txn = db.begin().await?;
    let mut d = Query::delete();
    d.from_table(col(TABLE))
        .and_where(Expr::col(col("entity")).eq(def.name))
        .and_where(Expr::col(col("rule")).eq(rule.as_str()));
    db::delete(&txn, &d).await?;
    let mut q = Query::insert();
    q.into_table(col(TABLE))
        .columns(["entity", "rule", "action", "updated_at", "updated_by"].map(col))
        .values_panic([
            def.name.into(),
            rule.as_str().into(),
            action.as_str().into(),
            crate::now().into(),
            actor.user_id.into(),
        ]);
    db::insert(&txn, &q).await?;
    txn.commit().await?;
    Ok(setting(def, rule, action))
}
