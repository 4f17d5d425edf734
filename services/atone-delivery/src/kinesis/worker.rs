//! One shard's worker: reads batches, applies each to the read models with its checkpoint
//! in one transaction fenced by the lease, and stops when the lease is lost or the closed
//! shard is read to its end.

use std::sync::Arc;
use std::time::Duration;

use atone_api::envelope;
use atone_kinesis::{Kinesis, ReaderConfig, ShardReader};
use atone_retry::RetryPolicy;
use atone_storage::event_store::{self, StreamRecord};
use atone_storage::leases::{self, Progress};
use atone_storage::projection::{self, Incoming, Readable};
use atone_storage::{DatabaseConnection, StorageError, db};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use atone_lease::{Held, LeaseHolder};

/// How often an idle worker records its lag.
const IDLE_REPORT: Duration = Duration::from_secs(2);

pub enum WorkerEnd {
    /// The closed shard was read to its end and marked finished.
    Finished,
    /// Another projector holds the lease now.
    LeaseLost,
    /// Shutdown, or the coordinator stopped it.
    Stopped,
}

pub struct Worker {
    db: DatabaseConnection,
    kinesis: Kinesis,
    shard_id: String,
    /// Fences every batch's transaction: it commits only while this lease is still ours.
    holder: LeaseHolder,
    lease: Held,
    /// The last checkpoint committed: where to read again after a failed batch.
    checkpoint: Option<String>,
    config: ReaderConfig,
    /// What this build reads; anything else is parked.
    readable: Readable,
    projected: Arc<Notify>,
}

impl Worker {
    pub fn new(
        kinesis: Kinesis,
        holder: LeaseHolder,
        lease: Held,
        checkpoint: Option<String>,
        config: ReaderConfig,
        readable: Readable,
        projected: Arc<Notify>,
    ) -> Self {
        Self {
            db: holder.db().clone(),
            kinesis,
            shard_id: lease.source_id.clone(),
            holder,
            lease,
            checkpoint,
            config,
            readable,
            projected,
        }
    }

    pub async fn run(mut self, stop: CancellationToken) -> WorkerEnd {
        let mut reader = match ShardReader::new(
            self.kinesis.clone(),
            self.shard_id.clone(),
            self.checkpoint.clone(),
            self.config.clone(),
        ) {
            Ok(reader) => reader,
            Err(e) => {
                tracing::error!(shard_id = %self.shard_id, error = %e, "cannot read the shard");
                return WorkerEnd::Stopped;
            }
        };
        let mut backoff = RetryPolicy::forever(Duration::from_millis(200), Duration::from_secs(10))
            .backoff_state();
        let mut last_report = Instant::now();
        loop {
            let batch = tokio::select! {
                () = stop.cancelled() => return WorkerEnd::Stopped,
                batch = reader.next_batch() => batch,
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(shard_id = %self.shard_id, error = %e, ?delay, "reading the shard failed, retrying");
                    // A fresh iterator from the last checkpoint: the old one may be gone
                    // (a restarted endpoint), and between batches the reader is there anyway.
                    reader.reset_to(self.checkpoint.clone());
                    tokio::select! {
                        () = stop.cancelled() => return WorkerEnd::Stopped,
                        () = tokio::time::sleep(delay) => continue,
                    }
                }
            };
            let idle = batch.records.is_empty() && batch.end_of_shard.is_none();
            if idle && last_report.elapsed() < IDLE_REPORT {
                continue;
            }
            last_report = Instant::now();
            match self.apply(&batch).await {
                Ok(()) => {
                    backoff.reset();
                    if batch.end_of_shard.is_some() {
                        return WorkerEnd::Finished;
                    }
                }
                Err(StorageError::Fenced { .. }) => return WorkerEnd::LeaseLost,
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(shard_id = %self.shard_id, error = %e, ?delay, "applying a batch failed; reading it again");
                    reader.reset_to(self.checkpoint.clone());
                    tokio::select! {
                        () = stop.cancelled() => return WorkerEnd::Stopped,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Applies one batch: read models, change feed, checkpoint and (at the end of a closed
    /// shard) the finished mark, all in one transaction that only commits while this
    /// worker still holds the lease.
    async fn apply(&mut self, batch: &atone_kinesis::Batch) -> Result<(), StorageError> {
        let mut records = Vec::with_capacity(batch.records.len());
        let mut invalid = 0;
        // A record holds one envelope or, packed by the relay, several.
        for (record, decoded) in batch
            .records
            .iter()
            .flat_map(|r| envelope::unpack(&r.data).into_iter().map(move |d| (r, d)))
        {
            match decoded {
                Ok(decoded) => records.push(StreamRecord {
                    event_id: decoded.header.event_id,
                    user_id: decoded.header.user_id,
                    version: decoded.header.version,
                    envelope: decoded.envelope.ok(),
                }),
                Err(e) => {
                    invalid += 1;
                    tracing::warn!(
                        shard_id = %self.shard_id,
                        sequence_number = %record.sequence_number,
                        partition_key = %record.partition_key,
                        bytes = record.data.len(),
                        error = %e,
                        "record is not an EventEnvelope; skipped"
                    );
                }
            }
        }
        let incoming = self.trusted(records, &mut invalid).await?;
        let checkpoint = batch.last_sequence_number().map(str::to_owned);
        let (txn, _turn) = db::begin_projection(&self.db).await?;
        let outcome =
            projection::apply_batch(&txn, incoming, &self.readable, &self.shard_id).await?;
        let progress = Progress {
            checkpoint: checkpoint.clone(),
            applied: outcome.applied.len() as i64,
            invalid,
            lag_millis: batch.millis_behind_latest,
        };
        let fence = self.holder.fence(&self.lease);
        leases::record_progress(&txn, &self.shard_id, &progress, Some(fence)).await?;
        if batch.end_of_shard.is_some() {
            leases::finish(&txn, &self.shard_id, fence).await?;
        }
        txn.commit().await?;
        if checkpoint.is_some() {
            self.checkpoint = checkpoint;
        }
        if !outcome.applied.is_empty() {
            self.projected.notify_one();
            tracing::debug!(shard_id = %self.shard_id, applied = outcome.applied.len(), duplicates = outcome.duplicates, "batch projected");
        }
        Ok(())
    }

    /// The event store's copies of the decoded records: the stream is a trust boundary, so
    /// a record that is not an event appended here (a forgery, another producer's record)
    /// is set aside and counted with the invalid ones, never applied.
    async fn trusted(
        &self,
        records: Vec<StreamRecord>,
        invalid: &mut i64,
    ) -> Result<Vec<Incoming>, StorageError> {
        let checked = event_store::check_stored(&self.db, records).await?;
        for record in &checked.unknown {
            tracing::warn!(
                shard_id = %self.shard_id,
                event_id = %record.event_id,
                user_id = %record.user_id,
                version = record.version,
                "record is not an event of the event store; set aside"
            );
        }
        for record in &checked.altered {
            tracing::warn!(
                shard_id = %self.shard_id,
                event_id = %record.event_id,
                user_id = %record.user_id,
                "record differs from the event store's copy; the store's copy applied"
            );
        }
        *invalid += (checked.unknown.len() + checked.altered.len()) as i64;
        Ok(checked.stored)
    }
}
