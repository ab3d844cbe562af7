//! Two technicians work the same incident while apart, then their copies merge, through
//! `merge` and through the real Automerge sync protocol. Nothing written is lost, and every real
//! conflict is shown until a person settles it.

mod common;

use common::*;
use outpost_core::history::Event;
use outpost_core::incident::NoteKind;
use outpost_core::sla::ClockState;
use outpost_core::{
    Action, Command, CommandError, Field, FieldValue, HoldReason, Impact, Outcome, Priority,
    ResolutionCode, State, Urgency,
};

/// Alice logs it and Bob receives a copy before both go offline.
fn two_devices() -> (outpost_core::IncidentDoc, outpost_core::IncidentDoc) {
    let alice = logged();
    let bob = alice.fork();
    (alice, bob)
}

fn converge(a: &mut outpost_core::IncidentDoc, b: &mut outpost_core::IncidentDoc) {
    sync_pair(a.automerge_mut(), b.automerge_mut());
    assert_eq!(a.automerge().get_heads(), b.automerge().get_heads());
    assert_eq!(a.read().unwrap(), b.read().unwrap());
    assert_eq!(a.conflicts(), b.conflicts());
}

#[test]
fn notes_written_offline_on_both_devices_all_survive() {
    let (mut alice, mut bob) = two_devices();
    for i in 0..3 {
        ok(
            &mut alice,
            "alice",
            10 + i,
            Command::AddNote {
                kind: NoteKind::WorkNote,
                body: format!("alice {i}"),
            },
        );
        ok(
            &mut bob,
            "bob",
            10 + i,
            Command::AddNote {
                kind: NoteKind::WorkNote,
                body: format!("bob {i}"),
            },
        );
    }
    ok(
        &mut bob,
        "bob",
        20,
        Command::AddNote {
            kind: NoteKind::Comment,
            body: "to the caller".into(),
        },
    );
    converge(&mut alice, &mut bob);
    let i = alice.read().unwrap();
    let bodies: Vec<&str> = i.work_notes.iter().map(|n| n.body.as_str()).collect();
    // Ordered by device time; equal times in a stable order.
    assert_eq!(bodies.len(), 6);
    for who in ["alice", "bob"] {
        for n in 0..3 {
            assert!(
                bodies.contains(&format!("{who} {n}").as_str()),
                "{bodies:?}"
            );
        }
    }
    assert!(i.work_notes.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(i.comments.len(), 1);
    assert!(alice.conflicts().is_empty(), "appending never conflicts");
}

#[test]
fn different_values_for_one_field_are_a_conflict_until_settled() {
    let (mut alice, mut bob) = two_devices();
    ok(
        &mut alice,
        "alice",
        10,
        Command::SetAssignee("alice".into()),
    );
    ok(&mut bob, "bob", 11, Command::SetAssignee("bob".into()));
    converge(&mut alice, &mut bob);
    let conflicts = alice.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, Field::Assignee);
    let mut labels = conflicts[0].labels();
    labels.sort();
    assert_eq!(labels, ["alice", "bob"]);

    // Neither value is lost while it is unsettled; an edit writing the shown value does not settle it.
    let shown = alice.read().unwrap().assignee;
    assert_eq!(
        run(&mut alice, "alice", 12, Command::SetAssignee(shown.clone())),
        Ok(Outcome::Unchanged)
    );
    assert_eq!(alice.conflicts().len(), 1);

    // Settling needs one of the values.
    let err = run(
        &mut alice,
        "alice",
        13,
        Command::SettleConflict {
            field: Field::Assignee,
            value: "carol".into(),
        },
    );
    assert_eq!(
        err,
        Err(CommandError::NotAConflictingValue {
            field: Field::Assignee
        })
    );
    let err = run(
        &mut alice,
        "alice",
        13,
        Command::SettleConflict {
            field: Field::Title,
            value: "x".into(),
        },
    );
    assert_eq!(
        err,
        Err(CommandError::NoConflict {
            field: Field::Title
        })
    );

    ok(
        &mut alice,
        "alice",
        14,
        Command::SettleConflict {
            field: Field::Assignee,
            value: "bob".into(),
        },
    );
    assert!(alice.conflicts().is_empty());
    converge(&mut alice, &mut bob);
    assert_eq!(bob.read().unwrap().assignee, "bob");
    assert!(bob.conflicts().is_empty());
    let view = bob.view(&cfg(), at(15)).unwrap();
    assert!(view
        .timeline
        .iter()
        .any(|t| t.summary == "Settled conflicting assignee: kept bob"));
}

#[test]
fn the_same_value_set_on_both_devices_is_not_a_conflict() {
    let (mut alice, mut bob) = two_devices();
    ok(&mut alice, "alice", 10, Command::SetImpact(Impact::Medium));
    ok(&mut bob, "bob", 11, Command::SetImpact(Impact::Medium));
    converge(&mut alice, &mut bob);
    assert!(alice.conflicts().is_empty());
}

#[test]
fn a_new_value_after_seeing_a_conflict_settles_it_too() {
    let (mut alice, mut bob) = two_devices();
    ok(
        &mut alice,
        "alice",
        10,
        Command::SetTitle("Mail down".into()),
    );
    ok(
        &mut bob,
        "bob",
        11,
        Command::SetTitle("Email outage".into()),
    );
    converge(&mut alice, &mut bob);
    assert_eq!(alice.conflicts().len(), 1);
    ok(
        &mut bob,
        "bob",
        12,
        Command::SetTitle("Email outage: login failures".into()),
    );
    converge(&mut alice, &mut bob);
    assert!(alice.conflicts().is_empty());
    assert_eq!(alice.read().unwrap().title, "Email outage: login failures");
}

#[test]
fn impact_and_urgency_raised_apart_give_the_combined_priority() {
    let (mut alice, mut bob) = two_devices(); // Impact High, Urgency Medium: P2
    ok(&mut alice, "alice", 10, Command::SetImpact(Impact::Low)); // alice sees P4
    ok(&mut bob, "bob", 11, Command::SetUrgency(Urgency::Low)); // bob sees P3
    converge(&mut alice, &mut bob);
    assert_eq!(
        alice.read().unwrap().priority(&cfg().priority_matrix),
        Priority::P5
    );
    assert!(
        alice.conflicts().is_empty(),
        "different fields never conflict"
    );
}

#[test]
fn resolve_on_one_device_and_hold_on_the_other_is_a_state_conflict() {
    let (mut alice, mut bob) = two_devices();
    ok(
        &mut alice,
        "alice",
        10,
        Command::Transition(Action::StartWork),
    );
    ok(&mut bob, "bob", 10, Command::Transition(Action::StartWork));
    ok(
        &mut alice,
        "alice",
        20,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                outpost_core::state::StandardResolution::SolutionProvided,
            )),
            notes: "Restarted IMAP.".into(),
        }),
    );
    ok(
        &mut bob,
        "bob",
        25,
        Command::Transition(Action::PutOnHold {
            reason: HoldReason::AwaitingVendor,
            note: "Ticket 991 with the vendor".into(),
        }),
    );
    converge(&mut alice, &mut bob);
    let conflicts = alice.conflicts();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, Field::State);
    let mut labels = conflicts[0].labels();
    labels.sort();
    assert_eq!(labels, ["On Hold (Awaiting Vendor)", "Resolved"]);
    assert_eq!(
        alice.read().unwrap().work_notes.len(),
        1,
        "bob's hold note is kept"
    );

    ok(
        &mut bob,
        "bob",
        40,
        Command::SettleConflict {
            field: Field::State,
            value: FieldValue::Text("resolved".into()),
        },
    );
    converge(&mut alice, &mut bob);
    let view = alice.view(&cfg(), at(60)).unwrap();
    assert_eq!(view.incident.state, State::Resolved);
    assert!(view.conflicts.is_empty());
    // The clock follows device times: running 1→25, paused (on hold) 25→40, resolved at 40.
    assert_eq!(view.sla.resolution.state, ClockState::Completed);
    assert_eq!(
        view.sla.resolution.elapsed().num_minutes(),
        19,
        "1→20 running, resolved 20, held 25, settled resolved 40"
    );
    assert_eq!(
        view.milestones.resolved.as_ref().map(|s| s.by.as_str()),
        Some("bob")
    );
}

#[test]
fn a_note_written_while_someone_else_closed_it_is_kept() {
    let (mut alice, mut bob) = two_devices();
    ok(
        &mut alice,
        "alice",
        10,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                outpost_core::state::StandardResolution::SolutionProvided,
            )),
            notes: "Fixed.".into(),
        }),
    );
    ok(&mut alice, "alice", 11, Command::Transition(Action::Close));
    ok(
        &mut bob,
        "bob",
        12,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "Users on floor 3 still affected".into(),
        },
    );
    converge(&mut alice, &mut bob);
    let i = bob.read().unwrap();
    assert_eq!(i.state, State::Closed);
    assert_eq!(i.work_notes.len(), 1);
    assert_eq!(i.work_notes[0].body, "Users on floor 3 still affected");
    // Now closed, bob's next note is refused with a reason.
    let err = run(
        &mut bob,
        "bob",
        13,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "more".into(),
        },
    );
    assert_eq!(
        err,
        Err(CommandError::ReadOnly {
            state: State::Closed
        })
    );
}

#[test]
fn a_conflict_on_a_closed_incident_can_still_be_settled() {
    let (mut alice, mut bob) = two_devices();
    ok(
        &mut alice,
        "alice",
        10,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                outpost_core::state::StandardResolution::SolutionProvided,
            )),
            notes: "Fixed.".into(),
        }),
    );
    ok(&mut alice, "alice", 11, Command::Transition(Action::Close));
    ok(
        &mut bob,
        "bob",
        12,
        Command::Transition(Action::Cancel {
            reason: "Was a duplicate".into(),
        }),
    );
    converge(&mut alice, &mut bob);
    assert_eq!(alice.conflicts()[0].field, Field::State);
    ok(
        &mut alice,
        "alice",
        20,
        Command::SettleConflict {
            field: Field::State,
            value: "closed".into(),
        },
    );
    assert_eq!(alice.read().unwrap().state, State::Closed);
    assert!(alice.conflicts().is_empty());
}

#[test]
fn the_timeline_interleaves_both_devices_by_device_time() {
    let (mut alice, mut bob) = two_devices();
    ok(
        &mut bob,
        "bob",
        30,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "second".into(),
        },
    );
    ok(
        &mut alice,
        "alice",
        20,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "first".into(),
        },
    );
    ok(
        &mut bob,
        "bob",
        40,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "third".into(),
        },
    );
    converge(&mut alice, &mut bob);
    let view = alice.view(&cfg(), at(50)).unwrap();
    let details: Vec<&str> = view
        .timeline
        .iter()
        .filter_map(|t| t.detail.as_deref())
        .collect();
    assert_eq!(details, ["first", "second", "third"]);
    assert!(matches!(
        alice.history()[0].events[0],
        Event::Created { .. }
    ));
}
