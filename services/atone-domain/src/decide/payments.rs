//! 支払い: the strict operator call, money received from providers, and refunds.

use uuid::Uuid;

use super::{positive_amount, zero_or_positive};
use crate::command::{CompletePayment, Context, Decision, IssueRefund, ReceivePayment, Reply};
use crate::event::{Application, Event, PaymentCompleted, PaymentReceived, RefundIssued};
use crate::member::{Bill, BillState, Member, take};
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
        let bill = self.bill(user_id, c.bill_id)?;
        match bill.state {
            BillState::Paid => return Err(DomainError::BillAlreadyPaid { bill_id: c.bill_id }),
            BillState::Cancelled => return Err(DomainError::BillCancelled { bill_id: c.bill_id }),
            BillState::Unpaid => {}
        }
        if c.amount != bill.left() {
            return Err(DomainError::AmountMismatch {
                what: AmountOf::Bill,
                expected: bill.left(),
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

    /// Money that arrived is recorded whatever it matches, and applied (消込): to the bill it
    /// names first, then to the member's open bills, oldest due date first, each as far as
    /// it goes. A bill it covers is paid; one it does not stays open with less left to pay.
    /// What is left over is kept as the member's unapplied balance, which the next close
    /// applies to its bill (or a refund pays back).
    pub(crate) fn receive_payment(&self, c: &ReceivePayment) -> Result<Decision, DomainError> {
        if c.transaction_id.trim().is_empty() || c.transaction_id.len() > MAX_ID_BYTES {
            return Err(DomainError::invalid(
                "transaction_id",
                format!("is required, 1 to {MAX_ID_BYTES} bytes"),
            ));
        }
        positive_amount("amount", c.amount, "money received")?;
        let mut open: Vec<(Uuid, &Bill)> = self
            .bills
            .iter()
            .filter(|(_, b)| b.left() > 0)
            .map(|(id, b)| (*id, b))
            .collect();
        // The named bill first, then by due date; ids are UUIDv7, so older bills first on
        // the same date.
        open.sort_by_key(|(id, b)| (Some(*id) != c.bill_id, b.due_date, *id));
        if c.hold {
            open.clear();
        }
        let mut money = c.amount;
        let mut applications = Vec::new();
        for (bill_id, bill) in open {
            if money == 0 {
                break;
            }
            let (applied, _) = take(money, bill.left());
            money -= applied;
            applications.push(Application {
                bill_id,
                amount: applied,
                left: bill.left() - applied,
            });
        }
        let received = PaymentReceived {
            transaction_id: c.transaction_id.clone(),
            bill_id: c.bill_id,
            amount: c.amount,
            received_at: c.received_at,
            applied: !applications.is_empty(),
            applications,
        };
        let reply = Reply::received(&received, self.version + 1);
        Ok(Decision::Append {
            events: vec![Event::PaymentReceived(received)],
            reply,
        })
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
