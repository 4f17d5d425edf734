//! The Kinesis adapter: thin, retrying wrappers over the
//! [Kinesis Data Streams API](https://docs.aws.amazon.com/kinesis/latest/APIReference/Welcome.html)
//! and a [`ShardReader`] that reads a shard from a checkpoint, at-least-once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), atone_kinesis::KinesisError> {
//! use atone_kinesis::{Kinesis, KinesisConfig, ReaderConfig, Record, ShardReader};
//!
//! let kinesis = Kinesis::connect(KinesisConfig::emulator("http://127.0.0.1:4568", "atone-events")).await?;
//! kinesis.create_stream(4).await?;
//! kinesis.put_records(vec![Record::new("member-1", b"hello".to_vec())]).await?;
//! for shard in kinesis.list_shards().await? {
//!     let mut reader = ShardReader::new(kinesis.clone(), shard.shard_id, None, ReaderConfig::default())?;
//!     let batch = reader.next_batch().await?;
//!     // apply batch.records, then store batch.last_sequence_number() as the checkpoint
//! #   let _ = batch;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every call goes through [`RetryPolicy`]: throttling (`ProvisionedThroughputExceededException`,
//! `LimitExceededException`) and unavailability (connection refused, timeouts, HTTP 5xx) are
//! retried with exponential backoff and full jitter; what is left is a classified
//! [`KinesisError`].
//!
//! The SDK speaks the AWS JSON 1.1 protocol to Kinesis (the protocol `aws-sdk-kinesis` 1.130
//! configures by default), which the kinesis-mock emulator understands.

mod batch;
mod client;
mod config;
mod error;
mod fanout;
mod reader;
mod records;
mod sequence;
mod subscription;
mod types;

pub use atone_retry::{RetryPolicy, Retryable};
pub use batch::{Batch, ReadMode, ReaderConfig, ReaderStats};
pub use client::Kinesis;
pub use config::{KinesisConfig, StaticCredentials};
pub use error::KinesisError;
pub use fanout::CLOSED_CHECK_INTERVAL;
pub use reader::ShardReader;
pub use records::{MAX_BYTES_PER_PUT, MAX_GET_RECORDS_LIMIT, MAX_RECORDS_PER_PUT};
pub use sequence::cmp_sequence;
pub use subscription::{FanOutEvent, ShardSubscription};
pub use types::{
    ChildShard, Consumer, GetRecordsOutput, PutOutcome, ReceivedRecord, Record, Shard, Start,
    StreamDescription, StreamStatus,
};

/// The SDK crate, for callers that need a type this crate does not wrap.
pub use aws_sdk_kinesis as sdk;
