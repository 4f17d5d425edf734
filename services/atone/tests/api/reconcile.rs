//! The periodic reconcile: a member whose last event never reached a projector (it was in
//! the event store, but trimmed from the stream, or lost with its outbox row, before any
//! projector read it) is repaired from the event store, counted and pushed to watchers.

use std::time::Duration;

use atone_api::v1::GetStatusRequest;
use atone_delivery::{RECONCILE_SOURCE, ReconcileConfig};
use atone_storage::entity::events;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait};

use atone_testkit::*;

async fn reconcile_repairs_an_event_no_projector_got(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        if let Some(projector) = s.projector.as_mut() {
            projector.reconcile = ReconcileConfig {
                interval: Duration::from_millis(500),
                grace: Duration::ZERO,
            };
        }
    })
    .await;
    let user = unique_user("lost");
    let bought = buy(&app, &user, 1000).await;
    get_member(&app, &user, bought.version).await;
    let mut watch = Watcher::open(&app, &user, "").await;
    let (_, snapshot) = watch.next_snapshot().await;
    let at = snapshot.member.and_then(|m| m.summary).map(|s| s.version);
    assert_eq!(at, Some(bought.version));

    // Version 3 is in the event store, and on no stream or outbox any projector reads.
    let lost = events::ActiveModel {
        event_id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(user.clone()),
        version: Set(bought.version + 1),
        event_type: Set("CreditLimitChanged".into()),
        event_data: Set(serde_json::json!({"limit": 70_000})),
        occurred_at: Set(Utc::now()),
        idempotency_key: Set("lost-limit".into()),
        correlation_id: Set("reconcile-test".into()),
        ..Default::default()
    };
    events::Entity::insert(lost)
        .exec_without_returning(&app.db)
        .await
        .expect("insert");

    let (_, change) = watch.next_change().await;
    assert_eq!(change.version, bought.version + 1, "pushed to the watcher");
    let member = get_member(&app, &user, bought.version + 1).await;
    assert_eq!(member.summary.map(|s| s.credit_limit), Some(70_000));
    let status = app
        .projector()
        .await
        .get_status(GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    let reconcile = status
        .sources
        .iter()
        .find(|s| s.source_id == RECONCILE_SOURCE)
        .expect("the reconcile shows in GetStatus");
    assert_eq!(reconcile.events_applied, 1, "{reconcile:?}");
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(reconcile_repairs_an_event_no_projector_got);
