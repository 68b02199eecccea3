//! The stylesheet and the small script, compiled into the binary: nothing is fetched from
//! elsewhere at run time.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::State;

/// The application's styles, then the charts' defaults (which the application's rules win over).
static CSS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}\n/* Charts */\n{}\n",
        include_str!("../assets/app.css"),
        guanxi_charts::STYLESHEET
    )
});
const JS: &str = include_str!("../assets/app.js");

pub fn router() -> Router<State> {
    Router::new()
        .route(
            "/assets/app.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    CSS.as_str(),
                )
                    .into_response()
            }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    JS,
                )
                    .into_response()
            }),
        )
}
