//! Read your writes: waiting, bounded, until the read model reaches a version.

use std::time::Duration;

use atone_storage::read_model;
use tokio::time::Instant;

use crate::{Feed, QueryError};

/// How often the version is read again while waiting, in case a wake-up was missed.
const RECHECK: Duration = Duration::from_millis(250);

/// Why waiting stops where it does.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    /// True if `at` is the client's own deadline, false if it is our bound on waiting.
    pub clients: bool,
    pub bound: Duration,
}

impl Deadline {
    /// The earlier of our bound and the client's `grpc-timeout`. The client's deadline is
    /// met a little early, so the answer (DEADLINE_EXCEEDED, with what was reached) beats
    /// the transport cancelling the call.
    pub fn new(bound: Duration, client_timeout: Option<Duration>) -> Self {
        let now = Instant::now();
        match client_timeout {
            Some(t) if t < bound => {
                let margin = (t / 5).min(Duration::from_millis(50));
                Self {
                    at: now + (t - margin),
                    clients: true,
                    bound,
                }
            }
            _ => Self {
                at: now + bound,
                clients: false,
                bound,
            },
        }
    }
}

/// Returns once the member's read model is at `min_version` or later, with the version it
/// is at.
pub async fn until_version(
    feed: &Feed,
    user_id: &str,
    min_version: i64,
    deadline: Deadline,
) -> Result<i64, QueryError> {
    let db = feed.db();
    let mut subscription = feed.subscribe(user_id);
    let mut checked_stream = false;
    loop {
        let reached = read_model::member_version(db, user_id).await?;
        if reached >= min_version {
            return Ok(reached);
        }
        if !checked_stream {
            let latest = read_model::stream_version(db, user_id).await?;
            if latest < min_version {
                return Err(QueryError::NoSuchVersion {
                    user_id: user_id.to_owned(),
                    wanted: min_version,
                    latest,
                });
            }
            checked_stream = true;
        }
        tokio::select! {
            _ = subscription.recv() => {}
            () = tokio::time::sleep(RECHECK) => {}
            () = tokio::time::sleep_until(deadline.at) => {
                let reached = read_model::member_version(db, user_id).await?;
                if reached >= min_version {
                    return Ok(reached);
                }
                let user_id = user_id.to_owned();
                return Err(if deadline.clients {
                    QueryError::DeadlineExceeded { user_id, wanted: min_version, reached }
                } else {
                    QueryError::Behind { user_id, wanted: min_version, reached, waited: deadline.bound }
                });
            }
        }
    }
}

/// Parses a `grpc-timeout` header value: digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if !value.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout(""), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
    }
}
