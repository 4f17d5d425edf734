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
mod service;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atone_lease::LeaseHolder;
use atone_retry::RetryPolicy;
use atone_storage::event_log::{self, PositionedEvent};
use atone_storage::webhooks::{self, Delivery, Endpoint};
use atone_storage::{DatabaseConnection, StorageError};
use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use service::WebhookApi;

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
            let keep = !r.task.is_finished()
                && wanted
                    .get(id.as_str())
                    .is_some_and(|e| e.generation == r.generation);
            if !keep {
                r.task.abort();
            }
            keep
        });
        for endpoint in &endpoints {
            let lag = (last - endpoint.after_position).max(0);
            metrics::gauge!("atone_webhook_lag_events", "endpoint" => endpoint.endpoint_id.clone())
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
    for (_, r) in running.drain() {
        r.task.abort();
    }
}

/// Delivers one endpoint's events in order.
struct EndpointTask {
    db: DatabaseConnection,
    client: reqwest::Client,
    config: DeliveryConfig,
    endpoint: Endpoint,
    wake: Arc<Notify>,
}

/// How one attempt went.
struct Attempt {
    status: Option<u16>,
    error: Option<String>,
    latency: Duration,
}

impl Attempt {
    fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl EndpointTask {
    async fn run(mut self) {
        let wake = self.wake.clone();
        loop {
            let notified = wake.notified();
            match self.deliver_page().await {
                Ok(Page::More) => continue,
                Ok(Page::CaughtUp) => {}
                Ok(Page::Stop) => return,
                Err(e) => tracing::warn!(
                    endpoint = %self.endpoint.endpoint_id, error = %e,
                    "webhook deliveries: cannot read or record; trying again"
                ),
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Delivers the next page of events after the cursor.
    async fn deliver_page(&mut self) -> Result<Page, StorageError> {
        let page = event_log::after_position(&self.db, self.endpoint.after_position, PAGE).await?;
        let full = page.len() as u64 == PAGE;
        let mut passed = self.endpoint.after_position;
        for event in &page {
            if self.endpoint.wants(&event.event.event_type) {
                // Events passed by for their type first: the cursor never skips one
                // delivered.
                self.advance(passed).await?;
                if !self.deliver(event).await? {
                    return Ok(Page::Stop);
                }
            }
            passed = event.position;
        }
        self.advance(passed).await?;
        Ok(if full { Page::More } else { Page::CaughtUp })
    }

    /// Moves the cursor to `position` if it is behind it.
    async fn advance(&mut self, position: i64) -> Result<(), StorageError> {
        if position > self.endpoint.after_position {
            let e = &self.endpoint;
            webhooks::advance(&self.db, &e.endpoint_id, e.generation, position).await?;
            self.endpoint.after_position = position;
        }
        Ok(())
    }

    /// Posts `event` until it is delivered; false when the endpoint was disabled (for
    /// failing too long, or by an admin) or replayed instead.
    async fn deliver(&mut self, event: &PositionedEvent) -> Result<bool, StorageError> {
        let body = body(event);
        let id = self.endpoint.endpoint_id.clone();
        let policy = RetryPolicy::forever(self.config.initial_backoff, self.config.max_backoff);
        let mut attempt: u32 = 0;
        loop {
            // Disabled or replayed since this task began: an admin's disable stops the
            // deliveries that have not started yet.
            if !self.still_current().await? {
                return Ok(false);
            }
            attempt += 1;
            let result = self.post(event, &body).await;
            let delivered = result.delivered();
            metrics::counter!("atone_webhook_deliveries_total", "endpoint" => id.clone(),
                "outcome" => if delivered { "delivered" } else { "failed" })
            .increment(1);
            let now = Utc::now();
            webhooks::log(
                &self.db,
                Delivery {
                    delivery_id: 0,
                    endpoint_id: id.clone(),
                    position: event.position,
                    event_id: event.event.event_id.clone(),
                    event_type: event.event.event_type.clone(),
                    attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
                    status_code: result.status.map(i32::from),
                    error: result.error.clone(),
                    latency_ms: i64::try_from(result.latency.as_millis()).unwrap_or(i64::MAX),
                    delivered,
                    attempted_at: now,
                },
            )
            .await?;
            if delivered {
                webhooks::advance(&self.db, &id, self.endpoint.generation, event.position).await?;
                self.endpoint.after_position = event.position;
                self.endpoint.failing_since = None;
                return Ok(true);
            }
            let since = *self.endpoint.failing_since.get_or_insert(now);
            if attempt == 1 {
                webhooks::failing_since(&self.db, &id, since).await?;
            }
            let failing = (now - since).to_std().unwrap_or_default();
            tracing::debug!(endpoint = %id, position = event.position, attempt,
                status = ?result.status, error = ?result.error, "a webhook delivery failed");
            if failing >= self.config.give_up_after {
                let reason = format!(
                    "deliveries failed for {} s (the last: {})",
                    failing.as_secs(),
                    result
                        .error
                        .clone()
                        .or(result.status.map(|s| format!("HTTP {s}")))
                        .unwrap_or_default()
                );
                webhooks::disable(&self.db, &id, &reason, Some(self.endpoint.generation)).await?;
                tracing::warn!(endpoint = %id, %reason, "webhook endpoint disabled");
                return Ok(false);
            }
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }

    /// Whether the endpoint is still enabled, at the generation this task delivers.
    async fn still_current(&self) -> Result<bool, StorageError> {
        let now = webhooks::get(&self.db, &self.endpoint.endpoint_id).await?;
        Ok(now.is_some_and(|e| e.enabled && e.generation == self.endpoint.generation))
    }

    async fn post(&self, event: &PositionedEvent, body: &[u8]) -> Attempt {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let started = Instant::now();
        let sent = self
            .client
            .post(&self.endpoint.url)
            .header("content-type", "application/json")
            .header(
                crate::webhook::SIGNATURE_HEADER,
                crate::webhook::sign(&self.endpoint.secret, t, body),
            )
            .header(EVENT_ID_HEADER, &event.event.event_id)
            .body(body.to_vec())
            .send()
            .await;
        let latency = started.elapsed();
        match sent {
            Ok(response) => Attempt {
                status: Some(response.status().as_u16()),
                error: None,
                latency,
            },
            Err(e) => Attempt {
                status: None,
                error: Some(describe(&e)),
                latency,
            },
        }
    }
}

enum Page {
    /// A full page: read the next at once.
    More,
    CaughtUp,
    /// The endpoint was disabled or replayed: its task ends (a replay starts another).
    Stop,
}

/// What went wrong with a request, without its URL's query (which may hold a token).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    let mut message = what.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{what}: {s}");
        source = s.source();
    }
    message.chars().take(500).collect()
}

/// The body posted for `event`: the event as `SubscribeEvents` shows it, in JSON.
pub fn body(event: &PositionedEvent) -> Vec<u8> {
    let e = &event.event;
    let json = serde_json::json!({
        "event_id": e.event_id,
        "position": event.position,
        "user_id": event.user_id,
        "version": e.version,
        "event_type": e.event_type,
        "occurred_at": e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "payload": e.payload,
        "correlation_id": e.correlation_id,
        "idempotency_key": e.idempotency_key,
    });
    serde_json::to_vec(&json).unwrap_or_default()
}
