//! How times and clocks read in the UI: local wall-clock times and "5 min ago".

use chrono::{FixedOffset, TimeDelta};
use outpost_core::sla::{ClockState, SlaClock, SlaLevel};
use outpost_core::time::format_span;
use outpost_core::DeviceTime;

use crate::clock::local_offset_minutes;

/// `25 Nov 2026, 09:30` in the browser's time zone.
pub fn local_time(t: DeviceTime) -> String {
    let offset = FixedOffset::east_opt(local_offset_minutes(t) * 60)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    t.to_datetime()
        .with_timezone(&offset)
        .format("%-d %b %Y, %H:%M")
        .to_string()
}

/// The value of a `datetime-local` input for a time.
pub fn datetime_local_value(t: DeviceTime) -> String {
    let offset = FixedOffset::east_opt(local_offset_minutes(t) * 60)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    t.to_datetime()
        .with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Parses a `datetime-local` input value as local time.
pub fn parse_datetime_local(value: &str) -> Option<DeviceTime> {
    let naive = chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").ok()?;
    let guess = DeviceTime::from_millis(naive.and_utc().timestamp_millis());
    let offset = i64::from(local_offset_minutes(guess)) * 60_000;
    Some(DeviceTime::from_millis(guess.millis() - offset))
}

/// `just now`, `5 min ago`, `3 h ago`, `2 days ago`, or a date for older times.
pub fn ago(t: DeviceTime, now: DeviceTime) -> String {
    let d = now.since(t);
    if d < TimeDelta::minutes(1) {
        "just now".to_string()
    } else if d < TimeDelta::hours(1) {
        format!("{} min ago", d.num_minutes())
    } else if d < TimeDelta::days(1) {
        format!("{} h ago", d.num_hours())
    } else if d < TimeDelta::days(7) {
        let days = d.num_days();
        format!("{days} day{} ago", if days == 1 { "" } else { "s" })
    } else {
        local_time(t)
    }
}

/// `in 25m`, `45m overdue`.
pub fn due(t: DeviceTime, now: DeviceTime) -> String {
    let left = t.since(now);
    if left >= TimeDelta::zero() {
        format!("in {}", format_span(left))
    } else {
        format!("{} overdue", format_span(-left))
    }
}

/// A CSS class for a clock's level.
pub fn level_class(clock: &SlaClock) -> &'static str {
    match (clock.state, clock.level()) {
        (ClockState::Canceled, _) => "sla sla-off",
        (_, SlaLevel::Breached) => "sla sla-breached",
        (ClockState::Completed, _) => "sla sla-met",
        (_, SlaLevel::Warning75) => "sla sla-warn75",
        (_, SlaLevel::Warning50) => "sla sla-warn50",
        (_, SlaLevel::Ok) => "sla sla-ok",
    }
}
