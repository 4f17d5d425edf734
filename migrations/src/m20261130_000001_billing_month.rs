//! The BNPL month in the read models: the member's payment method and balances, what each
//! bill is made of (kind, period, items, fee, balance applied, overdue, reminders), and how
//! much of each promise was cancelled. Existing rows get what they were: immediate bills
//! whose items are their amount, members paying at a convenience store with no balances.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column) added, each with a default existing rows take.
fn columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        (
            "members",
            string_len("payment_method", 24)
                .default("convenience_store")
                .take(),
        ),
        ("members", big_integer("credit_balance").default(0).take()),
        (
            "members",
            big_integer("unapplied_balance").default(0).take(),
        ),
        ("members", big_integer("overdue_bills").default(0).take()),
        (
            "payment_promises",
            big_integer("cancelled_amount").default(0).take(),
        ),
        (
            "member_bills",
            string_len("kind", 16).default("immediate").take(),
        ),
        ("member_bills", string_len_null("period", 7).take()),
        ("member_bills", big_integer("items_total").default(0).take()),
        ("member_bills", big_integer("fee").default(0).take()),
        (
            "member_bills",
            big_integer("balance_applied").default(0).take(),
        ),
        ("member_bills", date_null("overdue_since").take()),
        (
            "member_bills",
            big_integer("reminders_sent").default(0).take(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for (table, column) in columns() {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(column.clone())
                    .take(),
            )
            .await?;
        }
        // An existing bill's items are its amount (there were no fees).
        m.exec_stmt(
            Query::update()
                .table("member_bills")
                .value("items_total", Expr::col("amount"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns() {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .drop_column(Alias::new(column.get_column_name()))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
