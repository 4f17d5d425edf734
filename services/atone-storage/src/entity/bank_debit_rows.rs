use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_debit_rows")]
pub struct Model {
    /// The 顧客番号 of the debit in the request and result files.
    #[sea_orm(primary_key)]
    pub customer_number: i64,
    pub debit_date: Date,
    pub user_id: String,
    pub bill_id: String,
    pub amount: i64,
    /// SHA-256 (hex) of the request file it was last exported in.
    pub file_digest: String,
    pub exported_at: DateTimeUtc,
    /// 振替結果コード once a result file gave one: `0` debited, `1`-`9` failed.
    pub result_code: Option<String>,
    pub imported_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
