//! Integrations over Kinesis, with separate processes: two command processes share the
//! outgoing webhooks through their lease; the one delivering is SIGKILLed while deliveries
//! to a slow receiver are in flight, the other takes over, and every event arrives in
//! order, a duplicate carrying the same event id and body. A query process's
//! SubscribeEvents streams every event, in position order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::subscribe_events_response::Message;
use atone_api::v1::webhook_service_client::WebhookServiceClient;
use atone_api::v1::{AddWebhookEndpointRequest, SubscribeEventsRequest};
use atone_storage::entity::events;
use sea_orm::{EntityTrait, QueryOrder};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "kinesis-tests"),
    ignore = "needs a Kinesis emulator and MariaDB: run with --features kinesis-tests (scripts/test does)"
)]
async fn a_killed_deliverer_loses_nothing_and_its_duplicates_carry_the_same_id() {
    let endpoint = kinesis_endpoint().await;
    let stream = Stream::create(&endpoint, 2).await;
    let database = TestDatabase::create(Backend::MariaDb).await;
    let url = &database.url;
    let flags = ["--webhook-lease-duration", "2s", "--no-daily-billing"];
    let mut commands = vec![
        Proc::start(
            "command-1",
            &role_args(
                "command",
                url,
                Some(&stream),
                &[&["--migrate"][..], &flags].concat(),
            ),
        )
        .await,
        Proc::start(
            "command-2",
            &role_args("command", url, Some(&stream), &flags),
        )
        .await,
    ];
    let query = Proc::start("query", &role_args("query", url, None, &[])).await;

    let receiver = WebhookReceiver::start().await;
    // Slow answers: a delivery is in flight most of the time.
    receiver.delay(Duration::from_millis(20));
    WebhookServiceClient::new(commands[1].channel().await)
        .add_webhook_endpoint(AddWebhookEndpointRequest {
            endpoint_id: "ledger".into(),
            url: receiver.url.clone(),
            event_types: vec![],
            from_start: true,
        })
        .await
        .expect("an endpoint");

    let members = members("hooks", 20);
    let progress = Arc::new(Mutex::new(Acknowledged::default()));
    run_load(&commands[0], &members, 200, 4, false, progress.clone()).await;
    let acknowledged = progress.lock().expect("progress").clone();
    assert_eq!(acknowledged.failures, 0);

    // Kill the deliverer mid-stream.
    eventually(Duration::from_secs(60), "some deliveries", || async {
        (receiver.received().len() >= 50).then_some(())
    })
    .await;
    let delivering = eventually(Duration::from_secs(10), "the deliverer", || async {
        commands
            .iter()
            .position(|c| c.log_contains("delivering webhooks"))
    })
    .await;
    commands[delivering].kill().await;
    let survivor = &commands[1 - delivering];

    let db = database.connect().await;
    let stored: Vec<(i64, String)> = events::Entity::find()
        .order_by_asc(events::Column::Position)
        .all(&db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.position.expect("a position"), e.event_id))
        .collect();
    assert!(stored.len() >= 200, "{} events", stored.len());
    let accepted = eventually(
        Duration::from_secs(120),
        "every event at the receiver",
        || async {
            let accepted = receiver.accepted();
            stored
                .iter()
                .all(|(_, id)| accepted.iter().any(|r| &r.event_id == id))
                .then_some(accepted)
        },
    )
    .await;
    assert!(
        survivor.log_contains("delivering webhooks"),
        "the survivor took the deliveries over"
    );

    // In order, and a duplicate is the same delivery again.
    let mut first: HashMap<&str, &atone_testkit::receiver::Received> = HashMap::new();
    let mut order = Vec::new();
    for r in &accepted {
        match first.get(r.event_id.as_str()) {
            Some(earlier) => assert_eq!(earlier.body, r.body, "a duplicate of {}", r.event_id),
            None => {
                first.insert(&r.event_id, r);
                order.push(r.position());
            }
        }
    }
    let positions: Vec<i64> = stored.iter().map(|(p, _)| *p).collect();
    assert_eq!(order, positions, "first deliveries in position order");

    // SubscribeEvents on the query process: every event once, in position order.
    let mut subscription = QueryServiceClient::new(query.channel().await)
        .subscribe_events(SubscribeEventsRequest::default())
        .await
        .expect("a subscription")
        .into_inner();
    let mut seen = Vec::new();
    while seen.len() < stored.len() {
        let message = tokio::time::timeout(Duration::from_secs(30), subscription.message())
            .await
            .expect("the next message in time")
            .expect("the stream goes on")
            .expect("not over");
        if let Some(Message::Event(e)) = message.message {
            seen.push((e.position, e.event.map(|e| e.event_id).unwrap_or_default()));
        }
    }
    assert_eq!(seen, stored);

    drop(subscription);
    for c in &mut commands {
        if c.is_running() {
            c.terminate().await;
        }
    }
}
