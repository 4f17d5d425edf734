//! atone-nemesis: runs a real deployment of atone under seeded faults, with a workload
//! whose every call goes into a history and watchers that log every change they get; then
//! checks the history, the read models and the money, and reports staleness as figures.
//!
//! Run it through `scripts/nemesis`, which builds it and atone and installs ferrokinesis.
//! The seed fixes the workload's choices and the nemesis' schedule; the interleaving of
//! processes is the machine's, so a seed replays the same run, not the same timing.

mod check;
mod clock;
mod deploy;
mod nemesis;
mod proxy;
mod staleness;
mod watchers;
mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use atone_testkit::history::{self, Anomaly, Invocation, WatchLog};
use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::deploy::{Deployment, Kind, Role};
use crate::nemesis::{Fault, FaultKind, Nemesis};
use crate::watchers::WatcherLog;
use crate::workload::{Call, Workload};

#[derive(Debug, Parser)]
#[command(
    name = "atone-nemesis",
    about = "atone under seeded faults, its history checked"
)]
struct Args {
    /// What to run: `atone serve` on SQLite or MariaDB, or the three roles over Kinesis.
    deployment: Kind,
    /// The seed (a random one when not given; it is printed either way).
    #[arg(long)]
    seed: Option<u64>,
    /// How long the workload and the nemesis run.
    #[arg(long, default_value = "2m")]
    duration: humantime::Duration,
    #[arg(long, default_value_t = 100)]
    members: usize,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 20)]
    watchers: usize,
    /// The faults to choose from (comma-separated); all the deployment allows when not
    /// given, none with `--faults none`.
    #[arg(long, value_delimiter = ',')]
    faults: Vec<String>,
    /// ferrokinesis, for the kinesis deployment.
    #[arg(long, env = "ATONE_FERROKINESIS")]
    ferrokinesis: Option<PathBuf>,
    /// A bug to plant in every atone process (a debug build's test-only switch,
    /// ATONE_PLANT_BUG): the run must find it.
    #[arg(long)]
    plant: Option<String>,
    /// A directory to write the history, the faults and the report into.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, serde::Serialize)]
struct Report {
    deployment: Kind,
    seed: u64,
    duration_s: u64,
    plant: Option<String>,
    commands: BTreeMap<String, usize>,
    retried_calls: usize,
    faults: BTreeMap<FaultKind, usize>,
    events: usize,
    watchers: usize,
    watch_messages: usize,
    reconnects: u32,
    anomalies: Vec<String>,
    staleness: staleness::Staleness,
    first_anomaly_found_after_s: Option<u64>,
    replay: String,
}

/// Seconds from now until 40 s before the next month begins in Japan: atone's clock
/// crosses a month end early in the run.
fn offset_to_month_end() -> anyhow::Result<i64> {
    use chrono::{Datelike, TimeZone};
    let jst = chrono::FixedOffset::east_opt(9 * 3600).context("Japan's offset")?;
    let now = chrono::Utc::now().with_timezone(&jst);
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let next = jst
        .with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| (t - now).num_seconds());
    Ok((next - 40).max(0))
}

/// Exits 0 when the run found nothing, 1 when it found an anomaly, 2 when it could not run.
#[tokio::main]
async fn main() {
    let args = Args::parse();
    let code = match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nemesis: the run could not be carried out: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

async fn run(args: Args) -> anyhow::Result<i32> {
    anyhow::ensure!(
        std::env::var_os("ATONE_BIN").is_some(),
        "ATONE_BIN must name the atone binary to run (scripts/nemesis sets it)"
    );
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..1_000_000_000));
    let duration: Duration = args.duration.into();
    let kinds = fault_kinds(args.deployment, &args.faults)?;
    let replay = format!(
        "scripts/nemesis {} --seed {seed} --duration {}{}",
        serde_json::to_value(args.deployment)?
            .as_str()
            .unwrap_or_default(),
        humantime::format_duration(duration),
        args.plant
            .as_ref()
            .map(|p| format!(" --plant {p}"))
            .unwrap_or_default()
    );
    println!(
        "nemesis: {:?}, seed {seed}, {}, {} members, {} clients, {} watchers, faults {kinds:?}",
        args.deployment,
        humantime::format_duration(duration),
        args.members,
        args.clients,
        args.watchers
    );

    let deployment = Deployment::start(
        args.deployment,
        offset_to_month_end()?,
        args.ferrokinesis.clone(),
        args.plant.clone(),
    )
    .await
    .context("start the deployment")?;
    let direct_url = deployment.direct_url.clone();
    let commands = workload::channels(&deployment.endpoints(Role::takes_commands))?;
    let queries = workload::channels(&deployment.endpoints(Role::takes_queries))?;
    let offset = deployment.offset.clone();
    let deployment = Arc::new(tokio::sync::Mutex::new(deployment));

    let members: Vec<String> = (0..args.members)
        .map(|i| format!("m{seed}-{i:03}"))
        .collect();
    let clock = Clock::start();
    let history: workload::History = Arc::new(Mutex::new(Vec::new()));
    let faults: nemesis::Faults = Arc::new(Mutex::new(Vec::new()));

    // Watchers first, on members the seed picks.
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut watched = members.clone();
    rng.shuffle(&mut watched);
    watched.truncate(args.watchers.min(members.len()));
    let watch_stop = CancellationToken::new();
    let mut logs = Vec::new();
    let mut watch_tasks = tokio::task::JoinSet::new();
    for (i, member) in watched.iter().enumerate() {
        let log: watchers::Log = Arc::new(Mutex::new(WatcherLog {
            member: member.clone(),
            ..WatcherLog::default()
        }));
        logs.push(log.clone());
        watch_tasks.spawn(watchers::watch(
            member.clone(),
            queries.clone(),
            clock,
            log,
            seed.wrapping_add(10_000 + i as u64),
            watch_stop.clone(),
        ));
    }

    let work_stop = CancellationToken::new();
    let workload = Arc::new(Workload {
        members: members.clone(),
        commands,
        queries: queries.clone(),
        history: history.clone(),
        clock,
        offset,
        max_attempts: 40,
    });
    let work = tokio::spawn(workload.run(args.clients, seed, work_stop.clone()));

    let nemesis_stop = CancellationToken::new();
    let nemesis = tokio::spawn(
        Nemesis {
            deployment: deployment.clone(),
            kinds,
            clock,
            faults: faults.clone(),
            run_ms: duration.as_millis() as u64,
        }
        .run(seed, nemesis_stop.clone()),
    );

    let deadline = tokio::time::Instant::now() + duration;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(30).min(deadline - tokio::time::Instant::now()))
            .await;
        let calls = history.lock().map(|h| h.len()).unwrap_or(0);
        let n = faults.lock().map(|f| f.len()).unwrap_or(0);
        println!(
            "nemesis: {} s, {calls} commands, {n} faults",
            clock.ms() / 1000
        );
    }

    // The end: faults healed, then the workload's last calls answered.
    nemesis_stop.cancel();
    if let Err(e) = nemesis.await {
        anyhow::bail!(
            "the nemesis failed: {e}\n{}",
            deployment.lock().await.logs(30)
        );
    }
    deployment.lock().await.heal().await;
    work_stop.cancel();
    work.await.context("the workload")?;
    println!("nemesis: faults over; waiting for the deployment to catch up");

    let db = atone_storage::connect(&atone_storage::DbConfig::new(direct_url.clone())).await?;
    let mut anomalies: Vec<String> = Vec::new();
    let caught_up = wait(Duration::from_secs(180), || async {
        atone_testkit::projection_backlog(&db).await == Some((0, 0))
    })
    .await;
    if !caught_up {
        anomalies.push(format!(
            "the projection did not catch up within 180 s (outbox rows, members behind) = {:?}",
            atone_testkit::projection_backlog(&db).await
        ));
    }
    let rows = check::stored_events(&db).await?;
    let last: BTreeMap<&str, i64> = rows.iter().map(|r| (r.user_id.as_str(), r.version)).fold(
        BTreeMap::new(),
        |mut m, (u, v)| {
            m.insert(u, v);
            m
        },
    );
    wait(Duration::from_secs(60), || async {
        logs.iter().all(|log| {
            log.lock()
                .is_ok_and(|l| l.at() >= last.get(l.member.as_str()).copied().unwrap_or(0))
        })
    })
    .await;
    watch_stop.cancel();
    while watch_tasks.join_next().await.is_some() {}

    let calls: Vec<Call> = history.lock().map(|h| h.clone()).unwrap_or_default();
    let faults: Vec<Fault> = faults.lock().map(|f| f.clone()).unwrap_or_default();
    let logs: Vec<WatcherLog> = logs
        .iter()
        .filter_map(|l| l.lock().ok().map(|l| l.clone()))
        .collect();

    // The history.
    let invocations: Vec<Invocation> = calls
        .iter()
        .map(|c| Invocation {
            member: c.member.clone(),
            key: c.key.clone(),
            outcome: c.outcome(),
        })
        .collect();
    let watch_logs: Vec<WatchLog> = logs
        .iter()
        .map(|l| WatchLog {
            member: l.member.clone(),
            messages: l.messages.iter().map(|(_, s)| *s).collect(),
        })
        .collect();
    let found = history::check(&invocations, &check::stored(&rows), &watch_logs);
    for anomaly in &found {
        anomalies.push(format!("{anomaly:?}"));
    }
    if let Some(out) = check::verify(&direct_url).await? {
        anomalies.push(format!("atone verify: {out}"));
    }
    anomalies.extend(check::money(&db, &rows).await?);
    for p in check::parked(&db).await? {
        anomalies.push(format!("parked: {p}"));
    }
    let deployment = Arc::try_unwrap(deployment)
        .map_err(|_| anyhow::anyhow!("the deployment is still shared"))?
        .into_inner();
    let logs_tail = deployment.logs(40);
    for unclean in deployment.stop().await {
        anomalies.push(format!("unclean stop: {unclean}"));
    }

    let mut commands: BTreeMap<String, usize> = BTreeMap::new();
    for c in &calls {
        *commands
            .entry(format!("{} {}", c.command, c.outcome))
            .or_default() += 1;
    }
    let mut by_kind: BTreeMap<FaultKind, usize> = BTreeMap::new();
    for f in &faults {
        *by_kind.entry(f.kind).or_default() += 1;
    }
    let first_anomaly_found_after_s = first_anomaly_at(&found, &calls, &logs).map(|ms| ms / 1000);
    let report = Report {
        deployment: args.deployment,
        seed,
        duration_s: duration.as_secs(),
        plant: args.plant.clone(),
        commands,
        retried_calls: calls.iter().filter(|c| c.attempts > 1).count(),
        faults: by_kind,
        events: rows.len(),
        watchers: logs.len(),
        watch_messages: logs.iter().map(|l| l.messages.len()).sum(),
        reconnects: logs.iter().map(|l| l.reconnects).sum(),
        anomalies: anomalies.clone(),
        staleness: staleness::measure(&calls, &logs, &faults),
        first_anomaly_found_after_s,
        replay: replay.clone(),
    };
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
        std::fs::write(out.join("calls.json"), serde_json::to_vec(&calls)?)?;
        std::fs::write(out.join("faults.json"), serde_json::to_vec_pretty(&faults)?)?;
        std::fs::write(out.join("watchers.json"), serde_json::to_vec(&logs)?)?;
    }
    println!("{}", serde_json::to_string(&report)?);
    if anomalies.is_empty() {
        println!(
            "nemesis: no anomaly in {} commands, {} faults, {} watch messages (seed {seed})",
            calls.len(),
            faults.len(),
            report.watch_messages
        );
        return Ok(0);
    }
    eprintln!("\nnemesis: {} anomalies (seed {seed})", anomalies.len());
    for a in anomalies.iter().take(20) {
        eprintln!("  - {a}");
    }
    for anomaly in found.iter().take(3) {
        eprintln!("\n{}", context(anomaly, &calls, &rows, &logs, &faults));
    }
    eprintln!("\nlast log lines of each process:\n{logs_tail}");
    eprintln!("\nreplay: {replay}");
    Ok(1)
}

fn fault_kinds(kind: Kind, names: &[String]) -> anyhow::Result<Vec<FaultKind>> {
    let allowed = FaultKind::all_for(kind);
    if names.is_empty() {
        return Ok(allowed);
    }
    if names == ["none"] {
        return Ok(Vec::new());
    }
    names
        .iter()
        .map(|n| {
            let k = <FaultKind as clap::ValueEnum>::from_str(n, true)
                .map_err(|e| anyhow::anyhow!("fault {n}: {e}"))?;
            anyhow::ensure!(allowed.contains(&k), "{n} is not a fault of {kind:?}");
            Ok(k)
        })
        .collect()
}

/// Polls `check` every 100 ms until it holds or `within` has passed.
async fn wait<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn member_of(anomaly: &Anomaly) -> &str {
    match anomaly {
        Anomaly::Lost { member, .. }
        | Anomaly::Doubled { member, .. }
        | Anomaly::RefusedApplied { member, .. }
        | Anomaly::WrongVersion { member, .. }
        | Anomaly::VersionGap { member, .. }
        | Anomaly::WatchOutOfOrder { member, .. }
        | Anomaly::CursorExpired { member, .. }
        | Anomaly::WatchBehind { member, .. } => member,
    }
}

/// When the run could first have seen the anomaly: the answer of the call it concerns, or
/// the watcher message that broke the order.
fn first_anomaly_at(found: &[Anomaly], calls: &[Call], logs: &[WatcherLog]) -> Option<u64> {
    found
        .iter()
        .filter_map(|a| match a {
            Anomaly::Lost { key, .. }
            | Anomaly::Doubled { key, .. }
            | Anomaly::RefusedApplied { key, .. }
            | Anomaly::WrongVersion { key, .. } => {
                calls.iter().find(|c| &c.key == key).map(|c| c.answered_ms)
            }
            Anomaly::WatchOutOfOrder { watcher, got, .. }
            | Anomaly::CursorExpired { watcher, got, .. } => logs.get(*watcher).and_then(|l| {
                l.messages
                    .iter()
                    .find(|(_, s)| watchers::version(*s) == *got)
                    .map(|(ms, _)| *ms)
            }),
            _ => None,
        })
        .min()
}

/// The part of the history around an anomaly: the member's calls, events and watchers,
/// and the faults of the time.
fn context(
    anomaly: &Anomaly,
    calls: &[Call],
    rows: &[atone_storage::entity::events::Model],
    logs: &[WatcherLog],
    faults: &[Fault],
) -> String {
    let member = member_of(anomaly);
    let mut out = format!("{anomaly:?}\n  calls of {member}:\n");
    let mine: Vec<&Call> = calls.iter().filter(|c| c.member == member).collect();
    for c in &mine[mine.len().saturating_sub(25)..] {
        out += &format!(
            "    {:>8} ms → {:>8} ms  {} {} ×{} {} v{} {}\n",
            c.sent_ms, c.answered_ms, c.key, c.command, c.attempts, c.outcome, c.version, c.status
        );
    }
    out += "  events:\n";
    let events: Vec<_> = rows.iter().filter(|r| r.user_id == member).collect();
    for r in &events[events.len().saturating_sub(25)..] {
        out += &format!(
            "    v{} {} key {}\n",
            r.version, r.event_type, r.idempotency_key
        );
    }
    for l in logs.iter().filter(|l| l.member == member) {
        out += &format!(
            "  a watcher ({} reconnects), last messages:\n",
            l.reconnects
        );
        for (ms, seen) in l.messages.iter().rev().take(25).rev() {
            out += &format!("    {ms:>8} ms {seen:?}\n");
        }
    }
    out += "  faults:\n";
    for f in faults {
        out += &format!(
            "    {:>8} → {:>8} ms {:?} {}\n",
            f.start_ms, f.healed_ms, f.kind, f.target
        );
    }
    out
}
