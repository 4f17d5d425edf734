//! A retry that races its own first attempt on another process. A command is decided from
//! two reads: the member's state and the command's idempotency key. Read key first, state
//! second, a first attempt committed by another process between the two reads is in the
//! state but not in the key read: the retry is decided again on a state that already
//! holds it and refused ("already billed"), although the command was carried out. The
//! nemesis found this over Kinesis with two command processes (seed 603). Here the other
//! process's commit is made to land between the reads on purpose (a test-only hook), and
//! the retry must get the first attempt's reply.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use atone_api::v1::IssueImmediateBillRequest;
use atone_command::decision_seam;

use atone_testkit::*;

async fn a_retry_racing_its_first_attempt_gets_its_reply(backend: Backend) {
    // No daily billing: a run at start would decide for the member and leave them in the
    // first process's cache (see refusal_fence.rs).
    let first = TestApp::spawn_with(backend, no_daily_billing).await;
    let second = TestApp::spawn_on(first.database.shared(), no_daily_billing).await;
    let user = unique_user("retry-race");
    // Bought through the second process: the first has nothing of the member cached and
    // decides from the store.
    let bought = buy(&second, &user, 1200).await;
    let bill = IssueImmediateBillRequest {
        user_id: user.clone(),
        promise_id: bought.promise_id.clone(),
        amount: 0,
        idempotency_key: "bill-once".into(),
    };

    let ran = Arc::new(AtomicBool::new(false));
    let (hook_ran, mut other, request) = (ran.clone(), second.command().await, bill.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    decision_seam::on_next_decision(&user, "bill-once", move || {
        Box::pin(async move {
            // The first attempt, carried out by the other process, in between the reads.
            let reply = other
                .issue_immediate_bill(request)
                .await
                .expect("the first attempt, on the other process")
                .into_inner();
            let _ = tx.send(reply);
            hook_ran.store(true, Ordering::SeqCst);
        })
    });
    let retried = first
        .command()
        .await
        .issue_immediate_bill(bill)
        .await
        .expect("the retry gets the first attempt's reply, not a refusal")
        .into_inner();
    assert!(
        ran.load(Ordering::SeqCst),
        "the first attempt landed between the reads"
    );
    let original = rx.await.expect("the first attempt's reply");
    assert_eq!(
        retried, original,
        "the retry answers what the first attempt did"
    );
    assert_eq!(
        events_of_type(&first.db, "MemberBillIssued")
            .await
            .iter()
            .filter(|e| e.user_id == user)
            .count(),
        1,
        "billed once"
    );
    second.stop().await;
    first.stop().await;
}

on_each_backend!(a_retry_racing_its_first_attempt_gets_its_reply);
