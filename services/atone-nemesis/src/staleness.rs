//! Staleness as figures: how long watchers waited for a change after the command that made
//! it was acknowledged, split into waits that overlapped a fault and waits that did not;
//! and how long after each fault every watcher was current again.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::nemesis::{Fault, FaultKind};
use crate::watchers::{WatcherLog, version};
use crate::workload::Call;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Figures {
    pub count: usize,
    pub p50_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
}

impl Figures {
    pub fn of(mut values: Vec<u64>) -> Self {
        values.sort_unstable();
        let at = |q: f64| {
            values
                .get(((values.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or(0)
        };
        Self {
            count: values.len(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: values.last().copied().unwrap_or(0),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Staleness {
    pub quiet: Figures,
    pub under_faults: Figures,
    /// Acknowledged changes a watcher of the member never saw.
    pub never_seen: usize,
    /// From a fault's heal until every watcher had what was acknowledged by then.
    pub heal: BTreeMap<FaultKind, Figures>,
}

/// When `log` first reached `version`, at or after `from`.
fn reached(log: &WatcherLog, version_wanted: i64) -> Option<u64> {
    log.messages
        .iter()
        .find(|(_, seen)| version(*seen) >= version_wanted)
        .map(|(ms, _)| *ms)
}

pub fn measure(calls: &[Call], watchers: &[WatcherLog], faults: &[Fault]) -> Staleness {
    let mut acks: BTreeMap<&str, Vec<(u64, i64)>> = BTreeMap::new();
    for call in calls.iter().filter(|c| c.outcome == "ok") {
        acks.entry(&call.member)
            .or_default()
            .push((call.answered_ms, call.version));
    }
    let overlaps = |from: u64, to: u64| {
        faults
            .iter()
            .any(|f| f.start_ms <= to && from <= f.healed_ms)
    };
    let (mut quiet, mut faulted, mut never) = (Vec::new(), Vec::new(), 0);
    for log in watchers {
        for &(acked, v) in acks.get(log.member.as_str()).into_iter().flatten() {
            match reached(log, v) {
                Some(seen) => {
                    let wait = seen.saturating_sub(acked);
                    if overlaps(acked, seen.max(acked)) {
                        faulted.push(wait);
                    } else {
                        quiet.push(wait);
                    }
                }
                None => never += 1,
            }
        }
    }
    let mut heal: BTreeMap<FaultKind, Vec<u64>> = BTreeMap::new();
    for fault in faults {
        let h = fault.healed_ms;
        let mut longest = 0;
        for log in watchers {
            let target = acks
                .get(log.member.as_str())
                .into_iter()
                .flatten()
                .filter(|(acked, _)| *acked <= h)
                .map(|(_, v)| *v)
                .max()
                .unwrap_or(0);
            if target == 0 {
                continue;
            }
            if let Some(seen) = reached(log, target) {
                longest = longest.max(seen.saturating_sub(h));
            }
        }
        heal.entry(fault.kind).or_default().push(longest);
    }
    Staleness {
        quiet: Figures::of(quiet),
        under_faults: Figures::of(faulted),
        never_seen: never,
        heal: heal.into_iter().map(|(k, v)| (k, Figures::of(v))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use atone_testkit::history::Seen;

    use super::*;

    fn call(member: &str, answered_ms: u64, version: i64) -> Call {
        Call {
            client: 0,
            member: member.into(),
            key: format!("k{version}"),
            command: "Purchase",
            attempts: 1,
            sent_ms: answered_ms,
            answered_ms,
            outcome: "ok".into(),
            version,
            status: String::new(),
        }
    }

    #[test]
    fn waits_are_split_by_faults_and_heals_measured_from_the_heal() {
        let calls = [call("m", 100, 2), call("m", 1_000, 4), call("m", 5_000, 6)];
        let watcher = WatcherLog {
            member: "m".into(),
            messages: vec![
                (0, Seen::Snapshot(0)),
                (90, Seen::Change(1)),
                (130, Seen::Change(2)),
                (1_000, Seen::Change(3)),
                (3_000, Seen::Change(4)),
            ],
            reconnects: 0,
        };
        let faults = [Fault {
            kind: FaultKind::Pause,
            target: "query".into(),
            start_ms: 1_500,
            heal_ms: 2_000,
            healed_ms: 2_000,
        }];
        let s = measure(&calls, &[watcher], &faults);
        // 30 ms with no fault; 2,000 ms across the pause; version 6 never came.
        assert_eq!((s.quiet.count, s.quiet.max_ms), (1, 30));
        assert_eq!((s.under_faults.count, s.under_faults.max_ms), (1, 2_000));
        assert_eq!(s.never_seen, 1);
        // At the heal (2,000 ms) version 4 was acknowledged; it came 1,000 ms later.
        assert_eq!(s.heal[&FaultKind::Pause].max_ms, 1_000);
    }
}
