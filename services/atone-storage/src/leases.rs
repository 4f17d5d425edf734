//! The projector's sources and their checkpoints (`projector_leases`).

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
};

use crate::StorageError;
use crate::entity::projector_leases;

pub use projector_leases::Model as Lease;

/// The source id of the embedded delivery straight from the outbox.
pub const OUTBOX_SOURCE: &str = "outbox";
pub const KIND_OUTBOX: &str = "embedded-outbox";

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

/// Records a batch's progress in the batch's transaction. With `fence = Some((owner,
/// counter))` it writes only while that owner still holds the lease at that counter and
/// fails with [`StorageError::Fenced`] otherwise, rolling the whole batch back.
pub async fn record_progress(
    conn: &impl ConnectionTrait,
    source_id: &str,
    progress: &Progress,
    fence: Option<(&str, i64)>,
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
        .col_expr(projector_leases::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(projector_leases::Column::SourceId.eq(source_id));
    if let Some(checkpoint) = &progress.checkpoint {
        update = update.col_expr(
            projector_leases::Column::Checkpoint,
            Expr::value(checkpoint.clone()),
        );
    }
    if let Some(lag) = progress.lag_millis {
        update = update.col_expr(projector_leases::Column::LagMillis, Expr::value(lag));
    }
    if let Some((owner, counter)) = fence {
        update = update
            .filter(projector_leases::Column::Owner.eq(owner))
            .filter(projector_leases::Column::LeaseCounter.eq(counter));
    }
    if update.exec(conn).await?.rows_affected == 0 {
        return Err(StorageError::Fenced {
            source_id: source_id.to_owned(),
        });
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
