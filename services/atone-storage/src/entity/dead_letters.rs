use sea_orm::entity::prelude::*;

/// An event a projector could not apply, or one waiting behind it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_letters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: String,
    pub version: i64,
    pub event_id: Option<String>,
    pub event_type: String,
    pub source_id: String,
    /// "parked", "retried" or "skipped".
    pub status: String,
    pub error: String,
    pub record: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<String>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
