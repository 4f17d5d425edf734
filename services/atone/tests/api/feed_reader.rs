//! The change-feed reader moves its position only over rows it returned. Planted on
//! purpose: a source's number says 5 while only rows 1–3 can be read (what a read that sees
//! the number but not yet the rows would find). The watcher gets 1–3, and 4–5 as changes
//! once they can be read, rather than never.

use std::time::Duration;

use atone_api::v1::watch_member_response::Kind;
use atone_projection::{Change, MemberRow};
use atone_storage::entity::{change_feed, feed_sources};
use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};

use atone_testkit::*;

const SOURCE: &str = "planted";

fn row(user: &str, seq: i64) -> change_feed::ActiveModel {
    let change = Change {
        version: seq,
        event_type: "PaymentMethodChanged".into(),
        occurred_at: Utc::now(),
        member: MemberRow {
            version: seq,
            ..MemberRow::new(user)
        },
        promises: Vec::new(),
        bills: Vec::new(),
    };
    change_feed::ActiveModel {
        user_id: Set(user.to_owned()),
        version: Set(seq),
        event_type: Set(change.event_type.clone()),
        change: Set(serde_json::to_vec(&change).expect("a change serializes")),
        created_at: Set(Utc::now()),
        source_id: Set(SOURCE.to_owned()),
        seq: Set(seq),
        trace_parent: Set(None),
        ..Default::default()
    }
}

async fn next_version(watcher: &mut Watcher, what: &str) -> i64 {
    let message = tokio::time::timeout(Duration::from_secs(10), watcher.next())
        .await
        .unwrap_or_else(|_| panic!("{what} within 10 s"));
    match message.kind {
        Some(Kind::Change(change)) => change.version,
        other => panic!("{what}: a change, got {other:?}"),
    }
}

async fn rows_the_reader_has_not_returned_still_reach_watchers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("planted");
    let mut watcher = Watcher::open(&app, &user, "").await;
    watcher.next_snapshot().await;

    let txn = app.db.begin().await.expect("begin");
    feed_sources::Entity::insert(feed_sources::ActiveModel {
        source_id: Set(SOURCE.to_owned()),
        seq: Set(5),
    })
    .exec_without_returning(&txn)
    .await
    .expect("the source, numbered to 5");
    change_feed::Entity::insert_many((1..=3).map(|seq| row(&user, seq)))
        .exec_without_returning(&txn)
        .await
        .expect("rows 1-3");
    txn.commit().await.expect("commit");
    for version in 1..=3 {
        assert_eq!(next_version(&mut watcher, "rows 1-3").await, version);
    }

    change_feed::Entity::insert_many((4..=5).map(|seq| row(&user, seq)))
        .exec_without_returning(&app.db)
        .await
        .expect("rows 4-5");
    for version in 4..=5 {
        assert_eq!(
            next_version(&mut watcher, "rows 4-5, once they can be read").await,
            version
        );
    }
}

on_each_backend!(rows_the_reader_has_not_returned_still_reach_watchers);
