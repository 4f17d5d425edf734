//! The member's own settings: how they pay, and how much they may owe.

use crate::command::{ChangeCreditLimit, Decision, Reply, SetPaymentMethod};
use crate::event::{CreditLimitChanged, Event, PaymentMethodChanged};
use crate::{DomainError, MAX_CREDIT_LIMIT, Member};

impl Member {
    pub(crate) fn set_payment_method(&self, c: &SetPaymentMethod) -> Decision {
        Decision::Append {
            events: vec![Event::PaymentMethodChanged(PaymentMethodChanged {
                method: c.method,
            })],
            reply: Reply::SetPaymentMethod {
                version: self.version + 1,
            },
        }
    }

    /// Any limit from 0 (no more purchases) to [`MAX_CREDIT_LIMIT`]; a limit below what the
    /// member owes already only stops new purchases.
    pub(crate) fn change_credit_limit(
        &self,
        c: &ChangeCreditLimit,
    ) -> Result<Decision, DomainError> {
        if !(0..=MAX_CREDIT_LIMIT).contains(&c.limit) {
            return Err(DomainError::invalid(
                "limit",
                format!(
                    "{} is out of range; a credit limit is 0 to {MAX_CREDIT_LIMIT} yen",
                    c.limit
                ),
            ));
        }
        Ok(Decision::Append {
            events: vec![Event::CreditLimitChanged(CreditLimitChanged {
                limit: c.limit,
            })],
            reply: Reply::ChangeCreditLimit {
                version: self.version + 1,
            },
        })
    }
}
