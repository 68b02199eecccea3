//! The HTML UI: server-rendered pages that work with JavaScript off (DESIGN.md section 6).

mod admin;
mod admin_jobs;
mod admin_mail;
mod cells;
mod choices;
pub mod display;
mod list_charts;
mod notifications;
mod password_reset;
pub(crate) mod records;
mod reminders;
mod session;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use guanxi_core::Registry;
use guanxi_core::records::Access;

use crate::State;
use crate::auth::UiUser;
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router(registry: &'static Registry) -> Router<State> {
    let home = home_path(registry);
    let mut r = Router::new()
        .route("/", get(move || async move { Redirect::to(&home) }))
        .merge(session::router())
        .merge(admin::router())
        .merge(admin_jobs::router())
        .merge(admin_mail::router())
        .merge(notifications::router())
        .merge(password_reset::router())
        .merge(records::cross_entity_router());
    for def in registry.all() {
        r = r.merge(records::router(def)).merge(reminders::router(def));
    }
    r
}

/// Where people land: the first entity's list.
fn home_path(registry: &Registry) -> String {
    registry
        .home()
        .map_or_else(|| "/settings".into(), |d| format!("/{}", d.plural))
}

/// One link of the navigation bar.
pub struct NavLink {
    pub href: String,
    pub label: String,
    /// What `PageCtx::nav` is on that page, to mark the link as current.
    pub key: &'static str,
}

/// What every page's frame needs.
pub struct PageCtx {
    pub i18n: I18n,
    pub title: String,
    pub user_name: String,
    pub is_admin: bool,
    pub csrf: String,
    pub logged_in: bool,
    pub nav: &'static str,
    /// The lists of business records, in the registry's order.
    pub entity_links: Vec<NavLink>,
    /// The setup lists administrators keep (pipelines, lost reasons), shown under
    /// administration rather than in the everyday navigation.
    pub setup_links: Vec<NavLink>,
    pub home: String,
    pub q: String,
    pub here: String,
}

impl PageCtx {
    pub fn new(user: &UiUser, title: String, nav: &'static str) -> PageCtx {
        PageCtx {
            i18n: I18n::new(&user.actor.locale),
            title,
            user_name: user.actor.name.clone(),
            is_admin: user.actor.is_admin(),
            csrf: user.csrf.clone(),
            logged_in: true,
            nav,
            entity_links: user
                .registry
                .all()
                .iter()
                .filter(|d| d.access == Access::Records)
                .map(|d| NavLink {
                    href: format!("/{}", d.plural),
                    label: I18n::new(&user.actor.locale).t(&format!("nav-{}", d.plural)),
                    key: d.plural,
                })
                .collect(),
            setup_links: user
                .registry
                .all()
                .iter()
                .filter(|d| d.access == Access::Setup)
                .map(|d| NavLink {
                    href: format!("/{}", d.plural),
                    label: I18n::new(&user.actor.locale).t(&format!("nav-{}", d.plural)),
                    key: d.plural,
                })
                .collect(),
            home: home_path(user.registry),
            q: String::new(),
            here: String::new(),
        }
    }

    pub fn anonymous(i18n: I18n, title: String) -> PageCtx {
        PageCtx {
            i18n,
            title,
            user_name: String::new(),
            is_admin: false,
            csrf: String::new(),
            logged_in: false,
            nav: "",
            entity_links: Vec::new(),
            setup_links: vec![],
            home: "/".into(),
            q: String::new(),
            here: String::new(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.i18n.t(key)
    }

    pub fn lang(&self) -> &'static str {
        self.i18n.code
    }
}

/// The first value submitted under a name, from form or query pairs.
pub fn form_get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "layout/error.html")]
pub struct ErrorPage {
    pub page: PageCtx,
    pub status: u16,
    pub message: String,
}

/// An error as a page in the user's language.
pub fn error_page(user: &UiUser, err: ApiError) -> Response {
    let i18n = I18n::new(&user.actor.locale);
    // Field errors on a page without the form: each named, as the services name the field.
    let message = match &err.fields {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .map(|(k, e)| {
                let label = i18n
                    .maybe(&format!("field-{k}"))
                    .unwrap_or_else(|| k.clone());
                i18n.named_field_error(&label, e)
            })
            .collect::<Vec<_>>()
            .join(&i18n.t("error-separator")),
        _ => err.message_in(&i18n),
    };
    let page = ErrorPage {
        page: PageCtx::new(user, i18n.t("error-title"), ""),
        status: err.status.as_u16(),
        message,
    };
    let mut res = render(&page);
    *res.status_mut() = err.status;
    // A 429 page tells the browser when to try again, as the API's 429 does.
    if let Some(Ok(v)) = err
        .retry_after()
        .map(|s| axum::http::HeaderValue::from_str(&s.to_string()))
    {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    res
}
