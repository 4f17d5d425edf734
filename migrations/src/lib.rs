//! atone's schema: the event store, the outbox, the read models, the change feed and the
//! projector's leases, for MySQL/MariaDB and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_event_store;
mod m20261124_000002_read_models;
mod m20261129_000001_change_feed_json;
mod m20261130_000001_billing_month;
mod m20261201_000001_feed_sequence;
mod m20261201_000002_dead_letters;
mod m20261204_000001_trace_context;
mod m20261204_000002_idempotency_keys;
mod m20261204_000003_promises_by_bill;
mod m20261205_000001_ids_byte_for_byte;
mod m20261205_000002_bill_paid_amount;
mod m20261206_000001_bank_debit;
mod m20261207_000001_event_positions;
mod m20261208_000001_webhooks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_event_store::Migration),
            Box::new(m20261124_000002_read_models::Migration),
            Box::new(m20261129_000001_change_feed_json::Migration),
            Box::new(m20261130_000001_billing_month::Migration),
            Box::new(m20261201_000001_feed_sequence::Migration),
            Box::new(m20261201_000002_dead_letters::Migration),
            Box::new(m20261204_000001_trace_context::Migration),
            Box::new(m20261204_000002_idempotency_keys::Migration),
            Box::new(m20261204_000003_promises_by_bill::Migration),
            Box::new(m20261205_000001_ids_byte_for_byte::Migration),
            Box::new(m20261205_000002_bill_paid_amount::Migration),
            Box::new(m20261206_000001_bank_debit::Migration),
            Box::new(m20261207_000001_event_positions::Migration),
            Box::new(m20261208_000001_webhooks::Migration),
        ]
    }
}

/// Column and table helpers that differ between MySQL and SQLite.
pub(crate) mod columns {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::sea_orm::DbBackend;

    /// An instant with microseconds: `DATETIME(6)` on MySQL (plain `DATETIME` drops them).
    pub fn instant(manager: &SchemaManager, name: &'static str) -> ColumnDef {
        let mut col = ColumnDef::new(name);
        match manager.get_database_backend() {
            DbBackend::MySql => col.custom("DATETIME(6)"),
            _ => col.timestamp(),
        };
        col.not_null().take()
    }

    pub fn instant_null(manager: &SchemaManager, name: &'static str) -> ColumnDef {
        let mut col = instant(manager, name);
        col.null();
        col
    }

    /// A table whose text compares byte for byte on MySQL: ids are case-sensitive. (A
    /// PAD SPACE collation: m20261205_000001 moves every table to a NO PAD one; a table
    /// created after it must be converted the same way.)
    pub fn table(manager: &SchemaManager, name: &'static str) -> TableCreateStatement {
        let mut table = Table::create();
        table.table(name);
        if manager.get_database_backend() == DbBackend::MySql {
            table
                .engine("InnoDB")
                .character_set("utf8mb4")
                .collate("utf8mb4_bin");
        }
        table
    }
}
