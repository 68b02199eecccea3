//! Guanxi over HTTP: the JSON API under `/api/v1`, the HTML UI under `/`, sessions, CSRF and the
//! OpenAPI document. Handlers parse and authenticate; every rule lives in `guanxi-core`.

mod api;
mod assets;
mod auth;
mod error;
mod export;
mod forms;
mod i18n;
mod openapi;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use guanxi_core::Core;
use tokio::net::TcpListener;

/// Requests larger than this are refused with 413 before they are read into memory.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

#[derive(Clone)]
pub struct WebOptions {
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
}

pub(crate) struct AppState {
    pub core: Core,
    pub opts: WebOptions,
    /// Caps concurrent CSV exports per user and in total.
    pub exports: export::Limiter,
}

pub(crate) type State = Arc<AppState>;

/// The whole application as one router.
pub fn app(core: Core, opts: WebOptions) -> Router {
    let state: State = Arc::new(AppState {
        core,
        opts,
        exports: export::Limiter::default(),
    });
    Router::new()
        .merge(api::router())
        .merge(ui::router())
        .merge(assets::router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
    );
    res
}

/// Serves until the process is interrupted.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
