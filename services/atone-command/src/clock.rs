//! Where "now" comes from. Every decision that depends on the date (a purchase's month, a
//! bill's due date, whether a month has ended or a bill is overdue) asks a [`Clock`], so
//! tests can cross a month end without waiting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock, optionally shifted forward (`--clock-offset`, for demos and tests
/// that need a later date from a separate process; never in production).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock {
    pub offset: Duration,
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = chrono::Duration::from_std(self.offset).unwrap_or(chrono::Duration::zero());
        Utc::now() + offset
    }
}

/// A clock that stands still until set: for tests in the same process.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(now)),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The clock every part of one process shares.
pub type SharedClock = Arc<dyn Clock>;
