//! The read models of atone as a pure function of the events.
//!
//! [`project`] takes the rows a member has in the read models and one event of theirs, and
//! returns the [`Change`]: the member row and every promise and bill the event created or
//! changed, as they are after it. No I/O: storage loads the rows an event [`Needs`], calls
//! this, and saves the change (with the change feed and the source's checkpoint) in one
//! transaction; the query side sends the same change to watchers.
//!
//! Exactly-once effect over at-least-once delivery rests on the member row's version: an
//! event at or below it is a [`Projected::Duplicate`], one further ahead than the next
//! version a [`ProjectionError::VersionGap`] that storage fills from the event store first.

mod project;
mod rows;
mod rules;

pub use project::{Change, Needs, Projected, ProjectionError, project, reads_unbilled_monthly};
pub use rows::{
    BillKind, BillRow, BillStatus, LIMIT_NOT_SET, MemberRow, MemberRows, PromiseRow, PromiseStatus,
};

#[cfg(test)]
mod spec;
