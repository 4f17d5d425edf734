use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub endpoint_id: String,
    pub url: String,
    /// JSON array of event type names; empty for all.
    pub event_types: String,
    /// What deliveries are signed with (never shown after the endpoint is added).
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// The position of the last event delivered, or passed by for its types.
    pub after_position: i64,
    /// Changed by each replay: a delivery begun before cannot move the cursor after it.
    pub generation: i64,
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("endpoint_id", &self.endpoint_id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("secret", &"<hidden>")
            .field("enabled", &self.enabled)
            .field("after_position", &self.after_position)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
