//! Plain data types for what goes in and out of Kinesis, free of SDK builder types.

use std::time::SystemTime;

use aws_sdk_kinesis::types as sdk;

/// The lifecycle state of a stream
/// ([StreamStatus](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_StreamDescriptionSummary.html)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamStatus {
    Creating,
    Deleting,
    /// The only state that accepts reads, writes and resharding.
    Active,
    Updating,
    /// A status this version of the crate does not know.
    Unknown(String),
}

impl From<&sdk::StreamStatus> for StreamStatus {
    fn from(s: &sdk::StreamStatus) -> Self {
        match s {
            sdk::StreamStatus::Creating => Self::Creating,
            sdk::StreamStatus::Deleting => Self::Deleting,
            sdk::StreamStatus::Active => Self::Active,
            sdk::StreamStatus::Updating => Self::Updating,
            other => Self::Unknown(other.as_str().to_owned()),
        }
    }
}

/// What [`crate::Kinesis::describe`] reports about the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamDescription {
    pub stream_name: String,
    pub stream_arn: String,
    pub status: StreamStatus,
    /// Shards that accept writes; closed parents of a reshard are not counted.
    pub open_shard_count: u32,
    pub retention_period_hours: i32,
}

/// One shard, open or closed, as [`crate::Kinesis::list_shards`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub shard_id: String,
    /// The shard this one was split from or merged into; set on children of a reshard.
    pub parent_shard_id: Option<String>,
    /// The second parent of a merge.
    pub adjacent_parent_shard_id: Option<String>,
    /// The first hash key (a decimal 128-bit number) routed to this shard.
    pub starting_hash_key: String,
    /// The last hash key routed to this shard.
    pub ending_hash_key: String,
    pub starting_sequence_number: String,
    /// Present once the shard is closed (after a reshard): no record will come after it.
    pub ending_sequence_number: Option<String>,
}

impl Shard {
    /// True when the shard no longer accepts records; readers drain it, then move on to
    /// its children.
    pub fn is_closed(&self) -> bool {
        self.ending_sequence_number.is_some()
    }

    /// The parent ids (zero, one, or two for a merge).
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        self.parent_shard_id
            .as_deref()
            .into_iter()
            .chain(self.adjacent_parent_shard_id.as_deref())
    }

    pub(crate) fn from_sdk(s: &sdk::Shard) -> Self {
        Self {
            shard_id: s.shard_id().to_owned(),
            parent_shard_id: s.parent_shard_id().map(str::to_owned),
            adjacent_parent_shard_id: s.adjacent_parent_shard_id().map(str::to_owned),
            starting_hash_key: s
                .hash_key_range()
                .map(|r| r.starting_hash_key().to_owned())
                .unwrap_or_default(),
            ending_hash_key: s
                .hash_key_range()
                .map(|r| r.ending_hash_key().to_owned())
                .unwrap_or_default(),
            starting_sequence_number: s
                .sequence_number_range()
                .map(|r| r.starting_sequence_number().to_owned())
                .unwrap_or_default(),
            ending_sequence_number: s
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .map(str::to_owned),
        }
    }
}

/// A record to write. Kinesis routes it to a shard by the MD5 of `partition_key`, and keeps
/// the order of records with the same key within a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1 to 256 Unicode characters.
    pub partition_key: String,
    /// Opaque bytes; Kinesis does not look inside.
    pub data: Vec<u8>,
}

impl Record {
    pub fn new(partition_key: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            partition_key: partition_key.into(),
            data: data.into(),
        }
    }
}

/// The fate of one record of a [`crate::Kinesis::put_records`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored: it will be read back with this sequence number from this shard.
    Ok {
        shard_id: String,
        sequence_number: String,
    },
    /// Not stored; the caller may send it again. `code` is
    /// `ProvisionedThroughputExceededException` or `InternalFailure` on AWS.
    Failed { code: String, message: String },
}

impl PutOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok { .. })
    }
}

/// Where a shard iterator (or a fan-out subscription) starts
/// ([ShardIteratorType](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html#Streams-GetShardIterator-request-ShardIteratorType)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The oldest record still in the shard.
    TrimHorizon,
    /// Just after the given record: how a consumer resumes from its checkpoint.
    AfterSequenceNumber(String),
    /// At the given record, included.
    AtSequenceNumber(String),
    /// Records written after the iterator is created.
    Latest,
    /// The first record at or after the given arrival time.
    AtTimestamp(SystemTime),
}

impl Start {
    /// Resume after `checkpoint`, or from the oldest record when there is none.
    pub fn after(checkpoint: Option<&str>) -> Self {
        match checkpoint {
            Some(seq) => Self::AfterSequenceNumber(seq.to_owned()),
            None => Self::TrimHorizon,
        }
    }

    pub(crate) fn iterator_type(&self) -> sdk::ShardIteratorType {
        match self {
            Self::TrimHorizon => sdk::ShardIteratorType::TrimHorizon,
            Self::AfterSequenceNumber(_) => sdk::ShardIteratorType::AfterSequenceNumber,
            Self::AtSequenceNumber(_) => sdk::ShardIteratorType::AtSequenceNumber,
            Self::Latest => sdk::ShardIteratorType::Latest,
            Self::AtTimestamp(_) => sdk::ShardIteratorType::AtTimestamp,
        }
    }

    pub(crate) fn sequence_number(&self) -> Option<&str> {
        match self {
            Self::AfterSequenceNumber(s) | Self::AtSequenceNumber(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn timestamp(&self) -> Option<aws_sdk_kinesis::primitives::DateTime> {
        match self {
            Self::AtTimestamp(t) => Some((*t).into()),
            _ => None,
        }
    }
}

/// A record read from a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRecord {
    /// Unique within the shard and increasing; compare with [`crate::cmp_sequence`].
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
    /// When Kinesis accepted the record (millisecond precision).
    pub approximate_arrival_timestamp: Option<SystemTime>,
}

impl ReceivedRecord {
    pub(crate) fn from_sdk(r: sdk::Record) -> Self {
        Self {
            approximate_arrival_timestamp: r
                .approximate_arrival_timestamp
                .and_then(|t| SystemTime::try_from(t).ok()),
            sequence_number: r.sequence_number,
            partition_key: r.partition_key.unwrap_or_default(),
            data: r.data.into_inner(),
        }
    }
}

/// A shard created by a reshard from the shard being read, as reported at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShard {
    pub shard_id: String,
    /// One parent for a split, two for a merge.
    pub parent_shards: Vec<String>,
}

impl ChildShard {
    pub(crate) fn from_sdk(c: &sdk::ChildShard) -> Self {
        Self {
            shard_id: c.shard_id().to_owned(),
            parent_shards: c.parent_shards().to_vec(),
        }
    }
}

/// What one [`crate::Kinesis::get_records`] call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRecordsOutput {
    pub records: Vec<ReceivedRecord>,
    /// The iterator for the next call; `None` once a closed shard has been read to its end.
    pub next_iterator: Option<String>,
    /// How far behind the tip of the shard this response is; 0 means caught up.
    pub millis_behind_latest: Option<i64>,
    /// Set at the end of a closed shard: the shards to read next.
    pub child_shards: Vec<ChildShard>,
}

/// An enhanced fan-out consumer registered on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub consumer_name: String,
    /// What [`crate::Kinesis::subscribe_to_shard`] takes.
    pub consumer_arn: String,
    /// `CREATING`, `ACTIVE` or `DELETING`.
    pub status: String,
}
