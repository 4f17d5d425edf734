//! A self-renewing SubscribeToShard subscription to one shard (enhanced fan-out).

use aws_sdk_kinesis::primitives::event_stream::EventReceiver;
use aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError;
use aws_sdk_kinesis::types::{
    StartingPosition, SubscribeToShardEvent, SubscribeToShardEventStream,
};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::fanout::{CLOSED_CHECK_INTERVAL, SUBSCRIBE_INTERVAL};
use crate::sequence::is_after;
use crate::types::{ChildShard, ReceivedRecord, Start};
use crate::{Kinesis, KinesisError};

type Events = EventReceiver<SubscribeToShardEventStream, SubscribeToShardEventStreamError>;

/// One event pushed on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOutEvent {
    /// Only records after the last one handed out: a re-subscription never repeats them.
    pub records: Vec<ReceivedRecord>,
    pub millis_behind_latest: Option<i64>,
    /// Set when the shard is closed and fully delivered: the shards to read next.
    pub child_shards: Vec<ChildShard>,
    /// Where Kinesis would continue; `None` at the end of a closed shard.
    pub continuation_sequence_number: Option<String>,
}

/// A self-renewing SubscribeToShard subscription to one shard.
///
/// End of shard: Kinesis marks the last event of a closed shard with `ChildShards` and no
/// continuation sequence number. Some emulators (kinesis-mock 0.6.2) never do, and keep
/// pushing empty events instead; so when events come back empty and caught up, the
/// subscription checks with ListShards (at most every [`CLOSED_CHECK_INTERVAL`]) whether the
/// shard is closed, and once it is, ends after two more empty, caught-up events (no record
/// can arrive on a closed shard, and two events rule out one generated before the close).
///
/// Limitation: while no record has been handed out yet, a re-subscription starts again
/// from the original [`Start`]; with [`Start::Latest`] records written between the two
/// subscriptions are missed. Start from [`Start::TrimHorizon`] or a checkpoint instead.
#[derive(Debug)]
pub struct ShardSubscription {
    kinesis: Kinesis,
    consumer_arn: String,
    shard_id: String,
    /// Used until a record has been handed out.
    start: Start,
    /// The last sequence number handed out, or the checkpoint given to `reset_to`.
    position: Option<String>,
    events: Option<Events>,
    /// Earliest time of the next SubscribeToShard call.
    next_subscribe_at: Option<Instant>,
    subscribe_calls: u64,
    /// Transient failures in a row, for the backoff between re-subscriptions.
    failures: u32,
    /// Set once the closed shard has been delivered to its end: its children.
    ended: Option<Vec<ChildShard>>,
    /// Set once ListShards showed the shard closed: its children, and the empty caught-up
    /// events seen since.
    closed: Option<(Vec<ChildShard>, u32)>,
    last_closed_check: Option<Instant>,
}

impl ShardSubscription {
    /// A subscription that subscribes on the first [`Self::next_event`].
    pub(crate) fn new(kinesis: Kinesis, consumer_arn: &str, shard_id: &str, start: Start) -> Self {
        let position = match &start {
            Start::AfterSequenceNumber(s) => Some(s.clone()),
            _ => None,
        };
        Self {
            kinesis,
            consumer_arn: consumer_arn.to_owned(),
            shard_id: shard_id.to_owned(),
            start,
            position,
            events: None,
            next_subscribe_at: None,
            subscribe_calls: 0,
            failures: 0,
            ended: None,
            closed: None,
            last_closed_check: None,
        }
    }

    pub fn shard_id(&self) -> &str {
        &self.shard_id
    }

    /// The last sequence number handed out (or the checkpoint started from).
    pub fn position(&self) -> Option<&str> {
        self.position.as_deref()
    }

    /// SubscribeToShard calls made so far.
    pub fn subscribe_calls(&self) -> u64 {
        self.subscribe_calls
    }

    /// Drops the current subscription; the next [`Self::next_event`] subscribes at `start`.
    pub fn reset_to(&mut self, start: Start) {
        self.position = match &start {
            Start::AfterSequenceNumber(s) => Some(s.clone()),
            _ => None,
        };
        self.start = start;
        self.events = None;
        self.ended = None;
        self.closed = None;
        self.last_closed_check = None;
    }

    fn resume_point(&self) -> Start {
        match &self.position {
            Some(seq) => Start::AfterSequenceNumber(seq.clone()),
            None => self.start.clone(),
        }
    }

    pub(crate) async fn ensure_subscribed(&mut self) -> Result<(), KinesisError> {
        const OP: &str = "SubscribeToShard";
        if self.events.is_some() {
            return Ok(());
        }
        if let Some(at) = self.next_subscribe_at {
            tokio::time::sleep_until(at).await;
        }
        let start = self.resume_point();
        let position = StartingPosition::builder()
            .r#type(start.iterator_type())
            .set_sequence_number(start.sequence_number().map(str::to_owned))
            .set_timestamp(start.timestamp())
            .build()
            .map_err(|e| KinesisError::invalid(OP, e.to_string()))?;
        self.next_subscribe_at = Some(Instant::now() + SUBSCRIBE_INTERVAL);
        self.subscribe_calls += 1;
        let out = self
            .kinesis
            .client
            .subscribe_to_shard()
            .consumer_arn(&self.consumer_arn)
            .shard_id(&self.shard_id)
            .starting_position(position)
            .send()
            .await
            .map_err(|e| KinesisError::from_sdk(OP, e))?;
        debug!(shard_id = %self.shard_id, start = ?start, "subscribed to shard");
        self.events = Some(out.event_stream);
        Ok(())
    }

    /// Called on an empty, caught-up event without `ChildShards`: the children once the shard
    /// is known closed and two such events came after that was learned.
    async fn closed_and_drained(&mut self) -> Result<Option<Vec<ChildShard>>, KinesisError> {
        if let Some((children, caught_up)) = &mut self.closed {
            *caught_up += 1;
            return Ok((*caught_up >= 2).then(|| children.clone()));
        }
        if self
            .last_closed_check
            .is_some_and(|t| t.elapsed() < CLOSED_CHECK_INTERVAL)
        {
            return Ok(None);
        }
        self.last_closed_check = Some(Instant::now());
        let shards = self.kinesis.list_shards().await?;
        let closed = shards
            .iter()
            .any(|s| s.shard_id == self.shard_id && s.is_closed());
        if closed {
            let children = shards
                .iter()
                .filter(|s| s.parents().any(|p| p == self.shard_id))
                .map(|s| ChildShard {
                    shard_id: s.shard_id.clone(),
                    parent_shards: s.parents().map(str::to_owned).collect(),
                })
                .collect();
            debug!(shard_id = %self.shard_id, "shard is closed, draining its last events");
            self.closed = Some((children, 0));
        }
        Ok(None)
    }

    /// The next pushed event. Waits for it (Kinesis pushes at least one event about every
    /// five seconds, with or without records). At the end of a closed shard, returns an
    /// event with `child_shards` set, and keeps returning it without network calls.
    ///
    /// Transient failures (throttling, a dropped connection, the concurrent-subscription
    /// `ResourceInUseException`) are retried with backoff per the client's retry policy;
    /// the last one is returned when the attempts are used up, and calling again goes on.
    pub async fn next_event(&mut self) -> Result<FanOutEvent, KinesisError> {
        const OP: &str = "SubscribeToShard";
        loop {
            if let Some(children) = &self.ended {
                return Ok(FanOutEvent {
                    records: Vec::new(),
                    millis_behind_latest: Some(0),
                    child_shards: children.clone(),
                    continuation_sequence_number: None,
                });
            }
            let received = match self.ensure_subscribed().await {
                Ok(()) => match self.events.as_mut() {
                    Some(events) => events
                        .recv()
                        .await
                        .map_err(|e| KinesisError::from_event_stream(OP, e)),
                    None => Ok(None),
                },
                Err(e) => Err(e),
            };
            match received {
                Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(event))) => {
                    self.failures = 0;
                    return self.handed_out(event).await;
                }
                Ok(Some(other)) => {
                    debug!(shard_id = %self.shard_id, event = ?other, "unknown fan-out event ignored");
                }
                Ok(None) => {
                    debug!(shard_id = %self.shard_id, "subscription ended, subscribing again");
                    self.events = None;
                }
                Err(e) if e.is_transient() || matches!(e, KinesisError::ResourceInUse { .. }) => {
                    self.events = None;
                    self.failures += 1;
                    let policy = self.kinesis.retry;
                    if self.failures >= policy.max_attempts {
                        self.failures = 0;
                        return Err(e);
                    }
                    let pause = policy.backoff(self.failures).max(SUBSCRIBE_INTERVAL);
                    warn!(shard_id = %self.shard_id, error = %e, attempt = self.failures, "fan-out subscription failed, retrying");
                    self.next_subscribe_at = Some(Instant::now() + pause);
                }
                Err(e) => {
                    self.events = None;
                    return Err(e);
                }
            }
        }
    }

    /// What one pushed event hands out: the records after the position, and the children
    /// once the shard is read to its end.
    async fn handed_out(
        &mut self,
        event: SubscribeToShardEvent,
    ) -> Result<FanOutEvent, KinesisError> {
        let records: Vec<_> = event
            .records
            .into_iter()
            .map(ReceivedRecord::from_sdk)
            .filter(|r| is_after(&r.sequence_number, self.position.as_deref()))
            .collect();
        if let Some(last) = records.last() {
            self.position = Some(last.sequence_number.clone());
        }
        let continuation = Some(event.continuation_sequence_number).filter(|c| !c.is_empty());
        let child_shards: Vec<_> = event
            .child_shards
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(ChildShard::from_sdk)
            .collect();
        debug!(
            shard_id = %self.shard_id,
            records = records.len(),
            continuation = ?continuation,
            child_shards = child_shards.len(),
            millis_behind_latest = event.millis_behind_latest,
            "fan-out event"
        );
        let (continuation, child_shards) =
            if records.is_empty() && child_shards.is_empty() && event.millis_behind_latest == 0 {
                match self.closed_and_drained().await? {
                    Some(children) => (None, children),
                    None => (continuation, child_shards),
                }
            } else {
                (continuation, child_shards)
            };
        if continuation.is_none() && !child_shards.is_empty() {
            info!(shard_id = %self.shard_id, "end of shard reached via fan-out");
            self.ended = Some(child_shards.clone());
            self.events = None;
        }
        Ok(FanOutEvent {
            records,
            millis_behind_latest: Some(event.millis_behind_latest),
            child_shards,
            continuation_sequence_number: continuation,
        })
    }
}
