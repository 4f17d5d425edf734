//! One error type for every Kinesis call, classified by what the caller should do about it.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError;

/// A failed Kinesis call, after the retries of [`crate::RetryPolicy`] were used up.
///
/// Each variant carries the API operation (`"GetRecords"`, ...) and the full error chain as
/// text; the variant itself says what kind of failure it was, so callers match on it rather
/// than on messages.
#[derive(Debug, thiserror::Error)]
pub enum KinesisError {
    /// The stream, a shard or the per-account control plane is over its limit
    /// (`ProvisionedThroughputExceededException`, `LimitExceededException`,
    /// `KMSThrottlingException`). Transient: back off and try again.
    #[error("kinesis {operation} throttled: {message}")]
    Throttled {
        operation: &'static str,
        message: String,
    },
    /// A shard iterator is older than five minutes (`ExpiredIteratorException`): get a
    /// new one from the last processed sequence number.
    #[error("kinesis {operation}: shard iterator expired: {message}")]
    ExpiredIterator {
        operation: &'static str,
        message: String,
    },
    /// The stream, shard or consumer does not exist (`ResourceNotFoundException`).
    #[error("kinesis {operation}: resource not found: {message}")]
    ResourceNotFound {
        operation: &'static str,
        message: String,
    },
    /// The stream or consumer exists but is not in a state that allows the call, e.g. it is
    /// being created, updated or deleted, or it already exists (`ResourceInUseException`).
    #[error("kinesis {operation}: resource in use: {message}")]
    ResourceInUse {
        operation: &'static str,
        message: String,
    },
    /// The request itself is wrong (`InvalidArgumentException`, `ValidationException`, a
    /// record over the size limits, a missing field): retrying cannot help.
    #[error("kinesis {operation}: invalid argument: {message}")]
    InvalidArgument {
        operation: &'static str,
        message: String,
    },
    /// Kinesis could not be reached or did not answer properly: connection refused, DNS,
    /// connect or operation timeout, a dropped connection, or an HTTP 5xx
    /// (`InternalFailure`, `ServiceUnavailable`). Transient from the caller's view.
    #[error("kinesis {operation} unavailable: {message}")]
    Unavailable {
        operation: &'static str,
        message: String,
    },
    /// A state change (stream ACTIVE, consumer ACTIVE, stream gone) did not happen before
    /// the deadline this crate polls with.
    #[error("kinesis {operation}: gave up waiting: {message}")]
    WaitTimedOut {
        operation: &'static str,
        message: String,
    },
    /// Anything else: an unexpected error code (access denied, KMS errors, ...) or an
    /// answer this crate cannot interpret.
    #[error("kinesis {operation} failed (code {code:?}): {message}")]
    Other {
        operation: &'static str,
        /// The AWS error code when there was one.
        code: Option<String>,
        message: String,
    },
}

impl atone_retry::Retryable for KinesisError {
    fn is_transient(&self) -> bool {
        KinesisError::is_transient(self)
    }
}

impl KinesisError {
    /// True for failures that are worth retrying after a pause: throttling and
    /// unavailability.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Unavailable { .. })
    }

    /// The Kinesis API operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Throttled { operation, .. }
            | Self::ExpiredIterator { operation, .. }
            | Self::ResourceNotFound { operation, .. }
            | Self::ResourceInUse { operation, .. }
            | Self::InvalidArgument { operation, .. }
            | Self::Unavailable { operation, .. }
            | Self::WaitTimedOut { operation, .. }
            | Self::Other { operation, .. } => operation,
        }
    }

    pub(crate) fn invalid(operation: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            operation,
            message: message.into(),
        }
    }

    pub(crate) fn unexpected(operation: &'static str, message: impl Into<String>) -> Self {
        Self::Other {
            operation,
            code: None,
            message: message.into(),
        }
    }

    /// Classifies an SDK error of a regular (HTTP request/response) operation.
    pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        classify(operation, err, status, None)
    }

    /// Classifies an error received on the SubscribeToShard event stream, whose raw
    /// "response" is an event-stream message rather than an HTTP response. Such errors carry
    /// their code in the `:exception-type` header, which the SDK turns into the enum variant
    /// but not into `code()`, so the variant is read here.
    pub(crate) fn from_event_stream<R>(
        operation: &'static str,
        err: SdkError<SubscribeToShardEventStreamError, R>,
    ) -> Self
    where
        R: Debug + Send + Sync + 'static,
    {
        let hint = err.as_service_error().and_then(event_error_code);
        classify(operation, err, None, hint)
    }
}

fn event_error_code(e: &SubscribeToShardEventStreamError) -> Option<&'static str> {
    use SubscribeToShardEventStreamError as E;
    Some(match e {
        E::ResourceNotFoundException(_) => "ResourceNotFoundException",
        E::ResourceInUseException(_) => "ResourceInUseException",
        E::KmsThrottlingException(_) => "KMSThrottlingException",
        E::InternalFailureException(_) => "InternalFailureException",
        E::KmsDisabledException(_) => "KMSDisabledException",
        E::KmsInvalidStateException(_) => "KMSInvalidStateException",
        E::KmsAccessDeniedException(_) => "KMSAccessDeniedException",
        E::KmsNotFoundException(_) => "KMSNotFoundException",
        E::KmsOptInRequired(_) => "KMSOptInRequired",
        _ => return None,
    })
}

/// Error codes that mean "slow down", from the Kinesis API reference.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "KMSThrottlingException",
    "ThrottlingException",
    "Throttling",
];

/// Error codes AWS uses for its own transient failures (returned with HTTP 5xx).
const SERVER_CODES: &[&str] = &[
    "InternalFailure",
    "InternalFailureException",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// `code_hint` is used when the error metadata has no code.
fn classify<E, R>(
    operation: &'static str,
    err: SdkError<E, R>,
    status: Option<u16>,
    code_hint: Option<&'static str>,
) -> KinesisError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let message = DisplayErrorContext(&err).to_string();
    match &err {
        // Connection refused, DNS failure, reset connection, connect timeout: never a
        // verdict from Kinesis itself.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            KinesisError::Unavailable { operation, message }
        }
        SdkError::ConstructionFailure(_) => KinesisError::InvalidArgument { operation, message },
        SdkError::ServiceError(_) => {
            let code = err.code().or(code_hint).map(str::to_owned);
            classify_code(operation, code, status, message)
        }
        // An answer that could not be parsed: a proxy's 502 page, a truncated body.
        SdkError::ResponseError(_) if status.is_none_or(|s| s >= 500) => {
            KinesisError::Unavailable { operation, message }
        }
        _ => KinesisError::Other {
            operation,
            code: err.code().or(code_hint).map(str::to_owned),
            message,
        },
    }
}

fn classify_code(
    operation: &'static str,
    code: Option<String>,
    status: Option<u16>,
    message: String,
) -> KinesisError {
    match code.as_deref() {
        Some(c) if THROTTLING_CODES.contains(&c) => KinesisError::Throttled { operation, message },
        Some("ExpiredIteratorException") => KinesisError::ExpiredIterator { operation, message },
        Some("ResourceNotFoundException") => KinesisError::ResourceNotFound { operation, message },
        Some("ResourceInUseException") => KinesisError::ResourceInUse { operation, message },
        Some("InvalidArgumentException" | "ValidationException") => {
            KinesisError::InvalidArgument { operation, message }
        }
        Some(c) if SERVER_CODES.contains(&c) => KinesisError::Unavailable { operation, message },
        _ if status.is_some_and(|s| s >= 500) => KinesisError::Unavailable { operation, message },
        _ => KinesisError::Other {
            operation,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_variants() {
        let c = |code: &str, status| classify_code("Op", Some(code.into()), status, "m".into());
        assert!(matches!(
            c("ProvisionedThroughputExceededException", Some(400)),
            KinesisError::Throttled { .. }
        ));
        assert!(matches!(
            c("LimitExceededException", Some(400)),
            KinesisError::Throttled { .. }
        ));
        assert!(matches!(
            c("ExpiredIteratorException", Some(400)),
            KinesisError::ExpiredIterator { .. }
        ));
        assert!(matches!(
            c("ResourceNotFoundException", Some(400)),
            KinesisError::ResourceNotFound { .. }
        ));
        assert!(matches!(
            c("InternalFailure", Some(500)),
            KinesisError::Unavailable { .. }
        ));
        assert!(matches!(
            c("SomethingNew", Some(503)),
            KinesisError::Unavailable { .. }
        ));
        assert!(matches!(
            c("AccessDeniedException", Some(400)),
            KinesisError::Other { .. }
        ));
        assert!(c("LimitExceededException", None).is_transient());
        assert!(!c("ResourceNotFoundException", None).is_transient());
    }
}
