//! Business dates. atone bills in Japan, so a "date" is a calendar day in Japan time (UTC+9,
//! no daylight saving).

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc};

use crate::PaymentMode;

/// Japan Standard Time.
pub const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => unreachable!(),
};

/// The calendar day in Japan at `now`.
pub fn business_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&JST).date_naive()
}

/// When a promise made on `purchased_on` falls due: 30 days later for すぐ払い, the 10th of
/// the next month for 月まとめ払い.
pub fn promise_due_date(purchased_on: NaiveDate, mode: PaymentMode) -> NaiveDate {
    match mode {
        PaymentMode::Immediate => add_days(purchased_on, 30),
        PaymentMode::Monthly => tenth_of_next_month(purchased_on),
    }
}

/// A bill issued on `issued_on` is due 14 days later.
pub fn bill_due_date(issued_on: NaiveDate) -> NaiveDate {
    add_days(issued_on, 14)
}

fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    // Only fails past the year 262143.
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

fn tenth_of_next_month(date: NaiveDate) -> NaiveDate {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 10).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_business_date_is_the_day_in_japan() {
        // 2026-03-31 15:00 UTC is already April 1st in Tokyo.
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 15, 0, 0).unwrap();
        assert_eq!(business_date(now), d(2026, 4, 1));
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 14, 59, 59).unwrap();
        assert_eq!(business_date(now), d(2026, 3, 31));
    }

    #[test]
    fn an_immediate_promise_is_due_thirty_days_after_the_purchase() {
        assert_eq!(
            promise_due_date(d(2026, 1, 15), PaymentMode::Immediate),
            d(2026, 2, 14)
        );
        assert_eq!(
            promise_due_date(d(2026, 12, 20), PaymentMode::Immediate),
            d(2027, 1, 19)
        );
    }

    #[test]
    fn a_monthly_promise_is_due_on_the_tenth_of_the_next_month() {
        assert_eq!(
            promise_due_date(d(2026, 1, 31), PaymentMode::Monthly),
            d(2026, 2, 10)
        );
        assert_eq!(
            promise_due_date(d(2026, 12, 1), PaymentMode::Monthly),
            d(2027, 1, 10)
        );
    }

    #[test]
    fn a_bill_is_due_fourteen_days_after_it_is_issued() {
        assert_eq!(bill_due_date(d(2026, 2, 20)), d(2026, 3, 6));
    }
}
