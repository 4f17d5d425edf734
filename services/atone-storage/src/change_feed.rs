//! The change feed: one row per applied event, in commit order (roughly: see the query
//! service's reader), kept for a retention period. Each row holds the projection's
//! [`Change`] as JSON, exactly what watchers are sent.

use atone_projection::Change;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::entity::change_feed;
use crate::{StorageError, db};

#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    /// The feed position: increasing, but a row may commit after one with a higher id.
    pub id: i64,
    pub user_id: String,
    pub version: i64,
    pub change: Change,
}

/// The row a projected change is recorded as.
pub(crate) fn new_row(
    user_id: &str,
    change: &Change,
) -> Result<change_feed::ActiveModel, StorageError> {
    let json = serde_json::to_vec(change)
        .map_err(|e| StorageError::Corrupt(format!("change does not serialize: {e}")))?;
    Ok(change_feed::ActiveModel {
        user_id: Set(user_id.to_owned()),
        version: Set(change.version),
        event_type: Set(change.event_type.clone()),
        change: Set(json),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
}

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
                id: row.id,
                user_id: row.user_id,
                version: row.version,
                change,
            })
        })
        .collect()
}

/// Up to `limit` rows with an id at or above `from`, by id.
pub async fn read_from(
    conn: &impl ConnectionTrait,
    from: i64,
    limit: u64,
) -> Result<Vec<FeedRow>, StorageError> {
    fetch(conn, by_id(change_feed::Column::Id.gte(from)).limit(limit)).await
}

/// The rows with these ids that exist, by id.
pub async fn read_ids(
    conn: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<FeedRow>, StorageError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    fetch(conn, by_id(change_feed::Column::Id.is_in(ids))).await
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

/// The rows that match `filter`, by id.
fn by_id(filter: SimpleExpr) -> Select<change_feed::Entity> {
    change_feed::Entity::find()
        .filter(filter)
        .order_by_asc(change_feed::Column::Id)
}

/// The highest id in the feed; 0 when it is empty.
pub async fn max_id(conn: &impl ConnectionTrait) -> Result<i64, StorageError> {
    db::max_or_zero(conn, change_feed::Entity::find(), change_feed::Column::Id).await
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
