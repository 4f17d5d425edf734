//! QueryService: reads the read models, and pushes every change of a member to its
//! watchers.

mod error;
mod feed;
mod service;
mod wait;

pub use error::QueryError;
pub use feed::{Feed, FeedConfig};
pub use service::{QueryApi, QueryConfig};
