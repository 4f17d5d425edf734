use std::time::Duration;

use atone_kinesis::{ReadMode, ReaderConfig, Record, ShardReader, Start};

use crate::helpers::{TestStream, put_all, read_until};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator: run with --features kinesis-tests (scripts/test does)"
)]
async fn fan_out_reader_gets_pushed_records_and_resumes() {
    let stream = TestStream::create("fanout", 1).await;
    let k = &stream.kinesis;
    // Consumer names unique across streams: kinesis-mock 0.6.2 deregisters a consumer by
    // name in whichever stream it finds it first.
    let name = format!("atone-test-{}", uuid::Uuid::now_v7().simple());
    let consumer = k.register_consumer(&name).await.expect("register_consumer");
    assert_eq!(consumer.status, "ACTIVE");
    // Registering again finds the same consumer.
    let again = k.register_consumer(&name).await.expect("register again");
    assert_eq!(again.consumer_arn, consumer.consumer_arn);

    let placed = put_all(
        k,
        (0..20)
            .map(|i| Record::new("fan", format!("f{i}").into_bytes()))
            .collect(),
    )
    .await;
    let shard = placed[0].0.clone();
    let config = ReaderConfig {
        mode: ReadMode::FanOut {
            consumer_arn: consumer.consumer_arn.clone(),
        },
        ..ReaderConfig::default()
    };
    let mut reader =
        ShardReader::new(k.clone(), shard.clone(), None, config.clone()).expect("reader");
    let read = read_until(&mut reader, READ_TIMEOUT, |all, _| all.len() >= 20).await;
    let got: Vec<_> = read.iter().map(|r| r.sequence_number.clone()).collect();
    let want: Vec<_> = placed.iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(read[19].data, b"f19");

    // Records written while subscribed are pushed too.
    let more = put_all(k, vec![Record::new("fan", b"f20".to_vec())]).await;
    let pushed = read_until(&mut reader, READ_TIMEOUT, |all, _| !all.is_empty()).await;
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].sequence_number, more[0].1);

    // Resuming from a checkpoint with a new subscription yields exactly what follows it.
    // One subscription per consumer and shard: the first reader goes away first.
    drop(reader);
    let mut resumed = ShardReader::new(
        k.clone(),
        shard.clone(),
        Some(placed[14].1.clone()),
        config.clone(),
    )
    .expect("reader");
    let rest = read_until(&mut resumed, READ_TIMEOUT, |all, _| all.len() >= 6).await;
    let got: Vec<_> = rest.iter().map(|r| r.sequence_number.clone()).collect();
    let mut want: Vec<_> = placed[15..].iter().map(|(_, s)| s.clone()).collect();
    want.push(more[0].1.clone());
    assert_eq!(got, want);
    assert!(resumed.stats().subscribe_calls >= 1);

    // The plain subscription API (once the reader's subscription is gone).
    drop(resumed);
    let mut sub = k
        .subscribe_to_shard(
            &consumer.consumer_arn,
            &shard,
            Start::AtSequenceNumber(placed[3].1.clone()),
        )
        .await
        .expect("subscribe_to_shard");
    let event = loop {
        let e = sub.next_event().await.expect("next_event");
        if !e.records.is_empty() {
            break e;
        }
    };
    assert_eq!(event.records[0].sequence_number, placed[3].1);
    drop(sub);

    // After a reshard the fan-out reader drains the closed shard and names its children.
    k.update_shard_count(2).await.expect("update_shard_count");
    let children: Vec<String> = k
        .list_shards()
        .await
        .expect("list_shards")
        .into_iter()
        .filter(|s| s.parent_shard_id.as_deref() == Some(shard.as_str()))
        .map(|s| s.shard_id)
        .collect();
    assert_eq!(children.len(), 2);
    let mut reader = ShardReader::new(k.clone(), shard.clone(), Some(placed[17].1.clone()), config)
        .expect("reader");
    let mut end = None;
    let rest = read_until(&mut reader, READ_TIMEOUT, |_, b| {
        end.clone_from(&b.end_of_shard);
        b.end_of_shard.is_some()
    })
    .await;
    assert_eq!(rest.len(), 3, "f18, f19, f20");
    let mut end = end.expect("end of shard");
    end.sort();
    assert_eq!(end, children);
    assert!(reader.is_finished());
    drop(reader);
    k.deregister_consumer(&consumer.consumer_arn)
        .await
        .expect("deregister");
}
