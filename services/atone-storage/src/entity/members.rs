use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// -1 (`atone_projection::LIMIT_NOT_SET`) until a purchase or `ChangeCreditLimit` sets
    /// the member's own limit; reads show the configured default meanwhile.
    pub credit_limit: i64,
    pub outstanding_amount: i64,
    /// The member version the read models reflect: events at or below it are applied.
    pub version: i64,
    pub updated_at: DateTimeUtc,
    /// convenience_store or bank_debit.
    pub payment_method: String,
    pub credit_balance: i64,
    pub unapplied_balance: i64,
    pub overdue_bills: i64,
    /// The account bank-debit bills are drawn from, its number masked: JSON.
    pub bank_account: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
