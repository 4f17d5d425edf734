//! Resharding 2 → 4 while commands flow: nothing lost, each member's events applied in
//! version order (parents are read to their end before their children).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn resharding_during_load_loses_nothing_and_keeps_version_order() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let cluster = Cluster::start(&database, &stream, 2, "3s").await;

    let members = members("reshard", 30);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));
    let load = run_load(&cluster.command, &members, 600, 6, false, progress.clone());
    let reshard = async {
        wait_for_acknowledged(&progress, 200).await;
        let described = stream
            .kinesis
            .update_shard_count(4)
            .await
            .expect("UpdateShardCount 2 → 4");
        assert_eq!(described.open_shard_count, 4);
    };
    tokio::join!(load, reshard);
    let acknowledged = progress.lock().expect("progress").clone();
    assert_eq!(acknowledged.failures, 0);

    let db = database.connect().await;
    cluster.wait_until_projected(&db).await;
    let shards = eventually(
        Duration::from_secs(60),
        "the parents finished and the children read",
        || async {
            let shards = shard_status(&cluster.projectors[0]).await;
            let finished = shards.iter().filter(|s| s.finished).count();
            (shards.len() == 6 && finished == 2).then_some(shards)
        },
    )
    .await;
    for child in shards.iter().filter(|s| !s.parent_ids.is_empty()) {
        assert!(!child.finished, "{child:?}");
        for parent in &child.parent_ids {
            assert!(
                shards.iter().any(|s| &s.source_id == parent && s.finished),
                "parent {parent} of {} finished",
                child.source_id
            );
        }
    }
    assert!(
        shards
            .iter()
            .filter(|s| !s.parent_ids.is_empty())
            .map(|s| s.events_applied)
            .sum::<i64>()
            > 0,
        "the children carried events: {shards:?}"
    );

    assert_streams_contiguous(&db).await;
    assert_read_models_match_event_store(&db).await;
    assert_applied_in_version_order(&db).await;
    cluster.assert_no_gap_was_filled();
    assert_each_event_applied_once(&db, &shards).await;
    cluster.stop().await;
    stream.delete().await;
}
