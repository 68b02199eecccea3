//! The JSON API under `/api/v1` (DESIGN.md section 5).

mod admin;
mod dedupe;
mod divisions;
mod notifications;
mod records;
mod reminders;
mod search;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use crate::State;
use crate::error::ApiError;

pub fn router(registry: &'static guanxi_core::Registry) -> Router<State> {
    let mut r = Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || async move { axum::Json(crate::openapi::document(registry)) }),
        )
        .merge(admin::router())
        .merge(divisions::router())
        .merge(notifications::router())
        .merge(search::router());
    for def in registry.all() {
        r = r.merge(records::router(def)).merge(reminders::router(def));
        r = r.merge(dedupe::router(def));
    }
    // Paths no route serves are answered by the application's fallback (`ui::unknown_path`):
    // JSON under `/api/`, a page elsewhere.
    r.layer(axum::middleware::from_fn(crate::error::word_errors))
}

/// A list response, `{"data": [...], "next_cursor": ..., "total": ...}`, serialized straight from
/// the page's items (for records, from the rows they were read from): building it with `json!`
/// first copied every record into a new `Value` tree, which cost about a tenth of a list
/// request's CPU.
#[derive(serde::Serialize)]
pub struct PageBody<'a, T: serde::Serialize> {
    pub data: T,
    /// How many items `data` holds, to size the response buffer.
    #[serde(skip)]
    pub len: usize,
    pub next_cursor: Option<&'a str>,
    /// The number of matching records; with `count=true` at most 10,000, and then
    /// `total_more` says there are more (`count=exact` counts them all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_more: Option<bool>,
}

/// Room for a listed record in the response buffer. A page is written into one buffer sized up
/// front: axum's `Json` starts at 128 bytes and grows by copying, a dozen times for a page of 50,
/// in small writes through a `BytesMut` writer.
const BYTES_PER_ITEM: usize = 1536;

impl<T: serde::Serialize> IntoResponse for PageBody<'_, T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(256 + BYTES_PER_ITEM * self.len);
        match serde_json::to_writer(&mut buf, &self) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                buf,
            )
                .into_response(),
            Err(e) => ApiError::from(guanxi_core::CoreError::Internal(format!(
                "writing a page: {e}"
            )))
            .into_response(),
        }
    }
}

/// A JSON object body with errors in the API's shape: 413 over the size limit, 400 for
/// malformed JSON, 415 for another content type.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if !ct.starts_with("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is larger than {} bytes", crate::BODY_LIMIT),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
            }
        })?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        Ok(JsonBody(v))
    }
}

/// A path parameter, with the API's error body when it cannot be decoded (an id that is not
/// UTF-8 once percent-decoded names no record: 404 like any other unknown id).
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        ApiError::not_found()
    }
}

/// Query parameters into a struct, with the API's error body when they do not fit (a repeated
/// parameter, a wrong type): 400 `invalid_query` naming the problem.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
    }
}

/// Query-string pairs, decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`).
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i64>().map(Some).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_if_match",
            "If-Match must be a version ETag such as \"3\"",
        )
    })
}

/// A record with its version as the ETag.
pub fn with_etag(status: StatusCode, rec: &serde_json::Map<String, Value>) -> Response {
    let version = rec.get("version").and_then(Value::as_i64).unwrap_or(0);
    let mut res = (status, axum::Json(rec)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

pub fn parse_id(s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s).map_err(|_| ApiError::not_found())
}
