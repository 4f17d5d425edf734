//! `atone rebuild`: the read models afresh from the event store while atone keeps serving.
//! Each member is rebuilt in one transaction of its own: its rows and its change feed are
//! replaced together, so a reader sees the member as it was or as rebuilt, never half of
//! it, and a projector's batch for the member waits for (or retries after) the switch.

use std::time::{Duration, Instant};

use anyhow::Context;
use atone_delivery::REPAIR_SOURCE;
use atone_retry::RetryPolicy;
use atone_storage::projection::{Readable, RepairOutcome, rebuild_member};
use atone_storage::{DatabaseConnection, StorageError, event_store};
use indicatif::{ProgressBar, ProgressStyle};

/// Members listed per query.
const PAGE: u64 = 500;

/// A member whose rebuild meets a projector's batch (a lock wait, a deadlock) tries again.
fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_secs(1),
    }
}

/// Rebuilds one member, in place, in one transaction.
pub async fn member(db: &DatabaseConnection, user_id: &str) -> anyhow::Result<RepairOutcome> {
    let readable = Readable::default();
    retry_policy()
        .run("rebuild a member", || async {
            let (txn, _turn) = atone_storage::db::begin_projection(db).await?;
            let outcome = rebuild_member(&txn, user_id, &readable, REPAIR_SOURCE).await?;
            txn.commit().await.map_err(StorageError::from)?;
            Ok::<_, StorageError>(outcome)
        })
        .await
        .with_context(|| format!("cannot rebuild {user_id}"))
}

/// Rebuilds every member with events, showing progress (members, events/s) on a terminal;
/// prints what it did.
pub async fn everyone(db: &DatabaseConnection) -> anyhow::Result<()> {
    let total = event_store::member_count(db)
        .await
        .context("cannot count the members")?;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} members, {msg} [{elapsed}, {eta} left]")
            .context("the progress bar's template")?,
    );
    let started = Instant::now();
    let (mut members, mut events, mut parked) = (0u64, 0u64, 0u64);
    let mut after: Option<String> = None;
    loop {
        let page = event_store::members_after(db, after.as_deref(), PAGE)
            .await
            .context("cannot list the members")?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for user_id in &page {
            let outcome = member(db, user_id).await?;
            members += 1;
            events += outcome.applied.len() as u64;
            parked += outcome.parked.len() as u64;
            bar.inc(1);
            bar.set_message(format!("{:.0} events/s", rate(events, started)));
        }
    }
    bar.finish_and_clear();
    println!(
        "{members} members rebuilt ({events} events) in {:.1} s, {:.0} events/s{}",
        started.elapsed().as_secs_f64(),
        rate(events, started),
        if parked == 0 {
            String::new()
        } else {
            format!("; {parked} events parked as dead letters (atone dead-letters list)")
        }
    );
    Ok(())
}

fn rate(events: u64, since: Instant) -> f64 {
    events as f64 / since.elapsed().as_secs_f64().max(1e-9)
}
