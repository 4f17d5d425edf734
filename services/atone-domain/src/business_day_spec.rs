//! Given/when/then specs for due dates on business days: a bank debit is drawn on the 27th
//! or the next day banks are open, with the bank's notice; a convenience-store bill keeps
//! the 10th (stores are open every day); the overdue check counts from the date drawn.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::spec::*;
use crate::*;

/// `y-m-d` at 10:00 in Tokyo.
fn jst(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 1, 0, 0).unwrap()
}

fn period(s: &str) -> Period {
    s.parse().unwrap()
}

/// A 月まとめ払い purchase of 3,000 yen (order 1, promise 2) in the month `of`.
fn bought_in(of: &str, method: PaymentMethod) -> Vec<(&'static str, Event)> {
    let mut events: Vec<(&'static str, Event)> = purchased(1, 3000, PaymentMode::Monthly).into();
    if let (_, Event::PaymentPromiseCreated(p)) = &mut events[1] {
        p.due_date = promise_due_date(period(of).day(15), PaymentMode::Monthly, method);
    }
    events
}

/// A bank-debit member with a 月まとめ払い purchase of 3,000 yen in the month `of`.
fn bank_debit_member(of: &str) -> Vec<(&'static str, Event)> {
    history(vec![
        vec![(
            "method",
            Event::PaymentMethodChanged(PaymentMethodChanged {
                method: PaymentMethod::BankDebit,
            }),
        )],
        bought_in(of, PaymentMethod::BankDebit),
    ])
}

/// The due date of the bill a close of `of` at `now` issues.
fn due_date_of_close(spec: Spec, now: DateTime<Utc>, of: &str) -> NaiveDate {
    let reply = spec
        .at(now)
        .when(
            "close",
            Command::CloseMonth(CloseMonth { period: period(of) }),
        )
        .then_expect_events_matching(|events| matches!(events, [Event::MonthlyBillIssued(_)]));
    match reply {
        Reply::CloseMonth {
            bill: Some(bill), ..
        } => bill.due_date,
        other => panic!("a close answers its bill: {other:?}"),
    }
}

#[test]
fn a_debit_due_on_a_saturday_is_drawn_on_the_monday() {
    // 27 February 2027 is a Saturday: January's bill is drawn on Monday 1 March.
    assert_eq!(
        due_date_of_close(
            Spec::given(bank_debit_member("2027-01")),
            jst(2027, 2, 1),
            "2027-01"
        ),
        date(2027, 3, 1)
    );
    // 27 December 2026 is a Sunday: November's bill is drawn on Monday the 28th.
    assert_eq!(
        due_date_of_close(
            Spec::given(bank_debit_member("2026-11")),
            jst(2026, 12, 1),
            "2026-11"
        ),
        date(2026, 12, 28)
    );
}

#[test]
fn a_debit_due_on_a_bank_closure_is_drawn_the_next_business_day() {
    // Monday 27 July 2026 made a closure (say, the bank's system maintenance).
    let spec = Spec::given(bank_debit_member("2026-06")).with_bank_closures([date(2026, 7, 27)]);
    assert_eq!(
        due_date_of_close(spec, jst(2026, 7, 1), "2026-06"),
        date(2026, 7, 28)
    );
}

#[test]
fn a_close_too_late_for_the_bank_s_notice_is_drawn_the_next_month() {
    // September 2026's debit day is Monday the 28th (the 27th is a Sunday). Closed on Friday
    // the 18th, the bank has the 24th, 25th and 28th: the silver week (21–23) does not count.
    let spec = || Spec::given(bank_debit_member("2026-08")).with_debit_notice(3);
    assert_eq!(
        due_date_of_close(spec(), jst(2026, 9, 18), "2026-08"),
        date(2026, 9, 28)
    );
    // With a notice of 4 days it is too late: drawn on 27 October (a Tuesday).
    assert_eq!(
        due_date_of_close(spec().with_debit_notice(4), jst(2026, 9, 18), "2026-08"),
        date(2026, 10, 27)
    );
}

#[test]
fn a_convenience_store_bill_keeps_the_tenth_whatever_the_day() {
    // 10 January 2027 is a Sunday: stores are open, the bill is due that day.
    let given = bought_in("2026-12", PaymentMethod::ConvenienceStore);
    assert_eq!(
        due_date_of_close(Spec::given(given), jst(2027, 1, 4), "2026-12"),
        date(2027, 1, 10)
    );
}

#[test]
fn a_debit_drawn_on_monday_is_not_overdue_over_the_weekend() {
    let mut given = bank_debit_member("2027-01");
    given.push(closed(
        10,
        "2027-01",
        PaymentMethod::BankDebit,
        date(2027, 3, 1),
    ));
    let check = |y, m, d| {
        Spec::given(given.clone()).at(jst(2027, 3, 5)).when(
            "overdue",
            Command::MarkOverdue(MarkOverdue {
                as_of: date(y, m, d),
            }),
        )
    };
    for (m, d) in [(2, 28), (3, 1)] {
        check(2027, m, d).then_expect_no_events(Reply::MarkOverdue {
            newly_overdue: 0,
            version: 4,
        });
    }
    check(2027, 3, 2).then_expect_events_matching(
        |events| matches!(events, [Event::BillOverdue(b), ..] if b.since == date(2027, 3, 2)),
    );
}
