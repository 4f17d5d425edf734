use std::collections::HashSet;
use std::time::Duration;

use atone_kinesis::{
    Kinesis, KinesisConfig, KinesisError, PutOutcome, Record, RetryPolicy, Start, StreamStatus,
};
use tokio::time::Instant;

use crate::helpers::{TestStream, connect, endpoint, init_logs, put_all};

const MAX_HASH_KEY: &str = "340282366920938463463374607431768211455";

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn create_describe_list_and_delete() {
    let stream = TestStream::create("admin", 3).await;
    let k = &stream.kinesis;

    let d = k.describe().await.expect("describe");
    assert_eq!(d.status, StreamStatus::Active);
    assert_eq!(d.open_shard_count, 3);
    assert_eq!(d.stream_name, k.stream_name());
    assert!(
        d.stream_arn.contains(k.stream_name()),
        "arn {}",
        d.stream_arn
    );

    // Creating an existing stream is a no-op that waits for ACTIVE.
    let again = k.create_stream(3).await.expect("create again");
    assert_eq!(again.stream_arn, d.stream_arn);

    let mut shards = k.list_shards().await.expect("list_shards");
    assert_eq!(shards.len(), 3);
    assert!(
        shards
            .iter()
            .all(|s| !s.is_closed() && s.parent_shard_id.is_none())
    );
    // The hash key ranges tile the whole 128-bit key space.
    shards.sort_by(|a, b| atone_kinesis::cmp_sequence(&a.starting_hash_key, &b.starting_hash_key));
    assert_eq!(shards[0].starting_hash_key, "0");
    assert_eq!(shards[2].ending_hash_key, MAX_HASH_KEY);
    for pair in shards.windows(2) {
        let end: u128 = pair[0].ending_hash_key.parse().expect("hash key");
        let start: u128 = pair[1].starting_hash_key.parse().expect("hash key");
        assert_eq!(end + 1, start);
    }

    // Deleting waits until the stream is gone; deleting again is fine.
    k.delete_stream().await.expect("delete");
    assert!(matches!(
        k.describe().await,
        Err(KinesisError::ResourceNotFound { .. })
    ));
    k.delete_stream().await.expect("delete twice");
    let missing = k.list_shards().await;
    assert!(
        matches!(missing, Err(KinesisError::ResourceNotFound { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn arbitrary_bytes_come_back_byte_for_byte() {
    let stream = TestStream::create("bytes", 1).await;
    let k = &stream.kinesis;
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let mut noise = Vec::with_capacity(64 * 1024);
    let mut rng = fastrand::Rng::with_seed(7);
    noise.extend((0..64 * 1024).map(|_| rng.u8(..)));
    let payloads = vec![
        all_bytes,
        vec![0, 0, 0, 0xff, 0xfe, 0xc3, 0x28, b'\n', b'"', b'\\'],
        noise,
        vec![0],
    ];
    let records = payloads
        .iter()
        .map(|p| Record::new("bytes-key ✓", p.clone()))
        .collect();
    let placed = put_all(k, records).await;

    let shard = &placed[0].0;
    let iterator = k
        .iterator(shard, Start::TrimHorizon)
        .await
        .expect("iterator");
    let out = k.get_records(&iterator, 100).await.expect("get_records");
    let got: Vec<_> = out.records.iter().map(|r| r.data.clone()).collect();
    assert_eq!(got, payloads);
    assert!(out.records.iter().all(|r| r.partition_key == "bytes-key ✓"));
    let sequence_numbers: Vec<_> = out
        .records
        .iter()
        .map(|r| r.sequence_number.clone())
        .collect();
    let put: Vec<_> = placed.iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(sequence_numbers, put);
    assert!(
        out.records
            .iter()
            .all(|r| r.approximate_arrival_timestamp.is_some())
    );
    assert!(
        out.next_iterator.is_some(),
        "an open shard always has a next iterator"
    );
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn put_records_splits_large_inputs_and_iterators_position() {
    let stream = TestStream::create("split", 2).await;
    let k = &stream.kinesis;
    // 1,200 records: three PutRecords calls (500 + 500 + 200).
    let records: Vec<_> = (0..1200)
        .map(|i| Record::new(format!("k{}", i % 7), format!("r{i}").into_bytes()))
        .collect();
    let placed = put_all(k, records).await;
    let shards: HashSet<_> = placed.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(shards.len(), 2, "7 keys should land on both shards");

    // AT and AFTER a sequence number, and LATEST.
    let (shard, seq) = placed[600].clone();
    let at = k
        .iterator(&shard, Start::AtSequenceNumber(seq.clone()))
        .await
        .expect("at iterator");
    let first = k.get_records(&at, 1).await.expect("get at");
    assert_eq!(first.records[0].sequence_number, seq);
    assert_eq!(first.records[0].data, b"r600");
    let after = k
        .iterator(&shard, Start::AfterSequenceNumber(seq.clone()))
        .await
        .expect("after iterator");
    let next = k.get_records(&after, 1).await.expect("get after");
    let expected_next = placed[601..]
        .iter()
        .find(|(s, _)| *s == shard)
        .expect("a later record on the shard");
    assert_eq!(next.records[0].sequence_number, expected_next.1);

    let latest = k.iterator(&shard, Start::Latest).await.expect("latest");
    let nothing = k.get_records(&latest, 100).await.expect("get latest");
    assert!(nothing.records.is_empty());

    // A record with an invalid partition key is refused before anything is sent.
    let refused = k.put_records(vec![Record::new("", b"x".to_vec())]).await;
    assert!(matches!(refused, Err(KinesisError::InvalidArgument { .. })));
    let empty = k.put_records(Vec::new()).await.expect("nothing to put");
    assert!(empty.is_empty());
    assert!(
        PutOutcome::Ok {
            shard_id: shard,
            sequence_number: seq
        }
        .is_ok()
    );
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn unreachable_endpoint_is_unavailable_quickly() {
    init_logs();
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let endpoint = format!("http://127.0.0.1:{port}");

    // Default settings: 6 attempts, at most ~3.1 s of backoff.
    let k = connect(&endpoint, "nowhere").await;
    let started = Instant::now();
    let result = k.describe().await;
    let elapsed = started.elapsed();
    eprintln!("unreachable endpoint, default retries: {elapsed:?}");
    assert!(
        matches!(result, Err(KinesisError::Unavailable { .. })),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");

    // Without retries the answer is immediate, for every kind of call.
    let mut config = KinesisConfig::emulator(&endpoint, "nowhere");
    config.retry = RetryPolicy::none();
    let k = Kinesis::connect(config).await.expect("config");
    let started = Instant::now();
    let put = k.put_records(vec![Record::new("k", b"v".to_vec())]).await;
    assert!(
        matches!(put, Err(KinesisError::Unavailable { .. })),
        "{put:?}"
    );
    let get = k.get_records("no-such-iterator", 10).await;
    assert!(
        matches!(get, Err(KinesisError::Unavailable { .. })),
        "{get:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let e = k.list_shards().await.expect_err("no emulator there");
    assert!(e.is_transient());
    assert_eq!(e.operation(), "ListShards");
}

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn missing_stream_is_resource_not_found() {
    init_logs();
    let name = format!("atone-test-missing-{}", uuid::Uuid::now_v7().simple());
    let k = connect(&endpoint(), &name).await;
    let e = k.describe().await.expect_err("no such stream");
    assert!(matches!(e, KinesisError::ResourceNotFound { .. }), "{e:?}");
    let e = k
        .iterator("shardId-000000000000", Start::TrimHorizon)
        .await
        .expect_err("no such stream");
    assert!(matches!(e, KinesisError::ResourceNotFound { .. }), "{e:?}");
}
