//! CommandService: checks each command against the member's current state, appends the
//! resulting events and their outbox rows in one transaction, and answers the member's new
//! version.

mod appender;
pub mod billing;
mod cache;
mod clock;
mod error;
mod handler;
pub mod metric;
mod request;
mod retention;
mod service;

pub use appender::AppendTask;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::CommandError;
/// For tests only: a hook between the two reads a command is decided from.
#[doc(hidden)]
pub use handler::seam as decision_seam;
pub use handler::{CommandConfig, CommandHandler, Done};
pub use retention::KeyRetention;
pub use service::CommandApi;
