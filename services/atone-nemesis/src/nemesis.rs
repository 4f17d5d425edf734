//! The nemesis: from a seed, one fault at a time with quiet between, each held for a while
//! and then healed. Every fault goes into the run's record with when it began, when it was
//! healed, and when the deployment had it behind it (a restarted process serving again).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_kinesis::Record;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::deploy::{Deployment, Kind, send_signal};
use crate::proxy::Mode;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL an atone process, start it again a moment later.
    Kill,
    /// SIGSTOP an atone process (or the emulator), SIGCONT it later.
    Pause,
    /// Drop clients' connections to a process and refuse new ones.
    CutClients,
    /// Hold clients' connections to a process open with nothing going through.
    StallClients,
    /// The same between atone and MariaDB.
    CutDatabase,
    StallDatabase,
    /// The same between atone and Kinesis.
    CutKinesis,
    StallKinesis,
    /// Writes of somebody else's records past the shards' limits, so atone's are throttled.
    Throttle,
    /// UpdateShardCount: 4 shards to 8, or back.
    Reshard,
    /// atone's clock (the processes that decide commands) jumps 1–3 days ahead.
    ClockJump,
}

impl FaultKind {
    pub fn all_for(kind: Kind) -> Vec<FaultKind> {
        use FaultKind::*;
        match kind {
            Kind::Sqlite => vec![Kill, Pause, CutClients, StallClients, ClockJump],
            Kind::Mariadb => vec![
                Kill,
                Pause,
                CutClients,
                StallClients,
                CutDatabase,
                StallDatabase,
                ClockJump,
            ],
            Kind::Kinesis => vec![
                Kill,
                Pause,
                CutClients,
                StallClients,
                CutDatabase,
                StallDatabase,
                CutKinesis,
                StallKinesis,
                Throttle,
                Reshard,
                ClockJump,
            ],
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub target: String,
    pub start_ms: u64,
    /// When the nemesis undid it (SIGCONT, proxy up, the restart begun).
    pub heal_ms: u64,
    /// When the deployment was whole again (the restarted process serving).
    pub healed_ms: u64,
}

pub type Faults = Arc<Mutex<Vec<Fault>>>;

pub struct Nemesis {
    pub deployment: Arc<tokio::sync::Mutex<Deployment>>,
    pub kinds: Vec<FaultKind>,
    pub clock: Clock,
    pub faults: Faults,
    pub run_ms: u64,
}

impl Nemesis {
    pub async fn run(self, seed: u64, stop: CancellationToken) {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x006e_656d_6573_6973);
        let mut resharded_at: Option<u64> = None;
        let mut shards = 4;
        if self.kinds.is_empty() {
            return;
        }
        loop {
            let quiet = Duration::from_millis(rng.u64(2_000..6_000));
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(quiet) => {}
            }
            let now = self.clock.ms();
            let mut kind = self.kinds[rng.usize(..self.kinds.len())];
            let reshard_due = self.kinds.contains(&FaultKind::Reshard)
                && resharded_at.is_none()
                && now > self.run_ms / 3;
            if reshard_due {
                kind = FaultKind::Reshard;
            } else if kind == FaultKind::Reshard
                && resharded_at.is_some_and(|at| now < at + 300_000)
            {
                // Kinesis allows few reshards: one every five minutes at most.
                continue;
            }
            let hold = Duration::from_millis(rng.u64(1_000..8_000));
            let fault = match kind {
                FaultKind::Reshard => {
                    resharded_at = Some(now);
                    shards = if shards == 4 { 8 } else { 4 };
                    self.reshard(shards).await
                }
                _ => self.strike(kind, hold, &mut rng, &stop).await,
            };
            if let Some(fault) = fault
                && let Ok(mut faults) = self.faults.lock()
            {
                faults.push(fault);
            }
        }
    }

    async fn strike(
        &self,
        kind: FaultKind,
        hold: Duration,
        rng: &mut fastrand::Rng,
        stop: &CancellationToken,
    ) -> Option<Fault> {
        let start_ms = self.clock.ms();
        let mut d = self.deployment.lock().await;
        let n = rng.usize(..d.nodes.len());
        let target;
        match kind {
            FaultKind::Kill => {
                target = d.nodes[n].name.clone();
                if let Some(mut p) = d.nodes[n].proc.take() {
                    p.kill().await;
                }
                drop(d);
                pause(Duration::from_millis(rng.u64(0..3_000)), stop).await;
                let heal_ms = self.clock.ms();
                let mut d = self.deployment.lock().await;
                d.restart(n).await;
                return Some(self.fault(kind, target, start_ms, heal_ms));
            }
            FaultKind::Pause => {
                let emulator = d.emulator.as_ref().and_then(|c| c.id());
                let (pid, name) = match emulator {
                    Some(pid) if rng.u32(..6) == 0 => (pid, "ferrokinesis".to_owned()),
                    _ => (
                        d.nodes[n].proc.as_ref().map_or(0, |p| p.pid()),
                        d.nodes[n].name.clone(),
                    ),
                };
                target = name;
                send_signal(pid, "-STOP");
                drop(d);
                pause(hold, stop).await;
                send_signal(pid, "-CONT");
            }
            FaultKind::CutClients | FaultKind::StallClients => {
                target = format!("clients→{}", d.nodes[n].name);
                d.nodes[n].front.set(mode(kind));
                drop(d);
                pause(hold, stop).await;
                self.deployment.lock().await.nodes[n].front.set(Mode::Up);
            }
            FaultKind::CutDatabase | FaultKind::StallDatabase => {
                target = "atone→database".into();
                d.db_proxy.as_ref()?.set(mode(kind));
                drop(d);
                pause(hold, stop).await;
                let d = self.deployment.lock().await;
                d.db_proxy.as_ref()?.set(Mode::Up);
            }
            FaultKind::CutKinesis | FaultKind::StallKinesis => {
                target = "atone→kinesis".into();
                d.kinesis_proxy.as_ref()?.set(mode(kind));
                drop(d);
                pause(hold, stop).await;
                let d = self.deployment.lock().await;
                d.kinesis_proxy.as_ref()?.set(Mode::Up);
            }
            FaultKind::Throttle => {
                target = "kinesis shards".into();
                let kinesis = d.kinesis.clone()?;
                drop(d);
                let until = tokio::time::Instant::now() + hold;
                let payload = vec![b'x'; 1024];
                while tokio::time::Instant::now() < until && !stop.is_cancelled() {
                    let records = (0..500)
                        .map(|i| Record::new(format!("noise-{i}-{}", rng.u32(..)), payload.clone()))
                        .collect();
                    let _ = kinesis.put_records(records).await;
                }
            }
            FaultKind::ClockJump => {
                let days = rng.i64(1..=3);
                d.offset.fetch_add(days * 86_400, Ordering::SeqCst);
                target = format!("+{days} days");
                for i in 0..d.nodes.len() {
                    if !d.nodes[i].role.has_clock() {
                        continue;
                    }
                    if let Some(mut p) = d.nodes[i].proc.take() {
                        // A clean stop: what is unclean is recorded by the final stop's
                        // check of every process, and a kill is a fault of its own.
                        let _ = p.stop_within(Duration::from_secs(30)).await;
                    }
                    d.restart(i).await;
                }
                let now = self.clock.ms();
                return Some(self.fault(kind, target, start_ms, now));
            }
            FaultKind::Reshard => return None,
        }
        let heal_ms = self.clock.ms();
        Some(self.fault(kind, target, start_ms, heal_ms))
    }

    async fn reshard(&self, shards: u32) -> Option<Fault> {
        let start_ms = self.clock.ms();
        let kinesis = self.deployment.lock().await.kinesis.clone()?;
        let target = format!("{shards} shards");
        if let Err(e) = kinesis.update_shard_count(shards).await {
            eprintln!("nemesis: reshard to {shards} failed: {e}");
            return None;
        }
        let now = self.clock.ms();
        Some(self.fault(FaultKind::Reshard, target, start_ms, now))
    }

    fn fault(&self, kind: FaultKind, target: String, start_ms: u64, heal_ms: u64) -> Fault {
        Fault {
            kind,
            target,
            start_ms,
            heal_ms,
            healed_ms: self.clock.ms(),
        }
    }
}

fn mode(kind: FaultKind) -> Mode {
    match kind {
        FaultKind::CutClients | FaultKind::CutDatabase | FaultKind::CutKinesis => Mode::Cut,
        _ => Mode::Stall,
    }
}

/// Holds a fault for `d`, or less when the run is over.
async fn pause(d: Duration, stop: &CancellationToken) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(d) => {}
    }
}
