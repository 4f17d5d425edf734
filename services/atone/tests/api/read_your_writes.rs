//! min_version: a query waits, bounded, for the read model to reach the version a command
//! answered.

use std::time::Duration;

use atone_api::tonic::{Code, Request};
use atone_api::v1::GetMemberRequest;
use atone_storage::entity::events;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait};

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_query_with_min_version_sees_the_command_it_follows() {
    let app = TestApp::spawn(Backend::MariaDb).await;
    let user = unique_user("ryw");
    for i in 1..=20 {
        let reply = buy(&app, &user, 100).await;
        let member = get_member(&app, &user, reply.version).await;
        let summary = member.summary.expect("summary");
        assert!(summary.version >= reply.version);
        assert_eq!(member.promises.len(), i);
    }
    app.stop().await;
}

/// Appends an event straight to the event store, with no outbox row: the projector never
/// hears of it, so the read model stays behind it, like a lagging projector.
async fn append_unannounced_event(app: &TestApp, user: &str, version: i64) {
    let event = atone_domain::Event::PurchaseCompleted(atone_domain::PurchaseCompleted {
        order_id: uuid::Uuid::now_v7(),
        product_id: "p".into(),
        product_name: String::new(),
        amount: 1,
        payment_mode: atone_domain::PaymentMode::Immediate,
        credit_limit: 50_000,
    });
    events::Entity::insert(events::ActiveModel {
        event_id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(user.to_owned()),
        version: Set(version),
        event_type: Set(event.event_type().to_owned()),
        event_data: Set(event.to_json()),
        occurred_at: Set(Utc::now()),
        idempotency_key: Set("unannounced".into()),
        correlation_id: Set("test".into()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .expect("insert the event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_model_that_stays_behind_answers_unavailable_after_the_bound() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.query.as_mut().expect("query").api.max_wait = Duration::from_millis(300)
    })
    .await;
    let user = unique_user("lagging");
    let reply = buy(&app, &user, 100).await;
    append_unannounced_event(&app, &user, reply.version + 1).await;

    let status = app
        .query()
        .await
        .get_member(GetMemberRequest {
            user_id: user.clone(),
            min_version: reply.version + 1,
        })
        .await
        .expect_err("the read model never reaches that version");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("behind"), "{}", status.message());

    // With a deadline shorter than the bound, the client's deadline is what passes.
    let mut request = Request::new(GetMemberRequest {
        user_id: user.clone(),
        min_version: reply.version + 1,
    });
    request.set_timeout(Duration::from_millis(200));
    let status = app
        .query()
        .await
        .get_member(request)
        .await
        .expect_err("deadline");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_delivery_is_filled_from_the_event_store() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = unique_user("gap");
    let reply = buy(&app, &user, 100).await;
    append_unannounced_event(&app, &user, reply.version + 1).await;
    // The next command's events arrive two versions ahead of the read model: the
    // projector reads the missing one from the event store and applies all in order.
    let mut next = purchase(&user, 100, "after-the-gap");
    next.amount = 200;
    let after = app
        .command()
        .await
        .purchase(next)
        .await
        .expect("purchase")
        .into_inner();
    assert_eq!(after.version, reply.version + 3);
    let member = get_member(&app, &user, after.version).await;
    assert_eq!(member.summary.map(|s| s.version), Some(after.version));
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}
