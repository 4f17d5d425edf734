use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::event::{
    Event, MemberBillIssued, PaymentCompleted, PaymentMode, PaymentPromiseCreated,
    PurchaseCompleted,
};
use crate::{
    MAX_PURCHASE_AMOUNT, Member, bill_due_date, business_date, promise_due_date, validate,
};

/// 購入: buy `amount` yen of a product and promise to pay for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub product_id: String,
    pub product_name: String,
    pub amount: i64,
    pub payment_mode: PaymentMode,
}

/// 会員請求 (すぐ払い): bill one immediate promise on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueImmediateBill {
    pub promise_id: Uuid,
    /// 0 means "the promise's amount"; anything else must equal it.
    pub amount: i64,
}

/// 支払い完了: the payment provider reports a bill paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletePayment {
    pub bill_id: Uuid,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Purchase(Purchase),
    IssueImmediateBill(IssueImmediateBill),
    CompletePayment(CompletePayment),
}

impl Command {
    fn describe(&self) -> String {
        match self {
            Self::Purchase(c) => format!("Purchase of {} yen", c.amount),
            Self::IssueImmediateBill(c) => {
                format!("IssueImmediateBill of promise {}", c.promise_id)
            }
            Self::CompletePayment(c) => format!("CompletePayment of bill {}", c.bill_id),
        }
    }

    /// Whether `retry` asks for what `self`, a carried-out command, did. A bill request
    /// that left the amount to the promise (0) matches the same request with the amount
    /// spelled out.
    fn is_same_request(&self, retry: &Command) -> bool {
        match (self, retry) {
            (Self::IssueImmediateBill(done), Self::IssueImmediateBill(retry)) => {
                done.promise_id == retry.promise_id
                    && (retry.amount == 0 || retry.amount == done.amount)
            }
            (done, retry) => done == retry,
        }
    }
}

/// What a command answers. A retry with the same idempotency key gets the same reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Purchase {
        order_id: Uuid,
        promise_id: Uuid,
        due_date: NaiveDate,
        version: i64,
    },
    IssueImmediateBill {
        bill_id: Uuid,
        due_date: NaiveDate,
        version: i64,
    },
    CompletePayment {
        version: i64,
    },
}

/// A command carried out earlier, remembered under its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processed {
    pub request: Command,
    pub reply: Reply,
}

/// What a command is decided with besides the member's state.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    /// ご利用上限額 in yen: the unpaid total a member may not exceed.
    pub credit_limit: i64,
    /// Makes the ids of new orders, promises and bills (UUIDv7 in the services).
    pub new_id: &'a mut dyn FnMut() -> Uuid,
}

/// The outcome of a command that holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Append these events (versions follow the member's current one) and answer `reply`.
    Append { events: Vec<Event>, reply: Reply },
    /// The command was carried out before under the same idempotency key: answer the
    /// first reply, append nothing.
    AlreadyDone(Reply),
}

impl Member {
    /// Checks `command` against the member's state and decides what it records.
    pub fn handle(
        &self,
        user_id: &str,
        idempotency_key: &str,
        command: &Command,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        validate::idempotency_key(idempotency_key)?;
        if let Some(done) = self.processed.get(idempotency_key) {
            return if done.request.is_same_request(command) {
                Ok(Decision::AlreadyDone(done.reply.clone()))
            } else {
                Err(DomainError::IdempotencyKeyReused {
                    key: idempotency_key.to_owned(),
                    first: done.request.describe(),
                })
            };
        }
        let (events, reply) = match command {
            Command::Purchase(c) => self.purchase(c, ctx)?,
            Command::IssueImmediateBill(c) => self.issue_immediate_bill(user_id, c, ctx)?,
            Command::CompletePayment(c) => self.complete_payment(user_id, c, ctx)?,
        };
        Ok(Decision::Append { events, reply })
    }

    fn purchase(
        &self,
        c: &Purchase,
        ctx: &mut Context<'_>,
    ) -> Result<(Vec<Event>, Reply), DomainError> {
        validate::product(&c.product_id, &c.product_name)?;
        if !(1..=MAX_PURCHASE_AMOUNT).contains(&c.amount) {
            return Err(DomainError::invalid(
                "amount",
                format!(
                    "{} is out of range; a purchase is 1 to {MAX_PURCHASE_AMOUNT} yen",
                    c.amount
                ),
            ));
        }
        if self.outstanding + c.amount > ctx.credit_limit {
            return Err(DomainError::CreditLimitExceeded {
                limit: ctx.credit_limit,
                outstanding: self.outstanding,
                amount: c.amount,
            });
        }
        let order_id = (ctx.new_id)();
        let promise_id = (ctx.new_id)();
        let due_date = promise_due_date(business_date(ctx.now), c.payment_mode);
        let events = vec![
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id,
                product_id: c.product_id.clone(),
                product_name: c.product_name.clone(),
                amount: c.amount,
                payment_mode: c.payment_mode,
                credit_limit: ctx.credit_limit,
            }),
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id,
                order_id,
                product_id: c.product_id.clone(),
                product_name: c.product_name.clone(),
                amount: c.amount,
                payment_mode: c.payment_mode,
                due_date,
            }),
        ];
        let reply = Reply::Purchase {
            order_id,
            promise_id,
            due_date,
            version: self.version + 2,
        };
        Ok((events, reply))
    }

    fn issue_immediate_bill(
        &self,
        user_id: &str,
        c: &IssueImmediateBill,
        ctx: &mut Context<'_>,
    ) -> Result<(Vec<Event>, Reply), DomainError> {
        if c.amount < 0 {
            return Err(DomainError::invalid(
                "amount",
                format!(
                    "{} is negative; give the promise's amount, or 0 to bill it whole",
                    c.amount
                ),
            ));
        }
        let promise =
            self.promises
                .get(&c.promise_id)
                .ok_or_else(|| DomainError::PromiseNotFound {
                    user_id: user_id.to_owned(),
                    promise_id: c.promise_id,
                })?;
        if let Some(bill_id) = promise.bill_id {
            return Err(DomainError::PromiseAlreadyBilled {
                promise_id: c.promise_id,
                bill_id,
            });
        }
        if promise.payment_mode != PaymentMode::Immediate {
            return Err(DomainError::PromiseNotImmediate {
                promise_id: c.promise_id,
            });
        }
        if c.amount != 0 && c.amount != promise.amount {
            return Err(DomainError::AmountMismatch {
                what: "promise",
                expected: promise.amount,
                given: c.amount,
            });
        }
        let bill_id = (ctx.new_id)();
        let issued_date = business_date(ctx.now);
        let due_date = bill_due_date(issued_date);
        let events = vec![Event::MemberBillIssued(MemberBillIssued {
            bill_id,
            promise_ids: vec![c.promise_id],
            amount: promise.amount,
            issued_date,
            due_date,
        })];
        Ok((
            events,
            Reply::IssueImmediateBill {
                bill_id,
                due_date,
                version: self.version + 1,
            },
        ))
    }

    fn complete_payment(
        &self,
        user_id: &str,
        c: &CompletePayment,
        ctx: &mut Context<'_>,
    ) -> Result<(Vec<Event>, Reply), DomainError> {
        if c.amount <= 0 {
            return Err(DomainError::invalid(
                "amount",
                format!(
                    "{} is not a payment; give the bill's amount in yen",
                    c.amount
                ),
            ));
        }
        let bill = self
            .bills
            .get(&c.bill_id)
            .ok_or_else(|| DomainError::BillNotFound {
                user_id: user_id.to_owned(),
                bill_id: c.bill_id,
            })?;
        if bill.paid {
            return Err(DomainError::BillAlreadyPaid { bill_id: c.bill_id });
        }
        if c.amount != bill.amount {
            return Err(DomainError::AmountMismatch {
                what: "bill",
                expected: bill.amount,
                given: c.amount,
            });
        }
        let events = vec![Event::PaymentCompleted(PaymentCompleted {
            bill_id: c.bill_id,
            amount: c.amount,
            paid_date: business_date(ctx.now),
        })];
        Ok((
            events,
            Reply::CompletePayment {
                version: self.version + 1,
            },
        ))
    }
}
