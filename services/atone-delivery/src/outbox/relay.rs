//! The relay: publishes the outbox to Kinesis and deletes each row once Kinesis
//! acknowledged it.
//!
//! Records: the events of every member that maps to one shard are packed into one record
//! (see [`super::pack`]), so the shards' record budget carries many events at a time.
//! Order: a member's events of one call are in one record, in version order, and the next
//! events of that member go out only after that record was acknowledged. `PutRecords`
//! promises no order among the records of one call when some fail, so this keeps every
//! member's events on the stream in version order across partial failures and retries.
//! Duplicates (a crash between the acknowledgement and the delete) are possible and
//! harmless: the projector skips versions it already applied.
//!
//! One relay publishes at a time: it holds the `relay` lease, renews it, and writes its
//! progress fenced by it. A second `atone command` process waits and takes over when the
//! lease expires.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_kinesis::{Kinesis, KinesisError, PutOutcome};
use atone_retry::RetryPolicy;
use atone_storage::leases::{KIND_RELAY, Progress, RELAY_SOURCE};
use atone_storage::{StorageError, db, outbox};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pack::{self, Packed, ShardMap};

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
    /// The open shards as last listed, and when; `None` until listed, and again after a
    /// record went to another shard than listed (a reshard moved the ranges).
    shards: Mutex<Option<(Instant, ShardMap)>>,
}

/// How many outbox rows one call considers.
const ROWS_PER_CALL: u64 = 10_000;
/// How long a listing of the shards is trusted.
const SHARD_MAP_AGE: Duration = Duration::from_secs(30);

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
            shards: Mutex::new(None),
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

    /// The open shards' hash-key ranges, listed again when older than [`SHARD_MAP_AGE`];
    /// `None` when ListShards fails (each member then gets a record of its own).
    async fn shard_map(&self) -> Option<ShardMap> {
        if let Ok(cached) = self.shards.lock()
            && let Some((at, map)) = cached.as_ref()
            && at.elapsed() < SHARD_MAP_AGE
        {
            return Some(map.clone());
        }
        match self.kinesis.list_shards().await {
            Ok(shards) => {
                let map = ShardMap::of(&shards);
                if let Ok(mut cached) = self.shards.lock() {
                    *cached = Some((Instant::now(), map.clone()));
                }
                Some(map)
            }
            Err(e) => {
                tracing::warn!(error = %e, "listing the shards failed; one record per member");
                None
            }
        }
    }

    fn forget_shard_map(&self) {
        if let Ok(mut cached) = self.shards.lock() {
            *cached = None;
        }
    }

    /// The outbox rows Kinesis took, how many records it took, and the error code of a
    /// refused one. A record put on another shard than listed delivers only the members
    /// of that shard (see [`Packed::delivered`]); the listing is refreshed for the rest.
    async fn acknowledged(
        &self,
        packed: &[Packed],
        outcomes: &[PutOutcome],
    ) -> (Vec<i64>, usize, Option<String>) {
        let mut acked = Vec::new();
        let mut acked_records = 0;
        let mut refused = None;
        let mut misrouted = Vec::new();
        for (packed, outcome) in packed.iter().zip(outcomes) {
            match outcome {
                PutOutcome::Ok { shard_id, .. } => {
                    acked_records += 1;
                    if packed.shard.as_ref().is_some_and(|s| s != shard_id) {
                        misrouted.push((packed, shard_id));
                    } else {
                        acked.extend(packed.rows());
                    }
                }
                PutOutcome::Failed { code, .. } => refused = Some(code.clone()),
            }
        }
        if !misrouted.is_empty() {
            // The shards changed since they were listed: list them again, and keep the rows
            // of the members that went to another shard than their own, to send again.
            self.forget_shard_map();
            let fresh = self.shard_map().await;
            for (packed, shard_id) in &misrouted {
                acked.extend(packed.delivered(shard_id, fresh.as_ref()));
            }
            tracing::info!(
                records = misrouted.len(),
                "records went to another shard than listed (a reshard); members of other shards go again"
            );
        }
        (acked, acked_records, refused)
    }

    /// Sends one PutRecords call's worth of the outbox; returns how many events Kinesis
    /// took.
    async fn publish(&self, lease: &Held) -> Result<usize, RelayError> {
        let rows = outbox::oldest(self.lease.db(), ROWS_PER_CALL).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let map = self.shard_map().await;
        let packed = pack::pack(&rows, map.as_ref());
        // A span per event, in the trace of the command that appended it.
        let in_call: HashSet<i64> = packed.iter().flat_map(Packed::rows).collect();
        let spans: Vec<tracing::Span> = rows
            .iter()
            .filter(|row| in_call.contains(&row.id))
            .map(|row| {
                let span =
                    tracing::info_span!("relay", user_id = %row.user_id, version = row.version);
                atone_trace::follow(&span, &atone_api::envelope::trace_parent(&row.envelope));
                span
            })
            .collect();
        let sent = packed.len();
        let records = packed.iter().map(|p| p.record.clone()).collect();
        let outcomes = self.kinesis.put_records(records).await?;

        let (acked, acked_records, refused) = self.acknowledged(&packed, &outcomes).await;
        if !acked.is_empty() {
            let (txn, _turn) = db::begin_write(self.lease.db()).await?;
            let progress = Progress {
                checkpoint: acked.iter().max().map(ToString::to_string),
                applied: acked.len() as i64,
                ..Progress::default()
            };
            let fence = Some(self.lease.fence(lease));
            atone_storage::leases::record_progress(&txn, RELAY_SOURCE, &progress, fence).await?;
            outbox::delete(&txn, acked.iter().copied()).await?;
            txn.commit().await.map_err(StorageError::from)?;
            metrics::counter!(crate::metric::RELAY_RECORDS).increment(acked_records as u64);
            metrics::counter!(crate::metric::RELAY_EVENTS).increment(acked.len() as u64);
        }
        drop(spans);
        tracing::debug!(
            sent,
            acked = acked_records,
            events = acked.len(),
            "outbox published"
        );
        match refused {
            Some(code) => Err(RelayError::Refused {
                failed: sent - acked_records,
                sent,
                code,
            }),
            None => Ok(acked.len()),
        }
    }
}
