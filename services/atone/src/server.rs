//! The one port's server: TLS (optional, with client certificates for mutual TLS) and the
//! limits that keep one caller from taking the process down.

use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::codegen::http::{Request, Response};
use tonic::transport::server::Router;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tower::{Layer, Service};

/// TLS on the one port: gRPC, gRPC-Web, the page and the webhook alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// With a CA (PEM), clients must present a certificate it signed: mutual TLS.
    pub client_ca: Option<PathBuf>,
}

/// What one process allows.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub tls: Option<TlsSettings>,
    /// HTTP/2 streams one connection may have open at once.
    pub max_concurrent_streams: u32,
    /// How often an idle connection is pinged; a client that does not answer within
    /// `keepalive_timeout` is dropped, and its watches end.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// The longest a call may take to answer when the client sets no deadline (a watch
    /// answers at once, then streams).
    pub request_timeout: Duration,
    /// Calls handled at once by the whole process; past it, UNAVAILABLE at once rather than
    /// a queue without bound.
    pub max_in_flight: usize,
    /// The largest request body, in bytes; past it, RESOURCE_EXHAUSTED.
    pub max_request_bytes: usize,
    /// On shutdown, how long calls in flight may take to finish before their connections
    /// are closed.
    pub shutdown_grace: Duration,
    /// How often the database is asked whether it answers (the services' health follows).
    pub readiness: crate::readiness::ReadinessConfig,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            tls: None,
            max_concurrent_streams: 200,
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_in_flight: 1024,
            max_request_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
            readiness: crate::readiness::ReadinessConfig::default(),
        }
    }
}

/// Chooses the process's TLS crypto (aws-lc, as tonic's TLS uses): more than one provider
/// is linked in (the database driver brings ring), so rustls cannot pick one itself.
/// Idempotent.
pub fn install_crypto_provider() {
    // Err only means one is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A server with `settings`' TLS and limits, serving `routes`.
pub fn build(
    settings: &ServerSettings,
    routes: tonic::service::Routes,
) -> anyhow::Result<Router<tower::layer::util::Stack<Limits, tower::layer::util::Identity>>> {
    let mut builder = Server::builder()
        .accept_http1(true)
        .max_concurrent_streams(settings.max_concurrent_streams)
        .http2_keepalive_interval(Some(settings.keepalive_interval))
        .http2_keepalive_timeout(Some(settings.keepalive_timeout))
        .timeout(settings.request_timeout);
    if let Some(tls) = &settings.tls {
        builder = builder
            .tls_config(tls_config(tls)?)
            .context("the TLS configuration")?;
    }
    Ok(builder
        .layer(Limits::new(
            settings.max_in_flight,
            settings.max_request_bytes,
        ))
        .add_routes(routes))
}

fn tls_config(tls: &TlsSettings) -> anyhow::Result<ServerTlsConfig> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
    };
    let identity = Identity::from_pem(
        read(&tls.cert, "TLS certificate")?,
        read(&tls.key, "TLS key")?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
    }
    Ok(config)
}

/// Load shedding and the request size limit, in front of every route.
#[derive(Debug, Clone)]
pub struct Limits {
    permits: Arc<Semaphore>,
    max_request_bytes: usize,
}

impl Limits {
    fn new(max_in_flight: usize, max_request_bytes: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_in_flight)),
            max_request_bytes,
        }
    }
}

impl<S> Layer<S> for Limits {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Limited<S> {
        Limited {
            inner,
            limits: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Limits,
}

impl<S> Service<Request<Body>> for Limited<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let Ok(permit) = self.limits.permits.clone().try_acquire_owned() else {
            tracing::debug!(path = %request.uri().path(), "request shed: atone is saturated");
            let response = shed(&request);
            return Box::pin(async move { Ok(response) });
        };
        let limit = self.limits.max_request_bytes;
        let request = request.map(|body| Body::new(crate::body_limit::Limited::new(body, limit)));
        let future = self.inner.call(request);
        // The call runs on a task of its own, holding its permit until it is done. A client
        // that goes away (its deadline, a reset stream, the request timeout) drops only the
        // wait for the answer: a database query or transaction is never dropped half done,
        // which would strand its pooled connection (sqlx tests a returned connection with a
        // ping that never answers after a cancelled write).
        let call = tokio::spawn(async move {
            let response = future.await;
            drop(permit);
            response
        });
        Box::pin(async move {
            match call.await {
                Ok(response) => response,
                Err(e) => {
                    tracing::error!(error = %e, "a call's task failed");
                    Ok(tonic::Status::internal("internal error").into_http())
                }
            }
        })
    }
}

/// The answer to a call shed under load: gRPC's UNAVAILABLE for a gRPC client, and for the
/// page and the webhook HTTP 503 (a provider then retries its webhook; a 200 would tell it
/// the payment arrived).
fn shed(request: &Request<Body>) -> Response<Body> {
    let content_type = request
        .headers()
        .get(tonic::codegen::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    const SATURATED: &str = "atone is saturated; retry in a moment";
    if content_type.starts_with("application/grpc") {
        return tonic::Status::unavailable(SATURATED).into_http();
    }
    if content_type.starts_with("application/json") && request.uri().path() != crate::webhook::PATH
    {
        return crate::json::json_error(tonic::Code::Unavailable, SATURATED).map(Body::new);
    }
    let mut response = Response::new(Body::new(format!("{SATURATED}\n")));
    *response.status_mut() = tonic::codegen::http::StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        tonic::codegen::http::header::RETRY_AFTER,
        tonic::codegen::http::HeaderValue::from_static("1"),
    );
    response
}
