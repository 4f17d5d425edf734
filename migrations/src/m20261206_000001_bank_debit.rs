//! Bank debit as files. Each monthly bill says how it is paid (`payment_method`; a failed
//! debit turns a bank-debit bill into a convenience-store one, `debit_failure` saying why),
//! each member the account their bills are drawn from, its number masked
//! (`bank_account`, JSON), and `bank_debit_rows` maps each debit of an exported request
//! file (its customer number, 顧客番号) to the bill it draws and the result read back.
//!
//! Monthly bills issued before get their method from their due date: a convenience-store
//! bill is due on the 10th, a bank-debit bill never is.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{instant, instant_null, table};
use crate::m20261205_000001_ids_byte_for_byte::no_pad_collation;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_len_null("payment_method", 32),
            string_len_null("debit_failure", 256),
        ] {
            m.alter_table(
                Table::alter()
                    .table("member_bills")
                    .add_column(column)
                    .take(),
            )
            .await?;
        }
        let day = match m.get_database_backend() {
            DbBackend::MySql => "DAYOFMONTH(due_date)",
            _ => "CAST(strftime('%d', due_date) AS INTEGER)",
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "UPDATE member_bills SET payment_method = CASE WHEN {day} = 10 \
                 THEN 'convenience_store' ELSE 'bank_debit' END WHERE kind = 'monthly'"
            ))
            .await?;
        m.create_index(
            Index::create()
                .name("ix_member_bills_method_due")
                .table("member_bills")
                .col("payment_method")
                .col("due_date")
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("members")
                .add_column(text_null("bank_account"))
                .take(),
        )
        .await?;
        m.create_table(
            table(m, "bank_debit_rows")
                // The 顧客番号 of the debit in the files.
                .col(big_pk_auto("customer_number"))
                .col(date("debit_date"))
                .col(string_len("user_id", 128))
                .col(string_len("bill_id", 36))
                .col(big_integer("amount"))
                // SHA-256 of the request file it was last exported in.
                .col(string_len("file_digest", 64))
                .col(instant(m, "exported_at"))
                // 振替結果コード once a result file gave one.
                .col(string_len_null("result_code", 1))
                .col(instant_null(m, "imported_at"))
                .index(
                    Index::create()
                        .name("ux_bank_debit_rows_date_bill")
                        .col("debit_date")
                        .col("bill_id")
                        .unique(),
                )
                .take(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::MySql {
            let collation = no_pad_collation(m.get_connection()).await?;
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE `bank_debit_rows` CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("bank_debit_rows").take())
            .await?;
        m.alter_table(
            Table::alter()
                .table("members")
                .drop_column("bank_account")
                .take(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_member_bills_method_due")
                .table("member_bills")
                .to_owned(),
        )
        .await?;
        for column in ["payment_method", "debit_failure"] {
            m.alter_table(
                Table::alter()
                    .table("member_bills")
                    .drop_column(column)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
