//! The event store: every member's stream in the `events` table, appended together with its
//! outbox rows, and folded back (from a snapshot when there is one) to decide a command.

use atone_api::envelope::encode;
use atone_domain::{Envelope, Event, Member, RecordedEvent};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use crate::entity::{events, outbox, snapshots};
use crate::projection::{Incoming, Unreadable};
use crate::{StorageError, db};

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

/// A member's events with `after < version <= up_to`, oldest first.
pub async fn read_stream(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after: i64,
    up_to: Option<i64>,
) -> Result<Vec<Envelope>, StorageError> {
    let mut query = events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::Version.gt(after));
    if let Some(up_to) = up_to {
        query = query.filter(events::Column::Version.lte(up_to));
    }
    let rows = query
        .order_by_asc(events::Column::Version)
        .all(conn)
        .await?;
    rows.into_iter().map(row_to_envelope).collect()
}

/// The member's events with `after < version <= up_to`, oldest first, as a projector
/// takes them: an event this build cannot read comes back [`Unreadable`], to be parked.
pub async fn read_incoming(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after: i64,
    up_to: Option<i64>,
) -> Result<Vec<Incoming>, StorageError> {
    let mut query = events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::Version.gt(after));
    if let Some(up_to) = up_to {
        query = query.filter(events::Column::Version.lte(up_to));
    }
    let rows = query
        .order_by_asc(events::Column::Version)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(row_to_incoming).collect())
}

/// The row as a projector takes it.
fn row_to_incoming(row: events::Model) -> Incoming {
    let (user_id, version, event_id, event_type) = (
        row.user_id.clone(),
        row.version,
        row.event_id.clone(),
        row.event_type.clone(),
    );
    match row_to_envelope(row) {
        Ok(envelope) => Incoming::Event(envelope),
        Err(e) => Incoming::Unreadable(Unreadable {
            user_id,
            version,
            event_id: Some(event_id),
            event_type,
            error: format!("this build cannot read the event: {e}"),
            record: None,
        }),
    }
}

fn row_to_envelope(row: events::Model) -> Result<Envelope, StorageError> {
    let event = Event::from_json(&row.event_type, row.event_data)
        .map_err(|e| StorageError::Corrupt(format!("event {}: {e}", row.event_id)))?;
    let event_id = Uuid::try_parse(&row.event_id)
        .map_err(|_| StorageError::Corrupt(format!("event id {:?} is not a UUID", row.event_id)))?;
    Ok(Envelope {
        event_id,
        user_id: row.user_id,
        occurred_at: row.occurred_at,
        correlation_id: row.correlation_id,
        trace_parent: row.trace_parent.unwrap_or_default(),
        recorded: RecordedEvent {
            version: row.version,
            idempotency_key: row.idempotency_key,
            event,
        },
    })
}

/// Up to `limit` members with events, by user id, after `after`.
pub async fn members_after(
    conn: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<String>, StorageError> {
    let mut query = events::Entity::find()
        .select_only()
        .column(events::Column::UserId)
        .distinct();
    if let Some(after) = after {
        query = query.filter(events::Column::UserId.gt(after));
    }
    Ok(query
        .order_by_asc(events::Column::UserId)
        .limit(limit)
        .into_tuple::<String>()
        .all(conn)
        .await?)
}

/// How many members have events.
pub async fn member_count(conn: &impl ConnectionTrait) -> Result<u64, StorageError> {
    Ok(events::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::count_distinct(Expr::col(events::Column::UserId))),
            "n",
        )
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .map_or(0, |n| n.max(0) as u64))
}

/// What the event store says of the records read off a stream.
#[derive(Debug, Default)]
pub struct Checked {
    /// The event store's own copies of the records that are its events, in record order:
    /// what gets applied, whatever else the record carried.
    pub stored: Vec<Incoming>,
    /// Records with no such event (id, member and version) in the store: a forgery or
    /// another producer's record. Never applied.
    pub unknown: Vec<StreamRecord>,
    /// Records whose event id is the store's but whose content is not: the store's copy
    /// is in `stored`.
    pub altered: Vec<StreamRecord>,
}

/// A record read off a stream, as far as it could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub event_id: Uuid,
    pub user_id: String,
    pub version: i64,
    /// The event, if this build could read it.
    pub envelope: Option<Envelope>,
}

/// Checks records read off a stream against the event store, so that only what was
/// appended here is ever applied (the stream is a trust boundary).
pub async fn check_stored(
    conn: &impl ConnectionTrait,
    records: Vec<StreamRecord>,
) -> Result<Checked, StorageError> {
    let mut checked = Checked::default();
    if records.is_empty() {
        return Ok(checked);
    }
    let ids: Vec<String> = records.iter().map(|e| e.event_id.to_string()).collect();
    let mut known = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = events::Entity::find()
            .filter(events::Column::EventId.is_in(chunk.to_vec()))
            .all(conn)
            .await?;
        for row in rows {
            known.insert(row.event_id.clone(), row_to_incoming(row));
        }
    }
    for record in records {
        match known.get(&record.event_id.to_string()) {
            Some(stored)
                if stored.user_id() == record.user_id && stored.version() == record.version =>
            {
                let same = match (stored, &record.envelope) {
                    (Incoming::Event(s), Some(e)) => s.recorded == e.recorded,
                    // What this build cannot read, it cannot compare either.
                    _ => true,
                };
                if !same {
                    checked.altered.push(record);
                }
                checked.stored.push(stored.clone());
            }
            _ => checked.unknown.push(record),
        }
    }
    Ok(checked)
}

/// From the events appended after `after_id` (by id) and no later than `before`, at most
/// `limit`: each member's latest version among them, and the last id looked at. What the
/// periodic reconcile checks the read models against.
pub async fn latest_since(
    conn: &impl ConnectionTrait,
    after_id: i64,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<(std::collections::BTreeMap<String, i64>, Option<i64>), StorageError> {
    let rows: Vec<(i64, String, i64, DateTime<Utc>)> = events::Entity::find()
        .select_only()
        .column(events::Column::Id)
        .column(events::Column::UserId)
        .column(events::Column::Version)
        .column(events::Column::OccurredAt)
        .filter(events::Column::Id.gt(after_id))
        .order_by_asc(events::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    let mut latest = std::collections::BTreeMap::new();
    let mut last_id = None;
    for (id, user_id, version, occurred_at) in rows {
        // Too recent: its projector may simply not have got to it yet.
        if occurred_at > before {
            break;
        }
        let at = latest.entry(user_id).or_insert(version);
        *at = (*at).max(version);
        last_id = Some(id);
    }
    Ok((latest, last_id))
}
