//! Readiness: `grpc.health.v1` says, for each service of the process (and for "", the
//! process), whether it can do its work now.
//!
//! - Every service is NOT_SERVING while the database does not answer.
//! - ProjectorService is NOT_SERVING while its projection is stuck: work is pending and
//!   nothing has moved for longer than the stall threshold.
//! - Everything turns NOT_SERVING first when the process shuts down, while the listener
//!   still answers, so a load balancer stops sending calls before the connections close.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atone_api::v1::projector_service_server::ProjectorServiceServer;
use atone_storage::{DatabaseConnection, StorageError, leases, outbox};
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// How often the database is asked, and how long an answer may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadinessConfig {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for ReadinessConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        }
    }
}

/// What the projection of this process reads, to tell whether it moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// The embedded delivery: the outbox.
    Outbox,
    /// The Kinesis shards this projector holds the leases of.
    Shards { owner: String },
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    database_down: bool,
    projection_stalled: bool,
    stopping: bool,
}

/// The health reporter, the names of the services the process serves, and what keeps them
/// from serving.
#[derive(Clone)]
pub struct Readiness {
    reporter: HealthReporter,
    services: Vec<&'static str>,
    state: Arc<Mutex<State>>,
}

impl Readiness {
    pub fn new(reporter: HealthReporter, services: Vec<&'static str>) -> Self {
        Self {
            reporter,
            services,
            state: Arc::default(),
        }
    }

    /// Everything NOT_SERVING, for good: the process is shutting down.
    pub async fn stop(&self) {
        self.update(|s| s.stopping = true).await;
    }

    /// Changes the state with `change` and reports every service's status.
    async fn update(&self, change: impl FnOnce(&mut State)) {
        let state = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut state);
            *state
        };
        let process = if state.stopping || state.database_down {
            ServingStatus::NotServing
        } else {
            ServingStatus::Serving
        };
        self.reporter.set_service_status("", process).await;
        for service in &self.services {
            let status = if *service == PROJECTOR && state.projection_stalled {
                ServingStatus::NotServing
            } else {
                process
            };
            self.reporter.set_service_status(*service, status).await;
        }
    }

    /// Asks the database every `config.interval` until `shutdown`: NOT_SERVING when it
    /// does not answer within `config.timeout`, SERVING again when it does.
    pub async fn watch_database(
        self,
        db: DatabaseConnection,
        config: ReadinessConfig,
        shutdown: CancellationToken,
    ) {
        let mut down = false;
        while pause(config.interval, &shutdown).await {
            // The ping runs on a task of its own: timing out drops the wait, not the
            // ping half sent (which would strand its pooled connection).
            let ping = tokio::spawn({
                let db = db.clone();
                async move { db.ping().await }
            });
            let answered = matches!(
                tokio::time::timeout(config.timeout, ping).await,
                Ok(Ok(Ok(())))
            );
            if answered != down {
                continue;
            }
            down = !answered;
            if down {
                tracing::warn!(timeout = ?config.timeout, "the database does not answer: NOT_SERVING until it does");
            } else {
                tracing::info!("the database answers again: SERVING");
            }
            self.update(|s| s.database_down = down).await;
        }
    }

    /// Looks at the projection every `interval` until `shutdown`: ProjectorService is
    /// NOT_SERVING once work has been pending for `threshold` without anything moving,
    /// SERVING again as soon as something does.
    pub async fn watch_projection(
        self,
        db: DatabaseConnection,
        projection: Projection,
        interval: Duration,
        threshold: Duration,
        shutdown: CancellationToken,
    ) {
        let mut last = None;
        let mut still_since = Instant::now();
        let mut stalled = false;
        while pause(interval, &shutdown).await {
            // A database that does not answer is the other watch's to report.
            let Ok(now) = progress(&db, &projection).await else {
                continue;
            };
            if !now.pending || last.as_ref() != Some(&now.marker) {
                last = Some(now.marker);
                still_since = Instant::now();
            }
            let stuck = now.pending && still_since.elapsed() >= threshold;
            if stuck == stalled {
                continue;
            }
            stalled = stuck;
            if stalled {
                tracing::warn!(
                    ?threshold,
                    "the projection has work pending and has not moved: ProjectorService NOT_SERVING"
                );
            } else {
                tracing::info!("the projection moves again: ProjectorService SERVING");
            }
            self.update(|s| s.projection_stalled = stalled).await;
        }
    }
}

const PROJECTOR: &str =
    <ProjectorServiceServer<atone_delivery::ProjectorApi> as NamedService>::NAME;

/// Waits `interval`; false once `shutdown` is cancelled.
async fn pause(interval: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(interval) => true,
    }
}

/// Whether the projection has work waiting, and a mark that changes whenever it moves.
struct Progress {
    pending: bool,
    marker: String,
}

async fn progress(
    db: &DatabaseConnection,
    projection: &Projection,
) -> Result<Progress, StorageError> {
    match projection {
        Projection::Outbox => {
            // The embedded delivery takes the outbox oldest first: while the oldest row
            // stays, nothing has been delivered.
            let (count, oldest) = outbox::backlog(db).await?;
            Ok(Progress {
                pending: count > 0,
                marker: format!("{oldest:?}"),
            })
        }
        Projection::Shards { owner } => {
            // A shard behind the stream's tip at its last batch has work; its checkpoint
            // moves with every batch.
            let held: Vec<_> = leases::all(db)
                .await?
                .into_iter()
                .filter(|l| l.kind == leases::KIND_SHARD && l.owner.as_deref() == Some(owner))
                .collect();
            Ok(Progress {
                pending: held.iter().any(|l| l.lag_millis > 0 && !l.finished),
                marker: held
                    .iter()
                    .map(|l| format!("{}={:?}", l.source_id, l.checkpoint))
                    .collect::<Vec<_>>()
                    .join(","),
            })
        }
    }
}
