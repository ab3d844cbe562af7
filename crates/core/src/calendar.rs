//! Business-hours calendars: how much working time lies between two instants, and when a given
//! amount of working time will have elapsed.
//!
//! A calendar is a weekly pattern of working hours in local time, plus holidays, in a time zone
//! ([`crate::zone::Zone`], a table of offsets, so daylight saving is followed without a time-zone
//! database in the bundle) or, for calendars from before zones, one fixed UTC offset. Each local
//! day's working window is turned into instants on its own, so 09:00-17:00 stays 09:00-17:00 on
//! the wall clock either side of a change. Calendars are workspace configuration.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::time::{DeviceTime, Span};
use crate::zone::{Zone, ZoneError};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// How far ahead `add_working_time` looks before giving up (ten years).
const HORIZON_DAYS: i64 = 3_660;
/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// One day's working hours, in minutes after local midnight: `start` inclusive, `end` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// Minute of the day work starts (0-1439).
    pub start: u16,
    /// Minute of the day work ends (1-1440), after `start`.
    pub end: u16,
}

impl WorkingHours {
    /// The whole day.
    pub const ALL_DAY: WorkingHours = WorkingHours {
        start: 0,
        end: 24 * 60,
    };

    /// From whole hours, e.g. `hours(9, 17)`.
    pub const fn hours(start: u16, end: u16) -> Self {
        WorkingHours {
            start: start * 60,
            end: end * 60,
        }
    }
}

/// A weekly pattern of working hours with holidays, in a fixed UTC offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    /// Shown in settings, e.g. "Office hours (Mon-Fri 09:00-17:00)".
    pub name: String,
    /// The calendar's offset from UTC in minutes (e.g. 60 for UTC+01:00), used when it has no
    /// time zone.
    pub utc_offset_minutes: i32,
    /// Its time zone; when set, it decides the offset at every instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<Zone>,
    /// Working hours for Monday (index 0) to Sunday (index 6); `None` is a day off.
    pub week: [Option<WorkingHours>; 7],
    /// Whole days off, in the calendar's local date.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// Why a calendar was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A day's hours are empty or out of range.
    #[error("{day}: working hours must start before they end, within one day.")]
    BadHours {
        /// The day name.
        day: &'static str,
    },
    /// The offset is beyond ±14 hours.
    #[error("The UTC offset must be between -14:00 and +14:00.")]
    BadOffset,
    /// No working time at all in the week.
    #[error("The calendar needs at least one working day.")]
    NoWorkingDays,
    /// Its time zone's table is unusable.
    #[error("{0}")]
    Zone(#[from] ZoneError),
}

/// The days of the week, Monday first, as [`BusinessCalendar::week`] orders them.
pub const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl BusinessCalendar {
    /// Around the clock, every day: the calendar for P1 and P2 targets.
    pub fn always() -> Self {
        BusinessCalendar {
            name: "24×7".to_string(),
            utc_offset_minutes: 0,
            zone: None,
            week: [Some(WorkingHours::ALL_DAY); 7],
            holidays: Vec::new(),
        }
    }

    /// Monday to Friday, 09:00-17:00, in the given UTC offset.
    pub fn office_hours(utc_offset_minutes: i32) -> Self {
        let day = Some(WorkingHours::hours(9, 17));
        BusinessCalendar {
            name: "Office hours (Mon-Fri 09:00-17:00)".to_string(),
            utc_offset_minutes,
            zone: None,
            week: [day, day, day, day, day, None, None],
            holidays: Vec::new(),
        }
    }

    /// Monday to Friday, 09:00-17:00, in `zone`.
    pub fn office_hours_in(zone: Zone) -> Self {
        BusinessCalendar {
            zone: Some(zone),
            ..Self::office_hours(0)
        }
    }

    /// Checks the calendar is usable.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(CalendarError::BadOffset);
        }
        if let Some(zone) = &self.zone {
            zone.check()?;
        }
        for (i, hours) in self.week.iter().enumerate() {
            if let Some(h) = hours {
                if h.start >= h.end || h.end > 24 * 60 {
                    return Err(CalendarError::BadHours { day: DAY_NAMES[i] });
                }
            }
        }
        if self.week.iter().all(Option::is_none) {
            return Err(CalendarError::NoWorkingDays);
        }
        Ok(())
    }

    fn is_always(&self) -> bool {
        self.holidays.is_empty() && self.week.iter().all(|d| *d == Some(WorkingHours::ALL_DAY))
    }

    /// The wall-clock time at an instant, as local milliseconds (local midnight of 1970-01-01
    /// is 0).
    fn to_local(&self, utc: i64) -> i64 {
        match &self.zone {
            Some(zone) => zone.local(utc),
            None => utc + i64::from(self.utc_offset_minutes) * MINUTE_MS,
        }
    }

    /// The instant a wall-clock time names.
    fn to_utc(&self, local: i64) -> i64 {
        match &self.zone {
            Some(zone) => zone.instant(local),
            None => local - i64::from(self.utc_offset_minutes) * MINUTE_MS,
        }
    }

    /// The working window of a local day, as instants.
    fn window_utc(&self, day: i64, holidays: &[i64]) -> Option<(i64, i64)> {
        let (start, end) = self.window(day, holidays)?;
        let (start, end) = (self.to_utc(start), self.to_utc(end));
        (start < end).then_some((start, end))
    }

    /// The working window of a local day (days since 1970-01-01, local), in local milliseconds.
    fn window(&self, day: i64, holidays: &[i64]) -> Option<(i64, i64)> {
        if holidays.binary_search(&day).is_ok() {
            return None;
        }
        let weekday = (day + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday.
        let hours = self.week[weekday]?;
        let start = day * DAY_MS + i64::from(hours.start) * MINUTE_MS;
        let end = day * DAY_MS + i64::from(hours.end) * MINUTE_MS;
        (start < end).then_some((start, end))
    }

    fn holiday_days(&self) -> Vec<i64> {
        let mut days: Vec<i64> = self
            .holidays
            .iter()
            .map(|d| i64::from(d.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE)
            .collect();
        days.sort_unstable();
        days
    }

    /// Working time between `from` and `to`; zero if `to` is not after `from`.
    pub fn working_time(&self, from: DeviceTime, to: DeviceTime) -> Span {
        if to <= from {
            return Span::zero();
        }
        if self.is_always() {
            return to.since(from);
        }
        let holidays = self.holiday_days();
        let (from, to) = (from.millis(), to.millis());
        let mut total = 0i64;
        let days = self.to_local(from).div_euclid(DAY_MS)..=self.to_local(to).div_euclid(DAY_MS);
        for day in days {
            if let Some((start, end)) = self.window_utc(day, &holidays) {
                total += (end.min(to) - start.max(from)).max(0);
            }
        }
        Span::milliseconds(total)
    }

    /// The instant at which `span` of working time will have passed since `from`, or `None` if the
    /// calendar has no working time within ten years.
    pub fn add_working_time(&self, from: DeviceTime, span: Span) -> Option<DeviceTime> {
        let mut remaining = span.num_milliseconds().max(0);
        if self.is_always() {
            return Some(from.plus(Span::milliseconds(remaining)));
        }
        let holidays = self.holiday_days();
        let from = from.millis();
        let first_day = self.to_local(from).div_euclid(DAY_MS);
        for day in first_day..first_day + HORIZON_DAYS {
            let Some((start, end)) = self.window_utc(day, &holidays) else {
                continue;
            };
            let start = start.max(from);
            if start >= end {
                continue;
            }
            if remaining == 0 {
                // Due at the start of the next working stretch.
                return Some(DeviceTime::from_millis(start));
            }
            let available = end - start;
            if remaining <= available {
                return Some(DeviceTime::from_millis(start + remaining));
            }
            remaining -= available;
        }
        None
    }

    /// Whether `t` falls inside working hours.
    pub fn is_working(&self, t: DeviceTime) -> bool {
        let local = self.to_local(t.millis());
        self.window(local.div_euclid(DAY_MS), &self.holiday_days())
            .is_some_and(|(start, end)| (start..end).contains(&local))
    }
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self::office_hours(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> DeviceTime {
        DeviceTime::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn office_hours_skip_nights_and_weekends() {
        let cal = BusinessCalendar::office_hours(0);
        // Friday 16:00 to Monday 10:00 is 1h on Friday + 1h on Monday.
        let span = cal.working_time(t("2026-11-27T16:00:00Z"), t("2026-11-30T10:00:00Z"));
        assert_eq!(span, Span::hours(2));
        // Four working hours from Friday 16:00 ends Monday 12:00.
        assert_eq!(
            cal.add_working_time(t("2026-11-27T16:00:00Z"), Span::hours(4)),
            Some(t("2026-11-30T12:00:00Z"))
        );
        assert!(!cal.is_working(t("2026-11-28T12:00:00Z")));
        assert!(cal.is_working(t("2026-11-30T09:00:00Z")));
    }

    #[test]
    fn offsets_and_holidays_are_honoured() {
        let mut cal = BusinessCalendar::office_hours(60); // UTC+01:00
        cal.holidays
            .push(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap());
        // 08:00Z is 09:00 local: the day starts.
        assert!(cal.is_working(t("2026-11-30T08:00:00Z")));
        assert!(!cal.is_working(t("2026-11-30T07:59:00Z")));
        // Christmas (a Friday) is a holiday.
        assert_eq!(
            cal.working_time(t("2026-12-25T00:00:00Z"), t("2026-12-26T00:00:00Z")),
            Span::zero()
        );
        // Thursday 16:00 local + 2h runs through the holiday and weekend to Monday 10:00 local.
        assert_eq!(
            cal.add_working_time(t("2026-12-24T15:00:00Z"), Span::hours(2)),
            Some(t("2026-12-28T09:00:00Z"))
        );
    }

    #[test]
    fn always_is_wall_clock_time() {
        let cal = BusinessCalendar::always();
        assert_eq!(
            cal.working_time(t("2026-11-28T23:00:00Z"), t("2026-11-29T01:30:00Z")),
            Span::minutes(150)
        );
        assert_eq!(
            cal.working_time(t("2026-11-29T01:30:00Z"), t("2026-11-28T23:00:00Z")),
            Span::zero()
        );
    }

    #[test]
    fn zero_remaining_outside_hours_is_due_when_work_resumes() {
        let cal = BusinessCalendar::office_hours(0);
        assert_eq!(
            cal.add_working_time(t("2026-11-28T12:00:00Z"), Span::zero()),
            Some(t("2026-11-30T09:00:00Z"))
        );
    }

    #[test]
    fn validation_names_the_problem() {
        let mut cal = BusinessCalendar::office_hours(0);
        cal.week[2] = Some(WorkingHours {
            start: 600,
            end: 500,
        });
        assert_eq!(
            cal.validate(),
            Err(CalendarError::BadHours { day: "Wednesday" })
        );
        cal.week = [None; 7];
        assert_eq!(cal.validate(), Err(CalendarError::NoWorkingDays));
        let mut cal = BusinessCalendar::always();
        cal.utc_offset_minutes = 15 * 60;
        assert_eq!(cal.validate(), Err(CalendarError::BadOffset));
        assert!(BusinessCalendar::office_hours(-300).validate().is_ok());
    }

    #[test]
    fn a_span_beyond_the_horizon_has_no_due_time() {
        // One working minute a week: ten years hold about 522 of them.
        let mut cal = BusinessCalendar::always();
        cal.week = [None; 7];
        cal.week[2] = Some(WorkingHours { start: 0, end: 1 });
        let from = DeviceTime::from_millis(1_793_000_000_000);
        assert!(cal.add_working_time(from, Span::minutes(500)).is_some());
        assert_eq!(cal.add_working_time(from, Span::minutes(524)), None);
    }

    fn any_calendar() -> impl Strategy<Value = BusinessCalendar> {
        let day = prop_oneof![
            Just(None),
            (0u16..1380, 1u16..=720).prop_map(|(s, len)| Some(WorkingHours {
                start: s,
                end: (s + len).min(1440)
            })),
        ];
        (
            proptest::array::uniform7(day),
            -720i32..=840,
            proptest::collection::vec(0i64..60, 0..4),
        )
            .prop_map(|(mut week, offset, hol)| {
                if week.iter().all(Option::is_none) {
                    week[0] = Some(WorkingHours::hours(9, 17));
                }
                let base = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
                BusinessCalendar {
                    name: "generated".into(),
                    utc_offset_minutes: offset,
                    zone: zoned(offset),
                    week,
                    holidays: hol
                        .into_iter()
                        .map(|d| base + chrono::Days::new(d as u64))
                        .collect(),
                }
            })
    }

    const BASE: i64 = 1_793_000_000_000; // late October 2026: New York changes on 1 November

    /// Tables of zones with changes within the properties' range, from tzdb.
    static ZONES: std::sync::LazyLock<Vec<Zone>> = std::sync::LazyLock::new(|| {
        use chrono::{Offset, TimeZone};
        [
            chrono_tz::America::New_York,
            chrono_tz::Europe::London,
            chrono_tz::Australia::Lord_Howe,
        ]
        .into_iter()
        .map(|tz| {
            Zone::tabulate(tz.name(), BASE - 200 * DAY_MS, BASE + 200 * DAY_MS, |ms| {
                let at = chrono::DateTime::from_timestamp_millis(ms)
                    .unwrap()
                    .naive_utc();
                tz.offset_from_utc_datetime(&at).fix().local_minus_utc() / 60
            })
        })
        .collect()
    });

    /// A zone for some generated calendars (chosen by the generated offset), none for the rest.
    fn zoned(offset: i32) -> Option<Zone> {
        match offset.rem_euclid(6) {
            i @ 0..=2 => Some(ZONES[i as usize].clone()),
            _ => None,
        }
    }

    fn london() -> Zone {
        ZONES[1].clone()
    }

    #[test]
    fn office_hours_follow_the_wall_clock_across_a_daylight_saving_change() {
        let cal = BusinessCalendar::office_hours_in(london());
        cal.validate().unwrap();
        // Friday 23 October 16:00 BST (15:00Z) to Monday 26 October 10:00 GMT (10:00Z): an hour
        // each side of the weekend, though the clocks went back in between.
        let span = cal.working_time(t("2026-10-23T15:00:00Z"), t("2026-10-26T10:00:00Z"));
        assert_eq!(span, Span::hours(2));
        // With the summer offset fixed, Monday would start an hour early.
        let fixed = BusinessCalendar::office_hours(60);
        assert_eq!(
            fixed.working_time(t("2026-10-23T15:00:00Z"), t("2026-10-26T10:00:00Z")),
            Span::hours(3)
        );
        assert_eq!(
            cal.add_working_time(t("2026-10-23T15:00:00Z"), Span::hours(4)),
            Some(t("2026-10-26T12:00:00Z")),
            "Monday 12:00 GMT"
        );
        assert!(cal.is_working(t("2026-10-23T08:00:00Z")), "09:00 BST");
        assert!(!cal.is_working(t("2026-10-26T08:30:00Z")), "08:30 GMT");
    }

    proptest! {
        #[test]
        fn working_time_is_additive(cal in any_calendar(), a in 0i64..40 * DAY_MS, b in 0i64..40 * DAY_MS, c in 0i64..40 * DAY_MS) {
            let mut v = [a, b, c];
            v.sort_unstable();
            let [a, b, c] = v.map(|x| DeviceTime::from_millis(BASE + x));
            prop_assert_eq!(cal.working_time(a, c), cal.working_time(a, b) + cal.working_time(b, c));
            prop_assert!(cal.working_time(a, c) <= c.since(a));
        }

        #[test]
        fn adding_working_time_is_the_inverse_of_measuring_it(cal in any_calendar(), start in 0i64..30 * DAY_MS, minutes in 1i64..10_000) {
            let from = DeviceTime::from_millis(BASE + start);
            let span = Span::minutes(minutes);
            let Some(due) = cal.add_working_time(from, span) else {
                // Only when the calendar has less working time than that in its whole horizon
                // (a minute a week, say): then there is no due time to give.
                let horizon = from.plus(Span::milliseconds(HORIZON_DAYS * DAY_MS));
                prop_assert!(cal.working_time(from, horizon) < span);
                return Ok(());
            };
            prop_assert_eq!(cal.working_time(from, due), span);
            // And it is the earliest such instant: one minute earlier is not enough.
            prop_assert!(cal.working_time(from, due.plus(Span::minutes(-1))) < span);
        }
    }
}
