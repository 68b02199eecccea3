//! The duplicate check (查重) of an entity that declares rules: `POST /api/v1/{plural}/duplicates`
//! with a record, whole or in part (just a name), answers the live records it would duplicate;
//! `GET /api/v1/{plural}/dedupe-rules` lists what each rule does, and
//! `PUT /api/v1/{plural}/dedupe-rules/{rule}` with `{"action": "warn"|"block"}` lets an
//! administrator change it. Saves enforce the same rules themselves (409 `duplicate`).

use axum::Router;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use guanxi_core::dedupe::{self, Action, Rule, rules};
use guanxi_core::records::EntityDef;
use guanxi_core::{CoreError, FieldError, FieldErrors, codes};
use serde_json::{Value, json};

use super::{ApiPath, JsonBody};
use crate::State;
use crate::auth::ApiCaller;
use crate::error::ApiResult;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.dedupe.is_empty() {
        return Router::new();
    }
    let base = format!("/api/v1/{}", def.plural);
    Router::new()
        .route(
            &format!("{base}/duplicates"),
            post(move |s: AxState<State>, c: ApiCaller, b: JsonBody| duplicates(def, s, c, b)),
        )
        .route(
            &format!("{base}/dedupe-rules"),
            get(move |s: AxState<State>, c: ApiCaller| list_rules(def, s, c)),
        )
        .route(
            &format!("{base}/dedupe-rules/{{rule}}"),
            put(
                move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>, b: JsonBody| {
                    set_rule(def, s, c, p, b)
                },
            ),
        )
}

/// The matches of a record as typed. Its `id`, when it has one, is the record being edited,
/// which is no duplicate of itself; every other key that is no field of a rule is ignored, so a
/// record as the API returns it can be sent as it is.
async fn duplicates(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let Some(input) = body.as_object() else {
        return Err(CoreError::field("body", FieldError::new(codes::NOT_AN_OBJECT)).into());
    };
    let exclude = match input.get("id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
                .ok_or_else(|| {
                    CoreError::field("id", FieldError::not_parsed(codes::NOT_AN_ID, v))
                })?,
        ),
    };
    let matches = dedupe::find(&st.core, &actor, def, input, exclude).await?;
    Ok(axum::Json(json!({ "data": matches })).into_response())
}

async fn list_rules(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
) -> ApiResult<Response> {
    let listed = rules::list(&st.core.db, def).await?;
    Ok(axum::Json(json!({ "data": listed })).into_response())
}

async fn set_rule(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(code): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    // Who may is decided first: a refusal does not depend on how the request is written.
    if !actor.is_admin() {
        return Err(CoreError::forbidden(codes::ADMIN_ONLY).into());
    }
    let declared: Vec<&str> = def.dedupe.iter().map(|d| d.rule.as_str()).collect();
    let mut errors = FieldErrors::new();
    let rule = Rule::parse(&code).filter(|r| declared.contains(&r.as_str()));
    if rule.is_none() {
        errors.insert("rule".into(), FieldError::not_one_of(&code, &declared));
    }
    let action = match body.as_object() {
        None => {
            errors.insert("body".into(), FieldError::new(codes::NOT_AN_OBJECT));
            None
        }
        Some(o) => {
            for k in o.keys().filter(|k| k.as_str() != "action") {
                errors.insert(k.clone(), FieldError::new(codes::UNKNOWN_FIELD));
            }
            let actions: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
            match o.get("action") {
                None | Some(Value::Null) => {
                    errors.insert("action".into(), FieldError::new(codes::REQUIRED));
                    None
                }
                Some(Value::String(s)) => {
                    let a = Action::parse(s.trim());
                    if a.is_none() {
                        errors.insert("action".into(), FieldError::not_one_of(s, &actions));
                    }
                    a
                }
                Some(other) => {
                    errors.insert(
                        "action".into(),
                        FieldError::not_parsed(codes::NOT_A_STRING, other),
                    );
                    None
                }
            }
        }
    };
    let (Some(rule), Some(action), true) = (rule, action, errors.is_empty()) else {
        return Err(CoreError::Validation(errors).into());
    };
    let set = rules::set(&st.core.db, &actor, def, rule, action).await?;
    Ok(axum::Json(set).into_response())
}
