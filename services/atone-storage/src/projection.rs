//! Applies events to the read models. Every write of a batch happens in the caller's
//! transaction, together with one change-feed row per event and the source's checkpoint, so
//! a batch is applied whole or not at all.
//!
//! Exactly-once effect over at-least-once delivery: `members.version` is the last version
//! applied, so an event at or below it is a duplicate and skipped. An event further ahead
//! than the next version (a relay that retried out of order) first pulls the missing events
//! from the event store, so each member's events are always applied in version order.

use std::collections::BTreeMap;

use atone_api::prost::Message;
use atone_api::v1;
use atone_domain::Event;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use crate::codec::{Envelope, timestamp};
use crate::entity::{change_feed, member_bills, members, payment_promises};
use crate::read_model::{self, bill_status, promise_status};
use crate::{StorageError, db, event_store};

/// What a batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// (user_id, version) of every event applied, in order: the change-feed rows written.
    pub applied: Vec<(String, i64)>,
    /// Events at or below the version the read model already had.
    pub duplicates: usize,
}

/// The columns of `members` a batch keeps in memory while it applies a member's events.
struct Position {
    credit_limit: i64,
    outstanding: i64,
    version: i64,
    exists: bool,
}

impl Position {
    fn summary(&self, user_id: &str) -> v1::MemberSummary {
        read_model::summary(user_id, self.credit_limit, self.outstanding, self.version)
    }
}

/// Change-feed rows per INSERT statement (5 bound values each, far below MySQL's and
/// SQLite's limits on bound values).
const FEED_ROWS_PER_INSERT: usize = 200;

/// Applies `batch` (any order, duplicates allowed) in `txn`.
pub async fn apply_batch(
    txn: &DatabaseTransaction,
    batch: Vec<Envelope>,
) -> Result<BatchOutcome, StorageError> {
    let mut by_member: BTreeMap<String, BTreeMap<i64, Envelope>> = BTreeMap::new();
    let mut outcome = BatchOutcome::default();
    for envelope in batch {
        let versions = by_member.entry(envelope.user_id.clone()).or_default();
        if versions.insert(envelope.version(), envelope).is_some() {
            outcome.duplicates += 1;
        }
    }
    // Members in one fixed order, so two batches lock their rows without deadlocking.
    let mut feed = Vec::new();
    for (user_id, events) in by_member {
        apply_member(txn, &user_id, events.into_values(), &mut outcome, &mut feed).await?;
    }
    // The batch's change-feed rows in a few multi-row inserts rather than one per event.
    // The version check in `apply_member` makes a duplicate impossible; the unique key
    // would turn one into a failed batch, never a second change.
    while !feed.is_empty() {
        let rest = feed.split_off(feed.len().min(FEED_ROWS_PER_INSERT));
        change_feed::Entity::insert_many(std::mem::replace(&mut feed, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(outcome)
}

async fn apply_member(
    txn: &DatabaseTransaction,
    user_id: &str,
    events: impl Iterator<Item = Envelope>,
    outcome: &mut BatchOutcome,
    feed: &mut Vec<change_feed::ActiveModel>,
) -> Result<(), StorageError> {
    // On MySQL the member's rows are read with locking reads (here and in `apply_event`):
    // under REPEATABLE READ a plain SELECT would see the snapshot taken at the
    // transaction's first read, from before another projector's batch that this one
    // waited for on the lock, and would miss the promises and bills that batch wrote.
    let mut query = members::Entity::find_by_id(user_id);
    if db::is_mysql(txn) {
        query = query.lock_exclusive();
    }
    let mut position = match query.one(txn).await? {
        Some(m) => Position {
            credit_limit: m.credit_limit,
            outstanding: m.outstanding_amount,
            version: m.version,
            exists: true,
        },
        None => Position {
            credit_limit: 0,
            outstanding: 0,
            version: 0,
            exists: false,
        },
    };
    let start = position.version;

    for envelope in events {
        let version = envelope.version();
        if version <= position.version {
            outcome.duplicates += 1;
            continue;
        }
        if version > position.version + 1 {
            let missing =
                event_store::read_stream(txn, user_id, position.version, Some(version - 1)).await?;
            if missing.len() as i64 != version - 1 - position.version {
                return Err(StorageError::Corrupt(format!(
                    "user {user_id}: version {version} arrived but the event store lacks versions {}..{}",
                    position.version + 1,
                    version - 1
                )));
            }
            // Never needed while the relay keeps each member's order and parents are read
            // before their children; logged so a test (or an operator) can tell.
            tracing::info!(
                user_id,
                from = position.version + 1,
                to = version - 1,
                "filling a gap from the event store"
            );
            for earlier in missing {
                feed.push(apply_event(txn, &mut position, &earlier).await?);
                outcome
                    .applied
                    .push((user_id.to_owned(), earlier.version()));
            }
        }
        feed.push(apply_event(txn, &mut position, &envelope).await?);
        outcome.applied.push((user_id.to_owned(), version));
    }

    if position.version == start {
        return Ok(());
    }
    let row = members::ActiveModel {
        user_id: Set(user_id.to_owned()),
        credit_limit: Set(position.credit_limit),
        outstanding_amount: Set(position.outstanding),
        version: Set(position.version),
        updated_at: Set(Utc::now()),
    };
    if position.exists {
        // update_many: one UPDATE, where ActiveModel::update would read the row back.
        members::Entity::update_many()
            .set(row)
            .filter(members::Column::UserId.eq(user_id))
            .exec(txn)
            .await?;
    } else {
        members::Entity::insert(row).exec(txn).await?;
    }
    Ok(())
}

/// Applies one event to the read models; returns its change-feed row, for the caller to
/// insert.
async fn apply_event(
    txn: &DatabaseTransaction,
    position: &mut Position,
    envelope: &Envelope,
) -> Result<change_feed::ActiveModel, StorageError> {
    let user_id = envelope.user_id.as_str();
    let version = envelope.version();
    let mut promises = Vec::new();
    let mut bills = Vec::new();
    match envelope.event() {
        Event::PurchaseCompleted(e) => {
            position.credit_limit = e.credit_limit;
        }
        Event::PaymentPromiseCreated(e) => {
            let row = payment_promises::Model {
                id: e.promise_id.to_string(),
                order_id: e.order_id.to_string(),
                user_id: user_id.to_owned(),
                product_id: e.product_id.clone(),
                product_name: e.product_name.clone(),
                amount: e.amount,
                due_date: e.due_date,
                payment_mode: read_model::mode_name(e.payment_mode).to_owned(),
                status: promise_status::UNBILLED.to_owned(),
                bill_id: None,
                purchased_at: envelope.occurred_at,
                created_version: version,
                updated_version: version,
            };
            payment_promises::Entity::insert(row.clone().into_active_model())
                .exec(txn)
                .await?;
            position.outstanding += e.amount;
            promises.push(read_model::promise_to_proto(&row));
        }
        Event::MemberBillIssued(e) => {
            let promise_ids: Vec<String> = e.promise_ids.iter().map(ToString::to_string).collect();
            let row = member_bills::Model {
                id: e.bill_id.to_string(),
                user_id: user_id.to_owned(),
                promise_ids: serde_json::json!(promise_ids),
                amount: e.amount,
                status: bill_status::UNPAID.to_owned(),
                issued_date: e.issued_date,
                due_date: e.due_date,
                paid_date: None,
                created_version: version,
                updated_version: version,
            };
            member_bills::Entity::insert(row.clone().into_active_model())
                .exec(txn)
                .await?;
            bills.push(read_model::bill_to_proto(&row)?);
            promises = set_promises(
                txn,
                payment_promises::Column::Id.is_in(promise_ids),
                user_id,
                promise_status::BILLED,
                Some(e.bill_id.to_string()),
                version,
            )
            .await?;
        }
        Event::PaymentCompleted(e) => {
            let bill_id = e.bill_id.to_string();
            let mut query = member_bills::Entity::find_by_id(bill_id.clone())
                .filter(member_bills::Column::UserId.eq(user_id));
            if db::is_mysql(txn) {
                query = query.lock_exclusive();
            }
            let bill = query.one(txn).await?.ok_or_else(|| {
                StorageError::Corrupt(format!("user {user_id}: payment of unknown bill {bill_id}"))
            })?;
            let bill = member_bills::Model {
                status: bill_status::PAID.to_owned(),
                paid_date: Some(e.paid_date),
                updated_version: version,
                ..bill
            };
            member_bills::Entity::update_many()
                .col_expr(
                    member_bills::Column::Status,
                    Expr::value(bill.status.clone()),
                )
                .col_expr(member_bills::Column::PaidDate, Expr::value(bill.paid_date))
                .col_expr(member_bills::Column::UpdatedVersion, Expr::value(version))
                .filter(member_bills::Column::Id.eq(bill_id.clone()))
                .exec(txn)
                .await?;
            position.outstanding -= bill.amount;
            bills.push(read_model::bill_to_proto(&bill)?);
            promises = set_promises(
                txn,
                payment_promises::Column::BillId.eq(bill_id.clone()),
                user_id,
                promise_status::PAID,
                Some(bill_id),
                version,
            )
            .await?;
        }
    }
    position.version = version;

    let change = v1::MemberChange {
        version,
        event_type: envelope.event().event_type().to_owned(),
        occurred_at: Some(timestamp(envelope.occurred_at)),
        summary: Some(position.summary(user_id)),
        promises,
        bills,
    };
    Ok(change_feed::ActiveModel {
        user_id: Set(user_id.to_owned()),
        version: Set(version),
        event_type: Set(change.event_type.clone()),
        change: Set(change.encode_to_vec()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
}

/// Sets the status (and bill) of the member's promises that match `filter`; returns them
/// as they are now.
async fn set_promises(
    txn: &DatabaseTransaction,
    filter: sea_orm::sea_query::SimpleExpr,
    user_id: &str,
    status: &str,
    bill_id: Option<String>,
    version: i64,
) -> Result<Vec<v1::PaymentPromise>, StorageError> {
    let mut query = payment_promises::Entity::find()
        .filter(payment_promises::Column::UserId.eq(user_id))
        .filter(filter);
    if db::is_mysql(txn) {
        query = query.lock_exclusive();
    }
    let rows = query.all(txn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    payment_promises::Entity::update_many()
        .col_expr(payment_promises::Column::Status, Expr::value(status))
        .col_expr(
            payment_promises::Column::BillId,
            Expr::value(bill_id.clone()),
        )
        .col_expr(
            payment_promises::Column::UpdatedVersion,
            Expr::value(version),
        )
        .filter(payment_promises::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            read_model::promise_to_proto(&payment_promises::Model {
                status: status.to_owned(),
                bill_id: bill_id.clone(),
                updated_version: version,
                ..row
            })
        })
        .collect())
}
