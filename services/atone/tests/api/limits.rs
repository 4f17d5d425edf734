//! The limits of one process, from outside: streams per connection, a call that never
//! finishes its request, load shedding, watchers per member and per process, a client that
//! vanishes without closing, and the bounded snapshot of a member with a long history.

use std::time::Duration;

use atone_api::prost::Message;
use atone_api::tonic::Code;
use atone_api::v1::*;
use atone_testkit::raw_h2::{self, RawH2};
use atone_testkit::*;

const GET_MEMBER: &str = "/atone.v1.QueryService/GetMember";
const WATCH_MEMBER: &str = "/atone.v1.QueryService/WatchMember";

async fn watchers_become(app: &TestApp, n: i64, within: Duration) {
    eventually(
        within,
        &format!("GetStatus shows {n} watchers"),
        || async move { (app.watchers().await == n).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_past_the_cap_on_one_connection_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut h2 = RawH2::connect(app.addr).await;
    let cap = h2
        .server_max_concurrent_streams
        .expect("the server announces its stream cap");
    assert_eq!(cap, 200, "the default cap");

    // 1,000 calls at once on one connection, none finishing its request: a client that
    // ignores the announced cap.
    let ids: Vec<u32> = (0..1000).map(|i| 2 * i + 1).collect();
    for &id in &ids {
        h2.open(id, GET_MEMBER, None).await;
    }
    let mut refused = std::collections::BTreeSet::new();
    let want = ids.len() - cap as usize;
    h2.frame_where(Duration::from_secs(20), |frame| {
        assert_ne!(
            frame.kind,
            raw_h2::GOAWAY,
            "the connection is kept: {frame:?}"
        );
        if frame.kind == raw_h2::RST_STREAM {
            assert_eq!(
                frame.error_code(),
                Some(raw_h2::REFUSED_STREAM),
                "{frame:?}"
            );
            refused.insert(frame.stream_id);
        }
        refused.len() == want
    })
    .await
    .unwrap_or_else(|| panic!("{want} streams refused within 20 s"));
    let open: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|id| !refused.contains(id))
        .collect();
    assert_eq!(
        open,
        ids[..cap as usize],
        "the first {cap} stay open, the rest are refused"
    );

    // The connection still serves: a stream of the open ones gets its answer.
    let request = GetMemberRequest {
        user_id: "nobody-yet".into(),
        min_version: 0,
    };
    h2.send(
        raw_h2::DATA,
        raw_h2::END_STREAM,
        1,
        &grpc_frame(&request.encode_to_vec()),
    )
    .await;
    h2.frame_where(Duration::from_secs(10), |f| {
        f.stream_id == 1 && f.ends_stream()
    })
    .await
    .expect("stream 1 answered");
    drop(h2);
    app.stop().await;
}

fn grpc_frame(message: &[u8]) -> Vec<u8> {
    let mut data = vec![0u8];
    data.extend_from_slice(&(message.len() as u32).to_be_bytes());
    data.extend_from_slice(message);
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_never_finishes_its_request_is_ended_by_the_server_deadline() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.server.request_timeout = Duration::from_secs(1);
    })
    .await;
    let mut h2 = RawH2::connect(app.addr).await;
    h2.open(1, GET_MEMBER, None).await;
    let end = h2
        .frame_where(Duration::from_secs(20), |f| {
            f.stream_id == 1 && f.ends_stream()
        })
        .await
        .expect("the server ends the call");
    assert_eq!(
        end.kind,
        raw_h2::HEADERS,
        "answered with a status, not reset: {end:?}"
    );
    drop(h2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_atone_sheds_calls_with_unavailable_and_the_webhook_with_503() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.server.max_in_flight = 3;
    })
    .await;
    let user = unique_user("shed");
    let mut h2 = RawH2::connect(app.addr).await;
    // Four calls that never finish their request, on one connection: the server takes them
    // in order, so three hold the three permits and the fourth is shed at once. Its answer
    // is the sign that the other three are held.
    let mut held = vec![1, 3, 5, 7];
    for &id in &held {
        h2.open(id, GET_MEMBER, None).await;
    }
    let shed_at_once = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let frame = h2.next_frame().await.expect("the connection stays open");
            if frame.kind == raw_h2::HEADERS {
                return frame.stream_id;
            }
        }
    })
    .await
    .expect("the call past the three held ones is answered at once");
    held.retain(|&id| id != shed_at_once);
    assert_eq!(held.len(), 3, "one of the four answered: {shed_at_once}");
    let mut query = app.query().await;
    let get = GetMemberRequest {
        user_id: user.clone(),
        min_version: 0,
    };
    let shed = eventually(Duration::from_secs(10), "a call shed", || {
        let mut query = query.clone();
        let get = get.clone();
        async move { query.get_member(get).await.err() }
    })
    .await;
    assert_eq!(shed.code(), Code::Unavailable, "{shed:?}");
    assert!(shed.message().contains("saturated"), "{shed:?}");
    let webhook = reqwest::Client::new()
        .post(format!("{}/webhooks/payments", app.endpoint()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(webhook.status().as_u16(), 503, "a provider retries on 503");
    assert_eq!(
        webhook
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );

    // The held calls end (the client gives up on them): calls are served again.
    for &id in &held {
        h2.send(raw_h2::RST_STREAM, 0, id, &0x8u32.to_be_bytes())
            .await;
    }
    eventually(Duration::from_secs(10), "calls served again", || {
        let mut query = query.clone();
        let get = get.clone();
        async move { query.get_member(get).await.ok() }
    })
    .await;
    query
        .get_member(get)
        .await
        .expect("served once the held calls are gone");
    drop(h2);
    app.stop().await;
}

fn watch(user: &str) -> WatchMemberRequest {
    WatchMemberRequest {
        user_id: user.into(),
        cursor: String::new(),
        min_version: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_are_capped_per_member_and_per_process() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        if let Some(query) = s.query.as_mut() {
            query.api.max_watchers_per_member = 2;
            query.api.max_watchers = 3;
        }
    })
    .await;
    let (a, b, c) = (
        unique_user("cap-a"),
        unique_user("cap-b"),
        unique_user("cap-c"),
    );
    let first = Watcher::open(&app, &a, "").await;
    let _second = Watcher::open(&app, &a, "").await;
    let third = app.query().await.watch_member(watch(&a)).await;
    let refused = third.expect_err("a third watch of one member is refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("already has 2 watches open"),
        "{refused:?}"
    );

    let _other = Watcher::open(&app, &b, "").await;
    let refused = app
        .query()
        .await
        .watch_member(watch(&c))
        .await
        .expect_err("past the process's cap");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("3 watches open"), "{refused:?}");
    assert_eq!(app.watchers().await, 3);

    // A watch that ends gives its place back.
    drop(first);
    watchers_become(&app, 2, Duration::from_secs(10)).await;
    let mut again = Watcher::open(&app, &a, "").await;
    again.next_snapshot().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_without_closing_loses_its_watch_within_the_keepalive_window() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.server.keepalive_interval = Duration::from_secs(1);
        s.server.keepalive_timeout = Duration::from_secs(1);
    })
    .await;
    let user = unique_user("vanish");
    buy(&app, &user, 1000).await;
    let mut h2 = RawH2::connect(app.addr).await;
    h2.open(1, WATCH_MEMBER, Some(&watch(&user).encode_to_vec()))
        .await;
    h2.frame_where(Duration::from_secs(10), |f| {
        f.stream_id == 1 && f.kind == raw_h2::DATA && !f.payload.is_empty()
    })
    .await
    .expect("the watch's snapshot");
    assert_eq!(app.watchers().await, 1);

    // From here the client answers nothing (not even the server's pings) and never closes
    // its socket: a phone that went into a tunnel.
    watchers_become(&app, 0, Duration::from_secs(20)).await;
    drop(h2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_history_is_paged_out_of_the_member_snapshot() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        if let Some(query) = s.query.as_mut() {
            query.api.max_settled_items = 2;
        }
    })
    .await;
    let user = unique_user("history");
    let mut command = app.command().await;
    let mut orders = Vec::new();
    for i in 0..5 {
        let bought = command
            .purchase(purchase(&user, 1000 + i, &format!("history-{i}")))
            .await
            .expect("purchase")
            .into_inner();
        orders.push(bought.order_id);
    }
    let mut version = 0;
    for (i, order) in orders.iter().take(3).enumerate() {
        version = command
            .cancel_purchase(CancelPurchaseRequest {
                user_id: user.clone(),
                order_id: order.clone(),
                amount: 0,
                idempotency_key: format!("history-cancel-{i}"),
            })
            .await
            .expect("cancel")
            .into_inner()
            .version;
    }

    let member = get_member(&app, &user, version).await;
    let shown: Vec<&str> = member
        .promises
        .iter()
        .map(|p| p.order_id.as_str())
        .collect();
    let newest_four: Vec<&str> = orders.iter().rev().take(4).map(String::as_str).collect();
    assert_eq!(
        shown, newest_four,
        "the 2 open and the 2 newest settled, newest first"
    );
    assert!(
        member.settled_truncated,
        "older settled promises were left out"
    );
    let listed = app
        .query()
        .await
        .list_payment_promises(ListPaymentPromisesRequest {
            user_id: user.clone(),
            page_size: 50,
            page_token: String::new(),
            min_version: 0,
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed.promises.len(),
        5,
        "the list pages through all of them"
    );

    let mut watcher = Watcher::open(&app, &user, "").await;
    let (_, snapshot) = watcher.next_snapshot().await;
    let watched = snapshot.member.expect("a member");
    assert_eq!(watched.promises.len(), 4, "{watched:?}");
    assert!(watched.settled_truncated);
    app.stop().await;
}
