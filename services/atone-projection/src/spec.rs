//! Given/when/then specs for the projection: given the events a member's read models
//! already reflect, when one more event arrives, then this change (or this refusal).

use atone_domain::{
    Envelope, Event, MemberBillIssued, PaymentCompleted, PaymentMode, PaymentPromiseCreated,
    PurchaseCompleted, RecordedEvent,
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
        user_id: USER.to_owned(),
        credit_limit,
        outstanding_amount,
        version,
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
            promise_ids: vec![id(2).to_string()],
            amount: 5000,
            status: BillStatus::Unpaid,
            issued_date: date(1, 15),
            due_date: date(1, 29),
            paid_date: None,
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
