//! Load and latency benchmark against a running atone (any deployment: `atone serve`, or
//! `atone command` + `atone query` with projectors behind them).
//!
//! It opens a `WatchMember` stream for every member first, waits (with `--projectors N`)
//! until N projectors share the shards evenly, runs one unmeasured warm-up cycle per
//! member and waits until it is on the watches, then runs purchase → immediate bill →
//! payment cycles from `--clients` concurrent clients, and measures:
//!
//! - command latency: request sent → reply received;
//! - visible latency: request sent → the change pushed on the member's watch (the
//!   command, the projector and the query side together, as a user of the page sees it);
//! - throughput: acknowledged commands per second over the whole run;
//! - cost, over the measured cycles until every change is on its watch: CPU per command of
//!   the atone processes (`--pid`), mariadbd (`--mariadbd-pid`) and this client, from
//!   /proc; and MariaDB's statements and transactions per command (`--mysql-url`: SHOW
//!   GLOBAL STATUS before and after).
//!
//! ```sh
//! cargo run --release -p atone --example bench -- \
//!     --command http://127.0.0.1:50051 --query http://127.0.0.1:50051 \
//!     --members 50 --cycles 10 --clients 8
//! ```
//!
//! `scripts/bench` starts atone in each deployment and runs this against it.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use atone_api::tonic::transport::{Channel, Endpoint};
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::projector_service_client::ProjectorServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{
    CompletePaymentRequest, GetStatusRequest, IssueImmediateBillRequest, PaymentMode,
    PurchaseRequest, WatchMemberRequest, watch_member_response,
};
use clap::Parser;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Watches opened per connection, below atone's default cap of 200 streams.
const WATCHES_PER_CONNECTION: usize = 100;

#[derive(Parser, Debug)]
#[command(about = "Load and latency benchmark against a running atone")]
struct Args {
    /// CommandService endpoint.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    command: String,
    /// QueryService endpoint (WatchMember).
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    query: String,
    /// Members, each with a watch of its own.
    #[arg(long, default_value_t = 50)]
    members: usize,
    /// purchase → bill → payment cycles per member (3 commands each).
    #[arg(long, default_value_t = 10)]
    cycles: usize,
    /// Concurrent clients sending commands (each works through its own members).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Wait until this many projectors hold the stream's shards evenly (GetStatus on the
    /// query endpoint's ProjectorService, or `--projector-status`); 0 skips the wait.
    #[arg(long, default_value_t = 0)]
    projectors: usize,
    /// Where to ask ProjectorService.GetStatus (default: the query endpoint).
    #[arg(long)]
    projector_status: Option<String>,
    /// A pause after each measured command of a client, to measure a quiet stream (where
    /// the shards' readers have backed off) rather than a busy one.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pause: Duration,
    /// A label printed with the results.
    #[arg(long, default_value = "")]
    label: String,
    /// An atone process whose CPU time is counted (repeat for each one).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// mariadbd's process id, for its CPU time.
    #[arg(long)]
    mariadbd_pid: Option<u32>,
    /// A MariaDB URL (mysql://user:password@host:port) whose global status counts the
    /// statements and transactions the run cost.
    #[arg(long)]
    mysql_url: Option<String>,
}

/// One acknowledged command.
struct Sent {
    member: usize,
    version: i64,
    sent: Instant,
    replied: Instant,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.members == 0 || args.cycles == 0 || args.clients == 0 {
        bail!("--members, --cycles and --clients must be at least 1");
    }
    let command = channel(&args.command).await?;
    // atone takes at most --max-concurrent-streams (200) streams per connection: the
    // watches go over a connection per WATCHES_PER_CONNECTION members.
    let mut queries = Vec::new();
    for _ in 0..args.members.div_ceil(WATCHES_PER_CONNECTION) {
        queries.push(channel(&args.query).await?);
    }
    let run = uuid::Uuid::now_v7().simple().to_string();
    let members: Vec<String> = (0..args.members)
        .map(|i| format!("bench-{}-{i:04}", &run[20..]))
        .collect();

    // Watches first: each reports (member, version, when it arrived).
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    for (i, user_id) in members.iter().enumerate() {
        let mut client = QueryServiceClient::new(queries[i / WATCHES_PER_CONNECTION].clone());
        let mut stream = client
            .watch_member(WatchMemberRequest {
                user_id: user_id.clone(),
                ..Default::default()
            })
            .await
            .with_context(|| format!("WatchMember {user_id}"))?
            .into_inner();
        let seen = seen_tx.clone();
        tokio::spawn(async move {
            while let Ok(Some(message)) = stream.message().await {
                if let Some(watch_member_response::Kind::Change(change)) = message.kind {
                    let _ = seen.send((i, change.version, Instant::now()));
                }
            }
        });
    }
    drop(seen_tx);

    if args.projectors > 0 {
        let at = args.projector_status.as_deref().unwrap_or(&args.query);
        wait_for_balanced_leases(&channel(at).await?, args.projectors).await?;
    }
    let mut arrived: HashMap<(usize, i64), Instant> = HashMap::new();

    // Warm-up: one cycle per member, unmeasured, until it is on the watches.
    let warmup = run_clients(&command, &members, args.clients, 0..1, Duration::ZERO).await?;
    wait_until_visible(&warmup, &mut seen_rx, &mut arrived).await?;

    // One connection for both readings of MariaDB's status: its own setup statements
    // come before the first.
    let status_db = match &args.mysql_url {
        Some(url) => Some(
            atone_storage::connect(&atone_storage::DbConfig {
                url: url.clone(),
                max_connections: 1,
            })
            .await
            .with_context(|| format!("connect to {url} for its status"))?,
        ),
        None => None,
    };
    let cost_before = Cost::read(&args, status_db.as_ref()).await?;
    let started = Instant::now();
    let sent = run_clients(
        &command,
        &members,
        args.clients,
        1..1 + args.cycles,
        args.pause,
    )
    .await?;
    let elapsed = started.elapsed();
    wait_until_visible(&sent, &mut seen_rx, &mut arrived).await?;
    let cost = Cost::read(&args, status_db.as_ref())
        .await?
        .since(&cost_before, sent.len());

    let mut command_ms: Vec<f64> = sent
        .iter()
        .map(|s| ms(s.replied.duration_since(s.sent)))
        .collect();
    let mut visible_ms: Vec<f64> = sent
        .iter()
        .map(|s| ms(arrived[&(s.member, s.version)].saturating_duration_since(s.sent)))
        .collect();
    println!(
        "bench {}: {} commands ({} members x {} cycles x 3) from {} clients in {:.2} s: {:.0} commands/s",
        args.label,
        sent.len(),
        args.members,
        args.cycles,
        args.clients,
        elapsed.as_secs_f64(),
        sent.len() as f64 / elapsed.as_secs_f64()
    );
    let all_visible = sent
        .iter()
        .map(|s| arrived[&(s.member, s.version)])
        .max()
        .map_or(elapsed, |last| last.duration_since(started));
    println!(
        "  all changes on their watches after {:.2} s: {:.0} commands/s end to end",
        all_visible.as_secs_f64(),
        sent.len() as f64 / all_visible.as_secs_f64()
    );
    println!("  command reply   {}", summary(&mut command_ms));
    println!("  visible (watch) {}", summary(&mut visible_ms));
    println!("  cost per command {}", cost.summary());
    // One JSON line for scripts/bench to collect (the lists are sorted by now).
    let at = |v: &[f64], q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let line = serde_json::json!({
        "scenario": "flow", "label": args.label, "clients": args.clients,
        "commands": sent.len(),
        "commands_per_s": (sent.len() as f64 / elapsed.as_secs_f64()).round(),
        "end_to_end_per_s": (sent.len() as f64 / all_visible.as_secs_f64()).round(),
        "reply_p50_ms": at(&command_ms, 0.5), "reply_p99_ms": at(&command_ms, 0.99),
        "visible_p50_ms": at(&visible_ms, 0.5), "visible_p99_ms": at(&visible_ms, 0.99),
        "cost": cost.json(),
    });
    println!("{line}");
    Ok(())
}

/// Runs `cycles` for every member from `clients` concurrent clients, each with its own
/// members.
async fn run_clients(
    command: &Channel,
    members: &[String],
    clients: usize,
    cycles: std::ops::Range<usize>,
    pause: Duration,
) -> Result<Vec<Sent>> {
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let mine: Vec<(usize, String)> = members
            .iter()
            .enumerate()
            .filter(|(i, _)| i % clients == c)
            .map(|(i, m)| (i, m.clone()))
            .collect();
        let client = CommandServiceClient::new(command.clone());
        let cycles = cycles.clone();
        tasks.spawn(async move { drive(client, mine, cycles, pause).await });
    }
    let mut sent = Vec::new();
    while let Some(result) = tasks.join_next().await {
        sent.extend(result.context("a client task panicked")??);
    }
    Ok(sent)
}

/// Waits (at most 120 s) until every acknowledged version has been pushed on its watch.
async fn wait_until_visible(
    sent: &[Sent],
    seen: &mut mpsc::UnboundedReceiver<(usize, i64, Instant)>,
    arrived: &mut HashMap<(usize, i64), Instant>,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !sent
        .iter()
        .all(|s| arrived.contains_key(&(s.member, s.version)))
    {
        match tokio::time::timeout_at(deadline, seen.recv()).await {
            Ok(Some((member, version, at))) => {
                arrived.entry((member, version)).or_insert(at);
            }
            Ok(None) => bail!("every watch ended before all changes arrived"),
            Err(_) => bail!(
                "{} of {} changes did not arrive on their watch within 120 s",
                sent.iter()
                    .filter(|s| !arrived.contains_key(&(s.member, s.version)))
                    .count(),
                sent.len()
            ),
        }
    }
    Ok(())
}

/// Polls GetStatus (at most 60 s) until `projectors` owners hold the open shards, none
/// more than one shard ahead of another.
async fn wait_for_balanced_leases(status: &Channel, projectors: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sources = ProjectorServiceClient::new(status.clone())
            .get_status(GetStatusRequest {})
            .await
            .context("GetStatus")?
            .into_inner()
            .sources;
        let mut owners: HashMap<String, usize> = HashMap::new();
        let mut unowned = 0;
        for shard in sources
            .iter()
            .filter(|s| s.kind == "kinesis-shard" && !s.finished)
        {
            if shard.owner.is_empty() {
                unowned += 1;
            } else {
                *owners.entry(shard.owner.clone()).or_default() += 1;
            }
        }
        let (fewest, most) = (owners.values().min(), owners.values().max());
        if unowned == 0
            && owners.len() == projectors
            && fewest.zip(most).is_some_and(|(f, m)| m - f <= 1)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the shards were not shared by {projectors} projectors within 60 s: {owners:?}, {unowned} unowned"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn channel(uri: &str) -> Result<Channel> {
    Endpoint::from_shared(uri.to_owned())
        .with_context(|| format!("bad endpoint {uri}"))?
        .connect()
        .await
        .with_context(|| format!("cannot connect to {uri}"))
}

/// Runs the cycles for `members`, one command at a time per client.
async fn drive(
    mut client: CommandServiceClient<Channel>,
    members: Vec<(usize, String)>,
    cycles: std::ops::Range<usize>,
    pause: Duration,
) -> Result<Vec<Sent>> {
    let mut sent = Vec::with_capacity(members.len() * cycles.len() * 3);
    for cycle in cycles {
        for (member, user_id) in &members {
            let member = *member;
            let key = |step: &str| format!("{user_id}-{cycle}-{step}");

            let at = Instant::now();
            let purchase = client
                .purchase(PurchaseRequest {
                    user_id: user_id.clone(),
                    product_id: "bench-sku".into(),
                    product_name: "bench".into(),
                    amount: 1000,
                    payment_mode: PaymentMode::Immediate as i32,
                    idempotency_key: key("purchase"),
                })
                .await
                .context("Purchase")?
                .into_inner();
            sent.push(Sent {
                member,
                version: purchase.version,
                sent: at,
                replied: Instant::now(),
            });
            tokio::time::sleep(pause).await;

            let at = Instant::now();
            let bill = client
                .issue_immediate_bill(IssueImmediateBillRequest {
                    user_id: user_id.clone(),
                    promise_id: purchase.promise_id,
                    amount: 1000,
                    idempotency_key: key("bill"),
                })
                .await
                .context("IssueImmediateBill")?
                .into_inner();
            sent.push(Sent {
                member,
                version: bill.version,
                sent: at,
                replied: Instant::now(),
            });
            tokio::time::sleep(pause).await;

            let at = Instant::now();
            let paid = client
                .complete_payment(CompletePaymentRequest {
                    user_id: user_id.clone(),
                    bill_id: bill.bill_id,
                    amount: 1000,
                    idempotency_key: key("payment"),
                })
                .await
                .context("CompletePayment")?
                .into_inner();
            sent.push(Sent {
                member,
                version: paid.version,
                sent: at,
                replied: Instant::now(),
            });
            tokio::time::sleep(pause).await;
        }
    }
    Ok(sent)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// "p50 … p95 … p99 … max …" in milliseconds.
fn summary(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:7.1} ms  p95 {:7.1} ms  p99 {:7.1} ms  max {:7.1} ms",
        at(0.50),
        at(0.95),
        at(0.99),
        at(1.0)
    )
}

/// CPU seconds so far and MariaDB's counters, read before and after the measured cycles.
struct Cost {
    atone_s: Option<f64>,
    mariadbd_s: Option<f64>,
    client_s: Option<f64>,
    status: Option<HashMap<String, i64>>,
    /// The machine's CPU time from /proc/stat: (busy, total) over all cores, in ticks.
    machine: Option<(u64, u64)>,
}

/// What the measured cycles cost, per command.
struct PerCommand {
    atone_ms: Option<f64>,
    mariadbd_ms: Option<f64>,
    client_ms: Option<f64>,
    /// MariaDB counter deltas per command: statements (Questions, less the reads of the
    /// status themselves), transactions (Com_commit + Com_rollback), and the kinds.
    mariadb: Option<Vec<(&'static str, f64)>>,
    /// How busy the machine's cores were over the measured cycles, 0 to 1 (all processes,
    /// kernel work included): near 1, the cores bound the flow; well below, something else.
    machine_busy: Option<f64>,
}

/// The counters SHOW GLOBAL STATUS is asked for.
const STATUS: [&str; 8] = [
    "Questions",
    "Com_commit",
    "Com_rollback",
    "Com_select",
    "Com_insert",
    "Com_update",
    "Com_delete",
    "Com_stmt_execute",
];

impl Cost {
    async fn read(args: &Args, status_db: Option<&sea_orm::DatabaseConnection>) -> Result<Self> {
        let atone: Option<f64> = if args.pids.is_empty() {
            None
        } else {
            let mut total = 0.0;
            for pid in &args.pids {
                total += cpu_seconds(&pid.to_string())
                    .with_context(|| format!("no CPU time for atone pid {pid} in /proc"))?;
            }
            Some(total)
        };
        let mariadbd = match args.mariadbd_pid {
            Some(pid) => Some(
                cpu_seconds(&pid.to_string())
                    .with_context(|| format!("no CPU time for mariadbd pid {pid} in /proc"))?,
            ),
            None => None,
        };
        let status = match status_db {
            Some(db) => Some(mysql_status(db).await?),
            None => None,
        };
        Ok(Self {
            atone_s: atone,
            mariadbd_s: mariadbd,
            client_s: cpu_seconds("self"),
            status,
            machine: machine_ticks(),
        })
    }

    fn since(&self, before: &Cost, commands: usize) -> PerCommand {
        let n = commands.max(1) as f64;
        let per = |after: Option<f64>, before: Option<f64>| {
            after.zip(before).map(|(a, b)| (a - b) * 1000.0 / n)
        };
        let mariadb = self
            .status
            .as_ref()
            .zip(before.status.as_ref())
            .map(|(a, b)| {
                let d = |k: &str| {
                    (a.get(k).copied().unwrap_or(0) - b.get(k).copied().unwrap_or(0)) as f64
                };
                vec![
                    // The SHOW of the second reading is one question.
                    ("statements", (d("Questions") - 1.0) / n),
                    ("transactions", (d("Com_commit") + d("Com_rollback")) / n),
                    ("selects", d("Com_select") / n),
                    ("inserts", d("Com_insert") / n),
                    ("updates", d("Com_update") / n),
                    ("deletes", d("Com_delete") / n),
                    ("prepared_executions", d("Com_stmt_execute") / n),
                ]
            });
        PerCommand {
            atone_ms: per(self.atone_s, before.atone_s),
            mariadbd_ms: per(self.mariadbd_s, before.mariadbd_s),
            client_ms: per(self.client_s, before.client_s),
            mariadb,
            machine_busy: self.machine.zip(before.machine).and_then(|(a, b)| {
                let total = a.1.checked_sub(b.1).filter(|t| *t > 0)?;
                Some(a.0.saturating_sub(b.0) as f64 / total as f64)
            }),
        }
    }
}

impl PerCommand {
    fn summary(&self) -> String {
        let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3} ms"));
        let mut out = format!(
            "CPU: atone {}, mariadbd {}, client {}",
            ms(self.atone_ms),
            ms(self.mariadbd_ms),
            ms(self.client_ms)
        );
        if let Some(busy) = self.machine_busy {
            out += &format!("; machine busy {:.0} %", busy * 100.0);
        }
        if let Some(m) = &self.mariadb {
            out += "; MariaDB:";
            for (k, v) in m {
                out += &format!(" {k} {v:.2}");
            }
        }
        out
    }

    fn json(&self) -> serde_json::Value {
        let round = |v: Option<f64>| v.map(|v| (v * 1000.0).round() / 1000.0);
        let mut cost = serde_json::json!({
            "cpu_ms_atone": round(self.atone_ms),
            "cpu_ms_mariadbd": round(self.mariadbd_ms),
            "cpu_ms_client": round(self.client_ms),
            "machine_busy": round(self.machine_busy),
        });
        if let Some(m) = &self.mariadb {
            for (k, v) in m {
                cost[format!("mariadb_{k}")] = serde_json::json!(round(Some(*v)));
            }
        }
        cost
    }
}

/// User + system CPU seconds of `/proc/<pid>/stat` (`self` for this process).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: state is the
    // first, utime the 12th and stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// The first line of /proc/stat, all cores: (busy, total) ticks, where busy is everything
/// but idle and iowait.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 if it cannot say).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The counters of [`STATUS`] from MariaDB's SHOW GLOBAL STATUS.
async fn mysql_status(db: &sea_orm::DatabaseConnection) -> Result<HashMap<String, i64>> {
    use sea_orm::{ConnectionTrait, Statement};
    let names = STATUS.map(|n| format!("'{n}'")).join(",");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SHOW GLOBAL STATUS WHERE Variable_name IN ({names})"),
        ))
        .await?;
    let mut status = HashMap::new();
    for row in rows {
        let name: String = row.try_get_by_index(0)?;
        let value: String = row.try_get_by_index(1)?;
        status.insert(name, value.parse().unwrap_or(0));
    }
    Ok(status)
}
