//! An index on the promises' bill: a projector loads a bill's promises with a locking read
//! by `bill_id`, which without it scanned (and on MySQL locked) every promise, so the
//! batches of two projectors waited on each other's rows and deadlocked.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_promises_bill";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table("payment_promises")
                .col("bill_id")
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(NAME)
                .table("payment_promises")
                .to_owned(),
        )
        .await
    }
}
