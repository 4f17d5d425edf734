//! Builds the services a process runs and serves them on one port: gRPC, gRPC-Web,
//! reflection (v1 and v1alpha), health and, with QueryService, the browser page.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use atone_api::v1::command_service_server::CommandServiceServer;
use atone_api::v1::projector_service_server::ProjectorServiceServer;
use atone_api::v1::query_service_server::QueryServiceServer;
use atone_command::{CommandApi, CommandConfig, CommandHandler, Relay, RelayConfig};
use atone_kinesis::{Kinesis, KinesisConfig};
use atone_projector::{EmbeddedProjector, KinesisProjector, KinesisProjectorConfig, ProjectorApi};
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

/// A Kinesis client for `stream_name`. The region and credentials come from the standard
/// AWS environment; with an explicit endpoint (an emulator) and no keys in the
/// environment, placeholder keys are used, as emulators accept any.
pub async fn kinesis_client(stream_name: &str, endpoint: Option<&str>) -> anyhow::Result<Kinesis> {
    let mut config = match endpoint {
        Some(endpoint) => {
            let mut config = KinesisConfig::emulator(endpoint, stream_name);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
                config.credentials = None;
            }
            config
        }
        None => KinesisConfig::new(stream_name),
    };
    if let Some(region) = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
    {
        config.region = region;
    }
    Kinesis::connect(config)
        .await
        .with_context(|| format!("cannot set up a Kinesis client for stream {stream_name}"))
}

/// `atone create-stream`.
pub async fn create_stream(args: &crate::cli::CreateStreamArgs) -> anyhow::Result<()> {
    let shards = u32::try_from(args.shards)
        .ok()
        .filter(|n| *n > 0)
        .context("--shards must be positive")?;
    let kinesis = kinesis_client(&args.stream_name, args.kinesis_endpoint.as_deref()).await?;
    let stream = kinesis
        .create_stream(shards)
        .await
        .context("cannot create the stream")?;
    tracing::info!(stream = %stream.stream_name, shards = stream.open_shard_count, "stream ready");
    Ok(())
}

/// A name for this process in the lease table: host, process id and a random suffix.
fn instance_name(role: &str) -> String {
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

/// `atone healthcheck`.
pub async fn healthcheck(args: &crate::cli::HealthcheckArgs) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus as Status;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{}", args.addr))?
        .connect_timeout(args.timeout)
        .timeout(args.timeout);
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach atone at {}", args.addr))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: args.service.clone(),
        })
        .await
        .with_context(|| format!("health check of {} failed", args.addr))?
        .into_inner();
    match Status::try_from(response.status) {
        Ok(Status::Serving) => {
            println!("SERVING");
            Ok(())
        }
        other => bail!("{} is not serving: {other:?}", args.addr),
    }
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

        let kinesis = match &plan.kinesis.stream_name {
            Some(stream_name) => {
                let kinesis =
                    kinesis_client(stream_name, plan.kinesis.kinesis_endpoint.as_deref()).await?;
                if plan.kinesis.create_stream {
                    let shards = u32::try_from(plan.kinesis.stream_shards)
                        .unwrap_or(1)
                        .max(1);
                    kinesis
                        .create_stream(shards)
                        .await
                        .context("cannot create the stream")?;
                }
                Some(kinesis)
            }
            None => None,
        };
        if let Some(command) = &plan.command {
            let store = EventStore::new(db.clone(), command.snapshot_every);
            let config = CommandConfig {
                credit_limit: plan.credit_limit,
                ..CommandConfig::default()
            };
            let handler = CommandHandler::new(store, config, appended.clone());
            routes = routes.add_service(CommandServiceServer::new(CommandApi::new(handler)));
            serving::<CommandServiceServer<CommandApi>>(&health).await;
            if let Some(kinesis) = &kinesis {
                let config = RelayConfig {
                    owner: instance_name("relay"),
                    lease_duration: plan
                        .projector
                        .as_ref()
                        .map_or(Duration::from_secs(10), |l| l.lease_duration),
                    poll_interval: Duration::from_millis(250),
                };
                let relay = Relay::new(db.clone(), kinesis.clone(), config, appended.clone());
                tasks.spawn(relay.run(token.clone()));
            }
        }
        if let Some(lease) = &plan.projector {
            match &kinesis {
                None => {
                    let projector =
                        EmbeddedProjector::new(db.clone(), appended.clone(), projected.clone());
                    projector
                        .register()
                        .await
                        .context("cannot register the outbox source")?;
                    tasks.spawn(projector.run(token.clone()));
                }
                Some(kinesis) => {
                    let fan_out_consumer_arn = if plan.kinesis.enhanced_fan_out {
                        let consumer = kinesis
                            .register_consumer("atone-projector")
                            .await
                            .context("cannot register the enhanced fan-out consumer")?;
                        Some(consumer.consumer_arn)
                    } else {
                        None
                    };
                    let config = KinesisProjectorConfig {
                        owner: lease
                            .projector_id
                            .clone()
                            .unwrap_or_else(|| instance_name("projector")),
                        lease_duration: lease.lease_duration,
                        fan_out_consumer_arn,
                        max_idle_poll: lease.max_idle_poll,
                    };
                    tracing::info!(owner = %config.owner, "projector reading the stream");
                    let projector = KinesisProjector::new(
                        db.clone(),
                        kinesis.clone(),
                        config,
                        projected.clone(),
                    );
                    tasks.spawn(projector.run(token.clone()));
                }
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
