//! The `Atone-Signature` scheme, both ways: the payment webhook checks it on what providers
//! post, and outgoing webhooks sign every delivery with it. The header is `t=<unix
//! seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, with one `v1` per secret while
//! a secret is rotated; the SDKs' `verifyWebhook` / `verify_webhook` check the same.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "atone-signature";
/// How far a signature's timestamp may be from now.
pub const TOLERANCE: Duration = Duration::from_secs(300);
/// The most `v1` entries a signature header may carry: each one is compared with every
/// secret's MAC.
pub const MAX_SIGNATURES: usize = 8;

/// A signature header, parsed: its timestamp (checked against the window already) and its
/// `v1` entries.
#[derive(Debug)]
pub(crate) struct Signature {
    timestamp: u64,
    v1: Vec<Vec<u8>>,
}

impl Signature {
    /// Parses the `Atone-Signature` header and checks its timestamp against `now`. At most
    /// [`MAX_SIGNATURES`] `v1` entries: a provider sends one, two while it rotates.
    pub(crate) fn parse(headers: &HeaderMap, now: SystemTime) -> Result<Self, String> {
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
    pub(crate) fn verify(&self, secrets: &[Vec<u8>], body: &[u8]) -> Result<(), String> {
        let mut matched = false;
        for secret in secrets {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
                continue;
            };
            mac.update(self.timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            let tag = mac.finalize().into_bytes();
            metrics::counter!(crate::metrics::WEBHOOK_MACS).increment(1);
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

/// The signature header for `body` at `timestamp` with `secret`: what an outgoing webhook
/// carries, and what a provider sends.
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
