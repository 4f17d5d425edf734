//! A payment promise's row: `payment_promises` ↔ [`PromiseRow`].

use atone_domain::PaymentMode;
use atone_projection::{PromiseRow, PromiseStatus};
use sea_orm::ActiveValue::Set;

use super::{corrupt, mode_name};
use crate::StorageError;
use crate::entity::payment_promises;

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

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use sea_orm::{ActiveModelTrait, EntityTrait};

    use super::*;

    /// Every column written and read back: a field the mapping forgot comes back changed.
    #[tokio::test]
    async fn a_promise_row_comes_back_from_the_database_as_it_went_in() {
        let db = super::super::test_db::sqlite().await;
        let row = PromiseRow {
            id: "promise-1".into(),
            order_id: "order-1".into(),
            user_id: "member-1".into(),
            product_id: "product-1".into(),
            product_name: "a product".into(),
            amount: 5_000,
            cancelled_amount: 1_200,
            due_date: NaiveDate::from_ymd_opt(2026, 12, 27).expect("a date"),
            payment_mode: PaymentMode::Monthly,
            status: PromiseStatus::Billed,
            bill_id: Some("bill-1".into()),
            purchased_at: Utc
                .with_ymd_and_hms(2026, 11, 30, 23, 59, 58)
                .single()
                .expect("a time"),
            created_version: 3,
            updated_version: 9,
        };
        promise_model(&row).insert(&db.conn).await.expect("insert");
        let stored = payment_promises::Entity::find_by_id("promise-1")
            .one(&db.conn)
            .await
            .expect("read")
            .expect("the row");
        assert_eq!(promise_row(stored).expect("a promise row"), row);
    }
}
