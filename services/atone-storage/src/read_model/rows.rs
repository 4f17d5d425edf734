//! The read models' rows as the projection's rows, and back.

use atone_domain::{PaymentMethod, PaymentMode};
use atone_projection::{BillKind, BillRow, BillStatus, MemberRow, PromiseRow, PromiseStatus};
use sea_orm::ActiveValue::Set;

use crate::StorageError;
use crate::entity::{member_bills, members, payment_promises};

/// The value of `payment_promises.payment_mode`.
pub(crate) fn mode_name(mode: PaymentMode) -> &'static str {
    match mode {
        PaymentMode::Immediate => "immediate",
        PaymentMode::Monthly => "monthly",
    }
}

/// The value of `members.payment_method` and `member_bills.payment_method`.
pub(crate) fn method_name(method: PaymentMethod) -> &'static str {
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
    let bank_account = match &m.bank_account {
        None => None,
        Some(json) => Some(serde_json::from_str(json).map_err(|e| {
            StorageError::Corrupt(format!("member {}: bank_account: {e}", m.user_id))
        })?),
    };
    Ok(MemberRow {
        user_id: m.user_id,
        credit_limit: m.credit_limit,
        outstanding_amount: m.outstanding_amount,
        version: m.version,
        payment_method,
        credit_balance: m.credit_balance,
        unapplied_balance: m.unapplied_balance,
        overdue_bills: m.overdue_bills,
        bank_account,
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
        bank_account: Set(row
            .bank_account
            .as_ref()
            .map(|a| serde_json::json!(a.masked()).to_string())),
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
