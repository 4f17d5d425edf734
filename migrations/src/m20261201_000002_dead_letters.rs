//! Dead letters: events a projector could not apply, kept per member in version order. The
//! first one of a member says why; the later ones wait behind it. Nothing is deleted: an
//! operator's retry or skip marks a row resolved, with who did it and when.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{instant, instant_null, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table(m, "dead_letters")
                .col(big_pk_auto("id"))
                .col(string_len("user_id", 128))
                .col(big_integer("version"))
                .col(string_len_null("event_id", 36))
                .col(string_len("event_type", 64))
                .col(string_len("source_id", 128))
                // "parked" until resolved as "retried" or "skipped".
                .col(string_len("status", 16))
                .col(text("error"))
                // The record as it arrived, when it came off a stream or the outbox.
                .col(blob_null("record"))
                .col(instant(m, "created_at"))
                .col(instant_null(m, "resolved_at"))
                .col(string_len_null("resolved_by", 128))
                .col(text_null("note"))
                .index(
                    Index::create()
                        .name("ux_dead_letters_user_version")
                        .col("user_id")
                        .col("version")
                        .unique(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_dead_letters_status_user")
                .table("dead_letters")
                .col("status")
                .col("user_id")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("dead_letters").take())
            .await
    }
}
