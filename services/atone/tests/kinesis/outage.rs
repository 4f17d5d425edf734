//! Outages: Kinesis stopped for 20 s, and MariaDB restarted, both during load.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn commands_keep_succeeding_while_kinesis_is_down_and_everything_arrives_after() {
    let emulator = PrivateEmulator::start().await;
    let proxy = TcpProxy::start(emulator.port).await;
    let stream = Stream::create(&proxy.endpoint(), 4).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let cluster = Cluster::start(&database, &stream, 1, "3s").await;
    let members = members("outage", 40);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));

    run_load(&cluster.command, &members, 150, 5, false, progress.clone()).await;
    let down_at = Instant::now();
    emulator.down(&proxy).await;

    // Every command succeeds while Kinesis is unreachable: the outbox holds the events.
    run_load(&cluster.command, &members, 300, 5, false, progress.clone()).await;
    let backlog = status(&cluster.projectors[0]).await["relay"].lag_events;
    assert!(
        backlog > 0,
        "the relay could not publish while Kinesis was down"
    );
    assert!(
        down_at.elapsed() < Duration::from_secs(20),
        "the load ran inside the outage"
    );
    tokio::time::sleep_until(down_at + Duration::from_secs(20)).await;
    emulator.up().await;
    proxy.up().await;

    run_load(&cluster.command, &members, 60, 5, false, progress.clone()).await;
    let acknowledged = progress.lock().expect("progress").clone();
    assert_eq!(acknowledged.failures, 0, "no command failed");
    assert!(acknowledged.replies.len() >= 510);

    let db = database.connect().await;
    cluster.wait_until_projected(&db).await;
    assert_streams_contiguous(&db).await;
    assert_read_models_match_event_store(&db).await;
    assert_applied_in_version_order(&db).await;
    for (user, version) in acknowledged.replies.iter().rev().take(20) {
        assert!(
            member_at(&cluster.query, user, *version)
                .await
                .summary
                .is_some_and(|s| s.version >= *version)
        );
    }
    assert!(
        cluster
            .command
            .log_contains("relay publish failed, retrying"),
        "{}",
        cluster.command.log_tail(20)
    );
    cluster.stop().await;
    stream.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn the_services_ride_out_a_mariadb_restart_and_lose_no_acknowledged_command() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let mut mariadb = PrivateMariaDb::start().await;
    let database = TestDatabase::at(mariadb.url());
    let cluster = Cluster::start(&database, &stream, 1, "3s").await;
    let pids = [
        cluster.command.pid(),
        cluster.projectors[0].pid(),
        cluster.query.pid(),
    ];
    let members = members("restart", 20);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));

    // Clients retry a failed command with its idempotency key until it succeeds.
    let load = run_load(&cluster.command, &members, 400, 4, true, progress.clone());
    let restart = async {
        wait_for_acknowledged(&progress, 100).await;
        mariadb.down().await;
        // Down long enough for every service to notice.
        eventually(
            Duration::from_secs(30),
            "commands to fail while MariaDB is down",
            || {
                let failures = progress.lock().expect("progress").failures;
                async move { (failures > 0).then_some(()) }
            },
        )
        .await;
        mariadb.up().await;
    };
    tokio::join!(load, restart);
    let acknowledged = progress.lock().expect("progress").clone();
    assert!(acknowledged.failures > 0 && acknowledged.replies.len() >= 400);

    let db = database.connect().await;
    cluster.wait_until_projected(&db).await;
    for (user, version) in &acknowledged.replies {
        let member = member_at(&cluster.query, user, *version).await;
        assert!(
            member.summary.is_some_and(|s| s.version >= *version),
            "{user} at {version}"
        );
    }
    assert_streams_contiguous(&db).await;
    assert_read_models_match_event_store(&db).await;
    assert_eq!(
        [
            cluster.command.pid(),
            cluster.projectors[0].pid(),
            cluster.query.pid()
        ],
        pids,
        "no service restarted"
    );
    cluster.stop().await;
    stream.delete().await;
}
