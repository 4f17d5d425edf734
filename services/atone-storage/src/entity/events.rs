use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: String,
    pub user_id: String,
    pub version: i64,
    pub event_type: String,
    pub event_data: Json,
    pub occurred_at: DateTimeUtc,
    pub idempotency_key: String,
    pub correlation_id: String,
    /// The appending command's W3C `traceparent`, when tracing was on.
    pub trace_parent: Option<String>,
    /// The event's place among all events, in commit order (1, 2, 3…); set by every append.
    pub position: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
