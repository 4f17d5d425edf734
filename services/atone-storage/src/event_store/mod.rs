//! The event store: every member's stream in the `events` table, appended together with its
//! outbox rows, and folded back (from a snapshot when there is one) to decide a command.

use atone_domain::{Envelope, Member};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::StorageError;
use crate::entity::snapshots;

mod append;
mod read;

pub use append::Appending;
pub use read::*;

/// What every event of one command shares.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    pub idempotency_key: String,
    pub correlation_id: String,
    /// The command's W3C `traceparent` (empty when tracing is off).
    pub trace_parent: String,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct EventStore {
    db: DatabaseConnection,
    /// A snapshot is written each time a stream's version crosses a multiple of this.
    snapshot_every: i64,
    /// Set when appends project their events themselves (inline projection): each append
    /// writes its events' read-model rows and change-feed rows (numbered in
    /// [`INLINE_SOURCE`]) in the transaction that appends them, instead of an outbox row
    /// for a projector.
    inline: Option<Inline>,
    /// Woken after each append commits: the readers of all events in this process (for
    /// `SubscribeEvents`, for outgoing webhooks) wait on them.
    stored: Vec<std::sync::Arc<tokio::sync::Notify>>,
}

/// How appends project inline.
#[derive(Clone)]
struct Inline {
    /// What this build reads: an event it does not is parked, as a projector parks it.
    readable: crate::projection::Readable,
    /// Where the committed change-feed rows go, for the feed's reader in this process.
    handoff: Option<crate::change_feed::Handoff>,
    /// The read-model rows of the members projected last.
    rows: std::sync::Arc<crate::projection::RowCache>,
    /// Where the transactions run on MySQL (see [`crate::db::connect_projecting`]).
    writer: Option<DatabaseConnection>,
}

/// The change-feed source of inline projection.
pub const INLINE_SOURCE: &str = "inline";

impl EventStore {
    pub fn new(db: DatabaseConnection, snapshot_every: i64) -> Self {
        Self {
            db,
            snapshot_every: snapshot_every.max(1),
            inline: None,
            stored: Vec::new(),
        }
    }

    /// The same store, also waking `stored` after each append commits.
    pub fn waking(mut self, stored: std::sync::Arc<tokio::sync::Notify>) -> Self {
        self.stored.push(stored);
        self
    }

    /// The same store, projecting every append inline, as a build that reads `readable`;
    /// each batch's committed change-feed rows go to `handoff`, and the read-model rows of
    /// up to `cached` members are kept for their next batch. On MySQL the transactions run
    /// on `writer`, a pool from [`crate::db::connect_projecting`], when given.
    pub fn projecting_inline(
        self,
        readable: crate::projection::Readable,
        handoff: Option<crate::change_feed::Handoff>,
        cached: usize,
        writer: Option<DatabaseConnection>,
    ) -> Self {
        let rows = std::sync::Arc::new(crate::projection::RowCache::new(cached));
        Self {
            inline: Some(Inline {
                readable,
                handoff,
                rows,
                writer,
            }),
            ..self
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The member's current state: their latest snapshot plus the events after it. A
    /// snapshot of another schema (or one that does not read) is only a cache: the whole
    /// stream is folded instead, and the snapshot written again in the current schema.
    pub async fn load(&self, user_id: &str) -> Result<Member, StorageError> {
        let snapshot = snapshots::Entity::find_by_id(user_id).one(&self.db).await?;
        let stale = snapshot.is_some();
        let mut member = match snapshot {
            Some(snapshot) if snapshot.schema_version == Member::SCHEMA => {
                match serde_json::from_value::<Member>(snapshot.state) {
                    Ok(member) if member.version == snapshot.version => Some(member),
                    Ok(_) | Err(_) => None,
                }
            }
            _ => None,
        };
        let refold = stale && member.is_none();
        if refold {
            tracing::info!(
                user_id,
                "snapshot of another schema: folding the stream afresh"
            );
        }
        let state = self
            .catch_up(user_id, member.take().unwrap_or_default())
            .await?;
        if refold {
            self.write_snapshot(&self.db, user_id, &state).await?;
        }
        Ok(state)
    }

    /// `state`, a member's state as this process last knew it (or a snapshot's), brought
    /// up to date with the events appended after it (usually none: one indexed read).
    pub async fn catch_up(&self, user_id: &str, mut state: Member) -> Result<Member, StorageError> {
        for envelope in self
            .read_stream(&self.db, user_id, state.version, None)
            .await?
        {
            state.apply(&envelope.recorded);
        }
        Ok(state)
    }

    /// What the command carried out under `key` for `user_id` did, while the key is kept.
    pub async fn earlier(
        &self,
        user_id: &str,
        key: &str,
    ) -> Result<Option<atone_domain::Processed>, StorageError> {
        crate::idempotency::earlier(&self.db, user_id, key).await
    }

    /// Keeps `refused` under `key`: a retry gets the refusal again, and an earlier attempt
    /// of the command still in flight finds the key kept and appends nothing. Fails with
    /// [`StorageError::Conflict`] when another attempt kept the key first.
    pub async fn keep_refusal(
        &self,
        user_id: &str,
        key: &str,
        refused: &atone_domain::Processed,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), StorageError> {
        crate::idempotency::keep_refusal(&self.db, user_id, key, refused, at).await
    }

    /// The member's events with `after < version <= up_to`, oldest first.
    pub async fn read_stream(
        &self,
        conn: &impl ConnectionTrait,
        user_id: &str,
        after: i64,
        up_to: Option<i64>,
    ) -> Result<Vec<Envelope>, StorageError> {
        read_stream(conn, user_id, after, up_to).await
    }

    async fn write_snapshot(
        &self,
        conn: &impl ConnectionTrait,
        user_id: &str,
        state: &Member,
    ) -> Result<(), StorageError> {
        let json = serde_json::to_value(state)
            .map_err(|e| StorageError::Corrupt(format!("member state does not serialize: {e}")))?;
        let row = snapshots::ActiveModel {
            user_id: Set(user_id.to_owned()),
            version: Set(state.version),
            state: Set(json),
            updated_at: Set(Utc::now()),
            schema_version: Set(Member::SCHEMA),
        };
        snapshots::Entity::insert(row)
            .on_conflict(
                OnConflict::column(snapshots::Column::UserId)
                    .update_columns([
                        snapshots::Column::Version,
                        snapshots::Column::State,
                        snapshots::Column::UpdatedAt,
                        snapshots::Column::SchemaVersion,
                    ])
                    .to_owned(),
            )
            .exec(conn)
            .await?;
        Ok(())
    }
}
