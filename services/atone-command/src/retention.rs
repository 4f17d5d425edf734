//! Forgets idempotency keys older than the retention (`--idempotency-retention`), a batch at
//! a time, every few minutes, in every command process: deleting a key twice is harmless,
//! so no lease is needed.

use std::time::Duration;

use atone_storage::{StorageError, idempotency};
use tokio_util::sync::CancellationToken;

use crate::CommandHandler;

/// Keys deleted per statement batch.
const BATCH: u64 = 1000;

#[derive(Clone)]
pub struct KeyRetention {
    handler: CommandHandler,
    retention: Duration,
    interval: Duration,
}

impl KeyRetention {
    pub fn new(handler: CommandHandler, retention: Duration, interval: Duration) -> Self {
        Self {
            handler,
            retention,
            interval,
        }
    }

    /// Purges until `shutdown`; a failure is logged and tried again at the next turn.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.purge().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "idempotency keys past retention forgotten"),
                Err(e) => tracing::warn!(error = %e, "forgetting old idempotency keys failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// Forgets every key kept for longer than the retention; returns how many.
    pub async fn purge(&self) -> Result<u64, StorageError> {
        let retention = chrono::Duration::from_std(self.retention)
            .map_err(|e| StorageError::Corrupt(format!("idempotency retention: {e}")))?;
        let before = self.handler.clock().now() - retention;
        let mut purged = 0;
        loop {
            let n = idempotency::purge(self.handler.store().db(), before, BATCH).await?;
            purged += n;
            if n < BATCH {
                return Ok(purged);
            }
        }
    }
}
