//! Who is calling: API tokens (`Authorization: Bearer`) or the session cookie, with the CSRF
//! check for state-changing requests made with a cookie.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use guanxi_core::identity::auth;
use guanxi_core::{Actor, CoreError};

use crate::State;
use crate::error::{ApiError, CallerLocale};

pub const SESSION_COOKIE: &str = "guanxi_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// An authenticated API caller.
pub struct ApiCaller(pub Actor);

impl FromRequestParts<State> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, ApiError> {
        // Errors from here on are worded in the caller's language.
        let speaks = |actor: &Actor| {
            if let Some(l) = parts.extensions.get::<CallerLocale>() {
                l.set(&actor.locale);
            }
        };
        if let Some(token) = bearer(&parts.headers) {
            let actor = auth::token_actor(&state.core, token).await?;
            speaks(&actor);
            return Ok(ApiCaller(actor));
        }
        let Some(cookie) = session_cookie(&parts.headers) else {
            return Err(CoreError::Unauthenticated.into());
        };
        let (actor, csrf) = auth::session_actor(&state.core, &cookie).await?;
        speaks(&actor);
        if unsafe_method(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "missing or wrong X-CSRF-Token header",
                ));
            }
        }
        Ok(ApiCaller(actor))
    }
}

/// A logged-in browser user and their session's CSRF token.
pub struct UiUser {
    pub actor: Actor,
    pub csrf: String,
    /// The entities served, for the navigation every page draws.
    pub registry: &'static guanxi_core::Registry,
    /// The page asked for (path and query), where a language switch returns to.
    pub here: String,
    /// What the request's `done`, `n` and `undo` say just happened, for the page's message.
    pub done: Option<Done>,
}

/// What the previous request did, as the redirect after it says in the query string
/// (`?done=delete&undo=accounts:<id>`), so that the page it lands on can say so.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// The code of what was done: `create`, `update`, `delete`, an action's name.
    pub code: String,
    /// How many records it touched, for bulk actions.
    pub count: Option<u64>,
    /// The record it can be undone on, as `plural:id`, for a delete.
    pub undo: Option<String>,
    /// What stopped it instead: the code of the refusal (`owner_out_of_reach`), worded on the
    /// page it lands on.
    pub failed: Option<String>,
}

impl Done {
    fn of_query(query: Option<&str>) -> Option<Done> {
        let mut done = Done::default();
        for (k, v) in form_urlencoded::parse(query?.as_bytes()) {
            match &*k {
                "done" => done.code = v.chars().take(64).collect(),
                "n" => done.count = v.parse().ok(),
                "undo" => done.undo = Some(v.chars().take(100).collect()),
                "failed" => done.failed = Some(v.chars().take(64).collect()),
                _ => {}
            }
        }
        (!done.code.is_empty() || done.failed.is_some()).then_some(done)
    }
}

/// Sends people who are not logged in to the login page, and back afterwards.
pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        let next: String = form_urlencoded::byte_serialize(self.0.as_bytes()).collect();
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

impl FromRequestParts<State> for UiUser {
    type Rejection = LoginRedirect;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, LoginRedirect> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let back = if parts.method == Method::GET {
            here.clone()
        } else {
            "/".into()
        };
        let Some(cookie) = session_cookie(&parts.headers) else {
            return Err(LoginRedirect(back));
        };
        match auth::session_actor(&state.core, &cookie).await {
            Ok((actor, csrf)) => Ok(UiUser {
                actor,
                csrf,
                registry: state.core.registry,
                done: Done::of_query(parts.uri.query()),
                here,
            }),
            Err(_) => Err(LoginRedirect(back)),
        }
    }
}

/// Checks a submitted form's CSRF token against the session's.
pub fn check_csrf(user: &UiUser, submitted: Option<&str>) -> Result<(), ApiError> {
    if submitted == Some(user.csrf.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "the form has expired; reload the page and try again",
        ))
    }
}
