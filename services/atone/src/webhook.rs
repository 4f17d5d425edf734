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
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::BodyExt;
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "atone-signature";
/// How far a signature's timestamp may be from now.
pub const TOLERANCE: Duration = Duration::from_secs(300);
/// The secret of a development atone (authentication off, no `--webhook-secret`): it
/// serves loopback only, and the README's walkthrough signs with it.
pub const DEVELOPMENT_SECRET: &str = "dev-webhook-secret";
/// The largest body accepted.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// The most `v1` entries a signature header may carry: each one is compared with every
/// secret's MAC.
pub const MAX_SIGNATURES: usize = 8;

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
    use sha2::Digest;
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

/// A signature header, parsed: its timestamp (checked against the window already) and its
/// `v1` entries.
#[derive(Debug)]
struct Signature {
    timestamp: u64,
    v1: Vec<Vec<u8>>,
}

impl Signature {
    /// Parses the `Atone-Signature` header and checks its timestamp against `now`. At most
    /// [`MAX_SIGNATURES`] `v1` entries: a provider sends one, two while it rotates.
    fn parse(headers: &HeaderMap, now: SystemTime) -> Result<Self, String> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .ok_or("no Atone-Signature header")?
            .to_str()
            .map_err(|_| "the Atone-Signature header is not text")?;
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => timestamp = t.parse::<u64>().ok(),
                Some(("v1", _)) if v1.len() == MAX_SIGNATURES => {
                    return Err(format!(
                        "the signature has more than {MAX_SIGNATURES} v1 entries"
                    ));
                }
                Some(("v1", hex)) => v1.push(hex::decode(hex).map_err(|_| "v1 is not hex")?),
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
        if v1.is_empty() {
            return Err("the signature has no v1 entry".into());
        }
        Ok(Self { timestamp, v1 })
    }

    /// Whether one of `secrets` made one of the `v1` entries over `body`: each secret's
    /// MAC is computed once (counted in `atone_webhook_macs_total`) and compared with
    /// every entry in constant time.
    fn verify(&self, secrets: &[Vec<u8>], body: &[u8]) -> Result<(), String> {
        let mut matched = false;
        for secret in secrets {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
                continue;
            };
            mac.update(self.timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            let tag = mac.finalize().into_bytes();
            metrics::counter!("atone_webhook_macs_total").increment(1);
            for v1 in &self.v1 {
                matched |= bool::from(tag.as_slice().ct_eq(v1));
            }
        }
        if matched {
            Ok(())
        } else {
            Err("the signature does not match the body".into())
        }
    }
}

/// Checks the signature header against the body: a fresh timestamp and a `v1` that one of
/// `secrets` made.
#[cfg(test)]
fn verify(
    secrets: &[Vec<u8>],
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), String> {
    Signature::parse(headers, now)?.verify(secrets, body)
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

    /// The vector the SDKs' tests check too (sdk/ts/test, sdk/python/tests): atone and its
    /// SDKs sign alike.
    #[test]
    fn the_sdks_vector_verifies() {
        let body = br#"{"event_id":"evt-1","amount":4709}"#;
        let header =
            "t=1767225600,v1=7583ef64fc4e88865888ff6f180ccf620914ae12bb391a3b05e061124cf30c25";
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_610);
        assert_eq!(
            verify(&[b"whsec-test".to_vec()], &headers(header), body, now),
            Ok(())
        );
        assert_eq!(sign("whsec-test", 1_767_225_600, body), header);
    }
}
