//! Bounded state: idempotency keys in a table of their own, forgotten after the retention;
//! snapshots of another schema folded afresh; the keys of commands appended before the
//! table existed read back from the event store by the migration.

use std::time::Duration;

use atone_api::tonic::Code;
use atone_storage::entity::snapshots;
use atone_storage::idempotency;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use sea_orm_migration::MigratorTrait;

use atone_testkit::*;

async fn keys_are_kept_for_the_retention_then_forgotten(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        if let Some(command) = settings.command.as_mut() {
            command.handler.idempotency_retention = Duration::from_secs(2);
        }
    })
    .await;
    let user = unique_user("retention");
    let mut command = app.command().await;
    let first = command
        .purchase(purchase(&user, 1000, "key-1"))
        .await
        .expect("purchase")
        .into_inner();
    // Within the retention: the same reply, nothing appended; another request refused.
    let again = command
        .purchase(purchase(&user, 1000, "key-1"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again, first);
    let reused = command
        .purchase(purchase(&user, 2000, "key-1"))
        .await
        .expect_err("another request under the key");
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    assert_eq!(app.event_count().await, 2);
    let kept = idempotency::earlier(&app.db, &user, "key-1")
        .await
        .expect("read");
    assert!(kept.is_some(), "the key is in the table");

    eventually(
        Duration::from_secs(15),
        "the key to be forgotten",
        || async {
            let kept = idempotency::earlier(&app.db, &user, "key-1")
                .await
                .expect("read");
            kept.is_none().then_some(())
        },
    )
    .await;
    // Forgotten: the key may be used afresh.
    let fresh = command
        .purchase(purchase(&user, 2000, "key-1"))
        .await
        .expect("the key used afresh")
        .into_inner();
    assert_ne!(fresh.order_id, first.order_id);
    assert_eq!(app.event_count().await, 4);
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
}

on_each_backend!(keys_are_kept_for_the_retention_then_forgotten);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_another_schema_is_folded_afresh_and_written_again() {
    // A build meets an older build's snapshot when it has just started, with no member
    // in memory yet: no cache stands in for the load here.
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        if let Some(command) = settings.command.as_mut() {
            command.handler.snapshot_every = 4;
            command.handler.member_cache = 0;
        }
    })
    .await;
    let user = unique_user("schema");
    for (i, amount) in [1000, 2000].into_iter().enumerate() {
        buy_with_key(&app, &user, amount, &format!("buy-{i}")).await;
    }
    let snapshot = snapshots::Entity::find_by_id(user.clone())
        .one(&app.db)
        .await
        .expect("read")
        .expect("a snapshot at version 4");
    assert_eq!(snapshot.schema_version, atone_domain::Member::SCHEMA);
    // An older build's snapshot: another schema, a state that reads but means something
    // else (here: 999,999 yen owed).
    let mut state = snapshot.state.clone();
    state["outstanding"] = serde_json::json!(999_999);
    snapshots::ActiveModel {
        user_id: Set(user.clone()),
        version: Set(4),
        state: Set(state),
        schema_version: Set(0),
        updated_at: Set(chrono::Utc::now()),
    }
    .update(&app.db)
    .await
    .expect("plant the snapshot");

    // Were the snapshot read, 999,999 yen owed would refuse this purchase.
    buy_with_key(&app, &user, 3000, "buy-2").await;
    let rewritten = snapshots::Entity::find_by_id(user.clone())
        .one(&app.db)
        .await
        .expect("read")
        .expect("a snapshot");
    assert_eq!(rewritten.schema_version, atone_domain::Member::SCHEMA);
    assert_eq!(rewritten.version, 4, "written again at its version");
    assert_eq!(
        rewritten.state["outstanding"],
        1000 + 2000,
        "folded from the events"
    );
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
}

async fn buy_with_key(app: &TestApp, user: &str, amount: i64, key: &str) {
    app.command()
        .await
        .purchase(purchase(user, amount, key))
        .await
        .expect("purchase");
}

/// The migration that made the table reads the keys of earlier commands back from the
/// event store: run again on a database whose table is gone, it gives back each key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn the_migration_reads_earlier_keys_back_from_the_event_store() {
    let app = TestApp::spawn(Backend::MariaDb).await;
    let user = unique_user("backfill");
    buy_with_key(&app, &user, 1000, "old-purchase").await;
    let before = idempotency::earlier(&app.db, &user, "old-purchase")
        .await
        .expect("read")
        .expect("kept");
    // Undone with the migrations after it.
    let names: Vec<String> = atone_migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let at = names
        .iter()
        .position(|n| n == "m20261204_000002_idempotency_keys")
        .expect("the idempotency-key migration");
    atone_migrations::Migrator::down(&app.db, Some((names.len() - at) as u32))
        .await
        .expect("undo the idempotency-key migration");
    atone_migrations::Migrator::up(&app.db, None)
        .await
        .expect("migrate again");
    let after = idempotency::earlier(&app.db, &user, "old-purchase")
        .await
        .expect("read")
        .expect("read back from the events");
    assert_eq!(after, before);
    assert_eq!(idempotency::count(&app.db).await.expect("count"), 1);
    // Migrated again, the events got their positions back, in the order they were stored.
    assert_streams_contiguous(&app.db).await;
}
