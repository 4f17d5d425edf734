//! Failures of processes under load: a projector SIGKILLed (four shards, two projectors,
//! 1,000 commands across 50 members; the other takes its shards once the leases expire),
//! a projector stopped gracefully, `atone command` SIGKILLed, and a command process whose
//! relay task ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_killed_projector_s_shards_are_taken_over_and_nothing_is_applied_twice() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 4).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let mut cluster = Cluster::start(&database, &stream, 2, "3s").await;

    // Both projectors hold shards before the load starts: the shares are even.
    cluster.wait_until_shards_shared(2).await;

    let members = members("failover", 50);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));
    let load = run_load(
        &cluster.command,
        &members,
        1000,
        10,
        false,
        progress.clone(),
    );
    let kill = async {
        wait_for_acknowledged(&progress, 300).await;
        cluster.projectors[0].kill().await;
    };
    tokio::join!(load, kill);
    let acknowledged = progress.lock().expect("progress").clone();
    assert!(
        acknowledged.replies.len() >= 1000 && acknowledged.failures == 0,
        "{} acknowledged, {} failures",
        acknowledged.replies.len(),
        acknowledged.failures
    );

    let survivor = &cluster.projectors[1];
    let db = database.connect().await;
    cluster.wait_until_projected(&db).await;
    let shards = eventually(
        Duration::from_secs(30),
        "the survivor to hold every shard",
        || async {
            let shards = shard_status(survivor).await;
            shards
                .iter()
                .all(|s| s.owner == "projector-2")
                .then_some(shards)
        },
    )
    .await;
    assert!(
        survivor.log_contains("lease taken"),
        "{}",
        survivor.log_tail(20)
    );

    assert_streams_contiguous(&db).await;
    assert_read_models_match_event_store(&db).await;
    assert_applied_in_version_order(&db).await;
    cluster.assert_no_gap_was_filled();
    for (user, version) in &acknowledged.replies {
        assert!(
            member_at(&cluster.query, user, *version)
                .await
                .summary
                .is_some_and(|s| s.version >= *version)
        );
    }
    assert_each_event_applied_once(&db, &shards).await;

    cluster.projectors.remove(0);
    cluster.stop().await;
    stream.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_projector_stopped_gracefully_hands_its_leases_back_at_once() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 4).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    // Leases long enough that only a hand-back explains a quick takeover.
    let mut cluster = Cluster::start(&database, &stream, 2, "60s").await;
    eventually(
        Duration::from_secs(60),
        "the shards split between the projectors",
        || async {
            let shards = shard_status(&cluster.projectors[1]).await;
            (shards.iter().filter(|s| s.owner == "projector-1").count() == 2).then_some(())
        },
    )
    .await;

    cluster.projectors[0].terminate().await;
    let survivor = &cluster.projectors[1];
    eventually(
        Duration::from_secs(40),
        "the survivor to hold every shard before the leases expire",
        || async {
            let shards = shard_status(survivor).await;
            shards
                .iter()
                .all(|s| s.owner == "projector-2")
                .then_some(())
        },
    )
    .await;
    assert!(cluster.projectors[0].log_contains("lease handed back"));

    cluster.projectors.remove(0);
    cluster.stop().await;
    stream.delete().await;
}

/// `atone command` SIGKILLed in the middle of a load, with commands in flight and outbox
/// rows on their way to the stream; clients keep retrying with their idempotency keys and
/// reach a new command process, whose relay takes the lease over and publishes what the
/// dead one left. Nothing acknowledged is lost. (Whether some command was committed but
/// not yet answered at the kill is up to timing; `api::idempotency` covers that retry
/// deterministically. The event counts below would catch it being applied twice.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_command_process_killed_under_load_loses_no_acknowledged_command() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let mut cluster = Cluster::start(&database, &stream, 1, "3s").await;
    // Clients reach the command side through a proxy, which is pointed at the new process.
    let proxy = TcpProxy::start(cluster.command.port()).await;
    let channel = atone_api::tonic::transport::Channel::from_shared(proxy.endpoint())
        .expect("uri")
        .connect()
        .await
        .expect("connect through the proxy");
    let members = members("command-crash", 20);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));

    let load = run_load_on(channel, &members, 300, 6, true, progress.clone());
    let crash = async {
        wait_for_acknowledged(&progress, 100).await;
        cluster.command.kill().await;
        let args = role_args("command", &database.url, Some(&stream), &[]);
        let restarted = Proc::start("command-2", &args).await;
        proxy.retarget(restarted.port());
        restarted
    };
    let ((), restarted) = tokio::join!(load, crash);
    cluster.command = restarted;
    let acknowledged = progress.lock().expect("progress").clone();
    assert!(
        acknowledged.failures > 0,
        "the crash was felt by the clients"
    );

    let db = database.connect().await;
    cluster.wait_until_projected(&db).await;
    assert_streams_contiguous(&db).await;
    assert_read_models_match_event_store(&db).await;
    assert_applied_in_version_order(&db).await;
    // Every retried command took effect once: each client finished whole cycles of
    // purchase (2 events), bill (1) and payment (1), each under its own key.
    assert_eq!(acknowledged.replies.len() % 3, 0);
    let cycles = acknowledged.replies.len() / 3;
    assert_eq!(
        atone_testkit::events_of_type(&db, "PurchaseCompleted")
            .await
            .len(),
        cycles
    );
    assert_eq!(
        atone_testkit::events_of_type(&db, "PaymentCompleted")
            .await
            .len(),
        cycles
    );
    for (user, version) in &acknowledged.replies {
        assert!(
            member_at(&cluster.query, user, *version)
                .await
                .summary
                .is_some_and(|s| s.version >= *version)
        );
    }
    cluster.stop().await;
    stream.delete().await;
}

/// The relay (outbox → stream) is vital: a command process whose relay ends turns
/// NOT_SERVING and stops non-zero (the other vital tasks are checked in the API suite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_command_process_whose_relay_ends_stops_non_zero() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 1).await;
    let database = TestDatabase::migrated(Backend::MariaDb).await;
    end_vital_task(
        "relay",
        &role_args("command", &database.url, Some(&stream), &[]),
    )
    .await;
    stream.delete().await;
}
