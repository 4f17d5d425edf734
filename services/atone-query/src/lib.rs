//! QueryService: reads the read models, and pushes every change of a member to its
//! watchers.

mod convert;
mod error;
mod feed;
mod list;
mod log;
mod service;
mod slots;
mod wait;
mod watch;

pub use error::QueryError;
pub use feed::{Feed, FeedConfig};
pub use service::{QueryApi, QueryConfig};
