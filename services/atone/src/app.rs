//! Builds the services a process runs and serves them on one port: gRPC, gRPC-Web,
//! reflection (v1 and v1alpha), health and, with QueryService, the browser page.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use atone_api::v1::command_service_server::CommandServiceServer;
use atone_api::v1::projector_service_server::ProjectorServiceServer;
use atone_api::v1::query_service_server::QueryServiceServer;
use atone_command::{CommandApi, CommandConfig, CommandHandler};
use atone_projector::{EmbeddedProjector, ProjectorApi};
use atone_query::{Feed, FeedConfig, QueryApi, QueryConfig};
use atone_storage::{DatabaseConnection, DbConfig, EventStore};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::cli::{
    CommandArgs, CommandRoleArgs, CommonArgs, DatabaseArgs, KinesisArgs, LeaseArgs,
    ProjectorRoleArgs, QueryArgs, QueryRoleArgs, ServeArgs, redact,
};

/// Which services one process runs, and how.
#[derive(Debug, Clone)]
pub struct Plan {
    pub common: CommonArgs,
    pub credit_limit: i64,
    pub command: Option<CommandArgs>,
    pub query: Option<QueryArgs>,
    /// Present if the process runs a projector.
    pub projector: Option<LeaseArgs>,
    /// Without a stream name, events go from the outbox to an in-process projector.
    pub kinesis: KinesisArgs,
}

impl From<ServeArgs> for Plan {
    fn from(a: ServeArgs) -> Self {
        Self {
            common: a.common,
            credit_limit: a.credit.credit_limit,
            command: Some(a.command),
            query: Some(a.query),
            projector: Some(a.lease),
            kinesis: a.kinesis,
        }
    }
}

impl From<CommandRoleArgs> for Plan {
    fn from(a: CommandRoleArgs) -> Self {
        Self {
            common: a.common,
            credit_limit: a.credit.credit_limit,
            command: Some(a.command),
            query: None,
            projector: None,
            kinesis: a.kinesis,
        }
    }
}

impl From<ProjectorRoleArgs> for Plan {
    fn from(a: ProjectorRoleArgs) -> Self {
        Self {
            common: a.common,
            credit_limit: atone_domain::DEFAULT_CREDIT_LIMIT,
            command: None,
            query: None,
            projector: Some(a.lease),
            kinesis: a.kinesis,
        }
    }
}

impl From<QueryRoleArgs> for Plan {
    fn from(a: QueryRoleArgs) -> Self {
        Self {
            common: a.common,
            credit_limit: a.credit.credit_limit,
            command: None,
            query: Some(a.query),
            projector: None,
            kinesis: KinesisArgs::none(),
        }
    }
}

impl Plan {
    fn embedded(&self) -> bool {
        self.kinesis.stream_name.is_none()
    }

    /// Refuses a process that would write events nobody delivers, or read a stream it was
    /// not given.
    fn check(&self) -> anyhow::Result<()> {
        if self.embedded() {
            if self.command.is_some() && self.projector.is_none() {
                bail!(
                    "atone command publishes to Kinesis: give --stream-name (or run atone serve, which needs none)"
                );
            }
            if self.projector.is_some() && self.command.is_none() {
                bail!("atone projector reads a Kinesis stream: give --stream-name");
            }
        }
        Ok(())
    }
}

/// A built atone, bound to its port, not serving yet.
pub struct Application {
    listener: TcpListener,
    db: DatabaseConnection,
    plan: Plan,
}

async fn open(database: &DatabaseArgs) -> anyhow::Result<(DatabaseConnection, DbConfig)> {
    let config = DbConfig {
        url: database.url(),
        max_connections: database.max_connections,
    };
    let db = atone_storage::connect(&config)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&config.url)))?;
    Ok((db, config))
}

/// `atone migrate`.
pub async fn migrate(database: &DatabaseArgs) -> anyhow::Result<()> {
    let (db, _) = open(database).await?;
    atone_storage::migrate(&db)
        .await
        .context("migration failed")?;
    tracing::info!(database = %redact(&database.url()), "database migrated");
    Ok(())
}

/// `atone create-stream`.
pub async fn create_stream(args: &crate::cli::CreateStreamArgs) -> anyhow::Result<()> {
    let _ = args;
    bail!("Kinesis is not wired yet")
}

impl Application {
    /// Opens the database (migrating SQLite, or MySQL with `--migrate`) and binds the port.
    pub async fn build(plan: impl Into<Plan>) -> anyhow::Result<Self> {
        let plan = plan.into();
        plan.check()?;
        let (db, config) = open(&plan.common.database).await?;
        if config.is_sqlite() || plan.common.migrate {
            atone_storage::migrate(&db)
                .await
                .context("migration failed")?;
        } else {
            let pending = atone_storage::db::pending_migrations(&db).await?;
            if !pending.is_empty() {
                bail!(
                    "the database schema is not up to date (pending: {}); run `atone migrate` or start with --migrate",
                    pending.join(", ")
                );
            }
        }
        let listener = TcpListener::bind(plan.common.listen)
            .await
            .with_context(|| format!("cannot listen on {}", plan.common.listen))?;
        Ok(Self { listener, db, plan })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address.
        self.listener
            .local_addr()
            .unwrap_or(self.plan.common.listen)
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `shutdown` completes, then stops taking requests, ends every watch,
    /// finishes the requests in flight and stops the background tasks.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self { listener, db, plan } = self;
        let token = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        let mut routes = Routes::new(health_service)
            .add_service(reflection().build_v1()?)
            .add_service(reflection().build_v1alpha()?);

        // Woken after each append: the embedded projector (or the relay) waits on it.
        let appended = Arc::new(Notify::new());
        // Woken after each projected batch: the change-feed reader waits on it.
        let projected = Arc::new(Notify::new());

        if let Some(command) = &plan.command {
            let store = EventStore::new(db.clone(), command.snapshot_every);
            let config = CommandConfig {
                credit_limit: plan.credit_limit,
                ..CommandConfig::default()
            };
            let handler = CommandHandler::new(store, config, appended.clone());
            routes = routes.add_service(CommandServiceServer::new(CommandApi::new(handler)));
            serving::<CommandServiceServer<CommandApi>>(&health).await;
        }
        if plan.projector.is_some() {
            if plan.embedded() {
                let projector =
                    EmbeddedProjector::new(db.clone(), appended.clone(), projected.clone());
                projector
                    .register()
                    .await
                    .context("cannot register the outbox source")?;
                tasks.spawn(projector.run(token.clone()));
            } else {
                bail!("Kinesis delivery is not wired yet");
            }
            routes = routes.add_service(ProjectorServiceServer::new(ProjectorApi::new(db.clone())));
            serving::<ProjectorServiceServer<ProjectorApi>>(&health).await;
        }
        if let Some(query) = &plan.query {
            let feed_config = FeedConfig {
                retention: query.change_feed_retention,
                poll_interval: query.feed_poll_interval,
                ..FeedConfig::default()
            };
            let feed = Feed::new(db.clone(), feed_config, projected.clone());
            tasks.spawn(feed.clone().run(token.clone()));
            let config = QueryConfig {
                default_credit_limit: plan.credit_limit,
                max_wait: query.read_wait,
            };
            let api = QueryApi::new(feed, config, token.clone());
            routes = routes.add_service(QueryServiceServer::new(api));
            serving::<QueryServiceServer<QueryApi>>(&health).await;
        }
        // gRPC-Web on the gRPC routes only: tonic-web refuses any other HTTP/1.1 request.
        let mut router = routes
            .into_axum_router()
            .layer(tonic_web::GrpcWebLayer::new());
        if plan.query.is_some() {
            router = router.merge(crate::web::router());
        }
        let routes = Routes::from(router.fallback(crate::web::not_found));

        let addr = listener.local_addr()?;
        let services: Vec<&str> = [
            plan.command.as_ref().map(|_| "command"),
            plan.projector.as_ref().map(|_| "projector"),
            plan.query.as_ref().map(|_| "query"),
        ]
        .into_iter()
        .flatten()
        .collect();
        tracing::info!(
            %addr,
            services = %services.join(","),
            delivery = if plan.embedded() { "embedded" } else { "kinesis" },
            database = %redact(&plan.common.database.url()),
            "atone serving"
        );

        let stop = token.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            stop.cancel();
        });
        let served = Server::builder()
            .accept_http1(true)
            .add_routes(routes)
            .serve_with_incoming_shutdown(
                TcpListenerStream::new(listener),
                token.clone().cancelled_owned(),
            )
            .await;
        token.cancel();
        while tasks.join_next().await.is_some() {}
        db.close().await.ok();
        served.context("the gRPC server failed")?;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn serving<S: tonic::server::NamedService>(health: &HealthReporter) {
    health.set_serving::<S>().await;
}

/// Server reflection over every proto the process serves. grpcurl 1.8 speaks only
/// v1alpha, newer clients v1; each lists both.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(atone_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
