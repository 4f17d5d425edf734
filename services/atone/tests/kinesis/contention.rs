//! Projectors of different shards share no member, so they never wait on each other's
//! locks: under load, two projectors' batches commit without a single deadlock or
//! lock-wait timeout to retry.

use std::sync::{Arc, Mutex};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn two_projectors_under_load_never_retry_a_batch_on_a_lock() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 4).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let cluster = Cluster::start(&database, &stream, 2, "10s").await;
    cluster.wait_until_shards_shared(2).await;

    // New members, each with new promises and bills: rows inserted at the end of the same
    // indexes (their ids are UUIDv7) by both projectors at once.
    let members = members("contention", 200);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));
    run_load(
        &cluster.command,
        &members,
        1500,
        16,
        false,
        progress.clone(),
    )
    .await;
    let db = database.connect().await;
    cluster.wait_until_projected(&db).await;

    for projector in &cluster.projectors {
        assert!(
            !projector.log_contains("applying a batch failed"),
            "{} retried a batch:\n{}",
            projector.name,
            projector.log_tail(30)
        );
    }
    let shards = shard_status(&cluster.projectors[0]).await;
    assert_eq!(
        shards.iter().filter(|s| s.events_applied > 0).count(),
        4,
        "both projectors applied events on all four shards: {shards:#?}"
    );
    assert_read_models_match_event_store(&db).await;
    cluster.stop().await;
    stream.delete().await;
}
