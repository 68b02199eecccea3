//! One error type for handlers, mapped to precise status codes and the API's error body:
//! `{"error": {"code", "message", "reason"?, "params"?, "fields"?}}`, each field as
//! `{"code", "message", "params"}` (DESIGN.md section 6). Codes are the contract; messages are
//! worded from the translation files in the caller's language ([`word_errors`]), or English for
//! callers not yet known.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use guanxi_core::{CoreError, FieldErrors, Params, codes};
use serde_json::{Value, json};

use crate::i18n::I18n;

/// The top-level codes worded by the translation files (besides the reasons of refusals, which
/// are core codes). Others, such as `invalid_json`, answer a malformed request with an English
/// diagnostic for its developer.
pub const WORDED_CODES: &[&str] = &[
    "validation_failed",
    "not_found",
    "no_such_route",
    "forbidden",
    "unauthenticated",
    "csrf_failed",
    "version_conflict",
    "precondition_failed",
    "too_many_attempts",
    "too_many_exports",
    "internal",
    "unknown_division",
    "address_not_recognized",
    codes::FILTER_TOO_COMPLEX,
    codes::NOT_GROUPABLE,
    codes::NOT_MEASURABLE,
    codes::DUPLICATE,
];

/// The param of a 429 that says when to try again, in seconds.
const RETRY_AFTER: &str = "seconds";

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// Why, for a code with several reasons (a refusal's): a code worded like a field error.
    pub reason: Option<&'static str>,
    /// What the wording of `reason` (or else `code`) needs.
    pub params: Params,
    /// English, for the developer reading the answer: the message where the code has no wording.
    pub message: String,
    pub fields: Option<FieldErrors>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            reason: None,
            params: Params::new(),
            message: message.into(),
            fields: None,
        }
    }

    /// A 429 that says when to try again: in `Retry-After` and in the message.
    pub fn try_again_in(
        status: StatusCode,
        code: &'static str,
        seconds: i64,
        message: String,
    ) -> Self {
        let mut params = Params::new();
        params.insert(RETRY_AFTER, Value::from(seconds));
        ApiError {
            params,
            ..ApiError::new(status, code, message)
        }
    }

    /// Seconds after which trying again may succeed, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<i64> {
        self.params.get(RETRY_AFTER).and_then(Value::as_i64)
    }

    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such record")
    }

    /// A path no route serves: 404 like a missing record, with its own reason so a client can
    /// tell a typo in the path from an id that does not exist.
    pub fn no_such_route() -> Self {
        ApiError {
            reason: Some("no_such_route"),
            ..ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
        }
    }

    /// A stale version is 412 when the client sent `If-Match`, 409 otherwise.
    pub fn with_precondition(mut self, if_match: bool) -> Self {
        if if_match && self.code == "version_conflict" {
            self.status = StatusCode::PRECONDITION_FAILED;
            self.code = "precondition_failed";
        }
        self
    }

    /// The message in the reader's language: the reason's or the code's wording, else the English
    /// diagnostic.
    pub fn message_in(&self, i18n: &I18n) -> String {
        let key = self.reason.unwrap_or(self.code);
        let mut params = self.params.clone();
        if let Some(f) = &self.fields {
            params.insert("fields", Value::from(f.keys().cloned().collect::<Vec<_>>()));
        }
        i18n.try_error(key, &params)
            .unwrap_or_else(|| self.message.clone())
    }

    /// The API's error body, worded in the reader's language.
    pub fn body(&self, i18n: &I18n) -> Value {
        let mut body = json!({"code": self.code, "message": self.message_in(i18n)});
        if let Some(r) = self.reason {
            body["reason"] = json!(r);
        }
        if !self.params.is_empty() {
            body["params"] = json!(self.params);
        }
        if let Some(fields) = &self.fields {
            body["fields"] = fields
                .iter()
                .map(|(name, e)| {
                    let field = json!({
                        "code": e.code,
                        "message": i18n.field_error(e),
                        "params": e.params,
                    });
                    (name.clone(), field)
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        json!({"error": body})
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(fields) => ApiError {
                fields: Some(fields),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "invalid fields",
                )
            },
            CoreError::BadRequest {
                code,
                message,
                params,
            } => ApiError {
                params,
                ..ApiError::new(StatusCode::BAD_REQUEST, code, message)
            },
            CoreError::NotFound => ApiError::not_found(),
            CoreError::Forbidden { code, params } => ApiError {
                reason: Some(code),
                params,
                ..ApiError::new(StatusCode::FORBIDDEN, "forbidden", "forbidden")
            },
            CoreError::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "log in or send a valid API token",
            ),
            e @ CoreError::StaleVersion { .. } => {
                ApiError::new(StatusCode::CONFLICT, "version_conflict", e.to_string())
            }
            CoreError::Conflict {
                code,
                message,
                params,
            } => ApiError {
                params,
                ..ApiError::new(StatusCode::CONFLICT, code, message)
            },
            CoreError::Throttled { retry_after_secs } => ApiError::try_again_in(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                retry_after_secs,
                format!("too many failed attempts; try again in {retry_after_secs} s"),
            ),
            CoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::internal()
            }
            e @ CoreError::DatabaseMissing(_) => {
                tracing::error!(error = %e, "database missing");
                ApiError::internal()
            }
            CoreError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl ApiError {
    fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    }
}

/// The body is worded in English here, where the caller is not known; [`word_errors`] words it
/// again in the caller's language once the handler has learnt who they are. The error travels
/// with the response for that.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body(&I18n::new("en"));
        let mut res = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after()
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res.extensions_mut().insert(Arc::new(self));
        res
    }
}

/// The caller's language, set by the `ApiCaller` extractor once it knows who calls, and read by
/// [`word_errors`] after the handler: the handler's errors are built without it.
#[derive(Clone, Default)]
pub struct CallerLocale(Arc<OnceLock<String>>);

impl CallerLocale {
    pub fn set(&self, locale: &str) {
        // Set once per request; a second caller extraction finds the same person.
        let _ = self.0.set(locale.to_string());
    }
}

/// Words the API's error bodies in the caller's language (a token's or a session's user's),
/// leaving English for callers not known, such as a request without credentials.
pub async fn word_errors(mut req: Request, next: Next) -> Response {
    let locale = CallerLocale::default();
    req.extensions_mut().insert(locale.clone());
    let res = next.run(req).await;
    let Some(i18n) = locale.0.get().map(|l| I18n::new(l)) else {
        return res;
    };
    if i18n.code == "en" {
        return res;
    }
    let Some(err) = res.extensions().get::<Arc<ApiError>>().cloned() else {
        return res;
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(err.body(&i18n).to_string()))
}

pub type ApiResult<T> = Result<T, ApiError>;
