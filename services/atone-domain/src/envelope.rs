use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Event, RecordedEvent};

/// An event with everything that travels with it on the stream: what the projector applies
/// and what other consumers of the stream read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub event_id: Uuid,
    pub user_id: String,
    pub occurred_at: DateTime<Utc>,
    /// Ties the events of one request together across the services' logs.
    pub correlation_id: String,
    /// The W3C `traceparent` of the command that appended it; empty when tracing is off.
    pub trace_parent: String,
    pub recorded: RecordedEvent,
}

impl Envelope {
    pub fn version(&self) -> i64 {
        self.recorded.version
    }

    pub fn event(&self) -> &Event {
        &self.recorded.event
    }
}
