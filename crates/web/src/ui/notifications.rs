//! The notifications page: the user's notices newest first, each worded in their language with a
//! link to what it is about; mark one read, or all. The bell on every page links here and shows
//! the unread count (`app.js` polls the API for it).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::notifications::{self, Notification};
use uuid::Uuid;

use super::posted::Posted;
use super::{PageCtx, error_page, form_get, render};
use crate::State;
use crate::api::query_pairs;
use crate::auth::{UiUser, check_csrf};
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router() -> Router<State> {
    Router::new()
        .route("/notifications", get(page))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
}

/// Notices a page shows.
const PER_PAGE: u64 = 30;

pub struct Line {
    pub id: String,
    pub text: String,
    pub at: String,
    /// The same instant in RFC 3339, for machines.
    pub at_utc: String,
    pub unread: bool,
    /// What it is about, when that is a record.
    pub about: Option<String>,
}

#[derive(Template)]
#[template(path = "notifications/list.html")]
struct ListPage {
    page: PageCtx,
    lines: Vec<Line>,
    unread: u64,
    notice: Option<String>,
    next: Option<String>,
}

fn line(n: &Notification, i18n: &I18n, registry: &guanxi_core::Registry) -> Line {
    let about = n
        .record_id
        .and_then(|id| {
            let plural = registry.by_name(&n.entity)?.plural;
            Some(format!("/{plural}/{id}"))
        })
        // A notice about something other than a record (an import's run) names its page.
        .or_else(|| {
            n.params
                .get("href")
                .and_then(serde_json::Value::as_str)
                .filter(|h| h.starts_with('/') && !h.starts_with("//"))
                .map(str::to_string)
        });
    Line {
        id: n.id.to_string(),
        text: i18n.notice(&n.kind, &n.params),
        at: i18n.instant(n.visible_at),
        at_utc: n.visible_at.to_rfc3339(),
        unread: n.read_at.is_none(),
        about,
    }
}

async fn page(AxState(st): AxState<State>, user: UiUser, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let i18n = I18n::for_actor(&user.actor);
    let before = form_get(&pairs, "before").and_then(|s| Uuid::parse_str(s).ok());
    let listed = notifications::list(&st.core, &user.actor, false, PER_PAGE, before).await;
    let unread = notifications::unread_count(&st.core, &user.actor).await;
    let (items, unread) = match (listed, unread) {
        (Ok(items), Ok(unread)) => (items, unread),
        (Err(e), _) | (_, Err(e)) => return error_page(&user, e.into()),
    };
    let next = (items.len() as u64 == PER_PAGE)
        .then(|| items.last().map(|n| n.id.to_string()))
        .flatten();
    let notice = match form_get(&pairs, "done") {
        Some("read") => Some(i18n.t("notifications-marked-read")),
        Some("read_all") => Some(i18n.t("notifications-marked-all-read")),
        _ => None,
    };
    let lines = items
        .iter()
        .map(|n| line(n, &i18n, st.core.registry))
        .collect();
    render(&ListPage {
        page: PageCtx::new(&user, i18n.t("notifications-title"), "notifications"),
        lines,
        unread,
        notice,
        next,
    })
}

fn notice_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found())
}

/// Marks the notice read, then shows the list again, or opens what it is about when the form
/// names it (`to`, a path of this site).
async fn read_one(
    AxState(st): AxState<State>,
    user: UiUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = check_csrf(&user, form_get(&f, "_csrf")) {
        return error_page(&user, e);
    }
    let id = match notice_id(&id) {
        Ok(id) => id,
        Err(e) => return error_page(&user, e),
    };
    if let Err(e) = notifications::mark_read(&st.core, &user.actor, id).await {
        return error_page(&user, e.into());
    }
    match form_get(&f, "to").filter(|to| to.starts_with('/') && !to.starts_with("//")) {
        Some(to) => Redirect::to(to).into_response(),
        None => Redirect::to("/notifications?done=read").into_response(),
    }
}

async fn read_all(AxState(st): AxState<State>, Posted { user, form: _f }: Posted) -> Response {
    match notifications::mark_all_read(&st.core, &user.actor).await {
        Ok(_) => Redirect::to("/notifications?done=read_all").into_response(),
        Err(e) => error_page(&user, e.into()),
    }
}
