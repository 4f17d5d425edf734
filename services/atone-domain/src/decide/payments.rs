//! 支払い: the strict operator call, money received from providers, and refunds.

use super::{positive_amount, zero_or_positive};
use crate::command::{CompletePayment, Context, Decision, IssueRefund, ReceivePayment, Reply};
use crate::event::{Event, PaymentCompleted, PaymentReceived, RefundIssued};
use crate::member::{BillState, Member};
use crate::validate::MAX_ID_BYTES;
use crate::{AmountOf, DomainError, business_date};

impl Member {
    pub(crate) fn complete_payment(
        &self,
        user_id: &str,
        c: &CompletePayment,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
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
        match bill.state {
            BillState::Paid => return Err(DomainError::BillAlreadyPaid { bill_id: c.bill_id }),
            BillState::Cancelled => return Err(DomainError::BillCancelled { bill_id: c.bill_id }),
            BillState::Unpaid => {}
        }
        if c.amount != bill.amount {
            return Err(DomainError::AmountMismatch {
                what: AmountOf::Bill,
                expected: bill.amount,
                given: c.amount,
            });
        }
        let events = vec![Event::PaymentCompleted(PaymentCompleted {
            bill_id: c.bill_id,
            amount: c.amount,
            paid_date: business_date(ctx.now),
        })];
        let reply = Reply::CompletePayment {
            version: self.version + 1,
        };
        Ok(Decision::Append { events, reply })
    }

    /// Money that arrived is recorded whatever it matches: it pays the bill it names when
    /// that bill is unpaid and the amount is exactly the bill's; otherwise it is kept as the
    /// member's unapplied balance, to apply to the next bill or refund.
    pub(crate) fn receive_payment(&self, c: &ReceivePayment) -> Result<Decision, DomainError> {
        if c.transaction_id.trim().is_empty() || c.transaction_id.len() > MAX_ID_BYTES {
            return Err(DomainError::invalid(
                "transaction_id",
                format!("is required, 1 to {MAX_ID_BYTES} bytes"),
            ));
        }
        positive_amount("amount", c.amount, "money received")?;
        let applied = c
            .bill_id
            .and_then(|id| self.bills.get(&id))
            .is_some_and(|bill| bill.is_unpaid() && bill.amount == c.amount);
        let events = vec![Event::PaymentReceived(PaymentReceived {
            transaction_id: c.transaction_id.clone(),
            bill_id: c.bill_id,
            amount: c.amount,
            received_at: c.received_at,
            applied,
        })];
        let reply = Reply::ReceivePayment {
            applied,
            version: self.version + 1,
        };
        Ok(Decision::Append { events, reply })
    }

    /// Pays back from the unapplied balance first, then from the credit balance.
    pub(crate) fn issue_refund(
        &self,
        c: &IssueRefund,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        zero_or_positive("amount", c.amount, "a refund")?;
        let available = self.credit_balance + self.unapplied_balance;
        if available <= 0 {
            return Err(DomainError::NothingToRefund);
        }
        let amount = if c.amount == 0 { available } else { c.amount };
        if amount > available {
            return Err(DomainError::RefundTooLarge {
                given: amount,
                available,
            });
        }
        let from_unapplied = self.unapplied_balance.clamp(0, amount);
        let refund_id = (ctx.new_id)();
        let events = vec![Event::RefundIssued(RefundIssued {
            refund_id,
            amount,
            from_credit: amount - from_unapplied,
            from_unapplied,
        })];
        let reply = Reply::IssueRefund {
            refund_id,
            amount,
            version: self.version + 1,
        };
        Ok(Decision::Append { events, reply })
    }
}
