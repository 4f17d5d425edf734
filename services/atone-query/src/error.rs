use std::time::Duration;

use atone_domain::DomainError;
use atone_storage::StorageError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    /// The client's own deadline passed while waiting for min_version.
    #[error(
        "deadline exceeded waiting for user {user_id} to reach version {wanted} (read model at {reached})"
    )]
    DeadlineExceeded {
        user_id: String,
        wanted: i64,
        reached: i64,
    },
    /// Our bound on waiting passed: the projector is behind.
    #[error(
        "read model of user {user_id} is at version {reached}, behind the requested {wanted}, after waiting {waited:?}; the projector is behind, retry later"
    )]
    Behind {
        user_id: String,
        wanted: i64,
        reached: i64,
        waited: Duration,
    },
    /// The version asked for does not exist in the event store.
    #[error("user {user_id} has no version {wanted}: the latest is {latest}")]
    NoSuchVersion {
        user_id: String,
        wanted: i64,
        latest: i64,
    },
    /// A watch past the limits (per member, per process).
    #[error("too many watches: {what}; close one, or retry later")]
    TooManyWatchers { what: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<DomainError> for QueryError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::InvalidArgument { field, reason } => {
                Self::InvalidArgument { field, reason }
            }
            other => Self::InvalidArgument {
                field: "request",
                reason: other.to_string(),
            },
        }
    }
}

impl From<QueryError> for Status {
    fn from(e: QueryError) -> Self {
        let message = e.to_string();
        match e {
            QueryError::InvalidArgument { field, reason } => Status::with_error_details(
                Code::InvalidArgument,
                message,
                ErrorDetails::with_bad_request_violation(field, reason),
            ),
            QueryError::DeadlineExceeded { .. } => Status::deadline_exceeded(message),
            QueryError::Behind { .. } => Status::unavailable(message),
            QueryError::NoSuchVersion { .. } => Status::out_of_range(message),
            QueryError::TooManyWatchers { .. } => {
                tracing::debug!(%message, "watch refused");
                Status::resource_exhausted(message)
            }
            QueryError::Storage(e) => e.into(),
        }
    }
}
