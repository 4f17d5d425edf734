//! Watchers: one WatchMember stream per watched member, reconnecting with its cursor
//! whenever the stream breaks (and now and then for no reason), logging every message
//! with the time it came.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::watch_member_response::Kind;
use atone_api::v1::{SnapshotReason, WatchMemberRequest};
use atone_testkit::history::Seen;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WatcherLog {
    pub member: String,
    /// (ms since the run started, what came).
    #[serde(serialize_with = "serialize_seen")]
    pub messages: Vec<(u64, Seen)>,
    /// Times the watcher opened its stream again (after the first), failed opens included.
    pub reconnects: u32,
}

fn serialize_seen<S: serde::Serializer>(messages: &[(u64, Seen)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(messages.len()))?;
    for (ms, seen) in messages {
        let (kind, version) = match seen {
            Seen::Snapshot(v) => ("snapshot", v),
            Seen::Expired(v) => ("expired", v),
            Seen::Change(v) => ("change", v),
        };
        seq.serialize_element(&(ms, kind, version))?;
    }
    seq.end()
}

impl WatcherLog {
    /// The version the watcher is at.
    pub fn at(&self) -> i64 {
        self.messages.last().map_or(0, |(_, seen)| version(*seen))
    }
}

pub fn version(seen: Seen) -> i64 {
    match seen {
        Seen::Snapshot(v) | Seen::Expired(v) | Seen::Change(v) => v,
    }
}

pub type Log = Arc<Mutex<WatcherLog>>;

/// Follows `member` until `stop`.
pub async fn watch(
    member: String,
    queries: Vec<Channel>,
    clock: Clock,
    log: Log,
    seed: u64,
    stop: CancellationToken,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut cursor = String::new();
    while !stop.is_cancelled() {
        let channel = queries[rng.usize(..queries.len())].clone();
        let request = WatchMemberRequest {
            user_id: member.clone(),
            cursor: cursor.clone(),
            min_version: 0,
        };
        let mut client = QueryServiceClient::new(channel);
        let opened = tokio::select! {
            () = stop.cancelled() => return,
            opened = tokio::time::timeout(Duration::from_secs(5), client.watch_member(request)) => opened,
        };
        if let Ok(Ok(stream)) = opened {
            let mut stream = stream.into_inner();
            // Now and then a client goes away and comes back with its cursor.
            let leave = tokio::time::sleep(Duration::from_millis(rng.u64(5_000..60_000)));
            tokio::pin!(leave);
            loop {
                let message = tokio::select! {
                    () = stop.cancelled() => return,
                    () = &mut leave => break,
                    message = stream.message() => message,
                };
                let Ok(Some(message)) = message else { break };
                let seen = match message.kind {
                    Some(Kind::Change(change)) => Seen::Change(change.version),
                    Some(Kind::Snapshot(snapshot)) => {
                        let v = snapshot
                            .member
                            .and_then(|m| m.summary)
                            .map_or(0, |s| s.version);
                        if snapshot.reason == SnapshotReason::CursorExpired as i32 {
                            Seen::Expired(v)
                        } else {
                            Seen::Snapshot(v)
                        }
                    }
                    None => continue,
                };
                cursor = message.cursor;
                if let Ok(mut log) = log.lock() {
                    log.messages.push((clock.ms(), seen));
                }
            }
        }
        if let Ok(mut log) = log.lock() {
            log.reconnects += 1;
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_millis(rng.u64(50..500))) => {}
        }
    }
}
