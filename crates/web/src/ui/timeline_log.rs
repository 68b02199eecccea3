//! The timeline's quick box: logging a call, a note, a task or a visit about the page's record
//! in one step, and the record's page again with what stopped it.

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use guanxi_core::CoreError;
use guanxi_core::records::{Access, EntityDef};
use serde_json::{Value, json};
use uuid::Uuid;

use super::display::field_label;
use super::posted::Posted;
use super::record_detail::{Drafts, Tab, detail_page};
use super::timeline::{QuickDraft, source};
use super::{error_page, form_get};
use crate::State;
use crate::auth::UiUser;
use crate::i18n::I18n;

pub fn router(def: &'static EntityDef) -> Router<State> {
    if def.access != Access::Records || def.timeline.is_some() {
        return Router::new();
    }
    Router::new().route(
        &format!("/{}/{{id}}/timeline", def.plural),
        post(move |s: AxState<State>, i: Path<String>, p: Posted| log(def, s, i, p)),
    )
}

/// The quick box's entry: an activity of the chosen kind regarding the page's record, owned by
/// whoever logs it. A note needs no subject: its first line is one.
async fn log(
    def: &'static EntityDef,
    AxState(st): AxState<State>,
    Path(id): Path<String>,
    Posted { user, form }: Posted,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&user, CoreError::NotFound.into());
    };
    let Some((entries_def, view)) = source(&st) else {
        return error_page(&user, CoreError::NotFound.into());
    };
    // The record must be one the user may read: an entry may not name a stranger's record.
    if let Err(e) = st.core.records(def).get(&user.actor, id).await {
        return error_page(&user, e.into());
    }
    let get = |k: &str| form_get(&form, k).unwrap_or("").trim().to_string();
    let kind = get("kind");
    let detail = get("detail");
    let mut subject = get("subject");
    if subject.is_empty() {
        subject = detail
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(100)
            .collect();
    }
    let mut body = serde_json::Map::new();
    body.insert(view.kind.into(), json!(kind));
    body.insert(view.subject.into(), json!(subject));
    body.insert(view.detail.into(), json!(detail));
    body.insert(
        view.regarding.into(),
        json!({"entity": def.name, "id": id.to_string()}),
    );
    let i18n = I18n::for_actor(&user.actor);
    let mut problems = Vec::new();
    let due = get("due");
    // Shown again as typed (the subject as typed, not as filled in from the note) if refused.
    let typed = QuickDraft {
        kind: kind.clone(),
        subject: get("subject"),
        detail: detail.clone(),
        due: due.clone(),
    };
    if !due.is_empty() {
        match crate::forms::local_instant(&due, user.actor.time_zone) {
            Ok(v) => {
                body.insert(view.quick_due.into(), v);
            }
            Err(e) => problems.push(format!(
                "{}: {}",
                field_label(entries_def.name, view.quick_due, &i18n),
                i18n.error(e.code, &e.params)
            )),
        }
    }
    if !problems.is_empty() {
        return refused(def, &st, &user, id, problems, typed).await;
    }
    match st
        .core
        .records(entries_def)
        .create(&user.actor, &Value::Object(body))
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/{}/{id}?tab=timeline&done=logged", def.plural)).into_response()
        }
        Err(CoreError::Validation(fields)) => {
            let problems = fields
                .iter()
                .map(|(f, e)| {
                    format!(
                        "{}: {}",
                        field_label(entries_def.name, f, &i18n),
                        i18n.error(e.code, &e.params)
                    )
                })
                .collect();
            refused(def, &st, &user, id, problems, typed).await
        }
        Err(e) => error_page(&user, e.into()),
    }
}

/// The record's timeline again, with what stopped the entry and what was typed into it.
async fn refused(
    def: &'static EntityDef,
    st: &State,
    user: &UiUser,
    id: Uuid,
    problems: Vec<String>,
    typed: QuickDraft,
) -> Response {
    detail_page(
        def,
        st,
        user,
        id,
        Tab::named("timeline"),
        problems,
        Drafts {
            quick: typed,
            ..Default::default()
        },
    )
    .await
}
