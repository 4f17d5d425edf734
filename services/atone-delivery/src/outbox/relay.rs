//! The relay: publishes the outbox to Kinesis (partition key = user_id, data = the protobuf
//! `EventEnvelope`) and deletes each row once Kinesis acknowledged it.
//!
//! Order: a `PutRecords` call carries at most one record per member, the oldest unsent
//! one, and the next record of that member goes out only after this one was acknowledged.
//! `PutRecords` promises no order among the records of one call when some fail, so this
//! keeps every member's events on the stream in version order across partial failures and
//! retries. Duplicates (a crash between the acknowledgement and the delete) are possible
//! and harmless: the projector skips versions it already applied.
//!
//! One relay publishes at a time: it holds the `relay` lease, renews it, and writes its
//! progress fenced by it. A second `atone command` process waits and takes over when the
//! lease expires.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use atone_kinesis::{
    Kinesis, KinesisError, MAX_BYTES_PER_PUT, MAX_RECORDS_PER_PUT, PutOutcome, Record,
};
use atone_retry::RetryPolicy;
use atone_storage::leases::{KIND_RELAY, Progress, RELAY_SOURCE};
use atone_storage::{StorageError, db, outbox};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use atone_lease::{Held, LeaseHolder};

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// How long the relay's lease lasts unrenewed: after a command process dies, another
    /// takes the relay over within this time.
    pub lease_duration: Duration,
    /// How often the outbox is checked with no wake-up.
    pub poll_interval: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
        }
    }
}

pub struct Relay {
    kinesis: Kinesis,
    lease: LeaseHolder,
    config: RelayConfig,
    /// Woken by the command handler after each append.
    appended: Arc<Notify>,
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Kinesis(#[from] KinesisError),
    #[error("{failed} of {sent} records refused by Kinesis ({code})")]
    Refused {
        failed: usize,
        sent: usize,
        code: String,
    },
}

impl Relay {
    /// `lease` holds the `relay` lease in this process's name.
    pub fn new(
        kinesis: Kinesis,
        lease: LeaseHolder,
        config: RelayConfig,
        appended: Arc<Notify>,
    ) -> Self {
        Self {
            kinesis,
            lease,
            config,
            appended,
        }
    }

    /// Publishes until `shutdown`, then hands the lease back. Errors are logged and
    /// retried with backoff; Kinesis being down never fails a command.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut held: Option<Held> = None;
        let mut backoff = RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5))
            .backoff_state();
        while !shutdown.is_cancelled() {
            held = match self.hold(held).await {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(error = %e, "relay lease check failed");
                    None
                }
            };
            let pause = match &held {
                // Someone else relays; look again in a while.
                None => self.lease.duration() / 3,
                Some(lease) => match self.publish(lease).await {
                    Ok(0) => {
                        backoff.reset();
                        self.wait_for_work(lease, &shutdown).await;
                        continue;
                    }
                    Ok(_) => {
                        backoff.reset();
                        continue;
                    }
                    Err(RelayError::Storage(StorageError::Fenced { .. })) => {
                        tracing::warn!("relay lease lost");
                        held = None;
                        continue;
                    }
                    Err(e) => {
                        let pause = backoff.next_delay();
                        tracing::warn!(error = %e, delay = ?pause, "relay publish failed, retrying");
                        pause
                    }
                },
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        if let Some(lease) = held {
            self.lease.release(lease).await;
        }
    }

    /// Waits for an append, the poll interval, the lease's renewal or shutdown.
    async fn wait_for_work(&self, lease: &Held, shutdown: &CancellationToken) {
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = self.appended.notified() => {}
            () = tokio::time::sleep(self.config.poll_interval) => {}
            () = tokio::time::sleep_until(self.lease.renew_due(lease)) => {}
        }
    }

    /// Keeps (renewing when due) or takes the relay lease; `None` while another relay
    /// holds it.
    async fn hold(&self, held: Option<Held>) -> Result<Option<Held>, StorageError> {
        match held {
            Some(mut lease) => {
                let kept = self.lease.keep(&mut lease).await?;
                if !kept {
                    tracing::warn!("relay lease lost");
                }
                Ok(kept.then_some(lease))
            }
            None => {
                let taken = self.lease.take_if_free(RELAY_SOURCE, KIND_RELAY).await?;
                if taken.is_some() {
                    tracing::info!(owner = %self.lease.owner(), "relay lease taken");
                }
                Ok(taken)
            }
        }
    }

    /// Sends one PutRecords call's worth of the outbox; returns how many records Kinesis
    /// took.
    async fn publish(&self, lease: &Held) -> Result<usize, RelayError> {
        let rows = outbox::oldest(self.lease.db(), 2 * MAX_RECORDS_PER_PUT as u64).await?;
        let mut members = HashSet::new();
        let mut bytes = 0;
        let batch: Vec<_> = rows
            .into_iter()
            .filter(|row| members.insert(row.user_id.clone()))
            .take_while(|row| {
                bytes += row.envelope.len() + row.user_id.len();
                bytes <= MAX_BYTES_PER_PUT
            })
            .take(MAX_RECORDS_PER_PUT)
            .collect();
        if batch.is_empty() {
            return Ok(0);
        }
        let records = batch
            .iter()
            .map(|row| Record::new(row.user_id.clone(), row.envelope.clone()))
            .collect();
        // A span per record, in the trace of the command that appended its event.
        let spans: Vec<tracing::Span> = batch
            .iter()
            .map(|row| {
                let span =
                    tracing::info_span!("relay", user_id = %row.user_id, version = row.version);
                atone_trace::follow(&span, &atone_api::envelope::trace_parent(&row.envelope));
                span
            })
            .collect();
        let outcomes = self.kinesis.put_records(records).await?;

        let mut acked = Vec::new();
        let mut refused = None;
        for (row, outcome) in batch.iter().zip(&outcomes) {
            match outcome {
                PutOutcome::Ok { .. } => acked.push(row.id),
                PutOutcome::Failed { code, .. } => refused = Some(code.clone()),
            }
        }
        if !acked.is_empty() {
            let txn = db::begin_write(self.lease.db()).await?;
            let progress = Progress {
                checkpoint: acked.iter().max().map(ToString::to_string),
                applied: acked.len() as i64,
                ..Progress::default()
            };
            let fence = Some(self.lease.fence(lease));
            atone_storage::leases::record_progress(&txn, RELAY_SOURCE, &progress, fence).await?;
            outbox::delete(&txn, acked.iter().copied()).await?;
            txn.commit().await.map_err(StorageError::from)?;
        }
        drop(spans);
        tracing::debug!(sent = batch.len(), acked = acked.len(), "outbox published");
        match refused {
            Some(code) => Err(RelayError::Refused {
                failed: batch.len() - acked.len(),
                sent: batch.len(),
                code,
            }),
            None => Ok(acked.len()),
        }
    }
}
