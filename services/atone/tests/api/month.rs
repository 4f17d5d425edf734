//! The BNPL month over the real gRPC API: payment methods, the monthly close (by the daily
//! run and on demand), month ends in Japan time, and two processes closing at once.

use atone_api::v1::command_service_client::CommandServiceClient;
use atone_api::v1::{
    self, BillKind, BillStatus, CompletePaymentRequest, PaymentMethod, PromiseStatus,
    ReceivePaymentRequest, SetPaymentMethodRequest,
};
use atone_command::ManualClock;
use futures::future::join_all;

use atone_testkit::*;

fn monthly_bills(member: &v1::Member) -> Vec<&v1::MemberBill> {
    member
        .bills
        .iter()
        .filter(|b| b.kind == BillKind::Monthly as i32)
        .collect()
}

async fn a_month_closes_into_one_bill_per_member(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 11, 10, 12, 0, 0));
    let app = TestApp::spawn_with(backend, with_clock(&clock, false)).await;
    let mut command = app.command().await;
    let (alice, bob) = (unique_user("alice"), unique_user("bob"));
    command
        .set_payment_method(SetPaymentMethodRequest {
            user_id: bob.clone(),
            method: PaymentMethod::BankDebit as i32,
            idempotency_key: "method-1".into(),
        })
        .await
        .expect("bank debit for bob");
    let a1 = command
        .purchase(monthly(&alice, 3000, "a1"))
        .await
        .expect("a1");
    let a2 = command
        .purchase(monthly(&alice, 2000, "a2"))
        .await
        .expect("a2");
    let a3 = command
        .purchase(purchase(&alice, 1000, "a3"))
        .await
        .expect("an immediate purchase");
    command
        .purchase(monthly(&bob, 4000, "b1"))
        .await
        .expect("b1");

    clock.set(jst(2026, 12, 1, 9, 0, 0));
    let progress = close_period(&app, "2026-11").await.expect("close November");
    let last = progress.last().expect("progress");
    assert!(last.done && last.members_done == last.members_total);
    assert_eq!(last.bills_issued, 2, "{progress:?}");

    let member = get_member(&app, &alice, 7).await;
    let bills = monthly_bills(&member);
    assert_eq!(bills.len(), 1, "{member:?}");
    let bill = bills[0];
    assert_eq!(
        (
            bill.period.as_str(),
            bill.items_total,
            bill.fee,
            bill.amount
        ),
        ("2026-11", 5000, 209, 5209)
    );
    assert_eq!(bill.due_date, "2026-12-10");
    let mut on_bill = bill.promise_ids.clone();
    on_bill.sort();
    let mut expected = vec![a1.into_inner().promise_id, a2.into_inner().promise_id];
    expected.sort();
    assert_eq!(on_bill, expected);
    let immediate = a3.into_inner().promise_id;
    let unbilled = member.promises.iter().find(|p| p.promise_id == immediate);
    assert_eq!(
        unbilled.map(|p| p.status),
        Some(PromiseStatus::Unbilled as i32)
    );

    let bob_member = get_member(&app, &bob, 4).await;
    let bob_bill = monthly_bills(&bob_member)[0].clone();
    // Drawn on the 27th, a Sunday in December 2026: the next business day.
    assert_eq!(
        (bob_bill.fee, bob_bill.amount, bob_bill.due_date.as_str()),
        (0, 4000, "2026-12-28")
    );

    let paid = command
        .complete_payment(CompletePaymentRequest {
            user_id: alice.clone(),
            bill_id: bill.bill_id.clone(),
            amount: 5209,
            idempotency_key: "pay-alice".into(),
        })
        .await
        .expect("alice pays")
        .into_inner();
    let summary = get_member(&app, &alice, paid.version)
        .await
        .summary
        .expect("summary");
    assert_eq!(
        (summary.outstanding_amount, summary.available_credit),
        (1000, 49_000),
        "paying the monthly bill frees its credit; the immediate purchase is still owed"
    );
    let received = command
        .receive_payment(ReceivePaymentRequest {
            user_id: bob.clone(),
            transaction_id: "provider-tx-bob".into(),
            bill_id: bob_bill.bill_id.clone(),
            amount: 4000,
            received_at: None,
        })
        .await
        .expect("bob's bank debit")
        .into_inner();
    assert!(received.applied);
    let bob_member = get_member(&app, &bob, received.version).await;
    assert_eq!(
        bob_member.summary.as_ref().map(|s| s.outstanding_amount),
        Some(0)
    );
    assert_eq!(
        monthly_bills(&bob_member)[0].status,
        BillStatus::Paid as i32
    );

    let again = close_period(&app, "2026-11").await.expect("close again");
    assert_eq!(
        again.last().map(|p| p.bills_issued),
        Some(0),
        "a second close issues no bill, and says so"
    );
    assert_eq!(events_of_type(&app.db, "MonthlyBillIssued").await.len(), 2);
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(a_month_closes_into_one_bill_per_member);

async fn the_daily_run_puts_a_purchase_in_the_month_of_its_day_in_japan(backend: Backend) {
    let clock = ManualClock::new(jst(2026, 11, 30, 23, 59, 59));
    let app = TestApp::spawn_with(backend, with_clock(&clock, true)).await;
    let user = unique_user("midnight");
    let mut command = app.command().await;
    let november = command
        .purchase(monthly(&user, 1000, "last-second"))
        .await
        .expect("a purchase at 23:59:59 JST on November 30")
        .into_inner();
    clock.set(jst(2026, 12, 1, 0, 0, 0));
    let december = command
        .purchase(monthly(&user, 2000, "first-second"))
        .await
        .expect("a purchase at 00:00:00 JST on December 1")
        .into_inner();

    // The daily run starts an hour after midnight, by itself.
    clock.set(jst(2026, 12, 1, 1, 0, 1));
    let member = member_when(&app, &user, "the November bill", |m| {
        monthly_bills(m).len() == 1
    })
    .await;
    let bill = monthly_bills(&member)[0];
    assert_eq!(bill.period, "2026-11");
    assert_eq!(bill.promise_ids, vec![november.promise_id.clone()]);
    assert_eq!((bill.items_total, bill.amount), (1000, 1209));

    clock.set(jst(2027, 1, 1, 1, 0, 1));
    let member = member_when(&app, &user, "the December bill", |m| {
        monthly_bills(m).len() == 2
    })
    .await;
    let bill = monthly_bills(&member)
        .into_iter()
        .find(|b| b.period == "2026-12")
        .expect("a December bill");
    assert_eq!(bill.promise_ids, vec![december.promise_id.clone()]);
    assert_eq!(bill.due_date, "2027-01-10");
    app.wait_until_projected().await;
    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(the_daily_run_puts_a_purchase_in_the_month_of_its_day_in_japan);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "mariadb-tests"),
    ignore = "needs MariaDB: run with --features mariadb-tests (scripts/test does)"
)]
async fn two_processes_closing_one_month_at_once_bill_each_member_once() {
    let clock = ManualClock::new(jst(2026, 11, 20, 12, 0, 0));
    let first = TestApp::spawn_with(Backend::MariaDb, with_clock(&clock, false)).await;
    let second = TestApp::spawn_on(first.database.shared(), with_clock(&clock, false)).await;
    let users: Vec<String> = (0..20)
        .map(|i| unique_user(&format!("close-{i}")))
        .collect();
    let mut command = first.command().await;
    for (i, user) in users.iter().enumerate() {
        for n in 0..2 {
            let key = format!("p-{i}-{n}");
            command
                .purchase(monthly(user, 1000 + n, &key))
                .await
                .expect("monthly purchase");
        }
    }
    clock.set(jst(2026, 12, 1, 2, 0, 0));
    let (a, b) = tokio::join!(
        close_period(&first, "2026-11"),
        close_period(&second, "2026-11")
    );
    let mut issued_by_calls = 0;
    for progress in [a.expect("first close"), b.expect("second close")] {
        let last = progress.last().expect("progress");
        assert!(last.done);
        assert_eq!(last.members_done, 20, "each goes through every member");
        issued_by_calls += last.bills_issued;
    }
    assert_eq!(
        issued_by_calls, 20,
        "each answers the bills it issued: together, every member's one bill"
    );
    let issued = events_of_type(&first.db, "MonthlyBillIssued").await;
    assert_eq!(issued.len(), 20, "exactly one bill per member");
    for user in &users {
        let member = get_member(&first, user, 0).await;
        let member = if monthly_bills(&member).is_empty() {
            member_when(&first, user, "the bill projected", |m| {
                !monthly_bills(m).is_empty()
            })
            .await
        } else {
            member
        };
        assert_eq!(monthly_bills(&member).len(), 1, "{user}");
        assert_eq!(monthly_bills(&member)[0].items_total, 2001);
    }
    first.wait_until_projected().await;
    assert_streams_contiguous(&first.db).await;
    assert_read_models_match_event_store(&first.db).await;
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_that_has_not_ended_is_refused_and_changes_nothing() {
    let clock = ManualClock::new(jst(2026, 11, 20, 12, 0, 0));
    let app = TestApp::spawn_with(Backend::Sqlite, with_clock(&clock, false)).await;
    let user = unique_user("early");
    CommandServiceClient::new(app.channel().await)
        .purchase(monthly(&user, 1000, "p1"))
        .await
        .expect("purchase");
    let before = app.event_count().await;
    for (period, code) in [
        ("2026-11", atone_api::tonic::Code::FailedPrecondition),
        ("2026-12", atone_api::tonic::Code::FailedPrecondition),
        ("2026-13", atone_api::tonic::Code::InvalidArgument),
        ("November", atone_api::tonic::Code::InvalidArgument),
    ] {
        let status = close_period(&app, period).await.expect_err(period);
        assert_eq!(status.code(), code, "{period}: {status:?}");
        assert!(status.message().contains(period) || status.message().contains("YYYY-MM"));
    }
    assert_eq!(app.event_count().await, before);
    let results = join_all((0..3).map(|_| close_period(&app, "2026-10"))).await;
    for result in results {
        assert_eq!(
            result.expect("October").last().map(|p| p.bills_issued),
            Some(0)
        );
    }
    assert_eq!(app.event_count().await, before);
    app.stop().await;
}
