//! Reminders on any record: `POST /api/v1/{plural}/{id}/reminders` with `{"at", "note"}` sets
//! one for the record's owner, `GET` lists those not yet shown, `DELETE …/reminders/{rid}`
//! cancels one.

use axum::Router;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use guanxi_core::error::{FieldError, FieldErrors, codes};
use guanxi_core::records::{Access, EntityDef};
use guanxi_core::{CoreError, reminders};
use serde_json::{Value, json};

use super::{ApiPath, JsonBody, parse_id};
use crate::State;
use crate::auth::ApiCaller;
use crate::error::ApiResult;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.access != Access::Records {
        return Router::new();
    }
    let base = format!("/api/v1/{}/{{id}}/reminders", def.plural);
    Router::new()
        .route(
            &base,
            get(move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>| list(def, s, c, p))
                .post(
                    move |s: AxState<State>, c: ApiCaller, p: ApiPath<String>, b: JsonBody| {
                        set(def, s, c, p, b)
                    },
                ),
        )
        .route(
            &format!("{base}/{{reminder}}"),
            delete(
                move |s: AxState<State>, c: ApiCaller, p: ApiPath<(String, String)>| {
                    cancel(def, s, c, p)
                },
            ),
        )
}

async fn list(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let pending = reminders::pending(&st.core, &actor, def, parse_id(&id)?).await?;
    Ok(axum::Json(json!({ "data": pending })).into_response())
}

/// Reads `{"at": RFC 3339, "note": text}`, naming every field that is wrong.
fn input(body: &Value) -> Result<(chrono::DateTime<chrono::Utc>, String), CoreError> {
    let mut errors = FieldErrors::new();
    let Some(obj) = body.as_object() else {
        return Err(CoreError::field(
            "body",
            FieldError::new(codes::NOT_AN_OBJECT),
        ));
    };
    for key in obj.keys().filter(|k| !["at", "note"].contains(&k.as_str())) {
        errors.insert(key.clone(), FieldError::new(codes::UNKNOWN_FIELD));
    }
    let at = match obj.get("at") {
        None | Some(Value::Null) => {
            errors.insert("at".into(), FieldError::new(codes::REQUIRED));
            None
        }
        Some(Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => Some(t.to_utc()),
            Err(_) => {
                errors.insert(
                    "at".into(),
                    FieldError::new(codes::NOT_A_DATE_TIME).with("value", json!(s)),
                );
                None
            }
        },
        Some(_) => {
            errors.insert("at".into(), FieldError::new(codes::NOT_A_STRING));
            None
        }
    };
    let note = match obj.get("note") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            errors.insert("note".into(), FieldError::new(codes::NOT_A_STRING));
            String::new()
        }
    };
    match at {
        Some(at) if errors.is_empty() => Ok((at, note)),
        _ => Err(CoreError::Validation(errors)),
    }
}

async fn set(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let (at, note) = input(&body)?;
    let reminder = reminders::set(&st.core, &actor, def, id, at, &note).await?;
    Ok((StatusCode::CREATED, axum::Json(reminder)).into_response())
}

async fn cancel(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    ApiCaller(actor): ApiCaller,
    ApiPath((id, reminder)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    reminders::cancel(&st.core, &actor, def, parse_id(&id)?, parse_id(&reminder)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
