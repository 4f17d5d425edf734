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

use atone_storage::change_feed::{self, FeedRow};
use atone_storage::{DatabaseConnection, StorageError, db};
use chrono::Utc;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

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
        let mut reader = Reader {
            read: None,
            gaps: HashMap::new(),
        };
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

/// The next batch of handed rows; never, without a handoff or once it closed.
async fn next_handed(handed: &mut Option<Handed>) -> Option<Vec<FeedRow>> {
    match handed {
        Some(receiver) => match receiver.recv().await {
            Some(rows) => Some(rows),
            None => {
                *handed = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

struct Reader {
    /// Each source's last row read; `None` until the first poll fixes where reading starts
    /// (each source's committed end: a watcher reads what came before from its snapshot or
    /// the table). A source that appears later is read from its start.
    read: Option<HashMap<String, i64>>,
    /// Where a source's run of rows stopped at a number it could not read, and since when.
    gaps: HashMap<String, (i64, Instant)>,
}

/// How long a number missing from a source's rows is waited for before it is passed over.
/// One snapshot shows every row up to the number, so a wait ends at the next poll unless a
/// row was deleted (a rebuild replaces a member's feed rows): then the watchers of that
/// member catch up from the table, as for any version jump.
const GAP_GRACE: Duration = Duration::from_secs(5);

impl Reader {
    /// Publishes `rows` (one source's, numbered without a gap) if they follow what was read
    /// of their source, as the table would have given them; returns false when the table
    /// must be read instead (rows of another process came between, or none was read yet).
    fn take(&mut self, feed: &Feed, rows: Vec<FeedRow>) -> bool {
        let (Some(read), Some(first)) = (self.read.as_mut(), rows.first()) else {
            return self.read.is_some();
        };
        let source = first.source_id.clone();
        if self.gaps.contains_key(&source) {
            return false;
        }
        let at = read.get(&source).copied().unwrap_or(0);
        let mut fresh = rows.into_iter().filter(|row| row.seq > at).peekable();
        match fresh.peek() {
            None => return true,
            Some(row) if row.seq != at + 1 => return false,
            Some(_) => {}
        }
        let mut upto = at;
        for row in fresh {
            upto = row.seq;
            feed.publish(row);
        }
        read.insert(source, upto);
        true
    }

    /// Reads what the sources committed since the last poll; returns how many rows it
    /// published.
    ///
    /// The numbers and the rows are read in one snapshot, so the rows up to a source's
    /// number are all there but for those pruned past the retention, which are the oldest.
    /// Even so the position moves only over rows read: a row missing after the first one
    /// read (which one snapshot cannot show, but a connection left in an old transaction
    /// could) is waited for, for [`GAP_GRACE`] at most.
    async fn poll(&mut self, feed: &Feed) -> Result<usize, StorageError> {
        let txn = db::begin_read(&feed.inner.db).await?;
        let sources = change_feed::sources(&txn).await?;
        let Some(read) = self.read.as_mut() else {
            self.read = Some(sources.into_iter().collect());
            txn.commit().await?;
            return Ok(0);
        };
        let mut total = 0;
        for (source, committed) in sources {
            let from = read.get(&source).copied().unwrap_or(0);
            if committed <= from {
                continue;
            }
            let mut rows =
                change_feed::read_source(&txn, &source, from, committed, READ_LIMIT).await?;
            let upto = match readable_run(from, committed, &rows) {
                Run::Whole(upto) => {
                    self.gaps.remove(&source);
                    upto
                }
                Run::Stopped { upto, len } if !waited_past_grace(&mut self.gaps, &source, upto) => {
                    rows.truncate(len);
                    upto
                }
                Run::Stopped { upto, .. } => {
                    tracing::warn!(
                        source,
                        at = upto + 1,
                        "change feed number missing; passed over"
                    );
                    self.gaps.remove(&source);
                    match rows.last() {
                        Some(last) if rows.len() == READ_LIMIT as usize => last.seq,
                        _ => committed,
                    }
                }
            };
            total += rows.len();
            read.insert(source, upto);
            for row in rows {
                feed.publish(row);
            }
        }
        txn.commit().await?;
        Ok(total)
    }
}

/// Whether `source` has been stopped at `upto` for longer than [`GAP_GRACE`]; starts the
/// clock when it first stops there.
fn waited_past_grace(gaps: &mut HashMap<String, (i64, Instant)>, source: &str, upto: i64) -> bool {
    let since = gaps
        .entry(source.to_owned())
        .or_insert((upto, Instant::now()));
    if since.0 != upto {
        *since = (upto, Instant::now());
    }
    since.1.elapsed() >= GAP_GRACE
}

/// What a source's rows allow the position to move over.
#[derive(Debug, PartialEq, Eq)]
enum Run {
    /// Every number up to this position was read (or pruned).
    Whole(i64),
    /// A number after the first row read is missing: the position before it, and how many
    /// rows lead up to it.
    Stopped { upto: i64, len: usize },
}

/// The run of consecutive numbers from the first row read among `rows` (numbered after
/// `from`, up to `committed`, in order). Numbers before it are pruned (the oldest go
/// first), and none read at all means all of them were.
fn readable_run(from: i64, committed: i64, rows: &[FeedRow]) -> Run {
    let Some(first) = rows.first() else {
        return Run::Whole(committed);
    };
    let mut upto = first.seq;
    let mut len = 1;
    for row in &rows[1..] {
        if row.seq != upto + 1 {
            break;
        }
        upto = row.seq;
        len += 1;
    }
    let upto = upto.max(from);
    let full_page = rows.len() == READ_LIMIT as usize;
    if len == rows.len() && (full_page || upto == committed) {
        Run::Whole(upto)
    } else {
        Run::Stopped { upto, len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atone_projection::{Change, MemberRow};

    fn rows(seqs: &[i64]) -> Vec<FeedRow> {
        seqs.iter()
            .map(|&seq| FeedRow {
                source_id: "s".into(),
                seq,
                user_id: "u".into(),
                version: seq,
                change: Change {
                    version: seq,
                    event_type: "e".into(),
                    occurred_at: Utc::now(),
                    member: MemberRow::new("u"),
                    promises: Vec::new(),
                    bills: Vec::new(),
                },
                trace_parent: String::new(),
            })
            .collect()
    }

    fn run(from: i64, committed: i64, seqs: &[i64]) -> Run {
        readable_run(from, committed, &rows(seqs))
    }

    #[test]
    fn the_position_moves_only_over_rows_read() {
        assert_eq!(run(0, 3, &[1, 2, 3]), Run::Whole(3), "all of them");
        let not_yet = Run::Stopped { upto: 3, len: 3 };
        assert_eq!(run(0, 5, &[1, 2, 3]), not_yet, "4 and 5 not readable yet");
        let missing = Run::Stopped { upto: 2, len: 2 };
        assert_eq!(run(0, 5, &[1, 2, 4, 5]), missing, "3 missing");
        assert_eq!(run(10, 15, &[13, 14, 15]), Run::Whole(15), "11, 12 pruned");
        assert_eq!(run(10, 15, &[]), Run::Whole(15), "all pruned");
    }

    #[tokio::test]
    async fn handed_rows_are_published_only_when_they_follow_what_was_read() {
        let feed = Feed::new(
            DatabaseConnection::default(),
            FeedConfig::default(),
            Arc::new(Notify::new()),
            None,
        );
        let mut watching = feed.subscribe("u");
        let mut reader = Reader {
            read: None,
            gaps: HashMap::new(),
        };
        assert!(
            !reader.take(&feed, rows(&[1, 2])),
            "nothing read yet: the table"
        );
        reader.read = Some(HashMap::from([("s".to_owned(), 2)]));
        assert!(
            reader.take(&feed, rows(&[1, 2])),
            "read already from the table"
        );
        assert!(reader.take(&feed, rows(&[3, 4])), "the next ones");
        assert!(
            !reader.take(&feed, rows(&[6])),
            "5 is another process's: the table"
        );
        assert!(reader.take(&feed, rows(&[4, 5])), "4 read, 5 next");
        reader.gaps.insert("s".to_owned(), (6, Instant::now()));
        assert!(
            !reader.take(&feed, rows(&[6])),
            "waiting on a gap: the table"
        );
        assert_eq!(reader.read.as_ref().and_then(|r| r.get("s")), Some(&5));
        for expected in [3, 4, 5] {
            let row = watching.recv().await.and_then(Result::ok).map(|r| r.seq);
            assert_eq!(row, Some(expected));
        }
        drop(feed);
    }
}
