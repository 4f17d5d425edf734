use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_feed")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: String,
    pub version: i64,
    pub event_type: String,
    /// The projection's `Change` as JSON: what watchers are sent.
    pub change: Vec<u8>,
    pub created_at: DateTimeUtc,
    /// The feed source that wrote the row, and its number there: each source's rows commit
    /// in the order of their numbers, none missing (see `feed_sources`).
    pub source_id: String,
    pub seq: i64,
    /// The W3C `traceparent` of the projection of the event, when tracing was on: a watch's
    /// push joins the trace.
    pub trace_parent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
