//! The one port's server: TLS (optional, with client certificates for mutual TLS) and the
//! limits that keep one caller from taking the process down.

use std::path::PathBuf;
use std::time::Duration;

use tonic::transport::Server;
use tonic::transport::server::Router;

use crate::limits::Limits;

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
    /// Calls one connection, one credential (an API key, a member), or all callers without
    /// a credential together may have in flight; past it, RESOURCE_EXHAUSTED. At most
    /// `max_in_flight`.
    pub max_in_flight_per_caller: usize,
    /// The largest request body, in bytes; past it, RESOURCE_EXHAUSTED.
    pub max_request_bytes: usize,
    /// The largest request that carries a file (BillingService/ImportBankDebitResults), in
    /// bytes: about 120 bytes a debit.
    pub max_file_bytes: usize,
    /// How long a request's body may take to arrive, whole (a stream of requests has no
    /// such bound): a caller that opens a call and sends its body slowly, or never, holds
    /// its in-flight slot this long at most.
    pub body_timeout: Duration,
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
            max_in_flight_per_caller: 256,
            max_request_bytes: 64 * 1024,
            max_file_bytes: 16 * 1024 * 1024,
            body_timeout: Duration::from_secs(5),
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

/// A server with `settings`' TLS and limits, serving `routes` to the callers `auth` admits.
pub fn build(
    settings: &ServerSettings,
    auth: atone_auth::Authenticator,
    routes: tonic::service::Routes,
) -> anyhow::Result<Router<tower::layer::util::Stack<Limits, tower::layer::util::Identity>>> {
    // TLS is atone's own (`crate::tls`): tonic's offers only h2 in ALPN.
    Ok(Server::builder()
        .accept_http1(true)
        .max_concurrent_streams(settings.max_concurrent_streams)
        .http2_keepalive_interval(Some(settings.keepalive_interval))
        .http2_keepalive_timeout(Some(settings.keepalive_timeout))
        .timeout(settings.request_timeout)
        .layer(Limits::new(settings, auth))
        .add_routes(routes))
}
