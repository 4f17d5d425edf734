//! The event store: every member's stream in the `events` table, appended together with its
//! outbox rows, and folded back (from a snapshot when there is one) to decide a command.

use atone_api::envelope::encode;
use atone_domain::{Envelope, Event, Member, RecordedEvent};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, SqlErr};
use uuid::Uuid;

use crate::entity::{events, outbox, snapshots};
use crate::{StorageError, db};

mod read;

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
}

impl EventStore {
    pub fn new(db: DatabaseConnection, snapshot_every: i64) -> Self {
        Self {
            db,
            snapshot_every: snapshot_every.max(1),
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
        let mut state = member.take().unwrap_or_default();
        for envelope in self
            .read_stream(&self.db, user_id, state.version, None)
            .await?
        {
            state.apply(&envelope.recorded);
        }
        if refold {
            self.write_snapshot(&self.db, user_id, &state).await?;
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

    /// Appends `events` after `before.version`, with their outbox rows, in one transaction.
    /// Fails with [`StorageError::Conflict`] if another writer got there first. Returns the
    /// appended envelopes.
    pub async fn append(
        &self,
        user_id: &str,
        before: &Member,
        events: Vec<Event>,
        meta: &CommandMeta,
    ) -> Result<Vec<Envelope>, StorageError> {
        let envelopes: Vec<Envelope> = events
            .into_iter()
            .zip(before.version + 1..)
            .map(|(event, version)| Envelope {
                event_id: Uuid::now_v7(),
                user_id: user_id.to_owned(),
                occurred_at: meta.occurred_at,
                correlation_id: meta.correlation_id.clone(),
                trace_parent: meta.trace_parent.clone(),
                recorded: RecordedEvent {
                    version,
                    idempotency_key: meta.idempotency_key.clone(),
                    event,
                },
            })
            .collect();
        let Some(last) = envelopes.last() else {
            return Ok(envelopes);
        };
        let after = last.version();

        let txn = db::begin_write(&self.db).await?;
        let rows = envelopes.iter().map(|e| events::ActiveModel {
            event_id: Set(e.event_id.to_string()),
            user_id: Set(e.user_id.clone()),
            version: Set(e.version()),
            event_type: Set(e.event().event_type().to_owned()),
            event_data: Set(e.event().to_json()),
            occurred_at: Set(e.occurred_at),
            idempotency_key: Set(e.recorded.idempotency_key.clone()),
            correlation_id: Set(e.correlation_id.clone()),
            trace_parent: Set(Some(e.trace_parent.clone()).filter(|t| !t.is_empty())),
            ..Default::default()
        });
        if let Err(e) = events::Entity::insert_many(rows).exec(&txn).await {
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => StorageError::Conflict {
                    user_id: user_id.to_owned(),
                    version: before.version + 1,
                },
                _ => e.into(),
            });
        }
        let now = Utc::now();
        let outbox_rows = envelopes.iter().map(|e| outbox::ActiveModel {
            user_id: Set(e.user_id.clone()),
            version: Set(e.version()),
            envelope: Set(encode(e)),
            created_at: Set(now),
            ..Default::default()
        });
        outbox::Entity::insert_many(outbox_rows).exec(&txn).await?;
        let recorded = envelopes.iter().map(|e| &e.recorded);
        if let Some(processed) = atone_domain::Processed::of_key(recorded, &meta.idempotency_key) {
            crate::idempotency::record(&txn, user_id, &meta.idempotency_key, &processed, now)
                .await?;
        }

        if before.version / self.snapshot_every != after / self.snapshot_every {
            let mut state = before.clone();
            for e in &envelopes {
                state.apply(&e.recorded);
            }
            self.write_snapshot(&txn, user_id, &state).await?;
        }
        txn.commit().await?;
        Ok(envelopes)
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
