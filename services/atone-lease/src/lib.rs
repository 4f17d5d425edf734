//! Holding leases in the lease table (`projector_leases`): the relay holds the one `relay`
//! lease, the shard coordinator one lease per shard it reads, the daily billing job the
//! `billing` lease. A lease is taken with a
//! compare-and-set on its fencing counter, renewed every third of its duration, handed back
//! on shutdown, and every write made under it is fenced by it: an instance that lost its
//! lease (paused, partitioned) can no longer commit.

use std::time::Duration;

use atone_storage::leases::{self, Fence, Lease};
use atone_storage::{DatabaseConnection, StorageError};
use chrono::Utc;
use tokio::time::Instant;

/// Takes, renews and releases leases for one owner.
#[derive(Clone)]
pub struct LeaseHolder {
    db: DatabaseConnection,
    /// This process's name in the lease table.
    owner: String,
    /// How long a lease lasts unrenewed; after a crash, others take it within this time.
    duration: Duration,
}

/// A lease this process holds.
#[derive(Debug, Clone)]
pub struct Held {
    pub source_id: String,
    /// The fencing counter this process took the lease at.
    pub counter: i64,
    renew_at: Instant,
}

impl LeaseHolder {
    pub fn new(db: DatabaseConnection, owner: String, duration: Duration) -> Self {
        Self {
            db,
            owner,
            duration,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// What writes under `held` are fenced by.
    pub fn fence<'a>(&'a self, held: &Held) -> Fence<'a> {
        Fence {
            owner: &self.owner,
            counter: held.counter,
        }
    }

    fn renew_at(&self) -> Instant {
        Instant::now() + self.duration / 3
    }

    /// Takes the lease as `seen` read it, free or held by another (a steal, which fences the
    /// other holder off). `None` if someone changed it since.
    pub async fn take(&self, seen: &Lease) -> Result<Option<Held>, StorageError> {
        let until = Utc::now() + self.duration;
        let counter = leases::take(&self.db, seen, &self.owner, until).await?;
        Ok(counter.map(|counter| Held {
            source_id: seen.source_id.clone(),
            counter,
            renew_at: self.renew_at(),
        }))
    }

    /// Registers the source and takes its lease if it is free; `None` while another holds
    /// it.
    pub async fn take_if_free(
        &self,
        source_id: &str,
        kind: &str,
    ) -> Result<Option<Held>, StorageError> {
        leases::ensure(&self.db, source_id, kind, &[]).await?;
        match leases::get(&self.db, source_id).await? {
            Some(lease) if leases::is_free(&lease, Utc::now()) => self.take(&lease).await,
            _ => Ok(None),
        }
    }

    /// Renews `held` if a third of its duration has passed since it was last renewed. False
    /// if it was lost: another owner holds it now.
    pub async fn keep(&self, held: &mut Held) -> Result<bool, StorageError> {
        if Instant::now() < held.renew_at {
            return Ok(true);
        }
        self.renew(held).await
    }

    /// Renews `held` now. False if it was lost.
    pub async fn renew(&self, held: &mut Held) -> Result<bool, StorageError> {
        let until = Utc::now() + self.duration;
        let kept = leases::renew(&self.db, &held.source_id, self.fence(held), until).await?;
        if kept {
            held.renew_at = self.renew_at();
        }
        Ok(kept)
    }

    /// When `held` is next due for renewal.
    pub fn renew_due(&self, held: &Held) -> Instant {
        held.renew_at
    }

    /// Hands `held` back at once, so another instance takes it without waiting for it to
    /// expire. A failure is logged: the lease then expires on its own.
    pub async fn release(&self, held: Held) {
        match leases::release(&self.db, &held.source_id, self.fence(&held)).await {
            Ok(true) => tracing::info!(source_id = %held.source_id, "lease handed back"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(source_id = %held.source_id, error = %e, "lease not handed back; it expires on its own")
            }
        }
    }
}
