use atone_domain::DomainError;
use atone_storage::StorageError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Other writers kept appending to the member's stream first, attempt after attempt.
    #[error("user {user_id}: gave up after {attempts} conflicting attempts")]
    Contended { user_id: String, attempts: u32 },
}

impl From<CommandError> for Status {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Domain(e) => domain_status(e),
            CommandError::Storage(e) => e.into(),
            CommandError::Contended { .. } => Status::aborted(format!(
                "{error}: the member is being changed concurrently; retry with the same idempotency key"
            )),
        }
    }
}

fn domain_status(e: DomainError) -> Status {
    let message = e.to_string();
    match e {
        DomainError::InvalidArgument { field, reason } => Status::with_error_details(
            Code::InvalidArgument,
            message,
            ErrorDetails::with_bad_request_violation(field, reason),
        ),
        DomainError::DateInFuture { .. } => Status::with_error_details(
            Code::InvalidArgument,
            message.clone(),
            ErrorDetails::with_bad_request_violation("as_of", message),
        ),
        DomainError::PromiseNotFound { .. }
        | DomainError::BillNotFound { .. }
        | DomainError::OrderNotFound { .. } => Status::not_found(message),
        DomainError::CreditLimitExceeded { .. } => Status::with_error_details(
            Code::FailedPrecondition,
            message.clone(),
            ErrorDetails::with_precondition_failure_violation("CREDIT_LIMIT", "amount", message),
        ),
        DomainError::MemberOverdue { .. } => Status::with_error_details(
            Code::FailedPrecondition,
            message.clone(),
            ErrorDetails::with_precondition_failure_violation("OVERDUE", "user_id", message),
        ),
        DomainError::PromiseAlreadyBilled { .. }
        | DomainError::PromiseNotImmediate { .. }
        | DomainError::AmountMismatch { .. }
        | DomainError::BillAlreadyPaid { .. }
        | DomainError::AlreadyCancelled { .. }
        | DomainError::CancellationTooLarge { .. }
        | DomainError::BillCancelled { .. }
        | DomainError::PeriodNotEnded { .. }
        | DomainError::NothingToRefund
        | DomainError::RefundTooLarge { .. } => Status::failed_precondition(message),
        DomainError::IdempotencyKeyReused { .. } => Status::already_exists(message),
    }
}
