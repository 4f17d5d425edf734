//! The projector's sources and their checkpoints (`projector_leases`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, UpdateMany,
};

use crate::StorageError;
use crate::entity::projector_leases;

pub use projector_leases::Model as Lease;

/// The source id of the embedded delivery straight from the outbox.
pub const OUTBOX_SOURCE: &str = "outbox";
pub const KIND_OUTBOX: &str = "embedded-outbox";
/// A Kinesis shard read by the projector; the source id is the shard id.
pub const KIND_SHARD: &str = "kinesis-shard";
/// The relay that publishes the outbox to Kinesis: one instance holds it at a time.
pub const RELAY_SOURCE: &str = "relay";
pub const KIND_RELAY: &str = "outbox-relay";
/// Inline projection (the commands' own transactions): no lease and no checkpoint; its
/// events applied are the change-feed rows it numbered
/// ([`crate::change_feed::numbered_so_far`]). The source id is the kind.
pub const KIND_INLINE: &str = crate::event_store::INLINE_SOURCE;

/// Who holds a lease, and at which fencing counter: a write made under a fence happens
/// only while that owner still holds the lease at that counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence<'a> {
    pub owner: &'a str,
    pub counter: i64,
}

/// Narrows `update` to the source's row while `fence` still holds it.
fn fenced(
    update: UpdateMany<projector_leases::Entity>,
    source_id: &str,
    fence: Fence<'_>,
) -> UpdateMany<projector_leases::Entity> {
    update
        .filter(projector_leases::Column::SourceId.eq(source_id))
        .filter(projector_leases::Column::Owner.eq(fence.owner))
        .filter(projector_leases::Column::LeaseCounter.eq(fence.counter))
}

/// Sets the lease free: no owner, no expiry.
fn unowned(update: UpdateMany<projector_leases::Entity>) -> UpdateMany<projector_leases::Entity> {
    update
        .col_expr(
            projector_leases::Column::Owner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            projector_leases::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// Creates the source's row if it does not exist yet.
pub async fn ensure(
    conn: &impl ConnectionTrait,
    source_id: &str,
    kind: &str,
    parent_ids: &[String],
) -> Result<(), StorageError> {
    let row = projector_leases::ActiveModel {
        source_id: Set(source_id.to_owned()),
        kind: Set(kind.to_owned()),
        owner: Set(None),
        lease_expires_at: Set(None),
        lease_counter: Set(0),
        checkpoint: Set(None),
        events_applied: Set(0),
        invalid_records: Set(0),
        lag_millis: Set(0),
        parent_ids: Set(serde_json::json!(parent_ids)),
        finished: Set(false),
        updated_at: Set(Utc::now()),
    };
    projector_leases::Entity::insert(row)
        .on_conflict(
            // MySQL has no DO NOTHING: this is `ON DUPLICATE KEY UPDATE source_id = source_id`.
            OnConflict::column(projector_leases::Column::SourceId)
                .do_nothing_on([projector_leases::Column::SourceId])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Progress made by one committed batch.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub checkpoint: Option<String>,
    pub applied: i64,
    pub invalid: i64,
    pub lag_millis: Option<i64>,
}

/// Records a batch's progress in the batch's transaction. With a `fence` it writes only
/// while that owner still holds the lease at that counter and fails with
/// [`StorageError::Fenced`] otherwise, rolling the whole batch back.
pub async fn record_progress(
    conn: &impl ConnectionTrait,
    source_id: &str,
    progress: &Progress,
    fence: Option<Fence<'_>>,
) -> Result<(), StorageError> {
    let mut update = projector_leases::Entity::update_many()
        .col_expr(
            projector_leases::Column::EventsApplied,
            Expr::col(projector_leases::Column::EventsApplied).add(progress.applied),
        )
        .col_expr(
            projector_leases::Column::InvalidRecords,
            Expr::col(projector_leases::Column::InvalidRecords).add(progress.invalid),
        )
        .col_expr(projector_leases::Column::UpdatedAt, Expr::value(Utc::now()));
    if let Some(checkpoint) = &progress.checkpoint {
        update = update.col_expr(
            projector_leases::Column::Checkpoint,
            Expr::value(checkpoint.clone()),
        );
    }
    if let Some(lag) = progress.lag_millis {
        update = update.col_expr(projector_leases::Column::LagMillis, Expr::value(lag));
    }
    update = match fence {
        Some(fence) => fenced(update, source_id, fence),
        None => update.filter(projector_leases::Column::SourceId.eq(source_id)),
    };
    if update.exec(conn).await?.rows_affected == 0 {
        return Err(StorageError::Fenced {
            source_id: source_id.to_owned(),
        });
    }
    Ok(())
}

/// Locks `source_id`'s row until the transaction ends (MySQL; SQLite has one writer at a
/// time already): writers of one source take turns for the whole batch, so two processes
/// never apply the same rows at once.
pub async fn lock(conn: &impl ConnectionTrait, source_id: &str) -> Result<(), StorageError> {
    if conn.get_database_backend() == sea_orm::DbBackend::MySql {
        projector_leases::Entity::find_by_id(source_id)
            .lock_exclusive()
            .one(conn)
            .await?;
    }
    Ok(())
}

/// Every source, by id.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Lease>, StorageError> {
    Ok(projector_leases::Entity::find()
        .order_by_asc(projector_leases::Column::SourceId)
        .all(conn)
        .await?)
}

/// One source as one read of the lease table saw it.
pub async fn get(
    conn: &impl ConnectionTrait,
    source_id: &str,
) -> Result<Option<Lease>, StorageError> {
    Ok(projector_leases::Entity::find_by_id(source_id)
        .one(conn)
        .await?)
}

/// Every source of one kind, by id.
pub async fn of_kind(conn: &impl ConnectionTrait, kind: &str) -> Result<Vec<Lease>, StorageError> {
    Ok(projector_leases::Entity::find()
        .filter(projector_leases::Column::Kind.eq(kind))
        .order_by_asc(projector_leases::Column::SourceId)
        .all(conn)
        .await?)
}

/// True if nobody holds `lease` at `now`.
pub fn is_free(lease: &Lease, now: DateTime<Utc>) -> bool {
    lease.owner.is_none() || lease.lease_expires_at.is_none_or(|at| at <= now)
}

/// Makes `owner` the holder of the lease until `until`, if its counter is still the one
/// `seen` read: of several takers of one lease, exactly one wins. Works for a free lease
/// and for stealing a held one alike; the previous holder is fenced off by the new counter.
/// Returns the new counter, or `None` if somebody else changed the lease first.
pub async fn take(
    conn: &impl ConnectionTrait,
    seen: &Lease,
    owner: &str,
    until: DateTime<Utc>,
) -> Result<Option<i64>, StorageError> {
    let counter = seen.lease_counter + 1;
    let result = projector_leases::Entity::update_many()
        .col_expr(
            projector_leases::Column::Owner,
            Expr::value(owner.to_owned()),
        )
        .col_expr(projector_leases::Column::LeaseCounter, Expr::value(counter))
        .col_expr(projector_leases::Column::LeaseExpiresAt, Expr::value(until))
        .col_expr(projector_leases::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(projector_leases::Column::SourceId.eq(seen.source_id.as_str()))
        .filter(projector_leases::Column::LeaseCounter.eq(seen.lease_counter))
        .exec(conn)
        .await?;
    Ok((result.rows_affected == 1).then_some(counter))
}

/// Runs `update` on the source's row while `fence` still holds it; false if it no longer
/// does.
async fn update_fenced(
    conn: &impl ConnectionTrait,
    update: UpdateMany<projector_leases::Entity>,
    source_id: &str,
    fence: Fence<'_>,
) -> Result<bool, StorageError> {
    let result = fenced(update, source_id, fence).exec(conn).await?;
    Ok(result.rows_affected == 1)
}

/// Extends a lease held under `fence`. False if it was lost.
pub async fn renew(
    conn: &impl ConnectionTrait,
    source_id: &str,
    fence: Fence<'_>,
    until: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let update = projector_leases::Entity::update_many()
        .col_expr(projector_leases::Column::LeaseExpiresAt, Expr::value(until));
    update_fenced(conn, update, source_id, fence).await
}

/// Gives a lease back at once (a graceful shutdown), so another instance can take it
/// without waiting for it to expire. False if it was not held any more.
pub async fn release(
    conn: &impl ConnectionTrait,
    source_id: &str,
    fence: Fence<'_>,
) -> Result<bool, StorageError> {
    let update = unowned(projector_leases::Entity::update_many())
        .col_expr(projector_leases::Column::UpdatedAt, Expr::value(Utc::now()));
    update_fenced(conn, update, source_id, fence).await
}

/// Marks a closed shard read to its end, in the transaction of its last batch, and gives
/// its lease back; its children may start. Fenced like [`record_progress`].
pub async fn finish(
    conn: &impl ConnectionTrait,
    source_id: &str,
    fence: Fence<'_>,
) -> Result<(), StorageError> {
    let update = unowned(projector_leases::Entity::update_many())
        .col_expr(projector_leases::Column::Finished, Expr::value(true))
        .col_expr(projector_leases::Column::LagMillis, Expr::value(0))
        .col_expr(projector_leases::Column::UpdatedAt, Expr::value(Utc::now()));
    if fenced(update, source_id, fence)
        .exec(conn)
        .await?
        .rows_affected
        == 0
    {
        return Err(StorageError::Fenced {
            source_id: source_id.to_owned(),
        });
    }
    Ok(())
}

/// The parent shard ids a source records.
pub fn parent_ids(lease: &Lease) -> Vec<String> {
    lease
        .parent_ids
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
