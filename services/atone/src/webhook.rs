//! The payment provider's webhook: `POST /webhooks/payments`, plain HTTP on the gRPC port.
//!
//! The body is JSON (`event_id`, `type`, `user_id`, `bill_id`, `amount`, `paid_at`); the
//! `Atone-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw
//! body>")>`, the scheme payment providers use. A signature is checked in constant time
//! against every configured secret (two at once while one is rotated), the timestamp must be
//! within five minutes, and the event id is the idempotency key: a replay answers the first
//! result and records nothing new. What passes becomes a `ReceivePayment` command, so money
//! that matches no unpaid bill is kept as the member's unapplied balance, never refused.

use std::time::SystemTime;

use atone_command::{CommandError, CommandHandler};
use atone_domain::{Command, DomainError, ReceivePayment, Reply, validate};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::signature::Signature;

/// The secret of a development atone (authentication off, no `--webhook-secret`): it
/// serves loopback only, and the README's walkthrough signs with it.
pub const DEVELOPMENT_SECRET: &str = "dev-webhook-secret";
/// The largest body accepted.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Clone)]
struct Webhook {
    handler: CommandHandler,
    secrets: Vec<Vec<u8>>,
}

/// Where providers post their notifications.
pub const PATH: &str = "/webhooks/payments";

/// The route, for a process that runs CommandService.
pub fn router(handler: CommandHandler, secrets: &[String]) -> Router {
    let state = Webhook {
        handler,
        secrets: secrets.iter().map(|s| s.as_bytes().to_vec()).collect(),
    };
    Router::new().route(PATH, post(receive)).with_state(state)
}

/// A provider's payment notification.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Notification {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    user_id: String,
    #[serde(default)]
    bill_id: String,
    amount: i64,
    paid_at: DateTime<Utc>,
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    tracing::debug!(%status, %message, "webhook refused");
    answer(status, serde_json::json!({ "error": message }))
}

async fn receive(State(webhook): State<Webhook>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // The header first: a missing, stale or overlong signature is refused before a byte of
    // the body is read.
    let signature = match Signature::parse(&parts.headers, SystemTime::now()) {
        Ok(signature) => signature,
        Err(reason) => return refuse(StatusCode::UNAUTHORIZED, reason),
    };
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    if let Err(reason) = signature.verify(&webhook.secrets, &body) {
        return refuse(StatusCode::UNAUTHORIZED, reason);
    }
    let notification: Notification = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("not a payment notification: {e}"),
            );
        }
    };
    if notification.kind != "payment.succeeded" {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "type {:?} is not handled; only \"payment.succeeded\"",
                notification.kind
            ),
        );
    }
    match record_or_keep(&webhook.handler, notification, &body).await {
        Ok((
            Reply::ReceivePayment {
                applied,
                applications,
                kept,
                version,
            },
            None,
        )) => answer(
            StatusCode::OK,
            serde_json::json!({
                "applied": applied,
                "applications": applications,
                "kept": kept,
                "version": version,
            }),
        ),
        Ok((
            Reply::ReceivePayment {
                applied,
                kept,
                version,
                ..
            },
            Some(kept_as),
        )) => answer(
            StatusCode::OK,
            serde_json::json!({
                "applied": applied,
                "kept": kept,
                "version": version,
                "kept_as": kept_as,
                "reason": "the event id was used before for another notification: this money is kept as the member's unapplied balance, under its own transaction id, for an operator to apply or refund",
            }),
        ),
        Ok(other) => {
            tracing::error!(?other, "a payment answered another command's reply");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
        Err(CommandError::Domain(e)) => refuse(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => {
            let status = tonic::Status::from(e);
            let code = if status.code() == tonic::Code::Unavailable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            refuse(code, status.message())
        }
    }
}

/// Records the notification; one whose event id was used before for another notification
/// (another amount, say) is money received all the same: it is kept as the member's
/// unapplied balance (no bill), under a transaction id of its own made from the event id and
/// the body, so a replay of it is recorded once too. Returns that id when it was used.
async fn record_or_keep(
    handler: &CommandHandler,
    n: Notification,
    body: &[u8],
) -> Result<(Reply, Option<String>), CommandError> {
    match record(handler, n.clone(), false).await {
        Err(CommandError::Domain(DomainError::IdempotencyKeyReused { .. })) => {
            let kept_as = reused_id(&n.event_id, body);
            tracing::warn!(
                event_id = %n.event_id,
                kept_as = %kept_as,
                "webhook event id reused for another notification: kept as unapplied money"
            );
            let kept = Notification {
                event_id: kept_as.clone(),
                bill_id: String::new(),
                ..n
            };
            record(handler, kept, true)
                .await
                .map(|reply| (reply, Some(kept_as)))
        }
        other => other.map(|reply| (reply, None)),
    }
}

/// The transaction id of a notification whose event id was used before: the event id (cut
/// to fit) and a digest of the body, so that each distinct body is recorded once.
fn reused_id(event_id: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(&Sha256::digest(body)[..8]);
    let room = validate::MAX_ID_BYTES - "#reused-".len() - digest.len();
    let mut cut = event_id.len().min(room);
    while !event_id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#reused-{digest}", &event_id[..cut])
}

/// Records the notification as `ReceivePayment`, keyed by its event id; `hold` keeps the
/// money unapplied.
async fn record(
    handler: &CommandHandler,
    n: Notification,
    hold: bool,
) -> Result<Reply, CommandError> {
    validate::user_id(&n.user_id)?;
    validate::idempotency_key(&n.event_id).map_err(|e| match e {
        DomainError::InvalidArgument { reason, .. } => DomainError::InvalidArgument {
            field: "event_id",
            reason,
        },
        other => other,
    })?;
    let bill_id = match n.bill_id.as_str() {
        "" => None,
        id => Some(validate::id("bill_id", id)?),
    };
    let command = Command::ReceivePayment(ReceivePayment {
        transaction_id: n.event_id.clone(),
        bill_id,
        amount: n.amount,
        received_at: n.paid_at,
        hold,
    });
    let correlation_id = format!("webhook:{}", n.event_id);
    handler
        .execute(&n.user_id, &n.event_id, command, correlation_id)
        .await
}

/// The body, whole: at most [`MAX_BODY_BYTES`], within the server's body timeout.
async fn read_body(body: Body) -> Result<Bytes, Response> {
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            let status = e
                .downcast_ref::<axum::Error>()
                .and_then(|e| std::error::Error::source(e))
                .and_then(|e| e.downcast_ref::<tonic::Status>());
            Err(match status.map(tonic::Status::code) {
                Some(tonic::Code::DeadlineExceeded) => refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive in time",
                ),
                Some(tonic::Code::ResourceExhausted) => {
                    refuse(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large")
                }
                _ if e.is::<http_body_util::LengthLimitError>() => refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the body is larger than 16 KiB",
                ),
                _ => refuse(StatusCode::BAD_REQUEST, "the body could not be read"),
            })
        }
    }
}
