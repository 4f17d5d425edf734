//! Applies a batch of events to the read models: loads the rows the events need, runs the
//! pure projection ([`atone_projection::project`]) over them, and saves what it changed.
//! Every write happens in the caller's transaction, together with one change-feed row per
//! event and the source's checkpoint, so a batch is applied whole or not at all.
//!
//! Exactly-once effect over at-least-once delivery: `members.version` is the last version
//! applied, so an event at or below it is a duplicate and skipped. An event further ahead
//! than the next version (a relay that retried out of order) first pulls the missing events
//! from the event store, so each member's events are always applied in version order.

use std::collections::{BTreeMap, HashSet};

use atone_domain::Envelope;
use atone_projection::{Change, MemberRows, Needs, Projected, project};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Select};

use crate::entity::{change_feed, member_bills, members, payment_promises};
use crate::read_model::{
    bill_model, bill_row, member_model, member_row, promise_model, promise_row,
};
use crate::{StorageError, change_feed as feed, db, event_store};

/// What a batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// (user_id, version) of every event applied, in order: the change-feed rows written.
    pub applied: Vec<(String, i64)>,
    /// Events at or below the version the read model already had.
    pub duplicates: usize,
}

/// Rows per multi-row INSERT, and ids per `IN (…)` list: far below MySQL's and SQLite's
/// limits on bound values.
const ROWS_PER_STATEMENT: usize = 200;

/// One member's part of a batch: the rows in hand and which of them the tables had.
struct Member {
    rows: MemberRows,
    existed: bool,
    stored_promises: HashSet<String>,
    stored_bills: HashSet<String>,
    events: Vec<Envelope>,
    changes: Vec<Change>,
}

/// Applies `batch` (any order, duplicates allowed) in `txn`.
pub async fn apply_batch(
    txn: &DatabaseTransaction,
    batch: Vec<Envelope>,
) -> Result<BatchOutcome, StorageError> {
    let mut outcome = BatchOutcome::default();
    let mut by_member: BTreeMap<String, BTreeMap<i64, Envelope>> = BTreeMap::new();
    for envelope in batch {
        let versions = by_member.entry(envelope.user_id.clone()).or_default();
        if versions.insert(envelope.version(), envelope).is_some() {
            outcome.duplicates += 1;
        }
    }
    if by_member.is_empty() {
        return Ok(outcome);
    }
    let mut members = load_members(txn, by_member, &mut outcome).await?;
    load_needed_rows(txn, &mut members).await?;
    for (user_id, member) in &mut members {
        for envelope in &member.events {
            match project(&member.rows, envelope) {
                Ok(Projected::Duplicate) => outcome.duplicates += 1,
                Ok(Projected::Applied(change)) => {
                    member.rows.apply(&change);
                    outcome.applied.push((user_id.clone(), change.version));
                    member.changes.push(change);
                }
                Err(e) => return Err(StorageError::Corrupt(e.to_string())),
            }
        }
    }
    save(txn, &members).await?;
    Ok(outcome)
}

/// Reads (with a locking read on MySQL, see [`locking`]) the member rows of the batch, and
/// settles which events each member needs applied: those after its version, with any gap
/// filled from the event store.
async fn load_members(
    txn: &DatabaseTransaction,
    by_member: BTreeMap<String, BTreeMap<i64, Envelope>>,
    outcome: &mut BatchOutcome,
) -> Result<BTreeMap<String, Member>, StorageError> {
    let ids: Vec<String> = by_member.keys().cloned().collect();
    let mut stored = BTreeMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let query = members::Entity::find().filter(members::Column::UserId.is_in(chunk.to_vec()));
        for row in locking(txn, query).all(txn).await? {
            stored.insert(row.user_id.clone(), member_row(row)?);
        }
    }
    let mut members = BTreeMap::new();
    for (user_id, versions) in by_member {
        let row = stored.remove(&user_id);
        let existed = row.is_some();
        let mut rows = MemberRows::new(user_id.clone());
        if let Some(row) = row {
            rows.member = row;
        }
        let at = rows.member.version;
        let (older, newer): (Vec<Envelope>, Vec<Envelope>) =
            versions.into_values().partition(|e| e.version() <= at);
        outcome.duplicates += older.len();
        let events = fill_gaps(txn, &user_id, at, newer).await?;
        let member = Member {
            rows,
            existed,
            stored_promises: HashSet::new(),
            stored_bills: HashSet::new(),
            events,
            changes: Vec::new(),
        };
        members.insert(user_id, member);
    }
    Ok(members)
}

/// `events` (after version `at`, ascending) with any missing version read from the event
/// store.
async fn fill_gaps(
    txn: &DatabaseTransaction,
    user_id: &str,
    at: i64,
    events: Vec<Envelope>,
) -> Result<Vec<Envelope>, StorageError> {
    let Some(last) = events.last().map(Envelope::version) else {
        return Ok(events);
    };
    if last - at == events.len() as i64 {
        return Ok(events);
    }
    let stream = event_store::read_stream(txn, user_id, at, Some(last)).await?;
    if stream.len() as i64 != last - at {
        return Err(StorageError::Corrupt(format!(
            "user {user_id}: version {last} arrived but the event store lacks versions between {} and {last}",
            at + 1
        )));
    }
    // Never needed while the relay keeps each member's order and parents are read before
    // their children; logged so a test (or an operator) can tell.
    tracing::info!(
        user_id,
        from = at + 1,
        to = last,
        "filling a gap from the event store"
    );
    Ok(stream)
}

/// Loads, with locking reads on MySQL, the promises and bills the members' events need,
/// each into its own member's rows (a row of another member is never theirs to change).
async fn load_needed_rows(
    txn: &DatabaseTransaction,
    members: &mut BTreeMap<String, Member>,
) -> Result<(), StorageError> {
    let mut needs = Needs::default();
    for member in members.values() {
        for envelope in &member.events {
            needs.add(envelope.event());
        }
    }
    if needs.is_empty() {
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
                    member.stored_promises.insert(row.id.clone());
                    member.rows.promises.insert(row.id.clone(), row);
                }
            }
        }
    }
    for filter in in_chunks(member_bills::Column::Id, &needs.bill_ids) {
        let query = member_bills::Entity::find().filter(filter);
        for row in locking(txn, query).all(txn).await? {
            if let Some(member) = members.get_mut(&row.user_id) {
                let row = bill_row(row)?;
                member.stored_bills.insert(row.id.clone());
                member.rows.bills.insert(row.id.clone(), row);
            }
        }
    }
    Ok(())
}

/// `column IN (…)` over `ids`, a list at most [`ROWS_PER_STATEMENT`] long each.
fn in_chunks(column: impl ColumnTrait, ids: &[String]) -> Vec<SimpleExpr> {
    ids.chunks(ROWS_PER_STATEMENT)
        .map(|chunk| column.is_in(chunk.to_vec()))
        .collect()
}

/// On MySQL the batch's rows are read with locking reads: under REPEATABLE READ a plain
/// SELECT would see the snapshot taken at the transaction's first read, from before another
/// projector's batch that this one waited for on the lock, and would miss the promises and
/// bills that batch wrote. (SQLite's write transaction holds the whole database already.)
fn locking<E: EntityTrait>(txn: &DatabaseTransaction, query: Select<E>) -> Select<E> {
    if db::is_mysql(txn) {
        query.lock_exclusive()
    } else {
        query
    }
}

/// Writes what the batch changed: each member row, promise and bill once, as it ended up,
/// and every change to the feed.
async fn save(
    txn: &DatabaseTransaction,
    members: &BTreeMap<String, Member>,
) -> Result<(), StorageError> {
    let mut member_rows = TableWrites::<members::Entity>::new(members::Column::UserId);
    let mut promises = TableWrites::<payment_promises::Entity>::new(payment_promises::Column::Id);
    let mut bills = TableWrites::<member_bills::Entity>::new(member_bills::Column::Id);
    let mut feed_rows = Vec::new();
    for (user_id, member) in members.iter().filter(|(_, m)| !m.changes.is_empty()) {
        member_rows.push(user_id, member_model(&member.rows.member), member.existed);
        let touched = touched(&member.changes);
        for (id, row) in touched
            .promises
            .iter()
            .filter_map(|id| member.rows.promises.get_key_value(id))
        {
            promises.push(id, promise_model(row), member.stored_promises.contains(id));
        }
        for (id, row) in touched
            .bills
            .iter()
            .filter_map(|id| member.rows.bills.get_key_value(id))
        {
            bills.push(id, bill_model(row), member.stored_bills.contains(id));
        }
        for change in &member.changes {
            feed_rows.push(feed::new_row(user_id, change)?);
        }
    }
    member_rows.write(txn).await?;
    promises.write(txn).await?;
    bills.write(txn).await?;
    // The version check makes a duplicate feed row impossible; the unique key would turn
    // one into a failed batch, never a second change.
    insert_all::<change_feed::Entity>(txn, feed_rows).await
}

/// The rows of one table a batch writes: new ones in multi-row INSERTs, changed ones in an
/// UPDATE each (`update_many`, which does not read the row back as `ActiveModel::update`
/// would).
struct TableWrites<E: EntityTrait> {
    key: E::Column,
    inserts: Vec<E::ActiveModel>,
    updates: Vec<(String, E::ActiveModel)>,
}

impl<E: EntityTrait> TableWrites<E> {
    fn new(key: E::Column) -> Self {
        Self {
            key,
            inserts: Vec::new(),
            updates: Vec::new(),
        }
    }

    /// `stored`: the table has the row already.
    fn push(&mut self, id: &str, row: E::ActiveModel, stored: bool) {
        if stored {
            self.updates.push((id.to_owned(), row));
        } else {
            self.inserts.push(row);
        }
    }

    async fn write(self, txn: &DatabaseTransaction) -> Result<(), StorageError> {
        for (id, row) in self.updates {
            E::update_many()
                .set(row)
                .filter(self.key.eq(id))
                .exec(txn)
                .await?;
        }
        insert_all::<E>(txn, self.inserts).await
    }
}

/// The ids of the promises and bills that `changes` wrote, each once, in the order first
/// written.
struct Touched {
    promises: Vec<String>,
    bills: Vec<String>,
}

fn touched(changes: &[Change]) -> Touched {
    let mut seen = HashSet::new();
    let mut touched = Touched {
        promises: Vec::new(),
        bills: Vec::new(),
    };
    for change in changes {
        for p in &change.promises {
            if seen.insert(("p", p.id.as_str())) {
                touched.promises.push(p.id.clone());
            }
        }
        for b in &change.bills {
            if seen.insert(("b", b.id.as_str())) {
                touched.bills.push(b.id.clone());
            }
        }
    }
    touched
}

/// Inserts `rows` in a few multi-row INSERTs rather than one per row.
async fn insert_all<E: EntityTrait>(
    txn: &DatabaseTransaction,
    mut rows: Vec<E::ActiveModel>,
) -> Result<(), StorageError> {
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_STATEMENT));
        E::insert_many(std::mem::replace(&mut rows, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
