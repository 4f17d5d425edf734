//! The change feed: one row per applied event, in commit order (roughly: see the query
//! service's reader), kept for a retention period.

use atone_api::prost::Message;
use atone_api::v1;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::StorageError;
use crate::entity::change_feed;

#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    /// The feed position: increasing, but a row may commit after one with a higher id.
    pub id: i64,
    pub user_id: String,
    pub version: i64,
    pub change: v1::MemberChange,
}

fn decode(row: change_feed::Model) -> Result<FeedRow, StorageError> {
    let change = v1::MemberChange::decode(row.change.as_slice())
        .map_err(|e| StorageError::Corrupt(format!("change feed row {}: {e}", row.id)))?;
    Ok(FeedRow {
        id: row.id,
        user_id: row.user_id,
        version: row.version,
        change,
    })
}

/// Up to `limit` rows with an id at or above `from`, by id.
pub async fn read_from(
    conn: &impl ConnectionTrait,
    from: i64,
    limit: u64,
) -> Result<Vec<FeedRow>, StorageError> {
    change_feed::Entity::find()
        .filter(change_feed::Column::Id.gte(from))
        .order_by_asc(change_feed::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// The member's changes after `after_version`, by version.
pub async fn read_member(
    conn: &impl ConnectionTrait,
    user_id: &str,
    after_version: i64,
    limit: u64,
) -> Result<Vec<FeedRow>, StorageError> {
    change_feed::Entity::find()
        .filter(change_feed::Column::UserId.eq(user_id))
        .filter(change_feed::Column::Version.gt(after_version))
        .order_by_asc(change_feed::Column::Version)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// The highest id in the feed; 0 when it is empty.
pub async fn max_id(conn: &impl ConnectionTrait) -> Result<i64, StorageError> {
    Ok(change_feed::Entity::find()
        .select_only()
        .column_as(change_feed::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0))
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

/// The rows with these ids that exist, by id.
pub async fn read_ids(
    conn: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<FeedRow>, StorageError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    change_feed::Entity::find()
        .filter(change_feed::Column::Id.is_in(ids))
        .order_by_asc(change_feed::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}
