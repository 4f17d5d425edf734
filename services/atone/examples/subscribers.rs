//! Subscribers: many `SubscribeEvents` streams on one process. Opens `--subscribers`
//! subscriptions from now, then changes members' credit limits at `--rate` commands a
//! second (one event each) for `--seconds`, and waits until every subscriber has every
//! event, in position order with none missing. Reports each event's delay from the
//! command's send to its arrival at every subscriber, how often the process read the event
//! store for them (its `/metrics`: the shared tail's reads and the subscribers' own
//! catch-up reads) and the CPU the process spent (`--pid`, from /proc). Prints a summary
//! and a JSON line (`"scenario":"subscribers"`).
//!
//! ```sh
//! cargo run --release -p atone --example subscribers -- --addr http://127.0.0.1:50051 \
//!     --metrics http://127.0.0.1:9464/metrics --pid "$(pgrep -f 'atone serve')"
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use atone_api::v1::SubscribeEventsRequest;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::subscribe_events_response::Message;
use clap::Parser;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[path = "common/paced.rs"]
mod paced;
use paced::{Paced, channel};

#[derive(Parser, Debug)]
#[command(about = "Many SubscribeEvents streams on one process: delay, store reads and CPU")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    addr: String,
    /// The process's Prometheus endpoint (`--metrics-listen`).
    #[arg(long)]
    metrics: String,
    #[arg(long, default_value_t = 100)]
    subscribers: usize,
    #[arg(long, default_value_t = 100)]
    members: usize,
    /// Commands per second in all, one event each.
    #[arg(long, default_value_t = 500)]
    rate: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The atone process, whose CPU time is reported.
    #[arg(long)]
    pid: Option<u32>,
    #[arg(long, default_value = "")]
    label: String,
}

/// What one subscriber received: (member, version, arrival) of each event.
type Seen = (String, i64, Instant);

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.members == 0 || args.subscribers == 0 || args.rate == 0 {
        bail!("--members, --subscribers and --rate must be positive");
    }
    let run = uuid::Uuid::now_v7().simple().to_string();
    let members: Vec<String> = (0..args.members)
        .map(|i| format!("sub-{}-{i:04}", &run[20..]))
        .collect();
    let total = args.rate * args.seconds as usize;
    let before = Reads::scrape(&args.metrics).await?;
    let cpu_before = cpu_seconds(args.pid);

    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<(usize, Seen)>();
    let caught_up = Arc::new(AtomicUsize::new(0));
    let connection = channel(&args.addr).await?;
    for s in 0..args.subscribers {
        let mut stream = QueryServiceClient::new(connection.clone())
            .subscribe_events(SubscribeEventsRequest {
                from_now: true,
                ..Default::default()
            })
            .await
            .with_context(|| format!("subscription {s}"))?
            .into_inner();
        let (seen, caught_up) = (seen_tx.clone(), caught_up.clone());
        tokio::spawn(async move {
            let mut last = None;
            while let Ok(Some(message)) = stream.message().await {
                match message.message {
                    Some(Message::Checkpoint(c)) if c.caught_up => {
                        last = Some(c.position);
                        caught_up.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Message::Event(e)) => {
                        if last.is_some_and(|l| e.position != l + 1) {
                            eprintln!("subscriber {s}: position {} after {last:?}", e.position);
                            std::process::exit(1);
                        }
                        last = Some(e.position);
                        let version = e.event.map_or(0, |e| e.version);
                        let _ = seen.send((s, (e.user_id, version, Instant::now())));
                    }
                    _ => {}
                }
            }
        });
    }
    drop(seen_tx);
    let deadline = Instant::now() + Duration::from_secs(60);
    while caught_up.load(Ordering::Relaxed) < args.subscribers {
        if Instant::now() > deadline {
            bail!(
                "only {} subscriptions caught up",
                caught_up.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let sent: HashMap<(String, i64), Instant> = Paced {
        command: &args.addr,
        members: &members,
        rate: args.rate,
        total,
        clients: 16,
        keys: "sub",
    }
    .run()
    .await?
    .into_iter()
    .map(|((m, version), at)| ((members[m].clone(), version), at))
    .collect();
    let expected = sent.len() * args.subscribers;
    let mut delays = Vec::with_capacity(expected);
    let mut per_subscriber = vec![0usize; args.subscribers];
    let deadline = Instant::now() + Duration::from_secs(120);
    while delays.len() < expected {
        let Ok(Some((s, (member, version, at)))) =
            tokio::time::timeout_at(deadline, seen_rx.recv()).await
        else {
            bail!("{} of {expected} deliveries arrived", delays.len());
        };
        per_subscriber[s] += 1;
        if let Some(sent_at) = sent.get(&(member, version)) {
            delays.push(at.saturating_duration_since(*sent_at).as_secs_f64() * 1000.0);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = Reads::scrape(&args.metrics).await?;
    let cpu = match (cpu_before, cpu_seconds(args.pid)) {
        (Some(b), Some(a)) => Some(a - b),
        _ => None,
    };
    delays.sort_by(f64::total_cmp);
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    let tail_reads = after.tail - before.tail;
    let catch_up_reads = after.catch_up - before.catch_up;
    println!(
        "subscribers {}: {} subscribers, {} events in {elapsed:.1} s, each delivered to all: \
         delay p50 {:.1} ms p99 {:.1} ms; store reads: tail {tail_reads}, catch-up \
         {catch_up_reads}; atone CPU {}",
        args.label,
        args.subscribers,
        sent.len(),
        at(0.5),
        at(0.99),
        cpu.map_or("?".into(), |c| format!("{c:.2} s")),
    );
    let line = serde_json::json!({
        "scenario": "subscribers", "label": args.label, "subscribers": args.subscribers,
        "events": sent.len(), "deliveries": delays.len(),
        "delay_p50_ms": at(0.5), "delay_p99_ms": at(0.99),
        "tail_reads": tail_reads, "catch_up_reads": catch_up_reads,
        "atone_cpu_s": cpu,
    });
    println!("{line}");
    Ok(())
}

/// The process's reads of the event store for subscribers, from its metrics.
struct Reads {
    tail: u64,
    catch_up: u64,
}

impl Reads {
    async fn scrape(url: &str) -> Result<Self> {
        let text = reqwest::get(url)
            .await
            .with_context(|| format!("GET {url}"))?
            .text()
            .await?;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
                .map_or(0, |v| v as u64)
        };
        Ok(Self {
            tail: value("atone_event_tail_reads_total"),
            catch_up: value("atone_event_catch_up_reads_total"),
        })
    }
}

/// The CPU time (user + system) of `pid` so far, in seconds, from /proc/PID/stat.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
