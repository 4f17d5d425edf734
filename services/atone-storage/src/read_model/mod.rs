//! The read models' tables (`members`, `payment_promises`, `member_bills`) as the
//! projection's rows, and the reads the query side makes of them.

use atone_projection::{BillRow, BillStatus, MemberRow, PromiseRow, PromiseStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::entity::{events, member_bills, members, payment_promises};
use crate::{StorageError, db};

mod rows;

pub(crate) use rows::{
    bill_model, bill_row, member_model, member_row, method_name, mode_name, promise_model,
    promise_row,
};

/// What the read models hold of one member, as of one consistent moment: every promise and
/// bill still open, and the newest settled ones (paid or cancelled) up to a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// `None` for a member the read models do not know yet.
    pub member: Option<MemberRow>,
    /// Newest first.
    pub promises: Vec<PromiseRow>,
    /// Newest first.
    pub bills: Vec<BillRow>,
    /// Older settled promises or bills were left out: the lists page through all of them.
    pub settled_truncated: bool,
}

/// One page of a list, newest first, and the `before` of the next page if there may be
/// more.
pub type Page<T> = (Vec<T>, Option<i64>);

/// The version the read models reflect for `user_id`; 0 for a member they do not know.
pub async fn member_version(
    conn: &impl ConnectionTrait,
    user_id: &str,
) -> Result<i64, StorageError> {
    Ok(members::Entity::find_by_id(user_id)
        .select_only()
        .column(members::Column::Version)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or(0))
}

/// The versions the read models reflect for `user_ids` (members they know).
pub async fn member_versions(
    conn: &impl ConnectionTrait,
    user_ids: &[String],
) -> Result<std::collections::BTreeMap<String, i64>, StorageError> {
    let mut versions = std::collections::BTreeMap::new();
    for chunk in user_ids.chunks(200) {
        let rows: Vec<(String, i64)> = members::Entity::find()
            .select_only()
            .column(members::Column::UserId)
            .column(members::Column::Version)
            .filter(members::Column::UserId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        versions.extend(rows);
    }
    Ok(versions)
}

/// The latest version of the member's stream in the event store; 0 if they have none.
pub async fn stream_version(
    conn: &impl ConnectionTrait,
    user_id: &str,
) -> Result<i64, StorageError> {
    let query = events::Entity::find().filter(events::Column::UserId.eq(user_id));
    db::max_or_zero(conn, query, events::Column::Version).await
}

/// The member's read model, read in one transaction: open promises and bills whole, and at
/// most `settled_limit` of the newest settled ones of each.
pub async fn get_member(
    db: &DatabaseConnection,
    user_id: &str,
    settled_limit: u64,
) -> Result<MemberView, StorageError> {
    let txn = db::begin_read(db).await?;
    let member = members::Entity::find_by_id(user_id).one(&txn).await?;
    let open_promises = [PromiseStatus::Unbilled, PromiseStatus::Billed].map(PromiseStatus::as_str);
    let promises = payment_promises::Entity::find()
        .filter(payment_promises::Column::UserId.eq(user_id))
        .order_by_desc(payment_promises::Column::CreatedVersion);
    let (promises, more_promises) = open_and_settled(
        &txn,
        promises,
        payment_promises::Column::Status,
        &open_promises,
        settled_limit,
    )
    .await?;
    let open_bills = [
        BillStatus::Unpaid,
        BillStatus::Overdue,
        BillStatus::Adjusted,
    ]
    .map(BillStatus::as_str);
    let bills = member_bills::Entity::find()
        .filter(member_bills::Column::UserId.eq(user_id))
        .order_by_desc(member_bills::Column::CreatedVersion);
    let (bills, more_bills) = open_and_settled(
        &txn,
        bills,
        member_bills::Column::Status,
        &open_bills,
        settled_limit,
    )
    .await?;
    txn.commit().await?;
    let mut view = MemberView {
        member: member.map(member_row).transpose()?,
        promises: promises
            .into_iter()
            .map(promise_row)
            .collect::<Result<_, _>>()?,
        bills: bills.into_iter().map(bill_row).collect::<Result<_, _>>()?,
        settled_truncated: more_promises || more_bills,
    };
    view.promises
        .sort_by_key(|p| std::cmp::Reverse(p.created_version));
    view.bills
        .sort_by_key(|b| std::cmp::Reverse(b.created_version));
    Ok(view)
}

/// The rows of `query` whose `status` is open, and at most `settled_limit` of the others;
/// with whether more settled ones were left out.
async fn open_and_settled<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    query: Select<E>,
    status: E::Column,
    open: &[&str],
    settled_limit: u64,
) -> Result<(Vec<E::Model>, bool), StorageError> {
    let mut rows = query
        .clone()
        .filter(status.is_in(open.iter().copied()))
        .all(conn)
        .await?;
    let mut settled = query
        .filter(status.is_not_in(open.iter().copied()))
        .limit(settled_limit + 1)
        .all(conn)
        .await?;
    let more = settled.len() as u64 > settled_limit;
    settled.truncate(settled_limit as usize);
    rows.extend(settled);
    Ok((rows, more))
}

/// A page of the member's promises, newest first, created before version `before`.
pub async fn list_promises(
    db: &DatabaseConnection,
    user_id: &str,
    page_size: u64,
    before: Option<i64>,
) -> Result<Page<PromiseRow>, StorageError> {
    let query =
        payment_promises::Entity::find().filter(payment_promises::Column::UserId.eq(user_id));
    page(
        db,
        query,
        payment_promises::Column::CreatedVersion,
        page_size,
        before,
    )
    .await?
    .try_map(promise_row, |r| r.created_version)
}

/// A page of the member's bills, newest first; as [`list_promises`].
pub async fn list_bills(
    db: &DatabaseConnection,
    user_id: &str,
    page_size: u64,
    before: Option<i64>,
) -> Result<Page<BillRow>, StorageError> {
    let query = member_bills::Entity::find().filter(member_bills::Column::UserId.eq(user_id));
    page(
        db,
        query,
        member_bills::Column::CreatedVersion,
        page_size,
        before,
    )
    .await?
    .try_map(bill_row, |r| r.created_version)
}

/// Up to `page_size` rows, newest `created` first, and whether there are more.
struct Rows<M> {
    rows: Vec<M>,
    more: bool,
}

impl<M> Rows<M> {
    fn try_map<T>(
        self,
        convert: impl Fn(M) -> Result<T, StorageError>,
        key: impl Fn(&T) -> i64,
    ) -> Result<Page<T>, StorageError> {
        let rows: Vec<T> = self
            .rows
            .into_iter()
            .map(convert)
            .collect::<Result<_, _>>()?;
        let next = if self.more {
            rows.last().map(key)
        } else {
            None
        };
        Ok((rows, next))
    }
}

async fn page<E: EntityTrait>(
    db: &DatabaseConnection,
    mut query: Select<E>,
    created: E::Column,
    page_size: u64,
    before: Option<i64>,
) -> Result<Rows<E::Model>, StorageError> {
    if let Some(before) = before {
        query = query.filter(created.lt(before));
    }
    let mut rows = query
        .order_by_desc(created)
        .limit(page_size + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > page_size;
    rows.truncate(page_size as usize);
    Ok(Rows { rows, more })
}

/// The members with a bill still to be paid (unpaid, adjusted or overdue) that fell due
/// before `day`, by user id: those the daily overdue check looks at.
pub async fn members_with_bills_due_before(
    conn: &impl ConnectionTrait,
    day: chrono::NaiveDate,
) -> Result<Vec<String>, StorageError> {
    let open = [
        BillStatus::Unpaid,
        BillStatus::Adjusted,
        BillStatus::Overdue,
    ]
    .map(|s| s.as_str());
    Ok(member_bills::Entity::find()
        .select_only()
        .column(member_bills::Column::UserId)
        .distinct()
        .filter(member_bills::Column::Status.is_in(open))
        .filter(member_bills::Column::DueDate.lt(day))
        .order_by_asc(member_bills::Column::UserId)
        .into_tuple::<String>()
        .all(conn)
        .await?)
}
