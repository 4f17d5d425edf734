//! The Kinesis source: every shard of the stream, shared by the projector processes
//! through leases in the database, like the Kinesis Client Library's lease table but in
//! the same database as the read models, so each batch's checkpoint is fenced by the lease.
//!
//! The [`KinesisProjector`] coordinates, every third of a lease (at most 2 s): it registers
//! every shard as a lease, renews the ones it holds, takes free ones up to its fair share
//! (the eligible shards divided by the live projectors), steals one at a time from a
//! projector holding more than its share, and runs a [`worker`] per held shard. A shard is eligible once its parents are read to their
//! end, so after a reshard a member's older events are applied before its newer ones.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use atone_kinesis::{Kinesis, ReadMode, ReaderConfig};
use atone_storage::StorageError;
use atone_storage::leases::{self, KIND_SHARD, Lease};
use atone_storage::projection::Readable;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::worker::{Worker, WorkerEnd};
use atone_lease::{self as lease, LeaseHolder};

#[derive(Debug, Clone)]
pub struct KinesisProjectorConfig {
    /// How long a shard's lease lasts unrenewed; renewed every third of it.
    pub lease_duration: Duration,
    /// Enhanced fan-out: the consumer ARN registered on the stream.
    pub fan_out_consumer_arn: Option<String>,
    /// Polling: the longest pause between GetRecords calls on an idle shard.
    pub max_idle_poll: Duration,
    /// What this build reads; anything else is parked.
    pub readable: Readable,
}

impl Default for KinesisProjectorConfig {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(10),
            fan_out_consumer_arn: None,
            max_idle_poll: Duration::from_secs(1),
            readable: Readable::default(),
        }
    }
}

pub struct KinesisProjector {
    kinesis: Kinesis,
    lease: LeaseHolder,
    config: KinesisProjectorConfig,
    /// Woken after each committed batch: an in-process query side waits on it.
    projected: Arc<Notify>,
}

/// A shard this process holds, and its worker.
struct Held {
    lease: lease::Held,
    stop: CancellationToken,
    task: JoinHandle<WorkerEnd>,
}

impl KinesisProjector {
    /// `lease` holds the shards' leases in this process's name, for as long as
    /// `config.lease_duration`.
    pub fn new(
        kinesis: Kinesis,
        lease: LeaseHolder,
        config: KinesisProjectorConfig,
        projected: Arc<Notify>,
    ) -> Self {
        Self {
            kinesis,
            lease,
            config,
            projected,
        }
    }

    fn reader_config(&self) -> ReaderConfig {
        let mode = match &self.config.fan_out_consumer_arn {
            Some(arn) => ReadMode::FanOut {
                consumer_arn: arn.clone(),
            },
            None => ReadMode::Polling,
        };
        ReaderConfig {
            mode,
            max_idle_backoff: self.config.max_idle_poll,
            ..ReaderConfig::default()
        }
    }

    /// Coordinates until `shutdown`, then stops every worker and hands their leases back at
    /// once, so other projectors take them without waiting for expiry.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut held: HashMap<String, Held> = HashMap::new();
        // Renewals are due every third of a lease; free leases (handed back, expired, or of
        // a new shard) are looked for at least every 2 s whatever the lease duration.
        let tick = (self.config.lease_duration / 3).min(Duration::from_secs(2));
        let mut failing = false;
        loop {
            match self.coordinate(&mut held).await {
                Ok(()) if failing => {
                    tracing::info!("lease coordination recovered");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "lease coordination failed, retrying");
                    }
                    failing = true;
                }
            }
            // Wake early when a worker ends (a finished parent frees its children).
            let ended = async {
                loop {
                    if held.values().any(|h| h.task.is_finished()) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(tick) => {}
                () = ended => {}
            }
        }
        for shard in held.into_values() {
            shard.stop.cancel();
            let _ = shard.task.await;
            self.lease.release(shard.lease).await;
        }
    }

    /// One round: register shards, reap ended workers, renew, take a fair share.
    async fn coordinate(&self, held: &mut HashMap<String, Held>) -> Result<(), CoordinationError> {
        let shards = self.kinesis.list_shards().await?;
        for shard in &shards {
            let parents: Vec<String> = shard.parents().map(str::to_owned).collect();
            leases::ensure(self.lease.db(), &shard.shard_id, KIND_SHARD, &parents).await?;
        }

        let ended: Vec<String> = held
            .iter()
            .filter(|(_, h)| h.task.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        for shard_id in ended {
            if let Some(lease) = held.remove(&shard_id) {
                match lease.task.await {
                    Ok(WorkerEnd::Finished) => tracing::info!(shard_id, "shard read to its end"),
                    Ok(WorkerEnd::LeaseLost) => {
                        tracing::info!(shard_id, "lease lost to another projector")
                    }
                    Ok(WorkerEnd::Stopped) => {}
                    Err(e) => tracing::error!(shard_id, error = %e, "shard worker crashed"),
                }
            }
        }

        let mut lost = Vec::new();
        for (shard_id, shard) in held.iter_mut() {
            if !self.lease.renew(&mut shard.lease).await? {
                lost.push(shard_id.clone());
            }
        }
        for shard_id in lost {
            if let Some(lease) = held.remove(&shard_id) {
                tracing::warn!(shard_id, "lease lost, stopping its worker");
                lease.stop.cancel();
            }
        }

        let all = leases::of_kind(self.lease.db(), KIND_SHARD).await?;
        let listed: BTreeSet<&str> = shards.iter().map(|s| s.shard_id.as_str()).collect();
        for seen in self.leases_to_take(&all, &listed, held.len(), Utc::now()) {
            let Some(taken) = self.lease.take(&seen).await? else {
                continue;
            };
            let stolen_from = seen
                .owner
                .clone()
                .filter(|_| !leases::is_free(&seen, Utc::now()));
            tracing::info!(shard_id = %seen.source_id, counter = taken.counter, stolen_from = ?stolen_from, checkpoint = ?seen.checkpoint, "lease taken");
            let stop = CancellationToken::new();
            let worker = Worker::new(
                self.kinesis.clone(),
                self.lease.clone(),
                taken.clone(),
                seen.checkpoint.clone(),
                self.reader_config(),
                self.config.readable.clone(),
                self.projected.clone(),
            );
            let task = tokio::spawn(worker.run(stop.clone()));
            let shard = Held {
                lease: taken,
                stop,
                task,
            };
            held.insert(seen.source_id.clone(), shard);
        }
        Ok(())
    }

    /// The leases to take this round: free eligible ones up to the fair share, then at most
    /// one stolen from the projector holding the most, if it holds more than its share.
    fn leases_to_take(
        &self,
        all: &[Lease],
        listed: &BTreeSet<&str>,
        holding: usize,
        now: DateTime<Utc>,
    ) -> Vec<Lease> {
        let finished: BTreeSet<&str> = all
            .iter()
            .filter(|l| l.finished)
            .map(|l| l.source_id.as_str())
            .collect();
        let known: BTreeSet<&str> = all.iter().map(|l| l.source_id.as_str()).collect();
        let eligible: Vec<&Lease> = all
            .iter()
            .filter(|l| !l.finished && listed.contains(l.source_id.as_str()))
            .filter(|l| {
                leases::parent_ids(l).iter().all(|p| {
                    finished.contains(p.as_str())
                        || !known.contains(p.as_str())
                        || !listed.contains(p.as_str())
                })
            })
            .collect();
        let mut owners: BTreeSet<&str> = eligible
            .iter()
            .filter(|l| !leases::is_free(l, now))
            .filter_map(|l| l.owner.as_deref())
            .collect();
        owners.insert(self.lease.owner());
        let share = eligible.len().div_ceil(owners.len());
        let mut wanted = share.saturating_sub(holding);
        let mut take: Vec<Lease> = eligible
            .iter()
            .filter(|l| leases::is_free(l, now))
            .take(wanted)
            .map(|l| (*l).clone())
            .collect();
        wanted -= take.len();
        if wanted > 0 {
            let mut counts: HashMap<&str, Vec<&Lease>> = HashMap::new();
            for lease in eligible.iter().filter(|l| !leases::is_free(l, now)) {
                if let Some(owner) = lease.owner.as_deref().filter(|o| *o != self.lease.owner()) {
                    counts.entry(owner).or_default().push(lease);
                }
            }
            let busiest = counts
                .into_values()
                .filter(|v| v.len() > share)
                .max_by_key(Vec::len);
            if let Some(lease) = busiest.and_then(|theirs| theirs.last().copied()) {
                take.push(lease.clone());
            }
        }
        take
    }
}

#[derive(Debug, thiserror::Error)]
enum CoordinationError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Kinesis(#[from] atone_kinesis::KinesisError),
}
