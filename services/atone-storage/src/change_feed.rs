//! The change feed: one row per applied event, kept for a retention period. Each row holds
//! the projection's [`Change`] as JSON, exactly what watchers are sent, and is numbered in
//! its source's commit order (see [`numbered_rows`]).

use atone_projection::Change;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

use crate::StorageError;
use crate::entity::{change_feed, feed_sources};

#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    /// The source that wrote it, and its number there.
    pub source_id: String,
    pub seq: i64,
    pub user_id: String,
    pub version: i64,
    pub change: Change,
    /// The W3C `traceparent` of the event's projection; empty when tracing was off.
    pub trace_parent: String,
}

/// The rows recording `changes` (user id, change, trace context), numbered after the last
/// of `source`.
///
/// The numbers are taken in `txn` by raising the source's row in `feed_sources`, which stays
/// locked until `txn` ends: the next writer of the same source waits, so a source's rows
/// commit in the order of their numbers, and a rolled-back batch gives its numbers back.
/// Take them last in a transaction, to hold the row briefly. Returns the rows to insert and
/// the same rows as a reader reads them back.
pub(crate) async fn numbered_rows(
    txn: &DatabaseTransaction,
    source: &str,
    changes: &[(&str, &Change, &str)],
) -> Result<(Vec<change_feed::ActiveModel>, Vec<FeedRow>), StorageError> {
    if changes.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let n = changes.len() as i64;
    let last = match SOURCES.raise(txn, source, n).await? {
        Some(last) => last,
        None => {
            // A source's first rows. Two first batches at once: one fails on the key and is
            // retried as any failed batch is.
            feed_sources::Entity::insert(feed_sources::ActiveModel {
                source_id: Set(source.to_owned()),
                seq: Set(n),
            })
            .exec_without_returning(txn)
            .await?;
            n
        }
    };
    let now = Utc::now();
    changes
        .iter()
        .zip(last - n + 1..)
        .map(|((user_id, change, trace), seq)| {
            let json = serde_json::to_vec(change)
                .map_err(|e| StorageError::Corrupt(format!("change does not serialize: {e}")))?;
            let trace_parent = Some((*trace).to_owned()).filter(|t| !t.is_empty());
            let model = change_feed::ActiveModel {
                user_id: Set((*user_id).to_owned()),
                version: Set(change.version),
                event_type: Set(change.event_type.clone()),
                change: Set(json),
                created_at: Set(now),
                source_id: Set(source.to_owned()),
                seq: Set(seq),
                trace_parent: Set(trace_parent),
                ..Default::default()
            };
            let row = FeedRow {
                source_id: source.to_owned(),
                seq,
                user_id: (*user_id).to_owned(),
                version: change.version,
                change: (*change).clone(),
                trace_parent: (*trace).to_owned(),
            };
            Ok((model, row))
        })
        .collect::<Result<Vec<_>, StorageError>>()
        .map(|rows| rows.into_iter().unzip())
}

/// Hands the rows a writer of the feed committed to the feed's reader in the same process,
/// so that it need not read them back: one batch's rows, of one source, in number order and
/// none missing. When the reader cannot take them at once (its queue is full, it stopped),
/// it is woken instead, and reads them from the table.
#[derive(Clone)]
pub struct Handoff {
    rows: tokio::sync::mpsc::Sender<Vec<FeedRow>>,
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Handoff {
    /// A handoff, and the receiving end for the reader; `wake` is the reader's wake-up.
    pub fn new(
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) -> (Self, tokio::sync::mpsc::Receiver<Vec<FeedRow>>) {
        let (rows, received) = tokio::sync::mpsc::channel(HANDOFF_QUEUE);
        (Self { rows, wake }, received)
    }

    /// Hands over `rows`, committed.
    pub fn hand(&self, rows: Vec<FeedRow>) {
        if rows.is_empty() {
            return;
        }
        if self.rows.try_send(rows).is_err() {
            self.wake.notify_one();
        }
    }
}

/// Batches that may wait for the reader before the next is read from the table instead.
const HANDOFF_QUEUE: usize = 64;

/// The numbers of the feed's sources.
const SOURCES: crate::db::Counter = crate::db::Counter {
    table: "feed_sources",
    key: "source_id",
    value: "seq",
};

/// Runs `query` and decodes its rows, in the query's order.
async fn fetch(
    conn: &impl ConnectionTrait,
    query: Select<change_feed::Entity>,
) -> Result<Vec<FeedRow>, StorageError> {
    query
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let change = serde_json::from_slice(&row.change)
                .map_err(|e| StorageError::Corrupt(format!("change feed row {}: {e}", row.id)))?;
            Ok(FeedRow {
                source_id: row.source_id,
                seq: row.seq,
                user_id: row.user_id,
                version: row.version,
                change,
                trace_parent: row.trace_parent.unwrap_or_default(),
            })
        })
        .collect()
}

/// Every source of the feed with the number of its last committed row. Rows up to it are
/// all visible to a read that starts after this one.
pub async fn sources(conn: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(feed_sources::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.source_id, row.seq))
        .collect())
}

/// How many rows `source` has numbered, if it numbered any: for the inline source, the
/// events it applied.
pub async fn numbered_so_far(
    conn: &impl ConnectionTrait,
    source: &str,
) -> Result<Option<i64>, StorageError> {
    Ok(feed_sources::Entity::find_by_id(source)
        .one(conn)
        .await?
        .map(|row| row.seq))
}

/// Up to `limit` rows of `source` numbered after `after` and up to `up_to`, in order.
pub async fn read_source(
    conn: &impl ConnectionTrait,
    source: &str,
    after: i64,
    up_to: i64,
    limit: u64,
) -> Result<Vec<FeedRow>, StorageError> {
    let query = change_feed::Entity::find()
        .filter(change_feed::Column::SourceId.eq(source))
        .filter(change_feed::Column::Seq.gt(after))
        .filter(change_feed::Column::Seq.lte(up_to))
        .order_by_asc(change_feed::Column::Seq)
        .limit(limit);
    fetch(conn, query).await
}

/// The member's changes after `after_version`, by version.
pub async fn read_member(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after_version: i64,
    limit: u64,
) -> Result<Vec<FeedRow>, StorageError> {
    let query = change_feed::Entity::find()
        .filter(change_feed::Column::UserId.eq(user_id))
        .filter(change_feed::Column::Version.gt(after_version))
        .order_by_asc(change_feed::Column::Version)
        .limit(limit);
    fetch(conn, query).await
}

/// Deletes rows written before `before`; returns how many.
pub async fn prune(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, StorageError> {
    Ok(change_feed::Entity::delete_many()
        .filter(change_feed::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}
