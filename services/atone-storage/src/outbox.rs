//! The outbox: events appended but not delivered yet, oldest first.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::StorageError;
use crate::entity::outbox;

pub use outbox::Model as OutboxRow;

/// Up to `limit` undelivered rows, in the order they were appended.
pub async fn oldest(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<OutboxRow>, StorageError> {
    Ok(outbox::Entity::find()
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Removes delivered rows.
pub async fn delete(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<(), StorageError> {
    outbox::Entity::delete_many()
        .filter(outbox::Column::Id.is_in(ids))
        .exec(conn)
        .await?;
    Ok(())
}

/// How many rows wait, and since when the oldest has.
pub async fn backlog(
    conn: &impl ConnectionTrait,
) -> Result<(u64, Option<DateTime<Utc>>), StorageError> {
    let count = outbox::Entity::find().count(conn).await?;
    let oldest = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::CreatedAt)
        .order_by_asc(outbox::Column::Id)
        .into_tuple::<DateTime<Utc>>()
        .one(conn)
        .await?;
    Ok((count, oldest))
}
