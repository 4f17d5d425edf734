use atone_api::v1::command_service_server::CommandService;
use atone_api::v1::*;
use atone_auth::Caller;
use atone_domain::validate;
use tonic::{Request, Response, Status};
use tracing::Instrument;
use uuid::Uuid;

use crate::request::CommandRequest;
use crate::{CommandError, CommandHandler};

/// The gRPC face of [`CommandHandler`].
#[derive(Clone)]
pub struct CommandApi {
    handler: CommandHandler,
}

impl CommandApi {
    pub fn new(handler: CommandHandler) -> Self {
        Self { handler }
    }

    /// Every command RPC: read the request, decide and append, answer the reply.
    async fn call<R: CommandRequest>(
        &self,
        request: Request<R>,
    ) -> Result<Response<R::Response>, Status> {
        Caller::of(&request)?.require(R::SCOPE)?;
        let correlation_id = correlation_id(&request);
        let request = request.into_inner();
        let user_id = request.user_id().to_owned();
        let idempotency_key = request.idempotency_key().to_owned();
        // The user id is checked first: a huge or malformed one is refused before anything
        // else is parsed or logged.
        validate::user_id(&user_id).map_err(CommandError::from)?;
        let command = request
            .command(self.handler.clock().now())
            .map_err(CommandError::from)?;
        let span = tracing::info_span!("command", user_id, correlation_id = %correlation_id);
        let reply = self
            .handler
            .execute(&user_id, &idempotency_key, command, correlation_id)
            .instrument(span.clone())
            .await;
        let _enter = span.enter();
        match &reply {
            Ok(_) => tracing::debug!("command accepted"),
            // A refusal is the caller's business, at debug (a flood of them must not flood
            // the log); storage and contention are logged where they become a status.
            Err(CommandError::Domain(e)) => tracing::debug!(error = %e, "command refused"),
            Err(e @ CommandError::Contended { .. }) => {
                tracing::warn!(error = %e, "command gave up on contention");
            }
            // Logged as it becomes a status (`From<StorageError> for Status`).
            Err(CommandError::Storage(_)) => {}
        }
        let reply = reply?;
        R::response(reply.clone())
            .map(Response::new)
            .ok_or_else(|| {
                tracing::error!(?reply, "a command answered another command's reply");
                Status::internal("internal error")
            })
    }
}

/// The caller's `x-correlation-id`, if it is usable, else a new one.
fn correlation_id<T>(request: &Request<T>) -> String {
    request
        .metadata()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned)
}

#[tonic::async_trait]
impl CommandService for CommandApi {
    async fn purchase(
        &self,
        request: Request<PurchaseRequest>,
    ) -> Result<Response<PurchaseResponse>, Status> {
        self.call(request).await
    }

    async fn issue_immediate_bill(
        &self,
        request: Request<IssueImmediateBillRequest>,
    ) -> Result<Response<IssueImmediateBillResponse>, Status> {
        self.call(request).await
    }

    async fn complete_payment(
        &self,
        request: Request<CompletePaymentRequest>,
    ) -> Result<Response<CompletePaymentResponse>, Status> {
        self.call(request).await
    }

    async fn set_payment_method(
        &self,
        request: Request<SetPaymentMethodRequest>,
    ) -> Result<Response<SetPaymentMethodResponse>, Status> {
        self.call(request).await
    }

    async fn cancel_purchase(
        &self,
        request: Request<CancelPurchaseRequest>,
    ) -> Result<Response<CancelPurchaseResponse>, Status> {
        self.call(request).await
    }

    async fn receive_payment(
        &self,
        request: Request<ReceivePaymentRequest>,
    ) -> Result<Response<ReceivePaymentResponse>, Status> {
        self.call(request).await
    }

    async fn issue_refund(
        &self,
        request: Request<IssueRefundRequest>,
    ) -> Result<Response<IssueRefundResponse>, Status> {
        self.call(request).await
    }

    async fn change_credit_limit(
        &self,
        request: Request<ChangeCreditLimitRequest>,
    ) -> Result<Response<ChangeCreditLimitResponse>, Status> {
        self.call(request).await
    }

    async fn set_bank_account(
        &self,
        request: Request<SetBankAccountRequest>,
    ) -> Result<Response<SetBankAccountResponse>, Status> {
        self.call(request).await
    }
}
