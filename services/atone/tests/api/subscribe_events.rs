//! `SubscribeEvents` over the real gRPC API: every event of every member once, in commit
//! order, while thousands are appended by concurrent clients; across a reconnect in the
//! middle, for a client that does not read for a while, with a filter, from now, from
//! another process's appends; and a clear refusal for every bad request.

use std::collections::BTreeSet;
use std::time::Duration;

use atone_api::tonic::transport::Channel;
use atone_api::tonic::{Code, Streaming};
use atone_api::v1::query_service_client::QueryServiceClient;
use atone_api::v1::subscribe_events_response::Message;
use atone_api::v1::*;
use atone_storage::entity::events;
use sea_orm::{EntityTrait, QueryOrder};

use atone_testkit::*;

/// What a subscription delivered so far.
struct Subscription {
    stream: Streaming<SubscribeEventsResponse>,
    events: Vec<GlobalEvent>,
    /// The last position the subscription passed (an event's, or a checkpoint's).
    passed: i64,
    caught_up: bool,
}

impl Subscription {
    async fn open(app: &TestApp, request: SubscribeEventsRequest) -> Self {
        Self::open_on(app.channel().await, request).await
    }

    async fn open_on(channel: Channel, request: SubscribeEventsRequest) -> Self {
        let passed = request.after_position;
        let stream = QueryServiceClient::new(channel)
            .subscribe_events(request)
            .await
            .expect("a subscription")
            .into_inner();
        Self {
            stream,
            events: Vec::new(),
            passed,
            caught_up: false,
        }
    }

    /// Reads until `done` holds of what was delivered, for at most a minute.
    async fn read_until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let read = tokio::time::timeout(Duration::from_secs(60), async {
            while !done(self) {
                let message = self
                    .stream
                    .message()
                    .await
                    .expect("the stream goes on")
                    .expect("the stream is not over");
                match message.message {
                    Some(Message::Event(event)) => {
                        self.passed = event.position;
                        self.events.push(event);
                    }
                    Some(Message::Checkpoint(c)) => {
                        assert!(c.position >= self.passed, "a checkpoint goes back: {c:?}");
                        self.passed = c.position;
                        self.caught_up |= c.caught_up;
                    }
                    None => panic!("an empty message"),
                }
            }
        })
        .await;
        if read.is_err() {
            panic!(
                "{what}: not within a minute (passed {}, {} events)",
                self.passed,
                self.events.len()
            );
        }
    }

    /// Reads until the subscription has passed `position`.
    async fn read_past(&mut self, position: i64) {
        self.read_until(&format!("past position {position}"), |s| {
            s.passed >= position
        })
        .await;
    }
}

/// Every event in the store, in position order: (position, event id, member, type).
async fn stored(app: &TestApp) -> Vec<(i64, String, String, String)> {
    events::Entity::find()
        .order_by_asc(events::Column::Position)
        .all(&app.db)
        .await
        .expect("read the events")
        .into_iter()
        .map(|e| {
            (
                e.position.expect("every appended event has a position"),
                e.event_id,
                e.user_id,
                e.event_type,
            )
        })
        .collect()
}

fn delivered(events: &[GlobalEvent]) -> Vec<(i64, String, String, String)> {
    events
        .iter()
        .map(|e| {
            let event = e.event.clone().unwrap_or_default();
            (
                e.position,
                event.event_id,
                e.user_id.clone(),
                event.event_type,
            )
        })
        .collect()
}

async fn every_event_once_in_commit_order(backend: Backend) {
    // The tail keeps 2 batches for a slow subscriber: one whose client reads nothing for a
    // while (and takes 16 KiB before HTTP/2 holds the server back) surely falls behind it.
    let app = TestApp::spawn_with(backend, |s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().expect("address"));
        if let Some(query) = &mut s.query {
            query.events.buffered_batches = 2;
        }
    })
    .await;
    let prefix = unique_user("all");
    let first = SubscribeEventsRequest::default();
    // One reads along and reconnects in the middle; one reads nothing until the end, so the
    // broadcast leaves it behind and it reads from the table.
    let mut along = Subscription::open(&app, first.clone()).await;
    let small_window = Channel::from_shared(app.endpoint())
        .expect("endpoint")
        .initial_stream_window_size(Some(16 * 1024))
        .initial_connection_window_size(Some(16 * 1024))
        .connect()
        .await
        .expect("connect");
    let mut idle = Subscription::open_on(small_window, first).await;
    let writing = buy_concurrently(&app, &prefix, 16, 100);
    let reading = async {
        along
            .read_until("1,000 events while they are written", |s| {
                s.events.len() >= 1000
            })
            .await;
    };
    tokio::join!(writing, reading);

    // A reconnect: a new call from the last position seen.
    let seen = along.events.clone();
    let mut resumed = Subscription::open(
        &app,
        SubscribeEventsRequest {
            after_position: along.passed,
            ..Default::default()
        },
    )
    .await;
    drop(along);
    let all = stored(&app).await;
    let last = all.last().map_or(0, |e| e.0);
    assert!(all.len() >= 3200, "16 × 100 purchases, two events each");
    resumed.read_past(last).await;
    idle.read_past(last).await;
    // The checkpoint that ends a catch-up follows its last event.
    resumed.read_until("caught up", |s| s.caught_up).await;

    let positions: Vec<i64> = (1..=last).collect();
    let mut across = seen;
    across.extend(resumed.events.iter().cloned());
    assert_eq!(delivered(&across), all, "across the reconnect");
    assert_eq!(
        across.iter().map(|e| e.position).collect::<Vec<_>>(),
        positions,
        "positions 1..n, none missing, none twice"
    );
    assert_eq!(
        delivered(&idle.events),
        all,
        "a subscriber that read nothing for a while"
    );
    assert!(
        idle.caught_up && resumed.caught_up,
        "each said when it caught up"
    );
    let metrics = crate::metrics::scrape(app.metrics_addr.expect("metrics")).await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("atone_event_subscribers_behind_total ") && !l.ends_with(" 0")),
        "the idle subscriber fell behind the tail and read from the table:\n{metrics}"
    );

    // Filtered: the events of one type, and checkpoints past the others.
    let mut filtered = Subscription::open(
        &app,
        SubscribeEventsRequest {
            event_types: vec!["PaymentPromiseCreated".into()],
            ..Default::default()
        },
    )
    .await;
    filtered.read_past(last).await;
    let promises: Vec<_> = all
        .iter()
        .filter(|e| e.3 == "PaymentPromiseCreated")
        .cloned()
        .collect();
    assert_eq!(
        delivered(&filtered.events),
        promises,
        "only the type asked for"
    );

    // From now: only what is appended after the call.
    let mut from_now = Subscription::open(
        &app,
        SubscribeEventsRequest {
            from_now: true,
            ..Default::default()
        },
    )
    .await;
    from_now.read_until("caught up", |s| s.caught_up).await;
    let user = format!("{prefix}-late");
    buy(&app, &user, 500).await;
    from_now
        .read_until("the late purchase", |s| s.events.len() >= 2)
        .await;
    let late: Vec<_> = stored(&app).await.split_off(all.len());
    assert_eq!(delivered(&from_now.events), late);
    assert_eq!(from_now.events[0].position, last + 1);
    let members: BTreeSet<&str> = from_now.events.iter().map(|e| e.user_id.as_str()).collect();
    assert_eq!(members, BTreeSet::from([user.as_str()]));

    assert_streams_contiguous(&app.db).await;
    app.stop().await;
}

on_each_backend!(every_event_once_in_commit_order);

/// A subscriber of one process gets the events appended through another (it is not woken
/// by them: it finds them by polling).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_subscriber_sees_another_process_s_appends_on_mariadb() {
    let first = TestApp::spawn(Backend::MariaDb).await;
    let second = TestApp::spawn_on(first.database.shared(), |_| {}).await;
    let before = stored(&first).await.last().map_or(0, |e| e.0);
    let mut subscription = Subscription::open(
        &second,
        SubscribeEventsRequest {
            after_position: before,
            ..Default::default()
        },
    )
    .await;
    buy_concurrently(&first, &unique_user("elsewhere"), 4, 25).await;
    let all = stored(&first).await;
    let last = all.last().map_or(0, |e| e.0);
    subscription.read_past(last).await;
    let after: Vec<_> = all.into_iter().filter(|e| e.0 > before).collect();
    assert_eq!(after.len(), 200);
    assert_eq!(delivered(&subscription.events), after);
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_subscription_is_refused_with_its_reason() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        if let Some(query) = &mut s.query {
            query.events.max_subscribers = 2;
        }
    })
    .await;
    let cases = [
        (
            SubscribeEventsRequest {
                after_position: -1,
                ..Default::default()
            },
            "after_position",
        ),
        (
            SubscribeEventsRequest {
                after_position: 5,
                from_now: true,
                ..Default::default()
            },
            "from_now",
        ),
        (
            SubscribeEventsRequest {
                after_position: 1_000_000,
                ..Default::default()
            },
            "past the last event",
        ),
        (
            SubscribeEventsRequest {
                event_types: vec!["PurchaseCompleted".into(), "Purchased".into()],
                ..Default::default()
            },
            "\"Purchased\" is not an event type",
        ),
    ];
    for (request, hint) in cases {
        let refused = app
            .query()
            .await
            .subscribe_events(request.clone())
            .await
            .err()
            .unwrap_or_else(|| panic!("{request:?} is refused"));
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().contains(hint), "{hint}: {refused:?}");
    }

    // The process's limit: a third subscription waits for one of two to end.
    let one = Subscription::open(&app, SubscribeEventsRequest::default()).await;
    let _two = Subscription::open(&app, SubscribeEventsRequest::default()).await;
    let third = match app
        .query()
        .await
        .subscribe_events(SubscribeEventsRequest::default())
        .await
    {
        Ok(_) => panic!("a third subscription is refused"),
        Err(status) => status,
    };
    assert_eq!(third.code(), Code::ResourceExhausted, "{third:?}");
    drop(one);
    eventually(
        Duration::from_secs(10),
        "a subscription once one ended",
        || async {
            app.query()
                .await
                .subscribe_events(SubscribeEventsRequest::default())
                .await
                .ok()
        },
    )
    .await;
    app.stop().await;
}
