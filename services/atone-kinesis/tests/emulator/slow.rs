//! Behaviours that need Kinesis' five-minute clocks: iterator expiry and the end of a
//! fan-out subscription. Run with `cargo test -p atone-kinesis -- --ignored`.

use std::time::Duration;

use atone_kinesis::{ReadMode, ReaderConfig, Record, ShardReader};
use tokio::time::Instant;

use crate::helpers::{TestStream, put_all, read_until};

const READ_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test]
#[ignore = "takes about 5.5 minutes: waits for a shard iterator to expire"]
async fn expired_iterator_is_replaced_after_the_position() {
    let stream = TestStream::create("expiry", 1).await;
    let k = &stream.kinesis;
    let first = put_all(k, vec![Record::new("k", b"before".to_vec())]).await;
    let shard = first[0].0.clone();
    let mut reader =
        ShardReader::new(k.clone(), shard, None, ReaderConfig::default()).expect("reader");
    let read = read_until(&mut reader, READ_TIMEOUT, |all, _| !all.is_empty()).await;
    assert_eq!(read[0].sequence_number, first[0].1);

    // Leave the reader's iterator unused past its five-minute lifetime.
    tokio::time::sleep(Duration::from_secs(5 * 60 + 15)).await;
    let later = put_all(k, vec![Record::new("k", b"after".to_vec())]).await;
    let read = read_until(&mut reader, READ_TIMEOUT, |all, _| !all.is_empty()).await;
    assert_eq!(read.len(), 1, "nothing skipped, nothing repeated: {read:?}");
    assert_eq!(read[0].sequence_number, later[0].1);
    let stats = reader.stats();
    eprintln!("after expiry: {stats:?}");
    assert_eq!(stats.expired_iterators, 1);
    assert_eq!(stats.get_shard_iterator_calls, 2);
}

#[tokio::test]
#[ignore = "takes about 5.5 minutes: waits for a fan-out subscription to end"]
async fn fan_out_reader_subscribes_again_when_a_subscription_ends() {
    let stream = TestStream::create("renew", 1).await;
    let k = &stream.kinesis;
    let name = format!("renew-{}", uuid::Uuid::now_v7().simple());
    let consumer = k.register_consumer(&name).await.expect("register");
    let shard = k.list_shards().await.expect("list")[0].shard_id.clone();
    let config = ReaderConfig {
        mode: ReadMode::FanOut {
            consumer_arn: consumer.consumer_arn,
        },
        ..ReaderConfig::default()
    };
    let mut reader = ShardReader::new(k.clone(), shard, None, config).expect("reader");

    // A record every 10 s for 5.5 minutes, read as they come.
    let started = Instant::now();
    let mut written = Vec::new();
    let mut read = Vec::new();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(330) {
        let placed = put_all(k, vec![Record::new("k", format!("r{i}").into_bytes())]).await;
        written.push(placed[0].1.clone());
        i += 1;
        let want = written.len();
        read.extend(
            read_until(&mut reader, READ_TIMEOUT, |all, _| {
                read.len() + all.len() >= want
            })
            .await,
        );
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let got: Vec<_> = read.iter().map(|r| r.sequence_number.clone()).collect();
    assert_eq!(
        got, written,
        "every record once, in order, across subscriptions"
    );
    let stats = reader.stats();
    eprintln!("fan-out over {:?}: {stats:?}", started.elapsed());
    assert!(stats.subscribe_calls >= 2, "{stats:?}");
}
