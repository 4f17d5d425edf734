//! The browser page, served on the gRPC port. Every asset is compiled into the binary from
//! `web/dist/` (built from `web/src/`, see `web/README.md`); the page itself talks to atone
//! over gRPC-Web only.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../../../web/dist/index.html");
const APP_JS: &str = include_str!("../../../web/dist/app.js");
const APP_CSS: &str = include_str!("../../../web/dist/app.css");

/// `/` and `/user/<user_id>` (the hands-on's address) serve the page; `/assets/*` its code.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/user/{user_id}", get(index))
        .route(
            "/assets/app.js",
            get(|| asset("text/javascript; charset=utf-8", APP_JS)),
        )
        .route(
            "/assets/app.css",
            get(|| asset("text/css; charset=utf-8", APP_CSS)),
        )
}

/// Anything else: gRPC's UNIMPLEMENTED for a gRPC client, 404 for a browser.
pub async fn not_found(headers: HeaderMap) -> axum::response::Response {
    let grpc = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if grpc {
        tonic::Status::unimplemented("no such service or method").into_http()
    } else {
        (StatusCode::NOT_FOUND, "not found\n").into_response()
    }
}

async fn index() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
}
