//! Who may read an incident: restricting it to groups, and what concurrent restrictions mean.

mod common;

use common::*;
use outpost_core::access::{parse_groups, Readers, MAX_GROUPS};
use outpost_core::{Command, CommandError, Outcome};

fn restrict(groups: &[&str]) -> Command {
    Command::RestrictTo(groups.iter().map(|g| g.to_string()).collect())
}

fn groups(names: &[&str]) -> Readers {
    Readers::Groups(names.iter().map(|g| g.to_string()).collect())
}

#[test]
fn an_incident_is_readable_by_everyone_until_restricted() {
    let mut doc = logged();
    assert_eq!(Readers::of(doc.automerge()), Readers::Everyone);
    assert!(Readers::of(doc.automerge()).admit::<&str>(&[]));
    ok(
        &mut doc,
        "alice",
        2,
        restrict(&[" security ", "network", "security"]),
    );
    let readers = Readers::of(doc.automerge());
    assert_eq!(readers, groups(&["network", "security"]));
    assert!(readers.admit(&["security"]));
    assert!(readers.admit(&["desk", "network"]));
    assert!(!readers.admit(&["desk"]));
    assert!(!readers.admit::<&str>(&[]));
    let incident = doc.view(&cfg(), at(3)).unwrap().incident;
    assert_eq!(incident.restricted_to, vec!["network", "security"]);
    // Lifting it opens it again.
    ok(&mut doc, "alice", 4, restrict(&[]));
    assert_eq!(Readers::of(doc.automerge()), Readers::Everyone);
}

#[test]
fn lifting_a_restriction_that_was_never_set_changes_nothing() {
    let mut doc = logged();
    let outcome = run(&mut doc, "alice", 2, restrict(&[])).unwrap();
    assert!(matches!(outcome, Outcome::Unchanged), "{outcome:?}");
}

#[test]
fn readers_at_earlier_heads_are_those_of_then() {
    let mut doc = logged();
    let open = doc.automerge().get_heads();
    ok(&mut doc, "alice", 2, restrict(&["security"]));
    assert_eq!(Readers::at(doc.automerge(), &open), Readers::Everyone);
    assert_eq!(
        Readers::at(doc.automerge(), &doc.automerge().get_heads()),
        groups(&["security"])
    );
}

#[test]
fn a_concurrent_lifting_never_opens_a_restricted_incident() {
    let mut a = logged();
    ok(&mut a, "alice", 2, restrict(&["network"]));
    let mut b = a.fork();
    // Offline, at once: Alice adds security, Bob lifts the restriction.
    ok(&mut a, "alice", 3, restrict(&["security"]));
    ok(&mut b, "bob", 3, restrict(&[]));
    a.merge(&mut b).unwrap();
    assert_eq!(Readers::of(a.automerge()), groups(&["security"]));
    let view = a.view(&cfg(), at(4)).unwrap();
    assert!(
        view.conflicts
            .iter()
            .any(|c| c.field.key() == "restricted_to"),
        "the two restrictions are a conflict to settle: {:?}",
        view.conflicts
    );
    assert_eq!(view.incident.restricted_to, vec!["security"]);
}

#[test]
fn concurrent_restrictions_admit_the_groups_of_both() {
    let mut a = logged();
    let mut b = a.fork();
    ok(&mut a, "alice", 2, restrict(&["security"]));
    ok(&mut b, "bob", 2, restrict(&["network"]));
    b.merge(&mut a).unwrap();
    assert_eq!(Readers::of(b.automerge()), groups(&["network", "security"]));
}

#[test]
fn a_restriction_that_cannot_be_stored_is_refused_with_the_reason() {
    let mut doc = logged();
    let refused = |doc: &mut outpost_core::IncidentDoc, cmd| match run(doc, "alice", 2, cmd) {
        Err(CommandError::Invalid(e)) => e.message,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(refused(&mut doc, restrict(&["a,b"])).contains("comma"));
    assert!(refused(&mut doc, restrict(&["line\nbreak"])).contains("line breaks"));
    let many: Vec<String> = (0..=MAX_GROUPS).map(|i| format!("g{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(refused(&mut doc, restrict(&many)).contains(&format!("{MAX_GROUPS} groups")));
    assert_eq!(Readers::of(doc.automerge()), Readers::Everyone);
}

#[test]
fn stored_restrictions_read_tolerantly() {
    assert_eq!(parse_groups(" b, a,,a ,"), vec!["a", "b"]);
    assert!(parse_groups(" , ").is_empty());
}

#[test]
fn a_restriction_written_as_collaborative_text_reads_like_a_string() {
    use outpost_core::automerge::transaction::Transactable;
    use outpost_core::automerge::{ObjType, ROOT};
    let mut doc = logged();
    let mut tx = doc.automerge_mut().transaction();
    let text = tx.put_object(ROOT, "restricted_to", ObjType::Text).unwrap();
    tx.splice_text(&text, 0, 0, "security, legal").unwrap();
    tx.commit();
    assert_eq!(Readers::of(doc.automerge()), groups(&["legal", "security"]));
    let heads = doc.automerge().get_heads();
    assert_eq!(
        Readers::at(doc.automerge(), &heads),
        groups(&["legal", "security"])
    );
}
