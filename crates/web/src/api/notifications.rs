//! A user's notifications: list, unread count (what pages poll for the bell), mark read.

use axum::Router;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guanxi_core::notifications::{self, MAX_PAGE};
use serde::Deserialize;
use serde_json::json;

use super::{ApiPath, ApiQuery, parse_id};
use crate::State;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<State> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/unread-count", get(unread_count))
        .route("/api/v1/notifications/read-all", post(read_all))
        .route("/api/v1/notifications/{id}/read", post(read_one))
}

#[derive(Deserialize)]
struct ListParams {
    unread: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

async fn list(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    let unread_only = match p.unread.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "unread must be true or false",
            ));
        }
    };
    let limit = match p.limit.as_deref() {
        None => 50,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                )
            })?,
    };
    let before = p.before.as_deref().map(parse_id).transpose()?;
    let items = notifications::list(&st.core, &actor, unread_only, limit, before).await?;
    let unread = notifications::unread_count(&st.core, &actor).await?;
    let next = (items.len() as u64 == limit)
        .then(|| items.last().map(|n| n.id))
        .flatten();
    Ok(axum::Json(json!({
        "data": items,
        "unread": unread,
        "next_before": next,
    }))
    .into_response())
}

async fn unread_count(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
) -> ApiResult<Response> {
    let unread = notifications::unread_count(&st.core, &actor).await?;
    Ok(axum::Json(json!({ "unread": unread })).into_response())
}

async fn read_one(
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    notifications::mark_read(&st.core, &actor, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn read_all(AxState(st): AxState<State>, ApiCaller(actor): ApiCaller) -> ApiResult<Response> {
    let marked = notifications::mark_all_read(&st.core, &actor).await?;
    Ok(axum::Json(json!({ "marked": marked })).into_response())
}
