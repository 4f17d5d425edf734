//! A history checker, in the spirit of Jepsen's: what clients asked and were told, what the
//! event store holds at the end, and what watchers saw, checked against what atone
//! promises.
//!
//! - An acknowledged command is applied exactly once; a command whose outcome the client
//!   does not know (a deadline, a cut connection) at most once; a refused one never. Its
//!   events carry its idempotency key, and "once" is one run of consecutive versions.
//! - An acknowledged command's reply version is the version its run ends at.
//! - Each member's versions run 1..n with no gap.
//! - Each watcher's versions rise strictly with no gap after its snapshot, no cursor is
//!   called expired, and its last version is the member's last version.

use std::collections::BTreeMap;

/// What a client was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged, at the member's version `version`.
    Ok { version: i64 },
    /// Refused: the command changed nothing.
    Refused,
    /// No answer the client could trust (a deadline, a cut connection, UNAVAILABLE).
    Unknown,
}

/// One command as a client sent it (retries of one key are one invocation, with the last
/// outcome the client got).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub member: String,
    pub key: String,
    pub outcome: Outcome,
}

/// One event of the store at the end: its member, version and idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub member: String,
    pub version: i64,
    pub key: String,
}

/// One message a watcher received, with the version it brought the watcher to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A snapshot the watcher asked for (no cursor).
    Snapshot(i64),
    /// A snapshot sent because the watcher's cursor was past the feed's retention.
    Expired(i64),
    /// One change.
    Change(i64),
}

/// What one watcher of `member` received, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchLog {
    pub member: String,
    pub messages: Vec<Seen>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// An acknowledged command's events are not in the store.
    Lost { member: String, key: String },
    /// A command's events appear in more than one run: applied twice.
    Doubled {
        member: String,
        key: String,
        runs: usize,
    },
    /// A refused command's events are in the store.
    RefusedApplied { member: String, key: String },
    /// An acknowledged command answered a version its events do not end at.
    WrongVersion {
        member: String,
        key: String,
        replied: i64,
        stored: i64,
    },
    /// A member's versions do not run 1..n.
    VersionGap {
        member: String,
        expected: i64,
        found: i64,
    },
    /// A watcher's versions went back, repeated or skipped one after its snapshot.
    WatchOutOfOrder {
        member: String,
        watcher: usize,
        after: i64,
        got: i64,
    },
    /// A watcher that reconnected with its cursor was told the cursor had expired: in a
    /// run far shorter than the feed's retention, the changes after it were never gone.
    CursorExpired {
        member: String,
        watcher: usize,
        after: i64,
        got: i64,
    },
    /// A watcher did not end at the member's last version.
    WatchBehind {
        member: String,
        watcher: usize,
        last_seen: i64,
        last: i64,
    },
}

/// Every anomaly of a run, in the order the checks find them.
pub fn check(invocations: &[Invocation], stored: &[Stored], watchers: &[WatchLog]) -> Vec<Anomaly> {
    let mut anomalies = Vec::new();
    let mut streams: BTreeMap<&str, Vec<&Stored>> = BTreeMap::new();
    for event in stored {
        streams.entry(&event.member).or_default().push(event);
    }
    for (member, events) in &mut streams {
        events.sort_by_key(|e| e.version);
        for (expected, event) in (1..).zip(events.iter()) {
            if event.version != expected {
                anomalies.push(Anomaly::VersionGap {
                    member: (*member).to_owned(),
                    expected,
                    found: event.version,
                });
                break;
            }
        }
    }
    for invocation in invocations {
        let events = streams
            .get(invocation.member.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let runs = runs_of(events, &invocation.key);
        let (member, key) = (invocation.member.clone(), invocation.key.clone());
        match (&invocation.outcome, runs.as_slice()) {
            (Outcome::Refused, []) | (Outcome::Unknown, [] | [_]) => {}
            (Outcome::Ok { version }, [end]) => {
                if end != version {
                    anomalies.push(Anomaly::WrongVersion {
                        member,
                        key,
                        replied: *version,
                        stored: *end,
                    });
                }
            }
            (Outcome::Ok { .. }, []) => anomalies.push(Anomaly::Lost { member, key }),
            (Outcome::Refused, _) => anomalies.push(Anomaly::RefusedApplied { member, key }),
            (_, runs) => anomalies.push(Anomaly::Doubled {
                member,
                key,
                runs: runs.len(),
            }),
        }
    }
    for (watcher, log) in watchers.iter().enumerate() {
        check_watcher(watcher, log, &streams, &mut anomalies);
    }
    anomalies
}

/// The last version of each run of consecutive events carrying `key`.
fn runs_of(events: &[&Stored], key: &str) -> Vec<i64> {
    let mut ends: Vec<i64> = Vec::new();
    let mut previous: Option<i64> = None;
    for event in events.iter().filter(|e| e.key == key) {
        match (previous, ends.last_mut()) {
            (Some(p), Some(end)) if event.version == p + 1 => *end = event.version,
            _ => ends.push(event.version),
        }
        previous = Some(event.version);
    }
    ends
}

fn check_watcher(
    watcher: usize,
    log: &WatchLog,
    streams: &BTreeMap<&str, Vec<&Stored>>,
    anomalies: &mut Vec<Anomaly>,
) {
    let member = log.member.clone();
    let mut at: Option<i64> = None;
    for &seen in &log.messages {
        let out_of_order = |after: i64, got: i64| Anomaly::WatchOutOfOrder {
            member: member.clone(),
            watcher,
            after,
            got,
        };
        match (seen, at) {
            (Seen::Expired(version), seen) => {
                anomalies.push(Anomaly::CursorExpired {
                    member: member.clone(),
                    watcher,
                    after: seen.unwrap_or(0),
                    got: version,
                });
                return;
            }
            // A snapshot may come at any version not behind what was seen.
            (Seen::Snapshot(version), Some(seen)) if version < seen => {
                anomalies.push(out_of_order(seen, version));
                return;
            }
            (Seen::Change(version), Some(seen)) if version != seen + 1 => {
                anomalies.push(out_of_order(seen, version));
                return;
            }
            (Seen::Snapshot(version) | Seen::Change(version), _) => at = Some(version),
        }
    }
    let last = streams
        .get(log.member.as_str())
        .map_or(0, |events| events.len() as i64);
    let last_seen = at.unwrap_or(0);
    if last_seen != last {
        anomalies.push(Anomaly::WatchBehind {
            member,
            watcher,
            last_seen,
            last,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(member: &str, keys: &[&str]) -> Vec<Stored> {
        keys.iter()
            .zip(1..)
            .map(|(key, version)| Stored {
                member: member.into(),
                version,
                key: (*key).into(),
            })
            .collect()
    }

    fn call(member: &str, key: &str, outcome: Outcome) -> Invocation {
        Invocation {
            member: member.into(),
            key: key.into(),
            outcome,
        }
    }

    fn watch(member: &str, messages: &[(bool, i64)]) -> WatchLog {
        WatchLog {
            member: member.into(),
            messages: messages
                .iter()
                .map(|&(snapshot, v)| {
                    if snapshot {
                        Seen::Snapshot(v)
                    } else {
                        Seen::Change(v)
                    }
                })
                .collect(),
        }
    }

    /// A purchase (two events), a bill, a payment: what a good run looks like.
    fn good() -> (Vec<Invocation>, Vec<Stored>, Vec<WatchLog>) {
        (
            vec![
                call("m", "buy", Outcome::Ok { version: 2 }),
                call("m", "bill", Outcome::Ok { version: 3 }),
                call("m", "pay", Outcome::Unknown),
                call("m", "over", Outcome::Refused),
                call("m", "lost-in-flight", Outcome::Unknown),
            ],
            stored("m", &["buy", "buy", "bill", "pay"]),
            vec![
                watch(
                    "m",
                    &[(true, 0), (false, 1), (false, 2), (false, 3), (false, 4)],
                ),
                watch("m", &[(true, 2), (false, 3), (true, 4)]),
            ],
        )
    }

    #[test]
    fn a_good_history_has_no_anomaly() {
        let (calls, events, watchers) = good();
        assert_eq!(check(&calls, &events, &watchers), vec![]);
    }

    #[test]
    fn each_kind_of_anomaly_is_reported_as_itself() {
        let (calls, events, watchers) = good();

        let lost = [
            calls.clone(),
            vec![call("m", "gone", Outcome::Ok { version: 5 })],
        ]
        .concat();
        assert_eq!(
            check(&lost, &events, &watchers),
            vec![Anomaly::Lost {
                member: "m".into(),
                key: "gone".into()
            }]
        );

        let doubled = stored("m", &["buy", "buy", "bill", "pay", "bill"]);
        let watchers5 = vec![watch("m", &[(true, 5)])];
        assert_eq!(
            check(&calls, &doubled, &watchers5),
            vec![Anomaly::Doubled {
                member: "m".into(),
                key: "bill".into(),
                runs: 2
            }]
        );

        let refused = stored("m", &["buy", "buy", "bill", "pay", "over"]);
        assert_eq!(
            check(&calls, &refused, &watchers5),
            vec![Anomaly::RefusedApplied {
                member: "m".into(),
                key: "over".into()
            }]
        );

        let wrong = [
            vec![call("m", "buy", Outcome::Ok { version: 1 })],
            calls[1..].to_vec(),
        ]
        .concat();
        assert_eq!(
            check(&wrong, &events, &watchers),
            vec![Anomaly::WrongVersion {
                member: "m".into(),
                key: "buy".into(),
                replied: 1,
                stored: 2
            }]
        );

        let mut gap = events.clone();
        gap[3].version = 5;
        assert!(check(&calls, &gap, &[]).contains(&Anomaly::VersionGap {
            member: "m".into(),
            expected: 4,
            found: 5
        }));

        let skipped = vec![watch("m", &[(true, 1), (false, 2), (false, 4)])];
        assert_eq!(
            check(&calls, &events, &skipped),
            vec![Anomaly::WatchOutOfOrder {
                member: "m".into(),
                watcher: 0,
                after: 2,
                got: 4
            }]
        );

        let mut expired = watch("m", &[(true, 0), (false, 1), (false, 2)]);
        expired.messages.push(Seen::Expired(4));
        assert_eq!(
            check(&calls, &events, &[expired]),
            vec![Anomaly::CursorExpired {
                member: "m".into(),
                watcher: 0,
                after: 2,
                got: 4
            }]
        );

        let behind = vec![watch("m", &[(true, 1), (false, 2), (false, 3)])];
        assert_eq!(
            check(&calls, &events, &behind),
            vec![Anomaly::WatchBehind {
                member: "m".into(),
                watcher: 0,
                last_seen: 3,
                last: 4
            }]
        );
    }
}
