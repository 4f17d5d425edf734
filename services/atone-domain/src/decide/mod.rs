//! How each command is decided: checked against the member's state, and the events that
//! record it.

mod account;
mod bank_debit;
mod billing;
mod orders;
mod payments;

use uuid::Uuid;

use crate::{Bill, DomainError, MAX_PURCHASE_AMOUNT, Member};

impl Member {
    /// The member's bill `bill_id`, or why a command about it is refused.
    fn bill(&self, user_id: &str, bill_id: Uuid) -> Result<&Bill, DomainError> {
        self.bills
            .get(&bill_id)
            .ok_or_else(|| DomainError::BillNotFound {
                user_id: user_id.to_owned(),
                bill_id,
            })
    }
}

/// A positive amount of yen, at most [`MAX_PURCHASE_AMOUNT`].
fn positive_amount(field: &'static str, amount: i64, what: &str) -> Result<(), DomainError> {
    if (1..=MAX_PURCHASE_AMOUNT).contains(&amount) {
        return Ok(());
    }
    Err(DomainError::invalid(
        field,
        format!("{amount} is out of range; {what} is 1 to {MAX_PURCHASE_AMOUNT} yen"),
    ))
}

/// 0 (meaning "all of it") or a positive amount of yen.
fn zero_or_positive(field: &'static str, amount: i64, what: &str) -> Result<(), DomainError> {
    if amount == 0 {
        return Ok(());
    }
    positive_amount(field, amount, what)
}
