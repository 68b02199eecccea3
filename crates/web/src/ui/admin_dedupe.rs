//! Administration → 查重: for each entity with duplicate-check rules, what each rule compares
//! and whether a match warns (the user may save anyway) or blocks the save.

use askama::Template;
use axum::Router;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::dedupe::{self, Action, Rule};
use guanxi_core::{CoreError, codes};

use super::display::field_label;
use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::auth::UiUser;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new()
        .route("/admin/dedupe", get(page))
        .route("/admin/dedupe", post(save))
}

/// One rule as the page shows it.
pub struct RuleLine {
    pub rule: &'static str,
    pub label: String,
    /// The fields it compares, by their labels.
    pub fields: String,
    pub block: bool,
    pub default_block: bool,
}

/// The rules of one entity.
pub struct EntityRules {
    pub entity: &'static str,
    pub label: String,
    pub rules: Vec<RuleLine>,
}

#[derive(Template)]
#[template(path = "admin/dedupe.html")]
struct DedupePage {
    page: PageCtx,
    section: String,
    entities: Vec<EntityRules>,
}

async fn page(AxState(st): AxState<State>, user: UiUser) -> Response {
    if !user.actor.is_admin() {
        return error_page(
            &user,
            CoreError::forbidden_for(codes::ADMIN_ONLY, "dedupe").into(),
        );
    }
    let i18n = I18n::for_actor(&user.actor);
    let mut entities = Vec::new();
    for def in st
        .core
        .registry
        .all()
        .iter()
        .filter(|d| !d.dedupe.is_empty())
    {
        let settings = match dedupe::rules::list(&st.core.db, def).await {
            Ok(s) => s,
            Err(e) => return error_page(&user, e.into()),
        };
        entities.push(EntityRules {
            entity: def.name,
            label: i18n.t(&format!("entity-{}", def.plural)),
            rules: settings
                .into_iter()
                .map(|s| RuleLine {
                    rule: s.rule.as_str(),
                    label: i18n.t(&format!("dup-rule-{}", s.rule.as_str())),
                    fields: s
                        .fields
                        .iter()
                        .map(|f| field_label(def.name, f, &i18n))
                        .collect::<Vec<_>>()
                        .join(&i18n.t("list-separator")),
                    block: s.action == Action::Block,
                    default_block: s.default_action == Action::Block,
                })
                .collect(),
        });
    }
    render(&DedupePage {
        page: PageCtx::new(&user, i18n.t("admin-dedupe"), "admin"),
        section: "dedupe".into(),
        entities,
    })
}

/// Sets one rule of one entity to warn or to block.
async fn save(AxState(st): AxState<State>, Posted { user, form: f }: Posted) -> Response {
    let def = form_get(&f, "entity").and_then(|e| st.core.registry.by_name(e));
    let rule = form_get(&f, "rule").and_then(Rule::parse);
    let action = form_get(&f, "action").and_then(Action::parse);
    let (Some(def), Some(rule), Some(action)) = (def, rule, action) else {
        return error_page(&user, crate::error::ApiError::not_found());
    };
    match dedupe::rules::set(&st.core.db, &user.actor, def, rule, action).await {
        Ok(_) => Redirect::to("/admin/dedupe?done=dedupe_rule").into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}
