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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use atone_api::v1::{SubscribeEventsRequest, SubscribeEventsResponse};
use atone_storage::event_log::{self, PositionedEvent};
use atone_storage::{DatabaseConnection, StorageError};
use tokio::sync::{Notify, broadcast};
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::QueryError;

mod subscriber;

pub(crate) use subscriber::stored_event;
use subscriber::{Filter, Seat};

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
    /// Wakes the tail's task, which reads nothing before the first subscriber.
    subscribed: Notify,
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
                subscribed: Notify::new(),
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
        self.inner.subscribed.notify_one();
        Ok(subscriber::spawn(self.clone(), filter, seat, after))
    }

    /// The tail's task, for the process to run until it shuts down: from the first
    /// subscriber on, reads the store after the last position read and broadcasts what it
    /// finds. Until then it reads nothing.
    pub async fn run(self) {
        let inner = &self.inner;
        tokio::select! {
            () = inner.shutdown.cancelled() => return,
            () = inner.subscribed.notified() => {}
        }
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
        metrics::counter!(crate::metric::EVENT_TAIL_READS).increment(1);
        Ok(event_log::after_position(&self.inner.db, after, PAGE)
            .await?
            .into())
    }
}
