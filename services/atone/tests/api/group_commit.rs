//! Group commit at the event store: several members' commands appended in one call are
//! each recorded whole (events, outbox rows, idempotency key), and a command that lost a
//! race fails alone, with nothing of it written, while the others are appended.

use atone_domain::Member;
use atone_storage::event_store::Appending;
use atone_storage::{CommandMeta, EventStore, StorageError, idempotency};
use chrono::Utc;

use atone_testkit::*;

fn appending(user: &str, before: Member, key: &str) -> Appending {
    Appending {
        user_id: user.to_owned(),
        before,
        events: purchase_events("グループ", 1000),
        meta: CommandMeta {
            idempotency_key: key.to_owned(),
            correlation_id: "group-commit".to_owned(),
            trace_parent: String::new(),
            occurred_at: Utc::now(),
        },
    }
}

async fn one_conflict_in_a_group_commit_fails_alone(backend: Backend) {
    let database = TestDatabase::migrated(backend).await;
    let db = database.connect().await;
    let store = EventStore::new(db.clone(), 100);
    let users: Vec<String> = (0..4).map(|i| unique_user(&format!("group-{i}"))).collect();

    // Four members at once: each recorded whole.
    let batch = users
        .iter()
        .map(|u| appending(u, Member::default(), "first"))
        .collect();
    let results = store.append_batch(batch).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for user in &users {
        let member = store.load(user).await.expect("load");
        assert_eq!(member.version, 2);
        assert!(
            idempotency::earlier(&db, user, "first")
                .await
                .expect("read")
                .is_some()
        );
    }

    // Again, one of them deciding on a stale state (version 0): it alone is refused.
    let mut batch = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let before = if i == 2 {
            Member::default()
        } else {
            store.load(user).await.expect("load")
        };
        batch.push(appending(user, before, "second"));
    }
    let results = store.append_batch(batch).await;
    for (i, (user, result)) in users.iter().zip(&results).enumerate() {
        let kept = idempotency::earlier(&db, user, "second")
            .await
            .expect("read");
        let version = store.load(user).await.expect("load").version;
        if i == 2 {
            assert!(
                matches!(result, Err(StorageError::Conflict { .. })),
                "{result:?}"
            );
            assert!(kept.is_none(), "nothing of the refused command is kept");
            assert_eq!(version, 2);
        } else {
            assert!(result.is_ok(), "{result:?}");
            assert!(kept.is_some());
            assert_eq!(version, 4);
        }
    }
    assert_streams_contiguous(&db).await;
}

on_each_backend!(one_conflict_in_a_group_commit_fails_alone);
