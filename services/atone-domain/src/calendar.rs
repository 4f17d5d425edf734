//! Business days in Japan (営業日): the days banks are open. Not a business day: Saturdays,
//! Sundays, national holidays (国民の祝日, with 振替休日 and 国民の休日), the banks' year-end
//! closure from 31 December to 3 January, and any extra closure an operator configures.
//!
//! The holidays follow the Act on National Holidays as it stands since 2020 (the Cabinet
//! Office's list, <https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html>). The equinox days
//! are the astronomical formula the list itself follows, valid from 1980 to 2099; a year
//! whose holidays the law moves once (as in 2019–2021) needs its days in the extra-closures
//! file. The test below names every holiday of 2026 and 2027.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// When banks are open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Days closed besides weekends, holidays and 12/31–1/3.
    extra_closures: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// The built-in calendar and `extra_closures`.
    pub fn with_closures(extra_closures: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self {
            extra_closures: extra_closures.into_iter().collect(),
        }
    }

    /// Reads an extra-closures file: one `YYYY-MM-DD` per line; blank lines and text after
    /// `#` are ignored. A bad line is refused with its number.
    pub fn parse_closures(text: &str) -> Result<Vec<NaiveDate>, String> {
        let mut days = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let day = line.split('#').next().unwrap_or("").trim();
            if day.is_empty() {
                continue;
            }
            let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map_err(|_| format!("line {}: {day:?} is not a date (YYYY-MM-DD)", i + 1))?;
            days.push(date);
        }
        Ok(days)
    }

    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && holiday(date).is_none()
            && !bank_closure(date)
            && !self.extra_closures.contains(&date)
    }

    /// `date` if banks are open that day, else the next day they are.
    pub fn on_or_after(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        // A year has fewer than 130 closed days: this ends.
        while !self.is_business_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
        }
        day
    }

    /// Business days after `from` up to and including `to` (0 if `to` is not later).
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut count = 0;
        let mut day = from;
        while day < to {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
            if self.is_business_day(day) {
                count += 1;
            }
        }
        count
    }
}

/// 12/31 to 1/3: banks are closed.
fn bank_closure(date: NaiveDate) -> bool {
    matches!((date.month(), date.day()), (12, 31) | (1, 1..=3))
}

/// The national holiday on `date`, if it is one: its name.
pub fn holiday(date: NaiveDate) -> Option<&'static str> {
    if let Some(name) = named_holiday(date) {
        return Some(name);
    }
    // 振替休日: a holiday on a Sunday moves to the next day that is not a holiday.
    let mut day = date;
    loop {
        day = day.pred_opt()?;
        match named_holiday(day) {
            Some(_) if day.weekday() == Weekday::Sun => return Some("振替休日"),
            Some(_) => continue,
            None => break,
        }
    }
    // 国民の休日: a day between two holidays.
    let (before, after) = (date.pred_opt()?, date.succ_opt()?);
    (named_holiday(before).is_some() && named_holiday(after).is_some()).then_some("国民の休日")
}

/// The holidays the law names, on their days.
fn named_holiday(date: NaiveDate) -> Option<&'static str> {
    let (y, m, d) = (date.year(), date.month(), date.day());
    let monday = |n: u32| nth_monday(y, m, n) == Some(d);
    Some(match (m, d) {
        (1, 1) => "元日",
        (1, _) if monday(2) => "成人の日",
        (2, 11) => "建国記念の日",
        (2, 23) => "天皇誕生日",
        (3, _) if Some(d) == vernal_equinox(y) => "春分の日",
        (4, 29) => "昭和の日",
        (5, 3) => "憲法記念日",
        (5, 4) => "みどりの日",
        (5, 5) => "こどもの日",
        (7, _) if monday(3) => "海の日",
        (8, 11) => "山の日",
        (9, _) if monday(3) => "敬老の日",
        (9, _) if Some(d) == autumnal_equinox(y) => "秋分の日",
        (10, _) if monday(2) => "スポーツの日",
        (11, 3) => "文化の日",
        (11, 23) => "勤労感謝の日",
        _ => return None,
    })
}

/// The day of the month of the `n`th Monday of `month`.
fn nth_monday(year: i32, month: u32, n: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let offset =
        (7 + Weekday::Mon.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    let day = first.checked_add_days(Days::new(u64::from(offset + 7 * (n - 1))))?;
    (day.month() == month).then(|| day.day())
}

/// 春分の日, by the formula valid from 1980 to 2099.
fn vernal_equinox(year: i32) -> Option<u32> {
    equinox(year, 20.8431)
}

/// 秋分の日, by the formula valid from 1980 to 2099.
fn autumnal_equinox(year: i32) -> Option<u32> {
    equinox(year, 23.2488)
}

fn equinox(year: i32, base: f64) -> Option<u32> {
    if !(1980..=2099).contains(&year) {
        return None;
    }
    let y = f64::from(year - 1980);
    let day = base + 0.242194 * y - (y / 4.0).floor();
    Some(day.floor() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The Cabinet Office's list of national holidays for 2026 and 2027.
    const LISTED: [(i32, u32, u32, &str); 35] = [
        (2026, 1, 1, "元日"),
        (2026, 1, 12, "成人の日"),
        (2026, 2, 11, "建国記念の日"),
        (2026, 2, 23, "天皇誕生日"),
        (2026, 3, 20, "春分の日"),
        (2026, 4, 29, "昭和の日"),
        (2026, 5, 3, "憲法記念日"),
        (2026, 5, 4, "みどりの日"),
        (2026, 5, 5, "こどもの日"),
        (2026, 5, 6, "振替休日"),
        (2026, 7, 20, "海の日"),
        (2026, 8, 11, "山の日"),
        (2026, 9, 21, "敬老の日"),
        (2026, 9, 22, "国民の休日"),
        (2026, 9, 23, "秋分の日"),
        (2026, 10, 12, "スポーツの日"),
        (2026, 11, 3, "文化の日"),
        (2026, 11, 23, "勤労感謝の日"),
        (2027, 1, 1, "元日"),
        (2027, 1, 11, "成人の日"),
        (2027, 2, 11, "建国記念の日"),
        (2027, 2, 23, "天皇誕生日"),
        (2027, 3, 21, "春分の日"),
        (2027, 3, 22, "振替休日"),
        (2027, 4, 29, "昭和の日"),
        (2027, 5, 3, "憲法記念日"),
        (2027, 5, 4, "みどりの日"),
        (2027, 5, 5, "こどもの日"),
        (2027, 7, 19, "海の日"),
        (2027, 8, 11, "山の日"),
        (2027, 9, 20, "敬老の日"),
        (2027, 9, 23, "秋分の日"),
        (2027, 10, 11, "スポーツの日"),
        (2027, 11, 3, "文化の日"),
        (2027, 11, 23, "勤労感謝の日"),
    ];

    #[test]
    fn the_holidays_of_2026_and_2027_are_the_cabinet_office_s_list() {
        let listed: Vec<(NaiveDate, &str)> = LISTED
            .iter()
            .map(|&(y, m, day, name)| (d(y, m, day), name))
            .collect();
        let mut found = Vec::new();
        let mut day = d(2026, 1, 1);
        while day <= d(2027, 12, 31) {
            if let Some(name) = holiday(day) {
                found.push((day, name));
            }
            day = day.succ_opt().unwrap();
        }
        assert_eq!(found, listed);
        assert_eq!(found.len(), 35);
    }

    #[test]
    fn banks_close_on_weekends_holidays_and_from_new_year_s_eve_to_the_third() {
        let calendar = Calendar::default();
        for closed in [
            d(2026, 12, 26), // a Saturday
            d(2026, 12, 27), // a Sunday
            d(2026, 12, 31),
            d(2027, 1, 1),
            d(2027, 1, 3),
            d(2026, 9, 22),
        ] {
            assert!(!calendar.is_business_day(closed), "{closed}");
        }
        assert!(calendar.is_business_day(d(2026, 12, 30)));
        assert!(calendar.is_business_day(d(2027, 1, 4)));
        // A debit on Saturday 27 February 2027 is drawn on Monday 1 March.
        assert_eq!(calendar.on_or_after(d(2027, 2, 27)), d(2027, 3, 1));
        assert_eq!(calendar.on_or_after(d(2026, 12, 31)), d(2027, 1, 4));
        // Silver week: Friday the 18th, then Thursday the 24th.
        assert_eq!(
            calendar.business_days_between(d(2026, 9, 18), d(2026, 9, 24)),
            1
        );
    }

    #[test]
    fn an_extra_closure_is_closed_and_the_file_says_which_line_is_wrong() {
        let text = "# bank system maintenance\n2026-07-27\n\n2026-08-14 # お盆\n";
        let days = Calendar::parse_closures(text).unwrap();
        assert_eq!(days, vec![d(2026, 7, 27), d(2026, 8, 14)]);
        let calendar = Calendar::with_closures(days);
        assert_eq!(calendar.on_or_after(d(2026, 7, 27)), d(2026, 7, 28));
        assert_eq!(
            Calendar::parse_closures("2026-07-27\n2026-13-01\n"),
            Err("line 2: \"2026-13-01\" is not a date (YYYY-MM-DD)".to_owned())
        );
    }
}
