//! Global search, the recycle bin and saved views.

use axum::Router;
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use guanxi_core::{CoreError, FieldError, codes, saved_views, search};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiPath, ApiQuery, JsonBody, parse_id, query_pairs, with_etag};
use crate::State;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<State> {
    Router::new()
        .route("/api/v1/search", get(search_all))
        .route("/api/v1/recycle-bin", get(recycle_bin))
        .route("/api/v1/recycle-bin/{entity}/{id}", delete(purge))
        .route("/api/v1/recycle-bin/{entity}/{id}/restore", post(restore))
        .route("/api/v1/saved-views", get(list_views).post(save_view))
        .route("/api/v1/saved-views/{id}", delete(delete_view))
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
    entity: Option<String>,
    limit: Option<String>,
}

/// The longest search text.
const MAX_QUERY_CHARS: usize = 200;

async fn search_all(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<Response> {
    let q = p.q.unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        let e = FieldError::new(codes::TOO_LONG).with("max", MAX_QUERY_CHARS);
        return Err(CoreError::field("q", e).into());
    }
    let limit = match p.limit.as_deref() {
        None => 20,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_limit",
                    "limit must be a whole number from 1 to 100",
                )
            })?,
    };
    let defs = entities_param(&st, p.entity.as_deref())?;
    let hits = search::search(&st.core.db, &actor, &q, &defs, limit).await?;
    // Each hit with its key facts, so that two 张三 can be told apart before opening either.
    let hints = crate::ui::facts::hints(&st, &actor, &hits).await;
    let data: Vec<Value> = hits
        .iter()
        .map(|h| {
            json!({
                "entity": h.entity,
                "id": h.id,
                "title": h.title,
                "hint": hints.get(&h.id),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "data": data })).into_response())
}

/// The entities an `entity=` query parameter names: one (by either code), or every entity when
/// it is absent or empty (as a form leaves it); an unknown name is a 400 naming it.
fn entities_param(
    st: &State,
    entity: Option<&str>,
) -> Result<Vec<&'static guanxi_core::EntityDef>, ApiError> {
    match entity {
        None | Some("") => Ok(st.core.registry.all().to_vec()),
        Some(e) => st.core.registry.find(e).map(|d| vec![d]).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_entity",
                format!("unknown entity '{e}'"),
            )
        }),
    }
}

fn entity(st: &State, name: &str) -> Result<&'static guanxi_core::EntityDef, ApiError> {
    st.core.registry.find(name).ok_or_else(ApiError::not_found)
}

async fn recycle_bin(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let pairs = query_pairs(raw.as_deref());
    let ent = pairs
        .iter()
        .find(|(k, _)| k == "entity")
        .map(|(_, v)| v.clone());
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "entity").collect();
    let defs = entities_param(&st, ent.as_deref())?;
    if defs.len() > 1 && rest.iter().any(|(k, _)| k == "cursor") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            "page through the recycle bin one entity at a time (entity=...)",
        ));
    }
    let q = super::records::list_query(&rest, true)?;
    let mut items = Vec::new();
    let mut next = None;
    let across = ent.as_deref().is_none_or(str::is_empty);
    for def in defs {
        let page = match st.core.records(def).list(&actor, &q).await {
            Ok(p) => p,
            // Across entities, one the role may not read is left out, as search does.
            Err(CoreError::Forbidden { .. }) if across => continue,
            Err(e) => return Err(e.into()),
        };
        next = page.next_cursor.clone();
        for rec in page.items {
            items.push(json!({
                "entity": def.name,
                "id": rec.get("id"),
                "title": (def.title)(&rec, &actor.locale),
                "deleted_at": rec.get("deleted_at"),
                "deleted_by": rec.get("deleted_by"),
                "record": rec,
            }));
        }
    }
    items.sort_by(|a, b| b["deleted_at"].as_str().cmp(&a["deleted_at"].as_str()));
    Ok(axum::Json(json!({"data": items, "next_cursor": next})).into_response())
}

async fn restore(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath((ent, id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let rec = st
        .core
        .records(entity(&st, &ent)?)
        .restore(&actor, parse_id(&id)?)
        .await?;
    Ok(with_etag(StatusCode::OK, &rec))
}

async fn purge(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath((ent, id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    st.core
        .records(entity(&st, &ent)?)
        .purge(&actor, parse_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct ViewParams {
    entity: Option<String>,
}

async fn list_views(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(p): ApiQuery<ViewParams>,
) -> ApiResult<Response> {
    let def = entity(&st, p.entity.as_deref().unwrap_or(""))?;
    Ok(
        axum::Json(json!({"data": saved_views::list(&st.core.db, &actor, def.name).await?}))
            .into_response(),
    )
}

async fn save_view(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    if !body.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        ));
    }
    let get = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let name = get("entity");
    let def = st.core.registry.find(&name).ok_or_else(|| {
        ApiError::from(CoreError::field(
            "entity",
            st.core.registry.not_an_entity(&name),
        ))
    })?;
    // `{name, filter, sort, columns, shared}`: a filter in its JSON form, columns in order.
    let columns = match body.get("columns") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| {
                c.as_str().map(str::to_string).ok_or_else(|| {
                    CoreError::field("columns", FieldError::not_parsed(codes::NOT_A_LIST, c))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(CoreError::field(
                "columns",
                FieldError::not_parsed(codes::NOT_A_LIST, other),
            )
            .into());
        }
    };
    let input = saved_views::ViewInput {
        name: get("name"),
        filter: body.get("filter").cloned(),
        sort: body.get("sort").and_then(Value::as_str).map(str::to_string),
        columns,
        shared: body.get("shared").and_then(Value::as_bool).unwrap_or(false),
    };
    let v = saved_views::save(&st.core.db, st.core.registry, &actor, def.name, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

async fn delete_view(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    saved_views::delete(&st.core.db, &actor, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
