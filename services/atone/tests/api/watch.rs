//! WatchMember: resuming from a cursor, cursors older than the feed keeps, fan-out.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_api::v1::{IssueImmediateBillRequest, SnapshotReason, WatchMemberRequest};
use atone_storage::entity::change_feed;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use atone_testkit::*;

async fn resume_gets_exactly_the_missed_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("resume");

    let mut watch = Watcher::open(&app, &user, "").await;
    watch.next_snapshot().await;
    let first = buy(&app, &user, 1000).await;
    watch.next_change().await;
    let (cursor, change) = watch.next_change().await;
    assert_eq!((cursor.as_str(), change.version), ("2", 2));
    drop(watch);

    // Three changes while disconnected: a purchase (two events) and a bill.
    let second = buy(&app, &user, 2000).await;
    let bill = app
        .command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: first.promise_id.clone(),
            amount: 0,
            idempotency_key: "bill-first".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    assert_eq!((second.version, bill.version), (4, 5));

    let mut watch = Watcher::open(&app, &user, &cursor).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let (cursor, change) = watch.next_change().await;
        assert_eq!(cursor, change.version.to_string());
        got.push((change.version, change.event_type));
    }
    assert_eq!(
        got,
        vec![
            (3, "PurchaseCompleted".to_owned()),
            (4, "PaymentPromiseCreated".to_owned()),
            (5, "MemberBillIssued".to_owned())
        ]
    );
    watch.assert_quiet(Duration::from_millis(300)).await;

    // And it is live again afterwards.
    buy(&app, &user, 3000).await;
    assert_eq!(watch.next_change().await.1.version, 6);
    assert_eq!(watch.next_change().await.1.version, 7);
    app.stop().await;
}

on_each_backend!(resume_gets_exactly_the_missed_changes);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_older_than_the_feed_gets_a_fresh_snapshot() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.query.as_mut().expect("query").feed.retention = Duration::from_secs(1)
    })
    .await;
    let user = unique_user("expired");

    let mut watch = Watcher::open(&app, &user, "").await;
    watch.next_snapshot().await;
    buy(&app, &user, 1000).await;
    watch.next_change().await;
    let (cursor, _) = watch.next_change().await;
    drop(watch);
    buy(&app, &user, 2000).await;

    eventually(
        Duration::from_secs(20),
        "the feed to drop the member's changes",
        || async {
            let left = change_feed::Entity::find()
                .filter(change_feed::Column::UserId.eq(user.as_str()))
                .count(&app.db)
                .await
                .ok()?;
            (left == 0).then_some(())
        },
    )
    .await;

    let mut watch = Watcher::open(&app, &user, &cursor).await;
    let (cursor, snapshot) = watch.next_snapshot().await;
    assert_eq!(snapshot.reason, SnapshotReason::CursorExpired as i32);
    let member = snapshot.member.expect("member");
    assert_eq!(member.summary.as_ref().map(|s| s.version), Some(4));
    assert_eq!(cursor, "4");
    assert_eq!(member.promises.len(), 2);

    buy(&app, &user, 500).await;
    assert_eq!(watch.next_change().await.1.version, 5);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_watcher_of_a_member_gets_its_changes_and_only_those() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, bob) = (unique_user("alice"), unique_user("bob"));
    let mut alices = Vec::new();
    for _ in 0..3 {
        let mut w = Watcher::open(&app, &alice, "").await;
        w.next_snapshot().await;
        alices.push(w);
    }
    let mut bobs = Watcher::open(&app, &bob, "").await;
    bobs.next_snapshot().await;

    buy(&app, &alice, 1000).await;
    buy(&app, &bob, 2000).await;
    buy(&app, &alice, 3000).await;

    for w in &mut alices {
        let versions = [
            w.next_change().await.1,
            w.next_change().await.1,
            w.next_change().await.1,
            w.next_change().await.1,
        ]
        .map(|c| (c.version, c.summary.map(|s| s.user_id).unwrap_or_default()));
        assert_eq!(versions, [1, 2, 3, 4].map(|v| (v, alice.clone())));
        w.assert_quiet(Duration::from_millis(200)).await;
    }
    let changes = [bobs.next_change().await.1, bobs.next_change().await.1];
    assert_eq!(changes.map(|c| c.version), [1, 2]);
    bobs.assert_quiet(Duration::from_millis(200)).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_with_a_malformed_cursor_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut query = app.query().await;
    for cursor in ["abc", "-1", "1.5"] {
        let status = query
            .watch_member(WatchMemberRequest {
                user_id: "u".into(),
                cursor: cursor.into(),
                min_version: 0,
            })
            .await
            .expect_err("a malformed cursor is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{cursor}: {status:?}");
        assert!(status.message().contains("cursor"), "{}", status.message());
    }
    app.stop().await;
}
