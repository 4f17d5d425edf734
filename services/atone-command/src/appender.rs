//! Group commit: the commands that reach the append at the same time (of different members:
//! a member's commands queue one behind the other before they get here) are written in
//! one transaction, with one commit and one fsync for all, and each caller is answered
//! once that commit is done. Nothing waits for company: a batch is whatever queued while
//! the previous one was being written, so a lone command goes straight through.
//!
//! On SQLite, which takes one writer at a time, this is what lets concurrent commands share
//! a commit. With inline projection (on either database) it is also what keeps the
//! change feed's numbering off the critical path: a batch numbers its rows once, where
//! concurrent transactions would take turns on the source's row (MariaDB, 16 clients:
//! 697 commands/s one transaction each against 1,554 batched; docs/benchmarks.md).
//! Projecting async, MySQL already commits concurrent transactions together (InnoDB's
//! group commit): there each command is appended in its own transaction, as measured best
//! (`scripts/bench mariadb`, 1,000 members, 16 clients: batches from 1, 4, 8 and 16
//! writers gave 245, 1,138, 1,245 and 1,148 commands/s against 1,326 without).

use atone_domain::Envelope;
use atone_storage::event_store::Appending;
use atone_storage::{EventStore, StorageError};
use tokio::sync::{mpsc, oneshot};

/// The most commands written in one transaction.
const MAX_BATCH: usize = 128;

type Answer = oneshot::Sender<Result<Vec<Envelope>, StorageError>>;

/// Hands appends to the task that writes them (or, on MySQL, writes each itself). Cheap
/// to clone.
#[derive(Clone)]
pub enum Appender {
    Grouped(mpsc::Sender<(Appending, Answer)>),
    Direct(EventStore),
}

impl Appender {
    /// Starts the writing task (not on MySQL unless the store projects inline), which
    /// ends when the last `Appender` is dropped.
    pub fn start(store: EventStore) -> Self {
        if atone_storage::db::is_mysql(store.db()) && !store.is_inline() {
            return Self::Direct(store);
        }
        let (queue, incoming) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(store, incoming));
        Self::Grouped(queue)
    }

    /// Appends `appending` (in a batch with whatever else comes at the same time) and
    /// answers as [`EventStore::append`] would.
    pub async fn append(&self, appending: Appending) -> Result<Vec<Envelope>, StorageError> {
        let queue = match self {
            Self::Grouped(queue) => queue,
            Self::Direct(store) => {
                metrics::histogram!("atone_append_batch_commands").record(1.0);
                let Appending {
                    user_id,
                    before,
                    events,
                    meta,
                } = appending;
                return store.append(&user_id, &before, events, &meta).await;
            }
        };
        let (answer, answered) = oneshot::channel();
        let gone = || StorageError::Corrupt("the append task has stopped".to_owned());
        queue.send((appending, answer)).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

async fn write_batches(store: EventStore, mut incoming: mpsc::Receiver<(Appending, Answer)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (appendings, answers): (Vec<Appending>, Vec<Answer>) = batch.drain(..).unzip();
        metrics::histogram!("atone_append_batch_commands").record(appendings.len() as f64);
        let results = store.append_batch(appendings).await;
        for (answer, result) in answers.into_iter().zip(results) {
            // A caller that went away (its request cancelled) needs no answer.
            let _ = answer.send(result);
        }
    }
}
