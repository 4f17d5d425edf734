//! A record on the stream that is not an EventEnvelope (written by something else), or is
//! one but not an event of the event store (a forgery), is logged, counted in GetStatus and
//! skipped; the shard goes on.

use std::time::Duration;

use atone_api::envelope;
use atone_api::v1::command_service_client::CommandServiceClient;
use atone_kinesis::Record;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
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

/// A record that decodes as an event envelope but is not an event of the event store (a
/// forgery: an event id the store never made) is counted and set aside, never applied; a
/// record that reuses a real event's id with other content has the store's copy applied
/// (nothing new) and is counted too; the shard goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_forged_envelope_is_counted_and_never_applied() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 1).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let db = database.connect().await;
    let cluster = Cluster::start(&database, &stream, 1, "10s").await;
    let mut command = CommandServiceClient::new(cluster.command.channel().await);
    let (someone, victim) = (unique_user("someone"), unique_user("victim"));

    // A real purchase of someone else's, to forge from.
    let theirs = command
        .purchase(purchase(&someone, 40_000, "theirs"))
        .await
        .expect("purchase")
        .into_inner();
    member_at(&cluster.query, &someone, theirs.version).await;
    let real = atone_storage::event_store::read_stream(&db, &someone, 0, None)
        .await
        .expect("their events");
    let forged: Vec<Record> = real
        .iter()
        .map(|envelope| {
            let mut forged = envelope.clone();
            forged.event_id = uuid::Uuid::now_v7();
            forged.user_id = victim.clone();
            Record::new(&victim, envelope::encode(&forged))
        })
        .collect();
    let forged_count = forged.len() as i64;
    let outcomes = stream.kinesis.put_records(forged).await.expect("put");
    assert!(outcomes.iter().all(|o| o.is_ok()));

    // The victim's own purchase, after the forgery on the same shard.
    let mine = command
        .purchase(purchase(&victim, 2000, "mine"))
        .await
        .expect("purchase")
        .into_inner();
    let member = member_at(&cluster.query, &victim, mine.version).await;
    let orders: Vec<&str> = member
        .promises
        .iter()
        .map(|p| p.order_id.as_str())
        .collect();
    assert_eq!(
        orders,
        [mine.order_id.as_str()],
        "only the victim's own purchase"
    );
    assert_eq!(
        member.summary.as_ref().map(|m| m.outstanding_amount),
        Some(2000)
    );

    // A real event of the victim's again, with its content changed.
    let mut altered = atone_storage::event_store::read_stream(&db, &victim, 0, Some(1))
        .await
        .expect("the victim's first event")
        .remove(0);
    altered.recorded.idempotency_key = "tampered".into();
    stream
        .kinesis
        .put_records(vec![Record::new(&victim, envelope::encode(&altered))])
        .await
        .expect("put");

    let shard = eventually(
        Duration::from_secs(30),
        "the forged and altered records counted",
        || async {
            let shards = shard_status(&cluster.projectors[0]).await;
            shards
                .into_iter()
                .find(|s| s.invalid_records == forged_count + 1)
        },
    )
    .await;
    assert_eq!(
        shard.events_applied,
        (real.len() + 2) as i64,
        "their events and the victim's two, nothing forged"
    );
    let member = member_at(&cluster.query, &victim, mine.version).await;
    assert_eq!(member.summary.map(|m| m.version), Some(mine.version));
    assert!(cluster.projectors[0].log_contains("not an event of the event store; set aside"));
    assert!(cluster.projectors[0].log_contains("differs from the event store's copy"));
    assert_read_models_match_event_store(&db).await;
    cluster.stop().await;
    stream.delete().await;
}
