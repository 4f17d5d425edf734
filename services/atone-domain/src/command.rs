use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::event::{Application, PaymentMethod, PaymentMode, PaymentReceived};
use crate::{BankAccount, Member, Period, validate};

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

/// 支払い完了: the operator marks a bill paid, strictly (the amount must match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletePayment {
    pub bill_id: Uuid,
    pub amount: i64,
}

/// Chooses how the member pays their monthly bills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPaymentMethod {
    pub method: PaymentMethod,
}

/// 締め: bill the member's 月まとめ払い promises of `period` together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseMonth {
    pub period: Period,
}

/// 返品 / 金額変更: cancel an order, whole or in part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelPurchase {
    pub order_id: Uuid,
    /// Yen to cancel; 0 means "everything that is left".
    pub amount: i64,
}

/// 入金: a payment provider reports money received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivePayment {
    pub transaction_id: String,
    pub bill_id: Option<Uuid>,
    pub amount: i64,
    pub received_at: DateTime<Utc>,
    /// Keeps all of it as unapplied balance, for an operator to look at (money whose
    /// notification reused another's id), instead of applying it to bills.
    pub hold: bool,
}

/// Gives money back from the member's credit and unapplied balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRefund {
    /// Yen; 0 means "both balances, whole".
    pub amount: i64,
}

/// The daily check: marks the member's bills overdue the day after they fall due, and
/// sends the reminders due on `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkOverdue {
    pub as_of: NaiveDate,
}

/// Sets the member's ご利用上限額.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCreditLimit {
    pub limit: i64,
}

/// Sets the bank account the member's bank-debit bills are drawn from (口座振替).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetBankAccount {
    pub account: BankAccount,
}

/// A bank-debit file's result: the bank could not draw `bill_id` (振替不能). The bill
/// becomes a convenience-store bill, with the bill-issuing fee and a new due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDebitFailure {
    pub bill_id: Uuid,
    /// 振替結果コード, 1 to 9.
    pub code: u8,
    /// What the code means, as the operator reads it (資金不足, ...).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Purchase(Purchase),
    IssueImmediateBill(IssueImmediateBill),
    CompletePayment(CompletePayment),
    SetPaymentMethod(SetPaymentMethod),
    CloseMonth(CloseMonth),
    CancelPurchase(CancelPurchase),
    ReceivePayment(ReceivePayment),
    IssueRefund(IssueRefund),
    MarkOverdue(MarkOverdue),
    ChangeCreditLimit(ChangeCreditLimit),
    SetBankAccount(SetBankAccount),
    RecordDebitFailure(RecordDebitFailure),
}

impl Command {
    /// Whether the command's outcome is kept under its idempotency key: every command a
    /// caller sends, but not the overdue run's (a job's, never retried by a caller).
    pub fn is_remembered(&self) -> bool {
        !matches!(self, Self::MarkOverdue(_))
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Purchase(c) => format!("Purchase of {} yen", c.amount),
            Self::IssueImmediateBill(c) => {
                format!("IssueImmediateBill of promise {}", c.promise_id)
            }
            Self::CompletePayment(c) => format!("CompletePayment of bill {}", c.bill_id),
            Self::SetPaymentMethod(c) => format!("SetPaymentMethod to {:?}", c.method),
            Self::CloseMonth(c) => format!("CloseBillingPeriod of {}", c.period),
            Self::CancelPurchase(c) => format!("CancelPurchase of order {}", c.order_id),
            Self::ReceivePayment(c) => format!("ReceivePayment of {} yen", c.amount),
            Self::IssueRefund(c) => format!("IssueRefund of {} yen", c.amount),
            Self::MarkOverdue(c) => format!("MarkOverdue as of {}", c.as_of),
            Self::ChangeCreditLimit(c) => format!("ChangeCreditLimit to {} yen", c.limit),
            Self::SetBankAccount(c) => {
                format!("SetBankAccount to account {}", c.account.masked_number())
            }
            Self::RecordDebitFailure(c) => {
                format!("RecordDebitFailure of bill {} (code {})", c.bill_id, c.code)
            }
        }
    }

    /// Whether `retry` asks for what `self`, a carried-out command, did. A request that
    /// left an amount to the member's state (0) matches the same request with the amount
    /// spelled out.
    pub(crate) fn is_same_request(&self, retry: &Command) -> bool {
        match (self, retry) {
            (Self::IssueImmediateBill(done), Self::IssueImmediateBill(retry)) => {
                done.promise_id == retry.promise_id
                    && (retry.amount == 0 || retry.amount == done.amount)
            }
            (Self::CancelPurchase(done), Self::CancelPurchase(retry)) => {
                done.order_id == retry.order_id
                    && (retry.amount == 0 || retry.amount == done.amount)
            }
            (Self::IssueRefund(done), Self::IssueRefund(retry)) => {
                retry.amount == 0 || retry.amount == done.amount
            }
            // A provider may resend without the time; the rest must be the same.
            (Self::ReceivePayment(done), Self::ReceivePayment(retry)) => {
                (&done.transaction_id, done.bill_id, done.amount)
                    == (&retry.transaction_id, retry.bill_id, retry.amount)
            }
            // The account is kept as the file writes it: compare what both ask for.
            (Self::SetBankAccount(done), Self::SetBankAccount(retry)) => {
                match (
                    BankAccount::parse(&done.account),
                    BankAccount::parse(&retry.account),
                ) {
                    (Ok(done), Ok(retry)) => done == retry,
                    _ => false,
                }
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
    SetPaymentMethod {
        version: i64,
    },
    /// `bill: None` when the member had nothing to bill for the period.
    CloseMonth {
        bill: Option<ClosedBill>,
        version: i64,
    },
    CancelPurchase {
        promise_id: Uuid,
        remaining_amount: i64,
        version: i64,
    },
    ReceivePayment {
        /// True if any of the money paid a bill; false if all of it became unapplied
        /// balance.
        applied: bool,
        /// What it paid, bill by bill, in the order applied.
        applications: Vec<Application>,
        /// Yen kept as the member's unapplied balance.
        kept: i64,
        version: i64,
    },
    IssueRefund {
        refund_id: Uuid,
        amount: i64,
        version: i64,
    },
    MarkOverdue {
        /// Bills found overdue by this run.
        newly_overdue: usize,
        version: i64,
    },
    ChangeCreditLimit {
        version: i64,
    },
    SetBankAccount {
        /// The account as kept, its number masked.
        account: BankAccount,
        version: i64,
    },
    RecordDebitFailure {
        /// True if the bill became a convenience-store bill; false if it was paid,
        /// cancelled or no longer drawn by bank debit, and nothing changed.
        converted: bool,
        /// What the bill asks now, fee included (money paid on it before aside), and when
        /// it is due.
        amount: i64,
        due_date: NaiveDate,
        version: i64,
    },
}

impl Reply {
    /// The reply to the command that recorded `received` at `version`.
    pub fn received(received: &PaymentReceived, version: i64) -> Self {
        Reply::ReceivePayment {
            applied: received.applied,
            applications: received.paid_bills(),
            kept: received.kept(),
            version,
        }
    }
}

/// The monthly bill a close issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedBill {
    pub bill_id: Uuid,
    pub amount: i64,
    pub due_date: NaiveDate,
}

/// A command carried out or refused earlier, remembered under its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processed {
    pub request: Command,
    /// Stored as a `reply` or a `refused` field beside `request`.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What a remembered command came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It was carried out and answered this.
    Reply(Reply),
    /// It was refused for the member's state at the time (see
    /// [`DomainError::is_kept`]): a retry gets the same refusal, and an earlier attempt
    /// still in flight can no longer carry it out.
    Refused(DomainError),
}

impl Processed {
    /// A refusal of `request` to keep under its key, if the refusal and the command are
    /// kept at all.
    pub fn refusal(request: &Command, refused: &DomainError) -> Option<Processed> {
        (request.is_remembered() && refused.is_kept()).then(|| Processed {
            request: request.clone(),
            outcome: Outcome::Refused(refused.clone()),
        })
    }
}

/// What a command is decided with besides the member's state.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    /// ご利用上限額 in yen of a member who has none of their own yet.
    pub credit_limit: i64,
    /// The bill-issuing fee of a monthly bill paid at a convenience store, in yen.
    pub bill_fee: i64,
    /// Added once to an overdue bill, in yen; 0 for none.
    pub reissue_fee: i64,
    /// The days overdue on which a reminder is sent.
    pub reminder_days: &'a [i64],
    /// Makes the ids of new orders, promises and bills (UUIDv7 in the services).
    pub new_id: &'a mut dyn FnMut() -> Uuid,
    /// When banks are open: a bank debit is drawn on a business day.
    pub calendar: &'a crate::Calendar,
    /// Business days the bank needs between a bill's issue and its debit.
    pub debit_notice_days: i64,
}

/// The outcome of a command that holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Append these events (versions follow the member's current one) and answer `reply`.
    /// No events means there was nothing to record.
    Append {
        events: Vec<crate::Event>,
        reply: Reply,
    },
    /// The command was carried out before under the same idempotency key: answer the
    /// first reply, append nothing.
    AlreadyDone(Reply),
}

impl Member {
    /// Checks `command` against the member's state and decides what it records. `earlier`
    /// is what a command carried out before under the same idempotency key did, if one was
    /// (the event store keeps it, for a retention period).
    pub fn handle(
        &self,
        user_id: &str,
        idempotency_key: &str,
        earlier: Option<&Processed>,
        command: &Command,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        validate::idempotency_key(idempotency_key)?;
        if let Some(done) = earlier {
            return if !done.request.is_same_request(command) {
                Err(DomainError::IdempotencyKeyReused {
                    key: idempotency_key.to_owned(),
                    first: done.request.describe(),
                })
            } else {
                match &done.outcome {
                    Outcome::Reply(reply) => Ok(Decision::AlreadyDone(reply.clone())),
                    Outcome::Refused(refused) => Err(refused.clone()),
                }
            };
        }
        match command {
            Command::Purchase(c) => self.purchase(c, ctx),
            Command::IssueImmediateBill(c) => self.issue_immediate_bill(user_id, c, ctx),
            Command::CompletePayment(c) => self.complete_payment(user_id, c, ctx),
            Command::SetPaymentMethod(c) => Ok(self.set_payment_method(c)),
            Command::CloseMonth(c) => self.close_month(c, ctx),
            Command::CancelPurchase(c) => self.cancel_purchase(user_id, c),
            Command::ReceivePayment(c) => self.receive_payment(c),
            Command::IssueRefund(c) => self.issue_refund(c, ctx),
            Command::MarkOverdue(c) => self.mark_overdue(c, ctx),
            Command::ChangeCreditLimit(c) => self.change_credit_limit(c),
            Command::SetBankAccount(c) => self.set_bank_account(c),
            Command::RecordDebitFailure(c) => self.record_debit_failure(user_id, c, ctx),
        }
    }
}
