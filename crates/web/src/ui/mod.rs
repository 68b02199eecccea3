//! The HTML UI: server-rendered pages that work with JavaScript off (DESIGN.md section 6).

mod admin;
mod admin_dedupe;
mod admin_insights;
mod admin_jobs;
mod admin_mail;
mod board;
mod bulk_redirect;
mod calendar;
mod calendar_feed;
mod cells;
mod choices;
pub mod display;
mod duplicates;
pub mod facts;
mod filter_bar;
mod follow_ups;
mod history;
mod home;
mod imports;
mod inline_edit;
mod insight_columns;
mod insight_dashboard;
mod insights_panel;
mod list_charts;
mod notifications;
pub mod options;
mod password_reset;
mod posted;
mod record_detail;
mod record_form;
mod record_list;
pub(crate) mod records;
mod reminders;
mod search_pages;
mod session;
mod timeline;
mod timeline_log;
mod url;

use askama::Template;
use std::future::Future;

use axum::Router;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use guanxi_core::Registry;
use guanxi_core::records::{Access, EntityDef};

use crate::State;
use crate::auth::{Done, UiUser};
use crate::error::ApiError;
use crate::i18n::I18n;

pub fn router(registry: &'static Registry) -> Router<State> {
    let mut r = Router::new()
        .merge(home::router())
        .merge(session::router())
        .merge(calendar_feed::router())
        .merge(admin::router())
        .merge(admin_jobs::router())
        .merge(admin_insights::router())
        .merge(insight_dashboard::router())
        .merge(admin_mail::router())
        .merge(admin_dedupe::router())
        .merge(notifications::router())
        .merge(password_reset::router())
        .merge(records::cross_entity_router())
        .merge(imports::cross_entity_router());
    for def in registry.all() {
        r = r
            .merge(records::router(def))
            .merge(reminders::router(def))
            .merge(timeline_log::router(def))
            .merge(board::router(def))
            .merge(calendar::router(def))
            .merge(inline_edit::router(def))
            .merge(duplicates::router(def))
            .merge(imports::router(def));
    }
    r
}

/// The routes of a view of an entity's records (its board, its calendar): the page at
/// `/{plural}/{view}` and the change a record's card or entry posts from it at
/// `/{plural}/{id}/{change}` (a move, a reschedule), each handler given the entity.
pub(super) fn view_routes<P, PF, C, CF>(
    def: &'static EntityDef,
    view: &str,
    page: P,
    change: &str,
    post_change: C,
) -> Router<State>
where
    P: Fn(&'static EntityDef, AxState<State>, UiUser, RawQuery) -> PF
        + Copy
        + Send
        + Sync
        + 'static,
    PF: Future<Output = Response> + Send + 'static,
    C: Fn(&'static EntityDef, AxState<State>, Path<String>, posted::Posted) -> CF
        + Copy
        + Send
        + Sync
        + 'static,
    CF: Future<Output = Response> + Send + 'static,
{
    Router::new()
        .route(
            &format!("/{}/{view}", def.plural),
            get(move |s: AxState<State>, u: UiUser, q: RawQuery| page(def, s, u, q)),
        )
        .route(
            &format!("/{}/{{id}}/{change}", def.plural),
            post(
                move |s: AxState<State>, i: Path<String>, p: posted::Posted| {
                    post_change(def, s, i, p)
                },
            ),
        )
}

/// One link of the navigation.
pub struct NavLink {
    pub href: String,
    pub label: String,
    /// What `PageCtx::nav` is on that page, to mark the link as current.
    pub key: &'static str,
    /// The entity's singular code, which search results name.
    pub entity: &'static str,
    /// Where a new record of the list's entity is created, when the user may create one (the
    /// command palette offers it).
    pub new_href: Option<String>,
    /// "New account", as the palette says it.
    pub new_label: String,
}

/// The links of one business area, under its heading.
pub struct NavArea {
    pub label: String,
    pub links: Vec<NavLink>,
}

/// The message at the top of a page about what the last request did, with an undo where it can
/// be undone.
pub struct Flash {
    pub text: String,
    /// It says what stopped an action rather than what was done.
    pub failed: bool,
    /// Where the undo form posts (a deleted record's restore).
    pub undo: Option<String>,
}

/// What every page's frame needs.
pub struct PageCtx {
    pub i18n: I18n,
    pub title: String,
    pub user_name: String,
    /// The first letter of the user's name, for the avatar in the user menu.
    pub user_initial: String,
    pub is_admin: bool,
    pub csrf: String,
    pub logged_in: bool,
    pub nav: &'static str,
    /// The business areas with their lists, in the registry's order: an area appears once an
    /// entity of it is declared.
    pub areas: Vec<NavArea>,
    /// The setup lists administrators keep (pipelines, lost reasons), shown under
    /// administration rather than in the everyday navigation.
    pub setup_links: Vec<NavLink>,
    pub home: String,
    pub q: String,
    pub here: String,
    pub flash: Option<Flash>,
}

impl PageCtx {
    pub fn new(user: &UiUser, title: String, nav: &'static str) -> PageCtx {
        let i18n = I18n::for_actor(&user.actor);
        let link = |d: &'static guanxi_core::EntityDef| NavLink {
            href: format!("/{}", d.plural),
            label: i18n.t(&format!("nav-{}", d.plural)),
            key: d.plural,
            entity: d.name,
            new_href: (user.actor.grant(d.name).write != guanxi_core::Scope::None)
                .then(|| format!("/{}/new", d.plural)),
            new_label: i18n.t1(
                "palette-new-record",
                "entity",
                i18n.t(&format!("entity-{}", d.name)),
            ),
        };
        let mut areas: Vec<NavArea> = Vec::new();
        for d in user.registry.all() {
            if d.access != Access::Records {
                continue;
            }
            let label = i18n.t(&format!("area-{}", d.area));
            let mut links = vec![link(d)];
            // The customers insights are about have their analytics beside their list.
            if d.name == guanxi_core::insights::subject().name {
                links.push(NavLink {
                    href: "/insights".into(),
                    label: i18n.t("nav-insights"),
                    key: "insights",
                    entity: d.name,
                    new_href: None,
                    new_label: String::new(),
                });
            }
            // An entity with a calendar has it beside its list.
            if d.calendar.is_some() {
                links.push(NavLink {
                    href: format!("/{}/calendar", d.plural),
                    label: i18n.t("nav-calendar"),
                    key: "calendar",
                    entity: d.name,
                    new_href: None,
                    new_label: String::new(),
                });
            }
            match areas.iter_mut().find(|a| a.label == label) {
                Some(a) => a.links.extend(links),
                None => areas.push(NavArea { label, links }),
            }
        }
        let setup_links = user
            .registry
            .all()
            .iter()
            .filter(|d| d.access == Access::Setup)
            .map(|d| link(d))
            .collect();
        PageCtx {
            flash: user
                .done
                .as_ref()
                .and_then(|d| flash(&i18n, user.registry, d)),
            title,
            user_name: user.actor.name.clone(),
            user_initial: user
                .actor
                .name
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_default(),
            is_admin: user.actor.is_admin(),
            csrf: user.csrf.clone(),
            logged_in: true,
            nav,
            areas,
            setup_links,
            home: "/".into(),
            q: String::new(),
            here: user.here.clone(),
            i18n,
        }
    }

    pub fn anonymous(i18n: I18n, title: String) -> PageCtx {
        PageCtx {
            i18n,
            title,
            user_name: String::new(),
            user_initial: String::new(),
            is_admin: false,
            csrf: String::new(),
            logged_in: false,
            nav: "",
            areas: Vec::new(),
            setup_links: vec![],
            home: "/".into(),
            q: String::new(),
            here: "/login".into(),
            flash: None,
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.i18n.t(key)
    }

    pub fn lang(&self) -> &'static str {
        self.i18n.code
    }
}

/// The message for what the last request did: its `done-<code>` wording (or the history's word
/// for an action), counted for bulk actions, with the restore form of a deleted record. A code
/// without a wording says nothing, so a made-up link cannot put words on the page.
fn flash(i18n: &I18n, registry: &guanxi_core::Registry, done: &Done) -> Option<Flash> {
    if let Some(code) = &done.failed {
        let text = i18n.try_error(code, &guanxi_core::Params::new())?;
        return Some(Flash {
            text,
            failed: true,
            undo: None,
        });
    }
    let key = format!("done-{}", done.code);
    // A counted message needs its count to be looked up at all (it names `$count`).
    let counted = done
        .count
        .map(|n| i18n.count(&key, n))
        .filter(|t| *t != key);
    let text = match counted {
        Some(t) => t,
        None => i18n
            .maybe(&key)
            .or_else(|| i18n.maybe(&format!("history-{}", done.code)))?,
    };
    // Only a record of a known entity, named by a well-formed id, gets an undo.
    let undo = done.undo.as_deref().and_then(|u| {
        let (plural, id) = u.split_once(':')?;
        let def = registry.find(plural)?;
        let id = uuid::Uuid::parse_str(id).ok()?;
        Some(format!("/{}/{id}/restore", def.plural))
    });
    Some(Flash {
        text,
        failed: false,
        undo,
    })
}

/// The first value submitted under a name, from form or query pairs.
pub fn form_get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// The size each kind of page came to when last rendered. A page is written into a buffer of
/// that size from the start: grown by doubling from askama's small estimate, a board's 250 KB
/// was copied over again a dozen times (2 % of its CPU).
static RENDERED_SIZE: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<&'static str, usize>>,
> = std::sync::LazyLock::new(Default::default);

pub fn render<T: Template>(t: &T) -> Response {
    let kind = std::any::type_name::<T>();
    let last = RENDERED_SIZE
        .lock()
        .ok()
        .and_then(|sizes| sizes.get(kind).copied())
        .unwrap_or(T::SIZE_HINT);
    // A little over the last size: the same page grows with what it shows.
    let mut html = String::with_capacity(last + last / 8);
    match t.render_into(&mut html).map(|()| html) {
        Ok(html) => {
            if let Ok(mut sizes) = RENDERED_SIZE.lock() {
                sizes.insert(kind, html.len());
            }
            Html(html).into_response()
        }
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

/// A path no route serves: the API's JSON 404 under `/api/` (and for clients that ask for JSON),
/// else the error page, framed for the user when they are logged in.
pub async fn unknown_path(
    axum::extract::State(st): axum::extract::State<State>,
    req: axum::extract::Request,
) -> Response {
    let (mut parts, _) = req.into_parts();
    let wants_json = parts
        .headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"));
    if parts.uri.path().starts_with("/api/") || wants_json {
        return ApiError::no_such_route().into_response();
    }
    use axum::extract::FromRequestParts;
    // Framed for the user when logged in; for a visitor in the language they chose.
    let (page, i18n) = match UiUser::from_request_parts(&mut parts, &st).await {
        Ok(user) => {
            let i18n = I18n::for_actor(&user.actor);
            (PageCtx::new(&user, i18n.t("error-title"), ""), i18n)
        }
        Err(_) => {
            let i18n = I18n::for_visitor(&parts.headers);
            (
                PageCtx::anonymous(i18n.clone(), i18n.t("error-title")),
                i18n,
            )
        }
    };
    let mut res = render(&ErrorPage {
        page,
        status: 404,
        message: i18n.t("error-no_such_page"),
    });
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}

/// An error as a page in the user's language.
pub fn error_page(user: &UiUser, err: ApiError) -> Response {
    let i18n = I18n::for_actor(&user.actor);
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
