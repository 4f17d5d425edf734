//! Business dates. atone bills in Japan, so a "date" is a calendar day in Japan time (UTC+9,
//! no daylight saving).

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Utc};

use crate::{PaymentMethod, PaymentMode, Period};

/// Japan Standard Time.
pub const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => unreachable!(),
};

/// The calendar day in Japan at `now`.
pub fn business_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&JST).date_naive()
}

/// When a promise made on `purchased_on` falls due: 30 days later for すぐ払い; for
/// 月まとめ払い, when the bill of its month falls due by the member's payment method.
pub fn promise_due_date(
    purchased_on: NaiveDate,
    mode: PaymentMode,
    method: PaymentMethod,
) -> NaiveDate {
    match mode {
        PaymentMode::Immediate => add_days(purchased_on, 30),
        PaymentMode::Monthly => monthly_bill_due_date(Period::of(purchased_on), method),
    }
}

/// The monthly bill of `period` falls due in the next month: on the 10th when paid at a
/// convenience store, drawn on the 27th by bank debit.
pub fn monthly_bill_due_date(period: Period, method: PaymentMethod) -> NaiveDate {
    let day = match method {
        PaymentMethod::ConvenienceStore => 10,
        PaymentMethod::BankDebit => 27,
    };
    period.next().day(day)
}

/// The billing period of a 月まとめ払い promise that falls due on `due_date`: the month
/// before.
pub fn period_of_monthly_due_date(due_date: NaiveDate) -> Period {
    Period::of(due_date).previous()
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
            promise_due_date(
                d(2026, 1, 15),
                PaymentMode::Immediate,
                PaymentMethod::ConvenienceStore
            ),
            d(2026, 2, 14)
        );
        assert_eq!(
            promise_due_date(
                d(2026, 12, 20),
                PaymentMode::Immediate,
                PaymentMethod::ConvenienceStore
            ),
            d(2027, 1, 19)
        );
    }

    #[test]
    fn a_monthly_promise_is_due_on_the_tenth_of_the_next_month() {
        assert_eq!(
            promise_due_date(
                d(2026, 1, 31),
                PaymentMode::Monthly,
                PaymentMethod::ConvenienceStore
            ),
            d(2026, 2, 10)
        );
        assert_eq!(
            promise_due_date(
                d(2026, 12, 1),
                PaymentMode::Monthly,
                PaymentMethod::ConvenienceStore
            ),
            d(2027, 1, 10)
        );
    }

    #[test]
    fn a_monthly_bill_is_due_on_the_tenth_or_drawn_on_the_twenty_seventh() {
        let november: Period = "2026-11".parse().unwrap();
        assert_eq!(
            monthly_bill_due_date(november, PaymentMethod::ConvenienceStore),
            d(2026, 12, 10)
        );
        assert_eq!(
            monthly_bill_due_date(november, PaymentMethod::BankDebit),
            d(2026, 12, 27)
        );
        let december: Period = "2026-12".parse().unwrap();
        assert_eq!(
            monthly_bill_due_date(december, PaymentMethod::BankDebit),
            d(2027, 1, 27)
        );
        assert_eq!(
            promise_due_date(
                d(2026, 11, 30),
                PaymentMode::Monthly,
                PaymentMethod::BankDebit
            ),
            d(2026, 12, 27)
        );
        for method in [PaymentMethod::ConvenienceStore, PaymentMethod::BankDebit] {
            assert_eq!(
                period_of_monthly_due_date(monthly_bill_due_date(november, method)),
                november
            );
        }
    }

    #[test]
    fn a_purchase_a_second_before_midnight_in_japan_is_in_the_old_month() {
        let last = Utc.with_ymd_and_hms(2026, 11, 30, 14, 59, 59).unwrap();
        let first = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
        assert_eq!(Period::of(business_date(last)).to_string(), "2026-11");
        assert_eq!(Period::of(business_date(first)).to_string(), "2026-12");
    }

    #[test]
    fn a_bill_is_due_fourteen_days_after_it_is_issued() {
        assert_eq!(bill_due_date(d(2026, 2, 20)), d(2026, 3, 6));
    }
}
