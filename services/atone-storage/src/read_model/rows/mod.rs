//! The read models' rows as the projection's rows, and back: one module per row (its
//! entity and the projection's row), each tested by a round trip through the database.
//! (The row as a protobuf message is atone-query's `convert`: the API is not this crate's.)

mod bill;
mod member;
mod promise;
#[cfg(test)]
mod test_db;

use atone_domain::{PaymentMethod, PaymentMode};

use crate::StorageError;

pub(crate) use bill::{bill_model, bill_row};
pub(crate) use member::{member_model, member_row};
pub(crate) use promise::{promise_model, promise_row};

/// The value of `payment_promises.payment_mode`.
pub(crate) fn mode_name(mode: PaymentMode) -> &'static str {
    match mode {
        PaymentMode::Immediate => "immediate",
        PaymentMode::Monthly => "monthly",
    }
}

/// The value of `members.payment_method` and `member_bills.payment_method`.
pub(crate) fn method_name(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::ConvenienceStore => "convenience_store",
        PaymentMethod::BankDebit => "bank_debit",
    }
}

fn method_of(value: &str) -> Option<PaymentMethod> {
    [PaymentMethod::ConvenienceStore, PaymentMethod::BankDebit]
        .into_iter()
        .find(|m| method_name(*m) == value)
}

fn corrupt(table: &str, id: &str, column: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("{table} {id}: {column} {value:?}"))
}
