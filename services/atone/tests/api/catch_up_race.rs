//! A watch's catch-up that races a commit. The catch-up reads the member's feed rows after
//! the cursor, then the member's version: were the two read in separate snapshots, a
//! commit landing between them would show no row after the cursor and a higher version,
//! which is what an expired cursor looks like, and a live cursor would get a
//! CURSOR_EXPIRED snapshot. Here the commit is made to land there on purpose (a hook in
//! the catch-up, between its two reads), and the watcher must get the new versions as
//! changes, in order, and no snapshot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use atone_api::v1::SnapshotReason;
use atone_api::v1::watch_member_response::Kind;
use atone_query::watch_seam;
use atone_storage::read_model;

use atone_testkit::*;

async fn a_commit_between_the_catch_up_reads_is_not_an_expired_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("race");
    buy(&app, &user, 1000).await;
    let second = buy(&app, &user, 2000).await;
    assert_eq!(second.version, 4, "two purchases, two events each");
    assert_eq!(
        get_member(&app, &user, 4).await.summary.map(|s| s.version),
        Some(4)
    );

    // Between the catch-up's two reads: a purchase (versions 5 and 6), committed, and
    // applied to the read model.
    let ran = Arc::new(AtomicBool::new(false));
    let mut command = app.command().await;
    let db = app.db.clone();
    let hook_ran = Arc::clone(&ran);
    let hook_user = user.clone();
    watch_seam::between_catch_up_reads(&user, move || {
        Box::pin(async move {
            let reply = command
                .purchase(purchase(&hook_user, 3000, "race-third"))
                .await
                .expect("the purchase between the reads")
                .into_inner();
            assert_eq!(reply.version, 6, "a purchase appends two events");
            eventually(
                Duration::from_secs(20),
                "the purchase between the reads to reach the read model",
                || async {
                    let version = read_model::member_version(&db, &hook_user).await.ok()?;
                    (version >= 6).then_some(())
                },
            )
            .await;
            hook_ran.store(true, Ordering::SeqCst);
        })
    });

    let mut watcher = Watcher::open(&app, &user, "4").await;
    for expected in 5..=6 {
        let message = watcher.next().await;
        match message.kind {
            Some(Kind::Change(change)) => {
                assert_eq!(change.version, expected, "the changes after 4, in order");
                assert_eq!(message.cursor, expected.to_string());
            }
            Some(Kind::Snapshot(snapshot)) => panic!(
                "expected change {expected}, got a snapshot at {} (reason {:?}): \
                 the catch-up took a commit between its reads for an expired cursor",
                message.cursor,
                SnapshotReason::try_from(snapshot.reason)
            ),
            None => panic!("expected change {expected}, got an empty message"),
        }
    }
    assert!(
        ran.load(Ordering::SeqCst),
        "the hook ran: the commit landed between the catch-up's reads"
    );
    // Nothing else: in particular no CURSOR_EXPIRED snapshot after the changes.
    watcher.assert_quiet(Duration::from_millis(300)).await;
    app.stop().await;
}

on_each_backend!(a_commit_between_the_catch_up_reads_is_not_an_expired_cursor);
