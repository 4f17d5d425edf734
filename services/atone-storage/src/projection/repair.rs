//! One member projected from the event store rather than from a stream: an operator's
//! retry or skip of its dead letters, the periodic reconcile, and a rebuild in place. Each
//! runs in the caller's transaction, with the member's row locked, so it never interleaves
//! with a projector's batch for the same member.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::{BatchOutcome, Member, Parked, Readable, apply, load};
use crate::dead_letters::{self, RETRIED, SKIPPED};
use crate::entity::{change_feed, member_bills, members, payment_promises};
use crate::{StorageError, event_store};

/// What a repair did to one member.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RepairOutcome {
    /// Versions applied.
    pub applied: Vec<i64>,
    /// Versions parked (again).
    pub parked: Vec<i64>,
    /// Dead letters resolved.
    pub resolved: u64,
    /// The read model's version afterwards.
    pub version: i64,
}

/// Why a skip was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipRefused {
    /// The member has no parked event.
    NotParked,
    /// Only the member's first parked event can be skipped.
    NotFirst { first: i64 },
}

/// Applies the member's events after its read-model version from the event store, parked
/// ones included (the operator fixed what parked them, or runs a build that can read
/// them). Dead letters up to what applied are marked retried by `by`.
pub async fn retry(
    txn: &DatabaseTransaction,
    user_id: &str,
    readable: &Readable,
    source: &str,
    by: &str,
) -> Result<RepairOutcome, StorageError> {
    let member = member_with_events(txn, user_id, None, readable).await?;
    let mut outcome = run(txn, member, source, Parked::Apply).await?;
    outcome.resolved =
        dead_letters::resolve(txn, user_id, outcome.version, RETRIED, by, "retried").await?;
    Ok(outcome)
}

/// Skips the member's first parked event, `version`: the read model moves past it without
/// it (it will differ from a fold of the event store by that event), and the events after
/// it are applied.
pub async fn skip(
    txn: &DatabaseTransaction,
    user_id: &str,
    version: i64,
    readable: &Readable,
    source: &str,
    by: &str,
    note: &str,
) -> Result<Result<RepairOutcome, SkipRefused>, StorageError> {
    let Some(first) = dead_letters::first_parked(txn, user_id).await? else {
        return Ok(Err(SkipRefused::NotParked));
    };
    if first.version != version {
        return Ok(Err(SkipRefused::NotFirst {
            first: first.version,
        }));
    }
    let skipped = dead_letters::resolve(txn, user_id, version, SKIPPED, by, note).await?;
    let member = member_with_events(txn, user_id, Some(version), readable).await?;
    let mut outcome = run(txn, member, source, Parked::Apply).await?;
    outcome.resolved = skipped
        + dead_letters::resolve(
            txn,
            user_id,
            outcome.version,
            RETRIED,
            by,
            "applied after a skip",
        )
        .await?;
    Ok(Ok(outcome))
}

/// Applies whatever the member's read model lacks of its stream (the periodic reconcile):
/// a parked member's events keep queuing behind its dead letters.
pub async fn reproject(
    txn: &DatabaseTransaction,
    user_id: &str,
    readable: &Readable,
    source: &str,
) -> Result<RepairOutcome, StorageError> {
    let member = member_with_events(txn, user_id, None, readable).await?;
    run(txn, member, source, Parked::Queue).await
}

/// Builds the member's read models afresh from its whole stream, in place: its rows and
/// its change feed are replaced.
pub async fn rebuild_member(
    txn: &DatabaseTransaction,
    user_id: &str,
    readable: &Readable,
    source: &str,
) -> Result<RepairOutcome, StorageError> {
    // Lock the row first, as a projector's batch would, then start over.
    load::member_rows(txn, &[user_id.to_owned()]).await?;
    payment_promises::Entity::delete_many()
        .filter(payment_promises::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    member_bills::Entity::delete_many()
        .filter(member_bills::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    change_feed::Entity::delete_many()
        .filter(change_feed::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    members::Entity::delete_many()
        .filter(members::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let mut member = Member::new(user_id.to_owned(), None);
    member.incoming = stored_events(txn, user_id, 0, readable).await?;
    run(txn, member, source, Parked::Queue).await
}

/// The member (its row locked) with its stored events after its version, or after
/// `skipping` (which it then takes as its version).
async fn member_with_events(
    txn: &DatabaseTransaction,
    user_id: &str,
    skipping: Option<i64>,
    readable: &Readable,
) -> Result<Member, StorageError> {
    let row = load::member_rows(txn, &[user_id.to_owned()])
        .await?
        .remove(user_id);
    let mut member = Member::new(user_id.to_owned(), row);
    if let Some(version) = skipping
        && version > member.rows.member.version
    {
        member.rows.member.version = version;
        member.rewrite = true;
    }
    let after = member.rows.member.version;
    member.incoming = stored_events(txn, user_id, after, readable).await?;
    Ok(member)
}

/// The member's stored events after `after`, as this build reads them.
async fn stored_events(
    txn: &DatabaseTransaction,
    user_id: &str,
    after: i64,
    readable: &Readable,
) -> Result<Vec<super::Incoming>, StorageError> {
    Ok(event_store::read_incoming(txn, user_id, after, None)
        .await?
        .into_iter()
        .map(|item| readable.check(item))
        .collect())
}

async fn run(
    txn: &DatabaseTransaction,
    member: Member,
    source: &str,
    parked: Parked,
) -> Result<RepairOutcome, StorageError> {
    let user_id = member.rows.member.user_id.clone();
    let at = member.rows.member.version;
    let members = BTreeMap::from([(user_id, member)]);
    let guarded = super::Writes::Guarded;
    let batch = apply(
        txn,
        members,
        source,
        parked,
        guarded,
        BatchOutcome::default(),
    )
    .await?;
    let applied: Vec<i64> = batch.applied.iter().map(|(_, v)| *v).collect();
    Ok(RepairOutcome {
        version: applied.last().copied().unwrap_or(at),
        applied,
        parked: batch.parked.iter().map(|(_, v)| *v).collect(),
        resolved: 0,
    })
}
