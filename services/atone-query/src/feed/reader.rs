//! The change feed's reader: each source's rows read in their numbers' order, up to what
//! the source has committed, none passed over; and the rows this process's own appends hand
//! over, published when they follow what was read.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use atone_storage::change_feed::{self, FeedRow};
use atone_storage::{StorageError, db};

use super::{Feed, Handed, READ_LIMIT};

/// The next batch of handed rows; never, without a handoff or once it closed.
pub(super) async fn next_handed(handed: &mut Option<Handed>) -> Option<Vec<FeedRow>> {
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

#[derive(Default)]
pub(super) struct Reader {
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
    pub(super) fn take(&mut self, feed: &Feed, rows: Vec<FeedRow>) -> bool {
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
    pub(super) async fn poll(&mut self, feed: &Feed) -> Result<usize, StorageError> {
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
    use std::sync::Arc;

    use atone_projection::{Change, MemberRow};
    use tokio::sync::Notify;

    use super::*;
    use crate::FeedConfig;
    use atone_storage::DatabaseConnection;
    use chrono::Utc;

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
        let mut reader = Reader::default();
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
