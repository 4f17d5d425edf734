//! Builds the services and serves them on one port: gRPC, gRPC-Web, reflection (v1 and
//! v1alpha) and health.

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

use crate::cli::{DatabaseArgs, ServeArgs, redact};

/// A built atone, bound to its port, not serving yet.
pub struct Application {
    listener: TcpListener,
    db: DatabaseConnection,
    args: ServeArgs,
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

impl Application {
    /// Opens the database (migrating SQLite, or MySQL with `--migrate`) and binds the port.
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        let (db, config) = open(&args.database).await?;
        if config.is_sqlite() || args.migrate {
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
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(Self { listener, db, args })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address.
        self.listener.local_addr().unwrap_or(self.args.listen)
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `shutdown` completes, then stops taking requests, ends every watch,
    /// finishes the request in flight and stops the background tasks.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self { listener, db, args } = self;
        let token = CancellationToken::new();
        let appended = Arc::new(Notify::new());
        let projected = Arc::new(Notify::new());
        let mut tasks = JoinSet::new();

        let store = EventStore::new(db.clone(), args.snapshot_every);
        let command_config = CommandConfig {
            credit_limit: args.credit_limit,
            ..CommandConfig::default()
        };
        let commands =
            CommandApi::new(CommandHandler::new(store, command_config, appended.clone()));

        let projector = EmbeddedProjector::new(db.clone(), appended, projected.clone());
        projector
            .register()
            .await
            .context("cannot register the outbox source")?;
        tasks.spawn(projector.run(token.clone()));

        let feed_config = FeedConfig {
            retention: args.change_feed_retention,
            ..FeedConfig::default()
        };
        let feed = Feed::new(db.clone(), feed_config, projected);
        tasks.spawn(feed.clone().run(token.clone()));
        let query_config = QueryConfig {
            default_credit_limit: args.credit_limit,
            max_wait: args.read_wait,
        };
        let queries = QueryApi::new(feed, query_config, token.clone());

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<CommandServiceServer<CommandApi>>()
            .await;
        health.set_serving::<QueryServiceServer<QueryApi>>().await;
        health
            .set_serving::<ProjectorServiceServer<ProjectorApi>>()
            .await;
        health.set_service_status("", ServingStatus::Serving).await;

        // grpcurl 1.8 speaks only v1alpha; newer clients v1. Each lists both.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(atone_api::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(
                    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
                )
        };
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;

        let addr = listener.local_addr()?;
        tracing::info!(%addr, database = %redact(&args.database.url()), "atone serving");

        let stop = token.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            stop.cancel();
        });

        let grpc = Routes::new(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(CommandServiceServer::new(commands))
            .add_service(QueryServiceServer::new(queries))
            .add_service(ProjectorServiceServer::new(ProjectorApi::new(db.clone())))
            .into_axum_router()
            // gRPC-Web on the gRPC routes only: tonic-web refuses any other HTTP/1.1 request.
            .layer(tonic_web::GrpcWebLayer::new());
        let routes = Routes::from(
            grpc.merge(crate::web::router())
                .fallback(crate::web::not_found),
        );
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
