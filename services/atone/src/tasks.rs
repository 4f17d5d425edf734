//! The process's long-lived tasks (the relay, the projectors, the change-feed reader, the
//! daily billing, key retention, the reconcile, the webhook deliverer, the readiness
//! checks, metrics), each spawned here with its kind. Each runs until the process stops; a
//! task that ends before (it returned, or it panicked) is a failure: it is logged with its
//! kind and cause, every service turns NOT_SERVING, and the process stops and exits
//! non-zero, for what supervises it (systemd, Kubernetes, compose) to start it again. A
//! process that stays up without its relay or its projector would report SERVING and do
//! nothing.
//!
//! Tasks whose work a later run picks up where it left off (the daily billing, key
//! retention, the webhook deliverer: each works from the database) are started again
//! instead, after a pause that doubles from 1 s to a minute, and logged each time.
//!
//! For tests, a debug build ends the task of the kind named by `ATONE_TEST_END_TASK` with
//! a panic: as soon as it starts, or, with `ATONE_TEST_END_TASK_WHEN` naming a file, once
//! that file exists (a release build never does).

use std::collections::HashMap;
use std::sync::OnceLock;

use std::time::Duration;

use atone_retry::RetryPolicy;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

/// The long-lived tasks of a process.
#[derive(Default)]
pub struct Tasks {
    set: JoinSet<()>,
    kinds: HashMap<Id, &'static str>,
}

/// A task that ended: its kind, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub kind: &'static str,
    /// The panic's message, or that it returned.
    pub cause: String,
}

impl Tasks {
    /// Runs `task`, of `kind`, until the process stops.
    pub fn spawn<F>(&mut self, kind: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn_vital(kind, ended_by_test(kind, task));
    }

    fn spawn_vital<F>(&mut self, kind: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.set.spawn(task);
        self.kinds.insert(handle.id(), kind);
    }

    /// Runs the task `start` makes, of `kind`, until `shutdown`; one that ends (or panics)
    /// before is started again after a pause, and logged.
    pub fn spawn_restarting<S, F>(
        &mut self,
        kind: &'static str,
        shutdown: CancellationToken,
        start: S,
    ) where
        S: Fn() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let pauses = RetryPolicy::forever(Duration::from_secs(1), Duration::from_secs(60));
        let restarting = async move {
            let mut restarts = 0;
            loop {
                let run = tokio::spawn(ended_by_test(kind, start()));
                let cause = match run.await {
                    Ok(()) => "it returned".to_owned(),
                    Err(e) if e.is_panic() => panic_message(e.into_panic()),
                    Err(_) => "it was cancelled".to_owned(),
                };
                if shutdown.is_cancelled() {
                    return;
                }
                restarts += 1;
                let pause = pauses.backoff(restarts);
                tracing::error!(task = kind, %cause, restarts, ?pause,
                    "a task of the process ended; starting it again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        };
        self.spawn_vital(kind, restarting);
    }

    /// The next task to end, with why; `None` when none is left.
    pub async fn next_ended(&mut self) -> Option<Ended> {
        let (id, cause) = match self.set.join_next_with_id().await? {
            Ok((id, ())) => (id, "it returned".to_owned()),
            Err(e) => {
                let id = e.id();
                let cause = if e.is_panic() {
                    panic_message(e.into_panic())
                } else {
                    "it was cancelled".to_owned()
                };
                (id, cause)
            }
        };
        let kind = self.kinds.remove(&id).unwrap_or("unknown");
        Some(Ended { kind, cause })
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    format!("it panicked: {message}")
}

/// `task`, or, in a debug build whose test asked for tasks of `kind` to end
/// (`ATONE_TEST_END_TASK`), `task` made to panic: at once, or when the file
/// `ATONE_TEST_END_TASK_WHEN` names appears.
async fn ended_by_test<F>(kind: &'static str, task: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    struct Hook {
        kind: Option<String>,
        when: Option<std::path::PathBuf>,
    }
    static HOOK: OnceLock<Hook> = OnceLock::new();
    let hook = HOOK.get_or_init(|| Hook {
        kind: std::env::var("ATONE_TEST_END_TASK")
            .ok()
            .filter(|_| cfg!(debug_assertions)),
        when: std::env::var_os("ATONE_TEST_END_TASK_WHEN").map(Into::into),
    });
    if hook.kind.as_deref() != Some(kind) {
        return task.await;
    }
    let appears = async {
        if let Some(file) = &hook.when {
            while !file.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    tokio::select! {
        biased;
        () = appears => panic!("ended by ATONE_TEST_END_TASK"),
        () = task => {}
    }
}
