//! atone's storage: the event store and its outbox, the read models, the change feed and
//! the lease table with the sources' checkpoints, through sea-orm on MySQL/MariaDB or
//! SQLite. It loads and saves; the rules live elsewhere (the domain decides commands, the
//! projection derives read models).

pub mod bank_debits;
pub mod change_feed;
pub mod db;
pub mod dead_letters;
pub mod entity;
mod error;
pub mod event_log;
pub mod event_store;
pub mod idempotency;
pub mod leases;
pub mod outbox;
pub mod planted;
pub mod projection;
pub mod read_model;
pub mod verify;
pub mod webhooks;

pub use db::{DbConfig, connect, migrate};
pub use error::StorageError;
pub use event_store::{CommandMeta, EventStore};
pub use read_model::MemberView;
pub use sea_orm::DatabaseConnection;
