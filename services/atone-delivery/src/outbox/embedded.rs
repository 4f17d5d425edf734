//! Embedded delivery: with no Kinesis configured, the projector takes events straight from
//! the outbox, in the order they were appended. A batch's rows leave the outbox in the
//! same transaction that applies them.

use std::sync::Arc;
use std::time::Duration;

use atone_api::envelope;
use atone_retry::{RetryPolicy, Retryable};
use atone_storage::leases::{self, KIND_OUTBOX, OUTBOX_SOURCE, Progress};
use atone_storage::projection::{self, Incoming, Readable, Unreadable};
use atone_storage::{DatabaseConnection, StorageError, db, outbox};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub struct EmbeddedProjector {
    db: DatabaseConnection,
    batch_size: u64,
    /// Woken by the command side after each append.
    appended: Arc<Notify>,
    /// Woken after each committed batch: the query side's feed reader waits on it.
    projected: Arc<Notify>,
    /// How often the outbox is checked with no wake-up (rows written by another process).
    poll_interval: Duration,
    /// What this build reads; anything else is parked.
    readable: Readable,
}

impl EmbeddedProjector {
    pub fn new(db: DatabaseConnection, appended: Arc<Notify>, projected: Arc<Notify>) -> Self {
        Self {
            db,
            batch_size: 500,
            appended,
            projected,
            poll_interval: Duration::from_millis(250),
            readable: Readable::default(),
        }
    }

    /// The same, reading only what `readable` says.
    pub fn reading(mut self, readable: Readable) -> Self {
        self.readable = readable;
        self
    }

    /// Delivers the outbox until `shutdown`. Database errors are logged and retried; they
    /// never end the loop.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5))
            .backoff_state();
        loop {
            match self.step().await {
                Ok(n) if n as u64 >= self.batch_size => {
                    backoff.reset();
                    continue;
                }
                Ok(_) => {
                    backoff.reset();
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = self.appended.notified() => {}
                        () = tokio::time::sleep(self.poll_interval) => {}
                    }
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    if e.is_transient() {
                        tracing::warn!(error = %e, ?delay, "projection batch failed, retrying");
                    } else {
                        tracing::error!(error = %e, ?delay, "projection batch failed, retrying");
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Applies one batch from the outbox; returns how many rows it took.
    pub async fn step(&self) -> Result<usize, StorageError> {
        let (txn, _turn) = db::begin_projection(&self.db).await?;
        // Another process delivering the same outbox waits here until this batch is done,
        // then reads what is left: two never apply the same rows at once (a new member's
        // row, inserted by both, would be a duplicate key, which parks a member).
        leases::lock(&txn, OUTBOX_SOURCE).await?;
        let rows = outbox::oldest(&txn, self.batch_size).await?;
        let Some(last) = rows.last() else {
            txn.rollback().await?;
            return Ok(0);
        };
        let checkpoint = last.id.to_string();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let incoming = rows
            .iter()
            .map(|row| match envelope::decode(&row.envelope) {
                Ok(envelope) => Incoming::Event(envelope),
                // The outbox holds only this store's events: one this build cannot read is
                // newer than it, and waits (parked) for one that can.
                Err(e) => Incoming::Unreadable(Unreadable {
                    user_id: row.user_id.clone(),
                    version: row.version,
                    event_id: None,
                    event_type: "unreadable".to_owned(),
                    error: format!("this build cannot read the outbox row: {e}"),
                    record: Some(row.envelope.clone()),
                }),
            })
            .collect();
        let outcome =
            projection::apply_batch(&txn, incoming, &self.readable, OUTBOX_SOURCE).await?;
        outbox::delete(&txn, ids).await?;
        let progress = Progress {
            checkpoint: Some(checkpoint),
            applied: outcome.applied.len() as i64,
            invalid: 0,
            lag_millis: None,
        };
        leases::record_progress(&txn, OUTBOX_SOURCE, &progress, None).await?;
        txn.commit().await?;
        self.projected.notify_one();
        tracing::debug!(
            rows = rows.len(),
            applied = outcome.applied.len(),
            duplicates = outcome.duplicates,
            "batch projected"
        );
        Ok(rows.len())
    }

    /// Registers the outbox as a source, so GetStatus shows it before the first event.
    pub async fn register(&self) -> Result<(), StorageError> {
        leases::ensure(&self.db, OUTBOX_SOURCE, KIND_OUTBOX, &[]).await
    }
}
