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
use std::time::Duration;

use atone_kinesis::{Kinesis, KinesisError, PutOutcome, Record};
use atone_storage::leases::{self, KIND_RELAY, Progress, RELAY_SOURCE};
use atone_storage::{DatabaseConnection, StorageError, db, outbox};
use chrono::Utc;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The most records and bytes Kinesis takes in one PutRecords call.
const MAX_RECORDS: usize = 500;
const MAX_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// This process's name in the lease table.
    pub owner: String,
    pub lease_duration: Duration,
    /// How often the outbox is checked with no wake-up.
    pub poll_interval: Duration,
}

pub struct Relay {
    db: DatabaseConnection,
    kinesis: Kinesis,
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

/// The lease this relay holds: its fencing counter and when it must be renewed.
struct Held {
    counter: i64,
    renew_at: tokio::time::Instant,
}

impl Relay {
    pub fn new(
        db: DatabaseConnection,
        kinesis: Kinesis,
        config: RelayConfig,
        appended: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            kinesis,
            config,
            appended,
        }
    }

    /// Publishes until `shutdown`, then hands the lease back. Errors are logged and
    /// retried with backoff; Kinesis being down never fails a command.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut held: Option<Held> = None;
        let mut backoff = Duration::from_millis(100);
        let max_backoff = Duration::from_secs(5);
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            held = match self.hold(held).await {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(error = %e, "relay lease check failed");
                    None
                }
            };
            let Some(lease) = &held else {
                // Someone else relays; look again in a while.
                let pause = self.config.lease_duration / 3;
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            };
            match self.publish(lease.counter).await {
                Ok(sent) => {
                    backoff = Duration::from_millis(100);
                    if sent > 0 {
                        continue;
                    }
                    let renew_at = lease.renew_at;
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = self.appended.notified() => {}
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                        () = tokio::time::sleep_until(renew_at) => {}
                    }
                }
                Err(e) => {
                    if let RelayError::Storage(StorageError::Fenced { .. }) = e {
                        tracing::warn!("relay lease lost");
                        held = None;
                        continue;
                    }
                    let pause = backoff
                        + Duration::from_millis(fastrand::u64(0..=backoff.as_millis() as u64 / 2));
                    tracing::warn!(error = %e, delay = ?pause, "relay publish failed, retrying");
                    backoff = (backoff * 2).min(max_backoff);
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
        if let Some(lease) = held {
            match leases::release(&self.db, RELAY_SOURCE, &self.config.owner, lease.counter).await {
                Ok(_) => tracing::info!("relay lease released"),
                Err(e) => {
                    tracing::warn!(error = %e, "relay lease not released; it expires on its own")
                }
            }
        }
    }

    /// Keeps (renewing when due) or takes the relay lease; `None` while another relay
    /// holds it.
    async fn hold(&self, held: Option<Held>) -> Result<Option<Held>, StorageError> {
        let now = tokio::time::Instant::now();
        let until = Utc::now() + self.config.lease_duration;
        let renew_at = now + self.config.lease_duration / 3;
        match held {
            Some(lease) if now < lease.renew_at => Ok(Some(lease)),
            Some(lease) => {
                let kept = leases::renew(
                    &self.db,
                    RELAY_SOURCE,
                    &self.config.owner,
                    lease.counter,
                    until,
                )
                .await?;
                if !kept {
                    tracing::warn!("relay lease lost");
                }
                Ok(kept.then_some(Held {
                    counter: lease.counter,
                    renew_at,
                }))
            }
            None => {
                leases::ensure(&self.db, RELAY_SOURCE, KIND_RELAY, &[]).await?;
                let Some(lease) = leases::get(&self.db, RELAY_SOURCE).await? else {
                    return Ok(None);
                };
                if !leases::is_free(&lease, Utc::now()) {
                    return Ok(None);
                }
                let taken = leases::take(&self.db, &lease, &self.config.owner, until).await?;
                if taken.is_some() {
                    tracing::info!(owner = %self.config.owner, "relay lease taken");
                }
                Ok(taken.map(|counter| Held { counter, renew_at }))
            }
        }
    }

    /// Sends one PutRecords call's worth of the outbox; returns how many records Kinesis
    /// took.
    async fn publish(&self, counter: i64) -> Result<usize, RelayError> {
        let rows = outbox::oldest(&self.db, 2 * MAX_RECORDS as u64).await?;
        let mut members = HashSet::new();
        let mut bytes = 0;
        let batch: Vec<_> = rows
            .into_iter()
            .filter(|row| members.insert(row.user_id.clone()))
            .take_while(|row| {
                bytes += row.envelope.len() + row.user_id.len();
                bytes <= MAX_BYTES
            })
            .take(MAX_RECORDS)
            .collect();
        if batch.is_empty() {
            return Ok(0);
        }
        let records = batch
            .iter()
            .map(|row| Record::new(row.user_id.clone(), row.envelope.clone()))
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
            let txn = db::begin_write(&self.db).await?;
            let progress = Progress {
                checkpoint: acked.iter().max().map(ToString::to_string),
                applied: acked.len() as i64,
                ..Progress::default()
            };
            leases::record_progress(
                &txn,
                RELAY_SOURCE,
                &progress,
                Some((&self.config.owner, counter)),
            )
            .await?;
            outbox::delete(&txn, acked.iter().copied()).await?;
            txn.commit().await.map_err(StorageError::from)?;
        }
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
