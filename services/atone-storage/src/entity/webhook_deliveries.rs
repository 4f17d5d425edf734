use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub delivery_id: i64,
    pub endpoint_id: String,
    pub position: i64,
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt at this event, 2 for its first retry…
    pub attempt: i32,
    /// The answer's HTTP status; none when no answer came.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub delivered: bool,
    pub attempted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
