//! Milliseconds since the run started: the one time line of the history, the faults and
//! the watchers.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Self {
        Self(Instant::now())
    }

    pub fn ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}
