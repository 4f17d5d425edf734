//! Writes what a batch changed: each member row, promise and bill once, as it ended up, then
//! every change to the feed. A value the database refuses (too long, out of range) fails
//! only its member: the batch is written again member by member, each in a savepoint, and
//! a member the database refuses is parked.

use std::collections::{BTreeMap, HashSet};

use atone_projection::Change;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, IdenStatic, Iterable,
    TransactionTrait,
};

use super::Member;
use crate::dead_letters::WAITING;
use crate::entity::{change_feed, member_bills, members, payment_promises};
use crate::read_model::{bill_model, member_model, promise_model};
use crate::{StorageError, change_feed as feed};

/// Rows per multi-row INSERT: far below MySQL's and SQLite's limits on bound values.
const ROWS_PER_INSERT: usize = 200;

/// How a batch's read-model rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writes {
    /// In a savepoint: a value the database refuses fails only its member, which is parked.
    Guarded,
    /// Straight in the transaction, two statements fewer: a value the database refuses fails
    /// the batch, and its transaction must be rolled back (and the batch written again,
    /// `Guarded`).
    Direct,
}

/// Saves `members`' changes and their change-feed rows, numbered in `source`; returns those
/// rows.
pub(super) async fn save(
    txn: &DatabaseTransaction,
    members: &mut BTreeMap<String, Member>,
    source: &str,
    writes: Writes,
) -> Result<Vec<feed::FeedRow>, StorageError> {
    if writes == Writes::Direct {
        write(txn, members.values()).await?;
        return numbered(txn, members, source).await;
    }
    let savepoint = txn.begin().await?;
    match write(&savepoint, members.values()).await {
        Ok(()) => savepoint.commit().await?,
        Err(e) if e.is_data_error() => {
            savepoint.rollback().await?;
            tracing::warn!(error = %e, "the database refused a value; writing member by member");
            for member in members.values_mut().filter(|m| m.writes()) {
                let savepoint = txn.begin().await?;
                match write(&savepoint, std::iter::once(&*member)).await {
                    Ok(()) => savepoint.commit().await?,
                    Err(e) if e.is_data_error() => {
                        savepoint.rollback().await?;
                        member.unapply(e.to_string());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Err(e) => return Err(e),
    }
    numbered(txn, members, source).await
}

/// Writes the change-feed rows of `members`' changes, numbered in `source`; returns them.
async fn numbered(
    txn: &DatabaseTransaction,
    members: &BTreeMap<String, Member>,
    source: &str,
) -> Result<Vec<feed::FeedRow>, StorageError> {
    // Numbered last: numbering holds the source's row until the batch commits.
    let changes: Vec<(&str, &Change, &str)> = members
        .iter()
        .flat_map(|(user_id, m)| {
            let traces = m.traces.iter().map(String::as_str);
            m.changes
                .iter()
                .zip(traces)
                .map(move |(c, t)| (user_id.as_str(), c, t))
        })
        .collect();
    let (models, rows) = feed::numbered_rows(txn, source, &changes).await?;
    // The version check makes a duplicate feed row impossible; the unique key would turn
    // one into a failed batch, never a second change.
    insert_all::<change_feed::Entity>(txn, models).await?;
    Ok(rows)
}

impl Member {
    /// Whether saving it writes anything.
    fn writes(&self) -> bool {
        self.rewrite || !self.changes.is_empty()
    }

    /// Drops its changes and parks every event of the batch, the first with `error`.
    fn unapply(&mut self, error: String) {
        let mut parked: Vec<_> = self
            .incoming
            .drain(..)
            .enumerate()
            .map(|(i, item)| {
                item.park(if i == 0 {
                    error.clone()
                } else {
                    WAITING.to_owned()
                })
            })
            .collect();
        for later in &mut self.parked {
            later.error = WAITING.to_owned();
        }
        parked.append(&mut self.parked);
        self.parked = parked;
        self.changes.clear();
        self.traces.clear();
        self.rewrite = false;
    }
}

/// The read-model writes of `members`.
async fn write<'a>(
    conn: &impl ConnectionTrait,
    members: impl Iterator<Item = &'a Member>,
) -> Result<(), StorageError> {
    let mut member_rows = TableWrites::<members::Entity>::new(members::Column::UserId, None);
    let mut promises = TableWrites::<payment_promises::Entity>::new(
        payment_promises::Column::Id,
        Some(payment_promises::Column::UserId),
    );
    let mut bills = TableWrites::<member_bills::Entity>::new(
        member_bills::Column::Id,
        Some(member_bills::Column::UserId),
    );
    for member in members.filter(|m| m.writes()) {
        member_rows.push(member_model(&member.rows.member));
        let touched = touched(&member.changes);
        for row in touched
            .promises
            .iter()
            .filter_map(|id| member.rows.promises.get(id))
        {
            promises.push(promise_model(row));
        }
        for row in touched
            .bills
            .iter()
            .filter_map(|id| member.rows.bills.get(id))
        {
            bills.push(bill_model(row));
        }
    }
    member_rows.write(conn).await?;
    promises.write(conn).await?;
    bills.write(conn).await
}

/// The rows of one table a batch writes, new and changed alike, in multi-row upserts
/// (INSERT … ON DUPLICATE KEY UPDATE on MySQL, ON CONFLICT DO UPDATE on SQLite) of every
/// column but the key, so a batch costs one statement per table however many rows it
/// writes. A row of another member under the same key is never changed: the upsert sets
/// its `owner` column to NULL instead, which the database refuses (a data error, which
/// parks the member whose events made the row).
struct TableWrites<E: EntityTrait> {
    key: E::Column,
    owner: Option<E::Column>,
    rows: Vec<E::ActiveModel>,
}

impl<E: EntityTrait> TableWrites<E> {
    fn new(key: E::Column, owner: Option<E::Column>) -> Self {
        Self {
            key,
            owner,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: E::ActiveModel) {
        self.rows.push(row);
    }

    async fn write(self, txn: &impl ConnectionTrait) -> Result<(), StorageError> {
        let Self {
            key,
            owner,
            mut rows,
        } = self;
        let mut on_conflict = OnConflict::column(key);
        let others = E::Column::iter()
            .filter(|c| c.as_str() != key.as_str())
            .filter(|c| owner.is_none_or(|o| o.as_str() != c.as_str()));
        on_conflict.update_columns(others);
        if let Some(owner) = owner {
            let name = owner.as_str();
            let guard = match txn.get_database_backend() {
                DbBackend::MySql => {
                    format!("IF(`{name}` = VALUES(`{name}`), `{name}`, NULL)")
                }
                _ => format!(
                    "CASE WHEN \"{name}\" = excluded.\"{name}\" THEN \"{name}\" ELSE NULL END"
                ),
            };
            on_conflict.value(owner, Expr::cust(guard));
        }
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
            E::insert_many(std::mem::replace(&mut rows, rest))
                .on_conflict(on_conflict.clone())
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
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
pub(crate) async fn insert_all<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    mut rows: Vec<E::ActiveModel>,
) -> Result<(), StorageError> {
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        E::insert_many(std::mem::replace(&mut rows, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
