//! The hands-on's flow, A (purchase) → B (immediate bill) → C (payment webhook), over gRPC,
//! with a watch opened before step A seeing every change.

use atone_api::v1::{
    BillStatus, CompletePaymentRequest, IssueImmediateBillRequest, PaymentMode, PromiseStatus,
};

use atone_testkit::*;

async fn hands_on_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = unique_user("test-user");
    let mut commands = app.command().await;

    let mut watch = Watcher::open(&app, &user, "").await;
    let (cursor, snapshot) = watch.next_snapshot().await;
    let member = snapshot.member.expect("member");
    assert_eq!(cursor, "0");
    assert_eq!(
        member
            .summary
            .as_ref()
            .map(|s| (s.version, s.credit_limit, s.available_credit)),
        Some((0, 50_000, 50_000))
    );
    assert!(member.promises.is_empty() && member.bills.is_empty());

    // A: purchase.
    let a = commands
        .purchase(purchase(&user, 5000, "step-a"))
        .await
        .expect("purchase")
        .into_inner();
    assert_eq!(a.version, 2);
    let read = get_member(&app, &user, a.version).await;
    let summary = read.summary.expect("summary");
    assert_eq!(
        (
            summary.outstanding_amount,
            summary.available_credit,
            summary.version
        ),
        (5000, 45_000, 2)
    );
    assert_eq!(read.promises.len(), 1);
    let promise = &read.promises[0];
    assert_eq!(promise.promise_id, a.promise_id);
    assert_eq!(promise.order_id, a.order_id);
    assert_eq!(promise.amount, 5000);
    assert_eq!(promise.due_date, a.due_date);
    assert_eq!(promise.payment_mode, PaymentMode::Immediate as i32);
    assert_eq!(promise.status, PromiseStatus::Unbilled as i32);

    let (cursor, change) = watch.next_change().await;
    assert_eq!(
        (cursor.as_str(), change.version, change.event_type.as_str()),
        ("1", 1, "PurchaseCompleted")
    );
    let (cursor, change) = watch.next_change().await;
    assert_eq!(
        (cursor.as_str(), change.version, change.event_type.as_str()),
        ("2", 2, "PaymentPromiseCreated")
    );
    assert_eq!(change.promises.len(), 1);
    assert_eq!(change.promises[0].promise_id, a.promise_id);
    assert_eq!(
        change.summary.as_ref().map(|s| s.outstanding_amount),
        Some(5000)
    );

    // B: immediate bill.
    let b = commands
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: a.promise_id.clone(),
            amount: 5000,
            idempotency_key: "step-b".into(),
        })
        .await
        .expect("bill")
        .into_inner();
    assert_eq!(b.version, 3);
    let read = get_member(&app, &user, b.version).await;
    assert_eq!(read.bills.len(), 1);
    let bill = &read.bills[0];
    assert_eq!(
        (bill.bill_id.as_str(), bill.amount, bill.status),
        (b.bill_id.as_str(), 5000, BillStatus::Unpaid as i32)
    );
    assert_eq!(bill.promise_ids, vec![a.promise_id.clone()]);
    assert_eq!(bill.due_date, b.due_date);
    assert_eq!(read.promises[0].status, PromiseStatus::Billed as i32);
    assert_eq!(read.promises[0].bill_id, b.bill_id);

    let (cursor, change) = watch.next_change().await;
    assert_eq!(
        (cursor.as_str(), change.event_type.as_str()),
        ("3", "MemberBillIssued")
    );
    assert_eq!(change.bills.len(), 1);
    assert_eq!(change.bills[0].status, BillStatus::Unpaid as i32);
    assert_eq!(change.promises[0].status, PromiseStatus::Billed as i32);

    // C: the payment webhook.
    let c = commands
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: b.bill_id.clone(),
            amount: 5000,
            idempotency_key: "step-c".into(),
        })
        .await
        .expect("payment")
        .into_inner();
    assert_eq!(c.version, 4);
    let read = get_member(&app, &user, c.version).await;
    let summary = read.summary.expect("summary");
    assert_eq!(
        (
            summary.outstanding_amount,
            summary.available_credit,
            summary.version
        ),
        (0, 50_000, 4)
    );
    assert_eq!(read.bills[0].status, BillStatus::Paid as i32);
    assert!(!read.bills[0].paid_date.is_empty());
    assert_eq!(read.promises[0].status, PromiseStatus::Paid as i32);

    let (cursor, change) = watch.next_change().await;
    assert_eq!(
        (cursor.as_str(), change.event_type.as_str()),
        ("4", "PaymentCompleted")
    );
    assert_eq!(change.bills[0].status, BillStatus::Paid as i32);
    assert_eq!(change.promises[0].status, PromiseStatus::Paid as i32);
    assert_eq!(
        change.summary.as_ref().map(|s| s.available_credit),
        Some(50_000)
    );
    watch
        .assert_quiet(std::time::Duration::from_millis(300))
        .await;

    let status = app
        .projector()
        .await
        .get_status(atone_api::v1::GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    // By default atone serve projects inline, by the commands' own transactions: the
    // outbox stays empty.
    let source = |id: &str| {
        status
            .sources
            .iter()
            .find(|s| s.source_id == id)
            .map(|s| (s.kind.clone(), s.events_applied, s.lag_events))
    };
    assert_eq!(source("inline"), Some(("inline".to_owned(), 4, 0)));
    assert_eq!(source("outbox"), Some(("embedded-outbox".to_owned(), 0, 0)));

    assert_read_models_match_event_store(&app.db).await;
    app.stop().await;
}

on_each_backend!(hands_on_flow);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_lists_newest_first() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = unique_user("pager");
    let mut versions = Vec::new();
    for _ in 0..5 {
        versions.push(buy(&app, &user, 1000).await.version);
    }
    let mut query = app.query().await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = query
            .list_payment_promises(atone_api::v1::ListPaymentPromisesRequest {
                user_id: user.clone(),
                page_size: 2,
                page_token: token.clone(),
                min_version: 10,
            })
            .await
            .expect("list")
            .into_inner();
        assert!(page.promises.len() <= 2);
        seen.extend(page.promises.iter().map(|p| p.created_version));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    versions.reverse();
    assert_eq!(seen, versions, "every promise once, newest first");
    app.stop().await;
}
