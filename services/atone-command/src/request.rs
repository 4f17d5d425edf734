//! What each command RPC carries, read into a domain [`Command`], and its reply written
//! back, so that one handler body serves every RPC.

use atone_api::convert::{account_of, bank_account, datetime, payment_method, payment_mode};
use atone_api::v1::*;
use atone_auth::Scope;
use atone_domain::{
    CancelPurchase, ChangeCreditLimit, Command, CompletePayment, DomainError, IssueImmediateBill,
    IssueRefund, Purchase, ReceivePayment, Reply, SetBankAccount, SetPaymentMethod, validate,
};
use chrono::{DateTime, Utc};

/// A command request of the API.
pub trait CommandRequest {
    type Response;
    /// What an API key needs to make this request.
    const SCOPE: Scope;

    fn user_id(&self) -> &str;
    fn idempotency_key(&self) -> &str;
    /// The command asked for (at `now`, for a request that may leave the time out), or
    /// why the request cannot be one.
    fn command(self, now: DateTime<Utc>) -> Result<Command, DomainError>;
    /// The response for `reply`; `None` if the reply is of another command.
    fn response(reply: Reply) -> Option<Self::Response>;
}

/// The fields every command request has, by the same names.
macro_rules! keyed {
    () => {
        fn user_id(&self) -> &str {
            &self.user_id
        }

        fn idempotency_key(&self) -> &str {
            &self.idempotency_key
        }
    };
}

impl CommandRequest for PurchaseRequest {
    type Response = PurchaseResponse;
    const SCOPE: Scope = Scope::Purchases;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        let payment_mode =
            payment_mode(self.payment_mode).map_err(|e| DomainError::InvalidArgument {
                field: "payment_mode",
                reason: e.to_string(),
            })?;
        Ok(Command::Purchase(Purchase {
            product_id: self.product_id,
            product_name: self.product_name,
            amount: self.amount,
            payment_mode,
        }))
    }

    fn response(reply: Reply) -> Option<PurchaseResponse> {
        match reply {
            Reply::Purchase {
                order_id,
                promise_id,
                due_date,
                version,
            } => Some(PurchaseResponse {
                order_id: order_id.to_string(),
                promise_id: promise_id.to_string(),
                due_date: due_date.to_string(),
                version,
            }),
            _ => None,
        }
    }
}

impl CommandRequest for IssueImmediateBillRequest {
    type Response = IssueImmediateBillResponse;
    const SCOPE: Scope = Scope::Billing;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        Ok(Command::IssueImmediateBill(IssueImmediateBill {
            promise_id: validate::id("promise_id", &self.promise_id)?,
            amount: self.amount,
        }))
    }

    fn response(reply: Reply) -> Option<IssueImmediateBillResponse> {
        match reply {
            Reply::IssueImmediateBill {
                bill_id,
                due_date,
                version,
            } => Some(IssueImmediateBillResponse {
                bill_id: bill_id.to_string(),
                due_date: due_date.to_string(),
                version,
            }),
            _ => None,
        }
    }
}

impl CommandRequest for CompletePaymentRequest {
    type Response = CompletePaymentResponse;
    const SCOPE: Scope = Scope::Payments;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        Ok(Command::CompletePayment(CompletePayment {
            bill_id: validate::id("bill_id", &self.bill_id)?,
            amount: self.amount,
        }))
    }

    fn response(reply: Reply) -> Option<CompletePaymentResponse> {
        match reply {
            Reply::CompletePayment { version } => Some(CompletePaymentResponse { version }),
            _ => None,
        }
    }
}

impl CommandRequest for SetPaymentMethodRequest {
    type Response = SetPaymentMethodResponse;
    const SCOPE: Scope = Scope::Billing;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        let method = payment_method(self.method).map_err(|e| DomainError::InvalidArgument {
            field: "method",
            reason: e.to_string(),
        })?;
        Ok(Command::SetPaymentMethod(SetPaymentMethod { method }))
    }

    fn response(reply: Reply) -> Option<SetPaymentMethodResponse> {
        match reply {
            Reply::SetPaymentMethod { version } => Some(SetPaymentMethodResponse { version }),
            _ => None,
        }
    }
}

impl CommandRequest for CancelPurchaseRequest {
    type Response = CancelPurchaseResponse;
    const SCOPE: Scope = Scope::Purchases;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        Ok(Command::CancelPurchase(CancelPurchase {
            order_id: validate::id("order_id", &self.order_id)?,
            amount: self.amount,
        }))
    }

    fn response(reply: Reply) -> Option<CancelPurchaseResponse> {
        match reply {
            Reply::CancelPurchase {
                promise_id,
                remaining_amount,
                version,
            } => Some(CancelPurchaseResponse {
                promise_id: promise_id.to_string(),
                remaining_amount,
                version,
            }),
            _ => None,
        }
    }
}

/// The provider's transaction id is the idempotency key: the same one twice is recorded
/// once.
impl CommandRequest for ReceivePaymentRequest {
    type Response = ReceivePaymentResponse;
    const SCOPE: Scope = Scope::Payments;

    fn user_id(&self) -> &str {
        &self.user_id
    }

    fn idempotency_key(&self) -> &str {
        &self.transaction_id
    }

    fn command(self, now: DateTime<Utc>) -> Result<Command, DomainError> {
        // The key is the transaction id: name that field if it is missing.
        validate::idempotency_key(&self.transaction_id).map_err(|e| match e {
            DomainError::InvalidArgument { reason, .. } => DomainError::InvalidArgument {
                field: "transaction_id",
                reason,
            },
            other => other,
        })?;
        let bill_id = match self.bill_id.as_str() {
            "" => None,
            id => Some(validate::id("bill_id", id)?),
        };
        let received_at = match self.received_at {
            None => now,
            Some(t) => datetime(t).ok_or_else(|| DomainError::InvalidArgument {
                field: "received_at",
                reason: "is not a valid time".into(),
            })?,
        };
        Ok(Command::ReceivePayment(ReceivePayment {
            transaction_id: self.transaction_id,
            bill_id,
            amount: self.amount,
            received_at,
            hold: false,
        }))
    }

    fn response(reply: Reply) -> Option<ReceivePaymentResponse> {
        match reply {
            Reply::ReceivePayment {
                applied,
                applications,
                kept,
                version,
            } => Some(ReceivePaymentResponse {
                applied,
                version,
                applications: applications
                    .iter()
                    .map(atone_api::convert::application)
                    .collect(),
                kept,
            }),
            _ => None,
        }
    }
}

impl CommandRequest for IssueRefundRequest {
    type Response = IssueRefundResponse;
    const SCOPE: Scope = Scope::Admin;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        Ok(Command::IssueRefund(IssueRefund {
            amount: self.amount,
        }))
    }

    fn response(reply: Reply) -> Option<IssueRefundResponse> {
        match reply {
            Reply::IssueRefund {
                refund_id,
                amount,
                version,
            } => Some(IssueRefundResponse {
                refund_id: refund_id.to_string(),
                amount,
                version,
            }),
            _ => None,
        }
    }
}

impl CommandRequest for ChangeCreditLimitRequest {
    type Response = ChangeCreditLimitResponse;
    const SCOPE: Scope = Scope::Admin;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        Ok(Command::ChangeCreditLimit(ChangeCreditLimit {
            limit: self.limit,
        }))
    }

    fn response(reply: Reply) -> Option<ChangeCreditLimitResponse> {
        match reply {
            Reply::ChangeCreditLimit { version } => Some(ChangeCreditLimitResponse { version }),
            _ => None,
        }
    }
}

impl CommandRequest for SetBankAccountRequest {
    type Response = SetBankAccountResponse;
    const SCOPE: Scope = Scope::Billing;

    keyed!();

    fn command(self, _now: DateTime<Utc>) -> Result<Command, DomainError> {
        let given = self
            .account
            .as_ref()
            .ok_or_else(|| DomainError::InvalidArgument {
                field: "account",
                reason: "is required".to_owned(),
            })?;
        let account = account_of(given).ok_or_else(|| DomainError::InvalidArgument {
            field: "account.kind",
            reason: format!("{} is not a known account kind", given.kind),
        })?;
        Ok(Command::SetBankAccount(SetBankAccount { account }))
    }

    fn response(reply: Reply) -> Option<SetBankAccountResponse> {
        match reply {
            Reply::SetBankAccount { account, version } => Some(SetBankAccountResponse {
                version,
                account: Some(bank_account(&account)),
            }),
            _ => None,
        }
    }
}
