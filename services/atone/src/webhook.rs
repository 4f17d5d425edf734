//! The payment provider's webhook: `POST /webhooks/payments`, plain HTTP on the gRPC port.
//!
//! The body is JSON (`event_id`, `type`, `user_id`, `bill_id`, `amount`, `paid_at`); the
//! `Atone-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw
//! body>")>`, the scheme payment providers use. A signature is checked in constant time
//! against every configured secret (two at once while one is rotated), the timestamp must be
//! within five minutes, and the event id is the idempotency key: a replay answers the first
//! result and records nothing new. What passes becomes a `ReceivePayment` command, so money
//! that matches no unpaid bill is kept as the member's unapplied balance, never refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atone_command::{CommandError, CommandHandler};
use atone_domain::{Command, DomainError, ReceivePayment, Reply, validate};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "atone-signature";
/// How far a signature's timestamp may be from now.
pub const TOLERANCE: Duration = Duration::from_secs(300);
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
#[derive(Debug, Deserialize)]
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

async fn receive(State(webhook): State<Webhook>, headers: HeaderMap, body: Bytes) -> Response {
    if body.len() > MAX_BODY_BYTES {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is larger than 16 KiB",
        );
    }
    if let Err(reason) = verify(&webhook.secrets, &headers, &body, SystemTime::now()) {
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
    match record(&webhook.handler, notification).await {
        Ok(Reply::ReceivePayment { applied, version }) => answer(
            StatusCode::OK,
            serde_json::json!({ "applied": applied, "version": version }),
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

/// Records the notification as `ReceivePayment`, keyed by its event id.
async fn record(handler: &CommandHandler, n: Notification) -> Result<Reply, CommandError> {
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
    });
    let correlation_id = format!("webhook:{}", n.event_id);
    handler
        .execute(&n.user_id, &n.event_id, command, correlation_id)
        .await
}

/// Checks the signature header against the body: a fresh timestamp and a `v1` that one of
/// `secrets` made.
fn verify(
    secrets: &[Vec<u8>],
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), String> {
    let header = headers
        .get(SIGNATURE_HEADER)
        .ok_or("no Atone-Signature header")?
        .to_str()
        .map_err(|_| "the Atone-Signature header is not text")?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<u64>().ok(),
            Some(("v1", v1)) => signatures.push(hex::decode(v1).map_err(|_| "v1 is not hex")?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("the signature has no t=<unix seconds>")?;
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if now.abs_diff(timestamp) > TOLERANCE.as_secs() {
        return Err(format!(
            "the signature's timestamp is more than {} s from now",
            TOLERANCE.as_secs()
        ));
    }
    let signed = [timestamp.to_string().as_bytes(), b".", body].concat();
    let matches = secrets.iter().any(|secret| {
        signatures.iter().any(|signature| {
            Hmac::<Sha256>::new_from_slice(secret).is_ok_and(|mut mac| {
                mac.update(&signed);
                // Constant time, whatever the signature.
                mac.verify_slice(signature).is_ok()
            })
        })
    });
    if matches {
        Ok(())
    } else {
        Err("the signature does not match the body".into())
    }
}

/// A signature header for `body` at `timestamp`, as a provider makes it (for tests and
/// tools).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, value.parse().unwrap());
        h
    }

    #[test]
    fn a_signature_holds_for_its_body_secret_and_time_only() {
        let secrets = vec![b"old".to_vec(), b"new".to_vec()];
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let body = br#"{"amount": 5000}"#;
        let good = sign("new", 1_800_000_000, body);
        assert_eq!(verify(&secrets, &headers(&good), body, now), Ok(()));
        let rotated = sign("old", 1_800_000_000, body);
        assert_eq!(verify(&secrets, &headers(&rotated), body, now), Ok(()));
        let other = sign("unknown", 1_800_000_000, body);
        assert!(verify(&secrets, &headers(&other), body, now).is_err());
        assert!(verify(&secrets, &headers(&good), br#"{"amount": 9000}"#, now).is_err());
        let stale = sign("new", 1_800_000_000 - 301, body);
        assert!(verify(&secrets, &headers(&stale), body, now).is_err());
        assert!(verify(&secrets, &HeaderMap::new(), body, now).is_err());
        assert!(verify(&secrets, &headers("t=1,v1=zz"), body, now).is_err());
    }
}
