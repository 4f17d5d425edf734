//! Readiness over `grpc.health.v1`, per service: NOT_SERVING while the database does not
//! answer and SERVING once it does again; NOT_SERVING on SIGTERM, told to a client that
//! watches before the listener closes.

use std::time::Duration;

use atone_api::tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use atone_testkit::*;

const SERVICES: [&str; 5] = [
    "",
    "atone.v1.CommandService",
    "atone.v1.BillingService",
    "atone.v1.ProjectorService",
    "atone.v1.QueryService",
];

/// What `service`'s health check answers (None if the call fails).
async fn status(channel: &Channel, service: &str) -> Option<ServingStatus> {
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .ok()
        .and_then(|r| ServingStatus::try_from(r.into_inner().status).ok())
}

/// Waits until every service answers `want`.
async fn all_become(channel: &Channel, want: ServingStatus, within: Duration) {
    eventually(within, &format!("every service {want:?}"), || async {
        for service in SERVICES {
            if status(channel, service).await != Some(want) {
                return None;
            }
        }
        Some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn every_service_is_not_serving_while_the_database_is_down() {
    let mut mariadb = PrivateMariaDb::start().await;
    let url = mariadb.url();
    let atone = Proc::start("serve", &role_args("serve", &url, None, &["--migrate"])).await;
    let channel = atone.channel().await;
    all_become(&channel, ServingStatus::Serving, Duration::from_secs(5)).await;

    mariadb.down().await;
    all_become(&channel, ServingStatus::NotServing, Duration::from_secs(15)).await;
    assert!(atone.log_contains("the database does not answer"));
    // The health service itself still answers, and says why through the status only.
    mariadb.up().await;
    all_become(&channel, ServingStatus::Serving, Duration::from_secs(30)).await;
    // And it works again.
    let user = unique_user("ready");
    let reply = eventually(
        Duration::from_secs(30),
        "a purchase after the outage",
        || {
            let channel = channel.clone();
            let user = user.clone();
            async move {
                atone_api::v1::command_service_client::CommandServiceClient::new(channel)
                    .purchase(purchase(&user, 1000, "after-outage"))
                    .await
                    .ok()
            }
        },
    )
    .await;
    assert_eq!(reply.into_inner().version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_every_service_not_serving_before_the_listener_closes() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut atone = Proc::start(
        "serve",
        &role_args("serve", &database.url, None, &["--shutdown-grace", "5s"]),
    )
    .await;
    let channel = atone.channel().await;
    all_become(&channel, ServingStatus::Serving, Duration::from_secs(5)).await;
    // A load balancer's watch, opened before the signal.
    let mut watch = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: "atone.v1.QueryService".into(),
        })
        .await
        .expect("Health/Watch")
        .into_inner();
    let first: HealthCheckResponse = watch.message().await.expect("watch").expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    signal(atone.pid(), "-TERM");
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a status change within 5 s of SIGTERM")
        .expect("the watch carries it")
        .expect("a status");
    assert_eq!(
        next.status,
        ServingStatus::NotServing as i32,
        "NOT_SERVING is told on the open connection, before it closes"
    );
    atone.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_stuck_projection_turns_projector_service_not_serving_until_it_moves() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = TestApp::spawn_with(Backend::MariaDb, |settings| {
        if let Some(projector) = settings.projector.as_mut() {
            projector.stall_threshold = Duration::from_secs(2);
            // The projector's own path: inline, the commands project their events.
            projector.mode = atone::settings::ProjectionMode::Async;
        }
    })
    .await;
    let channel = app.channel().await;
    let user = unique_user("stuck");
    buy(&app, &user, 1000).await;
    get_member(&app, &user, 2).await;
    all_become(&channel, ServingStatus::Serving, Duration::from_secs(5)).await;

    // Another transaction holds the member's read-model row: the projector's next batch
    // for the member waits on it, and the outbox does not move.
    let holder = app.db.begin().await.expect("begin");
    holder
        .execute_unprepared(&format!(
            "SELECT * FROM members WHERE user_id = '{user}' FOR UPDATE"
        ))
        .await
        .expect("lock the member row");
    buy(&app, &user, 500).await;
    let projector = "atone.v1.ProjectorService";
    eventually(
        Duration::from_secs(15),
        "ProjectorService NOT_SERVING",
        || async {
            (status(&channel, projector).await == Some(ServingStatus::NotServing)).then_some(())
        },
    )
    .await;
    // Only the projector is stuck: the process and the other services still serve.
    for service in ["", "atone.v1.CommandService", "atone.v1.QueryService"] {
        assert_eq!(
            status(&channel, service).await,
            Some(ServingStatus::Serving),
            "{service}"
        );
    }
    holder.rollback().await.expect("release the row");
    all_become(&channel, ServingStatus::Serving, Duration::from_secs(15)).await;
    get_member(&app, &user, 4).await;
    app.stop().await;
}
