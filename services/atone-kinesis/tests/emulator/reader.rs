use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use atone_kinesis::{ReaderConfig, Record, ShardReader, cmp_sequence};
use tokio::time::Instant;

use crate::helpers::{TestStream, per_shard, put_all, read_until};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

fn record(key: &str, i: usize) -> Record {
    Record::new(key, format!("{key}/{i}").into_bytes())
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn reads_every_record_exactly_once_in_partition_key_order() {
    let stream = TestStream::create("exactly-once", 4).await;
    let k = &stream.kinesis;
    let keys: Vec<String> = (0..16).map(|i| format!("member-{i}")).collect();
    let records: Vec<_> = (0..200).map(|i| record(&keys[i % keys.len()], i)).collect();
    let sent: Vec<_> = records
        .iter()
        .map(|r| (r.partition_key.clone(), r.data.clone()))
        .collect();
    let placed = put_all(k, records).await;
    let expected = per_shard(&placed);
    assert_eq!(
        expected.len(),
        4,
        "200 records over 16 keys reach all 4 shards: {expected:?}"
    );

    // One reader per shard, concurrently, from TRIM_HORIZON.
    let mut tasks = Vec::new();
    for (shard, count) in expected.clone() {
        let mut reader =
            ShardReader::new(k.clone(), shard, None, ReaderConfig::default()).expect("reader");
        tasks.push(tokio::spawn(async move {
            let mut read = read_until(&mut reader, READ_TIMEOUT, |all, _| all.len() >= count).await;
            // Caught up: one more batch must bring nothing new (no duplicates).
            let extra = reader.next_batch().await.expect("next_batch");
            assert!(
                extra.records.is_empty(),
                "records read twice: {:?}",
                extra.records
            );
            assert_eq!(extra.millis_behind_latest, Some(0));
            read.extend(extra.records);
            (reader.shard_id().to_owned(), read, reader.stats())
        }));
    }
    let mut by_key: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        let (shard, read, stats) = task.await.expect("reader task");
        assert_eq!(read.len(), expected[&shard], "shard {shard}");
        assert!(stats.get_records_calls >= 1);
        assert_eq!(stats.get_shard_iterator_calls, 1);
        for pair in read.windows(2) {
            assert!(cmp_sequence(&pair[0].sequence_number, &pair[1].sequence_number).is_lt());
        }
        for r in read {
            assert!(
                seen.insert(r.sequence_number.clone()),
                "duplicate {}",
                r.sequence_number
            );
            by_key.entry(r.partition_key).or_default().push(r.data);
            total += 1;
        }
    }
    assert_eq!(total, 200);
    let put_sequences: HashSet<_> = placed.iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(seen, put_sequences);
    // Per partition key, the read order is the put order.
    let mut sent_by_key: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    for (key, data) in sent {
        sent_by_key.entry(key).or_default().push(data);
    }
    assert_eq!(by_key, sent_by_key);
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn resumes_after_a_checkpoint_and_rereads_after_reset() {
    let stream = TestStream::create("resume", 1).await;
    let k = &stream.kinesis;
    let records: Vec<_> = (0..30).map(|i| record("one-key", i)).collect();
    let placed = put_all(k, records).await;
    let shard = placed[0].0.clone();
    let checkpoint = placed[9].1.clone();

    let mut reader = ShardReader::new(
        k.clone(),
        shard.clone(),
        Some(checkpoint.clone()),
        ReaderConfig::default(),
    )
    .expect("reader");
    let read = read_until(&mut reader, READ_TIMEOUT, |all, _| all.len() >= 20).await;
    let got: Vec<_> = read.iter().map(|r| r.sequence_number.clone()).collect();
    let want: Vec<_> = placed[10..].iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(got, want, "exactly the records after the checkpoint");
    assert_eq!(read[0].data, b"one-key/10");
    assert_eq!(reader.position(), Some(placed[29].1.as_str()));

    // A failed apply: go back to the checkpoint and get the same records again.
    reader.reset_to(Some(checkpoint));
    let again = read_until(&mut reader, READ_TIMEOUT, |all, _| all.len() >= 20).await;
    assert_eq!(again, read);

    // Resuming from the last record: nothing more, until something new is written.
    reader.reset_to(Some(placed[29].1.clone()));
    let batch = reader.next_batch().await.expect("next_batch");
    assert!(batch.records.is_empty());
    let later = put_all(k, vec![record("one-key", 30)]).await;
    let read = read_until(&mut reader, READ_TIMEOUT, |all, _| !all.is_empty()).await;
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].sequence_number, later[0].1);

    // From TRIM_HORIZON (no checkpoint) a reset reads everything.
    reader.reset_to(None);
    let all = read_until(&mut reader, READ_TIMEOUT, |all, _| all.len() >= 31).await;
    assert_eq!(all.len(), 31);
    assert_eq!(all[0].sequence_number, placed[0].1);
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn reshard_closes_parents_and_readers_reach_their_children() {
    let stream = TestStream::create("reshard", 2).await;
    let k = &stream.kinesis;
    let before = put_all(
        k,
        (0..40).map(|i| record(&format!("k{}", i % 8), i)).collect(),
    )
    .await;
    let parents: HashSet<String> = k
        .list_shards()
        .await
        .expect("list_shards")
        .into_iter()
        .map(|s| s.shard_id)
        .collect();
    assert_eq!(parents.len(), 2);

    let d = k.update_shard_count(4).await.expect("update_shard_count");
    assert_eq!(d.open_shard_count, 4);

    let shards = k.list_shards().await.expect("list_shards");
    let closed: Vec<_> = shards.iter().filter(|s| s.is_closed()).collect();
    let open: Vec<_> = shards.iter().filter(|s| !s.is_closed()).collect();
    assert_eq!(open.len(), 4, "{shards:#?}");
    let closed_ids: HashSet<String> = closed.iter().map(|s| s.shard_id.clone()).collect();
    assert!(
        parents.is_subset(&closed_ids),
        "the old shards are closed: {shards:#?}"
    );
    for child in &open {
        assert!(
            child.parents().any(|p| parents.contains(p)),
            "child {} names a parent: {shards:#?}",
            child.shard_id
        );
    }
    // Writes after the reshard go to the children.
    let after = put_all(
        k,
        (40..60)
            .map(|i| record(&format!("k{}", i % 8), i))
            .collect(),
    )
    .await;
    assert!(after.iter().all(|(s, _)| !closed_ids.contains(s)));

    // Reading each closed parent: all its records, then end of shard naming its children.
    let per_parent = per_shard(&before);
    for parent in &parents {
        let children: HashSet<String> = shards
            .iter()
            .filter(|s| s.parents().any(|p| p == parent))
            .map(|s| s.shard_id.clone())
            .collect();
        let mut reader = ShardReader::new(k.clone(), parent.clone(), None, ReaderConfig::default())
            .expect("reader");
        let read = read_until(&mut reader, READ_TIMEOUT, |_, b| b.end_of_shard.is_some()).await;
        assert_eq!(
            read.len(),
            per_parent.get(parent).copied().unwrap_or(0),
            "parent {parent}"
        );
        assert!(reader.is_finished());
        let end = reader.next_batch().await.expect("after the end");
        let reported: HashSet<String> = end
            .end_of_shard
            .expect("still at the end")
            .into_iter()
            .collect();
        assert_eq!(reported, children, "children of {parent}");
        assert!(!reported.is_empty());
        assert!(end.records.is_empty());
    }

    // A child resumes the partition keys where the parents left off.
    let per_child = per_shard(&after);
    let mut keys_after: BTreeMap<String, usize> = BTreeMap::new();
    for (shard, count) in per_child {
        let mut reader =
            ShardReader::new(k.clone(), shard, None, ReaderConfig::default()).expect("reader");
        let read = read_until(&mut reader, READ_TIMEOUT, |all, _| all.len() >= count).await;
        for r in read {
            *keys_after.entry(r.partition_key).or_default() += 1;
        }
    }
    assert_eq!(keys_after.values().sum::<usize>(), 20);
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn get_records_rate_stays_within_the_limit() {
    let stream = TestStream::create("rate", 1).await;
    let k = stream.kinesis.clone();
    let shard = k.list_shards().await.expect("list_shards")[0]
        .shard_id
        .clone();

    // A producer keeps records coming for the whole window, so the reader never idles and
    // would poll as fast as it could without the limit.
    let producer = {
        let k = k.clone();
        tokio::spawn(async move {
            let mut i = 0;
            loop {
                let batch = (0..5).map(|j| record("busy", i * 5 + j)).collect();
                if k.put_records(batch).await.is_err() {
                    return;
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut busy_calls = Vec::new();
    for rate in [5.0, 2.0] {
        let config = ReaderConfig {
            max_get_records_per_second: rate,
            batch_limit: 3, // small batches: there is always more to read
            ..ReaderConfig::default()
        };
        let mut reader = ShardReader::new(k.clone(), shard.clone(), None, config).expect("reader");
        let window = Duration::from_secs(3);
        let started = Instant::now();
        let mut records = 0;
        while started.elapsed() < window {
            records += reader.next_batch().await.expect("next_batch").records.len();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let calls = reader.stats().get_records_calls;
        // Calls are at least 1/rate apart: in `elapsed` seconds at most rate*elapsed + 1.
        let allowed = (rate * elapsed).floor() as u64 + 1;
        eprintln!("rate {rate}/s: {calls} GetRecords calls in {elapsed:.2}s, {records} records");
        assert!(
            calls <= allowed,
            "{calls} calls in {elapsed:.2}s at {rate}/s"
        );
        assert!(records > 0);
        busy_calls.push(calls);
    }
    producer.abort();

    // Idle: the pause grows to max_idle_backoff (1 s), so far fewer calls than 5/s.
    let mut reader =
        ShardReader::new(k.clone(), shard.clone(), None, ReaderConfig::default()).expect("reader");
    read_until(&mut reader, READ_TIMEOUT, |_, b| {
        b.records.is_empty() && b.millis_behind_latest == Some(0)
    })
    .await;
    let calls_before = reader.stats().get_records_calls;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let batch = reader.next_batch().await.expect("next_batch");
        assert!(batch.records.is_empty());
    }
    let idle_calls = reader.stats().get_records_calls - calls_before;
    eprintln!(
        "idle: {idle_calls} GetRecords calls in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    assert!(idle_calls <= 6, "{idle_calls} calls in 3 s while idle");
    // While records kept coming the reader polled faster than while idle (not a timing
    // benchmark: only the order of the two counts is checked).
    assert!(
        busy_calls[0] > idle_calls,
        "busy {busy_calls:?} vs idle {idle_calls}"
    );
}
