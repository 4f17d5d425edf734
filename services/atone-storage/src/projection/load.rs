//! What a batch reads before it projects: each member's row and the events to apply after
//! its version (filling a gap from the event store), and the promises and bills those events
//! touch. On MySQL every read is a locking read (see [`locking`]).

use std::collections::BTreeMap;

use atone_domain::PaymentMode;
use atone_projection::{MemberRows, Needs, PromiseStatus, reads_unbilled_monthly};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Select};

use super::cache::Lookup;
use super::{BatchOutcome, Incoming, Member, Readable, RowCache};
use crate::entity::{member_bills, members, payment_promises};
use crate::read_model::{bill_row, member_row, mode_name, promise_row};
use crate::{StorageError, db, event_store};

/// Rows per `IN (…)` list: far below MySQL's and SQLite's limits on bound values.
const IDS_PER_STATEMENT: usize = 200;

/// Reads the batch's member rows and settles which events each member needs applied:
/// those after its version, with any gap filled from the event store (or, if the store
/// lacks the missing versions, the member's events parked). With a `cache`, a member cached
/// at the version before its events is read from there, and the others are read whole.
pub(super) async fn members(
    txn: &DatabaseTransaction,
    by_member: BTreeMap<String, BTreeMap<i64, Incoming>>,
    readable: &Readable,
    cache: Option<&RowCache>,
    outcome: &mut BatchOutcome,
) -> Result<BTreeMap<String, Member>, StorageError> {
    // Cached members, and (with `None`) those read whole.
    let mut cached = BTreeMap::new();
    let mut whole = Vec::new();
    if let Some(cache) = cache {
        for (user_id, versions) in &by_member {
            let before = versions.keys().next().map_or(0, |first| first - 1);
            match cache.at(user_id, before) {
                Lookup::Rows(rows) => {
                    cached.insert(user_id.clone(), rows);
                }
                Lookup::Miss => whole.push(user_id.clone()),
                Lookup::TooBig => {}
            }
        }
    }
    let ids: Vec<String> = by_member
        .keys()
        .filter(|id| !cached.contains_key(*id))
        .cloned()
        .collect();
    let mut stored = member_rows(txn, &ids).await?;
    let mut members = BTreeMap::new();
    for (user_id, versions) in by_member {
        let mut member = match cached.remove(&user_id) {
            Some(rows) => Member::cached(rows),
            None => Member::new(user_id.clone(), stored.remove(&user_id)),
        };
        let at = member.rows.member.version;
        let (older, newer): (Vec<Incoming>, Vec<Incoming>) =
            versions.into_values().partition(|e| e.version() <= at);
        outcome.duplicates += older.len();
        fill_gaps(txn, &mut member, newer, readable).await?;
        members.insert(user_id, member);
    }
    whole_rows(txn, &mut members, &whole).await?;
    Ok(members)
}

/// Reads every promise and bill of the members `ids`, with locking reads on MySQL, so that
/// what their batch leaves can be cached.
async fn whole_rows(
    txn: &DatabaseTransaction,
    members: &mut BTreeMap<String, Member>,
    ids: &[String],
) -> Result<(), StorageError> {
    for filter in in_chunks(payment_promises::Column::UserId, ids) {
        let query = payment_promises::Entity::find().filter(filter);
        for row in locking(txn, query).all(txn).await? {
            if let Some(member) = members.get_mut(&row.user_id) {
                let row = promise_row(row)?;
                member.rows.promises.insert(row.id.clone(), row);
            }
        }
    }
    for filter in in_chunks(member_bills::Column::UserId, ids) {
        let query = member_bills::Entity::find().filter(filter);
        for row in locking(txn, query).all(txn).await? {
            if let Some(member) = members.get_mut(&row.user_id) {
                let row = bill_row(row)?;
                member.rows.bills.insert(row.id.clone(), row);
            }
        }
    }
    for user_id in ids {
        if let Some(member) = members.get_mut(user_id) {
            member.whole = true;
        }
    }
    Ok(())
}

/// The stored rows of these members, by user id.
pub(super) async fn member_rows(
    txn: &DatabaseTransaction,
    ids: &[String],
) -> Result<BTreeMap<String, atone_projection::MemberRow>, StorageError> {
    let mut stored = BTreeMap::new();
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let query = members::Entity::find().filter(members::Column::UserId.is_in(chunk.to_vec()));
        for row in locking(txn, query).all(txn).await? {
            stored.insert(row.user_id.clone(), member_row(row)?);
        }
    }
    Ok(stored)
}

impl Member {
    pub(super) fn new(user_id: String, row: Option<atone_projection::MemberRow>) -> Self {
        let mut rows = MemberRows::new(user_id);
        if let Some(row) = row {
            rows.member = row;
        }
        Self {
            rows,
            rewrite: false,
            whole: false,
            cached: false,
            incoming: Vec::new(),
            changes: Vec::new(),
            traces: Vec::new(),
            parked: Vec::new(),
        }
    }
}

impl Member {
    /// A member whose rows, all of them, as committed, come from a [`RowCache`].
    fn cached(rows: MemberRows) -> Self {
        Self {
            rewrite: false,
            whole: true,
            cached: true,
            incoming: Vec::new(),
            changes: Vec::new(),
            traces: Vec::new(),
            parked: Vec::new(),
            rows,
        }
    }
}

/// Sets the member's events to `events` (after its version, ascending), with any missing
/// version read from the event store. If the store lacks one too, the events before it
/// apply and the batch's events after it are parked.
async fn fill_gaps(
    txn: &DatabaseTransaction,
    member: &mut Member,
    events: Vec<Incoming>,
    readable: &Readable,
) -> Result<(), StorageError> {
    let at = member.rows.member.version;
    let user_id = member.rows.member.user_id.clone();
    let Some(last) = events.last().map(Incoming::version) else {
        return Ok(());
    };
    if last - at == events.len() as i64 {
        member.incoming = events;
        return Ok(());
    }
    // Never needed while the relay keeps each member's order and parents are read before
    // their children; logged so a test (or an operator) can tell.
    tracing::info!(
        user_id,
        from = at + 1,
        to = last,
        "filling a gap from the event store"
    );
    let mut next = at + 1;
    let mut incoming = Vec::new();
    for event in event_store::read_incoming(txn, &user_id, at, Some(last)).await? {
        if event.version() != next {
            break;
        }
        incoming.push(readable.check(event));
        next += 1;
    }
    if next > last {
        member.incoming = incoming;
        return Ok(());
    }
    let applied = incoming.len();
    incoming.extend(events.into_iter().filter(|e| e.version() > next));
    member.incoming = incoming;
    member.park_from(
        applied,
        format!("version {last} arrived but the event store lacks version {next}"),
    );
    Ok(())
}

/// Loads, with locking reads on MySQL, the promises and bills the members' events need,
/// each into its own member's rows (a row of another member is never theirs to change).
pub(super) async fn needed_rows(
    txn: &DatabaseTransaction,
    members: &mut BTreeMap<String, Member>,
) -> Result<(), StorageError> {
    let mut needs = Needs::default();
    let mut unbilled_monthly_of = Vec::new();
    for (user_id, member) in members.iter().filter(|(_, m)| !m.whole) {
        for item in &member.incoming {
            if let Incoming::Event(envelope) = item {
                needs.add(envelope.event());
                if reads_unbilled_monthly(envelope.event())
                    && unbilled_monthly_of.last() != Some(user_id)
                {
                    unbilled_monthly_of.push(user_id.clone());
                }
            }
        }
    }
    if needs.is_empty() && unbilled_monthly_of.is_empty() {
        return Ok(());
    }
    let promise_filters = [
        (payment_promises::Column::Id, needs.promise_ids),
        (payment_promises::Column::BillId, needs.promises_of_bills),
    ];
    for (column, ids) in promise_filters {
        for filter in in_chunks(column, &ids) {
            let query = payment_promises::Entity::find().filter(filter);
            for row in locking(txn, query).all(txn).await? {
                if let Some(member) = members.get_mut(&row.user_id) {
                    let row = promise_row(row)?;
                    member.rows.promises.insert(row.id.clone(), row);
                }
            }
        }
    }
    for filter in in_chunks(payment_promises::Column::UserId, &unbilled_monthly_of) {
        let query = payment_promises::Entity::find()
            .filter(filter)
            .filter(payment_promises::Column::Status.eq(PromiseStatus::Unbilled.as_str()))
            .filter(payment_promises::Column::PaymentMode.eq(mode_name(PaymentMode::Monthly)));
        for row in locking(txn, query).all(txn).await? {
            if let Some(member) = members.get_mut(&row.user_id) {
                let row = promise_row(row)?;
                member.rows.promises.entry(row.id.clone()).or_insert(row);
            }
        }
    }
    for filter in in_chunks(member_bills::Column::Id, &needs.bill_ids) {
        let query = member_bills::Entity::find().filter(filter);
        for row in locking(txn, query).all(txn).await? {
            if let Some(member) = members.get_mut(&row.user_id) {
                let row = bill_row(row)?;
                member.rows.bills.insert(row.id.clone(), row);
            }
        }
    }
    Ok(())
}

/// `column IN (…)` over `ids`, a list at most [`IDS_PER_STATEMENT`] long each.
fn in_chunks(column: impl ColumnTrait, ids: &[String]) -> Vec<SimpleExpr> {
    ids.chunks(IDS_PER_STATEMENT)
        .map(|chunk| column.is_in(chunk.to_vec()))
        .collect()
}

/// On MySQL the batch's rows are read with locking reads, so another transaction of the
/// same member (a rebuild, a projector taking a shard over) waits for this one, and this one
/// reads what that one committed. The transaction runs at READ COMMITTED
/// ([`db::begin_projection`]): the reads lock the rows they find, not the gaps between
/// them. (SQLite's write transaction holds the whole database already.)
fn locking<E: EntityTrait>(txn: &DatabaseTransaction, query: Select<E>) -> Select<E> {
    if db::is_mysql(txn) {
        query.lock_exclusive()
    } else {
        query
    }
}
