//! Calendar days as the statutes count them: in Europe/Amsterdam, whatever the server's
//! zone. An [`Instant`] is a moment in UTC; a [`CalendarDay`] is a date on the Dutch calendar.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};

/// A moment, always in UTC. The core never reads the clock: every moment is passed in.
pub type Instant = DateTime<Utc>;

/// A date on the calendar of Europe/Amsterdam.
pub type CalendarDay = NaiveDate;

/// The Dutch calendar day on which a moment falls.
pub fn day_of(moment: Instant) -> CalendarDay {
    moment.with_timezone(&Amsterdam).date_naive()
}

/// 00:00 Europe/Amsterdam on the given day, as a UTC moment. Dutch clocks change at 02:00
/// and 03:00, so midnight always exists and is never ambiguous.
pub fn start_of_day(day: CalendarDay) -> Instant {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or(day.and_time(chrono::NaiveTime::MIN));
    Amsterdam
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// Whole days strictly between two days, neither counted ("de dag van de oproep en die van
/// de vergadering niet meegerekend"). Negative when `later` is not after `earlier`.
pub fn days_strictly_between(earlier: CalendarDay, later: CalendarDay) -> i64 {
    (later - earlier).num_days() - 1
}

/// The day `n` days after `day` (or before, for a negative `n`), saturating at the ends
/// of the calendar.
pub fn add_days(day: CalendarDay, n: i64) -> CalendarDay {
    if n >= 0 {
        day.checked_add_days(Days::new(n.unsigned_abs())).unwrap_or(NaiveDate::MAX)
    } else {
        day.checked_sub_days(Days::new(n.unsigned_abs())).unwrap_or(NaiveDate::MIN)
    }
}

/// A length of time as the statutes state it: in days, weeks or calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Days(u32),
    Weeks(u32),
    /// Calendar months: one month after 31 January is the last day of February.
    Months(u32),
}

impl Period {
    pub fn after(self, day: CalendarDay) -> CalendarDay {
        match self {
            Period::Days(n) => add_days(day, i64::from(n)),
            Period::Weeks(n) => add_days(day, 7 * i64::from(n)),
            Period::Months(n) => day.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Period::Days(1) => "1 day".into(),
            Period::Days(n) => format!("{n} days"),
            Period::Weeks(1) => "1 week".into(),
            Period::Weeks(n) => format!("{n} weeks"),
            Period::Months(1) => "1 month".into(),
            Period::Months(n) => format!("{n} months"),
        }
    }
}

/// A moment as a Dutch reader expects it: "2022-12-07 19:00 CET".
pub fn local(moment: Instant) -> String {
    moment.with_timezone(&Amsterdam).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// The year of a calendar day, for the annual meeting of Art. 8.2.
pub fn year_of(day: CalendarDay) -> i32 {
    day.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> CalendarDay {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad test date"))
    }

    #[test]
    fn late_evening_utc_is_already_the_next_dutch_day() {
        let t: Instant = "2026-06-30T22:30:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(day_of(t), day(2026, 7, 1));
    }

    #[test]
    fn midnight_follows_summer_and_winter_time() {
        assert_eq!(start_of_day(day(2026, 1, 15)).to_rfc3339(), "2026-01-14T23:00:00+00:00");
        assert_eq!(start_of_day(day(2026, 7, 15)).to_rfc3339(), "2026-07-14T22:00:00+00:00");
        // The days of the changes themselves: midnight is before the change.
        assert_eq!(start_of_day(day(2026, 3, 29)).to_rfc3339(), "2026-03-28T23:00:00+00:00");
        assert_eq!(start_of_day(day(2026, 10, 25)).to_rfc3339(), "2026-10-24T22:00:00+00:00");
    }

    #[test]
    fn neither_end_is_counted() {
        assert_eq!(days_strictly_between(day(2026, 3, 1), day(2026, 3, 12)), 10);
        assert_eq!(days_strictly_between(day(2026, 3, 1), day(2026, 3, 2)), 0);
        assert_eq!(days_strictly_between(day(2026, 3, 2), day(2026, 3, 1)), -2);
    }

    #[test]
    fn a_month_after_the_31st_is_the_end_of_the_shorter_month() {
        assert_eq!(Period::Months(1).after(day(2026, 1, 31)), day(2026, 2, 28));
        assert_eq!(Period::Weeks(6).after(day(2026, 1, 1)), day(2026, 2, 12));
    }
}
