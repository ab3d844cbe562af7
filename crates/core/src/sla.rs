//! SLA clocks: response and resolution targets per priority, counted in working time, paused
//! while an incident waits on someone else, with warnings at 50% and 75% and a breach at 100%.
//!
//! Clocks are computed from the state changes in an incident's history at their device times
//! (see [`crate::history`]), never from sync times. The targets are the [`SlaDefinition`]
//! recorded on the incident when it was logged: a later change to the workspace's targets does
//! not move its running clock. Re-prioritising records the new priority's definition from then
//! on, and, like ServiceNow's retroactive SLA start, it is measured from when the incident was
//! reported, so raising the priority of an old incident can put it in breach at once.
//!
//! - **Response** runs from reporting until the incident first leaves New (someone picked it up).
//! - **Resolution** runs while the incident is New or In Progress, pauses while On Hold for a
//!   pausing reason, completes when Resolved (and resumes on reopen), and is canceled with the
//!   incident.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::priority::Priority;
use crate::state::{HoldReason, State};
use crate::time::{format_span, DeviceTime, Span};

/// Which calendar a target is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarChoice {
    /// Around the clock.
    Always,
    /// A business calendar of the workspace ([`SlaTarget::business_calendar`] says which).
    Business,
}

/// Response and resolution targets for one priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    /// Minutes of working time to respond.
    pub response_minutes: u32,
    /// Minutes of working time to resolve.
    pub resolution_minutes: u32,
    /// The calendar both targets are counted in.
    pub calendar: CalendarChoice,
    /// With [`CalendarChoice::Business`], the name of the business calendar; empty for the
    /// workspace's main calendar ([`crate::WorkspaceConfig::calendar_named`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub business_calendar: String,
}

impl SlaTarget {
    /// Targets counted around the clock, or in the workspace's main business calendar.
    pub fn new(response_minutes: u32, resolution_minutes: u32, calendar: CalendarChoice) -> Self {
        SlaTarget {
            response_minutes,
            resolution_minutes,
            calendar,
            business_calendar: String::new(),
        }
    }

    /// The business calendar these targets count in, when they count in one: `Some("")` for
    /// the main calendar.
    pub fn business(&self) -> Option<&str> {
        (self.calendar == CalendarChoice::Business).then_some(self.business_calendar.as_str())
    }
}

/// The workspace's SLA policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// Targets for P1 (index 0) to P5 (index 4).
    pub targets: [SlaTarget; 5],
    /// Hold reasons that pause the resolution clock.
    pub pause_on: Vec<HoldReason>,
}

impl Default for SlaPolicy {
    /// P1 15 min / 4 h and P2 30 min / 8 h around the clock; P3 4 h / 3 days, P4 1 day / 5 days
    /// and P5 2 days / 10 days in business hours (8-hour days). Every hold reason pauses.
    fn default() -> Self {
        use CalendarChoice::*;
        SlaPolicy {
            targets: [
                SlaTarget::new(15, 4 * 60, Always),
                SlaTarget::new(30, 8 * 60, Always),
                SlaTarget::new(4 * 60, 3 * 8 * 60, Business),
                SlaTarget::new(8 * 60, 5 * 8 * 60, Business),
                SlaTarget::new(2 * 8 * 60, 10 * 8 * 60, Business),
            ],
            pause_on: HoldReason::ALL.to_vec(),
        }
    }
}

/// Why an SLA policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{priority}: SLA targets must be at least one minute, and resolution no shorter than response."
)]
pub struct SlaPolicyError {
    /// The priority with the bad targets.
    pub priority: Priority,
}

impl SlaPolicy {
    /// The targets for a priority.
    pub fn target(&self, priority: Priority) -> &SlaTarget {
        &self.targets[priority.index()]
    }

    /// Checks every target is positive and resolution is no shorter than response.
    pub fn validate(&self) -> Result<(), SlaPolicyError> {
        for p in Priority::ALL {
            let t = self.target(p);
            if t.response_minutes == 0 || t.resolution_minutes < t.response_minutes {
                return Err(SlaPolicyError { priority: p });
            }
        }
        Ok(())
    }
}

/// The targets an incident's clocks measure against, recorded on the incident when its clock
/// starts and again when it is re-prioritised, so a later change to the workspace's targets
/// does not silently move a running clock (ServiceNow attaches an SLA definition the same way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaDefinition {
    /// The priority the targets were taken for.
    pub priority: Priority,
    /// The targets, as the workspace defined them then.
    pub target: SlaTarget,
}

impl SlaDefinition {
    /// The workspace's current definition for a priority.
    pub fn current(policy: &SlaPolicy, priority: Priority) -> SlaDefinition {
        SlaDefinition {
            priority,
            target: policy.target(priority).clone(),
        }
    }

    /// The definition an incident's clocks use: the one recorded on it while it is still for
    /// the incident's priority, otherwise (nothing recorded, or the priority changed by a
    /// merge or a new matrix since) the workspace's current one for that priority.
    pub fn applying(
        recorded: Option<&SlaDefinition>,
        policy: &SlaPolicy,
        priority: Priority,
    ) -> SlaDefinition {
        match recorded {
            Some(d) if d.priority == priority => d.clone(),
            _ => SlaDefinition::current(policy, priority),
        }
    }

    /// As stored on an incident: `P2 30 480 always`, `P3 240 1440 business`, or with a
    /// calendar other than the main one, `P3 240 1440 business Berlin office`.
    pub fn encode(&self) -> String {
        let calendar = match self.target.business() {
            None => "always".to_string(),
            Some("") => "business".to_string(),
            Some(name) => format!("business {name}"),
        };
        format!(
            "{} {} {} {calendar}",
            self.priority.code(),
            self.target.response_minutes,
            self.target.resolution_minutes
        )
    }

    /// Reads [`SlaDefinition::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<SlaDefinition> {
        let mut parts = text.trim().splitn(5, ' ');
        let priority = parts
            .next()?
            .strip_prefix('P')
            .and_then(|n| n.parse().ok())
            .and_then(Priority::from_number)?;
        let response_minutes = parts.next()?.parse().ok()?;
        let resolution_minutes = parts.next()?.parse().ok()?;
        let calendar = match parts.next()? {
            "always" => CalendarChoice::Always,
            "business" => CalendarChoice::Business,
            _ => return None,
        };
        let business_calendar = parts.next().unwrap_or_default().trim().to_string();
        if calendar == CalendarChoice::Always && !business_calendar.is_empty() {
            return None;
        }
        Some(SlaDefinition {
            priority,
            target: SlaTarget {
                response_minutes,
                resolution_minutes,
                calendar,
                business_calendar,
            },
        })
    }

    /// For the timeline: "P2: respond within 30m, resolve within 8h 00m, around the clock".
    pub fn describe(&self) -> String {
        let minutes = |m: u32| format_span(Span::minutes(i64::from(m)));
        let hours = match self.target.business() {
            None => "around the clock".to_string(),
            Some("") => "in business hours".to_string(),
            Some(name) => format!("in the business hours of {name}"),
        };
        format!(
            "{}: respond within {}, resolve within {}, {hours}",
            self.priority.code(),
            minutes(self.target.response_minutes),
            minutes(self.target.resolution_minutes)
        )
    }
}

static ALWAYS: LazyLock<BusinessCalendar> = LazyLock::new(BusinessCalendar::always);

/// Picks the calendar a clock counts in.
pub fn calendar_for(choice: CalendarChoice, business: &BusinessCalendar) -> &BusinessCalendar {
    match choice {
        CalendarChoice::Always => &ALWAYS,
        CalendarChoice::Business => business,
    }
}

/// Which target a clock measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaKind {
    /// Time to first response.
    Response,
    /// Time to resolution.
    Resolution,
}

impl SlaKind {
    /// "Response" or "Resolution".
    pub fn label(self) -> &'static str {
        match self {
            SlaKind::Response => "Response",
            SlaKind::Resolution => "Resolution",
        }
    }
}

/// How much of the target is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaLevel {
    /// Under half the target used.
    Ok,
    /// Half or more of the target used.
    Warning50,
    /// Three quarters or more of the target used.
    Warning75,
    /// The target has passed.
    Breached,
}

impl SlaLevel {
    /// A short label for people.
    pub fn label(self) -> &'static str {
        match self {
            SlaLevel::Ok => "On track",
            SlaLevel::Warning50 => "50% used",
            SlaLevel::Warning75 => "75% used",
            SlaLevel::Breached => "Breached",
        }
    }
}

/// Whether a clock is still counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Counting now.
    Running,
    /// Stopped for now (On Hold); resumes.
    Paused,
    /// The target's work is done (responded, or resolved). A reopen resumes resolution.
    Completed,
    /// The incident was canceled.
    Canceled,
}

/// One SLA clock as of `measured_at`. Small and serializable, so the incident list can keep it in
/// its summary index and [`SlaClock::project`] it forward to any later instant without loading the
/// document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    /// Response or resolution.
    pub kind: SlaKind,
    /// The target, in working time.
    pub target_ms: i64,
    /// Working time used, as of `measured_at`.
    pub elapsed_ms: i64,
    /// The instant `elapsed_ms` was measured at.
    pub measured_at: DeviceTime,
    /// Running, paused, completed or canceled.
    pub state: ClockState,
    /// The calendar the clock counts in.
    pub calendar: CalendarChoice,
}

impl SlaClock {
    /// The target.
    pub fn target(&self) -> Span {
        Span::milliseconds(self.target_ms)
    }

    /// Working time used.
    pub fn elapsed(&self) -> Span {
        Span::milliseconds(self.elapsed_ms)
    }

    /// Working time left; negative once breached.
    pub fn remaining(&self) -> Span {
        Span::milliseconds(self.target_ms - self.elapsed_ms)
    }

    /// Percentage of the target used (can exceed 100).
    pub fn percent_used(&self) -> u32 {
        if self.target_ms <= 0 {
            return 100;
        }
        u32::try_from(self.elapsed_ms.max(0).saturating_mul(100) / self.target_ms)
            .unwrap_or(u32::MAX)
    }

    /// Ok, 50% warning, 75% warning or breached.
    pub fn level(&self) -> SlaLevel {
        match self.percent_used() {
            p if self.elapsed_ms >= self.target_ms || p >= 100 => SlaLevel::Breached,
            p if p >= 75 => SlaLevel::Warning75,
            p if p >= 50 => SlaLevel::Warning50,
            _ => SlaLevel::Ok,
        }
    }

    /// The clock as it will stand at `now`: a running clock keeps counting working time.
    pub fn project(&self, now: DeviceTime, business: &BusinessCalendar) -> SlaClock {
        let mut clock = self.clone();
        if now > self.measured_at {
            if self.state == ClockState::Running {
                let more =
                    calendar_for(self.calendar, business).working_time(self.measured_at, now);
                clock.elapsed_ms = clock.elapsed_ms.saturating_add(more.num_milliseconds());
            }
            clock.measured_at = now;
        }
        clock
    }

    /// When a running clock that has not yet breached will breach.
    pub fn breach_at(&self, business: &BusinessCalendar) -> Option<DeviceTime> {
        if self.state != ClockState::Running || self.elapsed_ms >= self.target_ms {
            return None;
        }
        calendar_for(self.calendar, business).add_working_time(self.measured_at, self.remaining())
    }

    /// One line for people: `Resolution: 1h 20m left (75% used)`, `Response: met`, ...
    pub fn describe(&self) -> String {
        let kind = self.kind.label();
        let level = self.level();
        match self.state {
            ClockState::Canceled => format!("{kind}: canceled"),
            ClockState::Completed if level == SlaLevel::Breached => {
                format!("{kind}: breached by {}", format_span(-self.remaining()))
            }
            ClockState::Completed => format!("{kind}: met"),
            _ => {
                let paused = if self.state == ClockState::Paused {
                    ", paused"
                } else {
                    ""
                };
                if level == SlaLevel::Breached {
                    format!(
                        "{kind}: breached {} ago{paused}",
                        format_span(-self.remaining())
                    )
                } else {
                    format!(
                        "{kind}: {} left ({}{paused})",
                        format_span(self.remaining()),
                        level.label()
                    )
                }
            }
        }
    }
}

/// Both clocks of an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClocks {
    /// Time to first response.
    pub response: SlaClock,
    /// Time to resolution.
    pub resolution: SlaClock,
    /// The business calendar both count in when they count in one (as
    /// [`SlaTarget::business_calendar`]: empty for the main one).
    #[serde(default)]
    pub business_calendar: String,
}

impl SlaClocks {
    /// Both clocks projected to `now`.
    pub fn project(&self, now: DeviceTime, business: &BusinessCalendar) -> SlaClocks {
        SlaClocks {
            response: self.response.project(now, business),
            resolution: self.resolution.project(now, business),
            business_calendar: self.business_calendar.clone(),
        }
    }

    /// The clock that matters most right now: a running or paused response clock, else resolution.
    pub fn headline(&self) -> &SlaClock {
        match self.response.state {
            ClockState::Running | ClockState::Paused => &self.response,
            _ => &self.resolution,
        }
    }
}

/// A state an incident entered at a device time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// When, on the device that made the change.
    pub at: DeviceTime,
    /// The state entered.
    pub state: State,
}

/// Computes both clocks at `now` from when the incident was reported and its state changes.
///
/// `changes` may come in any order; they are ordered by device time (stably, so changes recorded
/// at the same instant keep their history order). A change stamped before the incident was
/// reported (a device clock set wrong) counts as happening at the report time.
pub fn compute_clocks(
    policy: &SlaPolicy,
    business: &BusinessCalendar,
    definition: &SlaDefinition,
    reported: DeviceTime,
    changes: &[StateChange],
    now: DeviceTime,
) -> SlaClocks {
    let target = &definition.target;
    let calendar = calendar_for(target.calendar, business);
    let mut ordered: Vec<StateChange> = changes
        .iter()
        .map(|c| StateChange {
            at: c.at.max(reported),
            state: c.state,
        })
        .collect();
    ordered.sort_by_key(|c| c.at);

    let runs = |state: State, kind: SlaKind| match kind {
        SlaKind::Response => state == State::New,
        SlaKind::Resolution => match state {
            State::New | State::InProgress => true,
            State::OnHold(reason) => !policy.pause_on.contains(&reason),
            State::Resolved | State::Closed | State::Canceled => false,
        },
    };

    let clock = |kind: SlaKind, target_minutes: u32| {
        let mut elapsed = Span::zero();
        let mut state = State::New;
        let mut since = reported;
        let mut completed = false;
        for change in &ordered {
            let until = change.at.min(now);
            if runs(state, kind) {
                elapsed += calendar.working_time(since, until);
            }
            since = until.max(since);
            state = change.state;
            if kind == SlaKind::Response && state != State::New {
                // Responded (or canceled): the response clock never restarts.
                completed = true;
                break;
            }
        }
        if !completed && runs(state, kind) {
            elapsed += calendar.working_time(since, now);
        }
        let clock_state = match (kind, state) {
            (_, State::Canceled) => ClockState::Canceled,
            (SlaKind::Response, State::New) => ClockState::Running,
            (SlaKind::Response, _) => ClockState::Completed,
            (SlaKind::Resolution, State::Resolved | State::Closed) => ClockState::Completed,
            (SlaKind::Resolution, s) if runs(s, kind) => ClockState::Running,
            (SlaKind::Resolution, _) => ClockState::Paused,
        };
        SlaClock {
            kind,
            target_ms: i64::from(target_minutes) * 60_000,
            elapsed_ms: elapsed.num_milliseconds(),
            measured_at: now,
            state: clock_state,
            calendar: target.calendar,
        }
    };

    SlaClocks {
        response: clock(SlaKind::Response, target.response_minutes),
        resolution: clock(SlaKind::Resolution, target.resolution_minutes),
        business_calendar: target.business_calendar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::HoldReason;

    fn t(s: &str) -> DeviceTime {
        DeviceTime::parse_rfc3339(s).unwrap()
    }

    fn change(at: &str, state: State) -> StateChange {
        StateChange { at: t(at), state }
    }

    const REPORTED: &str = "2026-11-30T08:00:00Z"; // a Monday

    fn clocks(priority: Priority, changes: &[StateChange], now: &str) -> SlaClocks {
        compute_clocks(
            &SlaPolicy::default(),
            &BusinessCalendar::office_hours(0),
            &SlaDefinition::current(&SlaPolicy::default(), priority),
            t(REPORTED),
            changes,
            t(now),
        )
    }

    #[test]
    fn p1_response_warns_at_half_and_three_quarters_then_breaches() {
        let at = |m: &str| clocks(Priority::P1, &[], m).response;
        assert_eq!(at("2026-11-30T08:07:00Z").level(), SlaLevel::Ok);
        assert_eq!(at("2026-11-30T08:08:00Z").level(), SlaLevel::Warning50);
        assert_eq!(at("2026-11-30T08:12:00Z").level(), SlaLevel::Warning75);
        let late = at("2026-11-30T08:16:00Z");
        assert_eq!(late.level(), SlaLevel::Breached);
        assert_eq!(late.remaining(), Span::minutes(-1));
        assert_eq!(late.state, ClockState::Running);
    }

    #[test]
    fn response_stops_when_work_starts() {
        let c = clocks(
            Priority::P1,
            &[change("2026-11-30T08:10:00Z", State::InProgress)],
            "2026-11-30T12:00:00Z",
        );
        assert_eq!(c.response.state, ClockState::Completed);
        assert_eq!(c.response.elapsed(), Span::minutes(10));
        assert_eq!(c.response.level(), SlaLevel::Warning50);
        assert_eq!(c.response.describe(), "Response: met");
        // Resolution kept running: 4h of a 4h target at noon.
        assert_eq!(c.resolution.level(), SlaLevel::Breached);
    }

    #[test]
    fn on_hold_pauses_resolution_and_resume_continues_it() {
        let changes = [
            change("2026-11-30T08:30:00Z", State::InProgress),
            change(
                "2026-11-30T09:00:00Z",
                State::OnHold(HoldReason::AwaitingVendor),
            ),
            change("2026-11-30T15:00:00Z", State::InProgress),
        ];
        let paused = clocks(Priority::P1, &changes[..2], "2026-11-30T14:00:00Z").resolution;
        assert_eq!(paused.state, ClockState::Paused);
        assert_eq!(paused.elapsed(), Span::hours(1));
        let resumed = clocks(Priority::P1, &changes, "2026-11-30T16:00:00Z").resolution;
        assert_eq!(resumed.state, ClockState::Running);
        assert_eq!(resumed.elapsed(), Span::hours(2));
        assert_eq!(resumed.level(), SlaLevel::Warning50);
    }

    #[test]
    fn a_policy_can_keep_the_clock_running_on_some_holds() {
        let policy = SlaPolicy {
            pause_on: vec![HoldReason::AwaitingCaller],
            ..SlaPolicy::default()
        };
        let c = compute_clocks(
            &policy,
            &BusinessCalendar::always(),
            &SlaDefinition::current(&policy, Priority::P2),
            t(REPORTED),
            &[change(
                "2026-11-30T09:00:00Z",
                State::OnHold(HoldReason::AwaitingChange),
            )],
            t("2026-11-30T11:00:00Z"),
        );
        assert_eq!(c.resolution.state, ClockState::Running);
        assert_eq!(c.resolution.elapsed(), Span::hours(3));
    }

    #[test]
    fn business_hours_priorities_do_not_count_nights() {
        // P3: 3 business days to resolve. Reported Monday 08:00 (before 09:00 opening).
        let c = clocks(
            Priority::P3,
            &[change("2026-11-30T10:00:00Z", State::InProgress)],
            "2026-12-01T10:00:00Z",
        );
        // Monday 09-17 = 8h, Tuesday 09-10 = 1h.
        assert_eq!(c.resolution.elapsed(), Span::hours(9));
        assert_eq!(c.response.elapsed(), Span::hours(1));
        assert_eq!(
            c.resolution.breach_at(&BusinessCalendar::office_hours(0)),
            Some(t("2026-12-02T17:00:00Z"))
        );
    }

    #[test]
    fn resolved_completes_and_reopen_resumes() {
        let mut changes = vec![
            change("2026-11-30T08:05:00Z", State::InProgress),
            change("2026-11-30T09:00:00Z", State::Resolved),
        ];
        let c = clocks(Priority::P1, &changes, "2026-11-30T20:00:00Z");
        assert_eq!(c.resolution.state, ClockState::Completed);
        assert_eq!(c.resolution.elapsed(), Span::hours(1));
        assert_eq!(c.resolution.describe(), "Resolution: met");
        changes.push(change("2026-11-30T10:00:00Z", State::InProgress));
        let c = clocks(Priority::P1, &changes, "2026-11-30T11:00:00Z");
        assert_eq!(c.resolution.state, ClockState::Running);
        assert_eq!(c.resolution.elapsed(), Span::hours(2));
    }

    #[test]
    fn canceled_stops_both_clocks() {
        let c = clocks(
            Priority::P2,
            &[change("2026-11-30T08:05:00Z", State::Canceled)],
            "2026-11-30T20:00:00Z",
        );
        assert_eq!(c.response.state, ClockState::Canceled);
        assert_eq!(c.resolution.state, ClockState::Canceled);
        assert_eq!(c.resolution.describe(), "Resolution: canceled");
    }

    #[test]
    fn device_times_out_of_order_or_before_reporting_are_tolerated() {
        let shuffled = [
            change("2026-11-30T09:00:00Z", State::Resolved),
            change("2026-11-30T07:00:00Z", State::InProgress), // clock was wrong: before reporting
        ];
        let c = clocks(Priority::P1, &shuffled, "2026-11-30T12:00:00Z");
        assert_eq!(c.response.elapsed(), Span::zero());
        assert_eq!(c.resolution.elapsed(), Span::hours(1));
    }

    #[test]
    fn projecting_a_stored_clock_matches_recomputing_it() {
        let changes = [change("2026-11-30T08:30:00Z", State::InProgress)];
        let cal = BusinessCalendar::office_hours(0);
        for priority in Priority::ALL {
            let stored = clocks(priority, &changes, "2026-11-30T10:00:00Z");
            let later = clocks(priority, &changes, "2026-12-03T11:30:00Z");
            assert_eq!(
                stored.project(t("2026-12-03T11:30:00Z"), &cal),
                later,
                "{priority}"
            );
        }
    }

    #[test]
    fn descriptions_say_what_a_person_needs() {
        let c = clocks(Priority::P1, &[], "2026-11-30T08:05:00Z").response;
        assert_eq!(c.describe(), "Response: 10m left (On track)");
        let c = clocks(Priority::P1, &[], "2026-11-30T09:00:00Z").response;
        assert_eq!(c.describe(), "Response: breached 45m ago");
    }

    #[test]
    fn default_policy_is_valid_and_bad_ones_are_refused() {
        assert!(SlaPolicy::default().validate().is_ok());
        let mut p = SlaPolicy::default();
        p.targets[3].resolution_minutes = 1;
        assert_eq!(
            p.validate(),
            Err(SlaPolicyError {
                priority: Priority::P4
            })
        );
    }
}
