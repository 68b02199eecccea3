//! Identity and configuration routes: me, users, teams, roles, API tokens, custom fields.

use axum::Router;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use guanxi_core::custom_fields::{self, CustomFieldInput};
use guanxi_core::identity::{NewPassword, NewUser, UserPatch, auth, teams, users};
use guanxi_core::{CoreError, FieldError, Grant, Role, Scope, codes};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiPath, ApiQuery, JsonBody, if_match, parse_id};
use crate::State;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<State> {
    Router::new()
        .route("/api/v1/me", get(me).patch(patch_me))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(patch_user))
        .route("/api/v1/users/{id}/password", post(set_password))
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route(
            "/api/v1/teams/{id}",
            get(get_team).patch(rename_team).delete(delete_team),
        )
        .route("/api/v1/roles", get(list_roles))
        .route("/api/v1/roles/{role}/grants/{entity}", put(set_grant))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route(
            "/api/v1/custom-fields",
            get(list_custom).post(create_custom),
        )
        .route(
            "/api/v1/custom-fields/{id}",
            get(get_custom).patch(patch_custom).delete(delete_custom),
        )
}

fn obj(v: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        )
    })
}

/// Rejects keys a route does not know, naming them.
fn only(o: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    let mut fields = guanxi_core::FieldErrors::new();
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) {
            fields.insert(k.clone(), FieldError::new(codes::UNKNOWN_FIELD));
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(fields).into())
    }
}

fn opt_str(o: &serde_json::Map<String, Value>, k: &str) -> Result<Option<String>, ApiError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CoreError::field(k, FieldError::new(codes::NOT_A_STRING)).into()),
    }
}

fn opt_bool(o: &serde_json::Map<String, Value>, k: &str) -> Result<Option<bool>, ApiError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(CoreError::field(k, FieldError::new(codes::NOT_A_BOOLEAN)).into()),
    }
}

fn opt_team(o: &serde_json::Map<String, Value>) -> Result<Option<Option<uuid::Uuid>>, ApiError> {
    match o.get("team_id") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => v
            .as_str()
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .map(|u| Some(Some(u)))
            .ok_or_else(|| {
                CoreError::field("team_id", FieldError::not_parsed(codes::NOT_AN_ID, v)).into()
            }),
    }
}

async fn me(AxState(st): AxState<State>, ApiCaller(actor): ApiCaller) -> ApiResult<Response> {
    let user = users::get(st.core.db.reader(), actor.user_id).await?;
    // Every entity's grant, stored or the role's default.
    let grants: serde_json::Map<String, Value> = st
        .core
        .registry
        .all()
        .iter()
        .map(|e| (e.name.to_string(), json!(actor.grant(e.name))))
        .collect();
    Ok(axum::Json(json!({
        "user": user,
        "grants": grants,
        "time_zone_in_effect": actor.time_zone.name(),
    }))
    .into_response())
}

async fn patch_me(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(o, &["name", "locale", "money_format", "time_zone"])?;
    let patch = UserPatch {
        name: opt_str(o, "name")?,
        locale: opt_str(o, "locale")?,
        money_format: opt_str(o, "money_format")?,
        time_zone: opt_str(o, "time_zone")?,
        ..Default::default()
    };
    let user = users::update(&st.core.db, Some(&actor), actor.user_id, patch).await?;
    let zone = guanxi_core::time_zone::resolve(&user.time_zone, st.core.settings.default_time_zone);
    Ok(axum::Json(json!({"user": user, "time_zone_in_effect": zone.name()})).into_response())
}

async fn list_users(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
) -> ApiResult<Response> {
    Ok(axum::Json(json!({"data": users::list(&st.core.db).await?})).into_response())
}

async fn get_user(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(axum::Json(users::get(st.core.db.reader(), parse_id(&id)?).await?).into_response())
}

async fn create_user(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(
        o,
        &["email", "name", "role", "team_id", "password", "locale"],
    )?;
    let new = NewUser {
        email: opt_str(o, "email")?.unwrap_or_default(),
        name: opt_str(o, "name")?.unwrap_or_default(),
        role: opt_str(o, "role")?.unwrap_or_default(),
        team_id: opt_team(o)?.flatten(),
        password: opt_str(o, "password")?.unwrap_or_default(),
        locale: opt_str(o, "locale")?,
    };
    let user = users::create(&st.core.db, Some(&actor), new).await?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}

async fn patch_user(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(
        o,
        &[
            "name",
            "role",
            "team_id",
            "locale",
            "money_format",
            "time_zone",
            "disabled",
        ],
    )?;
    let patch = UserPatch {
        name: opt_str(o, "name")?,
        role: opt_str(o, "role")?,
        team_id: opt_team(o)?,
        locale: opt_str(o, "locale")?,
        money_format: opt_str(o, "money_format")?,
        time_zone: opt_str(o, "time_zone")?,
        disabled: opt_bool(o, "disabled")?,
    };
    Ok(
        axum::Json(users::update(&st.core.db, Some(&actor), parse_id(&id)?, patch).await?)
            .into_response(),
    )
}

async fn set_password(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(o, &["password", "current_password", "keep_tokens"])?;
    let pw = opt_str(o, "password")?.unwrap_or_default();
    let current = opt_str(o, "current_password")?;
    auth::set_password(
        &st.core.db,
        &st.core.settings,
        Some(&actor),
        parse_id(&id)?,
        NewPassword {
            password: &pw,
            current: current.as_deref(),
            keep_tokens: opt_bool(o, "keep_tokens")?.unwrap_or(false),
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_teams(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
) -> ApiResult<Response> {
    Ok(axum::Json(json!({"data": teams::list(&st.core.db).await?})).into_response())
}

async fn get_team(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(axum::Json(teams::get(&st.core.db, parse_id(&id)?).await?).into_response())
}

async fn create_team(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(o, &["name"])?;
    let team = teams::create(
        &st.core.db,
        Some(&actor),
        &opt_str(o, "name")?.unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(team)).into_response())
}

async fn rename_team(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(o, &["name"])?;
    let team = teams::rename(
        &st.core.db,
        Some(&actor),
        parse_id(&id)?,
        &opt_str(o, "name")?.unwrap_or_default(),
    )
    .await?;
    Ok(axum::Json(team).into_response())
}

async fn delete_team(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    teams::delete(&st.core.db, Some(&actor), parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_roles(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
) -> ApiResult<Response> {
    let mut out = Vec::new();
    for role in Role::ALL {
        let grants = users::role_grants(&st.core.db, st.core.registry, role).await?;
        out.push(json!({"role": role, "grants": grants}));
    }
    Ok(axum::Json(json!({"data": out})).into_response())
}

async fn set_grant(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath((role, entity)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(o, &["read", "write"])?;
    let role = users::parse_role(&role).map_err(|e| CoreError::field("role", e))?;
    let scope = |k: &str| -> Result<Scope, ApiError> {
        users::parse_scope(&opt_str(o, k)?.unwrap_or_default())
            .map_err(|e| CoreError::field(k, e).into())
    };
    let grant = Grant {
        read: scope("read")?,
        write: scope("write")?,
    };
    users::set_grant(
        &st.core.db,
        st.core.registry,
        Some(&actor),
        role,
        &entity,
        grant,
    )
    .await?;
    Ok(axum::Json(json!({"role": role, "entity": entity, "grant": grant})).into_response())
}

async fn list_tokens(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
) -> ApiResult<Response> {
    Ok(
        axum::Json(json!({"data": auth::list_tokens(&st.core.db, actor.user_id).await?}))
            .into_response(),
    )
}

async fn create_token(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    only(o, &["name"])?;
    let (secret, token) = auth::create_token(
        &st.core.db,
        Some(&actor),
        actor.user_id,
        &opt_str(o, "name")?.unwrap_or_default(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"token": secret, "info": token})),
    )
        .into_response())
}

async fn revoke_token(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    auth::revoke_token(&st.core.db, &actor, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct EntityParam {
    entity: Option<String>,
}

async fn list_custom(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
    ApiQuery(p): ApiQuery<EntityParam>,
) -> ApiResult<Response> {
    // Only known entities reach the query (singular or plural, as elsewhere in the API).
    let entity = match p.entity.as_deref().filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => Some(
            st.core
                .registry
                .find(e)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_entity",
                        format!("unknown entity '{e}'"),
                    )
                })?
                .name,
        ),
    };
    let defs = custom_fields::list(st.core.db.reader(), st.core.registry, entity).await?;
    Ok(axum::Json(json!({"data": defs})).into_response())
}

async fn get_custom(
    AxState(st): AxState<State>,
    ApiCaller(_actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let def = custom_fields::get(&st.core.db, st.core.registry, parse_id(&id)?).await?;
    Ok(axum::Json(def).into_response())
}

fn custom_input(o: &serde_json::Map<String, Value>) -> Result<CustomFieldInput, ApiError> {
    only(
        o,
        &[
            "entity",
            "key",
            "label_en",
            "label_zh",
            "kind",
            "required",
            "options",
            "refers_to",
            "position",
        ],
    )?;
    let options = match o.get("options") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        let e = FieldError::new(codes::NOT_A_STRING).in_entry(i + 1);
                        ApiError::from(CoreError::field("options", e))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(CoreError::field("options", FieldError::new(codes::NOT_A_LIST)).into());
        }
    };
    let position = match o.get("position") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            let e = FieldError::not_parsed(codes::NOT_A_WHOLE_NUMBER, v);
            ApiError::from(CoreError::field("position", e))
        })?),
    };
    Ok(CustomFieldInput {
        key: opt_str(o, "key")?,
        label_en: opt_str(o, "label_en")?,
        label_zh: opt_str(o, "label_zh")?,
        kind: opt_str(o, "kind")?,
        required: opt_bool(o, "required")?,
        options,
        refers_to: opt_str(o, "refers_to")?,
        position,
    })
}

async fn create_custom(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    let entity = opt_str(o, "entity")?.unwrap_or_default();
    let def = custom_fields::create(&st.core, &actor, &entity, custom_input(o)?).await?;
    Ok((StatusCode::CREATED, axum::Json(def)).into_response())
}

async fn patch_custom(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let o = obj(&body)?;
    if o.contains_key("entity") {
        return Err(CoreError::field("entity", FieldError::new(codes::READ_ONLY)).into());
    }
    let expected = if_match(&headers)?;
    let def = custom_fields::update(&st.core, &actor, parse_id(&id)?, expected, custom_input(o)?)
        .await
        .map_err(|e| ApiError::from(e).with_precondition(expected.is_some()))?;
    Ok(axum::Json(def).into_response())
}

async fn delete_custom(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    custom_fields::delete(&st.core, &actor, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
