//! Given/when/then specs for the member aggregate: given a stream, when a command is handled,
//! then these events (or this refusal).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::*;

pub(crate) const USER: &str = "test-user-01";

/// 2026-01-15 10:00 in Tokyo.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 1, 0, 0).unwrap()
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Ids are handed out as 00000000-0000-0000-0000-000000000001, ...02, ... so specs can name them.
pub(crate) fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub(crate) struct Spec {
    pub(crate) history: Vec<RecordedEvent>,
    credit_limit: i64,
    bill_fee: i64,
    reissue_fee: i64,
    calendar: Calendar,
    debit_notice_days: i64,
    now: DateTime<Utc>,
    next_id: u128,
}

pub(crate) struct Outcome {
    pub(crate) before: Member,
    pub(crate) result: Result<Decision, DomainError>,
}

impl Spec {
    pub(crate) fn given(events: impl IntoIterator<Item = (&'static str, Event)>) -> Self {
        let history = events
            .into_iter()
            .enumerate()
            .map(|(i, (key, event))| RecordedEvent {
                version: i as i64 + 1,
                idempotency_key: key.to_owned(),
                event,
            })
            .collect();
        Self {
            history,
            credit_limit: DEFAULT_CREDIT_LIMIT,
            bill_fee: DEFAULT_BILL_FEE,
            reissue_fee: 0,
            calendar: Calendar::default(),
            debit_notice_days: DEFAULT_DEBIT_NOTICE_DAYS,
            now: now(),
            next_id: 100,
        }
    }

    pub(crate) fn given_no_events() -> Self {
        Self::given([])
    }

    pub(crate) fn with_credit_limit(mut self, limit: i64) -> Self {
        self.credit_limit = limit;
        self
    }

    pub(crate) fn with_reissue_fee(mut self, fee: i64) -> Self {
        self.reissue_fee = fee;
        self
    }

    /// Banks are also closed on `days`.
    pub(crate) fn with_bank_closures(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.calendar = Calendar::with_closures(days);
        self
    }

    pub(crate) fn with_debit_notice(mut self, days: i64) -> Self {
        self.debit_notice_days = days;
        self
    }

    /// Decides at `now` instead of 2026-01-15 10:00 in Tokyo.
    pub(crate) fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    pub(crate) fn when(mut self, key: &str, command: Command) -> Outcome {
        let before = Member::from_events(&self.history);
        let mut next = || {
            self.next_id += 1;
            id(self.next_id)
        };
        let mut ctx = Context {
            now: self.now,
            credit_limit: self.credit_limit,
            bill_fee: self.bill_fee,
            reissue_fee: self.reissue_fee,
            reminder_days: &DEFAULT_REMINDER_DAYS,
            new_id: &mut next,
            calendar: &self.calendar,
            debit_notice_days: self.debit_notice_days,
        };
        let earlier = Processed::of_key(&self.history, key);
        let result = before.handle(USER, key, earlier.as_ref(), &command, &mut ctx);
        Outcome { before, result }
    }
}

impl Outcome {
    #[track_caller]
    pub(crate) fn then_expect_events(self, expected: Vec<Event>) -> Reply {
        match self.result {
            Ok(Decision::Append { events, reply }) => {
                assert_eq!(events, expected);
                reply
            }
            other => panic!("expected events, got {other:?}"),
        }
    }

    /// Events that `check` accepts (for specs that pin down one property of them).
    #[track_caller]
    pub(crate) fn then_expect_events_matching(self, check: impl Fn(&[Event]) -> bool) -> Reply {
        match self.result {
            Ok(Decision::Append { events, reply }) => {
                assert!(check(&events), "unexpected events: {events:#?}");
                reply
            }
            other => panic!("expected events, got {other:?}"),
        }
    }

    /// Nothing to record: no events, and `expected` as the reply.
    #[track_caller]
    pub(crate) fn then_expect_no_events(self, expected: Reply) {
        assert_eq!(
            self.result,
            Ok(Decision::Append {
                events: Vec::new(),
                reply: expected
            })
        );
    }

    #[track_caller]
    pub(crate) fn then_expect_error(self, expected: DomainError) {
        assert_eq!(self.result, Err(expected));
    }

    #[track_caller]
    pub(crate) fn then_expect_invalid(self, expected_field: &str) {
        match self.result {
            Err(DomainError::InvalidArgument { field, .. }) => assert_eq!(field, expected_field),
            other => panic!("expected an invalid {expected_field}, got {other:?}"),
        }
    }

    #[track_caller]
    pub(crate) fn then_expect_already_done(self, expected: Reply) {
        assert_eq!(self.result, Ok(Decision::AlreadyDone(expected)));
    }
}

pub(crate) fn purchase(amount: i64, payment_mode: PaymentMode) -> Command {
    Command::Purchase(Purchase {
        product_id: "prod-01".into(),
        product_name: "Product 1".into(),
        amount,
        payment_mode,
    })
}

pub(crate) fn bill(promise: Uuid, amount: i64) -> Command {
    Command::IssueImmediateBill(IssueImmediateBill {
        promise_id: promise,
        amount,
    })
}

pub(crate) fn pay(bill: Uuid, amount: i64) -> Command {
    Command::CompletePayment(CompletePayment {
        bill_id: bill,
        amount,
    })
}

/// The two events of a purchase of `amount` yen, order `n`, promise `n + 1`.
pub(crate) fn purchased(n: u128, amount: i64, mode: PaymentMode) -> [(&'static str, Event); 2] {
    let key = match n {
        1 => "purchase-1",
        3 => "purchase-3",
        _ => "purchase-n",
    };
    [
        (
            key,
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id: id(n),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount,
                payment_mode: mode,
                credit_limit: DEFAULT_CREDIT_LIMIT,
            }),
        ),
        (
            key,
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id: id(n + 1),
                order_id: id(n),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount,
                payment_mode: mode,
                due_date: promise_due_date(
                    date(2026, 1, 10),
                    mode,
                    PaymentMethod::ConvenienceStore,
                ),
            }),
        ),
    ]
}

pub(crate) fn billed(bill_id: u128, promise: u128, amount: i64) -> (&'static str, Event) {
    (
        "bill-1",
        Event::MemberBillIssued(MemberBillIssued {
            bill_id: id(bill_id),
            promise_ids: vec![id(promise)],
            amount,
            issued_date: date(2026, 1, 12),
            due_date: date(2026, 1, 26),
        }),
    )
}

pub(crate) fn paid(bill_id: u128, amount: i64) -> (&'static str, Event) {
    (
        "pay-1",
        Event::PaymentCompleted(PaymentCompleted {
            bill_id: id(bill_id),
            amount,
            paid_date: date(2026, 1, 13),
        }),
    )
}

pub(crate) fn history(parts: Vec<Vec<(&'static str, Event)>>) -> Vec<(&'static str, Event)> {
    parts.into_iter().flatten().collect()
}

// Purchase

#[test]
fn a_purchase_records_the_order_and_an_immediate_promise_due_in_thirty_days() {
    let reply = Spec::given_no_events()
        .when("k1", purchase(5000, PaymentMode::Immediate))
        .then_expect_events(vec![
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id: id(101),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount: 5000,
                payment_mode: PaymentMode::Immediate,
                credit_limit: DEFAULT_CREDIT_LIMIT,
            }),
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id: id(102),
                order_id: id(101),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount: 5000,
                payment_mode: PaymentMode::Immediate,
                due_date: date(2026, 2, 14),
            }),
        ]);
    assert_eq!(
        reply,
        Reply::Purchase {
            order_id: id(101),
            promise_id: id(102),
            due_date: date(2026, 2, 14),
            version: 2
        }
    );
}

#[test]
fn a_monthly_promise_is_due_on_the_tenth_of_the_next_month() {
    let reply = Spec::given_no_events()
        .when("k1", purchase(3000, PaymentMode::Monthly))
        .then_expect_events(vec![
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id: id(101),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount: 3000,
                payment_mode: PaymentMode::Monthly,
                credit_limit: DEFAULT_CREDIT_LIMIT,
            }),
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id: id(102),
                order_id: id(101),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount: 3000,
                payment_mode: PaymentMode::Monthly,
                due_date: date(2026, 2, 10),
            }),
        ]);
    assert!(matches!(reply, Reply::Purchase { due_date, .. } if due_date == date(2026, 2, 10)));
}

#[test]
fn a_purchase_amount_is_one_to_a_million_yen() {
    for amount in [0, -1, -5000, MAX_PURCHASE_AMOUNT + 1, i64::MAX, i64::MIN] {
        Spec::given_no_events()
            .with_credit_limit(i64::MAX / 2)
            .when("k1", purchase(amount, PaymentMode::Immediate))
            .then_expect_invalid("amount");
    }
    Spec::given_no_events()
        .with_credit_limit(MAX_PURCHASE_AMOUNT)
        .when("k1", purchase(MAX_PURCHASE_AMOUNT, PaymentMode::Immediate))
        .then_expect_events(vec![
            Event::PurchaseCompleted(PurchaseCompleted {
                order_id: id(101),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount: MAX_PURCHASE_AMOUNT,
                payment_mode: PaymentMode::Immediate,
                credit_limit: MAX_PURCHASE_AMOUNT,
            }),
            Event::PaymentPromiseCreated(PaymentPromiseCreated {
                promise_id: id(102),
                order_id: id(101),
                product_id: "prod-01".into(),
                product_name: "Product 1".into(),
                amount: MAX_PURCHASE_AMOUNT,
                payment_mode: PaymentMode::Immediate,
                due_date: date(2026, 2, 14),
            }),
        ]);
}

#[test]
fn a_purchase_needs_a_product_id_and_a_bounded_name() {
    let command = |product_id: &str, product_name: &str| {
        Command::Purchase(Purchase {
            product_id: product_id.into(),
            product_name: product_name.into(),
            amount: 100,
            payment_mode: PaymentMode::Immediate,
        })
    };
    Spec::given_no_events()
        .when("k1", command("", "x"))
        .then_expect_invalid("product_id");
    Spec::given_no_events()
        .when("k1", command(&"p".repeat(129), "x"))
        .then_expect_invalid("product_id");
    Spec::given_no_events()
        .when("k1", command("p", &"n".repeat(257)))
        .then_expect_invalid("product_name");
}

#[test]
fn a_purchase_over_the_credit_limit_is_refused() {
    Spec::given(history(vec![
        purchased(1, 45_000, PaymentMode::Immediate).into(),
    ]))
    .when("k2", purchase(5_001, PaymentMode::Monthly))
    .then_expect_error(DomainError::CreditLimitExceeded {
        limit: 50_000,
        outstanding: 45_000,
        amount: 5_001,
    });
}

#[test]
fn a_purchase_up_to_the_credit_limit_exactly_is_accepted() {
    let reply = Spec::given(history(vec![
        purchased(1, 45_000, PaymentMode::Immediate).into(),
    ]))
    .when("k2", purchase(5_000, PaymentMode::Immediate))
    .then_expect_events(vec![
        Event::PurchaseCompleted(PurchaseCompleted {
            order_id: id(101),
            product_id: "prod-01".into(),
            product_name: "Product 1".into(),
            amount: 5_000,
            payment_mode: PaymentMode::Immediate,
            credit_limit: 50_000,
        }),
        Event::PaymentPromiseCreated(PaymentPromiseCreated {
            promise_id: id(102),
            order_id: id(101),
            product_id: "prod-01".into(),
            product_name: "Product 1".into(),
            amount: 5_000,
            payment_mode: PaymentMode::Immediate,
            due_date: date(2026, 2, 14),
        }),
    ]);
    assert!(matches!(reply, Reply::Purchase { version: 4, .. }));
}

#[test]
fn the_credit_limit_is_configurable() {
    Spec::given_no_events()
        .with_credit_limit(10_000)
        .when("k1", purchase(10_001, PaymentMode::Immediate))
        .then_expect_error(DomainError::CreditLimitExceeded {
            limit: 10_000,
            outstanding: 0,
            amount: 10_001,
        });
}

#[test]
fn the_credit_limit_counts_billed_but_unpaid_promises() {
    Spec::given(history(vec![
        purchased(1, 30_000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 30_000)],
    ]))
    .when("k2", purchase(20_001, PaymentMode::Immediate))
    .then_expect_error(DomainError::CreditLimitExceeded {
        limit: 50_000,
        outstanding: 30_000,
        amount: 20_001,
    });
}

// IssueImmediateBill

#[test]
fn an_immediate_bill_covers_the_promise_and_is_due_in_fourteen_days() {
    let reply = Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("b1", bill(id(2), 5000))
    .then_expect_events(vec![Event::MemberBillIssued(MemberBillIssued {
        bill_id: id(101),
        promise_ids: vec![id(2)],
        amount: 5000,
        issued_date: date(2026, 1, 15),
        due_date: date(2026, 1, 29),
    })]);
    assert_eq!(
        reply,
        Reply::IssueImmediateBill {
            bill_id: id(101),
            due_date: date(2026, 1, 29),
            version: 3
        }
    );
}

#[test]
fn an_immediate_bill_without_an_amount_takes_the_promises_amount() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("b1", bill(id(2), 0))
    .then_expect_events(vec![Event::MemberBillIssued(MemberBillIssued {
        bill_id: id(101),
        promise_ids: vec![id(2)],
        amount: 5000,
        issued_date: date(2026, 1, 15),
        due_date: date(2026, 1, 29),
    })]);
}

#[test]
fn billing_an_unknown_promise_is_refused() {
    // Another member's promise is not in this member's stream: the same answer.
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("b1", bill(id(77), 0))
    .then_expect_error(DomainError::PromiseNotFound {
        user_id: USER.into(),
        promise_id: id(77),
    });
}

#[test]
fn billing_a_billed_promise_is_refused() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000)],
    ]))
    .when("b2", bill(id(2), 5000))
    .then_expect_error(DomainError::PromiseAlreadyBilled {
        promise_id: id(2),
        bill_id: id(10),
    });
}

#[test]
fn billing_with_another_amount_than_the_promises_is_refused() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("b1", bill(id(2), 4999))
    .then_expect_error(DomainError::AmountMismatch {
        what: AmountOf::Promise,
        expected: 5000,
        given: 4999,
    });
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("b1", bill(id(2), -5000))
    .then_expect_invalid("amount");
}

#[test]
fn a_monthly_promise_gets_no_immediate_bill() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Monthly).into(),
    ]))
    .when("b1", bill(id(2), 0))
    .then_expect_error(DomainError::PromiseNotImmediate { promise_id: id(2) });
}

// CompletePayment

#[test]
fn a_payment_marks_the_bill_paid_and_frees_its_credit() {
    let given = history(vec![
        purchased(1, 50_000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 50_000)],
    ]);
    let reply = Spec::given(given.clone())
        .when("p1", pay(id(10), 50_000))
        .then_expect_events(vec![Event::PaymentCompleted(PaymentCompleted {
            bill_id: id(10),
            amount: 50_000,
            paid_date: date(2026, 1, 15),
        })]);
    assert_eq!(reply, Reply::CompletePayment { version: 4 });

    // Full before the payment, free after it.
    Spec::given(given.clone())
        .when("k2", purchase(1, PaymentMode::Immediate))
        .then_expect_error(DomainError::CreditLimitExceeded {
            limit: 50_000,
            outstanding: 50_000,
            amount: 1,
        });
    let after = Spec::given(history(vec![given, vec![paid(10, 50_000)]]))
        .when("k2", purchase(50_000, PaymentMode::Immediate));
    assert_eq!(after.before.outstanding, 0);
    assert!(matches!(after.result, Ok(Decision::Append { .. })));
}

#[test]
fn paying_an_unknown_bill_is_refused() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("p1", pay(id(99), 5000))
    .then_expect_error(DomainError::BillNotFound {
        user_id: USER.into(),
        bill_id: id(99),
    });
}

#[test]
fn paying_a_wrong_amount_is_refused() {
    let given = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000)],
    ]);
    Spec::given(given.clone())
        .when("p1", pay(id(10), 4000))
        .then_expect_error(DomainError::AmountMismatch {
            what: AmountOf::Bill,
            expected: 5000,
            given: 4000,
        });
    for amount in [0, -5000] {
        Spec::given(given.clone())
            .when("p1", pay(id(10), amount))
            .then_expect_invalid("amount");
    }
}

#[test]
fn paying_a_paid_bill_is_refused() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000), paid(10, 5000)],
    ]))
    .when("p2", pay(id(10), 5000))
    .then_expect_error(DomainError::BillAlreadyPaid { bill_id: id(10) });
}

// Idempotency

#[test]
fn a_retried_purchase_gets_the_first_reply_and_appends_nothing() {
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("purchase-1", purchase(5000, PaymentMode::Immediate))
    .then_expect_already_done(Reply::Purchase {
        order_id: id(1),
        promise_id: id(2),
        due_date: date(2026, 2, 9),
        version: 2,
    });
}

#[test]
fn a_retried_bill_or_payment_gets_the_first_reply() {
    let given = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000), paid(10, 5000)],
    ]);
    for amount in [0, 5000] {
        Spec::given(given.clone())
            .when("bill-1", bill(id(2), amount))
            .then_expect_already_done(Reply::IssueImmediateBill {
                bill_id: id(10),
                due_date: date(2026, 1, 26),
                version: 3,
            });
    }
    Spec::given(given)
        .when("pay-1", pay(id(10), 5000))
        .then_expect_already_done(Reply::CompletePayment { version: 4 });
}

#[test]
fn a_key_reused_for_another_request_is_refused() {
    let given = history(vec![purchased(1, 5000, PaymentMode::Immediate).into()]);
    let outcome =
        Spec::given(given.clone()).when("purchase-1", purchase(6000, PaymentMode::Immediate));
    assert!(
        matches!(outcome.result, Err(DomainError::IdempotencyKeyReused { ref key, .. }) if key == "purchase-1")
    );
    let outcome = Spec::given(given).when("purchase-1", bill(id(2), 0));
    assert!(matches!(
        outcome.result,
        Err(DomainError::IdempotencyKeyReused { .. })
    ));
}

#[test]
fn a_command_needs_an_idempotency_key() {
    Spec::given_no_events()
        .when("", purchase(100, PaymentMode::Immediate))
        .then_expect_invalid("idempotency_key");
    Spec::given_no_events()
        .when(&"k".repeat(129), purchase(100, PaymentMode::Immediate))
        .then_expect_invalid("idempotency_key");
}

#[test]
fn folding_a_stream_tracks_version_and_outstanding() {
    let member = Member::from_events(
        &Spec::given(history(vec![
            purchased(1, 5000, PaymentMode::Immediate).into(),
            purchased(3, 7000, PaymentMode::Monthly).into(),
            vec![billed(10, 2, 5000), paid(10, 5000)],
        ]))
        .history,
    );
    assert_eq!(member.version, 6);
    assert_eq!(member.outstanding, 7000);
    assert_eq!(member.promises[&id(2)].bill_id, Some(id(10)));
    assert_eq!(member.bills[&id(10)].state, BillState::Paid);
}

#[test]
fn ids_are_validated() {
    assert!(validate::id("promise_id", "not-a-uuid").is_err());
    assert!(validate::id("promise_id", "").is_err());
    assert!(validate::user_id(&"u".repeat(1 << 20)).is_err());
    assert!(validate::user_id("   ").is_err());
    assert!(validate::user_id("test-user-01").is_ok());
    let long = validate::id("bill_id", &"x".repeat(1000))
        .unwrap_err()
        .to_string();
    assert!(
        long.len() < 100,
        "the message quotes at most a short prefix: {long}"
    );
}

/// 締め of `period`: bill `bill_id` for promise 2, 3,000 yen by `method`, issued on the 1st
/// of the next month and due `due_date`.
pub(crate) fn closed(
    bill_id: u128,
    period: &str,
    method: PaymentMethod,
    due_date: NaiveDate,
) -> (&'static str, Event) {
    let period: Period = period.parse().expect("a period");
    (
        "close",
        Event::MonthlyBillIssued(MonthlyBillIssued {
            bill_id: id(bill_id),
            period,
            promise_ids: vec![id(2)],
            items_total: 3000,
            fee: 0,
            credit_applied: 0,
            unapplied_applied: 0,
            amount: 3000,
            method,
            issued_date: period.next().day(1),
            due_date,
        }),
    )
}
