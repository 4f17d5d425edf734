//! Races on one member, on MariaDB, through two atone instances sharing the database: the
//! unique (user_id, version) key, not an in-process lock, is what keeps them apart.

use atone_api::tonic::Code;
use atone_api::v1::IssueImmediateBillRequest;
use futures::future::join_all;

use atone_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn twenty_concurrent_bills_of_one_promise_make_exactly_one_bill() {
    let first = TestApp::spawn(Backend::MariaDb).await;
    let second = TestApp::spawn_on(first.database.shared(), |_| {}).await;
    let user = unique_user("race-bill");
    let promise = buy(&first, &user, 5000).await.promise_id;

    let attempts = (0..20).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        let request = IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: promise.clone(),
            amount: 5000,
            idempotency_key: format!("bill-attempt-{i}"),
        };
        async move { app.command().await.issue_immediate_bill(request).await }
    });
    let results = join_all(attempts).await;

    let billed: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        billed.len(),
        1,
        "exactly one attempt bills the promise: {results:?}"
    );
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(
            refused.message().contains("already billed"),
            "{}",
            refused.message()
        );
    }
    assert_eq!(events_of_type(&first.db, "MemberBillIssued").await.len(), 1);
    first.wait_until_projected().await;
    assert_eq!(get_member(&first, &user, 3).await.bills.len(), 1);
    assert_streams_contiguous(&first.db).await;
    assert_read_models_match_event_store(&first.db).await;
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn ten_concurrent_purchases_fill_the_credit_limit_exactly() {
    let first = TestApp::spawn(Backend::MariaDb).await;
    let second = TestApp::spawn_on(first.database.shared(), |_| {}).await;
    let user = unique_user("race-limit");

    let attempts = (0..10).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        let request = purchase(&user, 10_000, &format!("purchase-attempt-{i}"));
        async move { app.command().await.purchase(request).await }
    });
    let results = join_all(attempts).await;

    let accepted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        accepted, 5,
        "50,000 yen of credit takes exactly five 10,000 yen purchases: {results:?}"
    );
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(
            refused.message().contains("credit limit"),
            "{}",
            refused.message()
        );
    }
    assert_eq!(
        events_of_type(&first.db, "PaymentPromiseCreated")
            .await
            .len(),
        5
    );
    first.wait_until_projected().await;
    let member = get_member(&first, &user, 10).await;
    assert_eq!(member.promises.len(), 5);
    assert_eq!(
        member
            .summary
            .map(|s| (s.outstanding_amount, s.available_credit)),
        Some((50_000, 0))
    );
    assert_streams_contiguous(&first.db).await;
    assert_read_models_match_event_store(&first.db).await;
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn many_members_at_once_keep_contiguous_streams() {
    let app = TestApp::spawn(Backend::MariaDb).await;
    let users: Vec<String> = (0..8).map(|i| unique_user(&format!("crowd-{i}"))).collect();
    let purchases = (0..80).map(|i| {
        let user = users[i % users.len()].clone();
        let app = &app;
        async move { buy(app, &user, 100).await }
    });
    let replies = join_all(purchases).await;
    assert_eq!(replies.len(), 80);
    assert_streams_contiguous(&app.db).await;
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

/// Two projectors on one MySQL: a batch whose transaction read before another projector's
/// batch committed, and then waited for the member's lock, must still see the rows that
/// batch wrote (under REPEATABLE READ a plain SELECT would not), or the promise billed by
/// the later event stays "unbilled" in the read model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_batch_that_read_before_another_projector_committed_sees_its_rows() {
    use atone_storage::entity::{change_feed, member_bills, members, payment_promises};
    use atone_storage::projection::{Incoming, Readable};
    use atone_storage::{db, event_store, projection};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = TestApp::spawn(Backend::MariaDb).await;
    let user = unique_user("stale-read");
    let promise = buy(&app, &user, 5000).await.promise_id;
    app.command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: promise,
            amount: 5000,
            idempotency_key: "bill-1".to_owned(),
        })
        .await
        .expect("bill");
    app.wait_until_projected().await;
    let database = app.stop().await;
    let conn = database.connect().await;
    let events = event_store::read_stream(&conn, &user, 0, None)
        .await
        .expect("events");
    assert_eq!(events.len(), 3, "purchase, promise, bill");

    // Forget the member's read model, as if it had never been projected.
    change_feed::Entity::delete_many()
        .filter(change_feed::Column::UserId.eq(&user))
        .exec(&conn)
        .await
        .expect("clear change feed");
    member_bills::Entity::delete_many()
        .filter(member_bills::Column::UserId.eq(&user))
        .exec(&conn)
        .await
        .expect("clear bills");
    payment_promises::Entity::delete_many()
        .filter(payment_promises::Column::UserId.eq(&user))
        .exec(&conn)
        .await
        .expect("clear promises");
    members::Entity::delete_by_id(user.clone())
        .exec(&conn)
        .await
        .expect("clear member");

    // Projector B opens its transaction and reads (its snapshot)...
    let (late, _late_turn) = db::begin_write(&conn).await.expect("begin B");
    members::Entity::find().all(&late).await.expect("B reads");
    // ...projector A applies the purchase and the promise and commits...
    let (early, _early_turn) = db::begin_write(&conn).await.expect("begin A");
    let incoming = |events: &[atone_domain::Envelope]| {
        events
            .iter()
            .cloned()
            .map(Incoming::Event)
            .collect::<Vec<_>>()
    };
    let readable = Readable::default();
    projection::apply_batch(&early, incoming(&events[..2]), &readable, "projector-a")
        .await
        .expect("A applies");
    early.commit().await.expect("A commits");
    // ...and B, handed all three, skips the two A applied and bills the promise A wrote.
    let outcome = projection::apply_batch(&late, incoming(&events), &readable, "projector-b")
        .await
        .expect("B applies");
    late.commit().await.expect("B commits");
    assert_eq!(outcome.applied, vec![(user.clone(), 3)]);
    assert_eq!(outcome.duplicates, 2);
    assert_read_models_match_event_store(&conn).await;
}
