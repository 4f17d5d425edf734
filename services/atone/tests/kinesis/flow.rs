//! The hands-on flow A→B→C through three processes (`atone command`, `atone projector`,
//! `atone query`) over Kinesis and MariaDB, watched; and what GetStatus says of each shard.

use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::{
    BillStatus, CompletePaymentRequest, IssueImmediateBillRequest, WatchMemberRequest,
    watch_member_response::Kind,
};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn the_hands_on_flow_runs_through_three_processes_over_kinesis() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 4).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let cluster = Cluster::start(&database, &stream, 1, "10s").await;
    let user = unique_user("three-processes");

    let mut watch = QueryServiceClient::new(cluster.query.channel().await)
        .watch_member(WatchMemberRequest {
            user_id: user.clone(),
            cursor: String::new(),
            min_version: 0,
        })
        .await
        .expect("watch")
        .into_inner();
    let mut next = async || {
        let message = tokio::time::timeout(std::time::Duration::from_secs(20), watch.message())
            .await
            .expect("a watch message within 20 s")
            .expect("healthy stream")
            .expect("open stream");
        message.kind.expect("kind")
    };
    assert!(matches!(next().await, Kind::Snapshot(_)));

    let mut commands = CommandServiceClient::new(cluster.command.channel().await);
    let a = commands
        .purchase(purchase(&user, 5000, "a"))
        .await
        .expect("purchase")
        .into_inner();
    let member = member_at(&cluster.query, &user, a.version).await;
    assert_eq!(member.promises.len(), 1);
    for expected in ["PurchaseCompleted", "PaymentPromiseCreated"] {
        let Kind::Change(change) = next().await else {
            panic!("a change")
        };
        assert_eq!(change.event_type, expected);
    }

    let b = commands
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: a.promise_id.clone(),
            amount: 5000,
            idempotency_key: "b".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    let member = member_at(&cluster.query, &user, b.version).await;
    assert_eq!(member.bills[0].status, BillStatus::Unpaid as i32);
    let Kind::Change(change) = next().await else {
        panic!("a change")
    };
    assert_eq!(change.event_type, "MemberBillIssued");

    let c = commands
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: b.bill_id.clone(),
            amount: 5000,
            idempotency_key: "c".into(),
        })
        .await
        .expect("payment")
        .into_inner();
    let member = member_at(&cluster.query, &user, c.version).await;
    assert_eq!(member.bills[0].status, BillStatus::Paid as i32);
    assert_eq!(member.summary.map(|s| s.available_credit), Some(50_000));
    let Kind::Change(change) = next().await else {
        panic!("a change")
    };
    assert_eq!(change.event_type, "PaymentCompleted");

    // GetStatus: every shard with its owner, checkpoint and lag; the events applied add up.
    let shards = eventually(
        std::time::Duration::from_secs(20),
        "every shard reported with its lag",
        || async {
            let shards = shard_status(&cluster.projectors[0]).await;
            let applied: i64 = shards.iter().map(|s| s.events_applied).sum();
            (shards.len() == 4 && applied == 4 && shards.iter().all(|s| s.lag_millis == 0))
                .then_some(shards)
        },
    )
    .await;
    for shard in &shards {
        assert_eq!(shard.owner, "projector-1", "{shard:?}");
        assert!(
            shard.lease_expires_at.is_some() && shard.updated_at.is_some(),
            "{shard:?}"
        );
        assert!(!shard.finished);
    }
    let busy: Vec<_> = shards.iter().filter(|s| s.events_applied > 0).collect();
    assert_eq!(busy.len(), 1, "one member's events all go to one shard");
    let checkpoint = &busy[0].checkpoint;
    assert!(
        !checkpoint.is_empty() && checkpoint.bytes().all(|b| b.is_ascii_digit()),
        "the checkpoint is a sequence number: {checkpoint:?}"
    );
    let relay = &status(&cluster.projectors[0]).await["relay"];
    assert_eq!(
        (relay.events_applied, relay.lag_events),
        (4, 0),
        "{relay:?}"
    );

    let db = database.connect().await;
    assert_read_models_match_event_store(&db).await;
    cluster.stop().await;
    stream.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn atone_serve_runs_all_three_services_over_kinesis_in_one_process() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let mut serve = Proc::start(
        "serve",
        &role_args("serve", &database.url, Some(&stream), &["--migrate"]),
    )
    .await;
    assert!(
        serve.log_contains("\"delivery\":\"kinesis\""),
        "{}",
        serve.log_tail(5)
    );

    let user = unique_user("serve-over-kinesis");
    let reply = CommandServiceClient::new(serve.channel().await)
        .purchase(purchase(&user, 1500, "one-process"))
        .await
        .expect("purchase")
        .into_inner();
    let member = member_at(&serve, &user, reply.version).await;
    assert_eq!(member.promises.len(), 1);
    let shards = shard_status(&serve).await;
    assert_eq!(
        shards.iter().map(|s| s.events_applied).sum::<i64>(),
        2,
        "{shards:?}"
    );
    serve.terminate().await;
    stream.delete().await;
}
