//! Given/when/then specs for the projection: given the events a member's read models
//! already reflect, when one more event arrives, then this change (or this refusal).

use atone_domain::{
    AdjustmentReason, Application, BillAdjusted, BillOverdue, CreditLimitChanged, Envelope, Event,
    MemberBillIssued, MonthlyBillIssued, PaymentCompleted, PaymentMethod, PaymentMethodChanged,
    PaymentMode, PaymentPromiseCreated, PaymentReceived, PurchaseCancelled, PurchaseCompleted,
    RecordedEvent, RefundIssued, ReminderIssued,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::*;

const USER: &str = "test-user-01";

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 1, 0, 0).unwrap()
}

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn envelope(version: i64, event: Event) -> Envelope {
    Envelope {
        event_id: id(1000 + version as u128),
        user_id: USER.to_owned(),
        occurred_at: at(),
        correlation_id: "c".to_owned(),
        trace_parent: String::new(),
        recorded: RecordedEvent {
            version,
            idempotency_key: format!("k{version}"),
            event,
        },
    }
}

struct Spec {
    rows: MemberRows,
}

impl Spec {
    /// The read models after projecting `events` as versions 1, 2, 3…
    #[track_caller]
    fn given(events: impl IntoIterator<Item = Event>) -> Self {
        let mut rows = MemberRows::new(USER);
        for (i, event) in events.into_iter().enumerate() {
            match project(&rows, &envelope(i as i64 + 1, event)) {
                Ok(Projected::Applied(change)) => rows.apply(&change),
                other => panic!("the history does not project: {other:?}"),
            }
        }
        Self { rows }
    }

    fn when(self, version: i64, event: Event) -> Result<Projected, ProjectionError> {
        project(&self.rows, &envelope(version, event))
    }

    /// The next version.
    fn when_next(self, event: Event) -> Result<Projected, ProjectionError> {
        let version = self.rows.member.version + 1;
        self.when(version, event)
    }
}

#[track_caller]
fn then_expect_change(result: Result<Projected, ProjectionError>) -> Change {
    match result {
        Ok(Projected::Applied(change)) => change,
        other => panic!("expected a change, got {other:?}"),
    }
}

fn purchased(credit_limit: i64) -> Event {
    Event::PurchaseCompleted(PurchaseCompleted {
        order_id: id(1),
        product_id: "prod-01".into(),
        product_name: "Product 1".into(),
        amount: 5000,
        payment_mode: PaymentMode::Immediate,
        credit_limit,
    })
}

fn promised(promise: u128, amount: i64) -> Event {
    Event::PaymentPromiseCreated(PaymentPromiseCreated {
        promise_id: id(promise),
        order_id: id(1),
        product_id: "prod-01".into(),
        product_name: "Product 1".into(),
        amount,
        payment_mode: PaymentMode::Immediate,
        due_date: date(2, 14),
    })
}

fn billed(bill: u128, promises: &[u128], amount: i64) -> Event {
    Event::MemberBillIssued(MemberBillIssued {
        bill_id: id(bill),
        promise_ids: promises.iter().copied().map(id).collect(),
        amount,
        issued_date: date(1, 15),
        due_date: date(1, 29),
    })
}

fn paid(bill: u128, amount: i64) -> Event {
    Event::PaymentCompleted(PaymentCompleted {
        bill_id: id(bill),
        amount,
        paid_date: date(1, 20),
    })
}

fn member(credit_limit: i64, outstanding_amount: i64, version: i64) -> MemberRow {
    MemberRow {
        credit_limit,
        outstanding_amount,
        version,
        ..MemberRow::new(USER)
    }
}

fn promise_row(n: u128, amount: i64, status: PromiseStatus, bill: Option<u128>) -> PromiseRow {
    PromiseRow {
        id: id(n).to_string(),
        order_id: id(1).to_string(),
        user_id: USER.to_owned(),
        product_id: "prod-01".into(),
        product_name: "Product 1".into(),
        amount,
        cancelled_amount: 0,
        due_date: date(2, 14),
        payment_mode: PaymentMode::Immediate,
        status,
        bill_id: bill.map(|b| id(b).to_string()),
        purchased_at: at(),
        created_version: 2,
        updated_version: 2,
    }
}

#[test]
fn a_purchase_records_the_credit_limit_it_was_checked_against() {
    let change = then_expect_change(Spec::given([]).when_next(purchased(50_000)));
    assert_eq!(change.member, member(50_000, 0, 1));
    assert_eq!(change.event_type, "PurchaseCompleted");
    assert_eq!(change.occurred_at, at());
    assert!(change.promises.is_empty() && change.bills.is_empty());
}

#[test]
fn a_promise_is_created_unbilled_and_adds_to_the_outstanding_total() {
    let change = then_expect_change(Spec::given([purchased(50_000)]).when_next(promised(2, 5000)));
    assert_eq!(change.member, member(50_000, 5000, 2));
    assert_eq!(
        change.promises,
        vec![promise_row(2, 5000, PromiseStatus::Unbilled, None)]
    );
    assert!(change.bills.is_empty());
}

#[test]
fn a_bill_is_issued_unpaid_and_marks_its_promises_billed() {
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000)]).when_next(billed(3, &[2], 5000)),
    );
    assert_eq!(change.member, member(50_000, 5000, 3));
    assert_eq!(
        change.bills,
        vec![BillRow {
            id: id(3).to_string(),
            user_id: USER.to_owned(),
            kind: BillKind::Immediate,
            period: None,
            promise_ids: vec![id(2).to_string()],
            amount: 5000,
            items_total: 5000,
            fee: 0,
            balance_applied: 0,
            paid_amount: 0,
            status: BillStatus::Unpaid,
            payment_method: None,
            debit_failure: None,
            issued_date: date(1, 15),
            due_date: date(1, 29),
            paid_date: None,
            overdue_since: None,
            reminders_sent: 0,
            created_version: 3,
            updated_version: 3,
        }]
    );
    assert_eq!(
        change.promises,
        vec![PromiseRow {
            updated_version: 3,
            ..promise_row(2, 5000, PromiseStatus::Billed, Some(3))
        }]
    );
}

#[test]
fn a_payment_marks_the_bill_and_its_promises_paid_and_lowers_the_outstanding_total() {
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000), billed(3, &[2], 5000)])
            .when_next(paid(3, 5000)),
    );
    assert_eq!(change.member, member(50_000, 0, 4));
    assert_eq!(change.bills.len(), 1);
    assert_eq!(change.bills[0].status, BillStatus::Paid);
    assert_eq!(change.bills[0].paid_date, Some(date(1, 20)));
    assert_eq!(change.bills[0].created_version, 3);
    assert_eq!(change.bills[0].updated_version, 4);
    assert_eq!(
        change.promises,
        vec![PromiseRow {
            updated_version: 4,
            ..promise_row(2, 5000, PromiseStatus::Paid, Some(3))
        }]
    );
}

#[test]
fn a_version_already_applied_is_a_duplicate() {
    let spec = Spec::given([purchased(50_000), promised(2, 5000)]);
    assert_eq!(spec.when(2, promised(2, 5000)), Ok(Projected::Duplicate));
}

#[test]
fn a_version_gap_is_refused() {
    let spec = Spec::given([purchased(50_000)]);
    assert_eq!(
        spec.when(3, billed(3, &[2], 5000)),
        Err(ProjectionError::VersionGap {
            user_id: USER.to_owned(),
            at: 1,
            got: 3,
        })
    );
}

#[test]
fn a_payment_of_an_unknown_bill_is_refused() {
    let spec = Spec::given([purchased(50_000), promised(2, 5000)]);
    assert_eq!(
        spec.when_next(paid(9, 5000)),
        Err(ProjectionError::UnknownBill {
            user_id: USER.to_owned(),
            bill_id: id(9).to_string(),
        })
    );
}

#[test]
fn each_event_needs_the_rows_it_reads() {
    let mut needs = Needs::default();
    needs.add(&purchased(50_000));
    needs.add(&promised(2, 5000));
    assert!(needs.is_empty());
    needs.add(&billed(3, &[2, 4], 5000));
    needs.add(&paid(5, 5000));
    assert_eq!(
        needs,
        Needs {
            promise_ids: vec![id(2).to_string(), id(4).to_string()],
            bill_ids: vec![id(5).to_string()],
            promises_of_bills: vec![id(5).to_string()],
        }
    );
}

// The BNPL month

fn monthly(period_promises: &[u128], items_total: i64, fee: i64, applied: i64) -> Event {
    Event::MonthlyBillIssued(MonthlyBillIssued {
        bill_id: id(9),
        period: "2026-01".parse().unwrap(),
        promise_ids: period_promises.iter().copied().map(id).collect(),
        items_total,
        fee,
        credit_applied: 0,
        unapplied_applied: applied,
        amount: items_total + fee - applied,
        method: PaymentMethod::ConvenienceStore,
        issued_date: date(2, 1),
        due_date: date(2, 10),
    })
}

/// Money received naming `bill`, all of it paying that bill (`applied`) or none of it.
fn received(bill: u128, amount: i64, applied: bool) -> Event {
    Event::PaymentReceived(PaymentReceived {
        transaction_id: "tx-1".into(),
        bill_id: Some(id(bill)),
        amount,
        received_at: at(),
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
    })
}

fn cancelled(amount: i64, remaining: i64, credited: i64) -> Event {
    Event::PurchaseCancelled(PurchaseCancelled {
        order_id: id(1),
        promise_id: id(2),
        amount,
        remaining_amount: remaining,
        credited,
    })
}

#[test]
fn a_payment_method_and_a_credit_limit_change_the_member_row() {
    let change = then_expect_change(Spec::given([]).when_next(Event::PaymentMethodChanged(
        PaymentMethodChanged {
            method: PaymentMethod::BankDebit,
        },
    )));
    assert_eq!(change.member.payment_method, PaymentMethod::BankDebit);
    let change = then_expect_change(Spec::given([]).when_next(Event::CreditLimitChanged(
        CreditLimitChanged { limit: 80_000 },
    )));
    assert_eq!(change.member.credit_limit, 80_000);
}

#[test]
fn a_monthly_bill_carries_its_items_fee_and_period_and_bills_its_promises() {
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000)]).when_next(monthly(&[2], 5000, 209, 0)),
    );
    let bill = &change.bills[0];
    assert_eq!(
        (
            bill.kind,
            bill.period.as_deref(),
            bill.items_total,
            bill.fee,
            bill.amount,
            bill.status
        ),
        (
            BillKind::Monthly,
            Some("2026-01"),
            5000,
            209,
            5209,
            BillStatus::Unpaid
        )
    );
    assert_eq!(change.promises[0].status, PromiseStatus::Billed);
    assert_eq!(change.member.outstanding_amount, 5000);
}

#[test]
fn a_monthly_bill_the_balances_cover_is_paid_as_it_is_issued() {
    let change = then_expect_change(
        Spec::given([
            purchased(50_000),
            promised(2, 300),
            received(77, 1000, false),
        ])
        .when_next(monthly(&[2], 300, 209, 509)),
    );
    assert_eq!(change.bills[0].status, BillStatus::Paid);
    assert_eq!(change.bills[0].paid_date, Some(date(2, 1)));
    assert_eq!(change.promises[0].status, PromiseStatus::Paid);
    assert_eq!(change.member.unapplied_balance, 1000 - 509);
    assert_eq!(change.member.outstanding_amount, 0);
}

#[test]
fn a_cancellation_shrinks_the_promise_and_frees_its_credit() {
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000)]).when_next(cancelled(2000, 3000, 0)),
    );
    assert_eq!(
        (
            change.promises[0].amount,
            change.promises[0].cancelled_amount
        ),
        (3000, 2000)
    );
    assert_eq!(change.member.outstanding_amount, 3000);
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000)]).when_next(cancelled(5000, 0, 0)),
    );
    assert_eq!(change.promises[0].status, PromiseStatus::Cancelled);
}

#[test]
fn a_cancellation_after_payment_becomes_credit_balance() {
    let change = then_expect_change(
        Spec::given([
            purchased(50_000),
            promised(2, 5000),
            billed(3, &[2], 5000),
            paid(3, 5000),
        ])
        .when_next(cancelled(1000, 4000, 1000)),
    );
    assert_eq!(change.member.credit_balance, 1000);
    assert_eq!(change.member.outstanding_amount, 0);
    assert_eq!(change.promises[0].status, PromiseStatus::Paid);
}

#[test]
fn an_adjusted_bill_shows_its_new_amount_and_a_cancelled_one_its_status() {
    let given = || {
        Spec::given([
            purchased(50_000),
            promised(2, 5000),
            monthly(&[2], 5000, 209, 0),
        ])
    };
    let adjust = |cancelled: bool, items: i64| {
        Event::BillAdjusted(BillAdjusted {
            bill_id: id(9),
            reason: AdjustmentReason::Cancellation,
            items_total: items,
            fee: if cancelled { 0 } else { 209 },
            amount: if cancelled { 0 } else { items + 209 },
            cancelled,
            credited: 0,
        })
    };
    let change = then_expect_change(given().when_next(adjust(false, 4000)));
    assert_eq!(
        (change.bills[0].amount, change.bills[0].status),
        (4209, BillStatus::Adjusted)
    );
    let change = then_expect_change(given().when_next(adjust(true, 0)));
    assert_eq!(
        (change.bills[0].amount, change.bills[0].status),
        (0, BillStatus::Cancelled)
    );
}

#[test]
fn money_received_pays_the_bill_it_matches_or_becomes_unapplied_balance() {
    let given = || Spec::given([purchased(50_000), promised(2, 5000), billed(3, &[2], 5000)]);
    let change = then_expect_change(given().when_next(received(3, 5000, true)));
    assert_eq!(change.bills[0].status, BillStatus::Paid);
    assert_eq!(change.promises[0].status, PromiseStatus::Paid);
    assert_eq!(change.member.outstanding_amount, 0);
    let change = then_expect_change(given().when_next(received(3, 4000, false)));
    assert!(change.bills.is_empty());
    assert_eq!(change.member.unapplied_balance, 4000);
    assert_eq!(change.member.outstanding_amount, 5000);
}

/// Money received naming no bill, applied as `applications` (bill, yen, left).
fn applied(amount: i64, applications: &[(u128, i64, i64)]) -> Event {
    Event::PaymentReceived(PaymentReceived {
        transaction_id: "tx-2".into(),
        bill_id: None,
        amount,
        received_at: at(),
        applied: !applications.is_empty(),
        applications: applications
            .iter()
            .map(|&(bill, amount, left)| Application {
                bill_id: id(bill),
                amount,
                left,
            })
            .collect(),
    })
}

#[test]
fn money_applied_in_part_lowers_what_is_left_and_frees_no_credit() {
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000), billed(3, &[2], 5000)])
            .when_next(applied(2000, &[(3, 2000, 3000)])),
    );
    assert_eq!(change.bills.len(), 1);
    assert_eq!(
        (
            change.bills[0].status,
            change.bills[0].paid_amount,
            change.bills[0].amount
        ),
        (BillStatus::Unpaid, 2000, 5000)
    );
    assert!(change.promises.is_empty());
    assert_eq!(
        (
            change.member.outstanding_amount,
            change.member.unapplied_balance
        ),
        (5000, 0)
    );
}

#[test]
fn money_over_two_bills_pays_one_lowers_the_other_and_keeps_the_rest() {
    let given = [
        purchased(50_000),
        promised(2, 5000),
        billed(3, &[2], 5000),
        promised(4, 1000),
        billed(5, &[4], 1000),
    ];
    // 7,000 pays both bills (5,000 and 1,000) and 1,000 is kept.
    let change = then_expect_change(
        Spec::given(given.clone()).when_next(applied(7000, &[(3, 5000, 0), (5, 1000, 0)])),
    );
    assert_eq!(change.bills.len(), 2);
    assert!(change.bills.iter().all(|b| b.status == BillStatus::Paid));
    assert_eq!(change.promises.len(), 2);
    assert_eq!(
        (
            change.member.outstanding_amount,
            change.member.unapplied_balance
        ),
        (0, 1000)
    );
    // Paid in two parts, the bill's paid amount adds up.
    let mut events = given.to_vec();
    events.push(applied(400, &[(5, 400, 600)]));
    let change = then_expect_change(Spec::given(events).when_next(applied(600, &[(5, 600, 0)])));
    assert_eq!(change.bills.len(), 1);
    assert_eq!(
        (change.bills[0].status, change.bills[0].paid_amount),
        (BillStatus::Paid, 1000)
    );
}

#[test]
fn an_adjustment_that_leaves_nothing_to_pay_pays_the_bill() {
    // 4,000 of 5,000 paid, then 2,000 of the order cancelled: 3,000 asked and paid, 1,000
    // credited.
    let change = then_expect_change(
        Spec::given([
            purchased(50_000),
            promised(2, 5000),
            billed(3, &[2], 5000),
            applied(4000, &[(3, 4000, 1000)]),
            cancelled(2000, 3000, 0),
        ])
        .when_next(Event::BillAdjusted(BillAdjusted {
            bill_id: id(3),
            reason: AdjustmentReason::Cancellation,
            items_total: 3000,
            fee: 0,
            amount: 3000,
            cancelled: false,
            credited: 1000,
        })),
    );
    let bill = &change.bills[0];
    assert_eq!(
        (bill.status, bill.amount, bill.paid_amount, bill.paid_date),
        (BillStatus::Paid, 3000, 3000, Some(date(1, 15)))
    );
    assert_eq!(change.promises[0].status, PromiseStatus::Paid);
    assert_eq!(
        (
            change.member.outstanding_amount,
            change.member.credit_balance
        ),
        (0, 1000)
    );
}

#[test]
fn a_refund_lowers_the_balances() {
    let change = then_expect_change(Spec::given([received(77, 1000, false)]).when_next(
        Event::RefundIssued(RefundIssued {
            refund_id: id(8),
            amount: 600,
            from_credit: 0,
            from_unapplied: 600,
        }),
    ));
    assert_eq!(change.member.unapplied_balance, 400);
}

#[test]
fn an_overdue_bill_counts_against_the_member_until_it_is_paid() {
    let overdue = Event::BillOverdue(BillOverdue {
        bill_id: id(3),
        since: date(1, 30),
    });
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000), billed(3, &[2], 5000)])
            .when_next(overdue.clone()),
    );
    assert_eq!(change.bills[0].status, BillStatus::Overdue);
    assert_eq!(change.bills[0].overdue_since, Some(date(1, 30)));
    assert_eq!(change.member.overdue_bills, 1);
    let reminder = Event::ReminderIssued(ReminderIssued {
        bill_id: id(3),
        days_overdue: 1,
        date: date(1, 30),
    });
    let change = then_expect_change(
        Spec::given([
            purchased(50_000),
            promised(2, 5000),
            billed(3, &[2], 5000),
            overdue.clone(),
        ])
        .when_next(reminder),
    );
    assert_eq!(change.bills[0].reminders_sent, 1);
    let change = then_expect_change(
        Spec::given([
            purchased(50_000),
            promised(2, 5000),
            billed(3, &[2], 5000),
            overdue,
        ])
        .when_next(paid(3, 5000)),
    );
    assert_eq!(change.member.overdue_bills, 0);
    assert_eq!(change.bills[0].status, BillStatus::Paid);
}

#[test]
fn the_month_s_events_need_the_rows_they_read() {
    let mut needs = Needs::default();
    needs.add(&monthly(&[2, 4], 1, 0, 0));
    needs.add(&cancelled(1, 0, 0));
    needs.add(&received(5, 1, true));
    needs.add(&received(6, 1, false));
    assert_eq!(
        needs,
        Needs {
            promise_ids: vec![id(2).to_string(), id(4).to_string(), id(2).to_string()],
            bill_ids: vec![id(5).to_string()],
            promises_of_bills: vec![id(5).to_string()],
        }
    );
}

#[test]
fn a_monthly_promise_is_due_with_its_month_s_bill_whatever_the_method() {
    // A 月まとめ払い promise of January, due 2/10 with a convenience-store bill.
    let january = || {
        Event::PaymentPromiseCreated(PaymentPromiseCreated {
            promise_id: id(2),
            order_id: id(1),
            product_id: "prod-01".into(),
            product_name: "Product 1".into(),
            amount: 5000,
            payment_mode: PaymentMode::Monthly,
            due_date: date(2, 10),
        })
    };
    let to_bank_debit = Event::PaymentMethodChanged(PaymentMethodChanged {
        method: PaymentMethod::BankDebit,
    });
    let change =
        then_expect_change(Spec::given([purchased(50_000), january()]).when_next(to_bank_debit));
    assert_eq!(change.promises.len(), 1);
    assert_eq!(
        change.promises[0].due_date,
        date(2, 27),
        "drawn on the 27th"
    );
    assert_eq!(change.promises[0].updated_version, 3);

    // Billed, it is due when its bill is.
    let change = then_expect_change(
        Spec::given([purchased(50_000), january()]).when_next(monthly(&[2], 5000, 209, 0)),
    );
    assert_eq!(change.promises[0].due_date, date(2, 10));

    // An immediate promise, or a billed one, is not the method's to move.
    let change = then_expect_change(
        Spec::given([purchased(50_000), promised(2, 5000)]).when_next(Event::PaymentMethodChanged(
            PaymentMethodChanged {
                method: PaymentMethod::BankDebit,
            },
        )),
    );
    assert!(change.promises.is_empty());

    assert!(reads_unbilled_monthly(&Event::PaymentMethodChanged(
        PaymentMethodChanged {
            method: PaymentMethod::BankDebit,
        }
    )));
    assert!(!reads_unbilled_monthly(&promised(2, 5000)));
}

#[test]
fn a_bank_account_shows_on_the_member_row_masked() {
    let account = atone_domain::BankAccount {
        bank_code: "0001".into(),
        bank_name: "ﾐｽﾞﾎ".into(),
        branch_code: "001".into(),
        branch_name: String::new(),
        kind: atone_domain::AccountKind::Ordinary,
        number: "1234567".into(),
        holder: "ﾔﾏﾀﾞ ﾀﾛｳ".into(),
    };
    let change = then_expect_change(Spec::given([]).when_next(Event::BankAccountSet(
        atone_domain::BankAccountSet {
            account: account.clone(),
        },
    )));
    assert_eq!(change.member.bank_account, Some(Box::new(account.masked())));
    assert_eq!(account.masked().number, "****567");
}

#[test]
fn a_failed_debit_turns_an_overdue_bank_debit_bill_into_a_convenience_store_bill() {
    let bank_debit = match monthly(&[2], 5000, 0, 0) {
        Event::MonthlyBillIssued(e) => Event::MonthlyBillIssued(MonthlyBillIssued {
            method: PaymentMethod::BankDebit,
            due_date: date(2, 27),
            ..e
        }),
        other => other,
    };
    let history = [
        purchased(50_000),
        promised(2, 5000),
        bank_debit,
        Event::BillOverdue(BillOverdue {
            bill_id: id(9),
            since: date(2, 28),
        }),
        Event::ReminderIssued(ReminderIssued {
            bill_id: id(9),
            days_overdue: 1,
            date: date(2, 28),
        }),
    ];
    let failed = Event::BankDebitFailed(atone_domain::BankDebitFailed {
        bill_id: id(9),
        code: 1,
        reason: "insufficient funds (資金不足)".into(),
        fee: 209,
        amount: 5209,
        due_date: date(3, 16),
    });
    let mut needs = Needs::default();
    needs.add(&failed);
    assert_eq!(needs.bill_ids, vec![id(9).to_string()]);
    let change = then_expect_change(Spec::given(history).when_next(failed));
    assert_eq!(change.member.overdue_bills, 0);
    let bill = &change.bills[0];
    assert_eq!(
        (bill.status, bill.payment_method, bill.overdue_since),
        (
            BillStatus::Unpaid,
            Some(PaymentMethod::ConvenienceStore),
            None
        )
    );
    assert_eq!(
        (bill.amount, bill.fee, bill.due_date, bill.reminders_sent),
        (5209, 209, date(3, 16), 0)
    );
    assert_eq!(
        bill.debit_failure.as_deref(),
        Some("1: insufficient funds (資金不足)")
    );
}
