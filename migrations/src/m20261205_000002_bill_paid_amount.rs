//! 消込: money received is applied to bills in part, so each bill keeps how much of it was
//! paid (`paid_amount`; what is left to pay is `amount - paid_amount`). A bill already paid
//! was paid whole, by money equal to its amount.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("member_bills")
                .add_column(big_integer("paid_amount").default(0).take())
                .take(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table("member_bills")
                .value("paid_amount", Expr::col("amount"))
                .and_where(Expr::col("status").eq("paid"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("member_bills")
                .drop_column("paid_amount")
                .take(),
        )
        .await
    }
}
