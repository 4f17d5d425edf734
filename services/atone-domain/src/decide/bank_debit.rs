//! 口座振替: the account a member's bank-debit bills are drawn from, and what a failed debit
//! does to the bill.

use crate::command::{Context, Decision, RecordDebitFailure, Reply, SetBankAccount};
use crate::event::{BankAccountSet, BankDebitFailed, Event, PaymentMethod};
use crate::validate::MAX_NAME_BYTES;
use crate::{BankAccount, DEBIT_FAILURE_DAYS, DomainError, Member, business_date};

impl Member {
    /// Any valid account; setting the same one again records it again (a member may
    /// confirm it).
    pub(crate) fn set_bank_account(&self, c: &SetBankAccount) -> Result<Decision, DomainError> {
        let account = BankAccount::parse(&c.account)?;
        let reply = Reply::SetBankAccount {
            account: account.masked(),
            version: self.version + 1,
        };
        Ok(Decision::Append {
            events: vec![Event::BankAccountSet(BankAccountSet { account })],
            reply,
        })
    }

    /// A debit the bank could not make: an open bank-debit bill becomes a convenience-store
    /// bill with the bill-issuing fee, due [`DEBIT_FAILURE_DAYS`] after today, and no
    /// longer overdue until then. A bill paid, cancelled or already turned into a
    /// convenience-store bill meanwhile is left as it is, and nothing is recorded.
    pub(crate) fn record_debit_failure(
        &self,
        user_id: &str,
        c: &RecordDebitFailure,
        ctx: &mut Context<'_>,
    ) -> Result<Decision, DomainError> {
        if !(1..=9).contains(&c.code) {
            return Err(DomainError::invalid(
                "code",
                format!(
                    "{} is not a failure; a result code of a failed debit is 1 to 9",
                    c.code
                ),
            ));
        }
        if c.reason.len() > MAX_NAME_BYTES || c.reason.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "reason",
                format!("must be at most {MAX_NAME_BYTES} bytes without control characters"),
            ));
        }
        let bill = self.bill(user_id, c.bill_id)?;
        if !bill.is_unpaid() || bill.method != Some(PaymentMethod::BankDebit) {
            return Ok(Decision::Append {
                events: Vec::new(),
                reply: Reply::RecordDebitFailure {
                    converted: false,
                    amount: bill.amount,
                    due_date: bill.due_date,
                    version: self.version,
                },
            });
        }
        let due_date = business_date(ctx.now) + chrono::Days::new(DEBIT_FAILURE_DAYS as u64);
        let failed = BankDebitFailed {
            bill_id: c.bill_id,
            code: c.code,
            reason: c.reason.clone(),
            fee: ctx.bill_fee,
            amount: bill.amount + ctx.bill_fee,
            due_date,
        };
        let reply = Reply::RecordDebitFailure {
            converted: true,
            amount: failed.amount,
            due_date,
            version: self.version + 1,
        };
        Ok(Decision::Append {
            events: vec![Event::BankDebitFailed(failed)],
            reply,
        })
    }
}
