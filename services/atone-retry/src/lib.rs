//! One backoff policy for everything atone retries: Kinesis calls, database batches, the
//! relay, lost races between command writers.
//!
//! [`RetryPolicy`] says how long to pause before each retry (exponential, capped, with full
//! jitter) and how many attempts a call gets; [`Retryable`] is what an error implements to
//! say whether trying again can help. A call is retried with [`RetryPolicy::run`]; a loop
//! that runs until shutdown (a shard worker, the relay) keeps a [`Backoff`] and resets it
//! after each success.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

/// An error that knows whether the same work may succeed if simply tried again: the
/// dependency was down, a lock was lost, another writer got there first.
pub trait Retryable {
    fn is_transient(&self) -> bool;
}

/// How often and how patiently something is retried.
///
/// The pause before retry `n` (1-based) is drawn uniformly from
/// `0..=min(max_backoff, initial_backoff * 2^(n-1))` ("full jitter", so that many clients
/// failing at once do not retry in lockstep).
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
    /// so a caller learns of an outage within seconds while a short burst of throttling is
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

    /// Pauses from `initial` doubling to `max`, for a loop that never gives up.
    pub fn forever(initial: Duration, max: Duration) -> Self {
        Self {
            max_attempts: u32::MAX,
            initial_backoff: initial,
            max_backoff: max,
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

    /// A fresh backoff state for a loop that follows this policy.
    pub fn backoff_state(&self) -> Backoff {
        Backoff {
            policy: *self,
            retries: 0,
        }
    }

    /// Runs `call` until it succeeds, fails with an error that is not transient, or the
    /// attempts are used up; returns the last error then.
    pub async fn run<T, E, F, Fut>(&self, operation: &'static str, mut call: F) -> Result<T, E>
    where
        E: Retryable + Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && attempt < self.max_attempts => {
                    let pause = self.backoff(attempt);
                    tracing::warn!(
                        operation,
                        attempt,
                        max_attempts = self.max_attempts,
                        backoff_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        error = %e,
                        "call failed, retrying"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Where a long-running loop is in its backoff: each failure lengthens the next pause, a
/// success starts over.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    retries: u32,
}

impl Backoff {
    /// The pause after another failure.
    pub fn next_delay(&mut self) -> Duration {
        self.retries = self.retries.saturating_add(1);
        self.policy.backoff(self.retries)
    }

    /// After a success: the next failure pauses briefly again.
    pub fn reset(&mut self) {
        self.retries = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[derive(Debug)]
    enum TestError {
        Busy,
        Wrong,
    }

    impl Display for TestError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl Retryable for TestError {
        fn is_transient(&self) -> bool {
            matches!(self, Self::Busy)
        }
    }

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

    #[test]
    fn a_loop_s_backoff_grows_and_starts_over_after_a_success() {
        let p = RetryPolicy::forever(Duration::from_millis(100), Duration::from_millis(400));
        let mut backoff = p.backoff_state();
        for n in 1..=6 {
            assert!(backoff.next_delay() <= p.ceiling(n));
        }
        assert_eq!(backoff.retries, 6);
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_transient_errors() {
        let p = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = p
            .run("Op", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(TestError::Busy)
            })
            .await;
        assert!(matches!(result, Err(TestError::Busy)));
        assert_eq!(calls.load(Ordering::SeqCst), p.max_attempts);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = p
            .run("Op", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(TestError::Wrong)
            })
            .await;
        assert!(matches!(result, Err(TestError::Wrong)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        calls.store(0, Ordering::SeqCst);
        let result = p
            .run("Op", || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(TestError::Busy)
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(result.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
