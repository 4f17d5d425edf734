//! Cancellation before billing, on an unpaid bill and after payment; money received that
//! matches a bill or not; refunds; overdue bills; per-member credit limits.

use atone_api::tonic::Code;
use atone_api::v1::{
    BillStatus, CancelPurchaseRequest, ChangeCreditLimitRequest, CompletePaymentRequest,
    IssueImmediateBillRequest, IssueRefundRequest, PaymentApplication, PromiseStatus,
    ReceivePaymentRequest,
};
use atone_command::ManualClock;

use atone_testkit::*;

fn cancel(user: &str, order_id: &str, amount: i64, key: &str) -> CancelPurchaseRequest {
    CancelPurchaseRequest {
        user_id: user.into(),
        order_id: order_id.into(),
        amount,
        idempotency_key: key.into(),
    }
}

async fn cancelling_before_billing_on_a_bill_and_after_payment(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 11, 10, 12, 0, 0));
    let app = TestApp::spawn_with(backend, with_clock(&clock, false)).await;
    let mut command = app.command().await;
    let user = unique_user("cancel");

    // Before billing: the promise shrinks, then goes.
    let order = command
        .purchase(purchase(&user, 5000, "p1"))
        .await
        .expect("purchase")
        .into_inner();
    let partial = command
        .cancel_purchase(cancel(&user, &order.order_id, 2000, "c1"))
        .await
        .expect("cancel 2,000 yen")
        .into_inner();
    assert_eq!(partial.remaining_amount, 3000);
    let member = get_member(&app, &user, partial.version).await;
    assert_eq!(
        member.summary.as_ref().map(|s| s.outstanding_amount),
        Some(3000)
    );
    let whole = command
        .cancel_purchase(cancel(&user, &order.order_id, 0, "c2"))
        .await
        .expect("cancel the rest")
        .into_inner();
    let member = get_member(&app, &user, whole.version).await;
    let promise = &member.promises[0];
    assert_eq!(
        (promise.status, promise.amount, promise.cancelled_amount),
        (PromiseStatus::Cancelled as i32, 0, 5000)
    );
    let refused = command
        .cancel_purchase(cancel(&user, &order.order_id, 0, "c3"))
        .await
        .expect_err("a cancelled order cannot be cancelled again");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // On an unpaid monthly bill: the bill is adjusted.
    let first = command
        .purchase(monthly(&user, 3000, "m1"))
        .await
        .expect("monthly 1")
        .into_inner();
    let second = command
        .purchase(monthly(&user, 2000, "m2"))
        .await
        .expect("monthly 2")
        .into_inner();
    clock.set(jst(2026, 12, 1, 9, 0, 0));
    close_period(&app, "2026-11").await.expect("close November");
    let adjusted = command
        .cancel_purchase(cancel(&user, &second.order_id, 500, "c4"))
        .await
        .expect("return part of the second")
        .into_inner();
    let member = get_member(&app, &user, adjusted.version).await;
    let bill_id = member
        .promises
        .iter()
        .find(|p| p.promise_id == second.promise_id)
        .expect("promise")
        .bill_id
        .clone();
    let bill = bill_of(&member, &bill_id);
    assert_eq!(
        (bill.status, bill.items_total, bill.amount),
        (BillStatus::Adjusted as i32, 4500, 4709)
    );

    // After payment: the cancelled amount is the member's credit, applied to the next bill.
    command
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: bill_id.clone(),
            amount: 4709,
            idempotency_key: "pay-november".into(),
        })
        .await
        .expect("pay November");
    let credited = command
        .cancel_purchase(cancel(&user, &first.order_id, 1000, "c5"))
        .await
        .expect("return part of a paid purchase")
        .into_inner();
    let member = get_member(&app, &user, credited.version).await;
    assert_eq!(
        member.summary.as_ref().map(|s| s.credit_balance),
        Some(1000)
    );
    command
        .purchase(monthly(&user, 2500, "m3"))
        .await
        .expect("a December purchase");
    clock.set(jst(2027, 1, 1, 9, 0, 0));
    close_period(&app, "2026-12").await.expect("close December");
    let member = member_when(&app, &user, "the December bill", |m| {
        m.bills.iter().any(|b| b.period == "2026-12")
    })
    .await;
    let december = member
        .bills
        .iter()
        .find(|b| b.period == "2026-12")
        .expect("bill");
    assert_eq!(
        (
            december.items_total,
            december.fee,
            december.balance_applied,
            december.amount
        ),
        (2500, 209, 1000, 1709)
    );
    assert_eq!(member.summary.as_ref().map(|s| s.credit_balance), Some(0));

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(cancelling_before_billing_on_a_bill_and_after_payment);

fn received(user: &str, tx: &str, bill_id: &str, amount: i64) -> ReceivePaymentRequest {
    ReceivePaymentRequest {
        user_id: user.into(),
        transaction_id: tx.into(),
        bill_id: bill_id.into(),
        amount,
        received_at: None,
    }
}

async fn money_received_is_never_lost(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut command = app.command().await;
    let user = unique_user("money");
    let bought = buy(&app, &user, 5000).await;
    let bill = command
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: bought.promise_id,
            amount: 0,
            idempotency_key: "bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();

    // Less than the bill: it pays the bill in part (消込); sent twice, recorded once.
    let part = command
        .receive_payment(received(&user, "tx-1", &bill.bill_id, 4000))
        .await
        .expect("money for part of the bill")
        .into_inner();
    let duplicate = command
        .receive_payment(received(&user, "tx-1", &bill.bill_id, 4000))
        .await
        .expect("the same transaction again")
        .into_inner();
    assert_eq!(
        (part.applied, part.applications.clone(), part.kept),
        (
            true,
            vec![PaymentApplication {
                bill_id: bill.bill_id.clone(),
                amount: 4000,
                left: 1000,
            }],
            0
        )
    );
    assert_eq!(duplicate, part, "the duplicate answers the first reply");
    let member = get_member(&app, &user, part.version).await;
    let open = bill_of(&member, &bill.bill_id);
    assert_eq!(
        (open.status, open.paid_amount, open.left_to_pay),
        (BillStatus::Unpaid as i32, 4000, 1000)
    );
    let summary = member.summary.as_ref().expect("summary");
    // The purchase's credit comes back when the bill is paid in full.
    assert_eq!(
        (summary.outstanding_amount, summary.unapplied_balance),
        (5000, 0)
    );

    // More than is left: the bill is paid and the rest kept; twice is once. Then money
    // for the paid bill is kept whole.
    let paid = command
        .receive_payment(received(&user, "tx-2", &bill.bill_id, 5000))
        .await
        .expect("the rest and more")
        .into_inner();
    assert_eq!((paid.applied, paid.kept), (true, 4000));
    assert_eq!(paid.applications[0].left, 0);
    command
        .receive_payment(received(&user, "tx-2", &bill.bill_id, 5000))
        .await
        .expect("the same again");
    let late = command
        .receive_payment(received(&user, "tx-3", &bill.bill_id, 5000))
        .await
        .expect("money for a paid bill")
        .into_inner();
    assert_eq!((late.applied, late.kept), (false, 5000));
    let member = get_member(&app, &user, late.version).await;
    let settled = bill_of(&member, &bill.bill_id);
    assert_eq!(
        (settled.status, settled.paid_amount, settled.left_to_pay),
        (BillStatus::Paid as i32, 5000, 0)
    );
    let summary = member.summary.expect("summary");
    assert_eq!(
        (summary.outstanding_amount, summary.unapplied_balance),
        (0, 9000)
    );
    assert_eq!(events_of_type(&app.db, "PaymentReceived").await.len(), 3);

    let refund = command
        .issue_refund(IssueRefundRequest {
            user_id: user.clone(),
            amount: 0,
            idempotency_key: "refund".into(),
        })
        .await
        .expect("refund everything")
        .into_inner();
    assert_eq!(refund.amount, 9000);
    let member = get_member(&app, &user, refund.version).await;
    assert_eq!(member.summary.map(|s| s.unapplied_balance), Some(0));
    let nothing = command
        .issue_refund(IssueRefundRequest {
            user_id: user.clone(),
            amount: 0,
            idempotency_key: "refund-again".into(),
        })
        .await
        .expect_err("nothing left to refund");
    assert_eq!(nothing.code(), Code::FailedPrecondition);

    for (request, field) in [
        (received(&user, "", "", 100), "transaction_id"),
        (received(&user, "tx-9", "", 0), "amount"),
        (received(&user, "tx-9", "not-a-uuid", 100), "bill_id"),
    ] {
        let status = command.receive_payment(request).await.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{status:?}");
    }
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(money_received_is_never_lost);

async fn an_overdue_member_cannot_buy_until_the_bill_is_paid(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 11, 10, 12, 0, 0));
    let app = TestApp::spawn_with(backend, with_clock(&clock, true)).await;
    let mut command = app.command().await;
    let user = unique_user("late");
    let bought = buy(&app, &user, 5000).await;
    let bill = command
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: bought.promise_id,
            amount: 0,
            idempotency_key: "bill".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    assert_eq!(bill.due_date, "2026-11-24");

    // On the due date itself it is not overdue yet...
    clock.set(jst(2026, 11, 24, 12, 0, 0));
    // The daily run records the day it finished as its lease's checkpoint.
    eventually(
        std::time::Duration::from_secs(10),
        "the run of November 24",
        || async {
            let lease = atone_storage::leases::get(&app.db, "billing")
                .await
                .ok()??;
            (lease.checkpoint.as_deref() == Some("2026-11-24")).then_some(())
        },
    )
    .await;
    let member = get_member(&app, &user, bill.version).await;
    assert_eq!(
        bill_of(&member, &bill.bill_id).status,
        BillStatus::Unpaid as i32
    );
    command
        .purchase(purchase(&user, 100, "before"))
        .await
        .expect("a purchase on the due date");

    // ...the day after, it is, with its first reminder.
    clock.set(jst(2026, 11, 25, 1, 0, 1));
    let member = member_when(&app, &user, "the bill overdue", |m| {
        m.summary.as_ref().is_some_and(|s| s.overdue_bills == 1)
    })
    .await;
    let overdue = bill_of(&member, &bill.bill_id);
    assert_eq!(
        (
            overdue.status,
            overdue.overdue_since.as_str(),
            overdue.reminders_sent
        ),
        (BillStatus::Overdue as i32, "2026-11-25", 1)
    );
    let before = app.event_count().await;
    let refused = command
        .purchase(purchase(&user, 100, "while-overdue"))
        .await
        .expect_err("no purchase while overdue");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("overdue bill"), "{refused:?}");
    assert_eq!(app.event_count().await, before);

    // A week later, the second reminder; paying clears it all.
    clock.set(jst(2026, 12, 1, 1, 0, 1));
    member_when(&app, &user, "the day-7 reminder", |m| {
        bill_of(m, &bill.bill_id).reminders_sent == 2
    })
    .await;
    command
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: bill.bill_id.clone(),
            amount: 5000,
            idempotency_key: "pay-late".into(),
        })
        .await
        .expect("pay the overdue bill");
    command
        .purchase(purchase(&user, 100, "after"))
        .await
        .expect("buying again after paying");
    let member = get_member(&app, &user, 0).await;
    let member = if member
        .summary
        .as_ref()
        .is_some_and(|s| s.overdue_bills == 0)
    {
        member
    } else {
        member_when(&app, &user, "overdue cleared", |m| {
            m.summary.as_ref().is_some_and(|s| s.overdue_bills == 0)
        })
        .await
    };
    assert_eq!(
        bill_of(&member, &bill.bill_id).status,
        BillStatus::Paid as i32
    );
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(an_overdue_member_cannot_buy_until_the_bill_is_paid);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn two_processes_with_different_default_limits_honour_the_member_s_own() {
    let small = TestApp::spawn_with(Backend::MariaDb, |s| {
        if let Some(c) = s.command.as_mut() {
            c.handler.credit_limit = 50_000;
        }
    })
    .await;
    let large = TestApp::spawn_on(small.database.shared(), |s| {
        if let Some(c) = s.command.as_mut() {
            c.handler.credit_limit = 100_000;
        }
    })
    .await;
    let (mut on_small, mut on_large) = (small.command().await, large.command().await);

    // A limit given to the member holds in both processes.
    let user = unique_user("limit");
    on_small
        .change_credit_limit(ChangeCreditLimitRequest {
            user_id: user.clone(),
            limit: 70_000,
            idempotency_key: "limit".into(),
        })
        .await
        .expect("change the limit");
    on_large
        .purchase(purchase(&user, 60_000, "p1"))
        .await
        .expect("within the member's 70,000");
    let refused = on_small
        .purchase(purchase(&user, 20_000, "p2"))
        .await
        .expect_err("over the member's 70,000");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let refused_too = on_large
        .purchase(purchase(&user, 20_000, "p3"))
        .await
        .expect_err("over the member's 70,000 here too");
    assert_eq!(refused_too.code(), Code::FailedPrecondition);

    // A new member keeps the limit their first purchase was checked against.
    let newcomer = unique_user("newcomer");
    on_large
        .purchase(purchase(&newcomer, 80_000, "n1"))
        .await
        .expect("within 100,000");
    on_small
        .purchase(purchase(&newcomer, 10_000, "n2"))
        .await
        .expect("the member's 100,000, not this process's 50,000");
    let member = get_member(&small, &newcomer, 4).await;
    assert_eq!(member.summary.map(|s| s.credit_limit), Some(100_000));

    let invalid = on_small
        .change_credit_limit(ChangeCreditLimitRequest {
            user_id: user.clone(),
            limit: -1,
            idempotency_key: "bad-limit".into(),
        })
        .await
        .expect_err("a negative limit");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    small.wait_until_projected().await;
    assert_read_models_match_event_store(&small.db).await;
    large.stop().await;
    small.stop().await;
}
