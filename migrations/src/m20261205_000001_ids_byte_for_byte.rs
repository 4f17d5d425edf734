//! Ids compare byte for byte on MySQL/MariaDB too. `utf8mb4_bin` is a PAD SPACE collation:
//! `'alice' = 'alice '` is true there, so a member id with a trailing space named another
//! member's rows (and broke the projection on a duplicate key). Every table of atone moves
//! to a NO PAD binary collation: MariaDB's `utf8mb4_nopad_bin`, MySQL 8's
//! `utf8mb4_0900_bin`. SQLite compares bytes already (its BINARY collation pads nothing).
//!
//! Converting a table rewrites it: on a large `events` table, run the migration in a quiet
//! moment (`atone migrate`) before the upgraded processes start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every table of atone's schema (the migrations' own table keeps its collation).
pub(crate) const TABLES: [&str; 11] = [
    "events",
    "outbox",
    "snapshots",
    "idempotency_keys",
    "members",
    "payment_promises",
    "member_bills",
    "change_feed",
    "feed_sources",
    "dead_letters",
    "projector_leases",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        let collation = no_pad_collation(m.get_connection()).await?;
        convert(m, collation).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        convert(m, "utf8mb4_bin").await
    }
}

async fn convert(m: &SchemaManager<'_>, collation: &str) -> Result<(), DbErr> {
    let db = m.get_connection();
    for table in TABLES {
        db.execute_unprepared(&format!(
            "ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}"
        ))
        .await?;
    }
    Ok(())
}

/// The binary NO PAD collation this server has: MariaDB 10.2+ `utf8mb4_nopad_bin`, MySQL
/// 8 `utf8mb4_0900_bin`. A server with neither cannot hold ids byte for byte: refused.
pub(crate) async fn no_pad_collation(db: &impl ConnectionTrait) -> Result<&'static str, DbErr> {
    for name in ["utf8mb4_nopad_bin", "utf8mb4_0900_bin"] {
        let found = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::MySql,
                "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME = ?",
                [name.into()],
            ))
            .await?;
        if found.is_some() {
            return Ok(name);
        }
    }
    Err(DbErr::Migration(
        "this MySQL server has no binary NO PAD collation (utf8mb4_nopad_bin or utf8mb4_0900_bin): atone needs MariaDB 10.2+ or MySQL 8+".to_owned(),
    ))
}
