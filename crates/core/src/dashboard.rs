//! The dashboard: backlog, response and resolution times, SLA compliance and trends, computed
//! on the device from the list's summaries, so it works offline and never loads a document.
//!
//! Every number the dashboard shows is defined here, once:
//!
//! - **Backlog**: incidents open now (New, In Progress, On Hold) that pass the filters, whatever
//!   the period; an incident's *age* is now minus when it was reported.
//! - **MTTA** (mean time to acknowledge, shown as median and p90): over incidents first
//!   responded to (first moved out of New) within the period, the wall-clock time from reported
//!   to that first response.
//! - **MTTR** (to resolution): over incidents resolved within the period and still Resolved or
//!   Closed, the wall-clock time from reported to their latest resolution. Time on hold counts
//!   here; it does not count on the resolution SLA clock. A reopened incident counts once, at
//!   its latest resolution, and not at all while it is open again.
//! - **Median and p90** are nearest-rank: the smallest value with at least half (nine tenths)
//!   of the values at or below it.
//! - **SLA compliance**: response, among the incidents responded to within the period, met when
//!   the response clock completed short of its target; resolution, among the incidents resolved
//!   within the period, met when the resolution clock (working time, holds paused) completed short
//!   of its target. Canceled incidents count in neither. Breakdowns by priority, group and
//!   category use the same populations.
//! - **Created and resolved per week**: weeks start on Monday, 00:00 UTC; created counts
//!   incidents reported in the week, resolved those whose latest resolution fell in it.
//! - **Top categories and services**: among incidents reported within the period, the five
//!   with the most incidents (names compared as the directory does, ignoring case).
//! - **Major incidents**: major incidents reported within the period or open now.
//! - **Reviews owed**: resolved or closed incidents (any time) whose post-incident review the
//!   communication plan requires (major incidents, and the priorities it names) and which is
//!   not complete.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::directory::same_name;
use crate::priority::Priority;
use crate::sla::{ClockState, SlaClock, SlaLevel};
use crate::state::{State, StateKind};
use crate::summary::IncidentSummary;
use crate::time::{DeviceTime, Span};

/// The most weeks the trend covers; a longer range shows its last weeks.
pub const MAX_WEEKS: usize = 260;
/// How many categories and services the trends list.
pub const TOP: usize = 5;
const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// The time the dashboard looks at: from `from` (inclusive) to `to` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first instant in the period.
    pub from: DeviceTime,
    /// The first instant after it.
    pub to: DeviceTime,
}

/// Why a chosen range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// A date did not parse.
    #[error("“{0}” is not a date: use the form 2026-03-31.")]
    NotADate(String),
    /// The range runs backwards.
    #[error("The start date must be on or before the end date.")]
    Backwards,
}

impl Period {
    /// The `days` days up to `now`.
    pub fn last_days(days: u32, now: DeviceTime) -> Period {
        Period {
            from: now.plus(Span::days(-i64::from(days))),
            to: now.plus(Span::milliseconds(1)),
        }
    }

    /// Whole UTC days from `first` to `last`, both included (`2026-03-01`, `2026-03-31`).
    pub fn dates(first: &str, last: &str) -> Result<Period, PeriodError> {
        let parse = |s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| PeriodError::NotADate(s.trim().to_string()))
        };
        let (first, last) = (parse(first)?, parse(last)?);
        if last < first {
            return Err(PeriodError::Backwards);
        }
        let midnight = |d: NaiveDate| {
            DeviceTime::from_datetime(
                Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")),
            )
        };
        Ok(Period {
            from: midnight(first),
            to: midnight(last).plus(Span::days(1)),
        })
    }

    /// Whether `t` falls in the period.
    pub fn contains(&self, t: DeviceTime) -> bool {
        self.from <= t && t < self.to
    }

    fn holds(&self, t: Option<DeviceTime>) -> bool {
        t.is_some_and(|t| self.contains(t))
    }
}

/// Which incidents the dashboard counts, beyond the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardFilter {
    /// One priority, or any.
    pub priority: Option<Priority>,
    /// One category (case ignored), or any.
    pub category: Option<String>,
    /// One affected service (case ignored), or any.
    pub service: Option<String>,
    /// One assignment group (case ignored), or any.
    pub group: Option<String>,
}

impl DashboardFilter {
    /// Whether an incident passes.
    pub fn admits(&self, s: &IncidentSummary) -> bool {
        let named = |want: &Option<String>, have: &str| {
            want.as_deref()
                .is_none_or(|w| w.trim().is_empty() || same_name(w, have))
        };
        self.priority.is_none_or(|p| s.priority == p)
            && named(&self.category, &s.category)
            && named(&self.service, &s.affected_service)
            && named(&self.group, &s.assignment_group)
    }
}

/// Median and p90 of a set of durations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    /// How many durations.
    pub count: u32,
    /// Nearest-rank median, in milliseconds.
    pub median_ms: Option<i64>,
    /// Nearest-rank 90th percentile, in milliseconds.
    pub p90_ms: Option<i64>,
}

impl Durations {
    /// Median and p90 of `values` (milliseconds), in any order.
    pub fn of(mut values: Vec<i64>) -> Durations {
        values.sort_unstable();
        Durations {
            count: u32::try_from(values.len()).unwrap_or(u32::MAX),
            median_ms: nearest_rank(&values, 50),
            p90_ms: nearest_rank(&values, 90),
        }
    }
}

/// The nearest-rank `percent` percentile of sorted values: the value at rank ⌈p/100 · n⌉.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * percent as usize).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

/// SLAs met and missed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compliance {
    /// Completed short of the target.
    pub met: u32,
    /// Completed at or past the target.
    pub missed: u32,
}

impl Compliance {
    /// How many were measured.
    pub fn total(&self) -> u32 {
        self.met + self.missed
    }

    /// The share met, in tenths of a percent (`Some(935)` for 93.5%), rounded down; `None`
    /// when nothing was measured.
    pub fn permille(&self) -> Option<u32> {
        let total = u64::from(self.total());
        (total > 0).then(|| u32::try_from(u64::from(self.met) * 1000 / total).unwrap_or(1000))
    }

    /// `93.5%`, or `—` when nothing was measured.
    pub fn percent_label(&self) -> String {
        self.permille()
            .map_or("—".to_string(), |p| format!("{}.{}%", p / 10, p % 10))
    }

    fn count(&mut self, clock: &SlaClock) {
        if clock.level() == SlaLevel::Breached {
            self.missed += 1;
        } else {
            self.met += 1;
        }
    }
}

/// Compliance for one priority, group or category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    /// The priority's label, or the group's or category's name (`None` for none).
    pub name: Option<String>,
    /// Response SLAs.
    pub response: Compliance,
    /// Resolution SLAs.
    pub resolution: Compliance,
}

/// The open backlog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Open incidents by priority (P1 first) and state (New, In Progress, On Hold).
    pub cells: [[u32; 3]; 5],
    /// How old the open incidents are.
    pub age: Durations,
    /// How many are younger than a day, 1 to 3 days, 3 to 7 days, and 7 days or older.
    pub age_bands: [u32; 4],
    /// Open incidents whose headline SLA clock has breached by now.
    pub breached: u32,
}

impl Backlog {
    /// The states a backlog cell counts, in column order.
    pub const STATES: [StateKind; 3] = [StateKind::New, StateKind::InProgress, StateKind::OnHold];
    /// The age bands' labels.
    pub const BANDS: [&'static str; 4] = ["Under 1 day", "1–3 days", "3–7 days", "7 days or more"];

    /// Every open incident counted.
    pub fn total(&self) -> u32 {
        self.cells.iter().flatten().sum()
    }

    /// Open incidents of one priority.
    pub fn of_priority(&self, p: Priority) -> u32 {
        self.cells[p.index()].iter().sum()
    }
}

/// One week of the trend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Week {
    /// Monday, 00:00 UTC.
    pub start: DeviceTime,
    /// Incidents reported in the week.
    pub created: u32,
    /// Incidents whose latest resolution fell in the week.
    pub resolved: u32,
}

/// A category or service and how many incidents it had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The name as first met (`None` for incidents without one).
    pub name: Option<String>,
    /// How many incidents.
    pub count: u32,
}

/// A major incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorIncident {
    /// Its document id.
    pub document_id: String,
    /// Its reference.
    pub reference: String,
    /// Its title.
    pub title: String,
    /// Its state.
    pub state: State,
    /// Whether its review is owed.
    pub review_owed: bool,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The period.
    pub period: Period,
    /// How many incidents passed the filters (any time).
    pub considered: u32,
    /// Open now.
    pub backlog: Backlog,
    /// To first response, over incidents responded to in the period.
    pub mtta: Durations,
    /// To resolution, over incidents resolved in the period.
    pub mttr: Durations,
    /// Response SLAs of incidents responded to in the period.
    pub response: Compliance,
    /// Resolution SLAs of incidents resolved in the period.
    pub resolution: Compliance,
    /// Both, by priority (P1 to P5, every one listed).
    pub by_priority: Vec<Breakdown>,
    /// Both, by assignment group, most measured first.
    pub by_group: Vec<Breakdown>,
    /// Both, by category, most measured first.
    pub by_category: Vec<Breakdown>,
    /// Created and resolved per week across the period.
    pub weeks: Vec<Week>,
    /// The categories with the most incidents reported in the period.
    pub top_categories: Vec<Tally>,
    /// The services with the most incidents reported in the period.
    pub top_services: Vec<Tally>,
    /// Major incidents reported in the period or open now, newest first.
    pub major: Vec<MajorIncident>,
    /// Incidents (any time) whose review is owed.
    pub reviews_owed: u32,
}

/// Tallies keyed by a name compared ignoring case, keeping the first spelling met.
#[derive(Default)]
struct Named<T> {
    slots: Vec<(Option<String>, T)>,
    at: HashMap<String, usize>,
}

impl<T: Default> Named<T> {
    fn slot(&mut self, name: &str) -> &mut T {
        let name = name.trim();
        let key = name.to_lowercase();
        let i = *self.at.entry(key).or_insert_with(|| {
            self.slots
                .push(((!name.is_empty()).then(|| name.to_string()), T::default()));
            self.slots.len() - 1
        });
        &mut self.slots[i].1
    }
}

fn monday_of(t: DeviceTime) -> DeviceTime {
    let date = t.to_datetime().date_naive();
    let monday = date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday()));
    DeviceTime::from_datetime(
        Utc.from_utc_datetime(&monday.and_hms_opt(0, 0, 0).expect("midnight")),
    )
}

fn by_measured(named: Named<(Compliance, Compliance)>) -> Vec<Breakdown> {
    let mut rows: Vec<Breakdown> = named
        .slots
        .into_iter()
        .map(|(name, (response, resolution))| Breakdown {
            name,
            response,
            resolution,
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.response.total() + b.resolution.total())
            .cmp(&(a.response.total() + a.resolution.total()))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

fn top(named: Named<u32>) -> Vec<Tally> {
    let mut rows: Vec<Tally> = named
        .slots
        .into_iter()
        .map(|(name, count)| Tally { name, count })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    rows.truncate(TOP);
    rows
}

/// Computes the dashboard at `now` over `summaries`.
///
/// `calendar` gives, for a summary, the business calendar its SLA clocks count in (as
/// [`crate::WorkspaceConfig::calendar_named`]), to project open incidents' clocks to `now`.
pub fn dashboard<'a>(
    summaries: impl IntoIterator<Item = &'a IncidentSummary>,
    filter: &DashboardFilter,
    period: Period,
    now: DeviceTime,
    calendar: impl Fn(&str) -> &'a crate::calendar::BusinessCalendar,
) -> Dashboard {
    let first_week = monday_of(period.from);
    let last = period.to.plus(Span::milliseconds(-1)).max(period.from);
    let span_weeks = usize::try_from((monday_of(last).millis() - first_week.millis()) / WEEK_MS)
        .unwrap_or(0)
        + 1;
    let skipped = span_weeks.saturating_sub(MAX_WEEKS);
    let first_week = first_week.plus(Span::milliseconds(WEEK_MS * skipped as i64));
    let mut weeks: Vec<Week> = (0..span_weeks.min(MAX_WEEKS))
        .map(|i| Week {
            start: first_week.plus(Span::milliseconds(WEEK_MS * i as i64)),
            created: 0,
            resolved: 0,
        })
        .collect();
    let week_of = |t: DeviceTime| -> Option<usize> {
        if !period.contains(t) || t < first_week {
            return None;
        }
        usize::try_from((t.millis() - first_week.millis()) / WEEK_MS).ok()
    };

    let mut considered = 0;
    let mut backlog = Backlog::default();
    let mut ages = Vec::new();
    let (mut to_ack, mut to_resolve) = (Vec::new(), Vec::new());
    let (mut response, mut resolution) = (Compliance::default(), Compliance::default());
    let mut by_priority = [(Compliance::default(), Compliance::default()); 5];
    let mut by_group: Named<(Compliance, Compliance)> = Named::default();
    let mut by_category: Named<(Compliance, Compliance)> = Named::default();
    let (mut categories, mut services) = (Named::<u32>::default(), Named::<u32>::default());
    let mut major = Vec::new();
    let mut reviews_owed = 0;

    for s in summaries {
        if !filter.admits(s) {
            continue;
        }
        considered += 1;
        let reported_in = period.contains(s.reported_at);
        if let Some(column) = Backlog::STATES.iter().position(|k| *k == s.state.kind()) {
            backlog.cells[s.priority.index()][column] += 1;
            let age = now.millis().saturating_sub(s.reported_at.millis()).max(0);
            ages.push(age);
            let band = match age {
                a if a < DAY_MS => 0,
                a if a < 3 * DAY_MS => 1,
                a if a < 7 * DAY_MS => 2,
                _ => 3,
            };
            backlog.age_bands[band] += 1;
            let headline = s.sla.headline();
            if matches!(headline.state, ClockState::Running | ClockState::Paused)
                && headline
                    .project(now, calendar(&s.sla.business_calendar))
                    .level()
                    == SlaLevel::Breached
            {
                backlog.breached += 1;
            }
        }
        let canceled = s.state == State::Canceled;
        let responded = period.holds(s.acknowledged_at) && !canceled;
        let resolved =
            period.holds(s.resolved_at) && matches!(s.state, State::Resolved | State::Closed);
        if responded {
            let at = s.acknowledged_at.expect("held");
            to_ack.push(at.millis().saturating_sub(s.reported_at.millis()).max(0));
        }
        if resolved {
            let at = s.resolved_at.expect("held");
            to_resolve.push(at.millis().saturating_sub(s.reported_at.millis()).max(0));
        }
        let responded_clock =
            (responded && s.sla.response.state == ClockState::Completed).then_some(&s.sla.response);
        let resolved_clock = (resolved && s.sla.resolution.state == ClockState::Completed)
            .then_some(&s.sla.resolution);
        let tally = |pair: &mut (Compliance, Compliance)| {
            if let Some(c) = responded_clock {
                pair.0.count(c);
            }
            if let Some(c) = resolved_clock {
                pair.1.count(c);
            }
        };
        if responded_clock.is_some() || resolved_clock.is_some() {
            tally(&mut by_priority[s.priority.index()]);
            tally(by_group.slot(&s.assignment_group));
            tally(by_category.slot(&s.category));
            if let Some(c) = responded_clock {
                response.count(c);
            }
            if let Some(c) = resolved_clock {
                resolution.count(c);
            }
        }
        if reported_in {
            if let Some(w) = week_of(s.reported_at) {
                weeks[w].created += 1;
            }
            *categories.slot(&s.category) += 1;
            *services.slot(&s.affected_service) += 1;
        }
        if resolved {
            if let Some(w) = s.resolved_at.and_then(week_of) {
                weeks[w].resolved += 1;
            }
        }
        if s.review_owed {
            reviews_owed += 1;
        }
        if s.major_incident && (reported_in || s.state.is_open()) {
            major.push((s.reported_at, s));
        }
    }
    backlog.age = Durations::of(ages);
    major.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.reference.cmp(&y.reference)));
    Dashboard {
        period,
        considered,
        backlog,
        mtta: Durations::of(to_ack),
        mttr: Durations::of(to_resolve),
        response,
        resolution,
        by_priority: Priority::ALL
            .iter()
            .zip(by_priority)
            .map(|(p, (response, resolution))| Breakdown {
                name: Some(p.to_string()),
                response,
                resolution,
            })
            .collect(),
        by_group: by_measured(by_group),
        by_category: by_measured(by_category),
        weeks,
        top_categories: top(categories),
        top_services: top(services),
        major: major
            .into_iter()
            .map(|(_, s)| MajorIncident {
                document_id: s.document_id.clone(),
                reference: s.reference.clone(),
                title: s.title.clone(),
                state: s.state,
                review_owed: s.review_owed,
            })
            .collect(),
        reviews_owed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_is_the_smallest_value_covering_the_share() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 50), Some(5));
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2));
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(Durations::of(vec![30, 10, 20]).median_ms, Some(20));
    }

    #[test]
    fn compliance_reads_as_a_percentage_rounded_down() {
        let c = Compliance { met: 2, missed: 1 };
        assert_eq!(c.permille(), Some(666));
        assert_eq!(c.percent_label(), "66.6%");
        assert_eq!(Compliance::default().percent_label(), "—");
    }

    #[test]
    fn a_chosen_range_is_whole_days_and_must_run_forwards() {
        let p = Period::dates("2026-03-01", "2026-03-01").unwrap();
        assert_eq!(p.to.since(p.from), Span::days(1));
        assert!(p.contains(DeviceTime::parse_rfc3339("2026-03-01T23:59:59Z").unwrap()));
        assert!(!p.contains(DeviceTime::parse_rfc3339("2026-03-02T00:00:00Z").unwrap()));
        assert_eq!(
            Period::dates("2026-03-02", "2026-03-01"),
            Err(PeriodError::Backwards)
        );
        assert_eq!(
            Period::dates("yesterday", "2026-03-01")
                .unwrap_err()
                .to_string(),
            "“yesterday” is not a date: use the form 2026-03-31."
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-03-04 is a Wednesday.
        let wed = DeviceTime::parse_rfc3339("2026-03-04T15:00:00Z").unwrap();
        assert_eq!(
            monday_of(wed),
            DeviceTime::parse_rfc3339("2026-03-02T00:00:00Z").unwrap()
        );
    }
}
