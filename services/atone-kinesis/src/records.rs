//! Writing records, and reading them with shard iterators.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use tracing::{debug, warn};

use crate::types::{ChildShard, GetRecordsOutput, PutOutcome, ReceivedRecord, Record, Start};
use crate::{Kinesis, KinesisError};

/// Most records one PutRecords call accepts.
pub const MAX_RECORDS_PER_PUT: usize = 500;
/// Most payload (data plus partition keys) this crate sends in one PutRecords call: the
/// classic 5 MiB request limit, which every stream accepts.
pub const MAX_BYTES_PER_PUT: usize = 5 * 1024 * 1024;
/// Most records one GetRecords call returns.
pub const MAX_GET_RECORDS_LIMIT: u32 = 10_000;

impl Kinesis {
    /// Writes `records` and reports, in input order, where each one went or why it failed.
    ///
    /// Any number of records may be given: they are sent in order, in as many PutRecords
    /// calls as it takes to keep each call within [`MAX_RECORDS_PER_PUT`] records and
    /// [`MAX_BYTES_PER_PUT`] bytes. A partial failure (`FailedRecordCount` > 0, typically
    /// throttling of one shard) is not an error: those records come back as
    /// [`PutOutcome::Failed`] and the caller decides whether to send them again, knowing that
    /// a resend puts the record after later records of the same partition key. A whole call
    /// that is throttled or cannot reach Kinesis is retried per the [`crate::RetryPolicy`];
    /// a call that timed out may have been stored, so a retry can store a record twice
    /// (Kinesis is at-least-once for producers too). If a later call fails for good, the
    /// error is returned and earlier calls' records stay written.
    ///
    /// A partition key must be 1 to 256 characters, otherwise nothing is sent.
    ///
    /// [PutRecords](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html)
    pub async fn put_records(&self, records: Vec<Record>) -> Result<Vec<PutOutcome>, KinesisError> {
        const OP: &str = "PutRecords";
        if let Some(bad) = records
            .iter()
            .find(|r| r.partition_key.is_empty() || r.partition_key.chars().count() > 256)
        {
            return Err(KinesisError::invalid(
                OP,
                format!(
                    "partition key must be 1 to 256 characters, got {} characters",
                    bad.partition_key.chars().count()
                ),
            ));
        }
        let mut outcomes = Vec::with_capacity(records.len());
        for chunk in chunks(records) {
            outcomes.extend(self.put_chunk(chunk).await?);
        }
        Ok(outcomes)
    }

    async fn put_chunk(&self, chunk: Vec<Record>) -> Result<Vec<PutOutcome>, KinesisError> {
        const OP: &str = "PutRecords";
        let sent = chunk.len();
        let entries = chunk
            .into_iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .partition_key(r.partition_key)
                    .data(Blob::new(r.data))
                    .build()
                    .map_err(|e| KinesisError::invalid(OP, e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .call(OP, || {
                self.client
                    .put_records()
                    .stream_name(&self.stream_name)
                    .set_records(Some(entries.clone()))
                    .send()
            })
            .await?;
        if out.records().len() != sent {
            return Err(KinesisError::unexpected(
                OP,
                format!("sent {sent} records, got {} results", out.records().len()),
            ));
        }
        let failed = out.failed_record_count().unwrap_or(0);
        if failed > 0 {
            warn!(stream = %self.stream_name, sent, failed, "put_records partially failed");
        } else {
            debug!(stream = %self.stream_name, sent, "records put");
        }
        Ok(out
            .records()
            .iter()
            .map(
                |e| match (e.shard_id(), e.sequence_number(), e.error_code()) {
                    (Some(shard_id), Some(seq), None) => PutOutcome::Ok {
                        shard_id: shard_id.to_owned(),
                        sequence_number: seq.to_owned(),
                    },
                    (_, _, code) => PutOutcome::Failed {
                        code: code.unwrap_or("Unknown").to_owned(),
                        message: e.error_message().unwrap_or_default().to_owned(),
                    },
                },
            )
            .collect())
    }

    /// A shard iterator for `shard_id` starting at `start`. It is valid for five minutes
    /// and is used with [`Kinesis::get_records`].
    ///
    /// [GetShardIterator](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html)
    pub async fn iterator(&self, shard_id: &str, start: Start) -> Result<String, KinesisError> {
        const OP: &str = "GetShardIterator";
        self.retry
            .run(OP, || self.iterator_once(shard_id, &start))
            .await
    }

    pub(crate) async fn iterator_once(
        &self,
        shard_id: &str,
        start: &Start,
    ) -> Result<String, KinesisError> {
        const OP: &str = "GetShardIterator";
        let out = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream_name)
            .shard_id(shard_id)
            .shard_iterator_type(start.iterator_type())
            .set_starting_sequence_number(start.sequence_number().map(str::to_owned))
            .set_timestamp(start.timestamp())
            .send()
            .await
            .map_err(|e| KinesisError::from_sdk(OP, e))?;
        out.shard_iterator
            .ok_or_else(|| KinesisError::unexpected(OP, "no ShardIterator in answer"))
    }

    /// Up to `limit` records (1 to [`MAX_GET_RECORDS_LIMIT`]) from `iterator`, with the next
    /// iterator. An empty answer with a next iterator is normal (nothing new yet, or a gap in
    /// the shard). `next_iterator: None` means the shard is closed and fully read;
    /// `child_shards` then tells where to go on.
    ///
    /// AWS allows 5 GetRecords calls per second per shard, shared by all polling consumers;
    /// [`crate::ShardReader`] keeps to that, this call does not.
    ///
    /// [GetRecords](https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html)
    pub async fn get_records(
        &self,
        iterator: &str,
        limit: u32,
    ) -> Result<GetRecordsOutput, KinesisError> {
        const OP: &str = "GetRecords";
        self.retry
            .run(OP, || self.get_records_once(iterator, limit))
            .await
    }

    pub(crate) async fn get_records_once(
        &self,
        iterator: &str,
        limit: u32,
    ) -> Result<GetRecordsOutput, KinesisError> {
        const OP: &str = "GetRecords";
        let limit = i32::try_from(limit.clamp(1, MAX_GET_RECORDS_LIMIT)).unwrap_or(10_000);
        let out = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(limit)
            .send()
            .await
            .map_err(|e| KinesisError::from_sdk(OP, e))?;
        Ok(GetRecordsOutput {
            child_shards: out
                .child_shards
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(ChildShard::from_sdk)
                .collect(),
            records: out
                .records
                .into_iter()
                .map(ReceivedRecord::from_sdk)
                .collect(),
            next_iterator: out.next_shard_iterator.filter(|i| !i.is_empty()),
            millis_behind_latest: out.millis_behind_latest,
        })
    }
}

/// Splits `records` into consecutive groups within the PutRecords limits, keeping order.
/// A single record larger than [`MAX_BYTES_PER_PUT`] goes alone (Kinesis judges it).
fn chunks(records: Vec<Record>) -> Vec<Vec<Record>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for r in records {
        let size = r.data.len() + r.partition_key.len();
        if !current.is_empty()
            && (current.len() == MAX_RECORDS_PER_PUT || bytes + size > MAX_BYTES_PER_PUT)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(r);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_count_and_size() {
        let small: Vec<_> = (0..1201)
            .map(|i| Record::new(i.to_string(), vec![0u8; 10]))
            .collect();
        let sizes: Vec<_> = chunks(small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [500, 500, 201]);

        // 2 MiB records: two fit in 5 MiB, the third starts a new call.
        let big: Vec<_> = (0..5)
            .map(|i| Record::new(format!("k{i}"), vec![0u8; 2 * 1024 * 1024]))
            .collect();
        let sizes: Vec<_> = chunks(big).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1]);

        let huge = vec![
            Record::new("k", vec![0u8; 6 * 1024 * 1024]),
            Record::new("k", vec![1]),
        ];
        let sizes: Vec<_> = chunks(huge).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 1]);
        assert!(chunks(Vec::new()).is_empty());

        // Order is kept across chunks.
        let ordered: Vec<_> = (0..700)
            .map(|i| Record::new("k", vec![(i % 256) as u8]))
            .collect();
        let flat: Vec<_> = chunks(ordered.clone()).into_iter().flatten().collect();
        assert_eq!(flat, ordered);
    }
}
