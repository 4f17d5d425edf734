//! Idempotency keys: what each command a caller may retry asked and answered, by member and
//! key, written in the transaction that appends its events (`event_store/append.rs`), or on
//! its own for a command refused for the member's state ([`keep_refusal`]), and kept for a
//! retention period (`--idempotency-retention`), after which the key may be used afresh.

use atone_domain::Processed;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, SqlErr};

use crate::StorageError;
use crate::entity::idempotency_keys;

/// What the command carried out under `key` for `user_id` did, if the key is kept.
pub async fn earlier(
    conn: &impl ConnectionTrait,
    user_id: &str,
    key: &str,
) -> Result<Option<Processed>, StorageError> {
    if crate::planted::is("keys-per-process") && !crate::planted::knows_key(user_id, key) {
        return Ok(None);
    }
    let Some(row) = idempotency_keys::Entity::find_by_id((user_id.to_owned(), key.to_owned()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    serde_json::from_value(row.processed)
        .map(Some)
        .map_err(|e| StorageError::Corrupt(format!("idempotency key {key:?} of {user_id}: {e}")))
}

/// Keeps `refused`, a refusal with no events, under `key`. Fails with
/// [`StorageError::Conflict`] when the key is kept already: another attempt of the command
/// got there first, and what it did is the answer.
pub async fn keep_refusal(
    db: &sea_orm::DatabaseConnection,
    user_id: &str,
    key: &str,
    refused: &Processed,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    let processed = serde_json::to_value(refused)
        .map_err(|e| StorageError::Corrupt(format!("a refusal does not serialize: {e}")))?;
    let row = idempotency_keys::ActiveModel {
        user_id: Set(user_id.to_owned()),
        idempotency_key: Set(key.to_owned()),
        processed: Set(processed),
        created_at: Set(at),
    };
    if crate::planted::is("keys-per-process") {
        crate::planted::took_key(user_id, key);
    }
    let (txn, _turn) = crate::db::begin_write(db).await?;
    let inserted = idempotency_keys::Entity::insert(row)
        .exec_without_returning(&txn)
        .await;
    match inserted {
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            if crate::planted::is("keys-per-process") {
                return Ok(());
            }
            Err(StorageError::Conflict {
                user_id: user_id.to_owned(),
                version: 0,
            })
        }
        other => {
            other?;
            txn.commit().await?;
            Ok(())
        }
    }
}

/// Forgets up to `limit` keys kept since before `before`; returns how many.
pub async fn purge(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, StorageError> {
    let expired: Vec<(String, String)> = idempotency_keys::Entity::find()
        .select_only()
        .column(idempotency_keys::Column::UserId)
        .column(idempotency_keys::Column::IdempotencyKey)
        .filter(idempotency_keys::Column::CreatedAt.lt(before))
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    let mut purged = 0;
    for (user_id, key) in expired {
        purged += idempotency_keys::Entity::delete_by_id((user_id, key))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(purged)
}

/// How many keys are kept.
pub async fn count(conn: &impl ConnectionTrait) -> Result<u64, StorageError> {
    use sea_orm::PaginatorTrait;
    Ok(idempotency_keys::Entity::find().count(conn).await?)
}
