//! One client's `SubscribeEvents` stream: what the table holds after its position, then
//! the tail's batches, each position once and in order (see the parent module).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

use atone_api::convert::{json_struct, timestamp};
use atone_api::v1::subscribe_events_response::Message as Item;
use atone_api::v1::{GlobalEvent, StoredEvent, SubscribeEventsResponse, SubscriptionCheckpoint};
use atone_storage::StorageError;
use atone_storage::event_log::{self, LoggedEvent, PositionedEvent};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::{CHECKPOINT_EVERY, CLIENT_BUFFER, EventTail, PAGE};
use crate::QueryError;

/// Starts the subscription of `filter`'s events after `after`; its messages come out of the
/// returned stream.
pub(super) fn spawn(
    tail: EventTail,
    filter: Filter,
    seat: Seat,
    after: i64,
) -> impl Stream<Item = Result<SubscribeEventsResponse, Status>> + Send + 'static {
    let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
    let subscriber = Subscriber {
        tail,
        filter,
        tx,
        after,
        sent_up_to: after,
        last_message: Instant::now(),
        _seat: seat,
    };
    tokio::spawn(subscriber.run());
    ReceiverStream::new(rx).map(|message: Box<_>| *message)
}

/// The event types a subscriber wants; all when empty.
pub(super) struct Filter(HashSet<String>);

impl Filter {
    pub(super) fn of(types: &[String]) -> Result<Self, QueryError> {
        for t in types {
            if !atone_domain::Event::TYPES.contains(&t.as_str()) {
                return Err(QueryError::InvalidArgument {
                    field: "event_types",
                    reason: format!(
                        "{t:?} is not an event type ({})",
                        atone_domain::Event::TYPES.join(", ")
                    ),
                });
            }
        }
        Ok(Self(types.iter().cloned().collect()))
    }

    fn passes(&self, event: &PositionedEvent) -> bool {
        self.0.is_empty() || self.0.contains(&event.event.event_type)
    }
}

/// A subscription's place among the process's; given back when dropped.
pub(super) struct Seat(EventTail);

impl Seat {
    pub(super) fn take(tail: &EventTail) -> Result<Self, QueryError> {
        let max = tail.inner.config.max_subscribers;
        let taken = tail
            .inner
            .subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        match taken {
            Ok(_) => {
                metrics::gauge!(crate::metric::EVENT_SUBSCRIBERS).increment(1);
                Ok(Self(tail.clone()))
            }
            Err(_) => Err(QueryError::TooManyWatchers {
                what: format!("this process already streams events to {max} subscribers"),
            }),
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.inner.subscribers.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!(crate::metric::EVENT_SUBSCRIBERS).decrement(1);
    }
}

type Message = Box<Result<SubscribeEventsResponse, Status>>;

/// One client's subscription.
struct Subscriber {
    tail: EventTail,
    filter: Filter,
    tx: mpsc::Sender<Message>,
    /// The last position passed: sent, or filtered out.
    after: i64,
    /// The last position the client was told of (an event, or a checkpoint).
    sent_up_to: i64,
    last_message: Instant,
    _seat: Seat,
}

/// Why a subscription ends.
enum End {
    /// The client went away, or the server is shutting down.
    Quietly,
    Failed(StorageError),
}

impl Subscriber {
    async fn run(mut self) {
        if let Err(End::Failed(e)) = self.stream().await {
            tracing::warn!(error = %e, after = self.after, "event subscription ended by an error");
            let status: Status = QueryError::from(e).into();
            let _ = self.tx.send(Box::new(Err(status))).await;
        }
    }

    async fn stream(&mut self) -> Result<(), End> {
        let mut caught_up = false;
        loop {
            // Joined before the table is read: every batch the tail broadcasts from here on
            // either follows on from what the table gives, or overlaps it.
            let mut batches = self.tail.inner.batches.subscribe();
            self.catch_up().await?;
            if !caught_up {
                caught_up = true;
                self.checkpoint(true).await?;
            }
            loop {
                let next = tokio::select! {
                    () = self.tail.inner.shutdown.cancelled() => return Err(End::Quietly),
                    () = self.tx.closed() => return Err(End::Quietly),
                    next = batches.recv() => next,
                };
                match next {
                    Ok(batch) => {
                        if batch.first().is_some_and(|e| e.position > self.after + 1) {
                            // A gap: the tail read past this subscriber while it was
                            // joining. The table has it all.
                            break;
                        }
                        self.pass(&batch).await?;
                    }
                    Err(broadcast::error::RecvError::Lagged(batches)) => {
                        tracing::debug!(
                            after = self.after,
                            batches,
                            "an event subscriber fell behind; it reads from the table"
                        );
                        metrics::counter!(crate::metric::EVENT_SUBSCRIBERS_BEHIND).increment(1);
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err(End::Quietly),
                }
            }
        }
    }

    /// Sends what the table holds after the last position passed, page by page, until a
    /// page comes back short.
    async fn catch_up(&mut self) -> Result<(), End> {
        loop {
            self.tail
                .inner
                .catch_up_reads
                .fetch_add(1, Ordering::Relaxed);
            metrics::counter!(crate::metric::EVENT_CATCH_UP_READS).increment(1);
            let page = event_log::after_position(&self.tail.inner.db, self.after, PAGE)
                .await
                .map_err(End::Failed)?;
            self.pass(&page).await?;
            if (page.len() as u64) < PAGE {
                return Ok(());
            }
        }
    }

    /// Sends the events of `batch` after the last position passed that the filter lets
    /// through, and a checkpoint if the filter has kept the client waiting.
    async fn pass(&mut self, batch: &[PositionedEvent]) -> Result<(), End> {
        for event in batch {
            if event.position <= self.after {
                continue;
            }
            if self.filter.passes(event) {
                self.send(Item::Event(global_event(event))).await?;
                self.sent_up_to = event.position;
            }
            self.after = event.position;
        }
        if self.after > self.sent_up_to && self.last_message.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(false).await?;
        }
        Ok(())
    }

    async fn checkpoint(&mut self, caught_up: bool) -> Result<(), End> {
        self.send(Item::Checkpoint(SubscriptionCheckpoint {
            position: self.after,
            caught_up,
        }))
        .await?;
        self.sent_up_to = self.after;
        Ok(())
    }

    async fn send(&mut self, item: Item) -> Result<(), End> {
        let message = SubscribeEventsResponse {
            message: Some(item),
        };
        tokio::select! {
            () = self.tail.inner.shutdown.cancelled() => return Err(End::Quietly),
            sent = self.tx.send(Box::new(Ok(message))) => sent.map_err(|_| End::Quietly)?,
        }
        self.last_message = Instant::now();
        Ok(())
    }
}

fn global_event(e: &PositionedEvent) -> GlobalEvent {
    GlobalEvent {
        position: e.position,
        user_id: e.user_id.clone(),
        event: Some(stored_event(e.event.clone())),
    }
}

/// An event as `ListMemberEvents` and `SubscribeEvents` show it.
pub(crate) fn stored_event(e: LoggedEvent) -> StoredEvent {
    StoredEvent {
        event_id: e.event_id,
        version: e.version,
        event_type: e.event_type,
        occurred_at: Some(timestamp(e.occurred_at)),
        payload: match e.payload {
            serde_json::Value::Object(map) => Some(json_struct(map)),
            _ => None,
        },
        correlation_id: e.correlation_id,
        idempotency_key: e.idempotency_key,
    }
}
