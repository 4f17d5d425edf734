//! Appending: each command's events with their versions, their outbox rows (or, projected
//! inline, their read-model and change-feed rows) and the command's idempotency key, in
//! one transaction; several commands (of different members)
//! in one transaction when they come together (group commit: one multi-row insert per
//! table, one commit and one fsync for all of them).

use atone_api::envelope::encode;
use atone_domain::{Envelope, Event, Member, Processed, RecordedEvent};
use atone_retry::RetryPolicy;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, SqlErr, TransactionTrait};
use uuid::Uuid;

use super::{CommandMeta, EventStore, INLINE_SOURCE, Inline};
use crate::entity::{events, idempotency_keys, outbox};
use crate::projection::{self, Incoming, Writes};
use crate::{StorageError, db};

/// One command's events to append after the member's state `before`.
#[derive(Debug, Clone)]
pub struct Appending {
    pub user_id: String,
    pub before: Member,
    pub events: Vec<Event>,
    pub meta: CommandMeta,
}

/// A command's rows, ready to write.
struct Prepared {
    user_id: String,
    envelopes: Vec<Envelope>,
    /// The key and what it answers, for a command a caller may retry.
    key: Option<(String, Processed)>,
    /// When the command happened, by atone's clock: the key's age is measured against the
    /// same clock its retention is (`--clock-offset` moves both).
    at: DateTime<Utc>,
    /// The state to snapshot, when the append crosses a snapshot boundary.
    snapshot: Option<Member>,
}

impl EventStore {
    /// Appends `events` after `before.version`, with their outbox rows and the command's
    /// idempotency key, in one transaction. Fails with [`StorageError::Conflict`] if another
    /// writer got there first (or kept the key first). Returns the appended envelopes.
    pub async fn append(
        &self,
        user_id: &str,
        before: &Member,
        events: Vec<Event>,
        meta: &CommandMeta,
    ) -> Result<Vec<Envelope>, StorageError> {
        let prepared = self.prepare(user_id, before, events, meta);
        self.write_retrying(std::slice::from_ref(&prepared)).await?;
        Ok(prepared.envelopes)
    }

    /// Appends several commands, of different members, in one transaction; each gets what
    /// [`append`](Self::append) would have answered. When the transaction fails (one
    /// member's conflict fails the whole multi-row insert), each command is appended on its
    /// own, so only the conflicting one fails.
    pub async fn append_batch(
        &self,
        batch: Vec<Appending>,
    ) -> Vec<Result<Vec<Envelope>, StorageError>> {
        let prepared: Vec<Prepared> = batch
            .into_iter()
            .map(|a| self.prepare(&a.user_id, &a.before, a.events, &a.meta))
            .collect();
        if prepared.len() > 1 {
            match self.write_retrying(&prepared).await {
                Ok(()) => return prepared.into_iter().map(|p| Ok(p.envelopes)).collect(),
                Err(e) => tracing::debug!(error = %e, commands = prepared.len(),
                    "a group commit failed; appending its commands one by one"),
            }
        }
        let mut results = Vec::with_capacity(prepared.len());
        for p in prepared {
            let written = self.write_retrying(std::slice::from_ref(&p)).await;
            results.push(written.map(|()| p.envelopes));
        }
        results
    }

    fn prepare(
        &self,
        user_id: &str,
        before: &Member,
        events: Vec<Event>,
        meta: &CommandMeta,
    ) -> Prepared {
        let envelopes: Vec<Envelope> = events
            .into_iter()
            .zip(before.version + 1..)
            .map(|(event, version)| Envelope {
                event_id: Uuid::now_v7(),
                user_id: user_id.to_owned(),
                occurred_at: meta.occurred_at,
                correlation_id: meta.correlation_id.clone(),
                trace_parent: meta.trace_parent.clone(),
                recorded: RecordedEvent {
                    version,
                    idempotency_key: meta.idempotency_key.clone(),
                    event,
                },
            })
            .collect();
        let recorded = envelopes.iter().map(|e| &e.recorded);
        let key = Processed::of_key(recorded, &meta.idempotency_key)
            .map(|processed| (meta.idempotency_key.clone(), processed));
        let after = envelopes.last().map_or(before.version, Envelope::version);
        let snapshot =
            (before.version / self.snapshot_every != after / self.snapshot_every).then(|| {
                let mut state = before.clone();
                for e in &envelopes {
                    state.apply(&e.recorded);
                }
                state
            });
        Prepared {
            user_id: user_id.to_owned(),
            envelopes,
            key,
            at: meta.occurred_at,
            snapshot,
        }
    }

    /// Writes `batch` in one transaction, again when the database rolled it back for a
    /// lock: inline projection's rows and the change feed's numbering are shared with
    /// whatever else writes them (another process's appends, a rebuild), and InnoDB
    /// settles a deadlock by rolling one transaction back whole. Inline, the read-model
    /// rows are first written without a savepoint; if the database refuses a value, the
    /// batch is written again with one, which sets the member's events aside.
    async fn write_retrying(&self, batch: &[Prepared]) -> Result<(), StorageError> {
        let policy = RetryPolicy::default();
        let mut attempt = 1;
        let mut writes = Writes::Direct;
        loop {
            match self.write(batch, writes).await {
                Err(e)
                    if e.is_data_error() && writes == Writes::Direct && self.inline.is_some() =>
                {
                    tracing::debug!(error = %e, "the database refused a value; writing the batch again, guarded");
                    writes = Writes::Guarded;
                }
                Err(e) if e.is_lock() && attempt < policy.max_attempts => {
                    tracing::debug!(error = %e, attempt, "an append lost a lock; writing it again");
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Writes `batch` in one transaction, its read-model rows (inline) as `writes` says.
    async fn write(&self, batch: &[Prepared], writes: Writes) -> Result<(), StorageError> {
        let all = || batch.iter().flat_map(|p| &p.envelopes);
        if all().next().is_none() {
            return Ok(());
        }
        let conflict = || StorageError::Conflict {
            user_id: batch.first().map(|p| p.user_id.clone()).unwrap_or_default(),
            version: batch
                .first()
                .and_then(|p| p.envelopes.first())
                .map_or(0, Envelope::version),
        };
        // Inline, the transaction also projects: on MySQL at READ COMMITTED, as a
        // projector's (see `db::begin_projection`), on a pool whose sessions are set so.
        let (txn, _turn) = match &self.inline {
            Some(Inline {
                writer: Some(writer),
                ..
            }) => (writer.begin().await?, db::WriterTurn::none()),
            Some(_) => db::begin_projection(&self.db).await?,
            None => db::begin_write(&self.db).await?,
        };
        if self.inline.is_none() {
            let now = Utc::now();
            let outbox_rows = all().map(|e| outbox::ActiveModel {
                user_id: Set(e.user_id.clone()),
                version: Set(e.version()),
                envelope: Set(encode(e)),
                created_at: Set(now),
                ..Default::default()
            });
            outbox::Entity::insert_many(outbox_rows).exec(&txn).await?;
        }
        let mut keys = Vec::new();
        for p in batch {
            if let Some((key, processed)) = &p.key {
                let json = serde_json::to_value(processed).map_err(|e| {
                    StorageError::Corrupt(format!("a reply does not serialize: {e}"))
                })?;
                keys.push(idempotency_keys::ActiveModel {
                    user_id: Set(p.user_id.clone()),
                    idempotency_key: Set(key.clone()),
                    processed: Set(json),
                    created_at: Set(p.at),
                });
            }
        }
        if crate::planted::is("keys-per-process") {
            for p in batch {
                if let Some((key, _)) = &p.key {
                    crate::planted::took_key(&p.user_id, key);
                }
            }
        }
        if !keys.is_empty() {
            let inserted = idempotency_keys::Entity::insert_many(keys)
                .exec_without_returning(&txn)
                .await;
            match inserted {
                Err(e)
                    if crate::planted::is("keys-per-process")
                        && matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
                other => {
                    other.map_err(|e| unique_or(e, conflict))?;
                }
            }
        }
        for p in batch {
            if let Some(state) = &p.snapshot {
                self.write_snapshot(&txn, &p.user_id, state).await?;
            }
        }
        insert_events(&txn, batch, conflict).await?;
        let Some(inline) = &self.inline else {
            txn.commit().await?;
            self.wake_reader();
            return Ok(());
        };
        // Last: numbering the change-feed rows holds the source's row until the commit. (The
        // projection may read the member's events back, these included.)
        let incoming = all().cloned().map(Incoming::Event).collect();
        let rows = Some(&*inline.rows);
        let readable = &inline.readable;
        let mut outcome =
            projection::apply_batch_cached(&txn, incoming, readable, INLINE_SOURCE, rows, writes)
                .await?;
        if !outcome.parked.is_empty() {
            tracing::warn!(parked = ?outcome.parked, "events set aside as dead letters");
        }
        txn.commit().await?;
        self.wake_reader();
        inline.rows.keep_after(&mut outcome);
        if let Some(handoff) = &inline.handoff {
            handoff.hand(outcome.feed);
        }
        Ok(())
    }
}

impl EventStore {
    /// Wakes the readers of all events in this process.
    fn wake_reader(&self) {
        for stored in &self.stored {
            stored.notify_one();
        }
    }
}

/// The positions of all events, in commit order (see [`insert_events`]).
const POSITIONS: db::Counter = db::Counter {
    table: "sequences",
    key: "name",
    value: "value",
};

/// Inserts the batch's events, each with its global position. The positions are taken by
/// raising the `events` sequence, whose row stays locked until the transaction ends, so
/// this comes after the outbox rows, keys and snapshots (inline, only the projection, which
/// reads the events back, follows): appends commit in the order of their positions, and a
/// reader that sees a position sees all before it. The unique (member, version) key turns
/// another writer's append of the same versions into [`StorageError::Conflict`].
async fn insert_events(
    txn: &sea_orm::DatabaseTransaction,
    batch: &[Prepared],
    conflict: impl Fn() -> StorageError,
) -> Result<(), StorageError> {
    let all = || batch.iter().flat_map(|p| &p.envelopes);
    let n = all().count() as i64;
    let last = POSITIONS.raise(txn, "events", n).await?.ok_or_else(|| {
        StorageError::Corrupt("the events sequence has no row: run the migrations".to_owned())
    })?;
    let rows = all()
        .zip(last - n + 1..)
        .map(|(e, position)| events::ActiveModel {
            event_id: Set(e.event_id.to_string()),
            user_id: Set(e.user_id.clone()),
            version: Set(e.version()),
            event_type: Set(e.event().event_type().to_owned()),
            event_data: Set(e.event().to_json()),
            occurred_at: Set(e.occurred_at),
            idempotency_key: Set(e.recorded.idempotency_key.clone()),
            correlation_id: Set(e.correlation_id.clone()),
            trace_parent: Set(Some(e.trace_parent.clone()).filter(|t| !t.is_empty())),
            position: Set(Some(position)),
            ..Default::default()
        });
    events::Entity::insert_many(rows)
        .exec(txn)
        .await
        .map_err(|e| unique_or(e, conflict))?;
    Ok(())
}

/// A unique key's refusal as the conflict it means; any other error as it is.
fn unique_or(e: sea_orm::DbErr, conflict: impl Fn() -> StorageError) -> StorageError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => conflict(),
        _ => e.into(),
    }
}
