//! The reminders panel of a record page: set one for the record's owner ("follow up on 6 May
//! 10:00"), see those pending, cancel one.

use axum::Router;
use axum::extract::{Form, Path, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use guanxi_core::records::{Access, EntityDef};
use guanxi_core::{CoreError, reminders};
use uuid::Uuid;

use super::{error_page, form_get};
use crate::State;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.access != Access::Records {
        return Router::new();
    }
    let p = format!("/{}/{{id}}/reminders", def.plural);
    Router::new()
        .route(
            &p,
            post(
                move |s: AxState<State>,
                      u: UiUser,
                      i: Path<String>,
                      f: Form<Vec<(String, String)>>| set(def, s, u, i, f),
            ),
        )
        .route(
            &format!("{p}/{{reminder}}/cancel"),
            post(
                move |s: AxState<State>,
                      u: UiUser,
                      i: Path<(String, String)>,
                      f: Form<Vec<(String, String)>>| cancel(def, s, u, i, f),
            ),
        )
}

async fn set(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, ApiError::not_found());
    };
    let i18n = I18n::for_actor(&user.actor);
    let local = form_get(&f, "at").unwrap_or("").trim();
    // Typed in the user's own zone, which the input does not know.
    let parsed = match crate::forms::local_time(local) {
        Some(t) => guanxi_core::time_zone::to_utc(t, user.actor.time_zone),
        None => Err(guanxi_core::FieldError::new(if local.is_empty() {
            guanxi_core::codes::REQUIRED
        } else {
            guanxi_core::codes::NOT_A_DATE_TIME
        })
        .with("value", serde_json::json!(local))),
    };
    let note = form_get(&f, "note").unwrap_or("");
    let outcome = match parsed {
        Ok(at) => reminders::set(&st.core, &user.actor, def, id, at, note)
            .await
            .map(|_| ()),
        Err(e) => Err(CoreError::field("at", e)),
    };
    match outcome {
        Ok(()) => {
            Redirect::to(&format!("/{}/{id}?done=remind#reminders", def.plural)).into_response()
        }
        Err(CoreError::Validation(mut fields)) => {
            // A time is quoted as the reader typed it, not as the instant it is in UTC.
            if let Some(e) = fields.get_mut("at") {
                *e = e.clone().with("value", local.replace('T', " "));
            }
            let problems = fields
                .iter()
                .map(|(k, e)| i18n.named_field_error(&i18n.t(&format!("reminder-{k}")), e))
                .collect();
            let draft = super::record_detail::Drafts {
                reminder: super::record_detail::ReminderDraft {
                    at: local.to_string(),
                    note: note.to_string(),
                },
                ..Default::default()
            };
            super::record_detail::detail_page(
                def,
                &st,
                &user,
                id,
                super::record_detail::Tab::named("details"),
                problems,
                draft,
            )
            .await
        }
        Err(e) => error_page(&user, e.into()),
    }
}

async fn cancel(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    user: UiUser,
    Path((id, reminder)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let (Ok(id), Ok(reminder)) = (Uuid::parse_str(&id), Uuid::parse_str(&reminder)) else {
        return error_page(&user, ApiError::not_found());
    };
    match reminders::cancel(&st.core, &user.actor, def, id, reminder).await {
        Ok(()) => Redirect::to(&format!(
            "/{}/{id}?done=remind_cancel#reminders",
            def.plural
        ))
        .into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}
