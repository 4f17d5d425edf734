//! Idempotent commands: a retry with the same key gets the first reply and appends nothing.

use atone_api::tonic::Code;
use atone_api::v1::{CompletePaymentRequest, IssueImmediateBillRequest};
use futures::future::join_all;

use atone_testkit::*;

async fn one_payment_sent_five_times_is_paid_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("webhook");
    let promise = buy(&app, &user, 7000).await.promise_id;
    let bill = app
        .command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: promise,
            amount: 7000,
            idempotency_key: "bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    let request = CompletePaymentRequest {
        user_id: user.clone(),
        bill_id: bill.bill_id.clone(),
        amount: 7000,
        idempotency_key: "provider-event-42".into(),
    };

    // Two at once, then three one after another: a provider retrying its webhook.
    let mut replies: Vec<_> = join_all((0..2).map(|_| {
        let request = request.clone();
        let app = &app;
        async move {
            app.command()
                .await
                .complete_payment(request)
                .await
                .expect("payment")
                .into_inner()
        }
    }))
    .await;
    for _ in 0..3 {
        replies.push(
            app.command()
                .await
                .complete_payment(request.clone())
                .await
                .expect("payment")
                .into_inner(),
        );
    }

    assert_eq!(replies.len(), 5);
    assert!(
        replies.iter().all(|r| *r == replies[0]),
        "five identical replies: {replies:?}"
    );
    assert_eq!(replies[0].version, 4);
    assert_eq!(events_of_type(&app.db, "PaymentCompleted").await.len(), 1);
    assert_eq!(app.event_count().await, 4);
    app.stop().await;
}

on_each_backend!(one_payment_sent_five_times_is_paid_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_purchase_answers_the_first_reply() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = unique_user("retry");
    let request = purchase(&user, 1200, "checkout-7");
    let first = app
        .command()
        .await
        .purchase(request.clone())
        .await
        .expect("purchase")
        .into_inner();
    let again = app
        .command()
        .await
        .purchase(request)
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first, again);
    assert_eq!(app.event_count().await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_request_is_refused_and_changes_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = unique_user("reuse");
    app.command()
        .await
        .purchase(purchase(&user, 1200, "checkout-8"))
        .await
        .expect("purchase");
    let before = app.event_count().await;
    let status = app
        .command()
        .await
        .purchase(purchase(&user, 9999, "checkout-8"))
        .await
        .expect_err("another request under a used key");
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert!(
        status.message().contains("checkout-8"),
        "{}",
        status.message()
    );
    assert_eq!(app.event_count().await, before);
    app.stop().await;
}
