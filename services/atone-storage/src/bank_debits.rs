//! Bank debit as files: the bank-debit bills drawn on a day, the members' accounts, and
//! `bank_debit_rows`, which gives each debit of an exported request file its customer
//! number (顧客番号) and keeps the result a result file gave it.

use std::collections::BTreeMap;

use atone_domain::{BankAccount, Event, PaymentMethod};
use atone_projection::BillStatus;
use chrono::{NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::StorageError;
use crate::entity::{bank_debit_rows, events, member_bills};
use crate::read_model::method_name;

pub use bank_debit_rows::Model as DebitRow;

/// An open bank-debit bill drawn on a day, and what is left to pay on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnBill {
    pub user_id: String,
    pub bill_id: String,
    pub left: i64,
}

/// The open bank-debit bills due (drawn) on `day` with something left to pay, by member.
pub async fn bills_drawn_on(
    db: &DatabaseConnection,
    day: NaiveDate,
) -> Result<Vec<DrawnBill>, StorageError> {
    let open = [
        BillStatus::Unpaid,
        BillStatus::Adjusted,
        BillStatus::Overdue,
    ]
    .map(|s| s.as_str());
    let rows: Vec<(String, String, i64, i64)> = member_bills::Entity::find()
        .select_only()
        .column(member_bills::Column::UserId)
        .column(member_bills::Column::Id)
        .column(member_bills::Column::Amount)
        .column(member_bills::Column::PaidAmount)
        .filter(member_bills::Column::PaymentMethod.eq(method_name(PaymentMethod::BankDebit)))
        .filter(member_bills::Column::DueDate.eq(day))
        .filter(member_bills::Column::Status.is_in(open))
        .order_by_asc(member_bills::Column::UserId)
        .order_by_asc(member_bills::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, amount, paid)| amount - paid > 0)
        .map(|(user_id, bill_id, amount, paid)| DrawnBill {
            user_id,
            bill_id,
            left: amount - paid,
        })
        .collect())
}

/// The account each of `user_ids` last set, whole, from the event store (the read models
/// keep it masked).
pub async fn accounts_of(
    db: &DatabaseConnection,
    user_ids: &[String],
) -> Result<BTreeMap<String, BankAccount>, StorageError> {
    let mut accounts = BTreeMap::new();
    for chunk in user_ids.chunks(200) {
        let rows: Vec<(String, serde_json::Value)> = events::Entity::find()
            .select_only()
            .column(events::Column::UserId)
            .column(events::Column::EventData)
            .filter(events::Column::UserId.is_in(chunk.to_vec()))
            .filter(events::Column::EventType.eq("BankAccountSet"))
            .order_by_asc(events::Column::UserId)
            .order_by_asc(events::Column::Version)
            .into_tuple()
            .all(db)
            .await?;
        for (user_id, data) in rows {
            match Event::from_json("BankAccountSet", data) {
                Ok(Event::BankAccountSet(e)) => {
                    accounts.insert(user_id, e.account);
                }
                _ => {
                    return Err(StorageError::Corrupt(format!(
                        "member {user_id}: a BankAccountSet event does not read as one"
                    )));
                }
            }
        }
    }
    Ok(accounts)
}

/// The rows of `bills` drawn on `day`, each with its customer number, in the order of
/// `bills`. A bill exported for the day before keeps its row as it was: its number and the
/// amount asked then (the bank may hold that request already; whatever it draws is applied
/// as money received). A new one gets the next number. Two exports at once make one row
/// per bill.
pub async fn number_debits(
    db: &DatabaseConnection,
    day: NaiveDate,
    bills: &[DrawnBill],
) -> Result<Vec<DebitRow>, StorageError> {
    let mut rows = rows_of(db, day, bills).await?;
    let now = Utc::now();
    for bill in bills.iter().filter(|b| !rows.contains_key(&b.bill_id)) {
        let row = bank_debit_rows::ActiveModel {
            debit_date: Set(day),
            user_id: Set(bill.user_id.clone()),
            bill_id: Set(bill.bill_id.clone()),
            amount: Set(bill.left),
            file_digest: Set(String::new()),
            exported_at: Set(now),
            ..Default::default()
        };
        let key = [
            bank_debit_rows::Column::DebitDate,
            bank_debit_rows::Column::BillId,
        ];
        bank_debit_rows::Entity::insert(row)
            .on_conflict(
                OnConflict::columns(key)
                    .do_nothing_on([bank_debit_rows::Column::BillId])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    if rows.len() < bills.len() {
        rows = rows_of(db, day, bills).await?;
    }
    bills
        .iter()
        .map(|b| {
            rows.remove(&b.bill_id).ok_or_else(|| {
                StorageError::Corrupt(format!("bank debit of bill {} vanished", b.bill_id))
            })
        })
        .collect()
}

/// The rows of `bills` drawn on `day` that exist, by bill id.
async fn rows_of(
    db: &DatabaseConnection,
    day: NaiveDate,
    bills: &[DrawnBill],
) -> Result<BTreeMap<String, DebitRow>, StorageError> {
    let mut rows = BTreeMap::new();
    for chunk in bills.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|b| b.bill_id.clone()).collect();
        let found = bank_debit_rows::Entity::find()
            .filter(bank_debit_rows::Column::DebitDate.eq(day))
            .filter(bank_debit_rows::Column::BillId.is_in(ids))
            .all(db)
            .await?;
        rows.extend(found.into_iter().map(|r| (r.bill_id.clone(), r)));
    }
    Ok(rows)
}

/// Notes that the rows `numbers` went out in the file of `digest`.
pub async fn mark_exported(
    db: &DatabaseConnection,
    numbers: &[i64],
    digest: &str,
) -> Result<(), StorageError> {
    for chunk in numbers.chunks(500) {
        bank_debit_rows::Entity::update_many()
            .col_expr(
                bank_debit_rows::Column::FileDigest,
                sea_orm::sea_query::Expr::value(digest),
            )
            .filter(bank_debit_rows::Column::CustomerNumber.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The rows of `numbers` that exist, by customer number.
pub async fn debits_numbered(
    db: &DatabaseConnection,
    numbers: &[i64],
) -> Result<BTreeMap<i64, DebitRow>, StorageError> {
    let mut rows = BTreeMap::new();
    for chunk in numbers.chunks(500) {
        let found = bank_debit_rows::Entity::find()
            .filter(bank_debit_rows::Column::CustomerNumber.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        rows.extend(found.into_iter().map(|r| (r.customer_number, r)));
    }
    Ok(rows)
}

/// Keeps the result `code` a result file gave the debit `number`; a debit that has one
/// keeps its first.
pub async fn record_result(
    db: &DatabaseConnection,
    number: i64,
    code: char,
) -> Result<(), StorageError> {
    bank_debit_rows::Entity::update_many()
        .col_expr(
            bank_debit_rows::Column::ResultCode,
            sea_orm::sea_query::Expr::value(code.to_string()),
        )
        .col_expr(
            bank_debit_rows::Column::ImportedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(bank_debit_rows::Column::CustomerNumber.eq(number))
        .filter(bank_debit_rows::Column::ResultCode.is_null())
        .exec(db)
        .await?;
    Ok(())
}
