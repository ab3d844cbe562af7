//! The rules every change must pass at the relay, on real documents: the incident as the
//! change's author saw it against the incident with the change applied.

mod common;

use common::*;
use outpost_core::admission::{admit, Refusal};
use outpost_core::automerge::transaction::Transactable;
use outpost_core::automerge::{ObjType, ReadDoc, ROOT};
use outpost_core::incident::{NoteKind, ReviewSection};
use outpost_core::role::Role;
use outpost_core::{Action, Command, Incident, IncidentDoc, ResolutionCode, State};

fn resolve() -> Command {
    Command::Transition(Action::Resolve {
        code: Some(ResolutionCode::WorkaroundProvided),
        notes: "Restarted the mail gateway".into(),
    })
}

fn note(body: &str) -> Command {
    Command::AddNote {
        kind: NoteKind::WorkNote,
        body: body.into(),
    }
}

/// The incident before and after `cmd`, run by someone who may run anything.
fn step(doc: &mut IncidentDoc, cmd: Command) -> (Incident, Incident) {
    let before = doc.read().unwrap();
    ok(doc, "alice", 5, cmd);
    (before, doc.read().unwrap())
}

fn judged(role: Role, doc: &mut IncidentDoc, cmd: Command) -> Result<(), Refusal> {
    let (before, after) = step(doc, cmd);
    admit(role, Some(&before), &after)
}

fn resolved() -> IncidentDoc {
    let mut doc = logged();
    ok(&mut doc, "alice", 2, Command::Transition(Action::StartWork));
    ok(&mut doc, "alice", 3, resolve());
    doc
}

fn closed() -> IncidentDoc {
    let mut doc = resolved();
    ok(&mut doc, "mona", 4, Command::Transition(Action::Close));
    doc
}

/// Writes straight into the Automerge document, as a program that ignores our rules would.
fn tamper(
    doc: &mut IncidentDoc,
    edit: impl FnOnce(&mut outpost_core::automerge::transaction::Transaction),
) -> (Incident, Result<Incident, outpost_core::schema::ReadError>) {
    let before = doc.read().unwrap();
    let mut tx = doc.automerge_mut().transaction();
    edit(&mut tx);
    tx.commit();
    (before, doc.read())
}

#[test]
fn an_agent_works_an_incident_from_logging_to_resolution() {
    let doc = logged();
    assert_eq!(admit(Role::Agent, None, &doc.read().unwrap()), Ok(()));
    let mut doc = logged();
    for cmd in [
        Command::Transition(Action::StartWork),
        note("Checked the gateway"),
        Command::SetAssignee("bob".into()),
        resolve(),
        Command::Transition(Action::Reopen {
            reason: "Still failing".into(),
        }),
    ] {
        assert_eq!(
            judged(Role::Agent, &mut doc, cmd.clone()),
            Ok(()),
            "{cmd:?}"
        );
    }
}

#[test]
fn a_viewer_changes_nothing_not_even_a_note() {
    let mut doc = logged();
    let refusal = judged(Role::Viewer, &mut doc, note("hello")).unwrap_err();
    assert_eq!(
        refusal.sentence(),
        "Changing an incident needs the agent role"
    );
    assert!(admit(Role::Viewer, None, &logged().read().unwrap()).is_err());
}

#[test]
fn closing_canceling_and_major_incidents_need_a_manager() {
    let mut doc = resolved();
    let refusal = judged(
        Role::Agent,
        &mut doc.fork(),
        Command::Transition(Action::Close),
    );
    assert_eq!(
        refusal.unwrap_err().sentence(),
        "Closing needs the manager role"
    );
    assert_eq!(
        judged(Role::Manager, &mut doc, Command::Transition(Action::Close)),
        Ok(())
    );
    let cancel = Command::Transition(Action::Cancel {
        reason: "Duplicate".into(),
    });
    assert!(judged(Role::Agent, &mut logged(), cancel.clone()).is_err());
    assert_eq!(judged(Role::Admin, &mut logged(), cancel), Ok(()));
    let major = judged(Role::Agent, &mut logged(), Command::SetMajorIncident(true));
    assert_eq!(
        major.unwrap_err().sentence(),
        "Declaring a major incident needs the manager role"
    );
}

#[test]
fn a_closed_incident_takes_only_its_review_and_only_from_a_manager() {
    let review = Command::UpdateReview {
        section: ReviewSection::RootCause,
        text: "Expired certificate".into(),
    };
    assert_eq!(judged(Role::Manager, &mut closed(), review.clone()), Ok(()));
    assert_eq!(
        judged(Role::Agent, &mut closed(), review)
            .unwrap_err()
            .sentence(),
        "Editing a closed incident's review needs the manager role"
    );
    // The app refuses a note on a closed incident, so write it as another program would.
    let mut doc = closed();
    let (before, after) = tamper(&mut doc, |tx| {
        tx.put(ROOT, "title", "Rewritten after closure").unwrap();
    });
    assert_eq!(
        admit(Role::Admin, Some(&before), &after.unwrap()),
        Err(Refusal::ReadOnly {
            state: State::Closed
        })
    );
}

#[test]
fn a_note_once_written_is_never_edited_or_deleted() {
    let mut doc = logged();
    ok(&mut doc, "alice", 2, note("First look"));
    let list = |doc: &IncidentDoc| doc.automerge().get(ROOT, "work_notes").unwrap().unwrap().1;
    let notes = list(&doc);
    let (before, after) = tamper(&mut doc.fork(), |tx| tx.delete(&notes, 0).unwrap());
    assert_eq!(
        admit(Role::Admin, Some(&before), &after.unwrap()),
        Err(Refusal::NoteRewritten {
            kind: NoteKind::WorkNote
        })
    );
    let (before, after) = tamper(&mut doc, |tx| {
        let first = tx.get(&notes, 0).unwrap().unwrap().1;
        tx.put(&first, "body", "Nothing to see").unwrap();
    });
    assert!(matches!(
        admit(Role::Admin, Some(&before), &after.unwrap()),
        Err(Refusal::NoteRewritten { .. })
    ));
}

#[test]
fn the_reference_and_creation_record_are_fixed() {
    for (key, value) in [("reference", "INC-7F3A-0001"), ("reported_by", "mallory")] {
        let (before, after) = tamper(&mut logged(), |tx| tx.put(ROOT, key, value).unwrap());
        assert_eq!(
            admit(Role::Admin, Some(&before), &after.unwrap()),
            Err(Refusal::CreationChanged),
            "{key}"
        );
    }
}

#[test]
fn the_lifecycle_holds_whatever_program_wrote_the_change() {
    // New straight to Closed, Resolved back to New, and Resolved without a resolution code.
    let (before, after) = tamper(&mut logged(), |tx| tx.put(ROOT, "state", "closed").unwrap());
    assert!(matches!(
        admit(Role::Admin, Some(&before), &after.unwrap()),
        Err(Refusal::Transition { .. })
    ));
    let (before, after) = tamper(&mut resolved(), |tx| tx.put(ROOT, "state", "new").unwrap());
    assert!(matches!(
        admit(Role::Admin, Some(&before), &after.unwrap()),
        Err(Refusal::Transition { .. })
    ));
    let (before, after) = tamper(&mut logged(), |tx| {
        tx.put(ROOT, "state", "resolved").unwrap()
    });
    assert!(matches!(
        admit(Role::Admin, Some(&before), &after.unwrap()),
        Err(Refusal::Transition { .. })
    ));
}

#[test]
fn logging_an_incident_already_closed_or_major_needs_more_than_an_agent() {
    let mut doc = logged();
    let mut tx = doc.automerge_mut().transaction();
    tx.put(ROOT, "major_incident", true).unwrap();
    tx.commit();
    let incident = doc.read().unwrap();
    assert!(admit(Role::Agent, None, &incident).is_err());
    assert_eq!(admit(Role::Manager, None, &incident), Ok(()));
    let mut doc = logged();
    let mut tx = doc.automerge_mut().transaction();
    tx.put(ROOT, "state", "closed").unwrap();
    let _ = tx.put_object(ROOT, "extra", ObjType::Map).unwrap();
    tx.commit();
    assert!(admit(Role::Admin, None, &doc.read().unwrap()).is_err());
}
