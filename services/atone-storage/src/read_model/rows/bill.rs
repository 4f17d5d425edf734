//! A bill's row: `member_bills` ↔ [`BillRow`].

use atone_projection::{BillKind, BillRow, BillStatus};
use sea_orm::ActiveValue::Set;

use super::{corrupt, method_name, method_of};
use crate::StorageError;
use crate::entity::member_bills;

pub(crate) fn bill_row(m: member_bills::Model) -> Result<BillRow, StorageError> {
    let promise_ids: Vec<String> = serde_json::from_value(m.promise_ids.clone())
        .map_err(|e| StorageError::Corrupt(format!("bill {}: promise_ids: {e}", m.id)))?;
    let status =
        BillStatus::parse(&m.status).ok_or_else(|| corrupt("bill", &m.id, "status", &m.status))?;
    let kind = BillKind::parse(&m.kind).ok_or_else(|| corrupt("bill", &m.id, "kind", &m.kind))?;
    let payment_method = match &m.payment_method {
        None => None,
        Some(value) => {
            Some(method_of(value).ok_or_else(|| corrupt("bill", &m.id, "payment_method", value))?)
        }
    };
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
        paid_amount: m.paid_amount,
        status,
        payment_method,
        debit_failure: m.debit_failure,
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
        paid_amount: Set(row.paid_amount),
        overdue_since: Set(row.overdue_since),
        reminders_sent: Set(row.reminders_sent),
        payment_method: Set(row.payment_method.map(|m| method_name(m).to_owned())),
        debit_failure: Set(row.debit_failure.clone()),
    }
}

#[cfg(test)]
mod tests {
    use atone_domain::PaymentMethod;
    use chrono::NaiveDate;
    use sea_orm::{ActiveModelTrait, EntityTrait};

    use super::*;

    fn date(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 12, d)
    }

    /// Every column written and read back: a field the mapping forgot comes back changed.
    #[tokio::test]
    async fn a_bill_row_comes_back_from_the_database_as_it_went_in() {
        let db = super::super::test_db::sqlite().await;
        let row = BillRow {
            id: "bill-1".into(),
            user_id: "member-1".into(),
            kind: BillKind::Monthly,
            period: Some("2026-11".into()),
            promise_ids: vec!["promise-1".into(), "promise-2".into()],
            amount: 10_209,
            items_total: 10_000,
            fee: 209,
            balance_applied: 300,
            paid_amount: 1_000,
            status: BillStatus::Overdue,
            payment_method: Some(PaymentMethod::BankDebit),
            debit_failure: Some("insufficient funds".into()),
            issued_date: date(1).expect("a date"),
            due_date: date(27).expect("a date"),
            paid_date: date(28),
            overdue_since: date(28),
            reminders_sent: 2,
            created_version: 4,
            updated_version: 11,
        };
        bill_model(&row).insert(&db.conn).await.expect("insert");
        let stored = member_bills::Entity::find_by_id("bill-1")
            .one(&db.conn)
            .await
            .expect("read")
            .expect("the row");
        assert_eq!(bill_row(stored).expect("a bill row"), row);
    }
}
