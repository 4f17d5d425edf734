//! The event store (`events`), its outbox and member snapshots.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{instant, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing where the database allows it (SQLite; MySQL commits each DDL).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Every event of every member. (user_id, version) is unique: two writers that
        // decided on the same state cannot both append.
        m.create_table(
            table(m, "events")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("event_id", 36))
                .col(string_len("user_id", 128))
                .col(big_integer("version"))
                .col(string_len("event_type", 64))
                .col(json("event_data"))
                .col(instant(m, "occurred_at"))
                .col(string_len("idempotency_key", 128))
                .col(string_len("correlation_id", 128))
                .index(
                    Index::create()
                        .name("ux_events_user_version")
                        .col("user_id")
                        .col("version")
                        .unique(),
                )
                .take(),
        )
        .await?;

        // Events written but not delivered yet, in the order they were appended. The row
        // carries the encoded EventEnvelope that goes on the stream; it is deleted once
        // delivered (to Kinesis, or straight to the embedded projector).
        m.create_table(
            table(m, "outbox")
                .col(big_pk_auto("id"))
                .col(string_len("user_id", 128))
                .col(big_integer("version"))
                .col(blob("envelope"))
                .col(instant(m, "created_at"))
                .take(),
        )
        .await?;

        // A member's folded state at some version, so a command loads the snapshot and the
        // events after it instead of the whole stream.
        m.create_table(
            table(m, "snapshots")
                .col(string_len("user_id", 128).primary_key())
                .col(big_integer("version"))
                .col(json("state"))
                .col(instant(m, "updated_at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["snapshots", "outbox", "events"] {
            m.drop_table(Table::drop().table(name).take()).await?;
        }
        Ok(())
    }
}
