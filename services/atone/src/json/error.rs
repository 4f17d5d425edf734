//! Errors in the Connect protocol's JSON form: `{"code": "invalid_argument", "message": …,
//! "details": [{"type": "google.rpc.BadRequest", "value": <base64>, "debug": {…}}]}`, with
//! the HTTP status Connect gives each code.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use prost::Message;
use prost_reflect::DynamicMessage;
use serde::Serialize;
use serde_json::Value;
use tonic::Code;

use super::{Gateway, json_response};

/// An error of the JSON gateway itself, with no details.
pub fn json_error(code: Code, message: impl Into<String>) -> Response {
    let message = message.into();
    let body = ErrorBody {
        code: code_name(code),
        message: &message,
        details: Vec::new(),
    };
    json_response(http_status(code), to_vec(&body))
}

/// Connect's error, its fields in Connect's order.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<Detail>,
}

#[derive(Serialize)]
struct Detail {
    #[serde(rename = "type")]
    type_name: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<Value>,
}

fn to_vec(body: &ErrorBody<'_>) -> Vec<u8> {
    // A struct of strings and JSON values always serializes.
    serde_json::to_vec(body).unwrap_or_default()
}

impl Gateway {
    /// A call's status as JSON, its details (which field was wrong, and why) included, each
    /// both as Connect's base64 `value` and, readable, as `debug`.
    pub(super) fn error(&self, status: &tonic::Status) -> Response {
        json_response(http_status(status.code()), self.error_json(status))
    }

    pub(super) fn error_json(&self, status: &tonic::Status) -> Vec<u8> {
        let details = tonic_types::pb::Status::decode(status.details())
            .map(|s| s.details)
            .unwrap_or_default()
            .iter()
            .map(|any| self.detail(any))
            .collect();
        to_vec(&ErrorBody {
            code: code_name(status.code()),
            message: status.message(),
            details,
        })
    }

    fn detail(&self, any: &prost_types::Any) -> Detail {
        let type_name = any.type_url.rsplit('/').next().unwrap_or_default();
        let debug = self
            .pool
            .get_message_by_name(type_name)
            .and_then(|desc| DynamicMessage::decode(desc, any.value.as_slice()).ok())
            .and_then(|message| serde_json::to_value(&message).ok());
        Detail {
            type_name: type_name.to_owned(),
            value: base64::engine::general_purpose::STANDARD_NO_PAD.encode(&any.value),
            debug,
        }
    }
}

/// Connect's name of a code: the gRPC name in snake case.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The HTTP status Connect sends with each code.
fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
