//! Outgoing webhooks: the endpoints an admin registered, each with its cursor, and the log
//! of every delivery attempt.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::StorageError;
use crate::entity::{webhook_deliveries, webhook_endpoints};

pub use webhook_deliveries::Model as Delivery;

/// An endpoint as registered, with where it stands.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub endpoint_id: String,
    pub url: String,
    /// Empty for every type.
    pub event_types: Vec<String>,
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub after_position: i64,
    pub generation: i64,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("endpoint_id", &self.endpoint_id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("secret", &"<hidden>")
            .field("enabled", &self.enabled)
            .field("after_position", &self.after_position)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Whether the endpoint takes events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type)
    }
}

impl TryFrom<webhook_endpoints::Model> for Endpoint {
    type Error = StorageError;

    fn try_from(row: webhook_endpoints::Model) -> Result<Self, StorageError> {
        let event_types = serde_json::from_str(&row.event_types).map_err(|e| {
            StorageError::Corrupt(format!(
                "webhook endpoint {}: event types {:?}: {e}",
                row.endpoint_id, row.event_types
            ))
        })?;
        Ok(Self {
            endpoint_id: row.endpoint_id,
            url: row.url,
            event_types,
            secret: row.secret,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            after_position: row.after_position,
            generation: row.generation,
            failing_since: row.failing_since,
            created_at: row.created_at,
        })
    }
}

/// Registers an endpoint, enabled, delivering the events after its `after_position`; false
/// when its id is taken.
pub async fn add(conn: &impl ConnectionTrait, endpoint: &Endpoint) -> Result<bool, StorageError> {
    let types = serde_json::to_string(&endpoint.event_types)
        .map_err(|e| StorageError::Corrupt(format!("event types do not serialize: {e}")))?;
    let row = webhook_endpoints::ActiveModel {
        endpoint_id: Set(endpoint.endpoint_id.clone()),
        url: Set(endpoint.url.clone()),
        event_types: Set(types),
        secret: Set(endpoint.secret.clone()),
        enabled: Set(true),
        disabled_reason: Set(None),
        after_position: Set(endpoint.after_position),
        generation: Set(0),
        failing_since: Set(None),
        created_at: Set(endpoint.created_at),
    };
    let inserted = webhook_endpoints::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(conn)
        .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(1)))
}

/// Every endpoint, by id.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Endpoint>, StorageError> {
    webhook_endpoints::Entity::find()
        .order_by_asc(webhook_endpoints::Column::EndpointId)
        .all(conn)
        .await?
        .into_iter()
        .map(Endpoint::try_from)
        .collect()
}

pub async fn get(
    conn: &impl ConnectionTrait,
    endpoint_id: &str,
) -> Result<Option<Endpoint>, StorageError> {
    webhook_endpoints::Entity::find_by_id(endpoint_id)
        .one(conn)
        .await?
        .map(Endpoint::try_from)
        .transpose()
}

/// Disables the endpoint, saying why; false if there is no such endpoint (or, with
/// `at_generation`, when a replay changed it since that generation was read, or it was
/// disabled already: deliveries failing for too long do not override an admin).
pub async fn disable(
    conn: &impl ConnectionTrait,
    endpoint_id: &str,
    reason: &str,
    at_generation: Option<i64>,
) -> Result<bool, StorageError> {
    let mut update = webhook_endpoints::Entity::update_many()
        .col_expr(webhook_endpoints::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoints::Column::DisabledReason,
            Expr::value(reason.to_owned()),
        )
        .filter(webhook_endpoints::Column::EndpointId.eq(endpoint_id));
    if let Some(generation) = at_generation {
        update = update
            .filter(webhook_endpoints::Column::Generation.eq(generation))
            .filter(webhook_endpoints::Column::Enabled.eq(true));
    }
    Ok(update.exec(conn).await?.rows_affected > 0)
}

/// Enables the endpoint again, delivering the events after `after_position` (what it was
/// sent before included): a new generation, so a delivery still under way from before
/// cannot move its cursor. False if there is no such endpoint.
pub async fn replay(
    conn: &impl ConnectionTrait,
    endpoint_id: &str,
    after_position: i64,
) -> Result<bool, StorageError> {
    let updated = webhook_endpoints::Entity::update_many()
        .col_expr(webhook_endpoints::Column::Enabled, Expr::value(true))
        .col_expr(
            webhook_endpoints::Column::DisabledReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            webhook_endpoints::Column::AfterPosition,
            Expr::value(after_position),
        )
        .col_expr(
            webhook_endpoints::Column::Generation,
            Expr::col(webhook_endpoints::Column::Generation).add(1),
        )
        .col_expr(
            webhook_endpoints::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_endpoints::Column::EndpointId.eq(endpoint_id))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// Moves the endpoint's cursor forward to `position` (never back), and clears its failing
/// streak, unless a replay made a new generation since `generation` was read. False when
/// it did (or the cursor was already there).
pub async fn advance(
    conn: &impl ConnectionTrait,
    endpoint_id: &str,
    generation: i64,
    position: i64,
) -> Result<bool, StorageError> {
    let updated = webhook_endpoints::Entity::update_many()
        .col_expr(
            webhook_endpoints::Column::AfterPosition,
            Expr::value(position),
        )
        .col_expr(
            webhook_endpoints::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_endpoints::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_endpoints::Column::Generation.eq(generation))
        .filter(webhook_endpoints::Column::AfterPosition.lt(position))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// Notes when the endpoint's deliveries began failing, if it was not failing already.
pub async fn failing_since(
    conn: &impl ConnectionTrait,
    endpoint_id: &str,
    since: DateTime<Utc>,
) -> Result<(), StorageError> {
    webhook_endpoints::Entity::update_many()
        .col_expr(webhook_endpoints::Column::FailingSince, Expr::value(since))
        .filter(webhook_endpoints::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_endpoints::Column::FailingSince.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Logs one delivery attempt.
pub async fn log(conn: &impl ConnectionTrait, delivery: Delivery) -> Result<(), StorageError> {
    let row = webhook_deliveries::ActiveModel {
        endpoint_id: Set(delivery.endpoint_id),
        position: Set(delivery.position),
        event_id: Set(delivery.event_id),
        event_type: Set(delivery.event_type),
        attempt: Set(delivery.attempt),
        status_code: Set(delivery.status_code),
        error: Set(delivery.error),
        latency_ms: Set(delivery.latency_ms),
        delivered: Set(delivery.delivered),
        attempted_at: Set(delivery.attempted_at),
        ..Default::default()
    };
    webhook_deliveries::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The endpoint's latest `limit` delivery attempts before `before` (0: the latest), newest
/// first.
pub async fn deliveries(
    conn: &impl ConnectionTrait,
    endpoint_id: &str,
    before: i64,
    limit: u64,
) -> Result<Vec<Delivery>, StorageError> {
    let mut query = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint_id));
    if before > 0 {
        query = query.filter(webhook_deliveries::Column::DeliveryId.lt(before));
    }
    Ok(query
        .order_by_desc(webhook_deliveries::Column::DeliveryId)
        .limit(limit)
        .all(conn)
        .await?)
}
