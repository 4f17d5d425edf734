//! The read models' rows as the API's messages.

use atone_api::convert::timestamp;
use atone_api::v1;
use atone_projection::{BillRow, Change, MemberRow, PromiseRow};
use atone_storage::MemberView;

/// The summary of `row`, with `default_credit_limit` as the limit while the member has none
/// of its own (before a first purchase).
pub fn summary(row: &MemberRow, default_credit_limit: i64) -> v1::MemberSummary {
    v1::MemberSummary {
        user_id: row.user_id.clone(),
        credit_limit: row.credit_limit_or(default_credit_limit),
        outstanding_amount: row.outstanding_amount,
        available_credit: row.available_credit(default_credit_limit),
        version: row.version,
        payment_method: v1::PaymentMethod::from(row.payment_method) as i32,
        credit_balance: row.credit_balance,
        unapplied_balance: row.unapplied_balance,
        overdue_bills: row.overdue_bills,
        bank_account: row
            .bank_account
            .as_ref()
            .map(|a| atone_api::convert::bank_account(&a.masked())),
    }
}

pub fn promise(row: &PromiseRow) -> v1::PaymentPromise {
    v1::PaymentPromise {
        promise_id: row.id.clone(),
        order_id: row.order_id.clone(),
        user_id: row.user_id.clone(),
        product_id: row.product_id.clone(),
        product_name: row.product_name.clone(),
        amount: row.amount,
        payment_mode: v1::PaymentMode::from(row.payment_mode) as i32,
        due_date: row.due_date.to_string(),
        status: v1::PromiseStatus::from(row.status) as i32,
        bill_id: row.bill_id.clone().unwrap_or_default(),
        purchased_at: Some(timestamp(row.purchased_at)),
        created_version: row.created_version,
        cancelled_amount: row.cancelled_amount,
    }
}

pub fn bill(row: &BillRow) -> v1::MemberBill {
    v1::MemberBill {
        bill_id: row.id.clone(),
        user_id: row.user_id.clone(),
        promise_ids: row.promise_ids.clone(),
        amount: row.amount,
        status: v1::BillStatus::from(row.status) as i32,
        issued_date: row.issued_date.to_string(),
        due_date: row.due_date.to_string(),
        paid_date: date_or_empty(row.paid_date),
        created_version: row.created_version,
        kind: v1::BillKind::from(row.kind) as i32,
        period: row.period.clone().unwrap_or_default(),
        items_total: row.items_total,
        fee: row.fee,
        balance_applied: row.balance_applied,
        overdue_since: date_or_empty(row.overdue_since),
        reminders_sent: row.reminders_sent,
        paid_amount: row.paid_amount,
        left_to_pay: if row.status.is_open() {
            row.amount - row.paid_amount
        } else {
            0
        },
        payment_method: row
            .payment_method
            .map_or(v1::PaymentMethod::Unspecified, v1::PaymentMethod::from)
            as i32,
        debit_failure: row.debit_failure.clone().unwrap_or_default(),
    }
}

fn date_or_empty(date: Option<chrono::NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// A member the read models do not know yet is shown empty at version 0; either way the
/// limit is `default_credit_limit` until the member has one of its own.
pub fn member(view: &MemberView, user_id: &str, default_credit_limit: i64) -> v1::Member {
    let summary = match &view.member {
        Some(row) => summary(row, default_credit_limit),
        None => summary(&MemberRow::new(user_id), default_credit_limit),
    };
    v1::Member {
        summary: Some(summary),
        promises: view.promises.iter().map(promise).collect(),
        bills: view.bills.iter().map(bill).collect(),
        settled_truncated: view.settled_truncated,
    }
}

pub fn change(change: &Change, default_credit_limit: i64) -> v1::MemberChange {
    v1::MemberChange {
        version: change.version,
        event_type: change.event_type.clone(),
        occurred_at: Some(timestamp(change.occurred_at)),
        summary: Some(summary(&change.member, default_credit_limit)),
        promises: change.promises.iter().map(promise).collect(),
        bills: change.bills.iter().map(bill).collect(),
    }
}
