//! Delivery: how events get from the outbox to the read models, and ProjectorService,
//! which reports how far each source got.
//!
//! - [`EmbeddedProjector`] (no Kinesis): applies the outbox straight to the read models in
//!   the same process, deleting each batch's rows in the transaction that applies them.
//! - [`Relay`] (in `atone command`): publishes the outbox to the Kinesis stream, the
//!   events of one shard's members packed into one record ([`packing`]).
//! - [`KinesisProjector`] (in `atone projector`): reads every shard of the stream, sharing
//!   the shards with other projector processes through leases (`atone-lease`).
//!
//! Each batch's read-model writes, change-feed rows and checkpoint commit in one
//! transaction, and a version already applied is skipped, so a crash or a replay never
//! changes a read model twice.

mod dead_letters;
mod kinesis;
pub mod metric;
mod outbox;
mod reconcile;
mod service;

pub use dead_letters::REPAIR_SOURCE;
pub use kinesis::{KinesisProjector, KinesisProjectorConfig};
pub use outbox::embedded::EmbeddedProjector;
pub use outbox::pack::{self as packing, ShardMap};
pub use outbox::relay::{Relay, RelayConfig};
pub use reconcile::{KIND_RECONCILE, RECONCILE_SOURCE, ReconcileConfig, Reconciler};
pub use service::ProjectorApi;
