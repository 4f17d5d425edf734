//! The read models' tables (`members`, `payment_promises`, `member_bills`) as the
//! projection's rows, and the reads the query side makes of them.

use atone_domain::{PaymentMethod, PaymentMode};
use atone_projection::{BillKind, BillRow, BillStatus, MemberRow, PromiseRow, PromiseStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

use crate::entity::{events, member_bills, members, payment_promises};
use crate::{StorageError, db};

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

/// The value of `payment_promises.payment_mode`.
fn mode_name(mode: PaymentMode) -> &'static str {
    match mode {
        PaymentMode::Immediate => "immediate",
        PaymentMode::Monthly => "monthly",
    }
}

/// The value of `members.payment_method`.
fn method_name(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::ConvenienceStore => "convenience_store",
        PaymentMethod::BankDebit => "bank_debit",
    }
}

fn method_of(value: &str) -> Option<PaymentMethod> {
    [PaymentMethod::ConvenienceStore, PaymentMethod::BankDebit]
        .into_iter()
        .find(|m| method_name(*m) == value)
}

fn corrupt(table: &str, id: &str, column: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("{table} {id}: {column} {value:?}"))
}

pub(crate) fn member_row(m: members::Model) -> Result<MemberRow, StorageError> {
    let payment_method = method_of(&m.payment_method)
        .ok_or_else(|| corrupt("member", &m.user_id, "payment_method", &m.payment_method))?;
    Ok(MemberRow {
        user_id: m.user_id,
        credit_limit: m.credit_limit,
        outstanding_amount: m.outstanding_amount,
        version: m.version,
        payment_method,
        credit_balance: m.credit_balance,
        unapplied_balance: m.unapplied_balance,
        overdue_bills: m.overdue_bills,
    })
}

pub(crate) fn member_model(row: &MemberRow) -> members::ActiveModel {
    members::ActiveModel {
        user_id: Set(row.user_id.clone()),
        credit_limit: Set(row.credit_limit),
        outstanding_amount: Set(row.outstanding_amount),
        version: Set(row.version),
        updated_at: Set(chrono::Utc::now()),
        payment_method: Set(method_name(row.payment_method).to_owned()),
        credit_balance: Set(row.credit_balance),
        unapplied_balance: Set(row.unapplied_balance),
        overdue_bills: Set(row.overdue_bills),
    }
}

pub(crate) fn promise_row(m: payment_promises::Model) -> Result<PromiseRow, StorageError> {
    let payment_mode = match m.payment_mode.as_str() {
        "immediate" => PaymentMode::Immediate,
        "monthly" => PaymentMode::Monthly,
        other => return Err(corrupt("promise", &m.id, "payment_mode", other)),
    };
    let status = PromiseStatus::parse(&m.status)
        .ok_or_else(|| corrupt("promise", &m.id, "status", &m.status))?;
    Ok(PromiseRow {
        id: m.id,
        order_id: m.order_id,
        user_id: m.user_id,
        product_id: m.product_id,
        product_name: m.product_name,
        amount: m.amount,
        cancelled_amount: m.cancelled_amount,
        due_date: m.due_date,
        payment_mode,
        status,
        bill_id: m.bill_id,
        purchased_at: m.purchased_at,
        created_version: m.created_version,
        updated_version: m.updated_version,
    })
}

pub(crate) fn promise_model(row: &PromiseRow) -> payment_promises::ActiveModel {
    payment_promises::ActiveModel {
        id: Set(row.id.clone()),
        order_id: Set(row.order_id.clone()),
        user_id: Set(row.user_id.clone()),
        product_id: Set(row.product_id.clone()),
        product_name: Set(row.product_name.clone()),
        amount: Set(row.amount),
        due_date: Set(row.due_date),
        payment_mode: Set(mode_name(row.payment_mode).to_owned()),
        status: Set(row.status.as_str().to_owned()),
        bill_id: Set(row.bill_id.clone()),
        purchased_at: Set(row.purchased_at),
        created_version: Set(row.created_version),
        updated_version: Set(row.updated_version),
        cancelled_amount: Set(row.cancelled_amount),
    }
}

pub(crate) fn bill_row(m: member_bills::Model) -> Result<BillRow, StorageError> {
    let promise_ids: Vec<String> = serde_json::from_value(m.promise_ids.clone())
        .map_err(|e| StorageError::Corrupt(format!("bill {}: promise_ids: {e}", m.id)))?;
    let status =
        BillStatus::parse(&m.status).ok_or_else(|| corrupt("bill", &m.id, "status", &m.status))?;
    let kind = BillKind::parse(&m.kind).ok_or_else(|| corrupt("bill", &m.id, "kind", &m.kind))?;
    Ok(BillRow {
        id: m.id,
        user_id: m.user_id,
        kind,
        period: m.period,
        promise_ids,
        amount: m.amount,
        items_total: m.items_total,
        fee: m.fee,
        balance_applied: m.balance_applied,
        status,
        issued_date: m.issued_date,
        due_date: m.due_date,
        paid_date: m.paid_date,
        overdue_since: m.overdue_since,
        reminders_sent: m.reminders_sent,
        created_version: m.created_version,
        updated_version: m.updated_version,
    })
}

pub(crate) fn bill_model(row: &BillRow) -> member_bills::ActiveModel {
    member_bills::ActiveModel {
        id: Set(row.id.clone()),
        user_id: Set(row.user_id.clone()),
        promise_ids: Set(serde_json::json!(row.promise_ids)),
        amount: Set(row.amount),
        status: Set(row.status.as_str().to_owned()),
        issued_date: Set(row.issued_date),
        due_date: Set(row.due_date),
        paid_date: Set(row.paid_date),
        created_version: Set(row.created_version),
        updated_version: Set(row.updated_version),
        kind: Set(row.kind.as_str().to_owned()),
        period: Set(row.period.clone()),
        items_total: Set(row.items_total),
        fee: Set(row.fee),
        balance_applied: Set(row.balance_applied),
        overdue_since: Set(row.overdue_since),
        reminders_sent: Set(row.reminders_sent),
    }
}

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
