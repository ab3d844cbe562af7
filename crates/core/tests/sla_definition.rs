//! Which SLA definition an incident's clocks measure against, and business-hours due times in
//! real time zones across daylight-saving changes.

mod common;

use chrono::{Offset, TimeZone};
use common::{email_outage, reference, sync_pair};
use outpost_core::calendar::BusinessCalendar;
use outpost_core::history::Event;
use outpost_core::sla::{CalendarChoice, SlaDefinition, SlaTarget};
use outpost_core::zone::Zone;
use outpost_core::{
    Attribution, Command, DeviceTime, Field, Impact, IncidentDoc, NewIncident, Outcome, Priority,
    Urgency, WorkspaceConfig,
};

fn t(s: &str) -> DeviceTime {
    DeviceTime::parse_rfc3339(s).unwrap()
}

fn by(name: &str, at: &str) -> Attribution {
    Attribution::new(name, t(at))
}

fn with_p2_resolution(minutes: u32) -> WorkspaceConfig {
    let mut cfg = WorkspaceConfig::default();
    cfg.sla.targets[Priority::P2.index()].resolution_minutes = minutes;
    cfg
}

fn p2() -> NewIncident {
    NewIncident {
        impact: Impact::High,
        urgency: Urgency::Medium,
        detected_at: None,
        ..email_outage()
    }
}

const LOGGED: &str = "2026-11-30T08:00:00Z";

#[test]
fn a_later_change_of_target_does_not_move_a_running_clock() {
    let old = WorkspaceConfig::default(); // P2: resolve within 8 h around the clock
    let doc = IncidentDoc::create(&reference(1), &p2(), &by("ana", LOGGED), &old).unwrap();
    let view = doc.view(&old, t(LOGGED)).unwrap();
    assert_eq!(
        view.sla_definition,
        SlaDefinition::current(&old.sla, Priority::P2)
    );
    assert_eq!(
        view.sla.resolution.breach_at(&old.calendar),
        Some(t("2026-11-30T16:00:00Z"))
    );

    // The admin shortens P2 to 4 h: the running incident keeps its 8 h; a new one gets 4 h.
    let new = with_p2_resolution(4 * 60);
    let later = t("2026-11-30T09:00:00Z");
    let view = doc.view(&new, later).unwrap();
    assert_eq!(view.sla_definition.target.resolution_minutes, 8 * 60);
    assert_eq!(
        view.sla.resolution.breach_at(&new.calendar),
        Some(t("2026-11-30T16:00:00Z"))
    );
    let fresh = IncidentDoc::create(&reference(2), &p2(), &by("ana", LOGGED), &new).unwrap();
    assert_eq!(
        fresh
            .view(&new, later)
            .unwrap()
            .sla
            .resolution
            .breach_at(&new.calendar),
        Some(t("2026-11-30T12:00:00Z"))
    );
}

#[test]
fn re_prioritising_applies_the_new_priority_s_definition_and_says_so() {
    let old = WorkspaceConfig::default();
    let mut doc = IncidentDoc::create(&reference(1), &p2(), &by("ana", LOGGED), &old).unwrap();
    // P1 is now 2 h; raising the urgency makes the incident P1 and records P1's definition.
    let mut new = old.clone();
    new.sla.targets[Priority::P1.index()].resolution_minutes = 2 * 60;
    let outcome = doc
        .execute(
            &Command::SetUrgency(Urgency::High),
            &by("ben", "2026-11-30T08:30:00Z"),
            &new,
        )
        .unwrap();
    let Outcome::Changed { events, .. } = outcome else {
        panic!("expected a change")
    };
    let recorded = events.iter().find_map(|e| match e {
        Event::FieldChanged {
            field: Field::SlaDefinition,
            to,
            ..
        } => Some(Field::SlaDefinition.display(to)),
        _ => None,
    });
    assert_eq!(
        recorded.as_deref(),
        Some("P1: respond within 15m, resolve within 2h 00m, around the clock")
    );
    let view = doc.view(&new, t("2026-11-30T09:00:00Z")).unwrap();
    assert_eq!(view.priority, Priority::P1);
    // Measured from when it was logged, as ServiceNow's retroactive start does.
    assert_eq!(
        view.sla.resolution.breach_at(&new.calendar),
        Some(t("2026-11-30T10:00:00Z"))
    );
    // The timeline tells people which definition applies.
    let said = view
        .timeline
        .iter()
        .any(|entry| format!("{entry:?}").contains("P1: respond within 15m"));
    assert!(said, "{:?}", view.timeline);

    // Setting the same urgency again records nothing.
    let again = doc
        .execute(
            &Command::SetUrgency(Urgency::High),
            &by("ben", "2026-11-30T08:40:00Z"),
            &WorkspaceConfig::default(),
        )
        .unwrap();
    assert_eq!(again, Outcome::Unchanged);
}

/// Two people re-prioritise offline; once merged and the priority settled, the clocks use the
/// settled priority's definition.
#[test]
fn a_merged_priority_uses_a_definition_for_that_priority() {
    let cfg = WorkspaceConfig::default();
    let base = IncidentDoc::create(&reference(1), &p2(), &by("ana", LOGGED), &cfg).unwrap();
    let (mut a, mut b) = (base.fork(), base.fork());
    a.execute(
        &Command::SetImpact(Impact::Low),
        &by("ana", "2026-11-30T08:10:00Z"),
        &cfg,
    )
    .unwrap();
    b.execute(
        &Command::SetUrgency(Urgency::High),
        &by("ben", "2026-11-30T08:10:00Z"),
        &cfg,
    )
    .unwrap();
    sync_pair(a.automerge_mut(), b.automerge_mut());
    let view = a.view(&cfg, t("2026-11-30T09:00:00Z")).unwrap();
    // Low impact × high urgency is P3; whatever was recorded, the clocks are P3's.
    assert_eq!(view.priority, Priority::P3);
    assert_eq!(view.sla_definition.priority, Priority::P3);
    // The definition is never shown as a conflict of its own.
    assert!(view
        .conflicts
        .iter()
        .all(|c| c.field != Field::SlaDefinition));
}

fn table(tz: chrono_tz::Tz) -> Zone {
    let ms = |y, m, d| {
        chrono::Utc
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .unwrap()
            .timestamp_millis()
    };
    Zone::tabulate(tz.name(), ms(2026, 1, 1), ms(2027, 1, 1), move |at| {
        let utc = chrono::DateTime::from_timestamp_millis(at)
            .unwrap()
            .naive_utc();
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc() / 60
    })
}

/// A P3 (respond within 4 working hours, resolve within 24, Mon-Fri 09:00-17:00 local) logged
/// at 15:00 local on the Friday before a change: the due times land at 11:00 local on Monday
/// and 15:00 local on Wednesday, whatever the offset did over the weekend.
fn due_times(tz: chrono_tz::Tz, logged: &str) -> (DeviceTime, DeviceTime) {
    let mut cfg = WorkspaceConfig {
        calendar: BusinessCalendar::office_hours_in(table(tz)),
        ..WorkspaceConfig::default()
    };
    cfg.sla.targets[Priority::P3.index()] =
        SlaTarget::new(4 * 60, 24 * 60, CalendarChoice::Business);
    let new = NewIncident {
        impact: Impact::Medium,
        urgency: Urgency::Medium,
        detected_at: None,
        ..email_outage()
    };
    let doc = IncidentDoc::create(&reference(7), &new, &by("ana", logged), &cfg).unwrap();
    let view = doc.view(&cfg, t(logged)).unwrap();
    assert_eq!(view.priority, Priority::P3);
    (
        view.sla.response.breach_at(&cfg.calendar).unwrap(),
        view.sla.resolution.breach_at(&cfg.calendar).unwrap(),
    )
}

#[test]
fn business_hours_due_times_across_berlin_s_changes() {
    // Spring: Sunday 29 March 2026, 02:00 CET (UTC+1) becomes 03:00 CEST (UTC+2).
    // Friday 27 March 15:00 CET = 14:00Z. Response: 2 h on Friday, 2 h on Monday, so Monday
    // 11:00 CEST = 09:00Z. Resolution: 2 + 8 + 8 + 6 h, so Wednesday 1 April 15:00 CEST =
    // 13:00Z (a fixed UTC+1 would say 14:00Z).
    assert_eq!(
        due_times(chrono_tz::Europe::Berlin, "2026-03-27T14:00:00Z"),
        (t("2026-03-30T09:00:00Z"), t("2026-04-01T13:00:00Z"))
    );
    // Autumn: Sunday 25 October 2026, 03:00 CEST becomes 02:00 CET. Friday 23 October 15:00
    // CEST = 13:00Z. Monday 26 October 11:00 CET = 10:00Z; Wednesday 28 October 15:00 CET =
    // 14:00Z.
    assert_eq!(
        due_times(chrono_tz::Europe::Berlin, "2026-10-23T13:00:00Z"),
        (t("2026-10-26T10:00:00Z"), t("2026-10-28T14:00:00Z"))
    );
}

#[test]
fn business_hours_due_times_across_new_york_s_changes() {
    // Spring: Sunday 8 March 2026, 02:00 EST (UTC-5) becomes 03:00 EDT (UTC-4). Friday 6 March
    // 15:00 EST = 20:00Z. Monday 9 March 11:00 EDT = 15:00Z; Wednesday 11 March 15:00 EDT =
    // 19:00Z.
    assert_eq!(
        due_times(chrono_tz::America::New_York, "2026-03-06T20:00:00Z"),
        (t("2026-03-09T15:00:00Z"), t("2026-03-11T19:00:00Z"))
    );
    // Autumn: Sunday 1 November 2026, 02:00 EDT becomes 01:00 EST. Friday 30 October 15:00
    // EDT = 19:00Z. Monday 2 November 11:00 EST = 16:00Z; Wednesday 4 November 15:00 EST =
    // 20:00Z.
    assert_eq!(
        due_times(chrono_tz::America::New_York, "2026-10-30T19:00:00Z"),
        (t("2026-11-02T16:00:00Z"), t("2026-11-04T20:00:00Z"))
    );
}

#[test]
fn a_change_of_rules_marks_open_list_entries_stale_and_rederiving_applies_it() {
    let old = WorkspaceConfig::default();
    let mut doc = IncidentDoc::create(&reference(1), &p2(), &by("ana", LOGGED), &old).unwrap();
    let now = t("2026-11-30T08:10:00Z");
    let entry = doc
        .view(&old, now)
        .unwrap()
        .summary("doc", &old, old.list_rules());
    assert_eq!(entry.priority, Priority::P2);
    assert!(!entry.stale_under(old.list_rules()));

    // What the list draws from the catalog or the labels does not make entries stale.
    let mut relabelled = old.clone();
    relabelled.priority_labels[1] = "Urgent".into();
    relabelled.categories.clear();
    assert_eq!(relabelled.list_rules(), old.list_rules());

    // The admin makes high impact × medium urgency a P1, and P1 users hear every 30 minutes.
    use Priority::*;
    let mut new = old.clone();
    new.priority_matrix =
        outpost_core::PriorityMatrix::new([[P1, P1, P3], [P2, P3, P4], [P3, P4, P5]]);
    new.communication.update_every_minutes[0] = 30;
    assert_ne!(new.list_rules(), old.list_rules());
    assert!(entry.stale_under(new.list_rules()));

    let again = doc
        .view(&new, now)
        .unwrap()
        .summary("doc", &new, new.list_rules());
    assert_eq!(again.priority, P1);
    assert_eq!(again.update_due, Some(t("2026-11-30T08:30:00Z")));
    assert_ne!(again.sla_due, entry.sla_due);
    assert!(!again.stale_under(new.list_rules()));

    // A calendar change alone counts too; a closed incident's entry never goes stale.
    let mut hours = old.clone();
    hours
        .calendar
        .holidays
        .push(chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap());
    assert_ne!(hours.list_rules(), old.list_rules());
    cancel(&mut doc);
    let closed = doc
        .view(&old, now)
        .unwrap()
        .summary("doc", &old, old.list_rules());
    assert_eq!(closed.state, outpost_core::State::Canceled);
    assert!(!closed.stale_under(new.list_rules()));
}

fn cancel(doc: &mut IncidentDoc) {
    let cfg = WorkspaceConfig::default();
    let outcome = doc
        .execute(
            &Command::Transition(outpost_core::Action::Cancel {
                reason: "Raised twice".into(),
            }),
            &by("ana", "2026-11-30T08:05:00Z"),
            &cfg,
        )
        .unwrap();
    assert!(matches!(outcome, Outcome::Changed { .. }));
}

/// The workspace's main calendar is New York's; P3 counts in another, Berlin's. A P3 logged on
/// Friday 27 March 2026 at 14:00Z (15:00 in Berlin, 10:00 in New York) is due for response at
/// Monday 09:00Z (2 h on Friday, 2 h from 09:00 CEST on Monday); counted in New York's hours it
/// would be due the same Friday at 18:00Z (14:00 EDT).
#[test]
fn an_sla_definition_names_the_calendar_it_counts_in() {
    let mut cfg = WorkspaceConfig {
        calendar: BusinessCalendar {
            name: "New York desk".into(),
            ..BusinessCalendar::office_hours_in(table(chrono_tz::America::New_York))
        },
        calendars: vec![BusinessCalendar {
            name: "Berlin office".into(),
            ..BusinessCalendar::office_hours_in(table(chrono_tz::Europe::Berlin))
        }],
        ..WorkspaceConfig::default()
    };
    cfg.sla.targets[Priority::P3.index()] = SlaTarget {
        business_calendar: "Berlin office".into(),
        ..SlaTarget::new(4 * 60, 24 * 60, CalendarChoice::Business)
    };
    cfg.validate().unwrap();
    assert_eq!(cfg.calendar_used_by("Berlin Office"), [Priority::P3]);
    let new = NewIncident {
        impact: Impact::Medium,
        urgency: Urgency::Medium,
        detected_at: None,
        ..email_outage()
    };
    let logged = "2026-03-27T14:00:00Z";
    let doc = IncidentDoc::create(&reference(8), &new, &by("ana", logged), &cfg).unwrap();
    let view = doc.view(&cfg, t(logged)).unwrap();
    assert_eq!(view.priority, Priority::P3);
    assert_eq!(
        view.sla_definition.describe(),
        "P3: respond within 4h 00m, resolve within 1d 0h, in the business hours of Berlin office"
    );
    let entry = view.summary("doc", &cfg, cfg.list_rules());
    assert_eq!(entry.sla_due, Some(t("2026-03-30T09:00:00Z")));
    // The definition recorded on the incident keeps the calendar's name through its encoding.
    assert_eq!(
        SlaDefinition::decode(&view.sla_definition.encode()),
        Some(view.sla_definition.clone())
    );
    assert_eq!(SlaDefinition::decode("P3 240 1440 always Berlin"), None);

    // Once the Berlin calendar is gone, the clock counts in the main calendar rather than
    // failing: New York's hours, due that Friday at 18:00Z.
    cfg.calendars.clear();
    let view = doc.view(&cfg, t(logged)).unwrap();
    let entry = view.summary("doc", &cfg, cfg.list_rules());
    assert_eq!(entry.sla_due, Some(t("2026-03-27T18:00:00Z")));

    // Two calendars of one name are refused.
    cfg.calendars = vec![cfg.calendar.clone()];
    assert!(cfg.validate().is_err());
}
