//! Each process keeps the members' states it decided last; before it decides from one it
//! reads what another process appended since, so no command is refused (or accepted) on a
//! state that is out of date.

use atone_api::v1::{CompletePaymentRequest, IssueImmediateBillRequest};

use atone_testkit::*;

#[tokio::test]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn a_process_decides_from_the_events_another_appended_after_it_cached_the_member() {
    let first = TestApp::spawn(Backend::MariaDb).await;
    let second = TestApp::spawn_on(first.database.shared(), |_| {}).await;
    let (mut here, mut there) = (first.command().await, second.command().await);
    let user = unique_user("cached");

    // This process decides a purchase of 40,000 of the member's 50,000 and keeps the state.
    here.purchase(purchase(&user, 40_000, "buy"))
        .await
        .expect("purchase");
    // The other process bills and takes the payment: nothing is owed any more.
    let promise_id = get_member(&second, &user, 2).await.promises[0]
        .promise_id
        .clone();
    let bill = there
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id,
            amount: 0,
            idempotency_key: "bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    there
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: bill.bill_id,
            amount: 40_000,
            idempotency_key: "pay".into(),
        })
        .await
        .expect("payment");

    // Here, 30,000 more is within the limit only with the other process's payment known.
    let reply = here
        .purchase(purchase(&user, 30_000, "again"))
        .await
        .expect("within the limit once the payment is known")
        .into_inner();
    assert_eq!(
        reply.version, 6,
        "appended after the other process's events"
    );
    wait_until_projected(&first.db).await;
    assert_read_models_match_event_store(&first.db).await;
    second.stop().await;
    first.stop().await;
}
