//! The live push has no holes: a projector's batch that commits long after later batches of
//! another projector still reaches the watchers, without any further change of its member,
//! and so does one that was in flight when a query process started. The test plays the two
//! projectors itself (atone runs without one), with real projection transactions on MariaDB.

use std::time::Duration;

use atone_storage::projection::{self, Incoming, Readable};
use atone_storage::{DatabaseConnection, db, event_store};
use sea_orm::DatabaseTransaction;

use atone_testkit::*;

/// Applies the member's events the read models lack, as projector `source`, in `txn`.
async fn project_in(
    txn: &DatabaseTransaction,
    conn: &DatabaseConnection,
    user: &str,
    source: &str,
) {
    let at = atone_storage::read_model::member_version(conn, user)
        .await
        .expect("version");
    let events = event_store::read_stream(conn, user, at, None)
        .await
        .expect("events");
    assert!(!events.is_empty(), "{user} has events to project");
    let batch = events.into_iter().map(Incoming::Event).collect();
    let outcome = projection::apply_batch(txn, batch, &Readable::default(), source)
        .await
        .expect("apply");
    assert!(outcome.parked.is_empty());
}

async fn project(conn: &DatabaseConnection, user: &str, source: &str) {
    let (txn, _turn) = db::begin_write(conn).await.expect("begin");
    project_in(&txn, conn, user, source).await;
    txn.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_batch_committed_late_reaches_watchers_without_another_change() {
    // Queries only: the test appends the events and projects them.
    let app = TestApp::spawn_with(Backend::MariaDb, |s| {
        s.command = None;
        s.projector = None;
    })
    .await;
    let conn = app.db.clone();
    let (x, y) = (unique_user("late"), unique_user("busy"));
    let buy = |user: String| {
        let conn = conn.clone();
        async move { append(&conn, &user, purchase_events("テスト", 1000)).await }
    };
    buy(x.clone()).await;
    buy(y.clone()).await;
    project(&conn, &x, "projector-1").await;
    project(&conn, &y, "projector-1").await;
    let mut x_watch = Watcher::open(&app, &x, "").await;
    let (_, snapshot) = x_watch.next_snapshot().await;
    assert_eq!(
        snapshot.member.and_then(|m| m.summary).map(|s| s.version),
        Some(2)
    );
    let mut y_watch = Watcher::open(&app, &y, "").await;
    y_watch.next_snapshot().await;

    // Projector 2 applies X's next purchase and does not commit...
    buy(x.clone()).await;
    let (held, _held_turn) = db::begin_write(&conn).await.expect("begin");
    project_in(&held, &conn, &x, "projector-2").await;
    // ...while projector 1 goes on with Y, committed and pushed.
    buy(y.clone()).await;
    project(&conn, &y, "projector-1").await;
    assert_eq!(y_watch.next_change().await.1.version, 3);
    assert_eq!(y_watch.next_change().await.1.version, 4);

    // A query process that starts now, with X's batch still in flight.
    let late_reader = TestApp::spawn_on(app.database.shared(), |s| {
        s.command = None;
        s.projector = None;
    })
    .await;
    let mut x_late = Watcher::open(&late_reader, &x, "").await;
    x_late.next_snapshot().await;

    // Held open past any timeout a reader could have (the one this design replaced gave a
    // missing row up after 30 s): the scenario itself, not a wait for a condition.
    tokio::time::sleep(Duration::from_secs(31)).await;
    held.commit().await.expect("commit late");

    // No further change of X: both watchers get versions 3 and 4.
    for watch in [&mut x_watch, &mut x_late] {
        assert_eq!(watch.next_change().await.1.version, 3);
        assert_eq!(watch.next_change().await.1.version, 4);
    }
    late_reader.stop().await;
    app.stop().await;
}
