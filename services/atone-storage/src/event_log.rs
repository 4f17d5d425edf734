//! A member's event log: their events as the event store holds them, whether or not this
//! build can read them (`QueryService.ListMemberEvents`, `atone events`).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::StorageError;
use crate::entity::events;

/// One event as the store holds it: the member's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub event_id: String,
    pub version: i64,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub correlation_id: String,
    pub idempotency_key: String,
}

/// The payload as it may be shown: a bank account's number masked (`****567`).
fn shown(event_type: &str, mut payload: serde_json::Value) -> serde_json::Value {
    if event_type == "BankAccountSet"
        && let Some(number) = payload.pointer_mut("/account/number")
        && let Some(whole) = number.as_str()
    {
        *number = serde_json::Value::String(atone_domain::mask(whole));
    }
    payload
}

/// One event among all members', at its global position.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionedEvent {
    pub position: i64,
    pub user_id: String,
    pub event: LoggedEvent,
}

impl From<events::Model> for LoggedEvent {
    fn from(row: events::Model) -> Self {
        Self {
            payload: shown(&row.event_type, row.event_data),
            event_id: row.event_id,
            version: row.version,
            event_type: row.event_type,
            occurred_at: row.occurred_at,
            correlation_id: row.correlation_id,
            idempotency_key: row.idempotency_key,
        }
    }
}

/// Up to `limit` events of all members after `after` (a global position), in position
/// order: the order they committed in. Every position up to the last one returned is
/// committed: a later read returns nothing before it.
pub async fn after_position(
    conn: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<PositionedEvent>, StorageError> {
    Ok(events::Entity::find()
        .filter(events::Column::Position.gt(after))
        .order_by_asc(events::Column::Position)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(PositionedEvent {
                position: row.position?,
                user_id: row.user_id.clone(),
                event: row.into(),
            })
        })
        .collect())
}

/// The position of the last event committed; 0 when there is none.
pub async fn last_position(conn: &impl ConnectionTrait) -> Result<i64, StorageError> {
    crate::db::max_or_zero(conn, events::Entity::find(), events::Column::Position).await
}

/// Up to `limit` of the member's events after `after_version`, oldest first, as stored
/// (whether or not this build can read them).
pub async fn log(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after_version: i64,
    limit: u64,
) -> Result<Vec<LoggedEvent>, StorageError> {
    Ok(events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::Version.gt(after_version))
        .order_by_asc(events::Column::Version)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(LoggedEvent::from)
        .collect())
}
