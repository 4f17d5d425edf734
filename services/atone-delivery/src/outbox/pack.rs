//! How the relay packs outbox rows into Kinesis records, as the producer libraries
//! aggregate: the events of every member that maps to one shard go out together in one
//! record (an `EventRecord`), so the stream's record budget (1,000 records/s per shard)
//! is spent on many events at a time.
//!
//! Kinesis routes a record by the MD5 of its partition key. The relay knows the open
//! shards' hash-key ranges ([`ShardMap`]), so a record keyed by its first member lands
//! on the shard every other member in it maps to. Order: a member's rows of one call all
//! go into one record, in version order, and a member is in at most one record per
//! call, so a refused record holds back that member's later events until it is sent
//! again. When the map is out of date (a reshard the relay has not seen yet), Kinesis
//! puts a record on another shard than listed: its members of other shards are sent
//! again, with their later events, to their own shards ([`Packed::delivered`]), so each
//! member's events still come off its own shard in version order (the copy on the wrong
//! shard is a duplicate, which the projector skips, or the first copy, applied in order).

use std::collections::HashMap;
use std::ops::RangeInclusive;

use atone_api::envelope;
use atone_kinesis::{MAX_BYTES_PER_PUT, MAX_RECORDS_PER_PUT, Record, Shard};
use atone_storage::outbox::OutboxRow;
use md5::{Digest, Md5};

/// Most data one packed record carries. Kinesis takes records up to 1 MiB; a smaller one
/// keeps a call's records spread over the shards it writes to.
pub const RECORD_BYTES: usize = 256 * 1024;

/// The hash key Kinesis routes `partition_key` by: its MD5 as a 128-bit number.
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// The open shards' hash-key ranges, as ListShards told them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardMap {
    ranges: Vec<(u128, u128, String)>,
}

impl ShardMap {
    /// The open shards of `shards` (closed parents of a reshard take no writes).
    pub fn of(shards: &[Shard]) -> Self {
        let ranges = shards
            .iter()
            .filter(|s| !s.is_closed())
            .filter_map(|s| {
                let range = hash_range(s)?;
                Some((*range.start(), *range.end(), s.shard_id.clone()))
            })
            .collect();
        Self { ranges }
    }

    /// The shard Kinesis puts a record keyed `partition_key` on, as far as this map knows.
    pub fn shard_of(&self, partition_key: &str) -> Option<&str> {
        let key = hash_key(partition_key);
        self.ranges
            .iter()
            .find(|(start, end, _)| (*start..=*end).contains(&key))
            .map(|(_, _, id)| id.as_str())
    }
}

/// The hash keys a shard takes, when its listing gives them as numbers.
fn hash_range(shard: &Shard) -> Option<RangeInclusive<u128>> {
    let start = shard.starting_hash_key.parse().ok()?;
    let end = shard.ending_hash_key.parse().ok()?;
    Some(start..=end)
}

/// One record to send, and the outbox rows it delivers.
///
/// When Kinesis puts it on another shard than `shard` (the map was out of date: a reshard
/// happened since it was listed), the members that do not belong there are not
/// delivered: their rows stay in the outbox and go again, with a fresh map, to their own
/// shard.
#[derive(Debug, Clone, PartialEq)]
pub struct Packed {
    pub record: Record,
    /// The shard the map routes it to; `None` for a record keyed by its only member.
    pub shard: Option<String>,
    /// Each member's rows (ids), in the record's order: deleted once delivered.
    pub members: Vec<(String, Vec<i64>)>,
}

impl Packed {
    /// Every row the record carries.
    pub fn rows(&self) -> impl Iterator<Item = i64> + '_ {
        self.members
            .iter()
            .flat_map(|(_, rows)| rows.iter().copied())
    }

    /// The rows Kinesis delivered to their own shard, the record having gone to
    /// `actual_shard`; `map` is a fresh listing, `None` when it could not be had.
    pub fn delivered(&self, actual_shard: &str, map: Option<&ShardMap>) -> Vec<i64> {
        if self.shard.is_none() || self.shard.as_deref() == Some(actual_shard) {
            return self.rows().collect();
        }
        let Some(map) = map else {
            return Vec::new();
        };
        self.members
            .iter()
            .filter(|(user_id, _)| map.shard_of(user_id) == Some(actual_shard))
            .flat_map(|(_, rows)| rows.iter().copied())
            .collect()
    }
}

/// Packs `rows` (oldest first) into at most one call's records. Without a map (ListShards
/// failed) each member gets a record of its own. Rows that do not fit stay for the next
/// call; the oldest row always fits.
pub fn pack(rows: &[OutboxRow], map: Option<&ShardMap>) -> Vec<Packed> {
    // Each member's rows, members in the order of their oldest row.
    let mut members: Vec<(&str, Vec<&OutboxRow>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for row in rows {
        let i = *index.entry(&row.user_id).or_insert_with(|| {
            members.push((&row.user_id, Vec::new()));
            members.len() - 1
        });
        members[i].1.push(row);
    }
    let mut records: Vec<Building> = Vec::new();
    // The record being filled for each shard (or member, without a map).
    let mut open: HashMap<&str, usize> = HashMap::new();
    let mut call_bytes = 0;
    for (user_id, rows) in members {
        let shard = map.and_then(|m| m.shard_of(user_id));
        let group = shard.unwrap_or(user_id);
        let fits = fitting(&rows);
        let size: usize = fits
            .iter()
            .map(|r| envelope::packed_size(r.envelope.len()))
            .sum();
        let joins = open
            .get(group)
            .copied()
            .filter(|&i| records[i].bytes + size <= RECORD_BYTES);
        let needed = size + joins.map_or(user_id.len() + envelope::PACKED_PREFIX.len(), |_| 0);
        let full = joins.is_none() && records.len() == MAX_RECORDS_PER_PUT;
        if full || (call_bytes > 0 && call_bytes + needed > MAX_BYTES_PER_PUT) {
            break;
        }
        let target = joins.unwrap_or_else(|| {
            records.push(Building::new(user_id, shard));
            open.insert(group, records.len() - 1);
            records.len() - 1
        });
        call_bytes += needed;
        records[target].add(user_id, &fits, size);
    }
    records.into_iter().map(Building::finish).collect()
}

/// The oldest of a member's rows that fit one record (at least one).
fn fitting<'a>(rows: &[&'a OutboxRow]) -> Vec<&'a OutboxRow> {
    let mut size = envelope::PACKED_PREFIX.len();
    let mut fits = Vec::new();
    for row in rows {
        size += envelope::packed_size(row.envelope.len());
        if size > RECORD_BYTES && !fits.is_empty() {
            break;
        }
        fits.push(*row);
    }
    fits
}

struct Building<'a> {
    partition_key: &'a str,
    shard: Option<&'a str>,
    envelopes: Vec<&'a [u8]>,
    members: Vec<(String, Vec<i64>)>,
    bytes: usize,
}

impl<'a> Building<'a> {
    fn new(partition_key: &'a str, shard: Option<&'a str>) -> Self {
        Self {
            partition_key,
            shard,
            envelopes: Vec::new(),
            members: Vec::new(),
            bytes: envelope::PACKED_PREFIX.len(),
        }
    }

    fn add(&mut self, user_id: &str, rows: &[&'a OutboxRow], size: usize) {
        self.envelopes
            .extend(rows.iter().map(|r| r.envelope.as_slice()));
        self.members
            .push((user_id.to_owned(), rows.iter().map(|r| r.id).collect()));
        self.bytes += size;
    }

    fn finish(self) -> Packed {
        Packed {
            record: Record::new(self.partition_key, envelope::pack(self.envelopes)),
            shard: self.shard.map(str::to_owned),
            members: self.members,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, user_id: &str, version: i64, bytes: usize) -> OutboxRow {
        OutboxRow {
            id,
            user_id: user_id.into(),
            version,
            envelope: vec![0x0A; bytes],
            created_at: chrono::Utc::now(),
        }
    }

    fn shards(n: u128) -> Vec<Shard> {
        let width = u128::MAX / n;
        (0..n)
            .map(|i| Shard {
                shard_id: format!("shard-{i}"),
                parent_shard_id: None,
                adjacent_parent_shard_id: None,
                starting_hash_key: (i * width).to_string(),
                ending_hash_key: if i == n - 1 {
                    u128::MAX.to_string()
                } else {
                    ((i + 1) * width - 1).to_string()
                },
                starting_sequence_number: "0".into(),
                ending_sequence_number: None,
            })
            .collect()
    }

    /// Every row of `packed` in the order the records carry them.
    fn delivered(packed: &[Packed]) -> Vec<i64> {
        packed.iter().flat_map(Packed::rows).collect()
    }

    #[test]
    fn the_hash_key_is_kinesis_md5() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(hash_key("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn members_of_one_shard_share_a_record_keyed_by_one_of_them() {
        let map = ShardMap::of(&shards(4));
        let rows: Vec<OutboxRow> = (0..200)
            .map(|i| row(i, &format!("member-{}", i % 50), i / 50 + 1, 100))
            .collect();
        let packed = pack(&rows, Some(&map));
        assert_eq!(packed.len(), 4, "one record per shard");
        let mut all = delivered(&packed);
        all.sort_unstable();
        assert_eq!(all, (0..200).collect::<Vec<_>>(), "every row once");
        for p in &packed {
            let shard = map.shard_of(&p.record.partition_key).unwrap();
            let decoded = envelope::unpack(&p.record.data);
            assert_eq!(decoded.len(), p.rows().count());
            assert_eq!(p.shard.as_deref(), Some(shard));
            for id in p.rows() {
                let user = &rows[id as usize].user_id;
                assert_eq!(
                    map.shard_of(user),
                    Some(shard),
                    "{user} is in the record of its shard"
                );
            }
            // A member's rows are together and in version order.
            let mut last: HashMap<&str, i64> = HashMap::new();
            for id in p.rows() {
                let r = &rows[id as usize];
                let before = last.insert(&r.user_id, r.version).unwrap_or(0);
                assert_eq!(r.version, before + 1);
            }
        }
    }

    #[test]
    fn without_a_map_each_member_gets_its_own_record() {
        let rows = vec![row(1, "a", 1, 10), row(2, "b", 1, 10), row(3, "a", 2, 10)];
        let packed = pack(&rows, None);
        assert_eq!(packed.len(), 2);
        assert_eq!(packed[0].record.partition_key, "a");
        assert_eq!(packed[0].rows().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(packed[1].rows().collect::<Vec<_>>(), vec![2]);
        assert_eq!(packed[0].shard, None);
    }

    #[test]
    fn a_full_record_closes_at_a_member_boundary() {
        let map = ShardMap::of(&shards(1));
        // Three members of ~100 KiB each: two fit one record, the third starts another.
        let rows: Vec<OutboxRow> = (0..6)
            .map(|i| row(i, &format!("m{}", i / 2), i % 2 + 1, 50 * 1024))
            .collect();
        let packed = pack(&rows, Some(&map));
        assert_eq!(packed.len(), 2);
        assert_eq!(delivered(&packed[..1]), vec![0, 1, 2, 3]);
        assert_eq!(delivered(&packed[1..]), vec![4, 5]);
        assert!(packed.iter().all(|p| p.record.data.len() <= RECORD_BYTES));
    }

    #[test]
    fn a_member_with_more_than_a_record_sends_its_oldest_rows_first() {
        let rows: Vec<OutboxRow> = (0..8).map(|i| row(i, "big", i + 1, 100 * 1024)).collect();
        let packed = pack(&rows, Some(&ShardMap::of(&shards(2))));
        assert_eq!(packed.len(), 1, "a member is in one record per call");
        assert_eq!(delivered(&packed), vec![0, 1]);
        // One row bigger than a record still goes, alone.
        let huge = vec![row(1, "huge", 1, RECORD_BYTES + 10), row(2, "huge", 2, 10)];
        assert_eq!(delivered(&pack(&huge, None)), vec![1]);
    }

    #[test]
    fn a_call_stays_within_the_put_records_limits() {
        let rows: Vec<OutboxRow> = (0..2_000)
            .map(|i| row(i, &format!("m{i}"), 1, 8 * 1024))
            .collect();
        let packed = pack(&rows, None);
        assert!(packed.len() <= MAX_RECORDS_PER_PUT);
        let bytes: usize = packed
            .iter()
            .map(|p| p.record.data.len() + p.record.partition_key.len())
            .sum();
        assert!(bytes <= MAX_BYTES_PER_PUT, "{bytes}");
        // What was left out is the newest, so the next call goes on in order.
        let sent = delivered(&packed);
        assert_eq!(sent, (0..sent.len() as i64).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_put_on_another_shard_delivers_only_the_members_of_that_shard() {
        // Listed before a reshard: one shard. Kinesis now has two, and the record (keyed by
        // its first member) went to one of them.
        let before = ShardMap::of(&shards(1));
        let mut after_shards = shards(2);
        for s in &mut after_shards {
            s.shard_id = format!("child-{}", s.shard_id);
        }
        let after = ShardMap::of(&after_shards);
        let rows: Vec<OutboxRow> = (0..40).map(|i| row(i, &format!("m{i}"), 1, 10)).collect();
        let packed = pack(&rows, Some(&before));
        assert_eq!(packed.len(), 1);
        let record = &packed[0];
        let actual = after.shard_of(&record.record.partition_key).unwrap();
        let delivered = record.delivered(actual, Some(&after));
        let expected: Vec<i64> = rows
            .iter()
            .filter(|r| after.shard_of(&r.user_id) == Some(actual))
            .map(|r| r.id)
            .collect();
        assert_eq!(delivered, expected);
        assert!(
            !delivered.is_empty() && delivered.len() < 40,
            "{delivered:?}"
        );
        let range =
            hash_range(after_shards.iter().find(|s| s.shard_id == actual).unwrap()).unwrap();
        for r in &rows {
            assert_eq!(
                range.contains(&hash_key(&r.user_id)),
                delivered.contains(&r.id)
            );
        }
        // Without a fresh map nothing counts as delivered; on its own shard, everything.
        assert!(record.delivered(actual, None).is_empty());
        assert_eq!(record.delivered("shard-0", None).len(), 40);
    }

    #[test]
    fn closed_shards_are_left_out_of_the_map() {
        let mut all = shards(2);
        all[0].ending_sequence_number = Some("9".into());
        let map = ShardMap::of(&all);
        let routed: Vec<_> = (0..20)
            .filter_map(|i| map.shard_of(&format!("m{i}")).map(str::to_owned))
            .collect();
        assert!(routed.iter().all(|s| s == "shard-1"));
    }
}
