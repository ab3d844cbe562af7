//! What an admin types into Settings → Workspace, read into settings values: clock times,
//! holiday lists, lists of names, and the calendar and communication forms whole. Every problem
//! is a [`FieldError`] naming its input, so the app shows it next to that field; the app only
//! renders the forms and asks the browser for a zone's table, and every rule about what is
//! acceptable is here, where it is tested natively.

use chrono::NaiveDate;

use crate::calendar::{BusinessCalendar, CalendarError, WorkingHours, DAY_NAMES};
use crate::communication::CommunicationPlan;
use crate::config::{ConfigError, EscalationRule, WorkspaceConfig};
use crate::directory::same_name;
use crate::incident::FieldError;
use crate::priority::Priority;
use crate::sla::{CalendarChoice, SlaTarget};
use crate::workspace::{Edit, Setting, SettingKey};
use crate::zone::Zone;

/// The longest interval or target a form takes, in minutes: a year.
const MAX_MINUTES: u32 = 366 * 24 * 60;

/// A wall-clock time as people type it, `09:00` or `9:30` (`24:00` is the end of the day), in
/// minutes after midnight.
pub fn parse_clock(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let digits =
        |t: &str, len: usize| (1..=len).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// Minutes after midnight as `09:00`.
pub fn format_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A holiday that is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a date: write holidays as 2026-12-25, one per line or separated by commas."
)]
pub struct HolidayError(pub String);

/// Holidays as people type them: ISO dates separated by commas or lines, in date order, each
/// once.
pub fn parse_holidays(text: &str) -> Result<Vec<NaiveDate>, HolidayError> {
    let mut days = pieces(text)
        .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| HolidayError(t.into())))
        .collect::<Result<Vec<_>, _>>()?;
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// Names typed into one field, separated by commas or lines: trimmed, empty ones dropped, each
/// once whatever its case (the first spelling kept).
pub fn split_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in pieces(text) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_string());
        }
    }
    names
}

fn pieces(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A whole number of minutes, at least one and at most a year.
fn minutes(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=MAX_MINUTES).contains(m))
}

const MINUTES_MESSAGE: &str = "Enter whole minutes, at least 1 (at most a year).";

/// One weekday's row of the calendar form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayEntry {
    /// A working day.
    pub working: bool,
    /// When work starts, `09:00`.
    pub start: String,
    /// When it ends, `17:00`.
    pub end: String,
}

/// The calendar form as typed (its time zone is resolved by the caller, which has the browser's
/// time-zone database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarEntry {
    /// Its name.
    pub name: String,
    /// Monday to Sunday.
    pub days: [DayEntry; 7],
    /// Holidays, as typed.
    pub holidays: String,
}

/// The input of a weekday's row, `day-0` (Monday) to `day-6`.
pub fn day_field(day: usize) -> String {
    format!("day-{day}")
}

impl CalendarEntry {
    /// The form filled from a calendar (a day off shows 09:00-17:00 to start from).
    pub fn of(calendar: &BusinessCalendar) -> Self {
        CalendarEntry {
            name: calendar.name.clone(),
            days: calendar.week.map(|d| {
                let h = d.unwrap_or(WorkingHours::hours(9, 17));
                DayEntry {
                    working: d.is_some(),
                    start: format_clock(h.start),
                    end: format_clock(h.end),
                }
            }),
            holidays: calendar
                .holidays
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The calendar the form describes, in `zone` (`None`: the fixed offset of `base`), or every
    /// problem with it: `calendar-name`, `day-N`, `holidays`, `week` or `zone`.
    pub fn read(
        &self,
        zone: Option<Zone>,
        base: &BusinessCalendar,
    ) -> Result<BusinessCalendar, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(FieldError::new(
                "calendar-name",
                ConfigError::NoName.to_string(),
            ));
        }
        let mut week = [None; 7];
        for (i, day) in self.days.iter().enumerate() {
            if !day.working {
                continue;
            }
            match (parse_clock(&day.start), parse_clock(&day.end)) {
                (Some(start), Some(end)) if start < end => {
                    week[i] = Some(WorkingHours { start, end })
                }
                (Some(_), Some(_)) => errors.push(FieldError::new(
                    day_field(i),
                    CalendarError::BadHours { day: DAY_NAMES[i] }.to_string(),
                )),
                _ => errors.push(FieldError::new(
                    day_field(i),
                    format!(
                        "{}: enter times as 09:00, from 00:00 to 24:00.",
                        DAY_NAMES[i]
                    ),
                )),
            }
        }
        let holidays = parse_holidays(&self.holidays).unwrap_or_else(|e| {
            errors.push(FieldError::new("holidays", e.to_string()));
            Vec::new()
        });
        let calendar = BusinessCalendar {
            name: self.name.trim().to_string(),
            utc_offset_minutes: base.utc_offset_minutes,
            zone,
            week,
            holidays,
        };
        if errors.is_empty() {
            match calendar.validate() {
                Ok(()) => {}
                Err(CalendarError::BadHours { day }) => {
                    let i = DAY_NAMES.iter().position(|d| *d == day).unwrap_or(0);
                    errors.push(FieldError::new(
                        day_field(i),
                        CalendarError::BadHours { day }.to_string(),
                    ))
                }
                Err(e @ CalendarError::NoWorkingDays) => {
                    errors.push(FieldError::new("week", e.to_string()))
                }
                Err(e) => errors.push(FieldError::new("zone", e.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(calendar)
        } else {
            Err(errors)
        }
    }
}

/// One escalation rule's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationEntry {
    /// Percent of the resolution target, as typed.
    pub at_percent: String,
    /// Raise the escalation level.
    pub raise_level: bool,
    /// Tell the group's manager.
    pub tell_manager: bool,
}

/// The communication and escalation form as typed: the communication plan, the auto-close
/// delay and the escalation rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanEntry {
    /// Minutes between updates to affected users, P1 to P5.
    pub update_every: [String; 5],
    /// Whether stakeholders get status updates, P1 to P5.
    pub stakeholders: [bool; 5],
    /// Whether a post-incident report is owed, P1 to P5.
    pub report: [bool; 5],
    /// Minutes between stakeholder status updates.
    pub stakeholder_every: String,
    /// Whether every major incident's stakeholders are kept informed.
    pub stakeholder_for_major: bool,
    /// The duty owning communication for customer-specific incidents.
    pub customer_owner_duty: String,
    /// The duty owning it otherwise.
    pub owner_duty: String,
    /// Days until a Resolved incident closes itself.
    pub auto_close_days: String,
    /// The escalation rules.
    pub escalations: Vec<EscalationEntry>,
}

/// What [`PlanEntry::read`] gives: the plan, the auto-close delay and the escalation rules.
pub type PlanSettings = (CommunicationPlan, u32, Vec<EscalationRule>);

/// The input of a priority's update interval, `update-P1`.
pub fn update_field(priority: Priority) -> String {
    format!("update-{}", priority.code())
}

/// The input of an escalation rule's percentage, `escalation-0`.
pub fn escalation_field(rule: usize) -> String {
    format!("escalation-{rule}")
}

impl PlanEntry {
    /// The form filled from a configuration.
    pub fn of(cfg: &WorkspaceConfig) -> Self {
        let plan = &cfg.communication;
        PlanEntry {
            update_every: plan.update_every_minutes.map(|m| m.to_string()),
            stakeholders: Priority::ALL.map(|p| plan.stakeholder_priorities.contains(&p)),
            report: Priority::ALL.map(|p| plan.report_priorities.contains(&p)),
            stakeholder_every: plan.stakeholder_every_minutes.to_string(),
            stakeholder_for_major: plan.stakeholder_for_major,
            customer_owner_duty: plan.customer_owner_duty.clone(),
            owner_duty: plan.owner_duty.clone(),
            auto_close_days: cfg.auto_close_days.to_string(),
            escalations: cfg
                .escalations
                .iter()
                .map(|e| EscalationEntry {
                    at_percent: e.at_percent.to_string(),
                    raise_level: e.raise_level,
                    tell_manager: e.tell_manager,
                })
                .collect(),
        }
    }

    /// The settings the form describes, or every problem with it: `update-Pn`,
    /// `stakeholder-every`, `customer-owner`, `owner`, `auto-close` or `escalation-N`.
    pub fn read(&self) -> Result<PlanSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut update_every_minutes = [0; 5];
        for p in Priority::ALL {
            match minutes(&self.update_every[p.index()]) {
                Some(m) => update_every_minutes[p.index()] = m,
                None => errors.push(FieldError::new(update_field(p), MINUTES_MESSAGE)),
            }
        }
        let stakeholder_every_minutes = minutes(&self.stakeholder_every).unwrap_or_else(|| {
            errors.push(FieldError::new("stakeholder-every", MINUTES_MESSAGE));
            0
        });
        let mut duty = |field: &str, text: &str| {
            let text = text.trim();
            if text.is_empty() {
                errors.push(FieldError::new(
                    field,
                    "Name the directory duty that owns communication, for example Product head.",
                ));
            }
            text.to_string()
        };
        let customer_owner_duty = duty("customer-owner", &self.customer_owner_duty);
        let owner_duty = duty("owner", &self.owner_duty);
        let auto_close = self
            .auto_close_days
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "auto-close",
                    ConfigError::AutoClose.to_string(),
                ));
                0
            });
        let mut rules: Vec<(usize, EscalationRule)> = Vec::new();
        for (i, e) in self.escalations.iter().enumerate() {
            let at = e
                .at_percent
                .trim()
                .trim_end_matches('%')
                .trim()
                .parse::<u32>();
            match at.ok().filter(|p| (1..=100).contains(p)) {
                None => errors.push(FieldError::new(
                    escalation_field(i),
                    ConfigError::EscalationPercent.to_string(),
                )),
                Some(at) if rules.iter().any(|(_, r)| r.at_percent == at) => {
                    errors.push(FieldError::new(
                        escalation_field(i),
                        format!("Another rule applies at {at}%."),
                    ))
                }
                Some(at_percent) => rules.push((
                    i,
                    EscalationRule {
                        at_percent,
                        raise_level: e.raise_level,
                        tell_manager: e.tell_manager,
                    },
                )),
            }
        }
        for (i, r) in &rules {
            if !r.raise_level && !r.tell_manager {
                errors.push(FieldError::new(
                    escalation_field(*i),
                    "A rule must raise the level, tell the manager, or both.",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let chosen = |flags: &[bool; 5]| {
            Priority::ALL
                .into_iter()
                .filter(|p| flags[p.index()])
                .collect::<Vec<_>>()
        };
        let mut escalations: Vec<EscalationRule> = rules.into_iter().map(|(_, r)| r).collect();
        escalations.sort_by_key(|r| r.at_percent);
        let plan = CommunicationPlan {
            update_every_minutes,
            stakeholder_every_minutes,
            stakeholder_priorities: chosen(&self.stakeholders),
            stakeholder_for_major: self.stakeholder_for_major,
            report_priorities: chosen(&self.report),
            customer_owner_duty,
            owner_duty,
        };
        Ok((plan, auto_close, escalations))
    }
}

/// The SLA page's "counts" choice for targets counted around the clock; the other choices are
/// [`CalendarSlot::key`]s of business calendars.
pub const AROUND_THE_CLOCK: &str = "always";

/// What an SLA target's "counts" picker shows for it.
pub fn counts_in(target: &SlaTarget) -> String {
    match target.business() {
        None => AROUND_THE_CLOCK.into(),
        Some("") => CalendarSlot::Main.key(),
        Some(name) => CalendarSlot::Other(name.to_string()).key(),
    }
}

/// Targets counted as the "counts" picker says ([`counts_in`]'s form).
pub fn target_counting_in(
    response_minutes: u32,
    resolution_minutes: u32,
    counts: &str,
) -> SlaTarget {
    if counts == AROUND_THE_CLOCK {
        return SlaTarget::new(response_minutes, resolution_minutes, CalendarChoice::Always);
    }
    let mut target = SlaTarget::new(
        response_minutes,
        resolution_minutes,
        CalendarChoice::Business,
    );
    if let CalendarSlot::Other(name) = CalendarSlot::from_key(counts) {
        target.business_calendar = name;
    }
    target
}

/// Which of the workspace's business calendars the calendar form edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalendarSlot {
    /// The main calendar (business-hours targets count in it unless they name another).
    Main,
    /// Another calendar, by name. Its name is how SLA targets and incidents' recorded
    /// definitions refer to it, so it cannot be renamed: add a new one instead.
    Other(String),
    /// A calendar being added.
    New,
}

impl CalendarSlot {
    /// The value of the calendar picker's option: `main`, `new` or `other:NAME`.
    pub fn key(&self) -> String {
        match self {
            CalendarSlot::Main => "main".into(),
            CalendarSlot::New => "new".into(),
            CalendarSlot::Other(name) => format!("other:{name}"),
        }
    }

    /// Reads [`CalendarSlot::key`]'s form; anything else is the main calendar.
    pub fn from_key(key: &str) -> CalendarSlot {
        match key {
            "new" => CalendarSlot::New,
            _ => match key.strip_prefix("other:") {
                Some(name) => CalendarSlot::Other(name.to_string()),
                None => CalendarSlot::Main,
            },
        }
    }

    /// The calendar the form starts from: the one in the slot, or for a new one the main
    /// calendar's hours and zone under an empty name.
    pub fn calendar(&self, cfg: &WorkspaceConfig) -> BusinessCalendar {
        match self {
            CalendarSlot::Main => cfg.calendar.clone(),
            CalendarSlot::Other(name) => cfg.calendar_named(name).clone(),
            CalendarSlot::New => BusinessCalendar {
                name: String::new(),
                ..cfg.calendar.clone()
            },
        }
    }

    /// The setting that saves `calendar` (read from the form) in this slot; a name another
    /// calendar has, or a renamed other calendar, is refused next to the name.
    pub fn save(
        &self,
        cfg: &WorkspaceConfig,
        calendar: BusinessCalendar,
    ) -> Result<Setting, Vec<FieldError>> {
        let name_error = |message: String| vec![FieldError::new("calendar-name", message)];
        let is_this = |other: &str| matches!(self, CalendarSlot::Other(n) if same_name(n, other));
        let taken = (*self != CalendarSlot::Main && same_name(&cfg.calendar.name, &calendar.name))
            || cfg
                .calendars
                .iter()
                .any(|c| !is_this(&c.name) && same_name(&c.name, &calendar.name));
        if taken {
            return Err(name_error(
                ConfigError::DuplicateCalendar(calendar.name.clone()).to_string(),
            ));
        }
        match self {
            CalendarSlot::Main => Ok(Setting::Calendar(calendar)),
            CalendarSlot::Other(name) if !same_name(name, &calendar.name) => Err(name_error(
                format!("A calendar keeps its name (SLA targets and incidents refer to it by name); add a new calendar to use \"{}\".", calendar.name.trim()),
            )),
            _ => Ok(Setting::OtherCalendar(calendar)),
        }
    }

    /// The edit that removes this calendar; refused for the main calendar, and for one an SLA
    /// target still counts in.
    pub fn remove(&self, cfg: &WorkspaceConfig) -> Result<Edit, String> {
        let CalendarSlot::Other(name) = self else {
            return Err("The main calendar cannot be removed.".into());
        };
        let users = cfg.calendar_used_by(name);
        if !users.is_empty() {
            let codes: Vec<&str> = users.iter().map(|p| p.code()).collect();
            return Err(format!(
                "{} count{} in {name}: choose another calendar for {} in SLA targets first.",
                codes.join(", "),
                if users.len() == 1 { "s" } else { "" },
                if users.len() == 1 { "it" } else { "them" },
            ));
        }
        Ok(Edit::Remove(SettingKey::named(
            SettingKey::OtherCalendar,
            name,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn clock_times_are_read_as_typed() {
        assert_eq!(parse_clock("09:00"), Some(540));
        assert_eq!(parse_clock(" 9:30 "), Some(570));
        assert_eq!(parse_clock("00:00"), Some(0));
        assert_eq!(parse_clock("24:00"), Some(1440));
        for bad in [
            "24:01", "12:60", "9", "", "ab:cd", "-1:00", "10:5x", "9:005", "9:5", "123:00",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(format_clock(570), "09:30");
        assert_eq!(format_clock(1440), "24:00");
    }

    #[test]
    fn holidays_are_read_in_date_order_each_once() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!(
            parse_holidays("2026-12-26, 2026-12-25\n\n2026-12-25;2026-01-01"),
            Ok(vec![d(1, 1), d(12, 25), d(12, 26)])
        );
        assert_eq!(parse_holidays("  "), Ok(vec![]));
        assert_eq!(
            parse_holidays("2026-12-25, 25/12/2026").unwrap_err().to_string(),
            "\"25/12/2026\" is not a date: write holidays as 2026-12-25, one per line or separated by commas."
        );
        assert_eq!(
            parse_holidays("2026-02-30"),
            Err(HolidayError("2026-02-30".into()))
        );
    }

    #[test]
    fn names_are_split_trimmed_and_kept_once() {
        assert_eq!(
            split_names(" VPN, Wi-Fi\nvpn ,, DNS;"),
            vec!["VPN", "Wi-Fi", "DNS"]
        );
        assert!(split_names(" , ").is_empty());
    }

    #[test]
    fn a_calendar_form_round_trips_and_its_problems_name_their_fields() {
        let mut base = BusinessCalendar::office_hours(0);
        base.holidays = parse_holidays("2026-12-25").unwrap();
        let entry = CalendarEntry::of(&base);
        assert_eq!(entry.days[5].start, "09:00");
        assert!(!entry.days[5].working);
        assert_eq!(entry.read(None, &base), Ok(base.clone()));

        let berlin = Zone::fixed("Europe/Berlin", 60);
        let mut typed = entry.clone();
        typed.days[5] = DayEntry {
            working: true,
            start: "10:00".into(),
            end: "14:00".into(),
        };
        let read = typed.read(Some(berlin.clone()), &base).unwrap();
        assert_eq!(read.week[5], Some(WorkingHours::hours(10, 14)));
        assert_eq!(read.zone, Some(berlin));

        let mut bad = entry.clone();
        bad.name = " ".into();
        bad.days[0].end = "08:00".into();
        bad.days[1].start = "9am".into();
        bad.holidays = "Christmas".into();
        let errors = bad.read(None, &base).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["calendar-name", "day-0", "day-1", "holidays"]
        );
        assert_eq!(
            errors[1].message,
            "Monday: working hours must start before they end, within one day."
        );
        assert_eq!(
            errors[2].message,
            "Tuesday: enter times as 09:00, from 00:00 to 24:00."
        );

        let mut idle = entry;
        for d in &mut idle.days {
            d.working = false;
        }
        let errors = idle.read(None, &base).unwrap_err();
        assert_eq!(fields(&errors), ["week"]);
        assert_eq!(
            errors[0].message,
            "The calendar needs at least one working day."
        );
    }

    #[test]
    fn a_plan_form_round_trips_and_sorts_its_rules() {
        let cfg = WorkspaceConfig::default();
        let entry = PlanEntry::of(&cfg);
        assert_eq!(
            entry.read(),
            Ok((
                cfg.communication.clone(),
                cfg.auto_close_days,
                cfg.escalations.clone()
            ))
        );
        let mut typed = entry.clone();
        typed.update_every[2] = "240".into();
        typed.report = [true, true, true, false, false];
        typed.escalations.insert(
            0,
            EscalationEntry {
                at_percent: "90 %".into(),
                raise_level: false,
                tell_manager: true,
            },
        );
        let (plan, _, rules) = typed.read().unwrap();
        assert_eq!(plan.update_every_minutes, [60, 60, 240, 180, 180]);
        assert_eq!(
            plan.report_priorities,
            [Priority::P1, Priority::P2, Priority::P3]
        );
        assert_eq!(
            rules.iter().map(|r| r.at_percent).collect::<Vec<_>>(),
            [75, 90]
        );
        let mut applied = cfg.clone();
        (
            applied.communication,
            applied.auto_close_days,
            applied.escalations,
        ) = typed.read().unwrap();
        assert_eq!(applied.validate(), Ok(()));
    }

    #[test]
    fn every_problem_of_a_plan_form_is_named() {
        let mut bad = PlanEntry::of(&WorkspaceConfig::default());
        bad.update_every[0] = "0".into();
        bad.update_every[4] = "an hour".into();
        bad.stakeholder_every = "".into();
        bad.owner_duty = "  ".into();
        bad.auto_close_days = "400".into();
        bad.escalations.push(EscalationEntry {
            at_percent: "75".into(),
            raise_level: true,
            tell_manager: false,
        });
        bad.escalations.push(EscalationEntry {
            at_percent: "101".into(),
            raise_level: true,
            tell_manager: false,
        });
        bad.escalations.push(EscalationEntry {
            at_percent: "50".into(),
            raise_level: false,
            tell_manager: false,
        });
        let errors = bad.read().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "update-P1",
                "update-P5",
                "stakeholder-every",
                "owner",
                "auto-close",
                "escalation-1",
                "escalation-2",
                "escalation-3"
            ]
        );
        assert_eq!(errors[5].message, "Another rule applies at 75%.");
        assert_eq!(
            errors[6].message,
            "An escalation applies at 1% to 100% of the resolution target."
        );
        assert_eq!(
            errors[7].message,
            "A rule must raise the level, tell the manager, or both."
        );
    }

    #[test]
    fn the_counts_picker_round_trips_every_kind_of_target() {
        let mut in_berlin = SlaTarget::new(30, 240, CalendarChoice::Business);
        in_berlin.business_calendar = "Berlin office".into();
        for target in [
            SlaTarget::new(30, 240, CalendarChoice::Always),
            SlaTarget::new(30, 240, CalendarChoice::Business),
            in_berlin,
        ] {
            assert_eq!(target_counting_in(30, 240, &counts_in(&target)), target);
        }
        assert_eq!(
            counts_in(&SlaTarget::new(1, 2, CalendarChoice::Always)),
            "always"
        );
        assert_eq!(
            counts_in(&SlaTarget::new(1, 2, CalendarChoice::Business)),
            "main"
        );
    }

    #[test]
    fn calendar_slots_save_and_remove_by_the_workspace_s_rules() {
        use crate::workspace::{Edit, Setting, SettingKey};
        let mut cfg = WorkspaceConfig::default();
        let berlin = BusinessCalendar {
            name: "Berlin office".into(),
            ..BusinessCalendar::office_hours(60)
        };
        cfg.calendars.push(berlin.clone());
        for slot in [
            CalendarSlot::Main,
            CalendarSlot::New,
            CalendarSlot::Other("Berlin office".into()),
        ] {
            assert_eq!(CalendarSlot::from_key(&slot.key()), slot);
        }
        let other = CalendarSlot::Other("Berlin office".into());
        assert_eq!(other.calendar(&cfg), berlin);
        assert_eq!(CalendarSlot::New.calendar(&cfg).name, "");

        // A new calendar may not take a name in use (case ignored), nor the main one take
        // another's; the main one may be renamed, another may not.
        let named = |name: &str| BusinessCalendar {
            name: name.into(),
            ..berlin.clone()
        };
        let refused = CalendarSlot::New
            .save(&cfg, named("berlin OFFICE"))
            .unwrap_err();
        assert_eq!(refused[0].field, "calendar-name");
        assert!(CalendarSlot::Main
            .save(&cfg, named("Berlin office"))
            .is_err());
        assert_eq!(
            CalendarSlot::Main.save(&cfg, named("Head office")),
            Ok(Setting::Calendar(named("Head office")))
        );
        assert!(other.save(&cfg, named("Munich office")).is_err());
        assert_eq!(
            other.save(&cfg, named("Berlin office")),
            Ok(Setting::OtherCalendar(berlin.clone()))
        );
        assert_eq!(
            CalendarSlot::New.save(&cfg, named("Lisbon office")),
            Ok(Setting::OtherCalendar(named("Lisbon office")))
        );

        // Removal: never the main calendar, not while a target counts in it.
        assert!(CalendarSlot::Main.remove(&cfg).is_err());
        assert_eq!(
            other.remove(&cfg),
            Ok(Edit::Remove(SettingKey::OtherCalendar(
                "berlin office".into()
            )))
        );
        cfg.sla.targets[Priority::P4.index()] = SlaTarget {
            business_calendar: "Berlin office".into(),
            ..SlaTarget::new(60, 600, CalendarChoice::Business)
        };
        assert_eq!(
            other.remove(&cfg),
            Err(
                "P4 counts in Berlin office: choose another calendar for it in SLA targets first."
                    .into()
            )
        );
    }
}
