//! A refusal fences the attempts of its command still in flight. A first attempt is
//! decided on a state that allows it; before it is written, its process stalls (the
//! nemesis paused a command process with SIGSTOP). The caller gives up on it and retries on
//! another process, where the member's state refuses the command. Then the state changes
//! back, and the first attempt goes on. Had the refusal not been kept under the key, the
//! first attempt would find the key free, decide again on the new state and carry the
//! command out: the caller was told "refused" of a purchase that was made. Here the other
//! process's work lands between the first attempt's two reads (a test-only hook), and the
//! first attempt must answer the refusal and record nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use atone_api::tonic::Code;
use atone_api::v1::{CancelPurchaseRequest, ChangeCreditLimitRequest};
use atone_command::decision_seam;

use atone_testkit::*;

async fn a_refused_retry_fences_its_first_attempt(backend: Backend) {
    // No daily billing: a run at start (after 01:00 in Japan) would decide a close for the
    // member and leave their state in the process's cache, and a command decided from the
    // cache reads nothing, so the hook between the two reads would never run.
    let first = TestApp::spawn_with(backend, no_daily_billing).await;
    let second = TestApp::spawn_on(first.database.shared(), no_daily_billing).await;
    let user = unique_user("refusal-fence");
    let mut on_second = second.command().await;
    on_second
        .change_credit_limit(ChangeCreditLimitRequest {
            user_id: user.clone(),
            limit: 10_000,
            idempotency_key: "limit".into(),
        })
        .await
        .expect("a limit of 10,000");

    let ran = Arc::new(AtomicBool::new(false));
    let (hook_ran, mut other, member) = (ran.clone(), on_second.clone(), user.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    decision_seam::on_next_decision(&user, "buy-once", move || {
        Box::pin(async move {
            // While the first attempt stalls: another purchase fills the limit, the retry is
            // refused for it, and the other purchase is cancelled again.
            let filler = other
                .purchase(purchase(&member, 6_000, "filler"))
                .await
                .expect("the filler, within the limit")
                .into_inner();
            let refused = other
                .purchase(purchase(&member, 5_000, "buy-once"))
                .await
                .expect_err("the retry, over the limit with the filler");
            other
                .cancel_purchase(CancelPurchaseRequest {
                    user_id: member.clone(),
                    order_id: filler.order_id,
                    amount: 0,
                    idempotency_key: "cancel-filler".into(),
                })
                .await
                .expect("the filler cancelled");
            let _ = tx.send(refused);
            hook_ran.store(true, Ordering::SeqCst);
        })
    });
    let first_attempt = first
        .command()
        .await
        .purchase(purchase(&user, 5_000, "buy-once"))
        .await
        .expect_err("the first attempt answers the retry's refusal");
    assert!(
        ran.load(Ordering::SeqCst),
        "the retry landed inside the first attempt"
    );
    let refused = rx.await.expect("the retry's refusal");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(first_attempt.code(), refused.code());
    assert_eq!(first_attempt.message(), refused.message());

    // Days later, on either process, the key still answers the refusal, though the
    // purchase would fit now.
    for app in [&first, &second] {
        let again = app
            .command()
            .await
            .purchase(purchase(&user, 5_000, "buy-once"))
            .await
            .expect_err("a later retry gets the refusal");
        assert_eq!(again.message(), refused.message());
    }
    let bought: Vec<_> = events_of_type(&first.db, "PurchaseCompleted")
        .await
        .into_iter()
        .filter(|e| e.user_id == user && e.idempotency_key == "buy-once")
        .collect();
    assert!(
        bought.is_empty(),
        "the refused purchase was made: {bought:?}"
    );
    // A new key is a new request, decided on the state now.
    first
        .command()
        .await
        .purchase(purchase(&user, 5_000, "buy-again"))
        .await
        .expect("a new key is decided afresh");
    first.wait_until_projected().await;
    assert_read_models_match_event_store(&first.db).await;
    second.stop().await;
    first.stop().await;
}

on_each_backend!(a_refused_retry_fences_its_first_attempt);
