use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "projector_leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: String,
    /// "embedded-outbox" or "kinesis-shard".
    pub kind: String,
    pub owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// Bumped on every change of owner: a write that carries an older counter is fenced off.
    pub lease_counter: i64,
    pub checkpoint: Option<String>,
    pub events_applied: i64,
    pub invalid_records: i64,
    pub lag_millis: i64,
    /// A JSON array of parent shard ids.
    pub parent_ids: Json,
    pub finished: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
