//! An atone process: built from its [`Settings`] (database opened and migrated, port
//! bound), then served until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use atone_kinesis::Kinesis;
use atone_storage::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;

use crate::cli::redact;
use crate::oneshot::{ensure_stream, kinesis_client, open};
use crate::readiness::Readiness;
use crate::{router, server, web};
use atone_auth::{Authenticator, KeyFile, MemberTokens};

use crate::settings::{AuthSettings, Settings};
use crate::startup::{self, Wiring};
use crate::tasks::Tasks;

/// A built atone, bound to its port, not serving yet.
pub struct Application {
    listener: TcpListener,
    /// `--metrics-listen`, bound.
    metrics: Option<TcpListener>,
    db: DatabaseConnection,
    settings: Settings,
    auth: Authenticator,
}

impl Application {
    /// Opens the database (migrating SQLite, or MySQL with `migrate`) and binds the port.
    pub async fn build(settings: impl Into<Settings>) -> anyhow::Result<Self> {
        let settings = settings.into();
        settings.check()?;
        crate::server::install_crypto_provider();
        let auth = authenticator(&settings.auth)?;
        let db = open(&settings.database).await?;
        if settings.database.is_sqlite() || settings.migrate {
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
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let metrics = match settings.metrics_listen {
            Some(addr) => Some(crate::metrics::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            listener,
            metrics,
            db,
            settings,
            auth,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address.
        self.listener.local_addr().unwrap_or(self.settings.listen)
    }

    /// Where `/metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
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
        let Self {
            listener,
            metrics,
            db,
            settings,
            auth,
        } = self;
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::Serving).await;
        let mut wiring = Wiring {
            db: db.clone(),
            kinesis: connect_stream(&settings).await?,
            routes: router::base(health_service)?,
            health,
            tasks: Tasks::default(),
            shutdown: CancellationToken::new(),
            appended: Arc::new(Notify::new()),
            stored: Arc::new(Notify::new()),
            delivering: Arc::new(Notify::new()),
            projected: Arc::new(Notify::new()),
            handed: None,
            auth: auth.clone(),
            http: axum::Router::new(),
            watchers: Arc::default(),
            served: Vec::new(),
            projection: None,
        };
        startup::all(&mut wiring, &settings).await?;
        if let Some(keys) = auth.keys() {
            wiring.tasks.spawn(
                "key-reload",
                reload_on_sighup(keys.clone(), wiring.shutdown.clone()),
            );
        }
        let Wiring {
            routes,
            mut tasks,
            shutdown: token,
            http,
            health,
            served,
            projection,
            watchers,
            ..
        } = wiring;
        if let Some(listener) = metrics {
            let (db, token) = (db.clone(), token.clone());
            tasks.spawn("metrics", async move {
                if let Err(e) = crate::metrics::serve(listener, db, watchers, token).await {
                    tracing::error!(error = %e, "metrics are not served");
                }
            });
        }
        let readiness = Readiness::new(health, served);
        watch_readiness(&readiness, &mut tasks, &db, &settings, projection, &token);
        let page = settings.query.as_ref().map(|_| web::Page {
            commands: settings.command.is_some(),
        });
        let routes = router::finish(routes, http, page)?;

        announce(&settings, &auth, listener.local_addr()?);
        let stop = token.clone();
        let stopping = Arc::new(std::sync::OnceLock::new());
        let stopped_at = stopping.clone();
        let ready = readiness.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = stopped_at.set(tokio::time::Instant::now());
            // NOT_SERVING first, while the listener still answers: a load balancer that
            // watches health stops sending calls before the connections close.
            ready.stop().await;
            tracing::info!("shutting down: NOT_SERVING");
            stop.cancel();
        });
        let failed = Arc::new(std::sync::OnceLock::new());
        let tasks = tokio::spawn(supervise(
            tasks,
            readiness,
            token.clone(),
            stopping.clone(),
            failed.clone(),
        ));
        let served = serve(&settings.server, auth, routes, listener, token.clone()).await;
        token.cancel();
        // The background tasks and the pool get what is left of the grace: a task stuck
        // on the database (or a connection that never comes back) does not hold the
        // process past it.
        let grace = settings.server.shutdown_grace;
        let deadline = stopping
            .get()
            .copied()
            .unwrap_or_else(tokio::time::Instant::now)
            + grace;
        let finish = async {
            let _ = tasks.await;
            db.close().await.ok();
        };
        if tokio::time::timeout_at(deadline, finish).await.is_err() {
            tracing::warn!(
                ?grace,
                "background tasks or database connections still busy after the shutdown grace; stopping without them"
            );
        }
        served?;
        if let Some(ended) = failed.get() {
            bail!("stopped because its {ended}");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Waits on the process's tasks. One that ends before the process stops turns every service
/// NOT_SERVING and stops the process (noted in `failed`, so that it exits non-zero); once
/// stopping, the tasks are waited for to the last.
async fn supervise(
    mut tasks: Tasks,
    readiness: Readiness,
    token: CancellationToken,
    stopping: Arc<std::sync::OnceLock<tokio::time::Instant>>,
    failed: Arc<std::sync::OnceLock<String>>,
) {
    let ended = tokio::select! {
        () = token.cancelled() => None,
        ended = tasks.next_ended() => ended,
    };
    if let Some(ended) = ended.filter(|_| !token.is_cancelled()) {
        tracing::error!(task = ended.kind, cause = %ended.cause,
            "a task of the process ended; stopping the process");
        let _ = failed.set(format!("{} task ended: {}", ended.kind, ended.cause));
        let _ = stopping.set(tokio::time::Instant::now());
        readiness.stop().await;
        token.cancel();
    }
    while tasks.next_ended().await.is_some() {}
}

/// Starts the readiness checks: the database, and the projection if the process runs one.
fn watch_readiness(
    readiness: &Readiness,
    tasks: &mut Tasks,
    db: &DatabaseConnection,
    settings: &Settings,
    projection: Option<crate::readiness::Projection>,
    token: &CancellationToken,
) {
    let checks = settings.server.readiness;
    tasks.spawn(
        "readiness",
        readiness
            .clone()
            .watch_database(db.clone(), checks, token.clone()),
    );
    if let (Some(projection), Some(projector)) = (projection, &settings.projector) {
        tasks.spawn(
            "readiness",
            readiness.clone().watch_projection(
                db.clone(),
                projection,
                checks.interval,
                projector.stall_threshold,
                token.clone(),
            ),
        );
    }
}

/// Logs what the process serves, and warns when authentication is off.
fn announce(settings: &Settings, auth: &Authenticator, addr: SocketAddr) {
    if !auth.is_on() {
        tracing::warn!(
            "authentication is off: every caller may do anything (give --api-keys to turn it on)"
        );
    }
    tracing::info!(
        %addr,
        auth = auth.is_on(),
        services = %settings.service_names().join(","),
        delivery = if settings.kinesis.is_none() { "embedded" } else { "kinesis" },
        database = %redact(&settings.database.url),
        "atone serving"
    );
}

/// Serves `routes` on `listener` until `stop`, then lets calls in flight finish for at most
/// the shutdown grace: a client that neither finishes its calls nor closes its connection
/// does not hold the process up.
async fn serve(
    settings: &server::ServerSettings,
    auth: Authenticator,
    routes: tonic::service::Routes,
    listener: tokio::net::TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let router = server::build(settings, auth, routes)?;
    let shutdown = stop.clone().cancelled_owned();
    let accepting = stop.clone();
    let serve = async move {
        match &settings.tls {
            Some(tls) => {
                let config = crate::tls::config(tls)?;
                let incoming = crate::tls::incoming(listener, config, accepting);
                router
                    .serve_with_incoming_shutdown(incoming, shutdown)
                    .await
            }
            None => {
                let incoming = TcpListenerStream::new(listener);
                router
                    .serve_with_incoming_shutdown(incoming, shutdown)
                    .await
            }
        }
        .context("the gRPC server failed")
    };
    let grace = settings.shutdown_grace;
    tokio::select! {
        served = serve => served,
        () = async {
            stop.cancelled().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "connections still open after the shutdown grace; closing them");
            Ok(())
        }
    }
}

/// The Kinesis client of the process, if it uses a stream (created first when asked).
async fn connect_stream(settings: &Settings) -> anyhow::Result<Option<Kinesis>> {
    let Some(stream) = &settings.kinesis else {
        return Ok(None);
    };
    let kinesis = kinesis_client(&stream.stream_name, stream.endpoint.as_deref()).await?;
    if stream.create_stream {
        ensure_stream(&kinesis, stream.stream_shards).await?;
    }
    Ok(Some(kinesis))
}

/// The authenticator `settings` describe; a keys file that cannot be read, or a token
/// secret that is too short, stops atone from starting.
fn authenticator(settings: &AuthSettings) -> anyhow::Result<Authenticator> {
    let secret = token_secret(settings)?;
    let Some(path) = &settings.api_keys else {
        if secret.is_some() {
            bail!("--token-secret needs --api-keys: member tokens are part of authentication");
        }
        return Ok(Authenticator::off());
    };
    let keys = KeyFile::load(path).map_err(anyhow::Error::msg)?;
    let tokens = secret
        .map(|secret| MemberTokens::new(secret.as_bytes(), settings.member_token_max_ttl))
        .transpose()
        .context("--token-secret")?;
    tracing::info!(
        keys = keys.current().len(),
        member_tokens = tokens.is_some(),
        "authentication on"
    );
    Ok(Authenticator::new(keys, tokens))
}

/// The member-token secret: given, or read from its file (surrounding whitespace dropped).
fn token_secret(settings: &AuthSettings) -> anyhow::Result<Option<String>> {
    match (&settings.token_secret, &settings.token_secret_file) {
        (Some(secret), _) => Ok(Some(secret.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token secret file {}", path.display()))?;
            Ok(Some(text.trim().to_owned()))
        }
        (None, None) => Ok(None),
    }
}

/// Reads the keys file again on each SIGHUP, until `shutdown`: a revoked key stops working
/// without a restart. A file that no longer parses keeps the keys read before.
async fn reload_on_sighup(keys: std::sync::Arc<KeyFile>, shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; the API keys file is read at start only");
            shutdown.cancelled().await;
            return;
        };
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = hangup.recv() => match keys.reload() {
                    Ok(n) => tracing::info!(keys = n, file = %keys.path().display(), "API keys read again"),
                    Err(e) => tracing::error!(error = %e, "API keys file not read again; the keys read before stay"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    shutdown.cancelled().await;
}
