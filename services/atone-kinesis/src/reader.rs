//! Reading one shard continuously, at-least-once, with the caller in charge of checkpoints.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::records::MAX_GET_RECORDS_LIMIT;
use crate::sequence::is_after;
use crate::subscription::ShardSubscription;
use crate::types::{ChildShard, GetRecordsOutput, Start};
use crate::{Batch, Kinesis, KinesisError, ReadMode, ReaderConfig, ReaderStats};

#[derive(Debug)]
enum Source {
    Polling {
        iterator: Option<String>,
    },
    FanOut {
        consumer_arn: String,
        /// Boxed: a live subscription is much larger than the polling state.
        subscription: Option<Box<ShardSubscription>>,
        /// SubscribeToShard calls of subscriptions dropped by `reset_to`.
        past_subscribe_calls: u64,
    },
}

/// Reads one shard from a checkpoint on, batch by batch.
///
/// The reader remembers the last sequence number it handed out (its position) and never
/// hands out a record at or before it again, except after [`ShardReader::reset_to`]. It
/// does not store checkpoints: the caller applies a batch, stores
/// [`Batch::last_sequence_number`] where it keeps checkpoints, and if applying fails, calls
/// `reset_to(last stored checkpoint)` to read the same records again. That gives
/// at-least-once delivery across crashes and failed applies.
///
/// In polling mode each `next_batch` makes one GetRecords call (more only to replace an
/// expired iterator or after a transient failure), spaced at least
/// `1 / max_get_records_per_second` apart, and further apart while the shard is idle. An
/// expired iterator is replaced by one AFTER the position (TRIM_HORIZON when there is none).
///
/// In fan-out mode each `next_batch` returns the next pushed event (about one a second,
/// possibly empty) of a [`ShardSubscription`], which subscribes again after the position
/// when a subscription ends (every five minutes). Only one subscription per consumer and
/// shard may be open: two readers of one shard need two consumers.
///
/// `next_batch` is cancel-safe: dropping its future (e.g. in `tokio::select!` with a
/// shutdown signal) loses nothing; the next call reads the same records again.
#[derive(Debug)]
pub struct ShardReader {
    kinesis: Kinesis,
    shard_id: String,
    config: ReaderConfig,
    min_interval: Duration,
    position: Option<String>,
    source: Source,
    /// The children, once the closed shard has been read to its end.
    end: Option<Vec<String>>,
    /// Earliest start of the next GetRecords call.
    next_call_at: Option<Instant>,
    idle_delay: Duration,
    stats: ReaderStats,
}

impl ShardReader {
    /// A reader of `shard_id` that starts after `checkpoint`, or at TRIM_HORIZON without one.
    /// No call is made until the first [`Self::next_batch`].
    pub fn new(
        kinesis: Kinesis,
        shard_id: impl Into<String>,
        checkpoint: Option<String>,
        config: ReaderConfig,
    ) -> Result<Self, KinesisError> {
        let rate = config.max_get_records_per_second;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(KinesisError::invalid(
                "ShardReader",
                format!("max_get_records_per_second must be positive, got {rate}"),
            ));
        }
        if !(1..=MAX_GET_RECORDS_LIMIT).contains(&config.batch_limit) {
            return Err(KinesisError::invalid(
                "ShardReader",
                format!("batch_limit must be 1 to 10000, got {}", config.batch_limit),
            ));
        }
        let min_interval = Duration::from_secs_f64(1.0 / rate);
        let source = match &config.mode {
            ReadMode::Polling => Source::Polling { iterator: None },
            ReadMode::FanOut { consumer_arn } => Source::FanOut {
                consumer_arn: consumer_arn.clone(),
                subscription: None,
                past_subscribe_calls: 0,
            },
        };
        Ok(Self {
            kinesis,
            shard_id: shard_id.into(),
            config,
            min_interval,
            position: checkpoint,
            source,
            end: None,
            next_call_at: None,
            idle_delay: min_interval,
            stats: ReaderStats::default(),
        })
    }

    pub fn shard_id(&self) -> &str {
        &self.shard_id
    }

    /// The last sequence number handed out, or the checkpoint started from.
    pub fn position(&self) -> Option<&str> {
        self.position.as_deref()
    }

    /// True once the closed shard has been read to its end.
    pub fn is_finished(&self) -> bool {
        self.end.is_some()
    }

    pub fn stats(&self) -> ReaderStats {
        let mut stats = self.stats;
        if let Source::FanOut {
            subscription,
            past_subscribe_calls,
            ..
        } = &self.source
        {
            stats.subscribe_calls =
                past_subscribe_calls + subscription.as_ref().map_or(0, |s| s.subscribe_calls());
        }
        stats
    }

    /// Moves the reader back (or forward) to just after `checkpoint`, or to TRIM_HORIZON
    /// with `None`: the next batch starts with the first record after it. Used after a
    /// failed apply to read the same records again.
    pub fn reset_to(&mut self, checkpoint: Option<String>) {
        info!(shard_id = %self.shard_id, checkpoint = ?checkpoint, "reader repositioned");
        self.position = checkpoint;
        self.end = None;
        self.idle_delay = self.min_interval;
        match &mut self.source {
            Source::Polling { iterator } => *iterator = None,
            Source::FanOut {
                subscription,
                past_subscribe_calls,
                ..
            } => {
                if let Some(s) = subscription.take() {
                    *past_subscribe_calls += s.subscribe_calls();
                }
            }
        }
    }

    /// The next records of the shard (possibly none), waiting as the pacing requires.
    ///
    /// Transient failures are retried per the client's [`crate::RetryPolicy`] before being
    /// returned; after an error the reader is unchanged and `next_batch` may be called again.
    pub async fn next_batch(&mut self) -> Result<Batch, KinesisError> {
        if let Some(children) = &self.end {
            return Ok(Batch {
                records: Vec::new(),
                millis_behind_latest: Some(0),
                end_of_shard: Some(children.clone()),
            });
        }
        let batch = match self.source {
            Source::Polling { .. } => self.poll().await?,
            Source::FanOut { .. } => self.receive().await?,
        };
        debug!(
            shard_id = %self.shard_id,
            records = batch.records.len(),
            millis_behind_latest = ?batch.millis_behind_latest,
            end_of_shard = batch.end_of_shard.is_some(),
            "batch read"
        );
        Ok(batch)
    }

    async fn poll(&mut self) -> Result<Batch, KinesisError> {
        let policy = self.kinesis.retry;
        let mut failures = 0;
        loop {
            let iterator = self.iterator().await?;
            if let Some(at) = self.next_call_at {
                tokio::time::sleep_until(at).await;
            }
            let started = Instant::now();
            self.next_call_at = Some(started + self.min_interval);
            self.stats.get_records_calls += 1;
            let result = self
                .kinesis
                .get_records_once(&iterator, self.config.batch_limit)
                .await;
            match result {
                Ok(out) => return self.hand_out(out, started).await,
                Err(KinesisError::ExpiredIterator { .. }) => {
                    self.stats.expired_iterators += 1;
                    warn!(shard_id = %self.shard_id, position = ?self.position, "shard iterator expired, getting a new one");
                    self.source = Source::Polling { iterator: None };
                }
                Err(e) if e.is_transient() => {
                    failures += 1;
                    if matches!(e, KinesisError::Throttled { .. }) {
                        self.stats.throttled += 1;
                    }
                    if failures >= policy.max_attempts {
                        return Err(e);
                    }
                    let pause = policy.backoff(failures).max(self.min_interval);
                    warn!(shard_id = %self.shard_id, error = %e, attempt = failures, backoff_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), "get_records failed, retrying");
                    self.next_call_at = Some(Instant::now() + pause);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The current shard iterator, or a new one from the position.
    async fn iterator(&mut self) -> Result<String, KinesisError> {
        if let Source::Polling {
            iterator: Some(it), ..
        } = &self.source
        {
            return Ok(it.clone());
        }
        let start = Start::after(self.position.as_deref());
        self.stats.get_shard_iterator_calls += 1;
        let it = self.kinesis.iterator(&self.shard_id, start).await?;
        self.source = Source::Polling {
            iterator: Some(it.clone()),
        };
        Ok(it)
    }

    /// Hands out what one GetRecords call (made at `started`) answered, and paces the next.
    async fn hand_out(
        &mut self,
        out: GetRecordsOutput,
        started: Instant,
    ) -> Result<Batch, KinesisError> {
        // Everything that can fail or be cancelled comes before any state
        // change, so an error or a dropped future hands out nothing and the
        // next call reads the same records again.
        let end_of_shard = match &out.next_iterator {
            Some(_) => None,
            None => Some(self.children(&out.child_shards).await?),
        };
        let records: Vec<_> = out
            .records
            .into_iter()
            .filter(|r| is_after(&r.sequence_number, self.position.as_deref()))
            .collect();
        if let Some(last) = records.last() {
            self.position = Some(last.sequence_number.clone());
        }
        let idle = records.is_empty() && out.millis_behind_latest.unwrap_or(0) == 0;
        self.idle_delay = if idle {
            (self.idle_delay * 2)
                .min(self.config.max_idle_backoff)
                .max(self.min_interval)
        } else {
            self.min_interval
        };
        self.next_call_at = Some(started + self.idle_delay);
        self.source = Source::Polling {
            iterator: out.next_iterator,
        };
        if let Some(children) = &end_of_shard {
            info!(shard_id = %self.shard_id, children = ?children, "end of shard reached");
            self.end = Some(children.clone());
        }
        Ok(Batch {
            records,
            millis_behind_latest: out.millis_behind_latest,
            end_of_shard,
        })
    }

    /// The child shard ids at the end of the shard: from GetRecords' ChildShards, or from
    /// ListShards when the service did not send them.
    async fn children(&self, reported: &[ChildShard]) -> Result<Vec<String>, KinesisError> {
        if !reported.is_empty() {
            return Ok(reported.iter().map(|c| c.shard_id.clone()).collect());
        }
        debug!(shard_id = %self.shard_id, "no ChildShards at end of shard, asking ListShards");
        let shards = self.kinesis.list_shards().await?;
        Ok(shards
            .into_iter()
            .filter(|s| s.parents().any(|p| p == self.shard_id))
            .map(|s| s.shard_id)
            .collect())
    }

    async fn receive(&mut self) -> Result<Batch, KinesisError> {
        let Source::FanOut {
            consumer_arn,
            subscription,
            ..
        } = &mut self.source
        else {
            return Err(KinesisError::unexpected(
                "SubscribeToShard",
                "reader is not in fan-out mode",
            ));
        };
        // Subscribes on the first `next_event`, which retries a busy or throttled
        // SubscribeToShard like any other transient failure.
        let sub = subscription.get_or_insert_with(|| {
            Box::new(ShardSubscription::new(
                self.kinesis.clone(),
                consumer_arn,
                &self.shard_id,
                Start::after(self.position.as_deref()),
            ))
        });
        let event = sub.next_event().await?;
        self.position = sub.position().map(str::to_owned);
        let end_of_shard = (event.continuation_sequence_number.is_none()
            && !event.child_shards.is_empty())
        .then(|| {
            event
                .child_shards
                .iter()
                .map(|c| c.shard_id.clone())
                .collect::<Vec<_>>()
        });
        if let Some(children) = &end_of_shard {
            info!(shard_id = %self.shard_id, children = ?children, "end of shard reached");
            self.end = Some(children.clone());
        }
        Ok(Batch {
            records: event.records,
            millis_behind_latest: event.millis_behind_latest,
            end_of_shard,
        })
    }
}
