//! The W3C trace context of each event and change-feed row, so that with tracing on a
//! command's trace goes on through the projection and the watches' pushes. Empty (NULL)
//! when tracing is off, and for rows written before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `00-<32 hex>-<16 hex>-<2 hex>` is 55 characters; a later version of the format may add.
const LEN: u32 = 128;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["events", "change_feed"] {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(string_len_null("trace_parent", LEN))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["events", "change_feed"] {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .drop_column("trace_parent")
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
