use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "member_bills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    /// A JSON array of promise ids.
    pub promise_ids: Json,
    pub amount: i64,
    /// unpaid, paid, overdue, adjusted or cancelled.
    pub status: String,
    pub issued_date: Date,
    pub due_date: Date,
    pub paid_date: Option<Date>,
    pub created_version: i64,
    pub updated_version: i64,
    /// immediate or monthly.
    pub kind: String,
    /// YYYY-MM of a monthly bill.
    pub period: Option<String>,
    pub items_total: i64,
    pub fee: i64,
    pub balance_applied: i64,
    /// Money received applied to the bill; `amount - paid_amount` is left to pay.
    pub paid_amount: i64,
    pub overdue_since: Option<Date>,
    pub reminders_sent: i64,
    /// convenience_store or bank_debit for a monthly bill.
    pub payment_method: Option<String>,
    /// Why the bank could not draw it.
    pub debit_failure: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
