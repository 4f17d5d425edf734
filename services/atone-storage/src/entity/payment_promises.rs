use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_promises")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub order_id: String,
    pub user_id: String,
    pub product_id: String,
    pub product_name: String,
    pub amount: i64,
    pub due_date: Date,
    /// IMMEDIATE or MONTHLY.
    pub payment_mode: String,
    /// unbilled, billed, paid or cancelled.
    pub status: String,
    pub bill_id: Option<String>,
    pub purchased_at: DateTimeUtc,
    pub created_version: i64,
    pub updated_version: i64,
    pub cancelled_amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
