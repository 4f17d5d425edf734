//! sea-orm entities, one per table of `migrations/`.

pub mod bank_debit_rows;
pub mod change_feed;
pub mod dead_letters;
pub mod events;
pub mod feed_sources;
pub mod idempotency_keys;
pub mod member_bills;
pub mod members;
pub mod outbox;
pub mod payment_promises;
pub mod projector_leases;
pub mod snapshots;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
