//! Editing one field in place on a record page. The page's script takes the field's inputs from
//! the record's edit form (so every kind, with its pickers, edits as it does there), shows them
//! in place of the value, and posts them here; this saves that one field and nothing else (a
//! form left out of the post would otherwise read as blanks). The answer is the page to reload,
//! or the reason in the user's language.

use axum::Router;
use axum::extract::{Form, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use guanxi_core::CoreError;
use guanxi_core::records::EntityDef;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::display::field_label;
use super::form_get;
use crate::State;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router(def: &'static EntityDef) -> Router<State> {
    Router::new().route(
        &format!("/{}/{{id}}/field", def.plural),
        post(
            move |s: AxState<State>, u: UiUser, i: Path<String>, f: Form<Vec<(String, String)>>| {
                save(def, s, u, i, f)
            },
        ),
    )
}

/// Whether a field of `kind` is edited in place: those whose inputs work without the page's
/// script. References and addresses, whose pickers the edit page's script drives, open the
/// edit page instead.
pub fn in_place(kind: &guanxi_core::records::FieldKind) -> bool {
    use guanxi_core::records::FieldKind as K;
    !matches!(
        kind,
        K::Ref { .. } | K::LineRef { .. } | K::Regarding | K::Address | K::Labels { .. }
    )
}

/// A refusal the script shows beside the field.
fn refused(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

async fn save(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return refused(e.status, e.message_in(&i18n));
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return refused(
            StatusCode::NOT_FOUND,
            ApiError::not_found().message_in(&i18n),
        );
    };
    let field = form_get(&f, "field").unwrap_or("");
    let svc = st.core.records(def);
    let custom = match svc.custom_defs().await {
        Ok(c) => c,
        Err(e) => {
            let e: ApiError = e.into();
            return refused(e.status, e.message_in(&i18n));
        }
    };
    // Only the named field, out of what the form reads: a declared field that is not computed,
    // or a custom field.
    let crate::forms::FormInput {
        value: form,
        errors: form_errors,
    } = crate::forms::record_from_form(def, &custom, &f, user.actor.time_zone);
    let mut input = Map::new();
    match field.strip_prefix("custom.") {
        Some(key) if custom.iter().any(|d| d.key == key) => {
            let v = form
                .get("custom")
                .and_then(|c| c.get(key))
                .cloned()
                .unwrap_or(Value::Null);
            input.insert("custom".into(), json!({ key: v }));
        }
        None if def.field(field).is_some_and(|d| !d.computed) => {
            input.insert(
                field.to_string(),
                form.get(field).cloned().unwrap_or(Value::Null),
            );
        }
        _ => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                i18n.t("detail-edit-field-unknown"),
            );
        }
    }
    let version = form_get(&f, "version").and_then(|v| v.parse::<i64>().ok());
    // What the form itself could not read of this field is refused as the engine's errors are.
    let form_errors: guanxi_core::FieldErrors = form_errors
        .into_iter()
        .filter(|(k, _)| k == field)
        .collect();
    let saved = if form_errors.is_empty() {
        svc.update(&user.actor, id, version, &Value::Object(input))
            .await
    } else {
        Err(CoreError::Validation(form_errors))
    };
    match saved {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(json!({ "reload": format!("/{}/{id}?done=update", def.plural) })),
        )
            .into_response(),
        Err(CoreError::Validation(errors)) => {
            let message = errors
                .iter()
                .map(|(k, e)| i18n.named_field_error(&field_label(def.name, k, &i18n), e))
                .collect::<Vec<_>>()
                .join(&i18n.t("error-separator"));
            refused(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        Err(e) => {
            let e: ApiError = e.into();
            refused(e.status, e.message_in(&i18n))
        }
    }
}
