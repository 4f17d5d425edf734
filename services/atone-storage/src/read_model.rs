//! Reading the read models, and turning their rows into API messages.

use atone_api::v1;
use atone_domain::PaymentMode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::codec::{mode_to_proto, timestamp};
use crate::entity::{events, member_bills, members, payment_promises};
use crate::{StorageError, db};

/// Values of `payment_promises.status`.
pub mod promise_status {
    pub const UNBILLED: &str = "unbilled";
    pub const BILLED: &str = "billed";
    pub const PAID: &str = "paid";
}

/// Values of `member_bills.status`, as in the hands-on.
pub mod bill_status {
    pub const UNPAID: &str = "unpaid";
    pub const PAID: &str = "paid";
}

/// The value of `payment_promises.payment_mode`.
pub fn mode_name(mode: PaymentMode) -> &'static str {
    match mode {
        PaymentMode::Immediate => "immediate",
        PaymentMode::Monthly => "monthly",
    }
}

pub fn summary(
    user_id: &str,
    credit_limit: i64,
    outstanding: i64,
    version: i64,
) -> v1::MemberSummary {
    v1::MemberSummary {
        user_id: user_id.to_owned(),
        credit_limit,
        outstanding_amount: outstanding,
        available_credit: (credit_limit - outstanding).max(0),
        version,
    }
}

pub fn promise_to_proto(row: &payment_promises::Model) -> v1::PaymentPromise {
    let payment_mode = match row.payment_mode.as_str() {
        "immediate" => mode_to_proto(PaymentMode::Immediate),
        "monthly" => mode_to_proto(PaymentMode::Monthly),
        _ => v1::PaymentMode::Unspecified,
    };
    let status = match row.status.as_str() {
        promise_status::UNBILLED => v1::PromiseStatus::Unbilled,
        promise_status::BILLED => v1::PromiseStatus::Billed,
        promise_status::PAID => v1::PromiseStatus::Paid,
        _ => v1::PromiseStatus::Unspecified,
    };
    v1::PaymentPromise {
        promise_id: row.id.clone(),
        order_id: row.order_id.clone(),
        user_id: row.user_id.clone(),
        product_id: row.product_id.clone(),
        product_name: row.product_name.clone(),
        amount: row.amount,
        payment_mode: payment_mode as i32,
        due_date: row.due_date.to_string(),
        status: status as i32,
        bill_id: row.bill_id.clone().unwrap_or_default(),
        purchased_at: Some(timestamp(row.purchased_at)),
        created_version: row.created_version,
    }
}

pub fn bill_to_proto(row: &member_bills::Model) -> Result<v1::MemberBill, StorageError> {
    let promise_ids: Vec<String> = serde_json::from_value(row.promise_ids.clone())
        .map_err(|e| StorageError::Corrupt(format!("bill {}: promise_ids: {e}", row.id)))?;
    let status = match row.status.as_str() {
        bill_status::UNPAID => v1::BillStatus::Unpaid,
        bill_status::PAID => v1::BillStatus::Paid,
        _ => v1::BillStatus::Unspecified,
    };
    Ok(v1::MemberBill {
        bill_id: row.id.clone(),
        user_id: row.user_id.clone(),
        promise_ids,
        amount: row.amount,
        status: status as i32,
        issued_date: row.issued_date.to_string(),
        due_date: row.due_date.to_string(),
        paid_date: row.paid_date.map(|d| d.to_string()).unwrap_or_default(),
        created_version: row.created_version,
    })
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
    Ok(events::Entity::find()
        .select_only()
        .column_as(events::Column::Version.max(), "v")
        .filter(events::Column::UserId.eq(user_id))
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The member's whole read model as of one consistent moment. A member the read models do
/// not know yet is shown empty at version 0, with `default_credit_limit`.
pub async fn get_member(
    db: &DatabaseConnection,
    user_id: &str,
    default_credit_limit: i64,
) -> Result<v1::Member, StorageError> {
    let txn = db::begin_read(db).await?;
    let member = members::Entity::find_by_id(user_id).one(&txn).await?;
    let promises = payment_promises::Entity::find()
        .filter(payment_promises::Column::UserId.eq(user_id))
        .order_by_desc(payment_promises::Column::CreatedVersion)
        .all(&txn)
        .await?;
    let bills = member_bills::Entity::find()
        .filter(member_bills::Column::UserId.eq(user_id))
        .order_by_desc(member_bills::Column::CreatedVersion)
        .all(&txn)
        .await?;
    txn.commit().await?;
    let summary = match member {
        Some(m) => summary(user_id, m.credit_limit, m.outstanding_amount, m.version),
        None => summary(user_id, default_credit_limit, 0, 0),
    };
    Ok(v1::Member {
        summary: Some(summary),
        promises: promises.iter().map(promise_to_proto).collect(),
        bills: bills.iter().map(bill_to_proto).collect::<Result<_, _>>()?,
    })
}

/// A page of the member's promises, newest first, created before version `before`.
/// Returns the page and, if there may be more, the `before` of the next page.
pub async fn list_promises(
    db: &DatabaseConnection,
    user_id: &str,
    page_size: u64,
    before: Option<i64>,
) -> Result<(Vec<v1::PaymentPromise>, Option<i64>), StorageError> {
    let mut query =
        payment_promises::Entity::find().filter(payment_promises::Column::UserId.eq(user_id));
    if let Some(before) = before {
        query = query.filter(payment_promises::Column::CreatedVersion.lt(before));
    }
    let rows = query
        .order_by_desc(payment_promises::Column::CreatedVersion)
        .limit(page_size + 1)
        .all(db)
        .await?;
    page(
        rows,
        page_size,
        |r| r.created_version,
        |r| Ok(promise_to_proto(r)),
    )
}

/// A page of the member's bills, newest first; as [`list_promises`].
pub async fn list_bills(
    db: &DatabaseConnection,
    user_id: &str,
    page_size: u64,
    before: Option<i64>,
) -> Result<(Vec<v1::MemberBill>, Option<i64>), StorageError> {
    let mut query = member_bills::Entity::find().filter(member_bills::Column::UserId.eq(user_id));
    if let Some(before) = before {
        query = query.filter(member_bills::Column::CreatedVersion.lt(before));
    }
    let rows = query
        .order_by_desc(member_bills::Column::CreatedVersion)
        .limit(page_size + 1)
        .all(db)
        .await?;
    page(rows, page_size, |r| r.created_version, bill_to_proto)
}

fn page<R, T>(
    mut rows: Vec<R>,
    page_size: u64,
    key: impl Fn(&R) -> i64,
    convert: impl Fn(&R) -> Result<T, StorageError>,
) -> Result<(Vec<T>, Option<i64>), StorageError> {
    let more = rows.len() as u64 > page_size;
    rows.truncate(page_size as usize);
    let next = if more { rows.last().map(&key) } else { None };
    Ok((rows.iter().map(convert).collect::<Result<_, _>>()?, next))
}
