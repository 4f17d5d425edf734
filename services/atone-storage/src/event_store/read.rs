//! Reading the event store: a member's stream, the events after a point for the
//! projectors, the members with events, and checks of records against what is stored.

use atone_domain::{Envelope, Event, RecordedEvent};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::StorageError;
use crate::entity::events;
use crate::projection::{Incoming, Unreadable};

/// The rows of a member's events with `after < version <= up_to`, oldest first.
async fn stream_rows(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after: i64,
    up_to: Option<i64>,
) -> Result<Vec<events::Model>, StorageError> {
    let mut query = events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::Version.gt(after));
    if let Some(up_to) = up_to {
        query = query.filter(events::Column::Version.lte(up_to));
    }
    Ok(query
        .order_by_asc(events::Column::Version)
        .all(conn)
        .await?)
}

/// A member's events with `after < version <= up_to`, oldest first.
pub async fn read_stream(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after: i64,
    up_to: Option<i64>,
) -> Result<Vec<Envelope>, StorageError> {
    let rows = stream_rows(conn, user_id, after, up_to).await?;
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
    let rows = stream_rows(conn, user_id, after, up_to).await?;
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
