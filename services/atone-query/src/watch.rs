//! One client's `WatchMember` stream: a snapshot (or the changes after the client's
//! cursor), then every change of the member, once each, in version order.

use atone_api::v1::{self, SnapshotReason, WatchMemberResponse, watch_member_response::Kind};
use atone_storage::change_feed::{self, FeedRow};
use atone_storage::{StorageError, db, read_model};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;
use tracing::Instrument;

use crate::feed::Subscription;
use crate::slots::Slot;
use crate::{QueryApi, QueryError, convert};

/// Rows read per query while a watcher catches up from the table.
const CATCH_UP_PAGE: u64 = 500;

/// A message on its way to the client, boxed: a channel allocates room for 32 items at
/// once, and an unboxed message (with its `Status`) would make that ~7 KB per watcher.
type Message = Box<Result<WatchMemberResponse, Status>>;

/// Starts the watch; its messages come out of the returned stream.
pub fn spawn(
    api: QueryApi,
    user_id: String,
    cursor: Option<i64>,
    subscription: Subscription,
    slot: Slot,
) -> impl Stream<Item = Result<WatchMemberResponse, Status>> + Send + 'static {
    let (tx, rx) = mpsc::channel::<Message>(64);
    let watch = Watch {
        api,
        user_id,
        tx,
        last: 0,
        _slot: slot,
    };
    tokio::spawn(watch.run(cursor, subscription));
    ReceiverStream::new(rx).map(|message| *message)
}

fn change_message(row: &FeedRow, default_credit_limit: i64) -> WatchMemberResponse {
    WatchMemberResponse {
        cursor: row.version.to_string(),
        kind: Some(Kind::Change(convert::change(
            &row.change,
            default_credit_limit,
        ))),
    }
}

fn snapshot_message(member: v1::Member, reason: SnapshotReason) -> WatchMemberResponse {
    let version = member.summary.as_ref().map_or(0, |s| s.version);
    WatchMemberResponse {
        cursor: version.to_string(),
        kind: Some(Kind::Snapshot(v1::Snapshot {
            member: Some(member),
            reason: reason as i32,
        })),
    }
}

/// One client's watch: sends each change of the member once, in version order.
struct Watch {
    api: QueryApi,
    user_id: String,
    tx: mpsc::Sender<Message>,
    /// The version of the last message sent.
    last: i64,
    /// Held while the watch lasts.
    _slot: Slot,
}

/// Why a watch ends.
enum End {
    /// The client went away, or the server is shutting down.
    Quietly,
    Failed(QueryError),
}

impl From<QueryError> for End {
    fn from(e: QueryError) -> Self {
        Self::Failed(e)
    }
}

impl Watch {
    async fn run(mut self, cursor: Option<i64>, mut subscription: Subscription) {
        let result = self.stream(cursor, &mut subscription).await;
        if let Err(End::Failed(e)) = result {
            tracing::warn!(user_id = %self.user_id, error = %e, "watch ended by an error");
            let _ = self.tx.send(Box::new(Err(e.into()))).await;
        }
    }

    async fn stream(
        &mut self,
        cursor: Option<i64>,
        subscription: &mut Subscription,
    ) -> Result<(), End> {
        match cursor {
            Some(cursor) => {
                self.last = cursor;
                self.catch_up().await?;
            }
            None => self.snapshot(SnapshotReason::Initial).await?,
        }
        loop {
            let next = tokio::select! {
                () = self.api.shutdown.cancelled() => return Err(End::Quietly),
                () = self.tx.closed() => return Err(End::Quietly),
                next = subscription.recv() => next,
            };
            match next {
                None => return Err(End::Quietly),
                Some(Ok(row)) if row.version <= self.last => {}
                Some(Ok(row)) if row.version == self.last + 1 => self.push(&row).await?,
                // A version jump, or changes dropped while this watcher was slow: the table
                // has them all.
                Some(Ok(_)) | Some(Err(_)) => self.catch_up().await?,
            }
        }
    }

    /// Sends a change, as a span in the trace of the command that made it.
    async fn push(&mut self, row: &FeedRow) -> Result<(), End> {
        let span = tracing::info_span!("watch_push", user_id = %row.user_id, version = row.version);
        atone_trace::follow(&span, &row.trace_parent);
        let message = change_message(row, self.api.default_credit_limit());
        self.send(message).instrument(span).await
    }

    async fn send(&mut self, message: WatchMemberResponse) -> Result<(), End> {
        let version = match &message.kind {
            Some(Kind::Change(change)) => change.version,
            Some(Kind::Snapshot(s)) => s
                .member
                .as_ref()
                .and_then(|m| m.summary.as_ref())
                .map_or(0, |s| s.version),
            None => self.last,
        };
        self.tx
            .send(Box::new(Ok(message)))
            .await
            .map_err(|_| End::Quietly)?;
        self.last = version;
        Ok(())
    }

    async fn snapshot(&mut self, reason: SnapshotReason) -> Result<(), End> {
        let member = self.api.member(&self.user_id).await?;
        self.send(snapshot_message(member, reason)).await
    }

    /// Sends every change after `last` from the table. If the feed no longer holds the
    /// next one, sends a fresh snapshot instead: never a silent gap.
    async fn catch_up(&mut self) -> Result<(), End> {
        loop {
            let (rows, current) = self.feed_after_last().await.map_err(QueryError::from)?;
            let Some(first) = rows.first() else {
                if current > self.last {
                    return self.snapshot(SnapshotReason::CursorExpired).await;
                }
                return Ok(());
            };
            if first.version != self.last + 1 {
                return self.snapshot(SnapshotReason::CursorExpired).await;
            }
            let full = rows.len() as u64 == CATCH_UP_PAGE;
            for row in &rows {
                self.push(row).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}

impl Watch {
    /// The member's changes after the last one sent, and its version, read in one
    /// snapshot: a change committed between two separate reads would look like a cursor
    /// past the feed's retention (no row after it, a higher version).
    async fn feed_after_last(&self) -> Result<(Vec<FeedRow>, i64), StorageError> {
        let txn = db::begin_read(self.api.feed.db()).await?;
        let rows = change_feed::read_member(&txn, &self.user_id, self.last, CATCH_UP_PAGE).await?;
        if let Some(hook) = seam::take(&self.user_id) {
            hook().await;
        }
        let current = read_model::member_version(&txn, &self.user_id).await?;
        txn.commit().await?;
        Ok((rows, current))
    }
}

/// For tests only: hooks that run inside a watch's catch-up, so a test can make a commit
/// land exactly between its two reads (and show that they share one snapshot).
#[doc(hidden)]
pub mod seam {
    use std::collections::HashMap;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{LazyLock, Mutex};

    /// What a hook returns: the work to await before the catch-up goes on.
    pub type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
    type Hook = Box<dyn FnOnce() -> HookFuture + Send>;

    /// Whether any hook was ever registered: until then, a catch-up does not lock the
    /// registry at all.
    static ANY: AtomicBool = AtomicBool::new(false);
    static HOOKS: LazyLock<Mutex<HashMap<String, Hook>>> = LazyLock::new(Mutex::default);

    /// For tests only. Registers a one-shot hook for `user_id`: the next catch-up of a
    /// watch of that member awaits it after reading the member's feed rows and before
    /// reading its version, inside the same read transaction. A second registration for
    /// the same member replaces the first.
    pub fn between_catch_up_reads(
        user_id: &str,
        hook: impl FnOnce() -> HookFuture + Send + 'static,
    ) {
        HOOKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user_id.to_owned(), Box::new(hook));
        ANY.store(true, Ordering::Release);
    }

    /// The hook registered for `user_id`, taken out of the registry; `None` (without a
    /// lock) when no hook was ever registered.
    pub(super) fn take(user_id: &str) -> Option<Hook> {
        if !ANY.load(Ordering::Acquire) {
            return None;
        }
        HOOKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(user_id)
    }
}
