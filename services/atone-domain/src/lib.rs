//! The member aggregate of atone: pure decide/apply, no I/O.
//!
//! A member's stream holds all their purchases, promises, bills and payments. A command is
//! checked against the member's state ([`Member::handle`]) and, if it holds, yields the events
//! that record it; [`Member::apply`] folds an event into the state and cannot fail. The clock
//! and new ids come in with the command, so every decision is a function of its inputs.

mod bank;
mod calendar;
mod command;
mod dates;
mod decide;
mod envelope;
mod error;
mod event;
mod member;
mod period;
mod remember;
pub mod validate;

pub use bank::{AccountKind, BankAccount, MAX_BANK_NAME_CHARS, MAX_HOLDER_CHARS, mask};
pub use calendar::{Calendar, holiday};
pub use command::{
    CancelPurchase, ChangeCreditLimit, CloseMonth, ClosedBill, Command, CompletePayment, Context,
    Decision, IssueImmediateBill, IssueRefund, MarkOverdue, Outcome, Processed, Purchase,
    ReceivePayment, RecordDebitFailure, Reply, SetBankAccount, SetPaymentMethod,
};
pub use dates::{
    JST, bill_due_date, business_date, monthly_bill_due_date, period_of_monthly_due_date,
    promise_due_date,
};
pub use envelope::Envelope;
pub use error::{AmountOf, DomainError};
pub use event::{
    AdjustmentReason, Application, BankAccountSet, BankDebitFailed, BillAdjusted, BillOverdue,
    CreditLimitChanged, Event, MemberBillIssued, MonthlyBillIssued, PaymentCompleted,
    PaymentMethod, PaymentMethodChanged, PaymentMode, PaymentPromiseCreated, PaymentReceived,
    PurchaseCancelled, PurchaseCompleted, RecordedEvent, RefundIssued, ReminderIssued,
};
pub use member::{Bill, BillState, Member, Promise, SETTLED_KEPT};
pub use period::Period;

/// The largest amount of one purchase, in yen.
pub const MAX_PURCHASE_AMOUNT: i64 = 1_000_000;
/// The credit limit (ご利用上限額) of a member unless configured otherwise, in yen.
pub const DEFAULT_CREDIT_LIMIT: i64 = 50_000;
/// The highest credit limit a member can be given, in yen.
pub const MAX_CREDIT_LIMIT: i64 = 10_000_000;
/// The bill-issuing fee of a monthly bill paid at a convenience store unless configured
/// otherwise, in yen (incl. tax).
pub const DEFAULT_BILL_FEE: i64 = 209;
/// The days overdue on which a reminder is sent unless configured otherwise.
pub const DEFAULT_REMINDER_DAYS: [i64; 3] = [1, 7, 14];
/// Business days the bank needs between a bank-debit bill's issue and its debit.
pub const DEFAULT_DEBIT_NOTICE_DAYS: i64 = 3;
/// Days a bill whose bank debit failed has, from the day the failure is recorded, to be
/// paid at a convenience store.
pub const DEBIT_FAILURE_DAYS: i64 = 14;

#[cfg(test)]
mod applying_spec;
#[cfg(test)]
mod bank_debit_spec;
#[cfg(test)]
mod bounded_spec;
#[cfg(test)]
mod business_day_spec;
#[cfg(test)]
mod month_spec;
#[cfg(test)]
mod spec;
