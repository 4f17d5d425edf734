//! atone-storage on its own, on SQLite in a temporary directory (no services): appends and
//! their conflicts, global positions, idempotency keys kept then forgotten, snapshots of
//! another schema folded afresh, leases taken, renewed and fenced, and the webhook
//! endpoints' cursors.

use atone_domain::{Event, Member, PaymentMode, PurchaseCompleted};
use atone_storage::entity::snapshots;
use atone_storage::event_store::Appending;
use atone_storage::leases::{self, Fence};
use atone_storage::webhooks::{self, Endpoint};
use atone_storage::{
    CommandMeta, DatabaseConnection, DbConfig, EventStore, StorageError, event_log, idempotency,
};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

struct Store {
    db: DatabaseConnection,
    _dir: tempfile::TempDir,
}

async fn store() -> Store {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("atone.db").display()
    );
    let db = atone_storage::connect(&DbConfig::new(url))
        .await
        .expect("connect");
    atone_storage::migrate(&db).await.expect("migrate");
    Store { db, _dir: dir }
}

fn bought(amount: i64) -> Event {
    Event::PurchaseCompleted(PurchaseCompleted {
        order_id: uuid::Uuid::now_v7(),
        product_id: "p".into(),
        product_name: "a product".into(),
        amount,
        payment_mode: PaymentMode::Immediate,
        credit_limit: 50_000,
    })
}

fn meta(key: &str) -> CommandMeta {
    CommandMeta {
        idempotency_key: key.into(),
        correlation_id: "test".into(),
        trace_parent: String::new(),
        occurred_at: Utc::now(),
    }
}

#[tokio::test]
async fn a_second_append_at_the_same_version_is_a_conflict_and_changes_nothing() {
    let s = store().await;
    let events = EventStore::new(s.db.clone(), 100);
    let before = Member::default();
    events
        .append("alice", &before, vec![bought(100)], &meta("k1"))
        .await
        .expect("the first append");
    let second = events
        .append("alice", &before, vec![bought(200)], &meta("k2"))
        .await;
    assert!(
        matches!(second, Err(StorageError::Conflict { ref user_id, version: 1 }) if user_id == "alice"),
        "{second:?}"
    );
    let stored = event_log::log(&s.db, "alice", 0, 10)
        .await
        .expect("the log");
    assert_eq!(stored.len(), 1);
    assert_eq!(event_log::last_position(&s.db).await.expect("last"), 1);
}

#[tokio::test]
async fn a_batch_with_one_conflict_appends_the_others_with_their_positions_in_order() {
    let s = store().await;
    let events = EventStore::new(s.db.clone(), 100);
    events
        .append("bob", &Member::default(), vec![bought(100)], &meta("b1"))
        .await
        .expect("bob's first");
    let batch = ["carol", "bob", "dave"]
        .iter()
        .map(|user| Appending {
            user_id: (*user).to_owned(),
            // Stale for bob: he is at version 1.
            before: Member::default(),
            events: vec![bought(10), bought(20)],
            meta: meta(&format!("{user}-batch")),
        })
        .collect();
    let results = events.append_batch(batch).await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StorageError::Conflict { .. })),
        "{results:?}"
    );

    let all = event_log::after_position(&s.db, 0, 100)
        .await
        .expect("read");
    let positions: Vec<i64> = all.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        [1, 2, 3, 4, 5],
        "dense, none given to the conflict"
    );
    let order: Vec<(&str, i64)> = all
        .iter()
        .map(|e| (e.user_id.as_str(), e.event.version))
        .collect();
    assert_eq!(
        order,
        [
            ("bob", 1),
            ("carol", 1),
            ("carol", 2),
            ("dave", 1),
            ("dave", 2)
        ]
    );
    let after_three = event_log::after_position(&s.db, 3, 100)
        .await
        .expect("read");
    assert_eq!(after_three.len(), 2);
}

#[tokio::test]
async fn a_lease_is_taken_once_renewed_by_its_holder_and_fences_off_the_one_it_was_stolen_from() {
    let s = store().await;
    let db = &s.db;
    leases::ensure(db, "relay", leases::KIND_RELAY, &[])
        .await
        .expect("ensure");
    let seen = leases::get(db, "relay")
        .await
        .expect("get")
        .expect("the row");
    assert!(leases::is_free(&seen, Utc::now()));
    let soon = Utc::now() + Duration::seconds(10);
    let first = leases::take(db, &seen, "one", soon)
        .await
        .expect("take")
        .expect("taken");
    // A second taker that read the same row loses.
    assert_eq!(
        leases::take(db, &seen, "two", soon).await.expect("take"),
        None
    );
    let one = Fence {
        owner: "one",
        counter: first,
    };
    assert!(leases::renew(db, "relay", one, soon).await.expect("renew"));

    // Expired, it is stolen: the old holder can neither renew nor release it.
    leases::renew(db, "relay", one, Utc::now() - Duration::seconds(1))
        .await
        .expect("expire");
    let expired = leases::get(db, "relay")
        .await
        .expect("get")
        .expect("the row");
    assert!(leases::is_free(&expired, Utc::now()));
    let second = leases::take(db, &expired, "two", soon)
        .await
        .expect("take")
        .expect("stolen");
    assert!(second > first);
    assert!(!leases::renew(db, "relay", one, soon).await.expect("renew"));
    assert!(!leases::release(db, "relay", one).await.expect("release"));
    let two = Fence {
        owner: "two",
        counter: second,
    };
    assert!(leases::release(db, "relay", two).await.expect("release"));
    let released = leases::get(db, "relay")
        .await
        .expect("get")
        .expect("the row");
    assert!(released.owner.is_none());
}

fn endpoint(id: &str) -> Endpoint {
    Endpoint {
        endpoint_id: id.into(),
        url: "http://127.0.0.1:9/hook".into(),
        event_types: vec!["PurchaseCompleted".into()],
        secret: "whsec_test".into(),
        enabled: true,
        disabled_reason: None,
        after_position: 0,
        generation: 0,
        failing_since: None,
        created_at: Utc::now(),
    }
}

#[tokio::test]
async fn a_webhook_cursor_moves_forward_only_within_its_generation() {
    let s = store().await;
    let db = &s.db;
    assert!(webhooks::add(db, &endpoint("e")).await.expect("add"));
    assert!(
        !webhooks::add(db, &endpoint("e")).await.expect("again"),
        "the id is taken"
    );
    assert!(webhooks::advance(db, "e", 0, 5).await.expect("advance"));
    assert!(
        !webhooks::advance(db, "e", 0, 3).await.expect("back"),
        "never back"
    );

    // A replay: a new generation, the cursor where the replay says.
    assert!(webhooks::replay(db, "e", 2).await.expect("replay"));
    let replayed = webhooks::get(db, "e")
        .await
        .expect("get")
        .expect("the endpoint");
    assert_eq!((replayed.after_position, replayed.generation), (2, 1));
    assert!(
        !webhooks::advance(db, "e", 0, 9).await.expect("stale"),
        "a delivery of the old generation cannot move it"
    );
    // Failures disable it only at the generation they were seen in.
    assert!(
        !webhooks::disable(db, "e", "failing", Some(0))
            .await
            .expect("stale")
    );
    assert!(
        webhooks::disable(db, "e", "failing", Some(1))
            .await
            .expect("disable")
    );
    let disabled = webhooks::get(db, "e")
        .await
        .expect("get")
        .expect("the endpoint");
    assert!(!disabled.enabled);
    assert_eq!(disabled.disabled_reason.as_deref(), Some("failing"));
    assert!(
        format!("{disabled:?}").contains("<hidden>")
            && !format!("{disabled:?}").contains("whsec_test")
    );
}

fn meta_at(key: &str, at: chrono::DateTime<Utc>) -> CommandMeta {
    CommandMeta {
        occurred_at: at,
        ..meta(key)
    }
}

#[tokio::test]
async fn a_key_is_kept_for_the_retention_then_forgotten_and_free_again() {
    let s = store().await;
    let events = EventStore::new(s.db.clone(), 100);
    let now = Utc::now();
    events
        .append(
            "alice",
            &Member::default(),
            vec![bought(100)],
            &meta_at("old", now - Duration::days(10)),
        )
        .await
        .expect("an append ten days ago");
    let alice = events.load("alice").await.expect("load");
    events
        .append("alice", &alice, vec![bought(200)], &meta_at("new", now))
        .await
        .expect("an append now");
    assert!(
        events
            .earlier("alice", "old")
            .await
            .expect("read")
            .is_some()
    );

    // Keys kept since before yesterday go; today's stays.
    let purged = idempotency::purge(&s.db, now - Duration::days(1), 100)
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    assert!(
        events
            .earlier("alice", "old")
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        events
            .earlier("alice", "new")
            .await
            .expect("read")
            .is_some()
    );
    assert_eq!(idempotency::count(&s.db).await.expect("count"), 1);
    // A purge bounded by its limit forgets no more than that.
    assert_eq!(
        idempotency::purge(&s.db, now + Duration::days(1), 0)
            .await
            .expect("purge"),
        0
    );

    // Forgotten, the key is free: a new command may use it.
    let now_state = events.load("alice").await.expect("load");
    events
        .append("alice", &now_state, vec![bought(300)], &meta_at("old", now))
        .await
        .expect("the key used afresh");
    assert_eq!(events.load("alice").await.expect("load").version, 3);
}

/// A change to a snapshot row.
type Doctor = Box<dyn FnOnce(&mut snapshots::ActiveModel)>;

/// Sets the member's snapshot row as a test would find one written by another version.
async fn doctor_snapshot(
    db: &DatabaseConnection,
    user_id: &str,
    change: impl FnOnce(&mut snapshots::ActiveModel),
) {
    let row = snapshots::Entity::find_by_id(user_id)
        .one(db)
        .await
        .expect("read the snapshot")
        .expect("a snapshot was written");
    let mut active: snapshots::ActiveModel = row.into();
    change(&mut active);
    active.update(db).await.expect("doctor the snapshot");
}

#[tokio::test]
async fn a_snapshot_of_another_schema_or_version_is_folded_afresh_and_written_again() {
    let s = store().await;
    // A snapshot every second event: three events leave one at version 2.
    let events = EventStore::new(s.db.clone(), 2);
    let mut state = Member::default();
    for (n, amount) in [100, 200, 300].into_iter().enumerate() {
        let appended = events
            .append(
                "carol",
                &state,
                vec![bought(amount)],
                &meta(&format!("c{n}")),
            )
            .await
            .expect("append");
        for envelope in &appended {
            state.apply(&envelope.recorded);
        }
    }
    let written = snapshots::Entity::find_by_id("carol")
        .one(&s.db)
        .await
        .expect("read")
        .expect("a snapshot at the second event");
    assert_eq!(written.version, 2);
    assert_eq!(events.load("carol").await.expect("load"), state);

    let cases: [(&str, Doctor); 3] = [
        (
            "another schema",
            Box::new(|a| a.schema_version = Set(Member::SCHEMA - 1)),
        ),
        (
            "state that does not read",
            Box::new(|a| a.state = Set(serde_json::json!({"not": "a member"}))),
        ),
        (
            "a version its state does not have",
            Box::new(|a| a.version = Set(1)),
        ),
    ];
    for (what, change) in cases {
        doctor_snapshot(&s.db, "carol", change).await;
        let loaded = events.load("carol").await.expect("load");
        assert_eq!(loaded, state, "{what}: the whole stream folded");
        let again = snapshots::Entity::find_by_id("carol")
            .one(&s.db)
            .await
            .expect("read")
            .expect("the snapshot written again");
        assert_eq!(again.schema_version, Member::SCHEMA, "{what}");
        assert_eq!(again.version, 3, "{what}: written at the state folded");
        let reread: Member = serde_json::from_value(again.state).expect("the current schema");
        assert_eq!(reread, state, "{what}");
    }
}
