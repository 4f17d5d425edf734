//! 消込 over the API, on SQLite and MariaDB: money received pays the bill it names and then
//! the oldest open bills, in part if it must; an over-payment's rest is kept and the next
//! close takes it off its bill; a bill raised by the re-issue fee is paid by what it asks
//! now. Each ends with the read models equal to the event store's fold.

use atone_api::tonic::Code;
use atone_api::v1::{
    BillStatus, CompletePaymentRequest, IssueImmediateBillRequest, PaymentApplication,
    ReceivePaymentRequest,
};
use atone_command::ManualClock;

use atone_testkit::*;

fn money(user: &str, tx: &str, bill_id: &str, amount: i64) -> ReceivePaymentRequest {
    ReceivePaymentRequest {
        user_id: user.into(),
        transaction_id: tx.into(),
        bill_id: bill_id.into(),
        amount,
        received_at: None,
    }
}

fn applied(bill_id: &str, amount: i64, left: i64) -> PaymentApplication {
    PaymentApplication {
        bill_id: bill_id.into(),
        amount,
        left,
    }
}

/// An immediate bill for a purchase of `amount` yen: its id.
async fn billed(app: &TestApp, user: &str, amount: i64, key: &str) -> String {
    let bought = buy(app, user, amount).await;
    app.command()
        .await
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.into(),
            promise_id: bought.promise_id,
            amount: 0,
            idempotency_key: key.into(),
        })
        .await
        .expect("bill")
        .into_inner()
        .bill_id
}

async fn money_is_applied_across_bills_and_the_rest_pays_the_next_close(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 11, 10, 12, 0, 0));
    let app = TestApp::spawn_with(backend, with_clock(&clock, false)).await;
    let mut command = app.command().await;
    let user = unique_user("apply");
    // Two bills due on 2026-11-24, the first issued first; and a November 月まとめ払い
    // purchase of 2,500 yen.
    let older = billed(&app, &user, 3000, "bill-1").await;
    let newer = billed(&app, &user, 2000, "bill-2").await;
    command
        .purchase(monthly(&user, 2500, "m1"))
        .await
        .expect("monthly purchase");

    // Under-payment naming the newer bill: it pays that bill in part.
    let part = command
        .receive_payment(money(&user, "tx-1", &newer, 500))
        .await
        .expect("money in part")
        .into_inner();
    assert_eq!(
        (part.applications, part.kept),
        (vec![applied(&newer, 500, 1500)], 0)
    );
    // The strict call wants what is left, not what was billed.
    let refused = command
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: newer.clone(),
            amount: 2000,
            idempotency_key: "pay-whole".into(),
        })
        .await
        .expect_err("the bill's whole amount is more than is left");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("what is left to pay on the bill of 1500 yen"),
        "{refused:?}"
    );

    // Over-payment naming no bill: the older bill first, then the rest of the newer one,
    // and 1,000 yen kept.
    let over = command
        .receive_payment(money(&user, "tx-2", "", 5500))
        .await
        .expect("more than is owed")
        .into_inner();
    assert_eq!(
        (over.applications, over.kept),
        (
            vec![applied(&older, 3000, 0), applied(&newer, 1500, 0)],
            1000
        )
    );
    let member = get_member(&app, &user, over.version).await;
    for (bill_id, paid) in [(&older, 3000), (&newer, 2000)] {
        let bill = bill_of(&member, bill_id);
        assert_eq!(
            (bill.status, bill.paid_amount, bill.left_to_pay),
            (BillStatus::Paid as i32, paid, 0)
        );
    }
    let summary = member.summary.as_ref().expect("summary");
    assert_eq!(
        (summary.outstanding_amount, summary.unapplied_balance),
        (2500, 1000)
    );

    // November closed: the kept 1,000 yen pays part of the bill (2,500 + the 209 yen fee).
    clock.set(jst(2026, 12, 1, 9, 0, 0));
    close_period(&app, "2026-11").await.expect("close November");
    let member = member_when(&app, &user, "the November bill", |m| {
        m.bills.iter().any(|b| b.period == "2026-11")
    })
    .await;
    let november = member
        .bills
        .iter()
        .find(|b| b.period == "2026-11")
        .expect("bill");
    assert_eq!(
        (
            november.items_total,
            november.fee,
            november.balance_applied,
            november.amount,
            november.left_to_pay
        ),
        (2500, 209, 1000, 1709, 1709)
    );
    assert_eq!(member.summary.map(|s| s.unapplied_balance), Some(0));

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(money_is_applied_across_bills_and_the_rest_pays_the_next_close);

/// The first amount billed, paid after the re-issue fee raised the bill, leaves the fee to
/// pay: the member stays overdue until it is paid too.
async fn money_after_a_reissue_pays_what_the_bill_asks_now(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 11, 10, 12, 0, 0));
    let app = TestApp::spawn_with(backend, |settings| {
        with_clock(&clock, true)(settings);
        if let Some(command) = settings.command.as_mut() {
            command.handler.reissue_fee = 300;
        }
    })
    .await;
    let mut command = app.command().await;
    let user = unique_user("reissue");
    let bill = billed(&app, &user, 8209, "bill").await;
    clock.set(jst(2026, 11, 25, 1, 0, 1));
    let member = member_when(&app, &user, "the bill overdue, 300 yen raised", |m| {
        bill_of(m, &bill).amount == 8509
    })
    .await;
    assert_eq!(bill_of(&member, &bill).status, BillStatus::Overdue as i32);

    let first = command
        .receive_payment(money(&user, "tx-1", &bill, 8209))
        .await
        .expect("the first amount billed")
        .into_inner();
    assert_eq!(first.applications, vec![applied(&bill, 8209, 300)]);
    let refused = command
        .purchase(purchase(&user, 100, "while-300-left"))
        .await
        .expect_err("still overdue with 300 yen left");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    let rest = command
        .receive_payment(money(&user, "tx-2", &bill, 300))
        .await
        .expect("the fee")
        .into_inner();
    assert_eq!(rest.applications, vec![applied(&bill, 300, 0)]);
    command
        .purchase(purchase(&user, 100, "after"))
        .await
        .expect("buying again once the bill is paid");
    let member = get_member(&app, &user, rest.version).await;
    let paid = bill_of(&member, &bill);
    assert_eq!(
        (paid.status, paid.paid_amount, paid.left_to_pay),
        (BillStatus::Paid as i32, 8509, 0)
    );
    assert_eq!(member.summary.map(|s| s.overdue_bills), Some(0));

    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(money_after_a_reissue_pays_what_the_bill_asks_now);
