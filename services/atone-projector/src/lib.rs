//! ProjectorService: applies events to the read models, and reports how far it got.
//!
//! Each batch's read-model writes, change-feed rows and checkpoint commit in one
//! transaction, and a version already applied is skipped, so a crash or a replay never
//! changes a read model twice.

mod embedded;
mod kinesis;
mod retry;
mod service;

pub use embedded::EmbeddedProjector;
pub use kinesis::{KinesisProjector, KinesisProjectorConfig};
pub use retry::Backoff;
pub use service::ProjectorApi;
