//! What a command did, read back from its events: the request and the reply a retry with
//! the same idempotency key gets.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::command::*;
use crate::event::Event;

impl Processed {
    /// What the command carried out under `key` did, read back from the events of the
    /// stream (in version order) that it appended; `None` when none carries the key, or
    /// its command is one no caller retries (a job's).
    pub fn of_key<'a>(
        events: impl IntoIterator<Item = &'a crate::RecordedEvent>,
        key: &str,
    ) -> Option<Processed> {
        let mut done: Option<Processed> = None;
        for recorded in events.into_iter().filter(|e| e.idempotency_key == key) {
            if let Some(first) = Self::first(&recorded.event, recorded.version) {
                done = Some(first);
            } else if let Some(Processed {
                outcome: Outcome::Reply(reply),
                ..
            }) = &mut done
            {
                reply.complete(&recorded.event, recorded.version);
            }
        }
        done
    }

    /// What a command whose first event is `event` (at `version`) asked and answered;
    /// `None` for an event that only follows another of the same command, or one of a job
    /// (no caller retries those).
    pub(crate) fn first(event: &Event, version: i64) -> Option<Processed> {
        let (request, reply) = Self::first_of_orders(event, version)
            .or_else(|| Self::first_of_account(event, version))?;
        Some(Processed {
            request,
            outcome: Outcome::Reply(reply),
        })
    }

    /// Purchases, bills and payments.
    fn first_of_orders(event: &Event, version: i64) -> Option<(Command, Reply)> {
        Some(match event {
            Event::PurchaseCompleted(e) => (
                Command::Purchase(Purchase {
                    product_id: e.product_id.clone(),
                    product_name: e.product_name.clone(),
                    amount: e.amount,
                    payment_mode: e.payment_mode,
                }),
                Reply::Purchase {
                    order_id: e.order_id,
                    // Completed by the PaymentPromiseCreated that follows.
                    promise_id: Uuid::nil(),
                    due_date: NaiveDate::MIN,
                    version,
                },
            ),
            Event::MemberBillIssued(e) => match e.promise_ids[..] {
                [promise_id] => (
                    Command::IssueImmediateBill(IssueImmediateBill {
                        promise_id,
                        amount: e.amount,
                    }),
                    Reply::IssueImmediateBill {
                        bill_id: e.bill_id,
                        due_date: e.due_date,
                        version,
                    },
                ),
                _ => return None,
            },
            Event::PaymentCompleted(e) => (
                Command::CompletePayment(CompletePayment {
                    bill_id: e.bill_id,
                    amount: e.amount,
                }),
                Reply::CompletePayment { version },
            ),
            _ => return None,
        })
    }

    /// The member's settings, money received and refunds, cancellations.
    fn first_of_account(event: &Event, version: i64) -> Option<(Command, Reply)> {
        Some(match event {
            Event::PaymentMethodChanged(e) => (
                Command::SetPaymentMethod(SetPaymentMethod { method: e.method }),
                Reply::SetPaymentMethod { version },
            ),
            Event::MonthlyBillIssued(e) => (
                Command::CloseMonth(CloseMonth { period: e.period }),
                Reply::CloseMonth {
                    bill: Some(ClosedBill {
                        bill_id: e.bill_id,
                        amount: e.amount,
                        due_date: e.due_date,
                    }),
                    version,
                },
            ),
            Event::PurchaseCancelled(e) => (
                Command::CancelPurchase(CancelPurchase {
                    order_id: e.order_id,
                    amount: e.amount,
                }),
                Reply::CancelPurchase {
                    promise_id: e.promise_id,
                    remaining_amount: e.remaining_amount,
                    version,
                },
            ),
            Event::PaymentReceived(e) => (
                Command::ReceivePayment(ReceivePayment {
                    transaction_id: e.transaction_id.clone(),
                    bill_id: e.bill_id,
                    amount: e.amount,
                    received_at: e.received_at,
                    hold: !e.applied,
                }),
                Reply::received(e, version),
            ),
            Event::RefundIssued(e) => (
                Command::IssueRefund(IssueRefund { amount: e.amount }),
                Reply::IssueRefund {
                    refund_id: e.refund_id,
                    amount: e.amount,
                    version,
                },
            ),
            Event::CreditLimitChanged(e) => (
                Command::ChangeCreditLimit(ChangeCreditLimit { limit: e.limit }),
                Reply::ChangeCreditLimit { version },
            ),
            Event::BankAccountSet(e) => (
                Command::SetBankAccount(SetBankAccount {
                    account: e.account.clone(),
                }),
                Reply::SetBankAccount {
                    account: e.account.masked(),
                    version,
                },
            ),
            Event::BankDebitFailed(e) => (
                Command::RecordDebitFailure(RecordDebitFailure {
                    bill_id: e.bill_id,
                    code: e.code,
                    reason: e.reason.clone(),
                }),
                Reply::RecordDebitFailure {
                    converted: true,
                    amount: e.amount,
                    due_date: e.due_date,
                    version,
                },
            ),
            _ => return None,
        })
    }
}

impl Reply {
    /// Takes in a further event of the same command: the reply's version is the command's
    /// last event's.
    pub(crate) fn complete(&mut self, event: &Event, at: i64) {
        if let (
            Reply::Purchase {
                promise_id,
                due_date,
                ..
            },
            Event::PaymentPromiseCreated(e),
        ) = (&mut *self, event)
        {
            *promise_id = e.promise_id;
            *due_date = e.due_date;
        }
        match self {
            Reply::Purchase { version, .. }
            | Reply::IssueImmediateBill { version, .. }
            | Reply::CompletePayment { version }
            | Reply::SetPaymentMethod { version }
            | Reply::CloseMonth { version, .. }
            | Reply::CancelPurchase { version, .. }
            | Reply::ReceivePayment { version, .. }
            | Reply::IssueRefund { version, .. }
            | Reply::MarkOverdue { version, .. }
            | Reply::ChangeCreditLimit { version }
            | Reply::SetBankAccount { version, .. }
            | Reply::RecordDebitFailure { version, .. } => *version = at,
        }
    }
}
