//! A record on the stream that is not an EventEnvelope (written by something else) is
//! logged, counted in GetStatus and skipped; the shard goes on.

use std::time::Duration;

use atone_api::v1::command_service_client::CommandServiceClient;
use atone_kinesis::Record;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_record_is_skipped_counted_and_does_not_stop_the_shard() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 1).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let cluster = Cluster::start(&database, &stream, 1, "10s").await;
    let user = unique_user("after-garbage");

    let outcomes = stream
        .kinesis
        .put_records(vec![
            Record::new("someone-else", br#"{"event":"not ours"}"#.to_vec()),
            Record::new("someone-else", vec![0xff, 0x00, 0x13, 0x37]),
        ])
        .await
        .expect("put foreign records");
    assert!(outcomes.iter().all(|o| o.is_ok()));

    let reply = CommandServiceClient::new(cluster.command.channel().await)
        .purchase(purchase(&user, 3000, "after"))
        .await
        .expect("purchase")
        .into_inner();
    let member = member_at(&cluster.query, &user, reply.version).await;
    assert_eq!(
        member.promises.len(),
        1,
        "the shard went on past the foreign records"
    );

    let shard = eventually(
        Duration::from_secs(20),
        "the foreign records counted",
        || async {
            let shards = shard_status(&cluster.projectors[0]).await;
            shards.into_iter().find(|s| s.invalid_records == 2)
        },
    )
    .await;
    assert_eq!(shard.events_applied, 2);
    assert!(cluster.projectors[0].log_contains("record is not an EventEnvelope; skipped"));
    cluster.stop().await;
    stream.delete().await;
}
