//! QueryService: reads the read models, and pushes every change of a member to its
//! watchers.

mod convert;
mod error;
mod events;
mod feed;
mod list;
mod log;
pub mod metric;
mod service;
mod slots;
mod wait;
mod watch;

/// For tests only: a hook between the two reads of a watch's catch-up.
#[doc(hidden)]
pub use watch::seam as watch_seam;

pub use error::QueryError;
pub use events::{EventTail, EventTailConfig, TailReads};
pub use feed::{Feed, FeedConfig};
pub use service::{QueryApi, QueryConfig};
