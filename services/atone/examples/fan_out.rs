//! Fan-out: many watchers on one query process. Opens `--watchers` `WatchMember` streams
//! over `--members` members (100 streams per connection, below atone's cap of 200), then
//! changes every member's credit limit about once a second (`--rate` commands/s in all,
//! one event each) for `--seconds`, and measures each push's delay from the command's
//! send to its arrival on every watcher of the member, and the query process's resident
//! memory (`--pid`, from /proc) before the watches opened and at the end of the run.
//! Prints a summary and a JSON line (`"scenario":"fan-out"`).
//!
//! ```sh
//! cargo run --release -p atone --example fan_out -- --command http://127.0.0.1:50051 \
//!     --query http://127.0.0.1:50051 --pid "$(pgrep -f 'atone serve')"
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{WatchMemberRequest, watch_member_response};
use clap::Parser;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[path = "common/paced.rs"]
mod paced;
use paced::{Paced, channel};

const STREAMS_PER_CONNECTION: usize = 100;

#[derive(Parser, Debug)]
#[command(about = "Many watchers on one query process: push delay and memory")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    command: String,
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    query: String,
    #[arg(long, default_value_t = 1_000)]
    members: usize,
    #[arg(long, default_value_t = 10_000)]
    watchers: usize,
    /// Commands per second in all (each member changed about rate / members times a second).
    #[arg(long, default_value_t = 1_000)]
    rate: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The query process, whose resident memory is reported.
    #[arg(long)]
    pid: Option<u32>,
    #[arg(long, default_value = "")]
    label: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.members == 0 || args.watchers < args.members || args.rate == 0 {
        bail!("--members and --rate must be positive and --watchers at least --members");
    }
    let run = uuid::Uuid::now_v7().simple().to_string();
    let members: Vec<String> = (0..args.members)
        .map(|i| format!("fan-{}-{i:05}", &run[20..]))
        .collect();
    let rss_before = rss_kib(args.pid);

    // Watchers: each reports (member, version, arrival) of every change.
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<(usize, i64, Instant)>();
    let opened = Arc::new(AtomicUsize::new(0));
    let mut connection = channel(&args.query).await?;
    for w in 0..args.watchers {
        if w > 0 && w % STREAMS_PER_CONNECTION == 0 {
            connection = channel(&args.query).await?;
        }
        let member = w % args.members;
        let mut stream = QueryServiceClient::new(connection.clone())
            .watch_member(WatchMemberRequest {
                user_id: members[member].clone(),
                ..Default::default()
            })
            .await
            .with_context(|| format!("watch {w}"))?
            .into_inner();
        let (seen, opened) = (seen_tx.clone(), opened.clone());
        tokio::spawn(async move {
            let mut first = true;
            while let Ok(Some(message)) = stream.message().await {
                if first {
                    first = false;
                    opened.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(watch_member_response::Kind::Change(change)) = message.kind {
                    let _ = seen.send((member, change.version, Instant::now()));
                }
            }
        });
    }
    drop(seen_tx);
    let deadline = Instant::now() + Duration::from_secs(120);
    while opened.load(Ordering::Relaxed) < args.watchers {
        if Instant::now() > deadline {
            bail!(
                "only {} of {} watches answered",
                opened.load(Ordering::Relaxed),
                args.watchers
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let sent = Paced {
        command: &args.command,
        members: &members,
        rate: args.rate,
        total: args.rate * args.seconds as usize,
        clients: 32,
        keys: "fan",
    }
    .run()
    .await?;
    let rss_during = rss_kib(args.pid);
    // Every watcher of a member sees each of its changes: watchers / members per change.
    let per_member = args.watchers / args.members + usize::from(args.watchers % args.members > 0);
    let expected: usize = sent
        .keys()
        .map(|(m, _)| watchers_of(*m, args.watchers, args.members))
        .sum();
    let mut delays = Vec::with_capacity(expected);
    let deadline = Instant::now() + Duration::from_secs(60);
    while delays.len() < expected {
        let Ok(Some((member, version, at))) =
            tokio::time::timeout_at(deadline, seen_rx.recv()).await
        else {
            bail!("{} of {expected} pushes arrived", delays.len());
        };
        if let Some(sent_at) = sent.get(&(member, version)) {
            delays.push(at.saturating_duration_since(*sent_at).as_secs_f64() * 1000.0);
        }
    }
    delays.sort_by(f64::total_cmp);
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    let added_mb = match (rss_before, rss_during) {
        (Some(b), Some(d)) => Some((d as f64 - b as f64) / 1024.0),
        _ => None,
    };
    println!(
        "fan-out {}: {} watchers over {} members (up to {per_member} each), {} changes in {} s: \
         push p50 {:.1} ms p99 {:.1} ms max {:.1} ms; RSS {:?} → {:?} KiB",
        args.label,
        args.watchers,
        args.members,
        sent.len(),
        args.seconds,
        at(0.5),
        at(0.99),
        at(1.0),
        rss_before,
        rss_during
    );
    let line = serde_json::json!({
        "scenario": "fan-out", "label": args.label, "watchers": args.watchers,
        "members": args.members, "changes": sent.len(), "pushes": delays.len(),
        "changes_per_s": sent.len() as f64 / args.seconds as f64,
        "push_p50_ms": at(0.5), "push_p99_ms": at(0.99),
        "rss_before_mb": rss_before.map(|k| k as f64 / 1024.0), "rss_added_mb": added_mb,
    });
    println!("{line}");
    Ok(())
}

/// How many of `watchers` (assigned round-robin) watch member `m`.
fn watchers_of(m: usize, watchers: usize, members: usize) -> usize {
    watchers / members + usize::from(m < watchers % members)
}

/// The resident memory of `pid` in KiB, from /proc/PID/status.
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
