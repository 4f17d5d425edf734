//! Starting the services a process runs: each role adds its gRPC service to the routes,
//! marks it SERVING, and spawns its background tasks.

mod command;
mod projector;
mod query;

use std::sync::Arc;

use atone_api::v1::auth_service_server::AuthServiceServer;
use atone_auth::Authenticator;
use atone_kinesis::Kinesis;
use atone_storage::DatabaseConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::codegen::Service;
use tonic::codegen::http::Request;
use tonic::service::RoutesBuilder;
use tonic::service::interceptor::InterceptedService;
use tonic_health::server::HealthReporter;

use crate::auth_service::AuthApi;
use crate::settings::{ProjectionMode, Settings};
use atone_storage::change_feed::Handoff;

pub use command::start as command;
pub use projector::start as projector;
pub use query::start as query;

/// What the roles of one process share while they start.
pub struct Wiring {
    pub db: DatabaseConnection,
    /// The stream, when events travel over Kinesis.
    pub kinesis: Option<Kinesis>,
    pub routes: RoutesBuilder,
    pub health: HealthReporter,
    /// Background tasks; each ends when `shutdown` is cancelled.
    pub tasks: crate::tasks::Tasks,
    pub shutdown: CancellationToken,
    /// Woken after each append: the embedded projector (or the relay) waits on it.
    pub appended: Arc<Notify>,
    /// Woken after each append commits: the reader of all events (SubscribeEvents) waits
    /// on it.
    pub stored: Arc<Notify>,
    /// Woken after each append commits: the webhook deliverer waits on it.
    pub delivering: Arc<Notify>,
    /// Woken after each projected batch: the change-feed reader waits on it.
    pub projected: Arc<Notify>,
    /// The change-feed rows this process's inline appends committed, on their way to its
    /// change-feed reader (taken by the query role).
    pub handed: Option<tokio::sync::mpsc::Receiver<Vec<atone_storage::change_feed::FeedRow>>>,
    /// Who may call: every service is behind its interceptor.
    pub auth: Authenticator,
    /// Plain HTTP routes beside the gRPC ones (the payment webhook).
    pub http: axum::Router,
    /// Open watches of the process: QueryService counts them, GetStatus shows them.
    pub watchers: Arc<std::sync::atomic::AtomicUsize>,
    /// The names of the gRPC services added so far (their health is reported by name).
    pub served: Vec<&'static str>,
    /// What the process's projector reads, if it runs one (its health watches it move).
    pub projection: Option<crate::readiness::Projection>,
}

impl Wiring {
    /// Adds `service`, behind the authentication interceptor, to the routes and reports it
    /// SERVING.
    pub async fn serve<S>(&mut self, service: S)
    where
        S: Service<
                Request<tonic::body::Body>,
                Error = std::convert::Infallible,
                Response = tonic::codegen::http::Response<tonic::body::Body>,
            > + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.health.set_serving::<S>().await;
        self.served.push(<S as tonic::server::NamedService>::NAME);
        self.routes
            .add_service(InterceptedService::new(service, self.auth.interceptor()));
    }
}

/// Starts every role `settings` asks for, and AuthService.
pub async fn all(wiring: &mut Wiring, settings: &Settings) -> anyhow::Result<()> {
    let auth = AuthServiceServer::new(AuthApi::new(wiring.auth.clone()));
    wiring.serve(auth).await;
    if let Some(command) = &settings.command {
        // Inline projection needs the projector role in this process and no Kinesis.
        let inline = settings
            .projector
            .as_ref()
            .filter(|p| settings.kinesis.is_none() && p.mode == ProjectionMode::Inline)
            .map(|p| p.readable.clone());
        // Inline appends hand their committed feed rows to this process's reader, if it
        // runs one, instead of waking it to read them back.
        let handoff = match (&inline, &settings.query) {
            (Some(_), Some(_)) => {
                let (handoff, handed) = Handoff::new(wiring.projected.clone());
                wiring.handed = Some(handed);
                Some(handoff)
            }
            _ => None,
        };
        // On MySQL, inline transactions run on two connections of their own, whose sessions
        // are at READ COMMITTED (one appender writes one batch at a time).
        let writer = match inline {
            Some(_) => atone_storage::db::connect_projecting(&settings.database, 2).await?,
            None => None,
        };
        let inline = inline.map(|readable| (readable, handoff, writer));
        self::command(wiring, command, settings.clock.clone(), inline).await?;
    }
    if let Some(projector) = &settings.projector {
        self::projector(wiring, projector, settings.kinesis.as_ref()).await?;
    }
    if let Some(query) = &settings.query {
        self::query(wiring, query).await;
    }
    Ok(())
}

/// A name for this process in the lease table: host, process id and a random suffix.
pub fn instance_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!(
        "{role}-{host}-{}-{:04x}",
        std::process::id(),
        fastrand::u16(..)
    )
}
