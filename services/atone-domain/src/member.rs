use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::{Command, Processed, Reply};
use crate::event::{
    Event, MemberBillIssued, PaymentCompleted, PaymentMode, PaymentPromiseCreated,
    PurchaseCompleted, RecordedEvent,
};
use crate::{CompletePayment, IssueImmediateBill, Purchase};

/// A member's state, folded from their stream. Everything a command is checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The version of the last event applied; 0 for a member with no events.
    pub version: i64,
    /// Yen owed: every promise whose bill is not paid yet.
    pub outstanding: i64,
    pub promises: BTreeMap<Uuid, Promise>,
    pub bills: BTreeMap<Uuid, Bill>,
    /// Commands already carried out, by idempotency key, so a retry gets the first reply
    /// instead of a second effect.
    pub processed: BTreeMap<String, Processed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub order_id: Uuid,
    pub amount: i64,
    pub payment_mode: PaymentMode,
    pub due_date: NaiveDate,
    pub bill_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    pub amount: i64,
    pub promise_ids: Vec<Uuid>,
    pub due_date: NaiveDate,
    pub paid: bool,
}

impl Member {
    /// Folds a whole stream, oldest first.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Self {
        let mut member = Self::default();
        for event in events {
            member.apply(event);
        }
        member
    }

    /// Folds one event into the state. Events are facts: this never fails.
    pub fn apply(&mut self, recorded: &RecordedEvent) {
        self.version = recorded.version;
        let key = recorded.idempotency_key.clone();
        let version = recorded.version;
        match &recorded.event {
            Event::PurchaseCompleted(e) => self.purchase_completed(key, version, e),
            Event::PaymentPromiseCreated(e) => self.promise_created(&key, version, e),
            Event::MemberBillIssued(e) => self.bill_issued(key, version, e),
            Event::PaymentCompleted(e) => self.payment_completed(key, version, e),
        }
    }

    fn purchase_completed(&mut self, key: String, version: i64, e: &PurchaseCompleted) {
        self.processed.insert(
            key,
            Processed {
                request: Command::Purchase(Purchase {
                    product_id: e.product_id.clone(),
                    product_name: e.product_name.clone(),
                    amount: e.amount,
                    payment_mode: e.payment_mode,
                }),
                // Completed by the PaymentPromiseCreated that follows.
                reply: Reply::Purchase {
                    order_id: e.order_id,
                    promise_id: Uuid::nil(),
                    due_date: NaiveDate::MIN,
                    version,
                },
            },
        );
    }

    fn promise_created(&mut self, key: &str, version: i64, e: &PaymentPromiseCreated) {
        self.outstanding += e.amount;
        self.promises.insert(
            e.promise_id,
            Promise {
                order_id: e.order_id,
                amount: e.amount,
                payment_mode: e.payment_mode,
                due_date: e.due_date,
                bill_id: None,
            },
        );
        if let Some(Processed {
            reply:
                Reply::Purchase {
                    promise_id,
                    due_date,
                    version: v,
                    ..
                },
            ..
        }) = self.processed.get_mut(key)
        {
            *promise_id = e.promise_id;
            *due_date = e.due_date;
            *v = version;
        }
    }

    fn bill_issued(&mut self, key: String, version: i64, e: &MemberBillIssued) {
        for promise_id in &e.promise_ids {
            if let Some(promise) = self.promises.get_mut(promise_id) {
                promise.bill_id = Some(e.bill_id);
            }
        }
        self.bills.insert(
            e.bill_id,
            Bill {
                amount: e.amount,
                promise_ids: e.promise_ids.clone(),
                due_date: e.due_date,
                paid: false,
            },
        );
        if let [promise_id] = e.promise_ids[..] {
            self.processed.insert(
                key,
                Processed {
                    request: Command::IssueImmediateBill(IssueImmediateBill {
                        promise_id,
                        amount: e.amount,
                    }),
                    reply: Reply::IssueImmediateBill {
                        bill_id: e.bill_id,
                        due_date: e.due_date,
                        version,
                    },
                },
            );
        }
    }

    fn payment_completed(&mut self, key: String, version: i64, e: &PaymentCompleted) {
        if let Some(bill) = self.bills.get_mut(&e.bill_id) {
            bill.paid = true;
            self.outstanding -= bill.amount;
        }
        self.processed.insert(
            key,
            Processed {
                request: Command::CompletePayment(CompletePayment {
                    bill_id: e.bill_id,
                    amount: e.amount,
                }),
                reply: Reply::CompletePayment { version },
            },
        );
    }
}
