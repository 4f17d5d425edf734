//! Bad input: each case gets its documented status code and a message naming what is
//! wrong, and appends nothing.

use atone_api::tonic::{Code, Status};
use atone_api::v1::{
    CompletePaymentRequest, GetMemberRequest, IssueImmediateBillRequest, ListMemberBillsRequest,
    PaymentMode, PurchaseRequest,
};

use atone_testkit::*;

enum Call {
    Purchase(PurchaseRequest),
    Bill(IssueImmediateBillRequest),
    Pay(CompletePaymentRequest),
    GetMember(GetMemberRequest),
    ListBills(ListMemberBillsRequest),
}

struct Case {
    name: &'static str,
    call: Call,
    code: Code,
    /// Words the message must contain.
    says: &'static str,
}

async fn send(app: &TestApp, call: Call) -> Result<(), Status> {
    match call {
        Call::Purchase(r) => app.command().await.purchase(r).await.map(drop),
        Call::Bill(r) => app.command().await.issue_immediate_bill(r).await.map(drop),
        Call::Pay(r) => app.command().await.complete_payment(r).await.map(drop),
        Call::GetMember(r) => app.query().await.get_member(r).await.map(drop),
        Call::ListBills(r) => app.query().await.list_member_bills(r).await.map(drop),
    }
}

async fn every_bad_input_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (user, other) = (unique_user("careful"), unique_user("other"));

    // The member has one billed-and-paid promise, one billed one, one unbilled one and a
    // monthly one; another member has a promise and a bill.
    let paid = buy(&app, &user, 1000).await.promise_id;
    let billed = buy(&app, &user, 2000).await.promise_id;
    let unbilled = buy(&app, &user, 3000).await.promise_id;
    let mut monthly = purchase(&user, 500, "monthly");
    monthly.payment_mode = PaymentMode::Monthly as i32;
    let monthly = app
        .command()
        .await
        .purchase(monthly)
        .await
        .expect("monthly purchase")
        .into_inner()
        .promise_id;
    let bill_for = |promise: &str, key: &str| IssueImmediateBillRequest {
        user_id: user.clone(),
        promise_id: promise.into(),
        amount: 0,
        idempotency_key: key.into(),
    };
    let mut commands = app.command().await;
    let paid_bill = commands
        .issue_immediate_bill(bill_for(&paid, "b1"))
        .await
        .expect("bill")
        .into_inner()
        .bill_id;
    let unpaid_bill = commands
        .issue_immediate_bill(bill_for(&billed, "b2"))
        .await
        .expect("bill")
        .into_inner()
        .bill_id;
    commands
        .complete_payment(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: paid_bill.clone(),
            amount: 1000,
            idempotency_key: "p1".into(),
        })
        .await
        .expect("payment");
    let others_promise = buy(&app, &other, 4000).await.promise_id;
    let others_bill = commands
        .issue_immediate_bill(IssueImmediateBillRequest {
            user_id: other.clone(),
            promise_id: others_promise.clone(),
            amount: 0,
            idempotency_key: "ob".into(),
        })
        .await
        .expect("bill")
        .into_inner()
        .bill_id;

    // A key of its own for each case: a refusal the member's state decided is kept under
    // its key, and a case sent with another case's key would be answered ALREADY_EXISTS.
    let fresh = |what: &str| format!("bad-{what}-{}", uuid::Uuid::now_v7().simple());
    let buy_with = |f: &dyn Fn(&mut PurchaseRequest)| {
        let mut r = purchase(&user, 1000, &fresh("purchase"));
        f(&mut r);
        Call::Purchase(r)
    };
    let bill_with = |promise_id: &str, amount: i64| {
        Call::Bill(IssueImmediateBillRequest {
            user_id: user.clone(),
            promise_id: promise_id.into(),
            amount,
            idempotency_key: fresh("bill"),
        })
    };
    let pay_with = |bill_id: &str, amount: i64| {
        Call::Pay(CompletePaymentRequest {
            user_id: user.clone(),
            bill_id: bill_id.into(),
            amount,
            idempotency_key: fresh("pay"),
        })
    };
    let huge = "u".repeat(1 << 20);
    let long = "u".repeat(1 << 10);
    let unknown = uuid::Uuid::now_v7().to_string();

    let cases = vec![
        Case {
            name: "missing user_id",
            call: buy_with(&|r| r.user_id.clear()),
            code: Code::InvalidArgument,
            says: "user_id: is required",
        },
        Case {
            name: "blank user_id",
            call: buy_with(&|r| r.user_id = "   ".into()),
            code: Code::InvalidArgument,
            says: "user_id: is required",
        },
        Case {
            name: "1 MB user_id (past the request size limit)",
            call: buy_with(&|r| r.user_id = huge.clone()),
            code: Code::ResourceExhausted,
            says: "the request is larger than 65536 bytes",
        },
        Case {
            name: "1 KB user_id",
            call: buy_with(&|r| r.user_id = long.clone()),
            code: Code::InvalidArgument,
            says: "user_id: is 1024 bytes long",
        },
        Case {
            name: "user_id with a control character",
            call: buy_with(&|r| r.user_id = "a\nb".into()),
            code: Code::InvalidArgument,
            says: "user_id: must not contain control characters",
        },
        Case {
            name: "user_id with a right-to-left override",
            call: buy_with(&|r| r.user_id = "user-\u{202E}10-tset".into()),
            code: Code::InvalidArgument,
            says: "user_id: must not contain invisible or direction-changing characters (U+202E)",
        },
        Case {
            name: "product_name with a zero-width space",
            call: buy_with(&|r| r.product_name = "イヤ\u{200B}ホン".into()),
            code: Code::InvalidArgument,
            says: "product_name: must not contain invisible or direction-changing characters (U+200B)",
        },
        Case {
            name: "missing idempotency key",
            call: buy_with(&|r| r.idempotency_key.clear()),
            code: Code::InvalidArgument,
            says: "idempotency_key: is required",
        },
        Case {
            name: "missing product_id",
            call: buy_with(&|r| r.product_id.clear()),
            code: Code::InvalidArgument,
            says: "product_id: is required",
        },
        Case {
            name: "amount 0",
            call: buy_with(&|r| r.amount = 0),
            code: Code::InvalidArgument,
            says: "amount: 0 is out of range",
        },
        Case {
            name: "negative amount",
            call: buy_with(&|r| r.amount = -5000),
            code: Code::InvalidArgument,
            says: "amount: -5000 is out of range",
        },
        Case {
            name: "amount over the maximum",
            call: buy_with(&|r| r.amount = 1_000_001),
            code: Code::InvalidArgument,
            says: "1 to 1000000 yen",
        },
        Case {
            name: "unspecified payment mode",
            call: buy_with(&|r| r.payment_mode = 0),
            code: Code::InvalidArgument,
            says: "payment_mode: is required",
        },
        Case {
            name: "unknown payment mode",
            call: buy_with(&|r| r.payment_mode = 7),
            code: Code::InvalidArgument,
            says: "payment_mode: 7 is not a payment mode",
        },
        Case {
            name: "over the credit limit",
            call: buy_with(&|r| r.amount = 45_000),
            code: Code::FailedPrecondition,
            says: "credit limit exceeded",
        },
        Case {
            name: "malformed promise_id",
            call: bill_with("not-a-promise", 0),
            code: Code::InvalidArgument,
            says: "promise_id: \"not-a-promise\" is not a UUID",
        },
        Case {
            name: "missing promise_id",
            call: bill_with("", 0),
            code: Code::InvalidArgument,
            says: "promise_id: is required",
        },
        Case {
            name: "unknown promise_id",
            call: bill_with(&unknown, 0),
            code: Code::NotFound,
            says: "not found for user",
        },
        Case {
            name: "another member's promise",
            call: bill_with(&others_promise, 0),
            code: Code::NotFound,
            says: "not found for user",
        },
        Case {
            name: "billing a billed promise",
            call: bill_with(&billed, 0),
            code: Code::FailedPrecondition,
            says: "already billed",
        },
        Case {
            name: "billing with a wrong amount",
            call: bill_with(&unbilled, 2999),
            code: Code::FailedPrecondition,
            says: "does not match the promise's amount of 3000 yen",
        },
        Case {
            name: "billing with a negative amount",
            call: bill_with(&unbilled, -1),
            code: Code::InvalidArgument,
            says: "amount: -1 is negative",
        },
        Case {
            name: "a monthly promise billed immediately",
            call: bill_with(&monthly, 0),
            code: Code::FailedPrecondition,
            says: "monthly",
        },
        Case {
            name: "malformed bill_id",
            call: pay_with("bill-1", 2000),
            code: Code::InvalidArgument,
            says: "bill_id: \"bill-1\" is not a UUID",
        },
        Case {
            name: "unknown bill",
            call: pay_with(&unknown, 2000),
            code: Code::NotFound,
            says: "not found for user",
        },
        Case {
            name: "another member's bill",
            call: pay_with(&others_bill, 4000),
            code: Code::NotFound,
            says: "not found for user",
        },
        Case {
            name: "a wrong payment amount",
            call: pay_with(&unpaid_bill, 1999),
            code: Code::FailedPrecondition,
            says: "does not match what is left to pay on the bill of 2000 yen",
        },
        Case {
            name: "a payment of 0",
            call: pay_with(&unpaid_bill, 0),
            code: Code::InvalidArgument,
            says: "amount: 0 is not a payment",
        },
        Case {
            name: "paying a paid bill",
            call: pay_with(&paid_bill, 1000),
            code: Code::FailedPrecondition,
            says: "already paid",
        },
        Case {
            name: "a query without user_id",
            call: Call::GetMember(GetMemberRequest {
                user_id: String::new(),
                min_version: 0,
            }),
            code: Code::InvalidArgument,
            says: "user_id: is required",
        },
        Case {
            name: "a negative min_version",
            call: Call::GetMember(GetMemberRequest {
                user_id: user.clone(),
                min_version: -1,
            }),
            code: Code::InvalidArgument,
            says: "min_version: -1 is negative",
        },
        Case {
            name: "a min_version the member never reached",
            call: Call::GetMember(GetMemberRequest {
                user_id: user.clone(),
                min_version: 999,
            }),
            code: Code::OutOfRange,
            says: "has no version 999",
        },
        Case {
            name: "a page too large",
            call: Call::ListBills(ListMemberBillsRequest {
                user_id: user.clone(),
                page_size: 501,
                ..Default::default()
            }),
            code: Code::InvalidArgument,
            says: "page_size: 501 is out of range",
        },
        Case {
            name: "a made-up page token",
            call: Call::ListBills(ListMemberBillsRequest {
                user_id: user.clone(),
                page_token: "next!".into(),
                ..Default::default()
            }),
            code: Code::InvalidArgument,
            says: "page_token",
        },
    ];

    let before = app.event_count().await;
    for case in cases {
        let status = send(&app, case.call).await.expect_err(case.name);
        assert_eq!(status.code(), case.code, "{}: {status:?}", case.name);
        assert!(
            status.message().contains(case.says),
            "{}: message {:?} should say {:?}",
            case.name,
            status.message(),
            case.says
        );
        assert!(
            status.message().len() < 300,
            "{}: the message stays short",
            case.name
        );
        assert_eq!(
            app.event_count().await,
            before,
            "{} appended nothing",
            case.name
        );
    }
    app.stop().await;
}

on_each_backend!(every_bad_input_is_refused);

/// grpcurl resolves the error detail through reflection: the field a validation error
/// names is readable from the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "tool-tests"),
    ignore = "needs grpcurl: run with --features tool-tests (scripts/test installs it and does)"
)]
async fn grpcurl_reads_which_field_a_validation_error_names() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let output = tokio::process::Command::new("grpcurl")
        .args(["-plaintext", "-d"])
        .arg(r#"{"user_id": "", "product_id": "p", "amount": 5, "payment_mode": "PAYMENT_MODE_IMMEDIATE", "idempotency_key": "k"}"#)
        .arg(app.addr.to_string())
        .arg("atone.v1.CommandService/Purchase")
        .output()
        .await
        .expect("grpcurl is needed on PATH (scripts/test installs it)");
    let shown = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{shown}");
    assert!(!shown.contains("not recognized"), "{shown}");
    assert!(
        shown.contains(r#""fieldViolations":[{"field":"user_id","description":"is required"}]"#),
        "{shown}"
    );
    app.stop().await;
}
