//! Outgoing webhooks. `webhook_endpoints` holds each endpoint an admin registered: where
//! to post, which event types, the secret deliveries are signed with, whether it is
//! enabled, and its cursor (`after_position`: the position of the last event it took, or passed by for its
//! types). `generation` changes with each replay, so a delivery begun before one cannot
//! move the cursor after it. `webhook_deliveries` logs every attempt: the event, the
//! answer's status (or the error), and how long it took.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{instant, instant_null, table};
use crate::m20261205_000001_ids_byte_for_byte::no_pad_collation;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table(m, "webhook_endpoints")
                .col(string_len("endpoint_id", 64).primary_key())
                .col(string_len("url", 2048))
                // JSON array of event type names; empty for all.
                .col(text("event_types"))
                .col(string_len("secret", 128))
                .col(boolean("enabled"))
                .col(string_len_null("disabled_reason", 512))
                .col(big_integer("after_position"))
                .col(big_integer("generation").default(0))
                // Since when its deliveries have failed, without one succeeding.
                .col(instant_null(m, "failing_since"))
                .col(instant(m, "created_at"))
                .take(),
        )
        .await?;
        m.create_table(
            table(m, "webhook_deliveries")
                .col(big_pk_auto("delivery_id"))
                .col(string_len("endpoint_id", 64))
                .col(big_integer("position"))
                .col(string_len("event_id", 36))
                .col(string_len("event_type", 64))
                .col(integer("attempt"))
                // The answer's HTTP status; none when no answer came.
                .col(integer_null("status_code"))
                .col(string_len_null("error", 512))
                .col(big_integer("latency_ms"))
                .col(boolean("delivered"))
                .col(instant(m, "attempted_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_endpoint")
                .table("webhook_deliveries")
                .col("endpoint_id")
                .col("delivery_id")
                .take(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::MySql {
            let collation = no_pad_collation(m.get_connection()).await?;
            for t in ["webhook_endpoints", "webhook_deliveries"] {
                m.get_connection()
                    .execute_unprepared(&format!(
                        "ALTER TABLE `{t}` CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}"
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("webhook_deliveries").take())
            .await?;
        m.drop_table(Table::drop().table("webhook_endpoints").take())
            .await
    }
}
