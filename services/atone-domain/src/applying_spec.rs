//! Given/when/then specs for applying money received (消込): partial and over-payments,
//! which bill money pays first, what a cancellation does to a bill paid in part, and how
//! fees and payments meet the credit limit.

use chrono::{DateTime, TimeZone, Utc};

use crate::spec::*;
use crate::*;

/// 2026-02-02 10:00 in Tokyo.
fn in_february() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 2, 1, 0, 0).unwrap()
}

fn receive(tx: &str, bill: Option<u128>, amount: i64) -> Command {
    Command::ReceivePayment(ReceivePayment {
        transaction_id: tx.into(),
        bill_id: bill.map(id),
        amount,
        received_at: in_february(),
        hold: false,
    })
}

fn applied(bill: u128, amount: i64, left: i64) -> Application {
    Application {
        bill_id: id(bill),
        amount,
        left,
    }
}

/// Money received naming `bill`, applied as `applications`.
fn received(
    tx: &'static str,
    bill: Option<u128>,
    amount: i64,
    applications: Vec<Application>,
) -> (&'static str, Event) {
    (
        tx,
        Event::PaymentReceived(PaymentReceived {
            transaction_id: tx.into(),
            bill_id: bill.map(id),
            amount,
            received_at: in_february(),
            applied: !applications.is_empty(),
            applications,
        }),
    )
}

/// An immediate bill `bill` of `amount` yen for order `order` (promise `order + 1`), due on
/// `due_day` January 2026.
fn billed_on(bill: u128, order: u128, amount: i64, due_day: u32) -> Vec<(&'static str, Event)> {
    let mut events: Vec<(&'static str, Event)> =
        purchased(order, amount, PaymentMode::Immediate).into();
    events.push((
        "bill-n",
        Event::MemberBillIssued(MemberBillIssued {
            bill_id: id(bill),
            promise_ids: vec![id(order + 1)],
            amount,
            issued_date: date(2026, 1, 12),
            due_date: date(2026, 1, due_day),
        }),
    ));
    events
}

fn one_bill_of(amount: i64) -> Vec<(&'static str, Event)> {
    billed_on(10, 1, amount, 26)
}

fn member_of(events: Vec<(&'static str, Event)>) -> Member {
    Member::from_events(&Spec::given(events).history)
}

#[test]
fn a_partial_payment_lowers_what_is_left_and_the_bill_stays_open() {
    Spec::given(one_bill_of(5000))
        .when("tx-1", receive("tx-1", Some(10), 2000))
        .then_expect_events(vec![
            received("tx-1", Some(10), 2000, vec![applied(10, 2000, 3000)]).1,
        ]);
    let member = member_of(history(vec![
        one_bill_of(5000),
        vec![received(
            "tx-1",
            Some(10),
            2000,
            vec![applied(10, 2000, 3000)],
        )],
    ]));
    let bill = &member.bills[&id(10)];
    assert_eq!(
        (bill.state, bill.paid, bill.left()),
        (BillState::Unpaid, 2000, 3000)
    );
    // The purchase's credit comes back when the bill is paid in full, not before.
    assert_eq!((member.outstanding, member.unapplied_balance), (5000, 0));
}

#[test]
fn a_bill_paid_in_part_goes_overdue_on_its_date() {
    Spec::given(history(vec![
        one_bill_of(5000),
        vec![received("tx-1", Some(10), 2000, vec![applied(10, 2000, 3000)])],
    ]))
    .at(in_february())
    .when(
        "overdue:2026-01-27",
        Command::MarkOverdue(MarkOverdue {
            as_of: date(2026, 1, 27),
        }),
    )
    .then_expect_events_matching(|events| {
        matches!(events, [Event::BillOverdue(b), Event::ReminderIssued(_)] if b.bill_id == id(10))
    });
}

#[test]
fn the_rest_of_a_bill_paid_in_part_pays_it() {
    let given = history(vec![
        one_bill_of(5000),
        vec![received(
            "tx-1",
            Some(10),
            2000,
            vec![applied(10, 2000, 3000)],
        )],
    ]);
    Spec::given(given.clone())
        .when("tx-2", receive("tx-2", None, 3000))
        .then_expect_events(vec![
            received("tx-2", None, 3000, vec![applied(10, 3000, 0)]).1,
        ]);
    let member = member_of(history(vec![
        given.clone(),
        vec![received("tx-2", None, 3000, vec![applied(10, 3000, 0)])],
    ]));
    assert_eq!(member.bills[&id(10)].state, BillState::Paid);
    assert_eq!(member.outstanding, 0);
    // The strict operator call asks for what is left, not what was billed.
    Spec::given(given.clone())
        .when("p1", pay(id(10), 5000))
        .then_expect_error(DomainError::AmountMismatch {
            what: AmountOf::Bill,
            expected: 3000,
            given: 5000,
        });
    Spec::given(given)
        .when("p1", pay(id(10), 3000))
        .then_expect_events_matching(|events| matches!(events, [Event::PaymentCompleted(_)]));
}

#[test]
fn an_over_payment_settles_the_bill_and_keeps_the_rest() {
    let reply = Spec::given(one_bill_of(5209))
        .when("tx-1", receive("tx-1", Some(10), 6000))
        .then_expect_events(vec![
            received("tx-1", Some(10), 6000, vec![applied(10, 5209, 0)]).1,
        ]);
    assert_eq!(
        reply,
        Reply::ReceivePayment {
            applied: true,
            applications: vec![applied(10, 5209, 0)],
            kept: 791,
            version: 4,
        }
    );
    let member = member_of(history(vec![
        one_bill_of(5209),
        vec![received("tx-1", Some(10), 6000, vec![applied(10, 5209, 0)])],
    ]));
    assert_eq!(member.bills[&id(10)].state, BillState::Paid);
    assert_eq!((member.outstanding, member.unapplied_balance), (0, 791));
}

#[test]
fn money_pays_the_bill_it_names_first_then_the_oldest_open_bill() {
    // Bill 10 is due on the 20th, bill 20 on the 26th, bill 30 on the 23rd.
    let given = history(vec![
        billed_on(10, 1, 1000, 20),
        billed_on(20, 3, 2000, 26),
        billed_on(30, 5, 3000, 23),
    ]);
    Spec::given(given.clone())
        .when("tx-1", receive("tx-1", Some(20), 4500))
        .then_expect_events(vec![
            received(
                "tx-1",
                Some(20),
                4500,
                vec![
                    applied(20, 2000, 0),
                    applied(10, 1000, 0),
                    applied(30, 1500, 1500),
                ],
            )
            .1,
        ]);
    // Naming no bill, or a bill the member does not have, pays the oldest first.
    for named in [None, Some(77)] {
        Spec::given(given.clone())
            .when("tx-1", receive("tx-1", named, 1500))
            .then_expect_events(vec![
                received(
                    "tx-1",
                    named,
                    1500,
                    vec![applied(10, 1000, 0), applied(30, 500, 2500)],
                )
                .1,
            ]);
    }
}

#[test]
fn money_after_a_reissue_fee_pays_the_raised_bill() {
    // Overdue, with a re-issue fee of 300: the bill asks 5,300.
    let overdue = history(vec![
        one_bill_of(5000),
        vec![
            (
                "overdue:2026-01-27",
                Event::BillOverdue(BillOverdue {
                    bill_id: id(10),
                    since: date(2026, 1, 27),
                }),
            ),
            (
                "overdue:2026-01-27",
                Event::BillAdjusted(BillAdjusted {
                    bill_id: id(10),
                    reason: AdjustmentReason::ReissueFee,
                    items_total: 5000,
                    fee: 300,
                    amount: 5300,
                    cancelled: false,
                    credited: 0,
                }),
            ),
        ],
    ]);
    // The amount first billed leaves the fee to pay: the member is still overdue.
    let first = received("tx-1", Some(10), 5000, vec![applied(10, 5000, 300)]);
    Spec::given(overdue.clone())
        .when("tx-1", receive("tx-1", Some(10), 5000))
        .then_expect_events(vec![first.1.clone()]);
    let after_first = history(vec![overdue, vec![first]]);
    Spec::given(after_first.clone())
        .when("k9", purchase(100, PaymentMode::Immediate))
        .then_expect_error(DomainError::MemberOverdue {
            bill_id: id(10),
            due_date: date(2026, 1, 26),
        });
    // The fee paid, the bill is paid and the member can buy again.
    let second = received("tx-2", None, 300, vec![applied(10, 300, 0)]);
    Spec::given(after_first.clone())
        .when("tx-2", receive("tx-2", None, 300))
        .then_expect_events(vec![second.1.clone()]);
    Spec::given(history(vec![after_first, vec![second]]))
        .when("k9", purchase(100, PaymentMode::Immediate))
        .then_expect_events_matching(|events| events.len() == 2);
}

#[test]
fn cancelling_on_a_bill_paid_in_part_credits_what_it_no_longer_needs() {
    // 4,000 of a 5,000 bill paid, then 2,000 of the order cancelled: the bill asks 3,000,
    // which is paid; the 1,000 paid beyond it becomes credit.
    let given = history(vec![
        one_bill_of(5000),
        vec![received(
            "tx-1",
            Some(10),
            4000,
            vec![applied(10, 4000, 1000)],
        )],
    ]);
    let adjusted = BillAdjusted {
        bill_id: id(10),
        reason: AdjustmentReason::Cancellation,
        items_total: 3000,
        fee: 0,
        amount: 3000,
        cancelled: false,
        credited: 1000,
    };
    Spec::given(given.clone())
        .when(
            "c1",
            Command::CancelPurchase(CancelPurchase {
                order_id: id(1),
                amount: 2000,
            }),
        )
        .then_expect_events_matching(|events| {
            matches!(events, [Event::PurchaseCancelled(_), Event::BillAdjusted(b)] if *b == adjusted)
        });
    let member = member_of(history(vec![
        given,
        vec![
            (
                "c1",
                Event::PurchaseCancelled(PurchaseCancelled {
                    order_id: id(1),
                    promise_id: id(2),
                    amount: 2000,
                    remaining_amount: 3000,
                    credited: 0,
                }),
            ),
            ("c1", Event::BillAdjusted(adjusted)),
        ],
    ]));
    let bill = &member.bills[&id(10)];
    assert_eq!(
        (bill.state, bill.paid, bill.left()),
        (BillState::Paid, 3000, 0)
    );
    assert_eq!((member.outstanding, member.credit_balance), (0, 1000));
}

#[test]
fn money_recorded_before_partial_payments_still_pays_its_bill() {
    // An event written before `applications` existed: `applied` paid the named bill whole.
    let legacy = Event::from_json(
        "PaymentReceived",
        serde_json::json!({
            "transaction_id": "tx-1",
            "bill_id": id(10),
            "amount": 5000,
            "received_at": "2026-02-02T01:00:00Z",
            "applied": true,
        }),
    )
    .unwrap();
    let member = member_of(history(vec![one_bill_of(5000), vec![("tx-1", legacy)]]));
    let bill = &member.bills[&id(10)];
    assert_eq!((bill.state, bill.paid), (BillState::Paid, 5000));
    assert_eq!((member.outstanding, member.unapplied_balance), (0, 0));
}

#[test]
fn fees_do_not_count_against_the_credit_limit() {
    // A bill of 9,000 yen of items and a 300 yen re-issue fee, under the limit of 50,000:
    // 41,000 yen of credit is left, the fee aside.
    let given = history(vec![
        billed_on(10, 1, 9000, 26),
        vec![(
            "overdue",
            Event::BillAdjusted(BillAdjusted {
                bill_id: id(10),
                reason: AdjustmentReason::ReissueFee,
                items_total: 9000,
                fee: 300,
                amount: 9300,
                cancelled: false,
                credited: 0,
            }),
        )],
    ]);
    assert_eq!(DEFAULT_CREDIT_LIMIT, 50_000);
    Spec::given(given.clone())
        .when("k9", purchase(41_000, PaymentMode::Monthly))
        .then_expect_events_matching(|events| events.len() == 2);
    Spec::given(given)
        .when("k9", purchase(41_001, PaymentMode::Monthly))
        .then_expect_error(DomainError::CreditLimitExceeded {
            limit: 50_000,
            outstanding: 9000,
            amount: 41_001,
        });
}

#[test]
fn money_held_for_an_operator_pays_no_bill() {
    let reply = Spec::given(one_bill_of(5000))
        .when(
            "tx-1#reused",
            Command::ReceivePayment(ReceivePayment {
                transaction_id: "tx-1#reused".into(),
                bill_id: None,
                amount: 5000,
                received_at: in_february(),
                hold: true,
            }),
        )
        .then_expect_events_matching(|events| {
            matches!(events, [Event::PaymentReceived(p)] if !p.applied && p.applications.is_empty())
        });
    assert!(matches!(reply, Reply::ReceivePayment { kept: 5000, .. }));
}
