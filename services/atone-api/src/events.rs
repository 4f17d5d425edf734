//! Each domain event as the protobuf payload of an `EventEnvelope`, and back.

use atone_domain::{
    Application, BankAccountSet, BankDebitFailed, BillAdjusted, BillOverdue, CreditLimitChanged,
    Event, MemberBillIssued, MonthlyBillIssued, PaymentCompleted, PaymentMethodChanged,
    PaymentPromiseCreated, PaymentReceived, PurchaseCancelled, PurchaseCompleted, RefundIssued,
    ReminderIssued,
};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::convert::{
    account_of, adjustment_reason, application, bank_account, datetime, payment_method,
    payment_mode, timestamp,
};
use crate::envelope::DecodeError;
use crate::v1::{self, event_envelope::Payload};

fn ids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

impl From<&Event> for Payload {
    fn from(event: &Event) -> Self {
        match event {
            Event::PurchaseCompleted(e) => Self::PurchaseCompleted(v1::PurchaseCompleted {
                order_id: e.order_id.to_string(),
                product_id: e.product_id.clone(),
                product_name: e.product_name.clone(),
                amount: e.amount,
                payment_mode: v1::PaymentMode::from(e.payment_mode) as i32,
                credit_limit: e.credit_limit,
            }),
            Event::PaymentPromiseCreated(e) => {
                Self::PaymentPromiseCreated(v1::PaymentPromiseCreated {
                    promise_id: e.promise_id.to_string(),
                    order_id: e.order_id.to_string(),
                    product_id: e.product_id.clone(),
                    product_name: e.product_name.clone(),
                    amount: e.amount,
                    payment_mode: v1::PaymentMode::from(e.payment_mode) as i32,
                    due_date: e.due_date.to_string(),
                })
            }
            Event::MemberBillIssued(e) => Self::MemberBillIssued(v1::MemberBillIssued {
                bill_id: e.bill_id.to_string(),
                promise_ids: ids(&e.promise_ids),
                amount: e.amount,
                issued_date: e.issued_date.to_string(),
                due_date: e.due_date.to_string(),
            }),
            Event::PaymentCompleted(e) => Self::PaymentCompleted(v1::PaymentCompleted {
                bill_id: e.bill_id.to_string(),
                amount: e.amount,
                paid_date: e.paid_date.to_string(),
            }),
            Event::PaymentMethodChanged(e) => {
                Self::PaymentMethodChanged(v1::PaymentMethodChanged {
                    method: v1::PaymentMethod::from(e.method) as i32,
                })
            }
            Event::MonthlyBillIssued(e) => Self::MonthlyBillIssued(e.into()),
            Event::PurchaseCancelled(e) => Self::PurchaseCancelled(v1::PurchaseCancelled {
                order_id: e.order_id.to_string(),
                promise_id: e.promise_id.to_string(),
                amount: e.amount,
                remaining_amount: e.remaining_amount,
                credited: e.credited,
            }),
            Event::BillAdjusted(e) => Self::BillAdjusted(v1::BillAdjusted {
                bill_id: e.bill_id.to_string(),
                reason: v1::AdjustmentReason::from(e.reason) as i32,
                items_total: e.items_total,
                fee: e.fee,
                amount: e.amount,
                cancelled: e.cancelled,
                credited: e.credited,
            }),
            Event::PaymentReceived(e) => Self::PaymentReceived(e.into()),
            Event::RefundIssued(e) => Self::RefundIssued(v1::RefundIssued {
                refund_id: e.refund_id.to_string(),
                amount: e.amount,
                from_credit: e.from_credit,
                from_unapplied: e.from_unapplied,
            }),
            Event::BillOverdue(e) => Self::BillOverdue(v1::BillOverdue {
                bill_id: e.bill_id.to_string(),
                since: e.since.to_string(),
            }),
            Event::ReminderIssued(e) => Self::ReminderIssued(v1::ReminderIssued {
                bill_id: e.bill_id.to_string(),
                days_overdue: e.days_overdue,
                date: e.date.to_string(),
            }),
            Event::CreditLimitChanged(e) => {
                Self::CreditLimitChanged(v1::CreditLimitChanged { limit: e.limit })
            }
            Event::BankAccountSet(e) => Self::BankAccountSet(v1::BankAccountSet {
                account: Some(bank_account(&e.account)),
            }),
            Event::BankDebitFailed(e) => Self::BankDebitFailed(v1::BankDebitFailed {
                bill_id: e.bill_id.to_string(),
                code: i32::from(e.code),
                reason: e.reason.clone(),
                fee: e.fee,
                amount: e.amount,
                due_date: e.due_date.to_string(),
            }),
        }
    }
}

impl From<&MonthlyBillIssued> for v1::MonthlyBillIssued {
    fn from(e: &MonthlyBillIssued) -> Self {
        Self {
            bill_id: e.bill_id.to_string(),
            period: e.period.to_string(),
            promise_ids: ids(&e.promise_ids),
            items_total: e.items_total,
            fee: e.fee,
            credit_applied: e.credit_applied,
            unapplied_applied: e.unapplied_applied,
            amount: e.amount,
            method: v1::PaymentMethod::from(e.method) as i32,
            issued_date: e.issued_date.to_string(),
            due_date: e.due_date.to_string(),
        }
    }
}

impl From<&PaymentReceived> for v1::PaymentReceived {
    fn from(e: &PaymentReceived) -> Self {
        Self {
            transaction_id: e.transaction_id.clone(),
            bill_id: e.bill_id.map(|id| id.to_string()).unwrap_or_default(),
            amount: e.amount,
            received_at: Some(timestamp(e.received_at)),
            applied: e.applied,
            applications: e.applications.iter().map(application).collect(),
        }
    }
}

impl TryFrom<Payload> for Event {
    type Error = DecodeError;

    fn try_from(payload: Payload) -> Result<Self, DecodeError> {
        Ok(match payload {
            Payload::PurchaseCompleted(e) => Self::PurchaseCompleted(PurchaseCompleted {
                order_id: uuid("order_id", &e.order_id)?,
                product_id: e.product_id,
                product_name: e.product_name,
                amount: e.amount,
                payment_mode: payment_mode(e.payment_mode)?,
                credit_limit: e.credit_limit,
            }),
            Payload::PaymentPromiseCreated(e) => {
                Self::PaymentPromiseCreated(PaymentPromiseCreated {
                    promise_id: uuid("promise_id", &e.promise_id)?,
                    order_id: uuid("order_id", &e.order_id)?,
                    product_id: e.product_id,
                    product_name: e.product_name,
                    amount: e.amount,
                    payment_mode: payment_mode(e.payment_mode)?,
                    due_date: date("due_date", &e.due_date)?,
                })
            }
            Payload::MemberBillIssued(e) => Self::MemberBillIssued(MemberBillIssued {
                bill_id: uuid("bill_id", &e.bill_id)?,
                promise_ids: uuids("promise_ids", &e.promise_ids)?,
                amount: e.amount,
                issued_date: date("issued_date", &e.issued_date)?,
                due_date: date("due_date", &e.due_date)?,
            }),
            Payload::PaymentCompleted(e) => Self::PaymentCompleted(PaymentCompleted {
                bill_id: uuid("bill_id", &e.bill_id)?,
                amount: e.amount,
                paid_date: date("paid_date", &e.paid_date)?,
            }),
            Payload::PaymentMethodChanged(e) => Self::PaymentMethodChanged(PaymentMethodChanged {
                method: payment_method(e.method)?,
            }),
            Payload::MonthlyBillIssued(e) => Self::MonthlyBillIssued(monthly_bill(e)?),
            Payload::PurchaseCancelled(e) => Self::PurchaseCancelled(PurchaseCancelled {
                order_id: uuid("order_id", &e.order_id)?,
                promise_id: uuid("promise_id", &e.promise_id)?,
                amount: e.amount,
                remaining_amount: e.remaining_amount,
                credited: e.credited,
            }),
            Payload::BillAdjusted(e) => Self::BillAdjusted(BillAdjusted {
                bill_id: uuid("bill_id", &e.bill_id)?,
                reason: adjustment_reason(e.reason)
                    .ok_or(DecodeError::UnknownEnum(e.reason, "AdjustmentReason"))?,
                items_total: e.items_total,
                fee: e.fee,
                amount: e.amount,
                cancelled: e.cancelled,
                credited: e.credited,
            }),
            Payload::PaymentReceived(e) => Self::PaymentReceived(payment_received(e)?),
            Payload::RefundIssued(e) => Self::RefundIssued(RefundIssued {
                refund_id: uuid("refund_id", &e.refund_id)?,
                amount: e.amount,
                from_credit: e.from_credit,
                from_unapplied: e.from_unapplied,
            }),
            Payload::BillOverdue(e) => Self::BillOverdue(BillOverdue {
                bill_id: uuid("bill_id", &e.bill_id)?,
                since: date("since", &e.since)?,
            }),
            Payload::ReminderIssued(e) => Self::ReminderIssued(ReminderIssued {
                bill_id: uuid("bill_id", &e.bill_id)?,
                days_overdue: e.days_overdue,
                date: date("date", &e.date)?,
            }),
            Payload::CreditLimitChanged(e) => {
                Self::CreditLimitChanged(CreditLimitChanged { limit: e.limit })
            }
            Payload::BankAccountSet(e) => Self::BankAccountSet(BankAccountSet {
                account: e
                    .account
                    .as_ref()
                    .and_then(account_of)
                    .ok_or(DecodeError::Missing("a bank account of a known kind"))?,
            }),
            Payload::BankDebitFailed(e) => Self::BankDebitFailed(BankDebitFailed {
                bill_id: uuid("bill_id", &e.bill_id)?,
                code: u8::try_from(e.code).map_err(|_| DecodeError::Malformed {
                    field: "code",
                    value: e.code.to_string(),
                    expected: "result code (1-9)",
                })?,
                reason: e.reason,
                fee: e.fee,
                amount: e.amount,
                due_date: date("due_date", &e.due_date)?,
            }),
        })
    }
}

fn monthly_bill(e: v1::MonthlyBillIssued) -> Result<MonthlyBillIssued, DecodeError> {
    Ok(MonthlyBillIssued {
        bill_id: uuid("bill_id", &e.bill_id)?,
        period: e.period.parse().map_err(|_| DecodeError::Malformed {
            field: "period",
            value: e.period.clone(),
            expected: "month (YYYY-MM)",
        })?,
        promise_ids: uuids("promise_ids", &e.promise_ids)?,
        items_total: e.items_total,
        fee: e.fee,
        credit_applied: e.credit_applied,
        unapplied_applied: e.unapplied_applied,
        amount: e.amount,
        method: payment_method(e.method)?,
        issued_date: date("issued_date", &e.issued_date)?,
        due_date: date("due_date", &e.due_date)?,
    })
}

fn payment_received(e: v1::PaymentReceived) -> Result<PaymentReceived, DecodeError> {
    let bill_id = match e.bill_id.as_str() {
        "" => None,
        id => Some(uuid("bill_id", id)?),
    };
    Ok(PaymentReceived {
        transaction_id: e.transaction_id,
        bill_id,
        amount: e.amount,
        received_at: e
            .received_at
            .and_then(datetime)
            .ok_or(DecodeError::Missing("a valid received_at"))?,
        applied: e.applied,
        applications: e
            .applications
            .iter()
            .map(|a| {
                Ok(Application {
                    bill_id: uuid("applications.bill_id", &a.bill_id)?,
                    amount: a.amount,
                    left: a.left,
                })
            })
            .collect::<Result<_, DecodeError>>()?,
    })
}

pub(crate) fn uuid(field: &'static str, value: &str) -> Result<Uuid, DecodeError> {
    Uuid::try_parse(value).map_err(|_| DecodeError::Malformed {
        field,
        value: value.to_owned(),
        expected: "UUID",
    })
}

fn uuids(field: &'static str, values: &[String]) -> Result<Vec<Uuid>, DecodeError> {
    values.iter().map(|id| uuid(field, id)).collect()
}

fn date(field: &'static str, value: &str) -> Result<NaiveDate, DecodeError> {
    value.parse().map_err(|_| DecodeError::Malformed {
        field,
        value: value.to_owned(),
        expected: "date",
    })
}
