//! Given/when/then specs for the BNPL month: payment methods, the monthly close, cancellation,
//! money received, refunds, overdue bills and per-member credit limits.

use chrono::{DateTime, TimeZone, Utc};

use crate::spec::*;
use crate::*;

/// 2026-02-02 10:00 in Tokyo: January has ended.
fn in_february() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 2, 1, 0, 0).unwrap()
}

fn january() -> Period {
    "2026-01".parse().unwrap()
}

fn close(period: Period) -> Command {
    Command::CloseMonth(CloseMonth { period })
}

fn cancel(order: u128, amount: i64) -> Command {
    Command::CancelPurchase(CancelPurchase {
        order_id: id(order),
        amount,
    })
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

fn overdue_check(y: i32, m: u32, d: u32) -> Command {
    Command::MarkOverdue(MarkOverdue {
        as_of: date(y, m, d),
    })
}

fn method(method: PaymentMethod) -> (&'static str, Event) {
    (
        "method",
        Event::PaymentMethodChanged(PaymentMethodChanged { method }),
    )
}

/// January's monthly bill `bill` of the promises `promises`, as a close issues it.
fn monthly_bill(bill: u128, promises: &[u128], items_total: i64, fee: i64) -> MonthlyBillIssued {
    MonthlyBillIssued {
        bill_id: id(bill),
        period: january(),
        promise_ids: promises.iter().copied().map(id).collect(),
        items_total,
        fee,
        credit_applied: 0,
        unapplied_applied: 0,
        amount: items_total + fee,
        method: if fee > 0 {
            PaymentMethod::ConvenienceStore
        } else {
            PaymentMethod::BankDebit
        },
        issued_date: date(2026, 2, 2),
        due_date: date(2026, 2, if fee > 0 { 10 } else { 27 }),
    }
}

fn closed(bill: u128, promises: &[u128], items_total: i64, fee: i64) -> (&'static str, Event) {
    (
        "close:2026-01",
        Event::MonthlyBillIssued(monthly_bill(bill, promises, items_total, fee)),
    )
}

/// Money received naming `bill`, all of it applied to that bill (`applied`) or none.
fn received(tx: &'static str, bill: u128, amount: i64, applied: bool) -> (&'static str, Event) {
    (
        tx,
        Event::PaymentReceived(PaymentReceived {
            transaction_id: tx.into(),
            bill_id: Some(id(bill)),
            amount,
            received_at: in_february(),
            applied,
            applications: if applied {
                vec![Application {
                    bill_id: id(bill),
                    amount,
                    left: 0,
                }]
            } else {
                Vec::new()
            },
        }),
    )
}

fn member_after(spec: Spec) -> Member {
    Member::from_events(&spec.history)
}

// Payment method

#[test]
fn a_member_chooses_bank_debit() {
    Spec::given_no_events()
        .when(
            "m1",
            Command::SetPaymentMethod(SetPaymentMethod {
                method: PaymentMethod::BankDebit,
            }),
        )
        .then_expect_events(vec![Event::PaymentMethodChanged(PaymentMethodChanged {
            method: PaymentMethod::BankDebit,
        })]);
}

#[test]
fn a_bank_debit_member_s_monthly_purchase_is_due_on_the_twenty_seventh() {
    let reply = Spec::given([method(PaymentMethod::BankDebit)])
        .when("k1", purchase(3000, PaymentMode::Monthly))
        .then_expect_events_matching(|_| true);
    assert!(matches!(reply, Reply::Purchase { due_date, .. } if due_date == date(2026, 2, 27)));
}

// Monthly close

#[test]
fn a_close_bills_the_month_s_monthly_promises_with_the_convenience_store_fee() {
    let reply = Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        purchased(3, 2000, PaymentMode::Monthly).into(),
    ]))
    .at(in_february())
    .when("close:2026-01", close(january()))
    .then_expect_events(vec![Event::MonthlyBillIssued(MonthlyBillIssued {
        bill_id: id(101),
        ..monthly_bill(0, &[2, 4], 5000, DEFAULT_BILL_FEE)
    })]);
    assert_eq!(
        reply,
        Reply::CloseMonth {
            bill: Some(ClosedBill {
                bill_id: id(101),
                amount: 5000 + DEFAULT_BILL_FEE,
                due_date: date(2026, 2, 10),
            }),
            version: 5,
        }
    );
}

#[test]
fn a_bank_debit_bill_has_no_fee_and_is_drawn_on_the_twenty_seventh() {
    Spec::given(history(vec![
        vec![method(PaymentMethod::BankDebit)],
        purchased(1, 3000, PaymentMode::Monthly).into(),
    ]))
    .at(in_february())
    .when("close:2026-01", close(january()))
    .then_expect_events(vec![Event::MonthlyBillIssued(MonthlyBillIssued {
        bill_id: id(101),
        ..monthly_bill(0, &[2], 3000, 0)
    })]);
}

#[test]
fn only_unbilled_monthly_promises_of_the_month_are_on_the_bill() {
    let outcome = Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        purchased(3, 2000, PaymentMode::Immediate).into(),
        purchased(5, 1000, PaymentMode::Monthly).into(),
        vec![(
            "cancel",
            Event::PurchaseCancelled(PurchaseCancelled {
                order_id: id(5),
                promise_id: id(6),
                amount: 1000,
                remaining_amount: 0,
                credited: 0,
            }),
        )],
    ]))
    .at(in_february())
    .when("close:2026-01", close(january()));
    outcome.then_expect_events_matching(|events| {
        matches!(events, [Event::MonthlyBillIssued(b)] if b.promise_ids == vec![id(2)] && b.items_total == 3000)
    });
}

#[test]
fn closing_a_month_twice_answers_the_first_bill_and_appends_nothing() {
    let spec = Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        vec![closed(10, &[2], 3000, DEFAULT_BILL_FEE)],
    ]))
    .at(in_february());
    spec.when("close:2026-01-again", close(january()))
        .then_expect_already_done(Reply::CloseMonth {
            bill: Some(ClosedBill {
                bill_id: id(10),
                amount: 3000 + DEFAULT_BILL_FEE,
                due_date: date(2026, 2, 10),
            }),
            version: 3,
        });
}

#[test]
fn a_close_after_the_usual_due_date_gives_the_member_fourteen_days() {
    let in_march = Utc.with_ymd_and_hms(2026, 3, 5, 1, 0, 0).unwrap();
    Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
    ]))
    .at(in_march)
    .when("close:2026-01", close(january()))
    .then_expect_events_matching(|events| {
        matches!(events, [Event::MonthlyBillIssued(b)]
                if b.issued_date == date(2026, 3, 5) && b.due_date == date(2026, 3, 19))
    });
}

#[test]
fn a_month_that_has_not_ended_is_not_closed() {
    Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
    ]))
    .when("close:2026-01", close(january()))
    .then_expect_error(DomainError::PeriodNotEnded {
        period: january(),
        today: date(2026, 1, 15),
    });
}

#[test]
fn a_month_with_nothing_to_bill_records_nothing() {
    Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Immediate).into(),
    ]))
    .at(in_february())
    .when("close:2026-01", close(january()))
    .then_expect_no_events(Reply::CloseMonth {
        bill: None,
        version: 2,
    });
}

#[test]
fn the_member_s_balances_are_applied_to_the_next_bill() {
    let spec = Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        vec![received("tx-1", 99, 500, false)],
    ]))
    .at(in_february());
    spec.when("close:2026-01", close(january()))
        .then_expect_events_matching(|events| {
            matches!(events, [Event::MonthlyBillIssued(b)]
                if b.unapplied_applied == 500 && b.credit_applied == 0
                    && b.amount == 3000 + DEFAULT_BILL_FEE - 500)
        });
    let covered = Spec::given(history(vec![
        purchased(1, 300, PaymentMode::Monthly).into(),
        vec![received("tx-1", 99, 1000, false)],
        vec![(
            "close:2026-01",
            Event::MonthlyBillIssued(MonthlyBillIssued {
                unapplied_applied: 300 + DEFAULT_BILL_FEE,
                amount: 0,
                ..monthly_bill(10, &[2], 300, DEFAULT_BILL_FEE)
            }),
        )],
    ]));
    let member = member_after(covered);
    assert_eq!(member.bills[&id(10)].state, BillState::Paid);
    assert_eq!(member.unapplied_balance, 1000 - 300 - DEFAULT_BILL_FEE);
    assert_eq!(member.outstanding, 0);
}

// Cancellation

#[test]
fn cancelling_before_billing_frees_the_credit() {
    let spec = Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]));
    let reply = spec
        .when("c1", cancel(1, 0))
        .then_expect_events(vec![Event::PurchaseCancelled(PurchaseCancelled {
            order_id: id(1),
            promise_id: id(2),
            amount: 5000,
            remaining_amount: 0,
            credited: 0,
        })]);
    assert!(matches!(
        reply,
        Reply::CancelPurchase {
            remaining_amount: 0,
            version: 3,
            ..
        }
    ));
    let after = Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![(
            "c1",
            Event::PurchaseCancelled(PurchaseCancelled {
                order_id: id(1),
                promise_id: id(2),
                amount: 2000,
                remaining_amount: 3000,
                credited: 0,
            }),
        )],
    ]));
    let member = member_after(after);
    assert_eq!(member.outstanding, 3000);
    assert_eq!(member.promises[&id(2)].amount, 3000);
}

#[test]
fn cancelling_on_an_unpaid_bill_adjusts_the_bill() {
    Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        purchased(3, 2000, PaymentMode::Monthly).into(),
        vec![closed(10, &[2, 4], 5000, DEFAULT_BILL_FEE)],
    ]))
    .when("c1", cancel(3, 500))
    .then_expect_events(vec![
        Event::PurchaseCancelled(PurchaseCancelled {
            order_id: id(3),
            promise_id: id(4),
            amount: 500,
            remaining_amount: 1500,
            credited: 0,
        }),
        Event::BillAdjusted(BillAdjusted {
            bill_id: id(10),
            reason: AdjustmentReason::Cancellation,
            items_total: 4500,
            fee: DEFAULT_BILL_FEE,
            amount: 4500 + DEFAULT_BILL_FEE,
            cancelled: false,
            credited: 0,
        }),
    ]);
}

#[test]
fn cancelling_everything_on_a_bill_cancels_it_fee_and_all() {
    Spec::given(history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        vec![closed(10, &[2], 3000, DEFAULT_BILL_FEE)],
    ]))
    .when("c1", cancel(1, 0))
    .then_expect_events_matching(|events| {
        matches!(events, [Event::PurchaseCancelled(_), Event::BillAdjusted(b)]
            if b.cancelled && b.amount == 0 && b.fee == 0)
    });
}

#[test]
fn cancelling_after_payment_becomes_credit_balance() {
    let given = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000), paid(10, 5000)],
    ]);
    Spec::given(given.clone())
        .when("c1", cancel(1, 1500))
        .then_expect_events(vec![Event::PurchaseCancelled(PurchaseCancelled {
            order_id: id(1),
            promise_id: id(2),
            amount: 1500,
            remaining_amount: 3500,
            credited: 1500,
        })]);
    let mut history_after = given;
    history_after.push((
        "c1",
        Event::PurchaseCancelled(PurchaseCancelled {
            order_id: id(1),
            promise_id: id(2),
            amount: 1500,
            remaining_amount: 3500,
            credited: 1500,
        }),
    ));
    let member = member_after(Spec::given(history_after));
    assert_eq!(member.credit_balance, 1500);
    assert_eq!(member.outstanding, 0);
}

#[test]
fn a_cancellation_of_an_unknown_order_is_refused() {
    Spec::given_no_events()
        .when("c1", cancel(1, 0))
        .then_expect_error(DomainError::OrderNotFound {
            user_id: USER.into(),
            order_id: id(1),
        });
}

#[test]
fn a_cancellation_beyond_what_is_left_is_refused() {
    let given = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![(
            "c1",
            Event::PurchaseCancelled(PurchaseCancelled {
                order_id: id(1),
                promise_id: id(2),
                amount: 5000,
                remaining_amount: 0,
                credited: 0,
            }),
        )],
    ]);
    Spec::given(given)
        .when("c2", cancel(1, 0))
        .then_expect_error(DomainError::AlreadyCancelled { order_id: id(1) });
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("c2", cancel(1, 5001))
    .then_expect_error(DomainError::CancellationTooLarge {
        order_id: id(1),
        given: 5001,
        remaining: 5000,
    });
    Spec::given(history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
    ]))
    .when("c2", cancel(1, -1))
    .then_expect_invalid("amount");
}

#[test]
fn a_cancelled_bill_cannot_be_paid() {
    let given = history(vec![
        purchased(1, 3000, PaymentMode::Monthly).into(),
        vec![closed(10, &[2], 3000, DEFAULT_BILL_FEE)],
        vec![(
            "c1",
            Event::BillAdjusted(BillAdjusted {
                bill_id: id(10),
                reason: AdjustmentReason::Cancellation,
                items_total: 0,
                fee: 0,
                amount: 0,
                cancelled: true,
                credited: 0,
            }),
        )],
    ]);
    Spec::given(given)
        .when("p1", pay(id(10), 3000))
        .then_expect_error(DomainError::BillCancelled { bill_id: id(10) });
}

// Money received

#[test]
fn money_matching_an_unpaid_bill_pays_it() {
    let given = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000)],
    ]);
    Spec::given(given.clone())
        .when("tx-1", receive("tx-1", Some(10), 5000))
        .then_expect_events(vec![received("tx-1", 10, 5000, true).1]);
    let mut after = given;
    after.push(received("tx-1", 10, 5000, true));
    let member = member_after(Spec::given(after));
    assert_eq!(member.bills[&id(10)].state, BillState::Paid);
    assert_eq!((member.outstanding, member.unapplied_balance), (0, 0));
}

#[test]
fn money_with_no_open_bill_to_pay_is_kept_as_unapplied_balance() {
    let paid_already = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000), paid(10, 5000)],
    ]);
    for (given, bill, amount) in [
        (paid_already.clone(), Some(10), 5000),
        (paid_already, Some(77), 5000),
        (Vec::new(), None, 800),
    ] {
        let reply = Spec::given(given)
            .when("tx-1", receive("tx-1", bill, amount))
            .then_expect_events_matching(|events| {
                matches!(events, [Event::PaymentReceived(p)]
                    if !p.applied && p.amount == amount && p.applications.is_empty())
            });
        assert!(matches!(reply, Reply::ReceivePayment { kept, .. } if kept == amount));
    }
    let member = member_after(Spec::given([received("tx-1", 77, 800, false)]));
    assert_eq!(member.unapplied_balance, 800);
}

#[test]
fn the_same_transaction_twice_is_recorded_once() {
    Spec::given([received("tx-1", 77, 800, false)])
        .when("tx-1", receive("tx-1", Some(77), 800))
        .then_expect_already_done(Reply::ReceivePayment {
            applied: false,
            applications: Vec::new(),
            kept: 800,
            version: 1,
        });
}

#[test]
fn money_received_needs_an_amount_and_a_transaction_id() {
    Spec::given_no_events()
        .when("tx-1", receive("tx-1", None, 0))
        .then_expect_invalid("amount");
    Spec::given_no_events()
        .when("tx-1", receive(" ", None, 100))
        .then_expect_invalid("transaction_id");
}

// Refunds

#[test]
fn a_refund_pays_back_unapplied_money_first_then_credit() {
    let given = history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000), paid(10, 5000)],
        vec![(
            "c1",
            Event::PurchaseCancelled(PurchaseCancelled {
                order_id: id(1),
                promise_id: id(2),
                amount: 1000,
                remaining_amount: 4000,
                credited: 1000,
            }),
        )],
        vec![received("tx-1", 77, 300, false)],
    ]);
    Spec::given(given.clone())
        .when("r1", Command::IssueRefund(IssueRefund { amount: 0 }))
        .then_expect_events(vec![Event::RefundIssued(RefundIssued {
            refund_id: id(101),
            amount: 1300,
            from_credit: 1000,
            from_unapplied: 300,
        })]);
    Spec::given(given)
        .when("r1", Command::IssueRefund(IssueRefund { amount: 2000 }))
        .then_expect_error(DomainError::RefundTooLarge {
            given: 2000,
            available: 1300,
        });
}

#[test]
fn nothing_to_refund_is_refused() {
    Spec::given_no_events()
        .when("r1", Command::IssueRefund(IssueRefund { amount: 0 }))
        .then_expect_error(DomainError::NothingToRefund);
}

// Overdue

fn billed_and_due_on_jan_26() -> Vec<(&'static str, Event)> {
    history(vec![
        purchased(1, 5000, PaymentMode::Immediate).into(),
        vec![billed(10, 2, 5000)],
    ])
}

#[test]
fn a_bill_is_overdue_the_day_after_its_due_date_with_the_first_reminder() {
    let spec = || Spec::given(billed_and_due_on_jan_26()).at(in_february());
    spec()
        .when("overdue:2026-01-26", overdue_check(2026, 1, 26))
        .then_expect_no_events(Reply::MarkOverdue {
            newly_overdue: 0,
            version: 3,
        });
    spec()
        .when("overdue:2026-01-27", overdue_check(2026, 1, 27))
        .then_expect_events(vec![
            Event::BillOverdue(BillOverdue {
                bill_id: id(10),
                since: date(2026, 1, 27),
            }),
            Event::ReminderIssued(ReminderIssued {
                bill_id: id(10),
                days_overdue: 1,
                date: date(2026, 1, 27),
            }),
        ]);
}

fn overdue_since_jan_27() -> Vec<(&'static str, Event)> {
    history(vec![
        billed_and_due_on_jan_26(),
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
                Event::ReminderIssued(ReminderIssued {
                    bill_id: id(10),
                    days_overdue: 1,
                    date: date(2026, 1, 27),
                }),
            ),
        ],
    ])
}

#[test]
fn reminders_go_out_on_days_seven_and_fourteen_once_each() {
    Spec::given(overdue_since_jan_27())
        .at(in_february())
        .when("overdue:2026-02-02", overdue_check(2026, 2, 2))
        .then_expect_events(vec![Event::ReminderIssued(ReminderIssued {
            bill_id: id(10),
            days_overdue: 7,
            date: date(2026, 2, 2),
        })]);
    Spec::given(overdue_since_jan_27())
        .at(in_february())
        .when("overdue:2026-01-28", overdue_check(2026, 1, 28))
        .then_expect_no_events(Reply::MarkOverdue {
            newly_overdue: 0,
            version: 5,
        });
}

#[test]
fn the_reissue_fee_is_added_once_when_a_bill_becomes_overdue() {
    Spec::given(billed_and_due_on_jan_26())
        .with_reissue_fee(300)
        .at(in_february())
        .when("overdue:2026-01-27", overdue_check(2026, 1, 27))
        .then_expect_events_matching(|events| {
            matches!(events, [Event::BillOverdue(_), Event::BillAdjusted(b), Event::ReminderIssued(_)]
                if b.reason == AdjustmentReason::ReissueFee && b.amount == 5300 && b.fee == 300)
        });
}

#[test]
fn an_overdue_member_cannot_buy_until_the_bill_is_paid() {
    Spec::given(overdue_since_jan_27())
        .when("k9", purchase(100, PaymentMode::Immediate))
        .then_expect_error(DomainError::MemberOverdue {
            bill_id: id(10),
            due_date: date(2026, 1, 26),
        });
    Spec::given(history(vec![overdue_since_jan_27(), vec![paid(10, 5000)]]))
        .when("k9", purchase(100, PaymentMode::Immediate))
        .then_expect_events_matching(|events| events.len() == 2);
}

#[test]
fn the_overdue_check_does_not_run_ahead_of_today() {
    Spec::given(billed_and_due_on_jan_26())
        .when("overdue:2026-02-01", overdue_check(2026, 2, 1))
        .then_expect_error(DomainError::DateInFuture {
            as_of: date(2026, 2, 1),
            today: date(2026, 1, 15),
        });
}

// Credit limit per member

#[test]
fn a_member_s_own_limit_decides_whatever_the_default() {
    let given = vec![(
        "limit",
        Event::CreditLimitChanged(CreditLimitChanged { limit: 80_000 }),
    )];
    Spec::given(given.clone())
        .with_credit_limit(10_000)
        .when("k1", purchase(70_000, PaymentMode::Immediate))
        .then_expect_events_matching(
            |events| matches!(events, [Event::PurchaseCompleted(p), _] if p.credit_limit == 80_000),
        );
    Spec::given(given)
        .with_credit_limit(500_000)
        .when("k1", purchase(90_000, PaymentMode::Immediate))
        .then_expect_error(DomainError::CreditLimitExceeded {
            limit: 80_000,
            outstanding: 0,
            amount: 90_000,
        });
}

#[test]
fn a_member_keeps_the_limit_of_their_first_purchase() {
    Spec::given(history(vec![
        purchased(1, 30_000, PaymentMode::Immediate).into(),
    ]))
    .with_credit_limit(100_000)
    .when("k9", purchase(30_000, PaymentMode::Immediate))
    .then_expect_error(DomainError::CreditLimitExceeded {
        limit: DEFAULT_CREDIT_LIMIT,
        outstanding: 30_000,
        amount: 30_000,
    });
}

#[test]
fn a_credit_limit_is_zero_to_ten_million_yen() {
    for limit in [-1, MAX_CREDIT_LIMIT + 1] {
        Spec::given_no_events()
            .when(
                "l1",
                Command::ChangeCreditLimit(ChangeCreditLimit { limit }),
            )
            .then_expect_invalid("limit");
    }
    Spec::given_no_events()
        .when(
            "l1",
            Command::ChangeCreditLimit(ChangeCreditLimit { limit: 0 }),
        )
        .then_expect_events(vec![Event::CreditLimitChanged(CreditLimitChanged {
            limit: 0,
        })]);
}
