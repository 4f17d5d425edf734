//! One event in, the changed rows out.

use atone_domain::{
    Envelope, Event, MemberBillIssued, PaymentCompleted, PaymentPromiseCreated, PurchaseCompleted,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{BillRow, BillStatus, MemberRow, MemberRows, PromiseRow, PromiseStatus};

/// What one event did to a member's read models: the member row and each promise and bill
/// the event created or changed, as they are after it. Storage writes it to the tables and,
/// as it is, to the change feed; watchers are sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub version: i64,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub member: MemberRow,
    pub promises: Vec<PromiseRow>,
    pub bills: Vec<BillRow>,
}

/// The outcome of projecting one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projected {
    /// The read models already have this version: nothing to do.
    Duplicate,
    Applied(Change),
}

/// An event the read models cannot take as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    /// Versions before this one have not been applied yet: apply them first.
    #[error("user {user_id}: version {got} arrived but the read models are at {at}")]
    VersionGap { user_id: String, at: i64, got: i64 },
    /// A payment of a bill the member's read model does not have.
    #[error("user {user_id}: payment of unknown bill {bill_id}")]
    UnknownBill { user_id: String, bill_id: String },
}

/// The rows besides the member row that projecting some events reads, by id: storage loads
/// them (once for a whole batch) before calling [`project`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub promise_ids: Vec<String>,
    pub bill_ids: Vec<String>,
    /// Bills whose promises (`payment_promises.bill_id`) are read.
    pub promises_of_bills: Vec<String>,
}

impl Needs {
    /// Adds what `event` reads.
    pub fn add(&mut self, event: &Event) {
        match event {
            Event::PurchaseCompleted(_) | Event::PaymentPromiseCreated(_) => {}
            Event::MemberBillIssued(e) => self
                .promise_ids
                .extend(e.promise_ids.iter().map(ToString::to_string)),
            Event::PaymentCompleted(e) => {
                self.bill_ids.push(e.bill_id.to_string());
                self.promises_of_bills.push(e.bill_id.to_string());
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.promise_ids.is_empty() && self.bill_ids.is_empty() && self.promises_of_bills.is_empty()
    }
}

/// Applies `envelope` to the member's `rows`. Pure: the same rows and event give the same
/// change.
pub fn project(rows: &MemberRows, envelope: &Envelope) -> Result<Projected, ProjectionError> {
    let version = envelope.version();
    let at = rows.member.version;
    if version <= at {
        return Ok(Projected::Duplicate);
    }
    if version > at + 1 {
        return Err(ProjectionError::VersionGap {
            user_id: rows.member.user_id.clone(),
            at,
            got: version,
        });
    }
    let mut change = Change {
        version,
        event_type: envelope.event().event_type().to_owned(),
        occurred_at: envelope.occurred_at,
        member: MemberRow {
            version,
            ..rows.member.clone()
        },
        promises: Vec::new(),
        bills: Vec::new(),
    };
    match envelope.event() {
        Event::PurchaseCompleted(e) => purchase_completed(&mut change, e),
        Event::PaymentPromiseCreated(e) => promise_created(&mut change, envelope, e),
        Event::MemberBillIssued(e) => bill_issued(&mut change, rows, e),
        Event::PaymentCompleted(e) => payment_completed(&mut change, rows, e)?,
    }
    Ok(Projected::Applied(change))
}

fn purchase_completed(change: &mut Change, e: &PurchaseCompleted) {
    change.member.credit_limit = e.credit_limit;
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
        due_date: e.due_date,
        payment_mode: e.payment_mode,
        status: PromiseStatus::Unbilled,
        bill_id: None,
        purchased_at: envelope.occurred_at,
        created_version: change.version,
        updated_version: change.version,
    });
}

fn bill_issued(change: &mut Change, rows: &MemberRows, e: &MemberBillIssued) {
    let bill_id = e.bill_id.to_string();
    let promise_ids: Vec<String> = e.promise_ids.iter().map(ToString::to_string).collect();
    change.bills.push(BillRow {
        id: bill_id.clone(),
        user_id: rows.member.user_id.clone(),
        promise_ids: promise_ids.clone(),
        amount: e.amount,
        status: BillStatus::Unpaid,
        issued_date: e.issued_date,
        due_date: e.due_date,
        paid_date: None,
        created_version: change.version,
        updated_version: change.version,
    });
    // A promise the read model lacks is left out, as a foreign bill would be.
    change.promises = promise_ids
        .iter()
        .filter_map(|id| rows.promises.get(id))
        .map(|p| PromiseRow {
            status: PromiseStatus::Billed,
            bill_id: Some(bill_id.clone()),
            updated_version: change.version,
            ..p.clone()
        })
        .collect();
}

fn payment_completed(
    change: &mut Change,
    rows: &MemberRows,
    e: &PaymentCompleted,
) -> Result<(), ProjectionError> {
    let bill_id = e.bill_id.to_string();
    let bill = rows
        .bills
        .get(&bill_id)
        .ok_or_else(|| ProjectionError::UnknownBill {
            user_id: rows.member.user_id.clone(),
            bill_id: bill_id.clone(),
        })?;
    change.member.outstanding_amount -= bill.amount;
    change.bills.push(BillRow {
        status: BillStatus::Paid,
        paid_date: Some(e.paid_date),
        updated_version: change.version,
        ..bill.clone()
    });
    change.promises = rows
        .promises
        .values()
        .filter(|p| p.bill_id.as_deref() == Some(bill_id.as_str()))
        .map(|p| PromiseRow {
            status: PromiseStatus::Paid,
            updated_version: change.version,
            ..p.clone()
        })
        .collect();
    Ok(())
}
