//! Device time: the instant an action happened, as the device that performed it saw it.
//!
//! Every SLA, cadence and timeline figure is computed from device times, never from when a change
//! happened to reach the relay: a technician who resolves an incident at 10:00 in a basement and
//! syncs at 14:00 resolved it at 10:00. The core never reads a clock; callers pass the time in.

use std::fmt;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Stored in documents as an Automerge timestamp, which
/// JavaScript peers read as a `Date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceTime(i64);

/// A span of time. Re-exported so callers need not depend on chrono directly.
pub type Span = TimeDelta;

impl DeviceTime {
    /// The Unix epoch.
    pub const EPOCH: DeviceTime = DeviceTime(0);

    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        DeviceTime(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// From a chrono UTC date-time (sub-millisecond precision is dropped).
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        DeviceTime(t.timestamp_millis())
    }

    /// As a chrono UTC date-time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Parses an RFC 3339 date-time such as `2026-11-25T08:30:00Z` or `2026-11-25T09:30:00+01:00`.
    pub fn parse_rfc3339(s: &str) -> Result<Self, chrono::ParseError> {
        DateTime::parse_from_rfc3339(s.trim()).map(|t| Self::from_datetime(t.with_timezone(&Utc)))
    }

    /// This time moved forward (or back, for a negative span), saturating at the ends of time.
    pub fn plus(self, span: Span) -> Self {
        DeviceTime(self.0.saturating_add(span.num_milliseconds()))
    }

    /// The span from `earlier` to `self` (negative if `earlier` is later).
    pub fn since(self, earlier: DeviceTime) -> Span {
        TimeDelta::milliseconds(self.0.saturating_sub(earlier.0))
    }

    /// Seconds since the epoch, as Automerge change metadata stores times.
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }
}

impl fmt::Display for DeviceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
    }
}

impl From<DateTime<Utc>> for DeviceTime {
    fn from(t: DateTime<Utc>) -> Self {
        Self::from_datetime(t)
    }
}

impl Reconcile for DeviceTime {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.timestamp(self.0)
    }
}

impl Hydrate for DeviceTime {
    fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
        Ok(DeviceTime(t))
    }
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        Ok(DeviceTime(i))
    }
    fn hydrate_uint(u: u64) -> Result<Self, HydrateError> {
        i64::try_from(u)
            .map(DeviceTime)
            .map_err(|_| HydrateError::unexpected("a time", format!("{u}")))
    }
    fn hydrate_f64(f: f64) -> Result<Self, HydrateError> {
        if f.is_finite() {
            Ok(DeviceTime(f as i64))
        } else {
            Err(HydrateError::unexpected("a time", format!("{f}")))
        }
    }
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        DeviceTime::parse_rfc3339(s)
            .map_err(|e| HydrateError::unexpected("an RFC 3339 time", format!("{s:?} ({e})")))
    }
}

/// Formats a span for people: `2h 05m`, `45m`, `3d 4h`; negative spans get a leading minus.
pub fn format_span(span: Span) -> String {
    let negative = span < TimeDelta::zero();
    let total_minutes = span.num_minutes().abs();
    let (days, hours, minutes) = (
        total_minutes / (24 * 60),
        (total_minutes / 60) % 24,
        total_minutes % 60,
    );
    let body = if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if total_minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{}s", span.num_seconds().abs())
    };
    if negative {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_offsets() {
        let t = DeviceTime::parse_rfc3339("2026-11-25T09:30:00+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T08:30:00Z");
        assert_eq!(DeviceTime::parse_rfc3339(&t.to_string()).unwrap(), t);
        assert!(DeviceTime::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn spans_read_like_a_person_would_write_them() {
        assert_eq!(format_span(TimeDelta::minutes(125)), "2h 05m");
        assert_eq!(format_span(TimeDelta::minutes(45)), "45m");
        assert_eq!(format_span(TimeDelta::hours(76)), "3d 4h");
        assert_eq!(format_span(TimeDelta::minutes(-90)), "-1h 30m");
        assert_eq!(format_span(TimeDelta::seconds(20)), "20s");
    }

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let t = DeviceTime::from_millis(i64::MAX - 5);
        assert_eq!(t.plus(TimeDelta::seconds(10)).millis(), i64::MAX);
        assert_eq!(
            DeviceTime::from_millis(5_000).since(DeviceTime::from_millis(2_000)),
            TimeDelta::seconds(3)
        );
        assert_eq!(DeviceTime::from_millis(-1).unix_seconds(), -1);
    }
}
