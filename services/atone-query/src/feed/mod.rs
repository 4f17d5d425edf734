//! One reader tails the change feed and hands each row to the watchers of its member.
//!
//! Each writer of the feed (a shard's projector, the embedded projector, a repair) numbers
//! its rows in commit order, none missing (see `atone_storage::change_feed`). The reader
//! follows every source: it reads how far each has committed, then that source's rows up to
//! there. However late a transaction commits, and whenever the reader starts, no row is
//! passed over, and there is no timeout to give one up. Watchers also check versions: a
//! member's versions arrive contiguous, and a watcher that sees a jump (a slow watcher's
//! dropped messages, a member moved to another source) reads the missing rows from the
//! table itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use atone_storage::DatabaseConnection;
use atone_storage::change_feed::{self, FeedRow};
use chrono::Utc;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

mod reader;
use reader::{Reader, next_handed};

/// How many changes of one member may wait for a slow watcher before it falls behind and
/// catches up from the table.
const WATCHER_BUFFER: usize = 256;
const READ_LIMIT: u64 = 1000;

#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// How often the feed is read with no wake-up (changes projected by another process).
    pub poll_interval: Duration,
    /// How long the feed keeps a change; a watcher with an older cursor gets a snapshot.
    pub retention: Duration,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(100),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The change feed's fan-out. Cheap to clone.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    config: FeedConfig,
    /// One channel per member somebody watches or waits on.
    members: Mutex<HashMap<String, broadcast::Sender<Arc<FeedRow>>>>,
    /// Woken by an in-process projector after each batch.
    projected: Arc<Notify>,
    /// The rows this process's inline appends committed, handed over so they need not be
    /// read back (taken by [`Feed::run`]).
    handed: Mutex<Option<Handed>>,
}

type Handed = tokio::sync::mpsc::Receiver<Vec<FeedRow>>;

/// A member's changes as the reader finds them. Dropping it unsubscribes.
pub struct Subscription {
    feed: Feed,
    user_id: String,
    receiver: Option<broadcast::Receiver<Arc<FeedRow>>>,
}

impl Subscription {
    /// The next change of the member, `Err(Lagged)` if some were dropped because this
    /// subscriber was slow, `None` once the feed stopped.
    pub async fn recv(&mut self) -> Option<Result<Arc<FeedRow>, u64>> {
        let receiver = self.receiver.as_mut()?;
        match receiver.recv().await {
            Ok(row) => Some(Ok(row)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Err(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut members = self.feed.members();
        if members
            .get(&self.user_id)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            members.remove(&self.user_id);
        }
    }
}

impl Feed {
    /// A feed read from `db`, woken by `projected`, and handed rows by `handed` (see
    /// `atone_storage::change_feed::Handoff`).
    pub fn new(
        db: DatabaseConnection,
        config: FeedConfig,
        projected: Arc<Notify>,
        handed: Option<Handed>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                config,
                members: Mutex::new(HashMap::new()),
                projected,
                handed: Mutex::new(handed),
            }),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    fn members(&self) -> MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<FeedRow>>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.inner
            .members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts receiving the member's changes. Subscribe before reading the member's state,
    /// then skip changes at or below the version read.
    pub fn subscribe(&self, user_id: &str) -> Subscription {
        let receiver = self
            .members()
            .entry(user_id.to_owned())
            .or_insert_with(|| broadcast::channel(WATCHER_BUFFER).0)
            .subscribe();
        Subscription {
            feed: self.clone(),
            user_id: user_id.to_owned(),
            receiver: Some(receiver),
        }
    }

    fn publish(&self, row: FeedRow) {
        let delay = (Utc::now() - row.change.occurred_at)
            .num_milliseconds()
            .max(0);
        metrics::histogram!(crate::metric::WATCH_PUSH_DELAY_SECONDS).record(delay as f64 / 1000.0);
        let members = self.members();
        if let Some(sender) = members.get(&row.user_id) {
            // Nobody listening is fine: the last watcher just left.
            let _ = sender.send(Arc::new(row));
        }
    }

    /// Tails the feed until `shutdown`, starting from its current end (a watcher reads what
    /// came before from its snapshot or the table). Also prunes rows past retention.
    ///
    /// The table is read when woken, and every poll interval for what other processes
    /// wrote. Rows handed over by this process's appends are published as they are when
    /// they follow what was read last; otherwise the table is read.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut reader = Reader::default();
        let mut handed = self
            .inner
            .handed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let prune_every = (self.inner.config.retention / 10)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut last_prune = Instant::now();
        let mut every = tokio::time::interval(self.inner.config.poll_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        let mut read_table = true;
        loop {
            if read_table {
                match reader.poll(&self).await {
                    Ok(read) => {
                        if failing {
                            tracing::info!("change feed readable again");
                            failing = false;
                        }
                        if read >= READ_LIMIT as usize {
                            continue;
                        }
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "change feed read failed, retrying");
                            failing = true;
                        }
                    }
                }
            }
            if last_prune.elapsed() >= prune_every {
                last_prune = Instant::now();
                self.prune().await;
            }
            read_table = tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.projected.notified() => true,
                Some(rows) = next_handed(&mut handed) => !reader.take(&self, rows),
                _ = every.tick() => true,
            };
        }
        // Closing every channel ends every watch.
        self.members().clear();
    }

    async fn prune(&self) {
        let Ok(retention) = chrono::Duration::from_std(self.inner.config.retention) else {
            return;
        };
        match change_feed::prune(&self.inner.db, Utc::now() - retention).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "change feed pruned"),
            Err(e) => tracing::warn!(error = %e, "change feed prune failed"),
        }
    }
}
