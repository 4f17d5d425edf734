//! Outgoing webhooks: every event (or the types an endpoint asks for) posted to each
//! registered endpoint, signed, in position order, at least once.
//!
//! One process at a time delivers, under the `webhooks` lease; it runs one task per enabled
//! endpoint, so a slow or dead endpoint only holds back its own events. A task reads the
//! event store after its endpoint's cursor, posts each event the endpoint wants and moves
//! the cursor past it once a 2xx answer came. Anything else is tried again with backoff,
//! the endpoint's later events waiting behind it; an endpoint whose deliveries have failed
//! for `give_up_after` (3 days) is disabled, its cursor kept, to be replayed. Every attempt
//! is logged (`webhook_deliveries`). A crash between an answer and the cursor's move posts
//! the event again: the receiver drops it by its `Atone-Event-Id`.

pub mod cli;
mod endpoint;
mod service;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use atone_lease::LeaseHolder;
use atone_storage::event_log;
use atone_storage::webhooks::{self, Endpoint};
use atone_storage::{DatabaseConnection, StorageError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use endpoint::body;
pub use service::WebhookApi;

use endpoint::EndpointTask;

/// The lease one delivering process holds.
const LEASE: &str = "webhooks";
const LEASE_KIND: &str = "webhooks";
/// Events read per query by an endpoint's task.
const PAGE: u64 = 100;
/// The header carrying the event's id, for receivers to drop duplicates.
pub const EVENT_ID_HEADER: &str = "atone-event-id";

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Whether this process takes part (it delivers while it holds the lease).
    pub enabled: bool,
    /// How long an endpoint's deliveries may fail before it is disabled.
    pub give_up_after: Duration,
    /// How long one delivery waits for its answer.
    pub timeout: Duration,
    /// The pause before the first retry of an event, doubling to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How often the endpoints and the event store are read when nothing wakes the
    /// deliverer.
    pub poll_interval: Duration,
    pub lease_duration: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            give_up_after: Duration::from_secs(3 * 24 * 3600),
            timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(500),
            lease_duration: Duration::from_secs(10),
        }
    }
}

/// The delivering side: takes the lease, and runs a task per enabled endpoint while it
/// holds it.
#[derive(Clone)]
pub struct Deliverer {
    db: DatabaseConnection,
    lease: LeaseHolder,
    config: DeliveryConfig,
    client: reqwest::Client,
    /// Woken after each append of this process.
    stored: Arc<Notify>,
}

/// A running endpoint task, and what it was started for.
struct Running {
    generation: i64,
    task: JoinHandle<()>,
    /// Wakes the task when events were appended.
    wake: Arc<Notify>,
}

/// An endpoint's task ends with its entry: however the deliverer stops (its lease lost,
/// shutdown, or a panic before it is started again), no task of it delivers on beside the
/// next one's.
impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Deliverer {
    pub fn new(
        db: DatabaseConnection,
        lease: LeaseHolder,
        config: DeliveryConfig,
        stored: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("atone-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            lease,
            config,
            client,
            stored,
        })
    }

    /// Delivers while this process holds the lease, until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut running: HashMap<String, Running> = HashMap::new();
        let mut held = None;
        // The lease and the endpoints are looked at on a timer; an append only wakes the
        // endpoint tasks, which read the events.
        let mut tick =
            tokio::time::interval(self.config.poll_interval.min(self.lease.duration() / 3));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.stored.notified() => {
                    for r in running.values() {
                        r.wake.notify_one();
                    }
                }
                _ = tick.tick() => {
                    if let Err(e) = self.step(&mut held, &mut running).await {
                        tracing::warn!(error = %e, "webhook deliveries: trying again");
                    }
                }
            }
        }
        stop_all(&mut running);
        if let Some(held) = held {
            self.lease.release(held).await;
        }
    }

    /// Keeps (or takes) the lease, and the endpoint tasks in line with the endpoints.
    async fn step(
        &self,
        held: &mut Option<atone_lease::Held>,
        running: &mut HashMap<String, Running>,
    ) -> Result<(), StorageError> {
        let kept = match held {
            Some(h) => self.lease.keep(h).await?,
            None => false,
        };
        if !kept {
            if held.take().is_some() {
                tracing::warn!("the webhooks lease was lost; another process delivers");
                stop_all(running);
            }
            *held = self.lease.take_if_free(LEASE, LEASE_KIND).await?;
            if held.is_none() {
                return Ok(());
            }
            tracing::info!("delivering webhooks");
        }
        let endpoints = webhooks::all(&self.db).await?;
        let last = event_log::last_position(&self.db).await?;
        let wanted: HashMap<&str, &Endpoint> = endpoints
            .iter()
            .filter(|e| e.enabled)
            .map(|e| (e.endpoint_id.as_str(), e))
            .collect();
        running.retain(|id, r| {
            !r.task.is_finished()
                && wanted
                    .get(id.as_str())
                    .is_some_and(|e| e.generation == r.generation)
        });
        for endpoint in &endpoints {
            let lag = (last - endpoint.after_position).max(0);
            metrics::gauge!(crate::metrics::WEBHOOK_LAG_EVENTS, "endpoint" => endpoint.endpoint_id.clone())
                .set(if endpoint.enabled { lag as f64 } else { 0.0 });
            if !endpoint.enabled || running.contains_key(&endpoint.endpoint_id) {
                continue;
            }
            let wake = Arc::new(Notify::new());
            let task = EndpointTask {
                db: self.db.clone(),
                client: self.client.clone(),
                config: self.config.clone(),
                endpoint: endpoint.clone(),
                wake: wake.clone(),
            };
            running.insert(
                endpoint.endpoint_id.clone(),
                Running {
                    generation: endpoint.generation,
                    task: tokio::spawn(task.run()),
                    wake,
                },
            );
        }
        Ok(())
    }
}

fn stop_all(running: &mut HashMap<String, Running>) {
    running.clear();
}
