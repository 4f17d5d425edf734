//! Change-feed rows are numbered per source, in commit order: every writer of the feed (a
//! shard's projector, the embedded projector, a repair) takes the next numbers of its
//! source's row in `feed_sources` in the transaction that writes the rows, so a source's
//! rows become visible in the order of their numbers with none missing. The query
//! service's reader follows each source's committed number, and no row can be passed over
//! however late it commits. Rows written before keep their id as their number, under the
//! source "legacy".

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::columns::table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table(m, "feed_sources")
                .col(string_len("source_id", 128).primary_key())
                .col(big_integer("seq").default(0))
                .take(),
        )
        .await?;
        for column in [
            string_len("source_id", 128).default("").take(),
            big_integer("seq").default(0).take(),
        ] {
            m.alter_table(
                Table::alter()
                    .table("change_feed")
                    .add_column(column)
                    .take(),
            )
            .await?;
        }
        let db = m.get_connection();
        db.execute_unprepared("UPDATE change_feed SET source_id = 'legacy', seq = id")
            .await?;
        db.execute_unprepared(
            "INSERT INTO feed_sources (source_id, seq) SELECT 'legacy', COALESCE(MAX(id), 0) FROM change_feed",
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_change_feed_source_seq")
                .table("change_feed")
                .col("source_id")
                .col("seq")
                .unique()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_change_feed_source_seq")
                .table("change_feed")
                .to_owned(),
        )
        .await?;
        for column in ["seq", "source_id"] {
            m.alter_table(
                Table::alter()
                    .table("change_feed")
                    .drop_column(column)
                    .take(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table("feed_sources").take())
            .await
    }
}
