//! Dead letters: a member's events the projector could not apply. The first one parks the
//! member (its reason is the member's problem); the member's later events queue behind it,
//! in version order, while every other member goes on. An operator retries the member
//! (after a fix) or skips its first parked event; each is recorded on the rows it
//! resolves, which are kept.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::dead_letters;
use crate::{StorageError, db};

pub const PARKED: &str = "parked";
pub const RETRIED: &str = "retried";
pub const SKIPPED: &str = "skipped";

/// What waits behind a parked event.
pub const WAITING: &str = "waiting behind an earlier parked event of the member";

/// An event set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Park {
    pub user_id: String,
    pub version: i64,
    pub event_id: Option<String>,
    pub event_type: String,
    pub error: String,
    /// The record as it arrived, if it came off a stream or the outbox.
    pub record: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub user_id: String,
    pub version: i64,
    pub event_id: Option<String>,
    pub event_type: String,
    pub source_id: String,
    pub status: String,
    pub error: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub note: Option<String>,
}

impl From<dead_letters::Model> for DeadLetter {
    fn from(m: dead_letters::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            version: m.version,
            event_id: m.event_id,
            event_type: m.event_type,
            source_id: m.source_id,
            status: m.status,
            error: m.error,
            created_at: m.created_at,
            resolved_at: m.resolved_at,
            resolved_by: m.resolved_by,
            note: m.note,
        }
    }
}

/// Of `users`, the ones parked now. In a transaction on MySQL it is a locking read, so a
/// retry of the member committing meanwhile is seen (see `projection::load`).
pub async fn parked_members(
    txn: &impl ConnectionTrait,
    users: &[String],
) -> Result<BTreeSet<String>, StorageError> {
    let mut parked = BTreeSet::new();
    for chunk in users.chunks(200) {
        let mut query = dead_letters::Entity::find()
            .select_only()
            .column(dead_letters::Column::UserId)
            .filter(dead_letters::Column::Status.eq(PARKED))
            .filter(dead_letters::Column::UserId.is_in(chunk.to_vec()));
        if db::is_mysql(txn) {
            query = query.lock_shared();
        }
        let rows: Vec<String> = query.into_tuple().all(txn).await?;
        parked.extend(rows);
    }
    Ok(parked)
}

/// Sets `parks` aside, written by `source`. A version parked already keeps its row, with
/// the newer reason.
pub async fn park(
    txn: &DatabaseTransaction,
    source: &str,
    parks: Vec<Park>,
) -> Result<(), StorageError> {
    let now = Utc::now();
    for park in parks {
        let waiting = park.error == WAITING;
        if waiting {
            tracing::debug!(user_id = %park.user_id, version = park.version, "event queued behind the member's dead letters");
        } else {
            tracing::warn!(
                user_id = %park.user_id,
                version = park.version,
                event_type = %park.event_type,
                error = %park.error,
                "event parked as a dead letter"
            );
        }
        let row = dead_letters::ActiveModel {
            user_id: Set(park.user_id),
            version: Set(park.version),
            event_id: Set(park.event_id),
            event_type: Set(park.event_type),
            source_id: Set(source.to_owned()),
            status: Set(PARKED.to_owned()),
            error: Set(park.error),
            record: Set(park.record),
            created_at: Set(now),
            resolved_at: Set(None),
            resolved_by: Set(None),
            note: Set(None),
            ..Default::default()
        };
        // A version parked again (a redelivery, a failed retry) keeps its row; a newer
        // reason replaces the old one, but "waiting" never hides a reason.
        let key = [dead_letters::Column::UserId, dead_letters::Column::Version];
        let on_conflict = if waiting {
            OnConflict::columns(key)
                .do_nothing_on([dead_letters::Column::UserId])
                .to_owned()
        } else {
            OnConflict::columns(key)
                .update_columns([dead_letters::Column::Error, dead_letters::Column::SourceId])
                .to_owned()
        };
        dead_letters::Entity::insert(row)
            .on_conflict(on_conflict)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Marks the member's parked rows up to `version` `status` (retried or skipped), by `by`.
pub async fn resolve(
    txn: &DatabaseTransaction,
    user_id: &str,
    up_to: i64,
    status: &str,
    by: &str,
    note: &str,
) -> Result<u64, StorageError> {
    Ok(dead_letters::Entity::update_many()
        .col_expr(dead_letters::Column::Status, Expr::value(status))
        .col_expr(dead_letters::Column::ResolvedAt, Expr::value(Utc::now()))
        .col_expr(dead_letters::Column::ResolvedBy, Expr::value(by))
        .col_expr(dead_letters::Column::Note, Expr::value(note))
        .filter(dead_letters::Column::UserId.eq(user_id))
        .filter(dead_letters::Column::Status.eq(PARKED))
        .filter(dead_letters::Column::Version.lte(up_to))
        .exec(txn)
        .await?
        .rows_affected)
}

/// The member's first parked event, if it is parked.
pub async fn first_parked(
    conn: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<DeadLetter>, StorageError> {
    Ok(dead_letters::Entity::find()
        .filter(dead_letters::Column::UserId.eq(user_id))
        .filter(dead_letters::Column::Status.eq(PARKED))
        .order_by_asc(dead_letters::Column::Version)
        .one(conn)
        .await?
        .map(DeadLetter::from))
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: Option<String>,
    /// Parked only, or every row.
    pub parked_only: bool,
    /// Rows after this id (a page token).
    pub after_id: i64,
    pub limit: u64,
}

/// Dead letters by id (oldest first).
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &Filter,
) -> Result<Vec<DeadLetter>, StorageError> {
    let mut query = dead_letters::Entity::find()
        .filter(dead_letters::Column::Id.gt(filter.after_id))
        .order_by_asc(dead_letters::Column::Id)
        .limit(filter.limit);
    if let Some(user_id) = &filter.user_id {
        query = query.filter(dead_letters::Column::UserId.eq(user_id.as_str()));
    }
    if filter.parked_only {
        query = query.filter(dead_letters::Column::Status.eq(PARKED));
    }
    Ok(query
        .all(conn)
        .await?
        .into_iter()
        .map(DeadLetter::from)
        .collect())
}

/// Parked events, and members parked.
pub async fn counts(conn: &impl ConnectionTrait) -> Result<(u64, u64), StorageError> {
    let parked = dead_letters::Entity::find().filter(dead_letters::Column::Status.eq(PARKED));
    let events = parked.clone().count(conn).await?;
    let members: Option<i64> = parked
        .select_only()
        .column_as(
            Expr::col(dead_letters::Column::UserId).count_distinct(),
            "members",
        )
        .into_tuple()
        .one(conn)
        .await?;
    Ok((events, u64::try_from(members.unwrap_or(0)).unwrap_or(0)))
}
