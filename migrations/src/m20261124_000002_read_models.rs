//! The read models, the change feed that watchers follow, and the projector's leases.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{instant, instant_null, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing where the database allows it (SQLite; MySQL commits each DDL).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per member: their credit, and the version the read models reflect.
        m.create_table(
            table(m, "members")
                .col(string_len("user_id", 128).primary_key())
                .col(big_integer("credit_limit"))
                .col(big_integer("outstanding_amount"))
                .col(big_integer("version"))
                .col(instant(m, "updated_at"))
                .take(),
        )
        .await?;

        // 支払約束, with the hands-on's columns.
        m.create_table(
            table(m, "payment_promises")
                .col(string_len("id", 36).primary_key())
                .col(string_len("order_id", 36))
                .col(string_len("user_id", 128))
                .col(string_len("product_id", 128))
                .col(string_len("product_name", 256))
                .col(big_integer("amount"))
                .col(date("due_date"))
                .col(string_len("payment_mode", 16))
                .col(string_len("status", 16))
                .col(string_len_null("bill_id", 36))
                .col(instant(m, "purchased_at"))
                .col(big_integer("created_version"))
                .col(big_integer("updated_version"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_promises_user_created")
                .table("payment_promises")
                .col("user_id")
                .col("created_version")
                .take(),
        )
        .await?;

        // 会員請求, with the hands-on's columns.
        m.create_table(
            table(m, "member_bills")
                .col(string_len("id", 36).primary_key())
                .col(string_len("user_id", 128))
                .col(json("promise_ids"))
                .col(big_integer("amount"))
                .col(string_len("status", 16))
                .col(date("issued_date"))
                .col(date("due_date"))
                .col(date_null("paid_date"))
                .col(big_integer("created_version"))
                .col(big_integer("updated_version"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_bills_user_created")
                .table("member_bills")
                .col("user_id")
                .col("created_version")
                .take(),
        )
        .await?;

        // One row per applied event, written in the same transaction as the read models:
        // what QueryService tails and fans out to watchers. (user_id, version) is unique,
        // so a replay can never add a change twice.
        m.create_table(
            table(m, "change_feed")
                .col(big_pk_auto("id"))
                .col(string_len("user_id", 128))
                .col(big_integer("version"))
                .col(string_len("event_type", 64))
                .col(blob("change"))
                .col(instant(m, "created_at"))
                .index(
                    Index::create()
                        .name("ux_change_feed_user_version")
                        .col("user_id")
                        .col("version")
                        .unique(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_change_feed_created")
                .table("change_feed")
                .col("created_at")
                .take(),
        )
        .await?;

        // Each source the projector reads (the embedded outbox, or a Kinesis shard): who
        // holds it, until when, its fencing counter and where it resumes. The checkpoint is
        // written in the same transaction as the read models it covers.
        m.create_table(
            table(m, "projector_leases")
                .col(string_len("source_id", 128).primary_key())
                .col(string_len("kind", 32))
                .col(string_len_null("owner", 128))
                .col(instant_null(m, "lease_expires_at"))
                .col(big_integer("lease_counter").default(0))
                .col(string_len_null("checkpoint", 128))
                .col(big_integer("events_applied").default(0))
                .col(big_integer("invalid_records").default(0))
                .col(big_integer("lag_millis").default(0))
                .col(json("parent_ids"))
                .col(boolean("finished").default(false))
                .col(instant(m, "updated_at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "projector_leases",
            "change_feed",
            "member_bills",
            "payment_promises",
            "members",
        ] {
            m.drop_table(Table::drop().table(name).take()).await?;
        }
        Ok(())
    }
}
