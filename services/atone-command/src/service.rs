use atone_api::v1::command_service_server::CommandService;
use atone_api::v1::{
    self, CompletePaymentRequest, CompletePaymentResponse, IssueImmediateBillRequest,
    IssueImmediateBillResponse, PurchaseRequest, PurchaseResponse,
};
use atone_domain::{
    Command, CompletePayment, DomainError, IssueImmediateBill, PaymentMode, Purchase, Reply,
    validate,
};
use tonic::{Request, Response, Status};
use tracing::Instrument;
use uuid::Uuid;

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

    async fn run(
        &self,
        correlation_id: String,
        user_id: &str,
        idempotency_key: &str,
        command: Result<Command, DomainError>,
    ) -> Result<Reply, Status> {
        // The user id is checked first: a huge or malformed one is refused before anything
        // else is parsed or logged.
        validate::user_id(user_id).map_err(CommandError::from)?;
        let command = command.map_err(CommandError::from)?;
        let span = tracing::info_span!("command", user_id, correlation_id = %correlation_id);
        let reply = self
            .handler
            .execute(user_id, idempotency_key, command, correlation_id.clone())
            .instrument(span.clone())
            .await;
        let _enter = span.enter();
        match &reply {
            Ok(_) => tracing::debug!("command accepted"),
            Err(e) => tracing::info!(error = %e, "command refused"),
        }
        Ok(reply?)
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

fn payment_mode(value: i32) -> Result<PaymentMode, DomainError> {
    let field = "payment_mode";
    match v1::PaymentMode::try_from(value) {
        Ok(v1::PaymentMode::Immediate) => Ok(PaymentMode::Immediate),
        Ok(v1::PaymentMode::Monthly) => Ok(PaymentMode::Monthly),
        Ok(v1::PaymentMode::Unspecified) => Err(DomainError::InvalidArgument {
            field,
            reason: "is required: PAYMENT_MODE_IMMEDIATE or PAYMENT_MODE_MONTHLY".into(),
        }),
        Err(_) => Err(DomainError::InvalidArgument {
            field,
            reason: format!(
                "{value} is not a payment mode; use PAYMENT_MODE_IMMEDIATE or PAYMENT_MODE_MONTHLY"
            ),
        }),
    }
}

fn unexpected(reply: Reply) -> Status {
    tracing::error!(?reply, "a command answered another command's reply");
    Status::internal("internal error")
}

#[tonic::async_trait]
impl CommandService for CommandApi {
    async fn purchase(
        &self,
        request: Request<PurchaseRequest>,
    ) -> Result<Response<PurchaseResponse>, Status> {
        let correlation_id = correlation_id(&request);
        let r = request.into_inner();
        let command = payment_mode(r.payment_mode).map(|payment_mode| {
            Command::Purchase(Purchase {
                product_id: r.product_id,
                product_name: r.product_name,
                amount: r.amount,
                payment_mode,
            })
        });
        match self
            .run(correlation_id, &r.user_id, &r.idempotency_key, command)
            .await?
        {
            Reply::Purchase {
                order_id,
                promise_id,
                due_date,
                version,
            } => Ok(Response::new(PurchaseResponse {
                order_id: order_id.to_string(),
                promise_id: promise_id.to_string(),
                due_date: due_date.to_string(),
                version,
            })),
            other => Err(unexpected(other)),
        }
    }

    async fn issue_immediate_bill(
        &self,
        request: Request<IssueImmediateBillRequest>,
    ) -> Result<Response<IssueImmediateBillResponse>, Status> {
        let correlation_id = correlation_id(&request);
        let r = request.into_inner();
        let command = validate::id("promise_id", &r.promise_id).map(|promise_id| {
            Command::IssueImmediateBill(IssueImmediateBill {
                promise_id,
                amount: r.amount,
            })
        });
        match self
            .run(correlation_id, &r.user_id, &r.idempotency_key, command)
            .await?
        {
            Reply::IssueImmediateBill {
                bill_id,
                due_date,
                version,
            } => Ok(Response::new(IssueImmediateBillResponse {
                bill_id: bill_id.to_string(),
                due_date: due_date.to_string(),
                version,
            })),
            other => Err(unexpected(other)),
        }
    }

    async fn complete_payment(
        &self,
        request: Request<CompletePaymentRequest>,
    ) -> Result<Response<CompletePaymentResponse>, Status> {
        let correlation_id = correlation_id(&request);
        let r = request.into_inner();
        let command = validate::id("bill_id", &r.bill_id).map(|bill_id| {
            Command::CompletePayment(CompletePayment {
                bill_id,
                amount: r.amount,
            })
        });
        match self
            .run(correlation_id, &r.user_id, &r.idempotency_key, command)
            .await?
        {
            Reply::CompletePayment { version } => {
                Ok(Response::new(CompletePaymentResponse { version }))
            }
            other => Err(unexpected(other)),
        }
    }
}
