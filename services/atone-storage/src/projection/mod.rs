//! Applies a batch of events to the read models: loads the rows the events need, runs the
//! pure projection ([`atone_projection::project`]) over them, and saves what it changed.
//! Every write happens in the caller's transaction, together with one change-feed row per
//! event and the source's checkpoint, so a batch is applied whole or not at all.
//!
//! Exactly-once effect over at-least-once delivery: `members.version` is the last version
//! applied, so an event at or below it is a duplicate and skipped. An event further ahead
//! than the next version (a relay that retried out of order) first pulls the missing events
//! from the event store, so each member's events are always applied in version order.
//!
//! Never stuck: an event that cannot be applied (the projection refuses it, the event store
//! lacks the versions before it, the database refuses a value, or this build does not know
//! its type) parks its member as a [dead letter](crate::dead_letters): that event and the
//! member's later ones are set aside in order, and every other member of the batch goes on.

mod cache;
mod load;
mod repair;
mod save;

use std::collections::BTreeMap;

use atone_domain::Envelope;
use atone_projection::{Change, MemberRows, Projected, project};
use sea_orm::DatabaseTransaction;

use crate::StorageError;
use crate::dead_letters::{self, Park, WAITING};

pub(crate) use cache::RowCache;
pub use repair::{RepairOutcome, SkipRefused, rebuild_member, reproject, retry, skip};
pub(crate) use save::Writes;

/// What a projector reads: an event, or a record of one this build cannot read.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Event(Envelope),
    Unreadable(Unreadable),
}

/// An event of the event store this build cannot apply as it is (a type it does not know,
/// content it cannot decode): parked, never skipped, so that a build that knows it applies
/// it on retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub user_id: String,
    pub version: i64,
    pub event_id: Option<String>,
    pub event_type: String,
    pub error: String,
    pub record: Option<Vec<u8>>,
}

impl Incoming {
    pub fn user_id(&self) -> &str {
        match self {
            Self::Event(e) => &e.user_id,
            Self::Unreadable(u) => &u.user_id,
        }
    }

    pub fn version(&self) -> i64 {
        match self {
            Self::Event(e) => e.version(),
            Self::Unreadable(u) => u.version,
        }
    }

    /// Sets it aside with `error`.
    fn park(self, error: String) -> Park {
        match self {
            Self::Event(e) => Park {
                user_id: e.user_id.clone(),
                version: e.version(),
                event_id: Some(e.event_id.to_string()),
                event_type: e.event().event_type().to_owned(),
                error,
                record: None,
            },
            Self::Unreadable(u) => Park {
                user_id: u.user_id,
                version: u.version,
                event_id: u.event_id,
                event_type: u.event_type,
                error,
                record: u.record,
            },
        }
    }
}

/// What this build reads: every event type it was built with, unless told to take some
/// as unknown (to rehearse a rolling upgrade, where a build that does not know a type
/// parks its events and a newer one applies them on retry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readable {
    unknown: std::collections::BTreeSet<String>,
}

impl Readable {
    /// A build that does not know `event_types`.
    pub fn without(event_types: impl IntoIterator<Item = String>) -> Self {
        Self {
            unknown: event_types.into_iter().collect(),
        }
    }

    /// `item`, or unreadable if its type is one this build does not know.
    pub fn check(&self, item: Incoming) -> Incoming {
        match item {
            Incoming::Event(e) if self.unknown.contains(e.event().event_type()) => {
                let event_type = e.event().event_type().to_owned();
                Incoming::Unreadable(Unreadable {
                    user_id: e.user_id.clone(),
                    version: e.version(),
                    event_id: Some(e.event_id.to_string()),
                    error: format!("event type {event_type} is not known to this build"),
                    event_type,
                    record: None,
                })
            }
            other => other,
        }
    }
}

/// What a batch did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BatchOutcome {
    /// The change-feed rows written, in number order.
    pub feed: Vec<crate::change_feed::FeedRow>,
    /// (user_id, version) of every event applied, in order: the change-feed rows written.
    pub applied: Vec<(String, i64)>,
    /// Events at or below the version the read model already had.
    pub duplicates: usize,
    /// (user_id, version) of every event set aside as a dead letter.
    pub parked: Vec<(String, i64)>,
    /// The rows the batch left of members it held whole and set nothing aside of, for a
    /// [`RowCache`] once the batch commits.
    pub(crate) whole: Vec<MemberRows>,
}

/// One member's part of a batch: the rows in hand and what becomes of its events.
struct Member {
    rows: MemberRows,
    /// The member row must be written even without a change (a skipped version).
    rewrite: bool,
    /// `rows` holds every row the member has (not only those its events need).
    whole: bool,
    /// `rows` came from a [`RowCache`] at the version before the member's events: nothing
    /// of the member is read from the tables, not even whether it is parked.
    cached: bool,
    /// The member's events after its version, contiguous, in order.
    incoming: Vec<Incoming>,
    changes: Vec<Change>,
    /// The trace context of each change's projection, for its change-feed row.
    traces: Vec<String>,
    parked: Vec<Park>,
}

impl Member {
    /// Parks `incoming` from `at` on: the first with `error`, the rest waiting behind it.
    fn park_from(&mut self, at: usize, error: String) {
        for (i, item) in self.incoming.drain(at..).enumerate() {
            let reason = if i == 0 {
                error.clone()
            } else {
                WAITING.to_owned()
            };
            self.parked.push(item.park(reason));
        }
    }
}

/// Whether a parked member's new events queue behind its dead letters (a projector) or are
/// applied (an operator's retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parked {
    Queue,
    Apply,
}

/// Applies `batch` (any order, duplicates allowed) in `txn`, as a build that reads
/// `readable`; `source` numbers its change-feed rows.
pub async fn apply_batch(
    txn: &DatabaseTransaction,
    batch: Vec<Incoming>,
    readable: &Readable,
    source: &str,
) -> Result<BatchOutcome, StorageError> {
    apply_batch_cached(txn, batch, readable, source, None, Writes::Guarded).await
}

/// Applies `batch` as [`apply_batch`] does; with a `cache` (inline projection), a member
/// cached there at the version before its events is taken from it, and the others are read
/// whole (every promise and bill). Once the transaction commits, give the outcome to
/// [`RowCache::keep_after`]. `writes` says what a value the database refuses fails.
pub(crate) async fn apply_batch_cached(
    txn: &DatabaseTransaction,
    batch: Vec<Incoming>,
    readable: &Readable,
    source: &str,
    cache: Option<&RowCache>,
    writes: Writes,
) -> Result<BatchOutcome, StorageError> {
    let mut outcome = BatchOutcome::default();
    let mut by_member: BTreeMap<String, BTreeMap<i64, Incoming>> = BTreeMap::new();
    for item in batch.into_iter().map(|item| readable.check(item)) {
        let versions = by_member.entry(item.user_id().to_owned()).or_default();
        if versions.insert(item.version(), item).is_some() {
            outcome.duplicates += 1;
        }
    }
    if by_member.is_empty() {
        return Ok(outcome);
    }
    let members = load::members(txn, by_member, readable, cache, &mut outcome).await?;
    apply(txn, members, source, Parked::Queue, writes, outcome).await
}

/// Projects each member's events, parks what cannot be applied, and saves.
async fn apply(
    txn: &DatabaseTransaction,
    mut members: BTreeMap<String, Member>,
    source: &str,
    parked: Parked,
    writes: Writes,
    mut outcome: BatchOutcome,
) -> Result<BatchOutcome, StorageError> {
    if parked == Parked::Queue {
        let users: Vec<String> = members
            .iter()
            .filter(|(_, m)| !m.cached)
            .map(|(user_id, _)| user_id.clone())
            .collect();
        for user_id in dead_letters::parked_members(txn, &users).await? {
            if let Some(member) = members.get_mut(&user_id) {
                member.park_from(0, WAITING.to_owned());
            }
        }
    }
    load::needed_rows(txn, &mut members).await?;
    for member in members.values_mut() {
        project_member(member);
    }
    outcome.feed = save::save(txn, &mut members, source, writes).await?;
    let mut parks = Vec::new();
    for (user_id, member) in members {
        let keep = member.whole && member.parked.is_empty();
        outcome
            .applied
            .extend(member.changes.iter().map(|c| (user_id.clone(), c.version)));
        outcome
            .parked
            .extend(member.parked.iter().map(|p| (p.user_id.clone(), p.version)));
        parks.extend(member.parked);
        if keep {
            outcome.whole.push(member.rows);
        }
    }
    dead_letters::park(txn, source, parks).await?;
    Ok(outcome)
}

/// Runs the projection over the member's events until one cannot be applied. Each event's
/// projection is a span in the trace of the command that appended it.
fn project_member(member: &mut Member) {
    let mut at = 0;
    while at < member.incoming.len() {
        let mut trace = String::new();
        let result = match &member.incoming[at] {
            Incoming::Unreadable(u) => Err(u.error.clone()),
            Incoming::Event(envelope) => {
                let span = tracing::info_span!(
                    "project",
                    user_id = %envelope.user_id,
                    version = envelope.version(),
                    event_type = envelope.event().event_type(),
                );
                atone_trace::follow(&span, &envelope.trace_parent);
                trace = atone_trace::of(&span);
                span.in_scope(|| match project(&member.rows, envelope) {
                    Ok(Projected::Duplicate) => Ok(None),
                    Ok(Projected::Applied(change)) => Ok(Some(change)),
                    Err(e) => Err(e.to_string()),
                })
            }
        };
        match result {
            Ok(Some(change)) => {
                member.rows.apply(&change);
                member.changes.push(change);
                member.traces.push(trace);
            }
            Ok(None) => {}
            Err(error) => {
                member.park_from(at, error);
                return;
            }
        }
        at += 1;
    }
}
