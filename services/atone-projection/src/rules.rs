//! What each event does to the read models: one function per event, from the rows in hand
//! to the change.

use atone_domain::{
    AdjustmentReason, BankDebitFailed, BillAdjusted, BillOverdue, Envelope, Event,
    MemberBillIssued, MonthlyBillIssued, PaymentMethod, PaymentMode, PaymentPromiseCreated,
    PurchaseCancelled, business_date, monthly_bill_due_date, period_of_monthly_due_date,
};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    BillKind, BillRow, BillStatus, Change, MemberRows, ProjectionError, PromiseRow, PromiseStatus,
};

/// Fills `change` (the member row at the new version, nothing else yet) with what the
/// envelope's event does.
pub(crate) fn apply(
    change: &mut Change,
    rows: &MemberRows,
    envelope: &Envelope,
) -> Result<(), ProjectionError> {
    let member = &mut change.member;
    match envelope.event() {
        Event::PurchaseCompleted(e) => member.credit_limit = e.credit_limit,
        Event::CreditLimitChanged(e) => member.credit_limit = e.limit,
        Event::PaymentMethodChanged(e) => {
            member.payment_method = e.method;
            change.promises = due_with_method(rows, e.method, change.version);
        }
        Event::RefundIssued(e) => {
            member.credit_balance -= e.from_credit;
            member.unapplied_balance -= e.from_unapplied;
        }
        Event::PaymentPromiseCreated(e) => promise_created(change, envelope, e),
        Event::MemberBillIssued(e) => immediate_bill_issued(change, rows, e),
        Event::MonthlyBillIssued(e) => monthly_bill_issued(change, rows, e),
        Event::PaymentCompleted(e) => {
            let bill = bill(rows, e.bill_id)?;
            money_applied(change, rows, bill, e.amount, e.paid_date);
        }
        Event::PaymentReceived(e) => {
            member.unapplied_balance += e.kept();
            let paid_date = business_date(e.received_at);
            for application in e.paid_bills() {
                // An earlier application of the same event may have changed the bill.
                let bill = match change
                    .bills
                    .iter()
                    .find(|b| b.id == application.bill_id.to_string())
                {
                    Some(row) => row.clone(),
                    None => bill(rows, application.bill_id)?,
                };
                money_applied(change, rows, bill, application.amount, paid_date);
            }
        }
        Event::PurchaseCancelled(e) => purchase_cancelled(change, rows, e),
        Event::BillAdjusted(e) => bill_adjusted(change, rows, e)?,
        Event::BillOverdue(e) => bill_overdue(change, rows, e)?,
        Event::ReminderIssued(e) => {
            let mut bill = bill(rows, e.bill_id)?;
            bill.reminders_sent += 1;
            change.bills.push(updated(bill, change.version));
        }
        Event::BankAccountSet(e) => member.bank_account = Some(Box::new(e.account.masked())),
        Event::BankDebitFailed(e) => bank_debit_failed(change, rows, e)?,
    }
    Ok(())
}

/// The bill is a convenience-store bill from now on: the fee added, due again on a new
/// date, and not overdue (nor reminded) until then.
fn bank_debit_failed(
    change: &mut Change,
    rows: &MemberRows,
    e: &BankDebitFailed,
) -> Result<(), ProjectionError> {
    let bill = bill(rows, e.bill_id)?;
    if !bill.status.is_open() {
        return Ok(());
    }
    let status = if bill.status == BillStatus::Overdue {
        change.member.overdue_bills -= 1;
        BillStatus::Unpaid
    } else {
        bill.status
    };
    change.bills.push(BillRow {
        payment_method: Some(PaymentMethod::ConvenienceStore),
        debit_failure: Some(format!("{}: {}", e.code, e.reason)),
        fee: bill.fee + e.fee,
        amount: e.amount,
        due_date: e.due_date,
        status,
        overdue_since: None,
        reminders_sent: 0,
        ..updated(bill, change.version)
    });
    Ok(())
}

fn promise_created(change: &mut Change, envelope: &Envelope, e: &PaymentPromiseCreated) {
    change.member.outstanding_amount += e.amount;
    change.promises.push(PromiseRow {
        id: e.promise_id.to_string(),
        order_id: e.order_id.to_string(),
        user_id: envelope.user_id.clone(),
        product_id: e.product_id.clone(),
        product_name: e.product_name.clone(),
        amount: e.amount,
        cancelled_amount: 0,
        due_date: e.due_date,
        payment_mode: e.payment_mode,
        status: PromiseStatus::Unbilled,
        bill_id: None,
        purchased_at: envelope.occurred_at,
        created_version: change.version,
        updated_version: change.version,
    });
}

fn immediate_bill_issued(change: &mut Change, rows: &MemberRows, e: &MemberBillIssued) {
    let bill = new_bill(change, BillKind::Immediate, e.bill_id, &e.promise_ids);
    change.bills.push(BillRow {
        amount: e.amount,
        items_total: e.amount,
        issued_date: e.issued_date,
        due_date: e.due_date,
        ..bill
    });
    // A すぐ払い promise keeps its own due date (30 days from the purchase).
    change.promises = on_bill(
        rows,
        &e.promise_ids,
        (e.bill_id, None),
        PromiseStatus::Billed,
        change,
    );
}

fn monthly_bill_issued(change: &mut Change, rows: &MemberRows, e: &MonthlyBillIssued) {
    let member = &mut change.member;
    member.credit_balance -= e.credit_applied;
    member.unapplied_balance -= e.unapplied_applied;
    // A bill the member's balances cover whole is paid as it is issued.
    let paid_at_issue = e.amount == 0;
    if paid_at_issue {
        member.outstanding_amount -= e.items_total;
    }
    let bill = new_bill(change, BillKind::Monthly, e.bill_id, &e.promise_ids);
    change.bills.push(BillRow {
        period: Some(e.period.to_string()),
        amount: e.amount,
        items_total: e.items_total,
        fee: e.fee,
        balance_applied: e.credit_applied + e.unapplied_applied,
        payment_method: Some(e.method),
        status: if paid_at_issue {
            BillStatus::Paid
        } else {
            BillStatus::Unpaid
        },
        issued_date: e.issued_date,
        due_date: e.due_date,
        paid_date: paid_at_issue.then_some(e.issued_date),
        ..bill
    });
    let status = if paid_at_issue {
        PromiseStatus::Paid
    } else {
        PromiseStatus::Billed
    };
    // A 月まとめ払い promise is due with its month's bill.
    let due = Some(e.due_date);
    change.promises = on_bill(rows, &e.promise_ids, (e.bill_id, due), status, change);
}

/// A bill of `kind` with no amounts yet, issued at this change's version.
fn new_bill(change: &Change, kind: BillKind, bill_id: Uuid, promise_ids: &[Uuid]) -> BillRow {
    BillRow {
        id: bill_id.to_string(),
        user_id: change.member.user_id.clone(),
        kind,
        period: None,
        promise_ids: promise_ids.iter().map(ToString::to_string).collect(),
        amount: 0,
        items_total: 0,
        fee: 0,
        balance_applied: 0,
        paid_amount: 0,
        status: BillStatus::Unpaid,
        payment_method: None,
        debit_failure: None,
        issued_date: NaiveDate::MIN,
        due_date: NaiveDate::MIN,
        paid_date: None,
        overdue_since: None,
        reminders_sent: 0,
        created_version: change.version,
        updated_version: change.version,
    }
}

/// The promises `ids` the member has, now on `bill_id` with `status`. A promise the read
/// model lacks is left out, as a foreign bill would be.
fn on_bill(
    rows: &MemberRows,
    ids: &[Uuid],
    (bill_id, due_date): (Uuid, Option<NaiveDate>),
    status: PromiseStatus,
    change: &Change,
) -> Vec<PromiseRow> {
    ids.iter()
        .filter_map(|id| rows.promises.get(&id.to_string()))
        .map(|p| PromiseRow {
            status,
            bill_id: Some(bill_id.to_string()),
            due_date: due_date.unwrap_or(p.due_date),
            updated_version: change.version,
            ..p.clone()
        })
        .collect()
}

/// The member's unbilled 月まとめ払い promises, due when their month's bill will be by
/// `method`: a promise is due with its month's bill.
fn due_with_method(rows: &MemberRows, method: PaymentMethod, version: i64) -> Vec<PromiseRow> {
    rows.promises
        .values()
        .filter(|p| p.status == PromiseStatus::Unbilled && p.payment_mode == PaymentMode::Monthly)
        .filter_map(|p| {
            let due_date = monthly_bill_due_date(period_of_monthly_due_date(p.due_date), method);
            (due_date != p.due_date).then(|| PromiseRow {
                due_date,
                updated_version: version,
                ..p.clone()
            })
        })
        .collect()
}

fn bill(rows: &MemberRows, bill_id: Uuid) -> Result<BillRow, ProjectionError> {
    rows.bills
        .get(&bill_id.to_string())
        .cloned()
        .ok_or_else(|| ProjectionError::UnknownBill {
            user_id: rows.member.user_id.clone(),
            bill_id: bill_id.to_string(),
        })
}

fn updated(row: BillRow, version: i64) -> BillRow {
    BillRow {
        updated_version: version,
        ..row
    }
}

/// `amount` yen of money received applied to `bill`: paid once nothing is left on it.
fn money_applied(
    change: &mut Change,
    rows: &MemberRows,
    bill: BillRow,
    amount: i64,
    paid_date: NaiveDate,
) {
    if !bill.status.is_open() {
        return;
    }
    let bill = BillRow {
        paid_amount: bill.paid_amount + amount,
        ..bill
    };
    if bill.amount - bill.paid_amount <= 0 {
        paid(change, rows, bill, paid_date);
    } else {
        put_bill(change, updated(bill, change.version));
    }
}

/// The bill is paid: it and its promises, and the credit its items used is free again.
fn paid(change: &mut Change, rows: &MemberRows, bill: BillRow, paid_date: NaiveDate) {
    change.member.outstanding_amount -= bill.items_total;
    if bill.status == BillStatus::Overdue {
        change.member.overdue_bills -= 1;
    }
    let id = bill.id.clone();
    put_bill(
        change,
        BillRow {
            status: BillStatus::Paid,
            paid_date: Some(paid_date),
            ..updated(bill, change.version)
        },
    );
    let promises: Vec<PromiseRow> = rows
        .promises
        .values()
        .filter(|p| p.bill_id.as_deref() == Some(id.as_str()) && p.amount > 0)
        .map(|p| PromiseRow {
            status: PromiseStatus::Paid,
            updated_version: change.version,
            ..p.clone()
        })
        .collect();
    change.promises.extend(promises);
}

/// Puts `row` in the change, in place of the bill's earlier row in it if there is one.
fn put_bill(change: &mut Change, row: BillRow) {
    match change.bills.iter_mut().find(|b| b.id == row.id) {
        Some(earlier) => *earlier = row,
        None => change.bills.push(row),
    }
}

fn purchase_cancelled(change: &mut Change, rows: &MemberRows, e: &PurchaseCancelled) {
    change.member.outstanding_amount -= e.amount - e.credited;
    change.member.credit_balance += e.credited;
    if let Some(p) = rows.promises.get(&e.promise_id.to_string()) {
        change.promises.push(PromiseRow {
            amount: e.remaining_amount,
            cancelled_amount: p.cancelled_amount + e.amount,
            status: if e.remaining_amount == 0 {
                PromiseStatus::Cancelled
            } else {
                p.status
            },
            updated_version: change.version,
            ..p.clone()
        });
    }
}

fn bill_adjusted(
    change: &mut Change,
    rows: &MemberRows,
    e: &BillAdjusted,
) -> Result<(), ProjectionError> {
    let bill = bill(rows, e.bill_id)?;
    change.member.credit_balance += e.credited;
    // What was applied to the bill and no longer is, balances first, was credited.
    let balance_applied = bill.balance_applied.min(e.items_total + e.fee);
    let paid_amount = bill.paid_amount.min(e.amount);
    if !e.cancelled && e.amount - paid_amount <= 0 {
        // What is left on it was paid already, or its balances cover it whole.
        let bill = BillRow {
            items_total: e.items_total,
            fee: e.fee,
            amount: e.amount,
            balance_applied,
            paid_amount,
            ..bill
        };
        paid(change, rows, bill, business_date(change.occurred_at));
        return Ok(());
    }
    let status = match (e.cancelled, bill.status, e.reason) {
        (true, BillStatus::Overdue, _) => {
            change.member.overdue_bills -= 1;
            BillStatus::Cancelled
        }
        (true, _, _) => BillStatus::Cancelled,
        (false, BillStatus::Overdue, _) => BillStatus::Overdue,
        (false, status, AdjustmentReason::ReissueFee) => status,
        (false, _, AdjustmentReason::Cancellation) => BillStatus::Adjusted,
    };
    change.bills.push(BillRow {
        items_total: e.items_total,
        fee: e.fee,
        amount: e.amount,
        balance_applied,
        paid_amount,
        status,
        ..updated(bill, change.version)
    });
    Ok(())
}

fn bill_overdue(
    change: &mut Change,
    rows: &MemberRows,
    e: &BillOverdue,
) -> Result<(), ProjectionError> {
    let bill = bill(rows, e.bill_id)?;
    if bill.status.is_open() {
        change.member.overdue_bills += 1;
        change.bills.push(BillRow {
            status: BillStatus::Overdue,
            overdue_since: Some(e.since),
            ..updated(bill, change.version)
        });
    }
    Ok(())
}
