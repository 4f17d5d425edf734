//! Exponential backoff with full jitter for transient Kinesis failures.
//!
//! The SDK's own retry layer is switched off (see [`crate::Kinesis::connect`]) so that this is
//! the only place that decides to try again, with one classification ([`KinesisError`]) and
//! one log line per retry.

use std::future::Future;
use std::time::Duration;

use tracing::warn;

use crate::KinesisError;

/// How often and how patiently a call is retried on throttling and unavailability.
///
/// The pause before retry `n` (1-based) is drawn uniformly from
/// `0..=min(max_backoff, initial_backoff * 2^(n-1))` ("full jitter", so that many clients
/// throttled at once do not retry in lockstep). Other errors are returned at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included; 1 means no retry.
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling, however many retries came before.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts, 100 ms doubling to at most 2 s: at most about 3.1 s of backoff in all,
    /// so a caller learns of an outage within seconds while a short throttling burst is
    /// absorbed.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The jittered pause before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// The upper bound of [`Self::backoff`] for retry number `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// Runs `call` until it succeeds, fails with a non-transient error, or the attempts are
    /// used up; returns the last error then.
    pub async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        mut call: F,
    ) -> Result<T, KinesisError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, KinesisError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && attempt < self.max_attempts => {
                    let pause = self.backoff(attempt);
                    warn!(
                        operation,
                        attempt,
                        max_attempts = self.max_attempts,
                        backoff_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        error = %e,
                        "kinesis call failed, retrying"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
        };
        let ceilings: Vec<_> = (1..=5).map(|n| p.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 700, 700]);
        assert_eq!(p.ceiling(u32::MAX), Duration::from_millis(700));
        for n in 1..=20 {
            assert!(p.backoff(n) <= p.ceiling(n));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_transient_errors() {
        let p = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = p
            .run("Op", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(KinesisError::Throttled {
                    operation: "Op",
                    message: "slow down".into(),
                })
            })
            .await;
        assert!(matches!(result, Err(KinesisError::Throttled { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), p.max_attempts);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = p
            .run("Op", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(KinesisError::invalid("Op", "bad"))
            })
            .await;
        assert!(matches!(result, Err(KinesisError::InvalidArgument { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        calls.store(0, Ordering::SeqCst);
        let result = p
            .run("Op", || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(KinesisError::Unavailable {
                        operation: "Op",
                        message: "refused".into(),
                    })
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(result.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
