//! The periodic reconcile: compares each member's read-model version with the last event
//! of its stream and repairs, from the event store, a member the read models are behind
//! (an event that never reached a projector: trimmed from the stream while every projector
//! was down, or lost with its outbox row). One process at a time does it (the `reconcile`
//! lease); the last event looked at is the lease's checkpoint, so each pass reads only what
//! was appended since, and every repair is counted (the lease's events applied, shown by
//! GetStatus) and logged.

use std::time::Duration;

use atone_lease::LeaseHolder;
use atone_storage::leases::{self, Progress};
use atone_storage::projection::{self, Readable};
use atone_storage::{StorageError, db, dead_letters, event_store, read_model};
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::dead_letters::REPAIR_SOURCE;

pub const RECONCILE_SOURCE: &str = "reconcile";
pub const KIND_RECONCILE: &str = "reconcile-job";

/// Events looked at per pass at most.
const PER_PASS: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileConfig {
    /// How often a pass runs; zero turns the reconcile off.
    pub interval: Duration,
    /// Events younger than this are left to the projectors.
    pub grace: Duration,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            grace: Duration::from_secs(60),
        }
    }
}

pub struct Reconciler {
    lease: LeaseHolder,
    config: ReconcileConfig,
    readable: Readable,
}

impl Reconciler {
    pub fn new(lease: LeaseHolder, config: ReconcileConfig, readable: Readable) -> Self {
        Self {
            lease,
            config,
            readable,
        }
    }

    /// Runs a pass every interval until `shutdown`; failures are logged and tried again.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.config.interval.is_zero() {
            return;
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.config.interval) => {}
            }
            match self.pass().await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    repaired = n,
                    "reconcile repaired read models behind their event store"
                ),
                Err(e) => tracing::warn!(error = %e, "reconcile pass failed; trying again"),
            }
        }
    }

    /// One pass, if no other process is running one; returns the events it repaired.
    pub async fn pass(&self) -> Result<usize, StorageError> {
        let db = self.lease.db();
        leases::ensure(db, RECONCILE_SOURCE, KIND_RECONCILE, &[]).await?;
        let Some(held) = self
            .lease
            .take_if_free(RECONCILE_SOURCE, KIND_RECONCILE)
            .await?
        else {
            return Ok(0);
        };
        let result = self.checked_pass().await;
        self.lease.release(held).await;
        result
    }

    async fn checked_pass(&self) -> Result<usize, StorageError> {
        let db = self.lease.db();
        let after = leases::get(db, RECONCILE_SOURCE)
            .await?
            .and_then(|l| l.checkpoint)
            .and_then(|c| c.parse::<i64>().ok())
            .unwrap_or(0);
        let grace = chrono::Duration::from_std(self.config.grace).unwrap_or_default();
        let (latest, last_id) =
            event_store::latest_since(db, after, Utc::now() - grace, PER_PASS).await?;
        let Some(last_id) = last_id else {
            return Ok(0);
        };
        let users: Vec<String> = latest.keys().cloned().collect();
        let projected = read_model::member_versions(db, &users).await?;
        let parked = dead_letters::parked_members(db, &users).await?;
        let mut repaired = 0;
        for (user_id, version) in latest {
            let at = projected.get(&user_id).copied().unwrap_or(0);
            if at >= version || parked.contains(&user_id) {
                continue;
            }
            let (txn, _turn) = db::begin_projection(db).await?;
            let outcome =
                projection::reproject(&txn, &user_id, &self.readable, REPAIR_SOURCE).await?;
            txn.commit().await?;
            tracing::warn!(
                user_id,
                read_model_version = at,
                stream_version = version,
                applied = outcome.applied.len(),
                parked = outcome.parked.len(),
                "read model behind its event store; repaired from the event store"
            );
            repaired += outcome.applied.len();
        }
        let progress = Progress {
            checkpoint: Some(last_id.to_string()),
            applied: repaired as i64,
            ..Progress::default()
        };
        leases::record_progress(db, RECONCILE_SOURCE, &progress, None).await?;
        Ok(repaired)
    }
}
