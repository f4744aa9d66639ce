//! The day column of a spreadsheet: a date, a conference-day number, or a weekday name, and
//! how the last two become dates from the event's first day (`--date`, `[schedule] date`).
//!
//! Day 1 is the first day (day 0 too, when the sheet counts from 0); a weekday name is the
//! first such day on or after it, so `fri` and `sat` from a Thursday are the next two days.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::super::time;

/// What a day cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    Date(NaiveDate),
    Number(u32),
    Weekday(Weekday),
}

impl Day {
    /// `2024-05-17`, `2`, `fri`, `Friday`, `Fri.`; `None` for anything else.
    pub fn parse(cell: &str) -> Option<Day> {
        let cell = cell.trim();
        if let Ok(n) = cell.parse::<u32>() {
            return Some(Day::Number(n));
        }
        if let Some(date) = time::parse_date(cell) {
            return Some(Day::Date(date));
        }
        cell.trim_end_matches('.').parse::<Weekday>().ok().map(Day::Weekday)
    }

    /// The date this day falls on, given the first day and whether numbers count from 0.
    /// `None` for a number too large to be a date.
    pub fn date(self, first: NaiveDate, from_zero: bool) -> Option<NaiveDate> {
        match self {
            Day::Date(d) => Some(d),
            Day::Number(n) => {
                let offset = i64::from(n) - i64::from(!from_zero);
                first.checked_add_signed(Duration::try_days(offset.max(0))?)
            }
            Day::Weekday(w) => {
                let ahead = (7 + w.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
                first.checked_add_signed(Duration::days(i64::from(ahead)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_the_first_day() {
        // 2024-05-16 is a Thursday.
        let thu = NaiveDate::from_ymd_opt(2024, 5, 16).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        for (cell, from_zero, want) in [
            ("thu", false, d("2024-05-16")),
            ("fri", false, d("2024-05-17")),
            ("Saturday", false, d("2024-05-18")),
            ("Sat.", false, d("2024-05-18")),
            ("wed", false, d("2024-05-22")),
            ("1", false, d("2024-05-16")),
            ("3", false, d("2024-05-18")),
            ("0", true, d("2024-05-16")),
            ("2", true, d("2024-05-18")),
            ("2024-06-01", false, d("2024-06-01")),
            ("4294967295", false, None),
        ] {
            let day = Day::parse(cell).unwrap_or_else(|| panic!("{cell}"));
            assert_eq!(day.date(thu, from_zero), want, "{cell}");
        }
        for cell in ["", "someday", "fri 17", "-1"] {
            assert_eq!(Day::parse(cell), None, "{cell}");
        }
    }
}
