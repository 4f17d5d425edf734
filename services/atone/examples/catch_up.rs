//! Catch-up: how fast cold projectors bring the read models up to a stream that already
//! holds many events. `scripts/bench catch-up` runs it in three steps around the atone
//! processes it starts:
//!
//! 1. `fill`: appends `--events` events (すぐ払い purchases, two events each, spread over
//!    `--members` members) straight to the event store and outbox, as commands would,
//!    while `atone command`'s relay publishes them to the stream;
//! 2. `drain`: waits until the outbox is empty (every event is on the stream);
//! 3. `measure`: started with the projectors, waits until the change feed has every event
//!    and prints events/s and a JSON line (`"scenario":"catch-up"`).
//!
//! ```sh
//! cargo run --release -p atone --example catch_up -- fill --database-url "$URL" --events 200000
//! ```

use std::time::Duration;

use anyhow::{Result, bail};
use atone_domain::Member;
use atone_storage::entity::change_feed;
use atone_storage::event_store::Appending;
use atone_storage::{CommandMeta, DbConfig, EventStore, outbox};
use atone_testkit::purchase_events;
use chrono::Utc;
use clap::{Parser, Subcommand};
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "Cold projectors catching up with a full stream")]
struct Args {
    #[command(subcommand)]
    step: Step,
}

#[derive(Subcommand, Debug)]
enum Step {
    /// Appends the events to the event store (and outbox).
    Fill {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 200_000)]
        events: usize,
        #[arg(long, default_value_t = 20_000)]
        members: usize,
    },
    /// Waits until the relay has published the whole outbox.
    Drain {
        #[arg(long)]
        database_url: String,
    },
    /// Waits until the read models have `--events` changes; prints the rate.
    Measure {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        #[arg(long, default_value = "")]
        label: String,
        /// When the projectors were started (Unix milliseconds): the time counts from
        /// there. Default: now.
        #[arg(long)]
        since_ms: Option<i64>,
    },
}

/// The longest any step waits.
const DEADLINE: Duration = Duration::from_secs(1800);

#[tokio::main]
async fn main() -> Result<()> {
    match Args::parse().step {
        Step::Fill {
            database_url,
            events,
            members,
        } => fill(&database_url, events, members).await,
        Step::Drain { database_url } => {
            let db = connect(&database_url).await?;
            let started = Instant::now();
            wait(|| async { Ok(outbox::backlog(&db).await?.0 == 0) }).await?;
            println!(
                "outbox published in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Step::Measure {
            database_url,
            events,
            label,
            since_ms,
        } => {
            let db = connect(&database_url).await?;
            let started = since_ms.unwrap_or_else(|| Utc::now().timestamp_millis());
            wait(|| async { Ok(change_feed::Entity::find().count(&db).await? >= events) }).await?;
            let seconds = (Utc::now().timestamp_millis() - started) as f64 / 1000.0;
            let rate = events as f64 / seconds;
            println!("catch-up {label}: {events} events in {seconds:.1} s, {rate:.0} events/s");
            let line = serde_json::json!({
                "scenario": "catch-up", "label": label, "events": events,
                "seconds": seconds, "events_per_s": rate.round(),
            });
            println!("{line}");
            Ok(())
        }
    }
}

async fn connect(url: &str) -> Result<sea_orm::DatabaseConnection> {
    Ok(atone_storage::connect(&DbConfig {
        url: url.to_owned(),
        max_connections: 4,
    })
    .await?)
}

/// Appends `events` events over `members` new members, a few hundred members per
/// transaction (the group commit's path).
async fn fill(url: &str, events: usize, members: usize) -> Result<()> {
    if members == 0 || events < 2 * members {
        bail!("--events must be at least twice --members (two events per purchase)");
    }
    let store = EventStore::new(connect(url).await?, 1_000_000);
    let run = uuid::Uuid::now_v7().simple().to_string();
    let per_member = events / members / 2;
    let started = Instant::now();
    let mut appended = 0;
    let ids: Vec<usize> = (0..members).collect();
    for chunk in ids.chunks(200) {
        let batch: Vec<Appending> = chunk
            .iter()
            .map(|i| Appending {
                user_id: format!("catch-up-{}-{i:06}", &run[20..]),
                before: Member::default(),
                events: (0..per_member)
                    .flat_map(|_| purchase_events("catch-up", 100))
                    .collect(),
                meta: CommandMeta {
                    idempotency_key: uuid::Uuid::now_v7().to_string(),
                    correlation_id: "catch-up".into(),
                    trace_parent: String::new(),
                    occurred_at: Utc::now(),
                },
            })
            .collect();
        for result in store.append_batch(batch).await {
            appended += result?.len();
        }
    }
    println!(
        "appended {appended} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn wait<F, Fut>(mut done: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let started = Instant::now();
    while !done().await? {
        if started.elapsed() > DEADLINE {
            bail!("gave up after {DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
