//! Guanxi over HTTP: the JSON API under `/api/v1`, the HTML UI under `/`, sessions, CSRF and the
//! OpenAPI document. Handlers parse and authenticate; every rule lives in `guanxi-core`.

mod api;
mod assets;
mod auth;
mod client_addr;
mod error;
mod escape;
mod export;
pub mod export_format;
mod forms;
pub mod i18n;
mod ical;
pub mod import_errors;
pub mod letters;
mod openapi;
mod redirect;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use guanxi_core::Core;
use tokio::net::TcpListener;

/// Requests larger than this are refused with 413 before they are read into memory.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub use client_addr::TrustedProxies;
pub use error::WORDED_CODES;

#[derive(Clone, Default)]
pub struct WebOptions {
    /// Mark cookies `Secure` (behind TLS), and send HSTS.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client for per-address limits.
    pub trusted_proxies: TrustedProxies,
}

pub(crate) struct AppState {
    pub core: Core,
    pub opts: WebOptions,
    /// Caps concurrent CSV exports per user and in total.
    pub exports: export::Limiter,
}

pub(crate) type State = Arc<AppState>;

/// Every job a Guanxi process runs: the core's, and those whose letters are worded here. What
/// `guanxi serve` and `guanxi jobs run` register.
pub fn jobs(backend: guanxi_core::db::Backend) -> guanxi_core::jobs::Handlers {
    use guanxi_core::import::job::{ImportJob, KIND};
    // An uploaded export for people reads back in either language.
    let import = ImportJob {
        labels: Arc::new(i18n::EveryLanguage::default()),
    };
    letters::register_jobs(guanxi_core::standard_jobs(backend)).register(KIND, import)
}

/// The whole application as one router.
pub fn app(core: Core, opts: WebOptions) -> Router {
    let registry = core.registry;
    let state: State = Arc::new(AppState {
        core,
        opts,
        exports: export::Limiter::default(),
    });
    Router::new()
        .merge(api::router(registry))
        .merge(ui::router(registry))
        .merge(assets::router())
        .fallback(ui::unknown_path)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(axum::middleware::from_fn(reads_once))
        .with_state(state)
}

/// A request that only reads (GET, HEAD) is one read: what a page asks of the database's
/// stamps several times (the people's, for every part that names someone) is read once.
/// Requests that write keep reading afresh, so a write is seen by what follows it.
async fn reads_once(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    if req.method() == Method::GET || req.method() == Method::HEAD {
        guanxi_core::db::memo::one_read(next.run(req)).await
    } else {
        next.run(req).await
    }
}

async fn security_headers(
    axum::extract::State(st): axum::extract::State<State>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Pages, JSON and CSV are a user's data: no browser or proxy cache may keep them (a shared
    // computer's back button, a caching proxy). Static assets set their own caching.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), fullscreen=(self)",
        ),
    );
    if st.opts.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
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

/// Serves until the process is asked to stop ([`stop_requested`]).
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_requested())
    .await
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or, on Unix, SIGTERM, which
/// service managers and `kill` send. Each caller hears the same signal; a process that stops on
/// it closes its database cleanly instead of being cut off with the write-ahead log still there.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
