//! The rules every change must pass at the relay, on real documents: the incident as the
//! change's author saw it against the incident with the change applied.

mod common;

use common::*;
use outpost_core::admission::{admit, admit_change, Refusal};
use outpost_core::automerge::marks::{ExpandMark, Mark};
use outpost_core::automerge::transaction::Transactable;
use outpost_core::automerge::{Automerge, ChangeHash};
use outpost_core::automerge::{ObjType, ReadDoc, ROOT};
use outpost_core::incident::{NoteKind, ReviewSection};
use outpost_core::role::Role;
use outpost_core::{Action, Command, IncidentDoc, ResolutionCode, State};

fn resolve() -> Command {
    Command::Transition(Action::Resolve {
        code: Some(ResolutionCode::standard(
            outpost_core::state::StandardResolution::WorkaroundProvided,
        )),
        notes: "Restarted the mail gateway".into(),
    })
}

fn note(body: &str) -> Command {
    Command::AddNote {
        kind: NoteKind::WorkNote,
        body: body.into(),
    }
}

/// Judges the change that took `doc` from `before` to its heads for `role`, both ways the rules
/// can be asked: between two sets of heads (Automerge's diff) and for the one change (its
/// operations, the relay's judge). They must agree.
fn both(role: Role, doc: &Automerge, before: &[ChangeHash]) -> Result<(), Refusal> {
    let between = admit(role, doc, before, &doc.get_heads());
    let changes = doc.get_changes(before);
    if let [change] = changes.as_slice() {
        assert_eq!(
            admit_change(role, doc, change),
            between,
            "judged by its operations and by the diff"
        );
    }
    between
}

/// Runs `cmd` (as someone who may run anything) and judges the change it made for `role`.
fn judged(role: Role, doc: &mut IncidentDoc, cmd: Command) -> Result<(), Refusal> {
    let before = doc.automerge().get_heads();
    ok(doc, "alice", 5, cmd);
    both(role, doc.automerge(), &before)
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

/// Writes straight into the Automerge document, as a program that ignores our rules would, and
/// judges that change for `role`.
fn tamper(
    role: Role,
    doc: &mut IncidentDoc,
    edit: impl FnOnce(&mut outpost_core::automerge::transaction::Transaction),
) -> Result<(), Refusal> {
    let before = doc.automerge().get_heads();
    let mut tx = doc.automerge_mut().transaction();
    edit(&mut tx);
    tx.commit();
    both(role, doc.automerge(), &before)
}

fn logging(role: Role, doc: &IncidentDoc) -> Result<(), Refusal> {
    both(role, doc.automerge(), &[])
}

#[test]
fn an_agent_works_an_incident_from_logging_to_resolution() {
    assert_eq!(logging(Role::Agent, &logged()), Ok(()));
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
    let refusal = judged(Role::Viewer, &mut logged(), note("hello")).unwrap_err();
    assert_eq!(
        refusal.sentence(),
        "Changing an incident needs the agent role"
    );
    assert!(logging(Role::Viewer, &logged()).is_err());
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
    // The app refuses this on a closed incident, so write it as another program would.
    let refusal = tamper(Role::Admin, &mut closed(), |tx| {
        tx.put(ROOT, "title", "Rewritten after closure").unwrap();
    });
    assert_eq!(
        refusal,
        Err(Refusal::ReadOnly {
            state: State::Closed
        })
    );
}

#[test]
fn a_note_once_written_is_never_edited_or_deleted() {
    let mut doc = logged();
    ok(&mut doc, "alice", 2, note("First look"));
    let notes = doc.automerge().get(ROOT, "work_notes").unwrap().unwrap().1;
    let deleted = tamper(Role::Admin, &mut doc.fork(), |tx| {
        tx.delete(&notes, 0).unwrap()
    });
    assert_eq!(
        deleted,
        Err(Refusal::NoteRewritten {
            kind: NoteKind::WorkNote
        })
    );
    let edited = tamper(Role::Admin, &mut doc, |tx| {
        let first = tx.get(&notes, 0).unwrap().unwrap().1;
        tx.put(&first, "body", "Nothing to see").unwrap();
    });
    assert!(matches!(edited, Err(Refusal::NoteRewritten { .. })));
}

#[test]
fn the_reference_and_creation_record_are_fixed() {
    for (key, value) in [("reference", "INC-7F3A-0001"), ("reported_by", "mallory")] {
        let refusal = tamper(Role::Admin, &mut logged(), |tx| {
            tx.put(ROOT, key, value).unwrap()
        });
        assert_eq!(refusal, Err(Refusal::CreationChanged), "{key}");
    }
    let older = tamper(Role::Admin, &mut logged(), |tx| {
        tx.put(ROOT, "schema", 0).unwrap()
    });
    assert!(older.is_err());
    let gone = tamper(Role::Admin, &mut logged(), |tx| {
        tx.delete(ROOT, "type").unwrap()
    });
    assert!(matches!(gone, Err(Refusal::NotAnIncident(_))));
}

#[test]
fn the_lifecycle_holds_whatever_program_wrote_the_change() {
    // New straight to Closed, Resolved back to New, and Resolved without a resolution code.
    for (mut doc, state) in [
        (logged(), "closed"),
        (resolved(), "new"),
        (logged(), "resolved"),
    ] {
        let refusal = tamper(Role::Admin, &mut doc, |tx| {
            tx.put(ROOT, "state", state).unwrap()
        });
        assert!(
            matches!(refusal, Err(Refusal::Transition { .. })),
            "{state}"
        );
    }
}

#[test]
fn logging_an_incident_already_closed_or_major_needs_more_than_an_agent() {
    let mut doc = logged();
    let mut tx = doc.automerge_mut().transaction();
    tx.put(ROOT, "major_incident", true).unwrap();
    tx.commit();
    assert!(logging(Role::Agent, &doc).is_err());
    assert_eq!(logging(Role::Manager, &doc), Ok(()));
    let mut doc = logged();
    let mut tx = doc.automerge_mut().transaction();
    tx.put(ROOT, "state", "closed").unwrap();
    let _ = tx.put_object(ROOT, "extra", ObjType::Map).unwrap();
    tx.commit();
    assert!(logging(Role::Admin, &doc).is_err());
    // An empty first change, as automerge-repo's `create()` writes, is harmless.
    let mut empty = Automerge::new();
    empty.transaction().commit();
    let mut tx = empty.transaction();
    tx.put(ROOT, "x", 1).unwrap();
    tx.delete(ROOT, "x").unwrap();
    tx.commit();
    assert_eq!(admit(Role::Agent, &empty, &[], &empty.get_heads()), Ok(()));
}

#[test]
fn a_state_conflict_on_a_closed_incident_is_settled_by_a_manager_either_way() {
    // An agent resolves offline while a manager closes: both were made in good faith.
    let mut manager = resolved();
    let mut agent = manager.fork();
    ok(
        &mut agent,
        "alice",
        6,
        Command::Transition(Action::Reopen {
            reason: "Still failing".into(),
        }),
    );
    ok(&mut manager, "mona", 6, Command::Transition(Action::Close));
    manager.merge(&mut agent).unwrap();
    assert_eq!(manager.conflicts().len(), 1);
    let shown = manager.read().unwrap().state;
    for (value, role, kept) in [
        (State::InProgress, Role::Manager, true),
        (State::Closed, Role::Manager, true),
        (State::Closed, Role::Agent, false),
    ] {
        let mut doc = manager.fork();
        let settle = Command::SettleConflict {
            field: outpost_core::Field::State,
            value: outpost_core::FieldValue::Text(value.key()),
        };
        assert_eq!(
            judged(role, &mut doc, settle).is_ok(),
            kept,
            "settling {value} (shown: {shown}) as {role:?}"
        );
    }
}

#[test]
fn discarding_refused_changes_drops_them_and_what_builds_on_them_and_keeps_the_rest() {
    let mut relay = resolved();
    let mut device = relay.fork();
    ok(&mut device, "alice", 6, note("Rebooted the gateway"));
    let kept_heads = device.automerge().get_heads();
    ok(&mut device, "alice", 7, Command::Transition(Action::Close));
    let refused = device.automerge().get_heads();
    let after_close = Command::UpdateReview {
        section: ReviewSection::Overview,
        text: "Closed it myself".into(),
    };
    ok(&mut device, "alice", 8, after_close);
    // Meanwhile someone else's change arrived: it is not the device's to discard.
    ok(&mut relay, "bob", 7, Command::SetAssignee("bob".into()));
    device.merge(&mut relay.fork()).unwrap();

    let (back, text) = device.without(&refused).unwrap();
    let incident = back.read().unwrap();
    assert_eq!(incident.state, State::Resolved, "the close is gone");
    assert_eq!(incident.assignee, "bob", "the colleague's change stays");
    let notes: Vec<&str> = incident
        .work_notes
        .iter()
        .map(|n| n.body.as_str())
        .collect();
    assert!(notes.contains(&"Rebooted the gateway"));
    assert_eq!(incident.review.overview, "", "built on the refused change");
    assert!(
        text.iter().any(|t| t.contains("Closed it myself")),
        "{text:?}"
    );
    assert!(text.iter().any(|t| t.contains("closed")), "{text:?}");
    assert!(back
        .automerge()
        .get_change_by_hash(&kept_heads[0])
        .is_some());
    assert_ne!(back.automerge().get_actor(), device.automerge().get_actor());
}

#[test]
fn edits_inside_what_exists_are_placed_by_their_path_however_they_are_written() {
    // Every case runs through `both`: the relay's reading of the change's operations and the
    // diff must agree, including for changes no Outpost device writes.
    let mut doc = logged();
    let notes = doc.automerge().get(ROOT, "work_notes").unwrap().unwrap().1;
    // A note written by hand with collaborative text, as JavaScript peers write strings:
    // appending is allowed, whatever is inside the new note.
    let appended = tamper(Role::Agent, &mut doc, |tx| {
        let new = tx.insert_object(&notes, 0, ObjType::Map).unwrap();
        tx.put(&new, "author", "alice").unwrap();
        let text = tx.put_object(&new, "body", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, "First look").unwrap();
    });
    assert_eq!(appended, Ok(()));
    let first = doc.automerge().get(&notes, 0).unwrap().unwrap().1;
    let body = doc.automerge().get(&first, "body").unwrap().unwrap().1;
    let rewritten = Err(Refusal::NoteRewritten {
        kind: NoteKind::WorkNote,
    });
    // Typing into the old note's text, or marking it.
    let typed = tamper(Role::Admin, &mut doc.fork(), |tx| {
        tx.splice_text(&body, 0, 0, "Not ").unwrap();
    });
    assert_eq!(typed, rewritten);
    let marked = tamper(Role::Admin, &mut doc.fork(), |tx| {
        let mark = Mark::new("bold".into(), true, 0, 5);
        tx.mark(&body, mark, ExpandMark::None).unwrap();
    });
    assert_eq!(marked, rewritten);
    // A new note, and in the same change a word into the old one.
    let sneaked = tamper(Role::Admin, &mut doc.fork(), |tx| {
        let new = tx.insert_object(&notes, 1, ObjType::Map).unwrap();
        tx.put(&new, "author", "mallory").unwrap();
        tx.splice_text(&body, 0, 0, "Not ").unwrap();
    });
    assert_eq!(sneaked, rewritten);
    // The lists and maps themselves cannot be replaced.
    for key in ["work_notes", "review", "affected_users"] {
        let replaced = tamper(Role::Admin, &mut doc.fork(), |tx| {
            tx.put_object(ROOT, key, ObjType::Map).unwrap();
        });
        assert_eq!(replaced, Err(Refusal::Skeleton), "{key}");
    }
    // A title held as collaborative text, then the incident closed: a word into the title, an
    // affected user and a review section written by hand are refused.
    let mut doc = logged();
    let retitled = tamper(Role::Agent, &mut doc, |tx| {
        let title = tx.put_object(ROOT, "title", ObjType::Text).unwrap();
        tx.splice_text(&title, 0, 0, "Mail gateway down").unwrap();
    });
    assert_eq!(retitled, Ok(()));
    ok(&mut doc, "alice", 2, Command::Transition(Action::StartWork));
    ok(&mut doc, "alice", 3, resolve());
    ok(&mut doc, "mona", 4, Command::Transition(Action::Close));
    let read_only = Err(Refusal::ReadOnly {
        state: State::Closed,
    });
    let title = doc.automerge().get(ROOT, "title").unwrap().unwrap().1;
    let typed = tamper(Role::Admin, &mut doc.fork(), |tx| {
        tx.splice_text(&title, 0, 0, "Old: ").unwrap();
    });
    assert_eq!(typed, read_only);
    let users = doc
        .automerge()
        .get(ROOT, "affected_users")
        .unwrap()
        .unwrap()
        .1;
    let added = tamper(Role::Admin, &mut doc.fork(), |tx| {
        tx.put(&users, "mallory", true).unwrap();
    });
    assert_eq!(added, read_only);
    let review = doc.automerge().get(ROOT, "review").unwrap().unwrap().1;
    let reviewed = tamper(Role::Agent, &mut doc, |tx| {
        tx.put(&review, "overview", "Written by hand").unwrap();
    });
    assert!(matches!(reviewed, Err(Refusal::Role(_))), "{reviewed:?}");
}
