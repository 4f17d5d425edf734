//! One event in, the changed rows out.

use atone_domain::{Envelope, Event};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{BillRow, MemberRow, MemberRows, PromiseRow, rules};

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

/// Whether projecting `event` reads the member's unbilled 月まとめ払い promises: a change
/// of payment method moves their due date to the one their month's bill will have.
pub fn reads_unbilled_monthly(event: &Event) -> bool {
    matches!(event, Event::PaymentMethodChanged(_))
}

impl Needs {
    /// Adds what `event` reads.
    pub fn add(&mut self, event: &Event) {
        match event {
            Event::PurchaseCompleted(_)
            | Event::PaymentPromiseCreated(_)
            | Event::PaymentMethodChanged(_)
            | Event::CreditLimitChanged(_)
            | Event::BankAccountSet(_)
            | Event::RefundIssued(_) => {}
            Event::MemberBillIssued(e) => self.promises(&e.promise_ids),
            Event::MonthlyBillIssued(e) => self.promises(&e.promise_ids),
            Event::PurchaseCancelled(e) => self.promises(&[e.promise_id]),
            Event::PaymentCompleted(e) => self.bill_and_promises(e.bill_id),
            Event::PaymentReceived(e) => {
                for application in e.paid_bills() {
                    self.bill_and_promises(application.bill_id);
                }
            }
            // An adjustment can leave nothing to pay: the bill and its promises are paid.
            Event::BillAdjusted(e) => self.bill_and_promises(e.bill_id),
            Event::BillOverdue(e) => self.bill_ids.push(e.bill_id.to_string()),
            Event::ReminderIssued(e) => self.bill_ids.push(e.bill_id.to_string()),
            Event::BankDebitFailed(e) => self.bill_ids.push(e.bill_id.to_string()),
        }
    }

    fn promises(&mut self, ids: &[Uuid]) {
        self.promise_ids.extend(ids.iter().map(ToString::to_string));
    }

    fn bill_and_promises(&mut self, bill_id: Uuid) {
        self.bill_ids.push(bill_id.to_string());
        self.promises_of_bills.push(bill_id.to_string());
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
    rules::apply(&mut change, rows, envelope)?;
    Ok(Projected::Applied(change))
}
