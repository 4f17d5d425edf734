//! The member aggregate of atone: pure decide/apply, no I/O.
//!
//! A member's stream holds all their purchases, promises, bills and payments. A command is
//! checked against the member's state ([`Member::handle`]) and, if it holds, yields the events
//! that record it; [`Member::apply`] folds an event into the state and cannot fail. The clock
//! and new ids come in with the command, so every decision is a function of its inputs.

mod command;
mod dates;
mod envelope;
mod error;
mod event;
mod member;
pub mod validate;

pub use command::{
    Command, CompletePayment, Context, Decision, IssueImmediateBill, Purchase, Reply,
};
pub use dates::{JST, bill_due_date, business_date, promise_due_date};
pub use envelope::Envelope;
pub use error::DomainError;
pub use event::{
    Event, MemberBillIssued, PaymentCompleted, PaymentMode, PaymentPromiseCreated,
    PurchaseCompleted, RecordedEvent,
};
pub use member::{Bill, Member, Promise};

/// The largest amount of one purchase, in yen.
pub const MAX_PURCHASE_AMOUNT: i64 = 1_000_000;
/// The credit limit (ご利用上限額) of a member unless configured otherwise, in yen.
pub const DEFAULT_CREDIT_LIMIT: i64 = 50_000;

#[cfg(test)]
mod spec;
