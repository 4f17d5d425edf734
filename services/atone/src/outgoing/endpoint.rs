//! One endpoint's deliveries: the events after its cursor, one at a time, in position
//! order, each posted until a 2xx answer comes (or the endpoint is disabled or replayed).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atone_retry::RetryPolicy;
use atone_storage::event_log::{self, PositionedEvent};
use atone_storage::webhooks::{self, Delivery, Endpoint};
use atone_storage::{DatabaseConnection, StorageError};
use chrono::Utc;
use tokio::sync::Notify;

use super::{DeliveryConfig, EVENT_ID_HEADER, PAGE};

/// Delivers one endpoint's events in order.
pub(super) struct EndpointTask {
    pub(super) db: DatabaseConnection,
    pub(super) client: reqwest::Client,
    pub(super) config: DeliveryConfig,
    pub(super) endpoint: Endpoint,
    /// Woken when events were appended.
    pub(super) wake: Arc<Notify>,
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
    pub(super) async fn run(mut self) {
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
            metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES, "endpoint" => id.clone(),
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
                crate::signature::SIGNATURE_HEADER,
                crate::signature::sign(&self.endpoint.secret, t, body),
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
