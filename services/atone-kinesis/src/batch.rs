//! What a [`crate::ShardReader`] is configured with and hands out.

use std::time::Duration;

use crate::types::ReceivedRecord;

/// How a [`ShardReader`] gets records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// GetShardIterator + GetRecords, paced per [`ReaderConfig`].
    #[default]
    Polling,
    /// Enhanced fan-out: records pushed to the consumer registered with
    /// [`Kinesis::register_consumer`].
    FanOut { consumer_arn: String },
}

/// Pacing and mode of a [`ShardReader`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderConfig {
    pub mode: ReadMode,
    /// Most GetRecords calls per second on this shard. AWS allows 5 per shard, shared by
    /// every polling consumer of the stream, so two readers of one shard should use 2.5.
    pub max_get_records_per_second: f64,
    /// Longest pause between polls while the shard has nothing new. The pause doubles from
    /// the minimum call interval up to this after each empty answer, and drops back to the
    /// minimum as soon as records come.
    pub max_idle_backoff: Duration,
    /// Most records per GetRecords call (1 to 10,000); also bounds a batch's size.
    pub batch_limit: u32,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        Self {
            mode: ReadMode::Polling,
            max_get_records_per_second: 5.0,
            max_idle_backoff: Duration::from_secs(1),
            batch_limit: 1000,
        }
    }
}

/// What one [`ShardReader::next_batch`] call returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
    /// In shard order, each after every record handed out before. May be empty.
    pub records: Vec<ReceivedRecord>,
    /// How far the reader is behind the tip of the shard; `Some(0)` means caught up.
    pub millis_behind_latest: Option<i64>,
    /// `Some(children)` once the shard is closed and every record of it has been handed
    /// out (this batch's included): checkpoint them, then read the child shards. Repeated
    /// by every later call until [`ShardReader::reset_to`].
    pub end_of_shard: Option<Vec<String>>,
}

impl Batch {
    /// The checkpoint to store once this batch is applied.
    pub fn last_sequence_number(&self) -> Option<&str> {
        self.records.last().map(|r| r.sequence_number.as_str())
    }
}

/// Counters for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReaderStats {
    pub get_records_calls: u64,
    pub get_shard_iterator_calls: u64,
    pub expired_iterators: u64,
    pub throttled: u64,
    pub subscribe_calls: u64,
}
