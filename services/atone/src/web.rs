//! The browser page, served on the gRPC port. Every asset is compiled into the binary from
//! `web/dist/` (built from `web/src/`, see `web/README.md`); the page itself talks to atone
//! over gRPC-Web only.
//!
//! Every page response (the document, its assets, a browser's 404) carries the same
//! security headers ([`secure`]): a Content-Security-Policy that allows only the page's own
//! origin (no inline script or style, no framing), `nosniff`, `no-referrer` and
//! `X-Frame-Options: DENY`. The page keeps its credential in the URL fragment only until it
//! has read it, and sends it as gRPC-Web metadata; the headers keep it from leaking through
//! a referrer, a frame or an injected script.

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../../../web/dist/index.html");

/// The page's mark of where commands go: the document says `here` when this process also
/// serves CommandService; in a split deployment (`atone query` alone) it says `elsewhere`,
/// and the page shows, instead of its forms, that this address only reads.
const COMMANDS_HERE: &str = r#"<meta name="atone-commands" content="here">"#;
const COMMANDS_ELSEWHERE: &str = r#"<meta name="atone-commands" content="elsewhere">"#;

/// What the process serving the page has beside QueryService.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// CommandService (and BillingService) answer on this port: the forms can work.
    pub commands: bool,
}
const APP_JS: &str = include_str!("../../../web/dist/app.js");
const APP_CSS: &str = include_str!("../../../web/dist/app.css");

/// Only the page's own origin: its script and stylesheet, gRPC-Web to itself, `data:` for
/// the empty favicon. No inline code, no plugins, no `<base>`, never inside a frame.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers of every page response.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    ),
    (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

/// `/` and `/user/<user_id>` (the hands-on's address) serve the page; `/assets/*` its code.
/// Every response of these routes (also a 405) gets the security headers.
pub fn router(page: Page) -> Router {
    let document: &'static str = if page.commands {
        INDEX_HTML
    } else {
        // Once per process: the document with its mark turned.
        Box::leak(
            INDEX_HTML
                .replace(COMMANDS_HERE, COMMANDS_ELSEWHERE)
                .into_boxed_str(),
        )
    };
    Router::new()
        .route("/", get(move || index(document)))
        .route("/user/{user_id}", get(move || index(document)))
        .route(
            "/assets/app.js",
            get(|| asset("text/javascript; charset=utf-8", APP_JS)),
        )
        .route(
            "/assets/app.css",
            get(|| asset("text/css; charset=utf-8", APP_CSS)),
        )
        .layer(axum::middleware::map_response(
            |response: Response| async move { secure(response) },
        ))
}

/// Adds the security headers to a page response.
pub fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, value);
    }
    response
}

/// Anything else: gRPC's UNIMPLEMENTED for a gRPC client, 404 (with the page's security
/// headers) for a browser.
pub async fn not_found(headers: HeaderMap) -> Response {
    let grpc = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if grpc {
        tonic::Status::unimplemented("no such service or method").into_http()
    } else {
        secure((StatusCode::NOT_FOUND, "not found\n").into_response())
    }
}

async fn index(document: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        document,
    )
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use tower::ServiceExt;

    use super::*;

    /// The page's routes with the fallback, as `router::finish` mounts them.
    fn app() -> Router {
        router(Page { commands: true }).fallback(not_found)
    }

    async fn document(page: Page) -> String {
        let request = Request::builder()
            .uri("/user/test-user-01")
            .body(Body::empty())
            .expect("a valid request");
        let response = match router(page).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the document");
        String::from_utf8(body.to_vec()).expect("UTF-8")
    }

    #[tokio::test]
    async fn the_document_says_whether_commands_answer_here() {
        assert_eq!(INDEX_HTML.matches(COMMANDS_HERE).count(), 1);
        let with = document(Page { commands: true }).await;
        assert!(with.contains(COMMANDS_HERE) && !with.contains(COMMANDS_ELSEWHERE));
        let without = document(Page { commands: false }).await;
        assert!(without.contains(COMMANDS_ELSEWHERE) && !without.contains(COMMANDS_HERE));
    }

    async fn call(method: Method, path: &str, content_type: Option<&str>) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let request = request.body(Body::empty()).expect("a valid request");
        match app().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    fn header<'a>(response: &'a Response, name: &HeaderName) -> Option<&'a str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    fn assert_secure(response: &Response, what: &str) {
        let csp = header(response, &CONTENT_SECURITY_POLICY)
            .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                directives.contains(&directive),
                "{what}: the CSP {csp:?} lacks {directive:?}"
            );
        }
        assert!(
            !csp.contains("unsafe-"),
            "{what}: the CSP {csp:?} allows unsafe code"
        );
        assert_eq!(
            header(response, &X_CONTENT_TYPE_OPTIONS),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            header(response, &REFERRER_POLICY),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(header(response, &X_FRAME_OPTIONS), Some("DENY"), "{what}");
    }

    #[tokio::test]
    async fn every_page_response_carries_the_security_headers() {
        for (path, status, content_type) in [
            ("/", StatusCode::OK, "text/html"),
            ("/user/test-user-01", StatusCode::OK, "text/html"),
            ("/assets/app.js", StatusCode::OK, "text/javascript"),
            ("/assets/app.css", StatusCode::OK, "text/css"),
            ("/no/such/page", StatusCode::NOT_FOUND, "text/plain"),
            (
                "/user/test-user-01/more",
                StatusCode::NOT_FOUND,
                "text/plain",
            ),
        ] {
            let response = call(Method::GET, path, None).await;
            assert_eq!(response.status(), status, "GET {path}");
            let got = header(&response, &CONTENT_TYPE).unwrap_or_default();
            assert!(
                got.starts_with(content_type),
                "GET {path}: content-type {got:?}"
            );
            assert_secure(&response, &format!("GET {path}"));
        }
        // Another method on a page route is refused, with the same headers.
        let response = call(Method::POST, "/", Some("text/plain")).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_secure(&response, "POST /");
    }

    #[tokio::test]
    async fn a_grpc_client_still_gets_unimplemented() {
        let response = call(
            Method::POST,
            "/atone.v1.Nope/Nothing",
            Some("application/grpc"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(&response, &HeaderName::from_static("grpc-status")),
            Some("12")
        );
    }

    /// The policy forbids inline code: the document must not need any.
    #[test]
    fn the_document_has_no_inline_script_or_style() {
        let html = INDEX_HTML.to_ascii_lowercase();
        assert!(!html.contains("<style"), "index.html has a <style> element");
        assert!(
            !html.contains(" style="),
            "index.html has a style attribute"
        );
        assert!(
            !html.contains("javascript:"),
            "index.html has a javascript: URL"
        );
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains(" src="),
                "index.html has an inline <script{tag}>"
            );
        }
        for attr in [" onload=", " onclick=", " onsubmit=", " onerror="] {
            assert!(
                !html.contains(attr),
                "index.html has an inline handler{attr}"
            );
        }
    }
}
