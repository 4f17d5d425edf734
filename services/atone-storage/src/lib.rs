//! atone's storage: the event store and its outbox, the read models, the change feed and
//! the projector's checkpoints, through sea-orm on MySQL/MariaDB or SQLite.

pub mod change_feed;
pub mod codec;
pub mod db;
pub mod entity;
mod error;
pub mod event_store;
pub mod leases;
pub mod outbox;
pub mod projection;
pub mod read_model;

pub use codec::Envelope;
pub use db::{DbConfig, connect, migrate};
pub use error::StorageError;
pub use event_store::{CommandMeta, EventStore};
pub use sea_orm::DatabaseConnection;
