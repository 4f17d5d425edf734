//! Every event gets a global position: 1, 2, 3… across all members, in the order the events
//! committed (`events.position`). An append takes its positions by raising the `events` row
//! of `sequences`, which stays locked until the append commits: the next append waits, so
//! positions become visible in their order with none missing, and a rolled-back append gives
//! its positions back. A reader that has seen position p has seen every position before it.
//!
//! Events stored before get positions in the order they were inserted (their id).

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::table;
use crate::m20261205_000001_ids_byte_for_byte::no_pad_collation;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("events")
                .add_column(big_integer_null("position"))
                .take(),
        )
        .await?;
        let db = m.get_connection();
        let numbered = "SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM events";
        db.execute_unprepared(&match m.get_database_backend() {
            DbBackend::MySql => {
                format!("UPDATE events e JOIN ({numbered}) r ON e.id = r.id SET e.position = r.n")
            }
            _ => format!(
                "UPDATE events SET position = r.n FROM ({numbered}) r WHERE events.id = r.id"
            ),
        })
        .await?;
        m.create_index(
            Index::create()
                .name("ux_events_position")
                .table("events")
                .col("position")
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            table(m, "sequences")
                .col(string_len("name", 64).primary_key())
                .col(big_integer("value").default(0))
                .take(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::MySql {
            let collation = no_pad_collation(db).await?;
            db.execute_unprepared(&format!(
                "ALTER TABLE `sequences` CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}"
            ))
            .await?;
        }
        db.execute_unprepared(
            "INSERT INTO sequences (name, value) SELECT 'events', COALESCE(MAX(position), 0) FROM events",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("sequences").take())
            .await?;
        m.drop_index(
            Index::drop()
                .name("ux_events_position")
                .table("events")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("events")
                .drop_column("position")
                .take(),
        )
        .await?;
        Ok(())
    }
}
