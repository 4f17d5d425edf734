//! Outgoing webhooks to real HTTP receivers: every event delivered in order at least once,
//! each signed with the endpoint's secret and carrying its event id; a receiver answering
//! 500 gets everything once it recovers while another endpoint is not held back; a disabled
//! endpoint gets nothing until it is replayed from a position; an endpoint failing for too
//! long is disabled; and every bad request is refused with its reason.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_api::v1::*;
use atone_storage::entity::events;
use sea_orm::{EntityTrait, QueryOrder};

use atone_testkit::receiver::Received;
use atone_testkit::*;

/// Every event in the store, in position order: (position, event id, type).
async fn stored(app: &TestApp) -> Vec<(i64, String, String)> {
    events::Entity::find()
        .order_by_asc(events::Column::Position)
        .all(&app.db)
        .await
        .expect("read the events")
        .into_iter()
        .map(|e| (e.position.expect("a position"), e.event_id, e.event_type))
        .collect()
}

async fn add(
    app: &TestApp,
    id: &str,
    receiver: &WebhookReceiver,
    types: &[&str],
) -> AddWebhookEndpointResponse {
    app.webhooks()
        .await
        .add_webhook_endpoint(AddWebhookEndpointRequest {
            endpoint_id: id.into(),
            url: receiver.url.clone(),
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            from_start: true,
        })
        .await
        .expect("an endpoint")
        .into_inner()
}

/// Every endpoint, as ListWebhookEndpoints shows it.
async fn endpoints(app: &TestApp) -> Vec<WebhookEndpoint> {
    app.webhooks()
        .await
        .list_webhook_endpoints(ListWebhookEndpointsRequest {})
        .await
        .expect("the endpoints")
        .into_inner()
        .endpoints
}

/// Waits until `receiver` accepted every event of `expected` (by id), and returns the
/// accepted deliveries.
async fn accepted_all(
    receiver: &WebhookReceiver,
    expected: &[(i64, String, String)],
    what: &str,
) -> Vec<Received> {
    eventually(Duration::from_secs(60), what, || async {
        let accepted = receiver.accepted();
        expected
            .iter()
            .all(|(_, id, _)| accepted.iter().any(|r| &r.event_id == id))
            .then_some(accepted)
    })
    .await
}

/// Each delivery is signed with `secret` over its body, and names its event in the header
/// and the body.
fn assert_signed(received: &[Received], secret: &str) {
    for r in received {
        let t: u64 = r
            .signature
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("a timestamp in {:?}", r.signature));
        assert_eq!(
            r.signature,
            atone::signature::sign(secret, t, &r.body),
            "signed with the endpoint's secret"
        );
        assert_eq!(r.json["event_id"], r.event_id.as_str());
    }
}

/// The positions of the first delivery of each event, in the order they came: they must
/// rise, each event delivered only after every earlier one.
fn first_positions(received: &[Received]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    received
        .iter()
        .filter(|r| seen.insert(r.event_id.clone()))
        .map(Received::position)
        .collect()
}

async fn every_event_in_order_and_a_failing_endpoint_holds_back_only_itself(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        quick_deliveries(s);
        s.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
    })
    .await;
    let healthy = WebhookReceiver::start().await;
    let failing = WebhookReceiver::start().await;
    failing.answer(500);
    let all = add(&app, "warehouse", &healthy, &[]).await;
    let promises = add(&app, "mailer", &failing, &["PaymentPromiseCreated"]).await;
    assert!(all.secret.starts_with("whsec_") && all.secret != promises.secret);

    buy_concurrently(&app, &unique_user("hook"), 4, 25).await;
    let events = stored(&app).await;
    assert!(events.len() >= 200);

    // The healthy endpoint gets everything while the other answers 500.
    let accepted = accepted_all(&healthy, &events, "every event at the healthy endpoint").await;
    assert_signed(&accepted, &all.secret);
    let positions = first_positions(&healthy.received());
    let expected: Vec<i64> = events.iter().map(|e| e.0).collect();
    assert_eq!(positions, expected, "in position order, none missing");
    let tried = failing.received();
    assert!(!tried.is_empty(), "the failing endpoint was tried");
    assert!(
        tried.iter().all(|r| r.position() == tried[0].position()),
        "a failing endpoint's later events wait behind its first"
    );

    // It recovers and gets its events, in order.
    failing.answer(200);
    let wanted: Vec<_> = events
        .iter()
        .filter(|e| e.2 == "PaymentPromiseCreated")
        .cloned()
        .collect();
    let accepted = accepted_all(&failing, &wanted, "the recovered endpoint's events").await;
    assert_signed(&accepted, &promises.secret);
    let positions = first_positions(&failing.received());
    assert_eq!(positions, wanted.iter().map(|e| e.0).collect::<Vec<_>>());

    // The delivery log shows the failures and the deliveries.
    let log = app
        .webhooks()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            endpoint_id: "mailer".into(),
            page_size: 500,
            before: 0,
        })
        .await
        .expect("the log")
        .into_inner()
        .deliveries;
    let first = &wanted[0];
    assert!(
        log.iter().any(|d| d.position == first.0
            && d.status_code == 500
            && !d.delivered
            && d.attempt == 1)
    );
    assert!(
        log.iter()
            .any(|d| d.position == first.0 && d.delivered && d.attempt > 1)
    );
    let endpoints = endpoints(&app).await;
    eventually(
        Duration::from_secs(30),
        "both endpoints caught up",
        || async {
            let endpoints = app
                .webhooks()
                .await
                .list_webhook_endpoints(ListWebhookEndpointsRequest {})
                .await
                .expect("the endpoints")
                .into_inner()
                .endpoints;
            endpoints.iter().all(|e| e.lag == 0).then_some(())
        },
    )
    .await;
    assert_eq!(endpoints.len(), 2);
    let metrics = crate::metrics::scrape(app.metrics_addr.expect("metrics")).await;
    for series in [
        r#"atone_webhook_deliveries_total{endpoint="mailer",outcome="failed"}"#,
        r#"atone_webhook_deliveries_total{endpoint="mailer",outcome="delivered"}"#,
        r#"atone_webhook_deliveries_total{endpoint="warehouse",outcome="delivered"}"#,
        r#"atone_webhook_lag_events{endpoint="warehouse"}"#,
    ] {
        assert!(metrics.contains(series), "{series} in:\n{metrics}");
    }

    // Disabled, an endpoint gets nothing; replayed from a position, it gets what follows
    // again, under the same event ids.
    app.webhooks()
        .await
        .disable_webhook_endpoint(DisableWebhookEndpointRequest {
            endpoint_id: "warehouse".into(),
        })
        .await
        .expect("disabled");
    let before = healthy.received().len();
    let late = unique_user("late");
    let bought = buy(&app, &late, 700).await;
    eventually(
        Duration::from_secs(30),
        "the mailer's late event",
        || async {
            failing
                .accepted()
                .iter()
                .any(|r| r.json["payload"]["promise_id"] == bought.promise_id.as_str())
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        healthy.received().len(),
        before,
        "nothing to a disabled endpoint"
    );
    let from = events[events.len() - 10].0;
    let replayed = app
        .webhooks()
        .await
        .replay_webhook_endpoint(ReplayWebhookEndpointRequest {
            endpoint_id: "warehouse".into(),
            after_position: from,
        })
        .await
        .expect("replayed")
        .into_inner()
        .endpoint
        .expect("the endpoint");
    assert!(replayed.enabled);
    assert_eq!(replayed.after_position, from);
    let now = stored(&app).await;
    let again: Vec<_> = now.iter().filter(|e| e.0 > from).cloned().collect();
    eventually(Duration::from_secs(30), "the replay", || async {
        let after: Vec<String> = healthy.accepted()[before..]
            .iter()
            .map(|r| r.event_id.clone())
            .collect();
        let ids: Vec<String> = again.iter().map(|e| e.1.clone()).collect();
        (after == ids).then_some(())
    })
    .await;
    app.stop().await;
}

on_each_backend!(every_event_in_order_and_a_failing_endpoint_holds_back_only_itself);

/// An endpoint whose deliveries fail for longer than the process allows is disabled, with
/// why, and its cursor kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_too_long_is_disabled() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        quick_deliveries(s);
        if let Some(command) = &mut s.command {
            command.deliveries.give_up_after = Duration::from_millis(500);
        }
    })
    .await;
    // Nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("address")
    };
    app.webhooks()
        .await
        .add_webhook_endpoint(AddWebhookEndpointRequest {
            endpoint_id: "gone".into(),
            url: format!("http://{closed}/hook"),
            event_types: vec![],
            from_start: true,
        })
        .await
        .expect("added");
    buy(&app, &unique_user("gone"), 100).await;
    let endpoint = eventually(Duration::from_secs(30), "the endpoint disabled", || async {
        let endpoints = endpoints(&app).await;
        endpoints.into_iter().find(|e| !e.enabled)
    })
    .await;
    assert!(
        endpoint.disabled_reason.contains("cannot connect"),
        "{endpoint:?}"
    );
    assert_eq!(endpoint.after_position, 0, "its cursor kept");
    assert!(endpoint.failing_since.is_some());
    let log = app
        .webhooks()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            endpoint_id: "gone".into(),
            ..Default::default()
        })
        .await
        .expect("the log")
        .into_inner()
        .deliveries;
    assert!(log.len() > 1, "tried more than once");
    assert!(
        log.iter()
            .all(|d| !d.delivered && d.status_code == 0 && d.position == 1)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_webhook_requests_are_refused_with_their_reason() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let receiver = WebhookReceiver::start().await;
    add(&app, "taken", &receiver, &[]).await;
    let mut client = app.webhooks().await;
    let adds = [
        (
            "bad id!",
            receiver.url.as_str(),
            "",
            Code::InvalidArgument,
            "endpoint_id",
        ),
        (
            "ok",
            "ftp://127.0.0.1/hook",
            "",
            Code::InvalidArgument,
            "url",
        ),
        (
            "ok",
            "http://user:pw@127.0.0.1/hook",
            "",
            Code::InvalidArgument,
            "credentials",
        ),
        ("ok", "not a url", "", Code::InvalidArgument, "url"),
        (
            "ok",
            receiver.url.as_str(),
            "Purchased",
            Code::InvalidArgument,
            "event_types",
        ),
        (
            "taken",
            receiver.url.as_str(),
            "",
            Code::AlreadyExists,
            "taken",
        ),
    ];
    for (id, url, event_type, code, hint) in adds {
        let status = client
            .add_webhook_endpoint(AddWebhookEndpointRequest {
                endpoint_id: id.into(),
                url: url.into(),
                event_types: if event_type.is_empty() {
                    vec![]
                } else {
                    vec![event_type.into()]
                },
                from_start: false,
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), code, "{id} {url}: {status:?}");
        assert!(status.message().contains(hint), "{hint}: {status:?}");
    }
    let replay = client
        .replay_webhook_endpoint(ReplayWebhookEndpointRequest {
            endpoint_id: "taken".into(),
            after_position: 1_000_000,
        })
        .await
        .expect_err("past the end");
    assert_eq!(replay.code(), Code::InvalidArgument, "{replay:?}");
    let missing = client
        .disable_webhook_endpoint(DisableWebhookEndpointRequest {
            endpoint_id: "nobody".into(),
        })
        .await
        .expect_err("no such endpoint");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert_eq!(endpoints(&app).await.len(), 1, "nothing refused was added");
    // At most 100 endpoints.
    for n in 1..100 {
        add(&app, &format!("more-{n}"), &receiver, &[]).await;
    }
    let over = client
        .add_webhook_endpoint(AddWebhookEndpointRequest {
            endpoint_id: "one-too-many".into(),
            url: receiver.url.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a 101st endpoint");
    assert_eq!(over.code(), Code::ResourceExhausted, "{over:?}");
    assert_eq!(endpoints(&app).await.len(), 100);
    app.stop().await;
}

/// `atone webhooks list|disable|replay|deliveries`, the binary against a running atone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_disables_and_replays_endpoints() {
    let app = TestApp::spawn_with(Backend::Sqlite, quick_deliveries).await;
    let receiver = WebhookReceiver::start().await;
    let atone = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_atone"))
            .arg("webhooks")
            .args(args)
            .args(["--addr", &app.addr.to_string()])
            .output()
            .expect("run atone webhooks");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    };
    let (ok, added, err) = atone(&[
        "add",
        "--id",
        "books",
        "--url",
        &receiver.url,
        "--events",
        "PurchaseCompleted,PaymentPromiseCreated",
        "--from-start",
    ]);
    assert!(ok, "{err}");
    assert!(
        added.contains("books ")
            && added.contains("[PaymentPromiseCreated,PurchaseCompleted] enabled"),
        "{added}"
    );
    assert!(added.contains("secret: whsec_"), "{added}");
    buy(&app, &unique_user("cli"), 300).await;
    let events = stored(&app).await;
    accepted_all(&receiver, &events, "both events").await;

    let (ok, disabled, err) = atone(&["disable", "--id", "books"]);
    assert!(ok, "{err}");
    assert!(
        disabled.contains("disabled (disabled by an admin)"),
        "{disabled}"
    );
    let (ok, listed, _) = atone(&["list"]);
    assert!(
        ok && listed.contains("books ") && listed.contains("disabled"),
        "{listed}"
    );
    let (ok, replayed, err) = atone(&["replay", "--id", "books", "--after", "0"]);
    assert!(ok, "{err}");
    assert!(replayed.contains("enabled, after position 0"), "{replayed}");
    eventually(Duration::from_secs(30), "the replay", || async {
        (receiver.accepted().len() >= 2 * events.len()).then_some(())
    })
    .await;
    let (ok, log, err) = atone(&["deliveries", "--id", "books", "--limit", "10"]);
    assert!(ok, "{err}");
    assert_eq!(log.matches("delivered").count(), 2 * events.len(), "{log}");
    let (ok, _, err) = atone(&["disable", "--id", "nobody"]);
    assert!(!ok, "an unknown endpoint fails the command");
    assert!(err.contains("no webhook endpoint"), "{err}");
    app.stop().await;
}

/// A receiver that answers 500 for a whole minute, with the backoff atone runs with (1 s
/// doubling): it gets every event afterwards, in order, and another endpoint got all of
/// its own during that minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_500s_delays_only_that_endpoint() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let down = WebhookReceiver::start().await;
    let up = WebhookReceiver::start().await;
    down.answer(500);
    add(&app, "down-for-a-minute", &down, &[]).await;
    add(&app, "up", &up, &[]).await;
    let started = tokio::time::Instant::now();
    buy_concurrently(&app, &unique_user("minute"), 2, 10).await;
    let events = stored(&app).await;
    accepted_all(&up, &events, "every event at the endpoint that is up").await;
    assert!(
        down.accepted().is_empty(),
        "the other endpoint got its events while this one answered 500"
    );
    // The minute of 500s is the scenario, not a wait for a condition.
    tokio::time::sleep_until(started + Duration::from_secs(60)).await;
    assert!(down.received().len() > 1, "retried during the minute");
    down.answer(200);
    let accepted = eventually(
        Duration::from_secs(180),
        "every event afterwards",
        || async {
            let accepted = down.accepted();
            (accepted.len() >= events.len()).then_some(accepted)
        },
    )
    .await;
    let positions: Vec<i64> = accepted.iter().map(Received::position).collect();
    let expected: Vec<i64> = events.iter().map(|e| e.0).collect();
    assert_eq!(positions, expected, "in order, once each");
    app.stop().await;
}
