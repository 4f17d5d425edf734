//! One reader tails the change feed and hands each row to the watchers of its member.
//!
//! Feed ids are handed out when a projection transaction inserts its rows, but
//! transactions commit in their own order, so a row can appear after the reader has read
//! past its id. The reader remembers every id it skipped over and looks for it again until
//! it appears or `gap_timeout` passes (an id given up by a rolled-back transaction never
//! appears). Watchers also check versions: a member's versions arrive contiguous, and a
//! watcher that sees a jump reads the missing rows from the table itself.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use atone_storage::change_feed::{self, FeedRow};
use atone_storage::{DatabaseConnection, StorageError};
use chrono::Utc;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

/// How many changes of one member may wait for a slow watcher before it falls behind and
/// catches up from the table.
const WATCHER_BUFFER: usize = 256;
const READ_LIMIT: u64 = 1000;
/// The widest run of missing ids the reader keeps looking for.
const MAX_GAP: i64 = 10_000;

#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// How often the feed is read with no wake-up (changes projected by another process).
    pub poll_interval: Duration,
    /// How long a skipped id is looked for before it is taken for a rolled-back one.
    pub gap_timeout: Duration,
    /// How long the feed keeps a change; a watcher with an older cursor gets a snapshot.
    pub retention: Duration,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(100),
            gap_timeout: Duration::from_secs(30),
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
}

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
    pub fn new(db: DatabaseConnection, config: FeedConfig, projected: Arc<Notify>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                config,
                members: Mutex::new(HashMap::new()),
                projected,
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
        let members = self.members();
        if let Some(sender) = members.get(&row.user_id) {
            // Nobody listening is fine: the last watcher just left.
            let _ = sender.send(Arc::new(row));
        }
    }

    /// Tails the feed until `shutdown`, starting from its current end (a watcher reads what
    /// came before from its snapshot or the table). Also prunes rows past retention.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut reader = Reader {
            high: None,
            gaps: BTreeMap::new(),
        };
        let prune_every = (self.inner.config.retention / 10)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut last_prune = Instant::now();
        let mut failing = false;
        loop {
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
            if last_prune.elapsed() >= prune_every {
                last_prune = Instant::now();
                self.prune().await;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.projected.notified() => {}
                () = tokio::time::sleep(self.inner.config.poll_interval) => {}
            }
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

struct Reader {
    /// The highest id read; `None` until the first poll fixes where reading starts.
    high: Option<i64>,
    /// Ids skipped over, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

impl Reader {
    /// Reads what appeared since the last poll; returns how many rows past `high` it read.
    async fn poll(&mut self, feed: &Feed) -> Result<usize, StorageError> {
        let db = &feed.inner.db;
        let Some(high) = self.high else {
            self.high = Some(change_feed::max_id(db).await?);
            return Ok(0);
        };

        // Rows that committed late first: they are older than anything past `high`.
        if !self.gaps.is_empty() {
            let found = change_feed::read_ids(db, self.gaps.keys().copied().collect()).await?;
            for row in found {
                self.gaps.remove(&row.id);
                feed.publish(row);
            }
            let timeout = feed.inner.config.gap_timeout;
            self.gaps.retain(|id, since| {
                let keep = since.elapsed() < timeout;
                if !keep {
                    tracing::debug!(id, "change feed id never appeared, given up");
                }
                keep
            });
        }

        let rows = change_feed::read_from(db, high + 1, READ_LIMIT).await?;
        let read = rows.len();
        let mut expected = high + 1;
        let now = Instant::now();
        for row in rows {
            // A jump this wide is ids reserved and never used, not transactions in flight.
            if row.id - expected <= MAX_GAP {
                for missing in expected..row.id {
                    self.gaps.insert(missing, now);
                }
            }
            expected = row.id + 1;
            self.high = Some(row.id);
            feed.publish(row);
        }
        Ok(read)
    }
}
