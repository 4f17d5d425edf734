//! Change-feed rows hold the projection's change as JSON from here on, where they held a
//! protobuf `MemberChange` before. Rows written before cannot be read back, so they go: the
//! read models are untouched, and a watcher resuming from a cursor older than this gets a
//! fresh snapshot (`SNAPSHOT_REASON_CURSOR_EXPIRED`), as after the feed's retention.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(Query::delete().from_table("change_feed").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(Query::delete().from_table("change_feed").to_owned())
            .await
    }
}
