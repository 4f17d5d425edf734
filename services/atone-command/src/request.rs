//! What each command RPC carries, read into a domain [`Command`], and its reply written
//! back, so that one handler body serves every RPC.

use atone_api::convert::payment_mode;
use atone_api::v1::{
    CompletePaymentRequest, CompletePaymentResponse, IssueImmediateBillRequest,
    IssueImmediateBillResponse, PurchaseRequest, PurchaseResponse,
};
use atone_domain::{
    Command, CompletePayment, DomainError, IssueImmediateBill, Purchase, Reply, validate,
};

/// A command request of the API.
pub trait CommandRequest {
    type Response;

    fn user_id(&self) -> &str;
    fn idempotency_key(&self) -> &str;
    /// The command asked for, or why the request cannot be one.
    fn command(self) -> Result<Command, DomainError>;
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

    keyed!();

    fn command(self) -> Result<Command, DomainError> {
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

    keyed!();

    fn command(self) -> Result<Command, DomainError> {
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

    keyed!();

    fn command(self) -> Result<Command, DomainError> {
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
