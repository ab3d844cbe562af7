//! Time zones for business calendars, with no time-zone database in the browser bundle.
//!
//! A zone is its IANA name (`Europe/London`) and a table of its offsets from UTC: the offset
//! before the first transition, then each transition (the instant, and the offset from then
//! on). The table is made where a time-zone database is at hand, for the years a calendar is
//! used: in the browser from its own (`Intl`), natively from tzdb ([`Zone::tabulate`] takes either
//! as a function). It travels with the workspace configuration, so a device offline applies the
//! same daylight-saving changes as everyone else. Converting is then a binary search.
//!
//! A wall-clock time that a spring-forward skips resolves to the instant the same distance after
//! the change (02:30 on a day that skips 02:00-03:00 is 03:30), and one that a fall-back repeats
//! resolves to the earlier instant, as RFC 5545 (iCalendar) and Temporal's default do.

use serde::{Deserialize, Serialize};

const MINUTE_MS: i64 = 60_000;
/// The widest offset any zone has had, with room: ±18 hours.
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

/// One change of a zone's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The instant of the change (milliseconds since the Unix epoch, UTC).
    pub at: i64,
    /// The offset from UTC from then on, in minutes (60 for UTC+01:00).
    pub offset_minutes: i32,
}

/// A time zone: its name and its offsets over the years a calendar uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// Its IANA name, e.g. `Europe/London`; for a fixed offset, a name like `UTC+05:30`.
    pub name: String,
    /// The offset before the first transition, in minutes.
    pub initial_offset_minutes: i32,
    /// The transitions, in time order.
    #[serde(default)]
    pub transitions: Vec<Transition>,
}

/// Why a zone's table was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// No name.
    #[error("A time zone needs its name, for example Europe/London.")]
    Unnamed,
    /// An offset beyond ±18 hours.
    #[error("A time zone's offset from UTC must be within ±18 hours.")]
    OffsetOutOfRange,
    /// Transitions out of order, or two at one instant.
    #[error("A time zone's changes must be in time order, one per instant.")]
    Unordered,
}

impl Zone {
    /// A zone that is always `offset_minutes` from UTC.
    pub fn fixed(name: impl Into<String>, offset_minutes: i32) -> Zone {
        Zone {
            name: name.into(),
            initial_offset_minutes: offset_minutes,
            transitions: Vec::new(),
        }
    }

    /// Checks the table: a name, offsets within ±18 hours, transitions in order.
    pub fn check(&self) -> Result<(), ZoneError> {
        if self.name.trim().is_empty() {
            return Err(ZoneError::Unnamed);
        }
        let offsets = std::iter::once(self.initial_offset_minutes)
            .chain(self.transitions.iter().map(|t| t.offset_minutes));
        if offsets.into_iter().any(|o| o.abs() > MAX_OFFSET_MINUTES) {
            return Err(ZoneError::OffsetOutOfRange);
        }
        if self.transitions.windows(2).any(|w| w[0].at >= w[1].at) {
            return Err(ZoneError::Unordered);
        }
        Ok(())
    }

    /// The offset from UTC at the instant `utc` (milliseconds since the epoch), in minutes.
    pub fn offset_at(&self, utc: i64) -> i32 {
        match self.transitions.partition_point(|t| t.at <= utc) {
            0 => self.initial_offset_minutes,
            i => self.transitions[i - 1].offset_minutes,
        }
    }

    /// The wall-clock time at the instant `utc`, as milliseconds since a local epoch (local
    /// midnight of 1970-01-01 is 0).
    pub fn local(&self, utc: i64) -> i64 {
        utc + i64::from(self.offset_at(utc)) * MINUTE_MS
    }

    /// The instant the wall-clock time `local` names (see the module's note on skipped and
    /// repeated times).
    pub fn instant(&self, local: i64) -> i64 {
        // Offsets in force within a day either side are the only candidates.
        let window = i64::from(MAX_OFFSET_MINUTES) * MINUTE_MS;
        let first = self.transitions.partition_point(|t| t.at <= local - window);
        let last = self.transitions.partition_point(|t| t.at <= local + window);
        let before = match first {
            0 => self.initial_offset_minutes,
            i => self.transitions[i - 1].offset_minutes,
        };
        let candidates = std::iter::once(before).chain(
            self.transitions[first..last]
                .iter()
                .map(|t| t.offset_minutes),
        );
        let mut earliest: Option<i64> = None;
        let mut previous = before;
        let mut skipped: Option<i64> = None;
        for offset in candidates {
            let utc = local - i64::from(offset) * MINUTE_MS;
            if self.offset_at(utc) == offset {
                earliest = Some(earliest.map_or(utc, |e| e.min(utc)));
            } else if offset > previous && skipped.is_none() {
                // A spring-forward skipped it: read it with the offset before the change.
                skipped = Some(local - i64::from(previous) * MINUTE_MS);
            }
            previous = offset;
        }
        earliest
            .or(skipped)
            .unwrap_or_else(|| local - i64::from(before) * MINUTE_MS)
    }

    /// The table of the zone `name` from `from` to `to` (instants), made by asking `offset_of`
    /// (the offset in minutes at an instant: the browser's `Intl`, or tzdb) every six hours and
    /// narrowing each change down to the minute. Zones that change twice within six hours (none
    /// since 1970 in tzdb) would lose the pair.
    pub fn tabulate(name: &str, from: i64, to: i64, offset_of: impl Fn(i64) -> i32) -> Zone {
        const STEP: i64 = 6 * 60 * MINUTE_MS;
        let initial = offset_of(from);
        let mut zone = Zone::fixed(name, initial);
        let (mut at, mut offset) = (from, initial);
        while at < to {
            let next = (at + STEP).min(to);
            let next_offset = offset_of(next);
            if next_offset != offset {
                // The change is in (at, next]: narrow it to the minute.
                let (mut lo, mut hi) = (at, next);
                while hi - lo > MINUTE_MS {
                    let mid = lo + (hi - lo) / 2;
                    if offset_of(mid) == offset {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let change = hi.div_euclid(MINUTE_MS) * MINUTE_MS;
                let change = if offset_of(change) == offset {
                    hi
                } else {
                    change
                };
                zone.transitions.push(Transition {
                    at: change,
                    offset_minutes: next_offset,
                });
                offset = next_offset;
            }
            at = next;
        }
        zone
    }
}

/// The offset in a `GMT+05:30`-style name (what `Intl` gives for `timeZoneName: "longOffset"`),
/// in minutes; `GMT` alone is zero.
pub fn parse_gmt_offset(text: &str) -> Option<i32> {
    let rest = text
        .trim()
        .strip_prefix("GMT")
        .or_else(|| text.trim().strip_prefix("UTC"))?;
    if rest.is_empty() {
        return Some(0);
    }
    let sign = match rest.chars().next()? {
        '+' => 1,
        '-' | '\u{2212}' => -1,
        _ => return None,
    };
    let digits = &rest[rest.chars().next()?.len_utf8()..];
    let (hours, minutes) = digits.split_once(':').unwrap_or((digits, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours <= 18 && minutes < 60).then_some(sign * (hours * 60 + minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Offset, TimeZone};
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    /// What tzdb (chrono-tz, a test dependency only) says the offset is, in minutes.
    fn tzdb(tz: chrono_tz::Tz) -> impl Fn(i64) -> i32 {
        move |ms| {
            let at = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
                / 60
        }
    }

    fn table(tz: chrono_tz::Tz) -> Zone {
        Zone::tabulate(
            tz.name(),
            utc(2025, 1, 1, 0, 0),
            utc(2031, 1, 1, 0, 0),
            tzdb(tz),
        )
    }

    #[test]
    fn london_changes_at_one_in_the_morning_utc_in_march_and_october() {
        let london = table(chrono_tz::Europe::London);
        london.check().unwrap();
        assert_eq!(london.transitions.len(), 12, "two a year for six years");
        assert_eq!(
            london.transitions[2],
            Transition {
                at: utc(2026, 3, 29, 1, 0),
                offset_minutes: 60
            }
        );
        assert_eq!(
            london.transitions[3],
            Transition {
                at: utc(2026, 10, 25, 1, 0),
                offset_minutes: 0
            }
        );
        // 09:00 in London is 08:00 UTC in summer, 09:00 in winter.
        let local_nine = |y, m, d| utc(y, m, d, 9, 0);
        assert_eq!(
            london.instant(local_nine(2026, 7, 1)),
            utc(2026, 7, 1, 8, 0)
        );
        assert_eq!(
            london.instant(local_nine(2026, 12, 1)),
            utc(2026, 12, 1, 9, 0)
        );
    }

    #[test]
    fn a_skipped_time_moves_forward_and_a_repeated_one_is_the_earlier() {
        let london = table(chrono_tz::Europe::London);
        // 01:30 on 29 March 2026 does not exist in London: it reads as 02:30 BST (01:30 UTC).
        assert_eq!(
            london.instant(utc(2026, 3, 29, 1, 30)),
            utc(2026, 3, 29, 1, 30)
        );
        // 01:30 on 25 October 2026 happens twice: the first, in BST, is 00:30 UTC.
        assert_eq!(
            london.instant(utc(2026, 10, 25, 1, 30)),
            utc(2026, 10, 25, 0, 30)
        );
        let new_york = table(chrono_tz::America::New_York);
        // 02:30 on 8 March 2026 is skipped in New York: 03:30 EDT, 07:30 UTC.
        assert_eq!(
            new_york.instant(utc(2026, 3, 8, 2, 30)),
            utc(2026, 3, 8, 7, 30)
        );
    }

    #[test]
    fn half_hour_offsets_and_half_hour_changes() {
        let lord_howe = table(chrono_tz::Australia::Lord_Howe);
        let offsets: std::collections::BTreeSet<i32> = lord_howe
            .transitions
            .iter()
            .map(|t| t.offset_minutes)
            .collect();
        assert_eq!(
            offsets.into_iter().collect::<Vec<_>>(),
            vec![630, 660],
            "10:30 and 11:00"
        );
        let st_johns = table(chrono_tz::America::St_Johns);
        assert_eq!(st_johns.offset_at(utc(2026, 1, 15, 12, 0)), -210);
        let kolkata = table(chrono_tz::Asia::Kolkata);
        assert!(kolkata.transitions.is_empty());
        assert_eq!(kolkata.offset_at(utc(2028, 6, 1, 0, 0)), 330);
    }

    #[test]
    fn offsets_are_read_as_the_browser_writes_them() {
        assert_eq!(parse_gmt_offset("GMT"), Some(0));
        assert_eq!(parse_gmt_offset("GMT+01:00"), Some(60));
        assert_eq!(parse_gmt_offset("GMT+05:30"), Some(330));
        assert_eq!(parse_gmt_offset("GMT-03:30"), Some(-210));
        assert_eq!(
            parse_gmt_offset("GMT\u{2212}08:00"),
            Some(-480),
            "a minus sign"
        );
        assert_eq!(parse_gmt_offset("GMT+9"), Some(540));
        assert_eq!(parse_gmt_offset("CET"), None);
        assert_eq!(parse_gmt_offset("GMT+25:00"), None);
    }

    #[test]
    fn bad_tables_are_refused() {
        assert_eq!(Zone::fixed("", 0).check(), Err(ZoneError::Unnamed));
        assert_eq!(
            Zone::fixed("Nowhere", 20 * 60).check(),
            Err(ZoneError::OffsetOutOfRange)
        );
        let mut z = Zone::fixed("Somewhere", 0);
        z.transitions = vec![
            Transition {
                at: 10,
                offset_minutes: 60,
            },
            Transition {
                at: 10,
                offset_minutes: 0,
            },
        ];
        assert_eq!(z.check(), Err(ZoneError::Unordered));
    }

    proptest! {
        /// Every instant's offset is tzdb's, and a wall-clock time read back names an instant
        /// with that same wall-clock time (the earlier one where it repeats).
        #[test]
        fn the_table_agrees_with_tzdb(minute in 0i64..(6 * 365 * 24 * 60), zone in 0usize..5) {
            let tz = [
                chrono_tz::Europe::London,
                chrono_tz::America::New_York,
                chrono_tz::Australia::Lord_Howe,
                chrono_tz::America::Santiago,
                chrono_tz::Europe::Berlin,
            ][zone];
            let z = table(tz);
            let at = utc(2025, 1, 1, 0, 0) + minute * MINUTE_MS;
            prop_assert_eq!(z.offset_at(at), tzdb(tz)(at));
            let local = z.local(at);
            let back = z.instant(local);
            prop_assert_eq!(z.local(back), local);
            prop_assert!(back <= at);
        }
    }
}
