//! `SubscribeEvents`: every event of every member, in the order they committed.
//!
//! Each event has a global position, taken in commit order (see
//! `atone_storage::event_log::after_position`): a reader that has read position p will
//! never find a new event before it. One reader per process, the [`EventTail`], reads the
//! store after the last position it read, when an append of the process wakes it or every
//! poll interval (appends of other processes), and broadcasts each batch to every
//! subscriber: a hundred subscribers cost one read, not a hundred.
//!
//! A subscriber that starts behind (from a position, or from the first event) reads what
//! it lacks from the table itself, in pages, and joins the broadcast when a page comes back
//! short. Its client reads at its own pace: the subscriber waits for it, and the tail does
//! not wait for the subscriber. A subscriber left behind by the broadcast (its buffer of
//! batches overflowed) goes back to the table from its last position. Either way it sends
//! each position once, in order, with none missing: a batch that does not follow on from
//! its last position sends it back to the table too.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atone_api::convert::{json_struct, timestamp};
use atone_api::v1::subscribe_events_response::Message as Item;
use atone_api::v1::{
    GlobalEvent, StoredEvent, SubscribeEventsRequest, SubscribeEventsResponse,
    SubscriptionCheckpoint,
};
use atone_storage::event_log::{self, LoggedEvent, PositionedEvent};
use atone_storage::{DatabaseConnection, StorageError};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::QueryError;

/// Events read per query, by the tail and by a subscriber catching up.
const PAGE: u64 = 1000;
/// Messages waiting for a client to read them.
const CLIENT_BUFFER: usize = 64;
/// A subscriber whose filter passes events by says how far it got at most this often.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// How long the tail waits after a failed read.
const FAILED_READ_PAUSE: Duration = Duration::from_secs(1);

/// A batch of events, in position order, with no position missing.
type Batch = Arc<[PositionedEvent]>;

#[derive(Debug, Clone)]
pub struct EventTailConfig {
    /// How often the store is read with no wake-up (events appended by another process).
    pub poll_interval: Duration,
    /// Subscriptions the process serves at once.
    pub max_subscribers: usize,
    /// Batches the tail keeps for a subscriber whose client is slow, before the subscriber
    /// falls behind and reads from the table instead.
    pub buffered_batches: usize,
}

impl Default for EventTailConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(100),
            max_subscribers: 1000,
            buffered_batches: 256,
        }
    }
}

/// The one reader of all events in the process, and its subscribers. Cheap to clone.
#[derive(Clone)]
pub struct EventTail {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    config: EventTailConfig,
    /// Woken by this process's appends.
    stored: Arc<Notify>,
    batches: broadcast::Sender<Batch>,
    /// The tail's task starts with the first subscriber.
    started: AtomicBool,
    shutdown: CancellationToken,
    subscribers: AtomicUsize,
    /// Reads of the store: by the tail, and by subscribers catching up (what a bench
    /// compares).
    tail_reads: AtomicU64,
    catch_up_reads: AtomicU64,
}

/// How many reads of the store the tail and the subscribers have made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailReads {
    pub tail: u64,
    pub catch_up: u64,
}

impl EventTail {
    /// A tail of `db`'s events, woken by `stored` (see `EventStore::waking`), stopped by
    /// `shutdown`.
    pub fn new(
        db: DatabaseConnection,
        config: EventTailConfig,
        stored: Arc<Notify>,
        shutdown: CancellationToken,
    ) -> Self {
        let batches = broadcast::channel(config.buffered_batches.max(1)).0;
        Self {
            inner: Arc::new(Inner {
                db,
                config,
                stored,
                batches,
                started: AtomicBool::new(false),
                shutdown,
                subscribers: AtomicUsize::new(0),
                tail_reads: AtomicU64::new(0),
                catch_up_reads: AtomicU64::new(0),
            }),
        }
    }

    /// The reads made so far.
    pub fn reads(&self) -> TailReads {
        TailReads {
            tail: self.inner.tail_reads.load(Ordering::Relaxed),
            catch_up: self.inner.catch_up_reads.load(Ordering::Relaxed),
        }
    }

    /// Open subscriptions.
    pub fn subscribers(&self) -> usize {
        self.inner.subscribers.load(Ordering::Relaxed)
    }

    /// Starts a subscription as `request` asks; its messages come out of the stream.
    pub async fn subscribe(
        &self,
        request: SubscribeEventsRequest,
    ) -> Result<
        impl Stream<Item = Result<SubscribeEventsResponse, Status>> + Send + 'static,
        QueryError,
    > {
        let filter = Filter::of(&request.event_types)?;
        let after = match (request.after_position, request.from_now) {
            (n, _) if n < 0 => {
                return Err(QueryError::InvalidArgument {
                    field: "after_position",
                    reason: format!("{n} is negative"),
                });
            }
            (0, true) => event_log::last_position(&self.inner.db).await?,
            (n, true) => {
                return Err(QueryError::InvalidArgument {
                    field: "from_now",
                    reason: format!("is set with after_position {n}: give one or the other"),
                });
            }
            (0, false) => 0,
            (n, false) => {
                let last = event_log::last_position(&self.inner.db).await?;
                if n > last {
                    return Err(QueryError::InvalidArgument {
                        field: "after_position",
                        reason: format!(
                            "{n} is past the last event ({last}): a position from another store?"
                        ),
                    });
                }
                n
            }
        };
        let seat = Seat::take(self)?;
        self.start();
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
        let subscriber = Subscriber {
            tail: self.clone(),
            filter,
            tx,
            after,
            sent_up_to: after,
            last_message: Instant::now(),
            _seat: seat,
        };
        tokio::spawn(subscriber.run());
        Ok(ReceiverStream::new(rx).map(|message: Box<_>| *message))
    }

    /// Starts the tail's task, once.
    fn start(&self) {
        if !self.inner.started.swap(true, Ordering::AcqRel) {
            tokio::spawn(self.clone().run());
        }
    }

    /// Reads the store after the last position read, and broadcasts what it finds, until
    /// the process shuts down.
    async fn run(self) {
        let inner = &self.inner;
        let mut head = None;
        let mut failures = 0u32;
        loop {
            let stored = inner.stored.notified();
            tokio::pin!(stored);
            stored.as_mut().enable();
            let read = match head {
                // It starts where the store ends: a subscriber reads what came before.
                None => event_log::last_position(&inner.db).await.map(|last| {
                    head = Some(last);
                    false
                }),
                Some(after) => self.read_after(after).await.map(|batch| {
                    let full = batch.len() as u64 == PAGE;
                    if let Some(last) = batch.last() {
                        head = Some(last.position);
                        // No subscriber: nothing to do with it.
                        let _ = inner.batches.send(batch);
                    }
                    full
                }),
            };
            let wait = match read {
                Ok(true) => continue,
                Ok(false) => {
                    failures = 0;
                    inner.config.poll_interval
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "cannot read the events; trying again");
                    FAILED_READ_PAUSE
                }
            };
            tokio::select! {
                () = inner.shutdown.cancelled() => return,
                () = stored => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn read_after(&self, after: i64) -> Result<Batch, StorageError> {
        self.inner.tail_reads.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("atone_event_tail_reads_total").increment(1);
        Ok(event_log::after_position(&self.inner.db, after, PAGE)
            .await?
            .into())
    }
}

/// The event types a subscriber wants; all when empty.
struct Filter(HashSet<String>);

impl Filter {
    fn of(types: &[String]) -> Result<Self, QueryError> {
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
struct Seat(EventTail);

impl Seat {
    fn take(tail: &EventTail) -> Result<Self, QueryError> {
        let max = tail.inner.config.max_subscribers;
        let taken = tail
            .inner
            .subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        match taken {
            Ok(_) => {
                metrics::gauge!("atone_event_subscribers").increment(1);
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
        metrics::gauge!("atone_event_subscribers").decrement(1);
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
                        metrics::counter!("atone_event_subscribers_behind_total").increment(1);
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
            metrics::counter!("atone_event_catch_up_reads_total").increment(1);
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
