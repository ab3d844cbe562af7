//! Who is told what, when: the notices real incident documents owe as they are worked, merged
//! from two devices, resolved and answered by the caller.

mod common;

use common::*;
use outpost_core::directory::{Directory, Group, Person};
use outpost_core::incident::NoteKind;
use outpost_core::notify::{self, Audience, CallerAnswer, Me, Notice, Occasion};
use outpost_core::{
    Action, Command, DeviceTime, Impact, IncidentDoc, ResolutionCode, StandardResolution, State,
    Urgency,
};

const LINK: &str = "https://outpost.example.org/incidents/abc";

fn person(name: &str, email: &str, groups: &[&str]) -> Person {
    Person {
        name: name.into(),
        email: email.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Person::default()
    }
}

/// Messaging (Ana and Ben, managed by Mo), Oli on call, Pat the product head, and the caller and
/// an affected user of the email outage. Cy has no address.
fn directory() -> Directory {
    let mut oli = person("Oli Call", "oli@example.org", &["Network"]);
    oli.on_call = true;
    let mut pat = person("Pat Head", "pat@example.org", &[]);
    pat.duties = vec!["Product head".into()];
    let mut d = Directory {
        people: vec![
            person("Ana Field", "ana@example.org", &["Messaging"]),
            person("Ben Ops", "ben@example.org", &["Messaging"]),
            person("Cy Noaddress", "", &["Messaging"]),
            person("Mo Manager", "mo@example.org", &[]),
            oli,
            pat,
            person("Dana Reyes", "dana@example.org", &[]),
            person("lee", "lee@example.org", &[]),
        ],
        groups: vec![
            Group {
                name: "Messaging".into(),
                manager: "Mo Manager".into(),
                email: String::new(),
            },
            Group {
                name: "Network".into(),
                manager: String::new(),
                email: "netops@example.org".into(),
            },
        ],
    };
    d.sort();
    d
}

fn owed(doc: &IncidentDoc, now: DeviceTime) -> Vec<Notice> {
    let view = doc.view(&cfg(), now).unwrap();
    notify::owed(&view, &cfg(), &directory(), now, LINK)
}

fn find<'a>(notices: &'a [Notice], prefix: &str) -> Option<&'a Notice> {
    notices.iter().find(|n| n.key.starts_with(prefix))
}

fn emails(n: &Notice) -> Vec<&str> {
    let mut e: Vec<&str> = n.to.iter().map(|r| r.email.as_str()).collect();
    e.sort();
    e
}

fn keys(notices: &[Notice]) -> Vec<&str> {
    notices.iter().map(|n| n.key.as_str()).collect()
}

#[test]
fn a_p2_tells_the_group_and_on_call_and_a_p3_does_not() {
    let mut doc = logged(); // P2: impact High, urgency Medium; group Messaging.
    let n = owed(&doc, at(2));
    let raised = find(&n, "raised:").expect("a P2 is raised");
    assert_eq!(raised.key, "raised:P2");
    assert_eq!(raised.occasion, Occasion::Raised);
    assert_eq!(
        emails(raised),
        ["ana@example.org", "ben@example.org", "oli@example.org"],
        "the group's members with an address, and the on-call person"
    );
    assert!(raised.subject.starts_with("[P2 High] INC-7F3A-0042"));
    assert!(raised.body.contains(LINK), "{}", raised.body);

    // Lowered to P3, it owes no raise; raised to P1, a new one (the P2 one was sent already).
    ok(&mut doc, "alice", 3, Command::SetImpact(Impact::Medium));
    assert!(find(&owed(&doc, at(4)), "raised:").is_none());
    ok(&mut doc, "alice", 5, Command::SetImpact(Impact::High));
    ok(&mut doc, "alice", 5, Command::SetUrgency(Urgency::High));
    assert_eq!(
        find(&owed(&doc, at(6)), "raised:").unwrap().key,
        "raised:P1"
    );
    ok(&mut doc, "alice", 7, Command::SetMajorIncident(true));
    let major = owed(&doc, at(8));
    let raised = find(&major, "raised:").unwrap();
    assert_eq!(raised.key, "raised:major");
    assert!(raised.subject.starts_with("[Major incident (P1 Critical)]"));
}

#[test]
fn an_assignment_tells_the_assignee_not_the_person_who_made_it_and_each_assignment_is_new() {
    let mut doc = logged();
    // Logged into Messaging with nobody named: the group hears of it, as logged by alice.
    let first = find(&owed(&doc, at(2)), "assigned@").unwrap().clone();
    assert_eq!(first.key, format!("assigned@{}", at(1)));
    assert_eq!(emails(&first), ["ana@example.org", "ben@example.org"]);

    ok(
        &mut doc,
        "Mo Manager",
        10,
        Command::SetAssignee("Ben Ops".into()),
    );
    let to_ben = find(&owed(&doc, at(11)), "assigned@").unwrap().clone();
    assert_eq!(to_ben.key, format!("assigned@{}", at(10)));
    assert_eq!(emails(&to_ben), ["ben@example.org"]);
    assert_eq!(to_ben.to[0].audience, Audience::Assignee);
    assert!(to_ben
        .body
        .starts_with("Mo Manager assigned it to Ben Ops."));

    // Ana takes it herself: nobody else is to be told, so no notice.
    ok(
        &mut doc,
        "Ana Field",
        20,
        Command::SetAssignee("Ana Field".into()),
    );
    assert!(find(&owed(&doc, at(21)), "assigned@").is_none());

    // Back to Ben later: a new occasion, with its own key.
    ok(
        &mut doc,
        "Mo Manager",
        30,
        Command::SetAssignee("Ben Ops".into()),
    );
    let again = find(&owed(&doc, at(31)), "assigned@").unwrap().clone();
    assert_ne!(again.key, to_ben.key);
}

#[test]
fn sla_warnings_at_75_and_breach_go_to_the_assignee_and_the_manager_and_stop_while_on_hold() {
    let mut doc = logged();
    ok(
        &mut doc,
        "Mo Manager",
        2,
        Command::SetAssignee("Ben Ops".into()),
    );
    // P2: respond within 30 minutes of being reported (at 1).
    assert!(find(&owed(&doc, at(1 + 22)), "sla:response").is_none());
    let warned = owed(&doc, at(1 + 23));
    let w = find(&warned, "sla:response:").unwrap();
    assert_eq!(
        (w.key.as_str(), &w.occasion),
        ("sla:response:75", &Occasion::SlaWarning)
    );
    assert_eq!(emails(w), ["ben@example.org", "mo@example.org"]);
    let b = owed(&doc, at(1 + 30));
    let b = find(&b, "sla:response:").unwrap();
    assert_eq!(b.key, "sla:response:breach");
    assert!(
        b.subject.contains("Response target breached"),
        "{}",
        b.subject
    );

    // Work starts (the response), then it waits on a vendor past the resolution target's 75%:
    // a paused clock warns nobody.
    ok(
        &mut doc,
        "Ben Ops",
        40,
        Command::Transition(Action::StartWork),
    );
    ok(
        &mut doc,
        "Ben Ops",
        41,
        Command::Transition(Action::PutOnHold {
            reason: outpost_core::HoldReason::AwaitingVendor,
            note: "Waiting on the mail vendor".into(),
        }),
    );
    let later = owed(&doc, at(1 + 480));
    assert!(find(&later, "sla:").is_none(), "{:?}", keys(&later));
}

#[test]
fn an_overdue_stakeholder_update_reminds_whoever_owes_it_and_the_communication_owner() {
    let mut doc = logged();
    ok(
        &mut doc,
        "Mo Manager",
        2,
        Command::SetAssignee("Ben Ops".into()),
    );
    // P2 stakeholders get an update every 120 minutes from the report (at 1).
    assert!(find(&owed(&doc, at(120)), "update-overdue").is_none());
    let n = owed(&doc, at(122));
    let due = find(&n, "update-overdue@").unwrap();
    assert_eq!(due.key, format!("update-overdue@{}", at(121)));
    assert_eq!(
        emails(due),
        ["ben@example.org", "mo@example.org", "pat@example.org"]
    );
    // An update is posted: nothing is overdue until the next one comes due, with a new key.
    ok(
        &mut doc,
        "Ben Ops",
        125,
        Command::AddNote {
            kind: NoteKind::StatusUpdate,
            body: "Vendor engaged; ETA one hour.".into(),
        },
    );
    assert!(find(&owed(&doc, at(200)), "update-overdue").is_none());
    let next = owed(&doc, at(246));
    assert_eq!(
        find(&next, "update-overdue@").unwrap().key,
        format!("update-overdue@{}", at(245))
    );
}

fn resolve(doc: &mut IncidentDoc, minutes: i64) {
    ok(
        doc,
        "Ben Ops",
        minutes,
        Command::Transition(Action::StartWork),
    );
    ok(
        doc,
        "Ben Ops",
        minutes,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                StandardResolution::SolutionProvided,
            )),
            notes: "Restarted the authentication service.".into(),
        }),
    );
}

#[test]
fn resolution_tells_the_caller_users_and_stakeholders_with_a_summary_and_a_report_is_owed() {
    let mut doc = logged();
    ok(
        &mut doc,
        "Mo Manager",
        2,
        Command::SetAssignee("Ben Ops".into()),
    );
    resolve(&mut doc, 50);
    let n = owed(&doc, at(51));
    let done = find(&n, "resolved@").unwrap();
    assert_eq!(done.key, notify::resolved_key(at(50)));
    assert_eq!(
        emails(done),
        ["dana@example.org", "lee@example.org", "pat@example.org"]
    );
    assert_eq!(done.to[0].audience, Audience::Caller);
    assert!(done
        .body
        .contains("What happened: Multiple departments report failed logins"));
    assert!(done
        .body
        .contains("Impact: high impact on Corporate email, 2 affected users."));
    assert!(done.body.contains("Restarted the authentication service."));
    // A P2 owes a report once resolved; no raise, assignment or SLA notice once it is resolved.
    let report = find(&n, "report-owed").unwrap();
    assert_eq!(
        emails(report),
        ["ben@example.org", "mo@example.org", "pat@example.org"]
    );
    assert_eq!(keys(&n).len(), 2, "{:?}", keys(&n));
}

#[test]
fn the_callers_answer_closes_or_reopens_once_and_an_answer_to_an_old_resolution_is_refused() {
    let mut doc = logged();
    resolve(&mut doc, 50);
    let first = notify::resolved_key(at(50));

    // "Still broken": reopened, with the caller's words as the reason.
    let view = doc.view(&cfg(), at(60)).unwrap();
    let cmds = notify::caller_answer(&view, &first, CallerAnswer::StillBroken).unwrap();
    for c in &cmds {
        ok(&mut doc, "Dana Reyes", 60, c.clone());
    }
    assert_eq!(doc.read().unwrap().state, State::InProgress);

    // The same link again, or "It works now" from the first mail: that resolution is gone.
    let view = doc.view(&cfg(), at(61)).unwrap();
    let stale = notify::caller_answer(&view, &first, CallerAnswer::Works).unwrap_err();
    assert!(stale.to_string().contains("In Progress"), "{stale}");

    // Resolved again: the second mail's "It works now" closes it; after that it is refused.
    ok(
        &mut doc,
        "Ben Ops",
        70,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                StandardResolution::SolutionProvided,
            )),
            notes: "Replaced the certificate too.".into(),
        }),
    );
    let second = notify::resolved_key(at(70));
    let view = doc.view(&cfg(), at(71)).unwrap();
    assert!(notify::caller_answer(&view, &first, CallerAnswer::Works).is_err());
    for c in notify::caller_answer(&view, &second, CallerAnswer::Works).unwrap() {
        ok(&mut doc, "Dana Reyes", 71, c);
    }
    let closed = doc.read().unwrap();
    assert_eq!(closed.state, State::Closed);
    assert!(closed
        .comments
        .last()
        .unwrap()
        .body
        .contains("confirmed the fix"));
    let view = doc.view(&cfg(), at(72)).unwrap();
    assert!(notify::caller_answer(&view, &second, CallerAnswer::StillBroken).is_err());
}

#[test]
fn notices_come_from_the_merged_incident_when_two_devices_worked_it_offline() {
    let mut a = logged();
    let mut b = a.fork();
    // Offline: the manager assigns Ben on one device while Ben resolves on the other.
    ok(
        &mut a,
        "Mo Manager",
        10,
        Command::SetAssignee("Ben Ops".into()),
    );
    resolve(&mut b, 12);
    sync_pair(a.automerge_mut(), b.automerge_mut());
    let n = owed(&a, at(13));
    // Resolved wins the lifecycle: the caller is told, the assignment no longer owes a notice.
    assert!(find(&n, "resolved@").is_some(), "{:?}", keys(&n));
    assert!(find(&n, "assigned@").is_none(), "{:?}", keys(&n));
    assert_eq!(
        keys(&n),
        keys(&owed(&b, at(13))),
        "both devices owe the same notices"
    );
}

#[test]
fn the_device_reminds_its_person_offline_from_the_list_alone_most_pressing_first() {
    let mut doc = logged(); // P2, Messaging, reported at 1, nobody named.
    let id = "automerge:one";
    // The list entry as the device stored it a minute after logging; nothing is recomputed
    // later: the clocks are projected from it.
    let summary_at = |doc: &IncidentDoc, t| doc.view(&cfg(), at(t)).unwrap().summary(id, &cfg(), 0);
    let groups = ["Messaging".to_string()];
    let me = |name, groups, on_call| Me {
        name,
        groups,
        on_call,
    };
    let ana = me("Ana Field", &groups, false);
    let unassigned = [summary_at(&doc, 2)];
    // A new P2 nobody started: the group hears, and whoever is on call, not anyone else.
    let r = notify::reminders(&unassigned, ana, &cfg(), at(10));
    assert_eq!(keys_of(&r), ["raised"]);
    assert_eq!(r[0].title, "INC-7F3A-0042: new P2 High");
    assert_eq!(
        keys_of(&notify::reminders(
            &unassigned,
            me("Oli Call", &[], true),
            &cfg(),
            at(10)
        )),
        ["raised"]
    );
    assert!(notify::reminders(&unassigned, me("Pat Head", &[], false), &cfg(), at(10)).is_empty());
    // Response target (30 min) 75% used at 23.5: the group hears while nobody is named.
    let r = notify::reminders(&unassigned, ana, &cfg(), at(25));
    assert_eq!(keys_of(&r), ["raised", "sla:response:75"]);
    assert!(
        r[1].title.starts_with("INC-7F3A-0042: Response target"),
        "{}",
        r[1].title
    );

    ok(
        &mut doc,
        "Mo Manager",
        3,
        Command::SetAssignee("Ben Ops".into()),
    );
    let assigned = [summary_at(&doc, 4)];
    assert!(
        notify::reminders(&assigned, ana, &cfg(), at(25)).is_empty(),
        "named for Ben, it is no longer the group's to hear"
    );
    // At 50 the update to affected users (hourly for a P2) is due within a quarter hour and the
    // response target is breached: the breach first. At 62 both are past due.
    let ben = me("ben ops", &[], false);
    ok(
        &mut doc,
        "Ben Ops",
        5,
        Command::Transition(Action::StartWork),
    );
    let started = [summary_at(&doc, 6)];
    let r = notify::reminders(&started, ben, &cfg(), at(50));
    assert_eq!(keys_of(&r), [format!("update-due@{}", at(61))]);
    assert!(!r[0].overdue);
    let r = notify::reminders(&assigned, ben, &cfg(), at(50));
    assert_eq!(
        keys_of(&r),
        [
            "raised",
            "sla:response:breach",
            &format!("update-due@{}", at(61))
        ]
    );
    let r = notify::reminders(&started, ben, &cfg(), at(62));
    assert!(r.iter().all(|r| r.overdue), "{r:?}");
    // Resolved: nothing to remind of.
    ok(
        &mut doc,
        "Ben Ops",
        63,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                StandardResolution::SolutionProvided,
            )),
            notes: "Restarted the authentication service.".into(),
        }),
    );
    assert!(notify::reminders(&[summary_at(&doc, 64)], ben, &cfg(), at(200)).is_empty());
}

fn keys_of(r: &[notify::Reminder]) -> Vec<&str> {
    r.iter().map(|r| r.key.as_str()).collect()
}

#[test]
fn a_major_incidents_bridge_link_is_checked_and_goes_into_every_notice() {
    let mut doc = logged();
    let bad = run(
        &mut doc,
        "Mo Manager",
        2,
        Command::SetBridgeLink("teams call at ten".into()),
    )
    .unwrap_err();
    assert!(bad.to_string().contains("starting https://"), "{bad}");
    let bad = run(
        &mut doc,
        "Mo Manager",
        2,
        Command::SetBridgeLink("javascript:alert(1)".into()),
    )
    .unwrap_err();
    assert!(bad.to_string().contains("starting https://"), "{bad}");
    ok(&mut doc, "Mo Manager", 2, Command::SetMajorIncident(true));
    let link = "https://teams.example.org/l/meetup-join/19%3ameeting";
    ok(
        &mut doc,
        "Mo Manager",
        3,
        Command::SetBridgeLink(format!("  {link} ")),
    );
    assert_eq!(doc.read().unwrap().bridge_link, link);
    let n = owed(&doc, at(4));
    assert!(!n.is_empty());
    for notice in &n {
        assert!(
            notice
                .body
                .contains(&format!("Bridge (join the call): {link}")),
            "{}: {}",
            notice.key,
            notice.body
        );
    }
    ok(
        &mut doc,
        "Mo Manager",
        5,
        Command::SetBridgeLink(String::new()),
    );
    assert!(owed(&doc, at(6)).iter().all(|n| !n.body.contains("Bridge")));
}
