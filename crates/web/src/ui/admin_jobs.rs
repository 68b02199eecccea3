//! Administration → Background jobs: how many wait, and the failed ones with their last error,
//! to queue again or drop.

use askama::Template;
use axum::Router;
use axum::extract::{Form, RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::jobs::{self, JobState};
use uuid::Uuid;

use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new()
        .route("/admin/jobs", get(page))
        .route("/admin/jobs/retry", post(retry))
        .route("/admin/jobs/drop", post(drop_job))
}

pub struct FailedLine {
    pub id: String,
    pub kind: String,
    /// When it is due, as the reader reads it; `due_iso` for machines.
    pub due: String,
    pub due_iso: String,
    pub attempts: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    page: PageCtx,
    section: String,
    waiting: String,
    failed: Vec<FailedLine>,
    notice: Option<String>,
}

/// A job kind's name in the reader's language.
fn kind_label(kind: &str, i18n: &I18n) -> String {
    i18n.maybe(&format!("job-kind-{kind}"))
        .unwrap_or_else(|| i18n.t1("job-kind-other", "kind", kind))
}

async fn page(AxState(st): AxState<State>, user: UiUser, RawQuery(raw): RawQuery) -> Response {
    let i18n = I18n::for_actor(&user.actor);
    let pairs = query_pairs(raw.as_deref());
    let actor = Some(&user.actor);
    let loaded = async {
        let counts = jobs::counts(&st.core, actor).await?;
        let failed = jobs::list(&st.core, actor, Some(JobState::Failed), 200).await?;
        Ok::<_, guanxi_core::CoreError>((counts, failed))
    }
    .await;
    let (counts, failed) = match loaded {
        Ok(l) => l,
        Err(e) => return error_page(&user, e.into()),
    };
    let waiting = i18n.t_with(
        "admin-jobs-waiting",
        &[
            ("queued", counts.queued.to_string()),
            ("running", counts.running.to_string()),
        ],
    );
    let failed = failed
        .into_iter()
        .map(|j| FailedLine {
            id: j.id.to_string(),
            kind: kind_label(&j.kind, &i18n),
            due: i18n.instant(j.due_at),
            due_iso: j.due_at.to_rfc3339(),
            attempts: format!("{} / {}", j.attempts, j.max_attempts),
            error: j.last_error,
        })
        .collect();
    let notice = match form_get(&pairs, "done") {
        Some("retried") => Some(i18n.t("admin-job-retried")),
        Some("dropped") => Some(i18n.t("admin-job-dropped")),
        _ => None,
    };
    render(&JobsPage {
        page: PageCtx::new(&user, i18n.t("nav-admin"), "admin"),
        section: "jobs".into(),
        waiting,
        failed,
        notice,
    })
}

/// Checks the form, applies `op` to the job it names and shows the page with `done`'s feedback.
async fn on_failed_job<F, Fut>(user: &UiUser, f: &[(String, String)], op: F, done: &str) -> Response
where
    F: FnOnce(Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<(), guanxi_core::CoreError>>,
{
    if let Err(e) = check_csrf(user, form_get(f, "_csrf")) {
        return error_page(user, e);
    }
    let Some(id) = form_get(f, "id").and_then(|s| Uuid::parse_str(s).ok()) else {
        return error_page(user, ApiError::not_found());
    };
    match op(id).await {
        Ok(()) => Redirect::to(&format!("/admin/jobs?done={done}")).into_response(),
        Err(e) => error_page(user, e.into()),
    }
}

async fn retry(
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let actor = user.actor.clone();
    let op = |id| async move { jobs::retry(&st.core, Some(&actor), id).await };
    on_failed_job(&user, &f, op, "retried").await
}

async fn drop_job(
    AxState(st): AxState<State>,
    user: UiUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let actor = user.actor.clone();
    let op = |id| async move { jobs::drop_failed(&st.core, Some(&actor), id).await };
    on_failed_job(&user, &f, op, "dropped").await
}
