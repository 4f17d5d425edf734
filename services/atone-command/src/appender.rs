//! Group commit: the commands that reach the append at the same time (of different members:
//! a member's commands queue one behind the other before they get here) are written in
//! one transaction, with one commit and one fsync for all, and each caller is answered
//! once that commit is done. Nothing waits for company: a batch is whatever queued while
//! the previous one was being written, so a lone command goes straight through.
//!
//! On SQLite, which takes one writer at a time, this is what lets concurrent commands share
//! a commit. On MySQL it is what makes a command cost a fraction of a transaction: a batch
//! writes each table in one multi-row statement, and with inline projection it numbers the
//! change feed once (`scripts/bench mariadb`, 1,000 members, 16 clients, projecting async:
//! 3,128–3,382 commands/s end to end and 2.2 statements per command batched, against
//! 2,842–2,926 and 5.5 with each command in its own transaction; docs/src/benchmarks.md).

use atone_domain::Envelope;
use atone_storage::event_store::Appending;
use atone_storage::{EventStore, StorageError};
use tokio::sync::{mpsc, oneshot};

/// The most commands written in one transaction.
const MAX_BATCH: usize = 128;

type Answer = oneshot::Sender<Result<Vec<Envelope>, StorageError>>;

/// Hands appends to the task that writes them. Cheap to clone.
#[derive(Clone)]
pub struct Appender {
    queue: mpsc::Sender<(Appending, Answer)>,
}

/// The task that writes the batches: run it (the process spawns it with its other
/// long-lived tasks); it ends when the last [`Appender`] is dropped.
pub type AppendTask = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

impl Appender {
    /// An appender, and the task that writes what it is handed.
    pub fn new(store: EventStore) -> (Self, AppendTask) {
        let (queue, incoming) = mpsc::channel(4 * MAX_BATCH);
        (Self { queue }, Box::pin(write_batches(store, incoming)))
    }

    /// Appends `appending` (in a batch with whatever else comes at the same time) and
    /// answers as [`EventStore::append`] would.
    pub async fn append(&self, appending: Appending) -> Result<Vec<Envelope>, StorageError> {
        let (answer, answered) = oneshot::channel();
        let gone = || StorageError::Corrupt("the append task has stopped".to_owned());
        self.queue
            .send((appending, answer))
            .await
            .map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

async fn write_batches(store: EventStore, mut incoming: mpsc::Receiver<(Appending, Answer)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (appendings, answers): (Vec<Appending>, Vec<Answer>) = batch.drain(..).unzip();
        metrics::histogram!(crate::metric::APPEND_BATCH_COMMANDS).record(appendings.len() as f64);
        let started = std::time::Instant::now();
        let results = store.append_batch(appendings).await;
        metrics::histogram!(crate::metric::APPEND_BATCH_SECONDS)
            .record(started.elapsed().as_secs_f64());
        for (answer, result) in answers.into_iter().zip(results) {
            // A caller that went away (its request cancelled) needs no answer.
            let _ = answer.send(result);
        }
    }
}
