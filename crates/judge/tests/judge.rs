//! The judge on real incident documents, as the relay's gate runs it: two people work apart and
//! merge, and whatever the rules refuse is refused whichever program wrote it.

use automerge::sync;
use automerge::{transaction::Transactable, Automerge, ReadDoc, ROOT};
use outpost_core::directory::Person;
use outpost_core::incident::{DetectionSource, NoteKind};
use outpost_core::workspace::{Edit, Setting, WorkspaceDoc};
use outpost_core::{
    Action, Attribution, Command, DevicePrefix, DeviceTime, Impact, IncidentDoc, NewIncident,
    Priority, ReferenceNumber, ResolutionCode, State, Urgency, WorkspaceConfig,
};
use outpost_judge::{IncidentJudge, WorkspaceDocuments};
use outpost_sync::gate::{self, Passage, RefusedChanges};
use outpost_sync::hub::Grant;
use outpost_sync::DocumentId;

fn grant(user: &str, role: &str) -> Grant {
    Grant {
        user: user.into(),
        workspace: "acme".into(),
        role: role.into(),
        device: format!("{user}-phone"),
        groups: Vec::new(),
    }
}

fn by(name: &str, minutes: i64) -> Attribution {
    let at = DeviceTime::parse_rfc3339("2026-11-30T08:30:00Z")
        .unwrap()
        .plus(outpost_core::time::Span::minutes(minutes));
    Attribution::new(name, at)
}

fn run(doc: &mut IncidentDoc, who: &str, minutes: i64, cmd: Command) {
    doc.execute(&cmd, &by(who, minutes), &WorkspaceConfig::default())
        .expect("the app allows it");
}

fn logged() -> IncidentDoc {
    let new = NewIncident {
        title: "Users cannot log in to email".into(),
        description: "Failed logins since 08:30.".into(),
        caller: "Dana Reyes".into(),
        category: "Software".into(),
        subcategory: "Email".into(),
        affected_service: "Corporate email".into(),
        affected_users: vec![],
        detection_source: DetectionSource::UserReport,
        detected_at: None,
        impact: Impact::High,
        urgency: Urgency::Medium,
        assignment_group: "Messaging".into(),
        assignee: String::new(),
        major_incident: false,
    };
    let reference = ReferenceNumber::new(DevicePrefix::new("7F3A").unwrap(), 42);
    IncidentDoc::create(
        &reference,
        &new,
        &by("alice", 0),
        &WorkspaceConfig::default(),
    )
    .unwrap()
}

/// The relay's copy of a document and what each connection was refused.
struct Relay {
    id: DocumentId,
    doc: Automerge,
    refused: RefusedChanges,
    judge: IncidentJudge,
}

impl Relay {
    fn new() -> Relay {
        Relay {
            id: DocumentId::from_random([7; 16]),
            doc: Automerge::new(),
            refused: RefusedChanges::new(),
            judge: IncidentJudge::default(),
        }
    }

    /// The relay's copy of workspace acme's workspace document.
    fn workspace() -> Relay {
        let workspaces = WorkspaceDocuments::default();
        let id = DocumentId::from_random([9; 16]);
        workspaces.insert("acme", id);
        Relay {
            id,
            judge: IncidentJudge::new(workspaces),
            ..Relay::new()
        }
    }

    /// `from` sends everything the relay lacks in one sync message, as `grant`.
    fn deliver(&mut self, from: &Automerge, grant: &Grant) -> Passage {
        let changes = self
            .doc
            .get_changes_added(from)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect::<Vec<_>>();
        let mut message = sync::Message {
            heads: from.get_heads(),
            need: vec![],
            have: vec![],
            changes: changes.into(),
            flags: None,
            version: sync::MessageVersion::V1,
        };
        gate::pass(
            &self.id,
            &mut self.doc,
            &mut message,
            grant,
            &mut self.judge,
            &mut self.refused,
        )
        .expect("a well-formed message")
    }

    fn incident(&self) -> outpost_core::Incident {
        IncidentDoc::from_automerge(self.doc.clone())
            .unwrap()
            .read()
            .unwrap()
    }
}

fn resolved_on_relay() -> (Relay, IncidentDoc) {
    let mut relay = Relay::new();
    let mut doc = logged();
    run(&mut doc, "alice", 1, Command::Transition(Action::StartWork));
    run(
        &mut doc,
        "alice",
        2,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                outpost_core::state::StandardResolution::SolutionProvided,
            )),
            notes: "Renewed the certificate".into(),
        }),
    );
    let passage = relay.deliver(doc.automerge(), &grant("alice", "agent"));
    assert_eq!(passage.accepted.len(), 3);
    (relay, doc)
}

#[test]
fn an_agent_reopening_offline_while_a_manager_closes_are_both_kept_as_a_conflict() {
    let (mut relay, resolved) = resolved_on_relay();
    let mut agent = resolved.fork();
    let mut manager = resolved.fork();
    run(
        &mut agent,
        "alice",
        5,
        Command::Transition(Action::Reopen {
            reason: "Still failing for finance".into(),
        }),
    );
    run(&mut manager, "mona", 6, Command::Transition(Action::Close));
    assert!(relay
        .deliver(manager.automerge(), &grant("mona", "manager"))
        .refused
        .is_none());
    // Alice's reopen reaches a relay where the incident is closed, but she reopened what she saw,
    // a resolved incident: kept.
    let passage = relay.deliver(agent.automerge(), &grant("alice", "agent"));
    assert_eq!(passage.refused, None);
    let merged = IncidentDoc::from_automerge(relay.doc.clone()).unwrap();
    let conflicts = merged.conflicts();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, outpost_core::Field::State);
}

#[test]
fn an_agents_close_is_refused_and_a_managers_kept() {
    let (mut relay, resolved) = resolved_on_relay();
    let mut doc = resolved.fork();
    run(&mut doc, "alice", 5, Command::Transition(Action::Close));
    let refused = relay
        .deliver(doc.automerge(), &grant("alice", "agent"))
        .refused
        .expect("refused");
    assert_eq!(refused.reason, "Closing needs the manager role");
    assert_eq!(relay.incident().state, State::Resolved);
    // The same bytes from a manager's token are kept.
    let mut relay_for_manager = Relay::new();
    relay_for_manager.deliver(resolved.automerge(), &grant("alice", "agent"));
    let passage = relay_for_manager.deliver(doc.automerge(), &grant("mona", "manager"));
    assert_eq!(passage.refused, None);
    assert_eq!(relay_for_manager.incident().state, State::Closed);
}

#[test]
fn deleting_a_note_is_refused_whoever_sends_it() {
    let mut relay = Relay::new();
    let mut doc = logged();
    run(
        &mut doc,
        "alice",
        1,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "Gateway restarted".into(),
        },
    );
    relay.deliver(doc.automerge(), &grant("alice", "agent"));
    let mut tampered = doc.automerge().clone();
    let notes = tampered.get(ROOT, "work_notes").unwrap().unwrap().1;
    let mut tx = tampered.transaction();
    tx.delete(&notes, 0).unwrap();
    tx.commit();
    let refused = relay
        .deliver(&tampered, &grant("root", "admin"))
        .refused
        .expect("refused");
    assert_eq!(
        refused.reason,
        "Work notes cannot be edited or deleted once written"
    );
    assert_eq!(relay.incident().work_notes.len(), 1);
}

#[test]
fn a_viewer_and_an_unknown_role_are_refused_everything() {
    let mut relay = Relay::new();
    let doc = logged();
    let refused = relay
        .deliver(doc.automerge(), &grant("val", "viewer"))
        .refused;
    assert_eq!(
        refused.unwrap().reason,
        "Changing an incident needs the agent role"
    );
    let refused = relay
        .deliver(doc.automerge(), &grant("x", "superuser"))
        .refused;
    assert!(refused.unwrap().reason.contains("superuser"));
    assert!(relay.doc.get_heads().is_empty(), "nothing was kept");
}

#[test]
fn a_note_in_someone_elses_name_is_kept_and_the_delivering_token_is_known() {
    // The change's recorded author is whatever the device wrote; the relay records who delivered
    // it, and the timeline shows both when they differ.
    let mut relay = Relay::new();
    let doc = logged();
    relay.deliver(doc.automerge(), &grant("alice", "agent"));
    let mut forged = doc.fork();
    run(
        &mut forged,
        "the CEO",
        3,
        Command::AddNote {
            kind: NoteKind::Comment,
            body: "Approved".into(),
        },
    );
    let passage = relay.deliver(forged.automerge(), &grant("mallory", "agent"));
    assert_eq!(passage.refused, None);
    let record = forged
        .history()
        .into_iter()
        .find(|r| r.change == passage.accepted[0].to_string())
        .expect("the accepted change is in the history");
    assert_eq!(record.by, "the CEO");
}

#[test]
fn an_agent_resolving_offline_while_a_manager_resolves_and_closes_are_both_kept() {
    let mut relay = Relay::new();
    let mut base = logged();
    run(
        &mut base,
        "alice",
        1,
        Command::Transition(Action::StartWork),
    );
    relay.deliver(base.automerge(), &grant("alice", "agent"));
    let (mut agent, mut manager) = (base.fork(), base.fork());
    let resolve = |notes: &str| {
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                outpost_core::state::StandardResolution::SolutionProvided,
            )),
            notes: notes.into(),
        })
    };
    run(&mut agent, "alice", 5, resolve("Rebooted the controller"));
    run(&mut manager, "mona", 6, resolve("Replaced the controller"));
    run(&mut manager, "mona", 7, Command::Transition(Action::Close));
    assert_eq!(
        relay
            .deliver(manager.automerge(), &grant("mona", "manager"))
            .refused,
        None
    );
    // The agent resolved what she saw, an incident in progress: kept, though it is closed now.
    assert_eq!(
        relay
            .deliver(agent.automerge(), &grant("alice", "agent"))
            .refused,
        None
    );
    let merged = IncidentDoc::from_automerge(relay.doc.clone()).unwrap();
    let fields: Vec<_> = merged.conflicts().iter().map(|c| c.field).collect();
    assert!(fields.contains(&outpost_core::Field::State), "{fields:?}");
}

fn member(user: &str, groups: &[&str]) -> Grant {
    Grant {
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..grant(user, "agent")
    }
}

#[test]
fn a_restricted_incident_names_its_readers_and_nobody_restricts_themselves_out() {
    use outpost_sync::gate::Judge;
    let mut relay = Relay::new();
    let mut doc = logged();
    relay.deliver(doc.automerge(), &grant("alice", "agent"));
    assert_eq!(IncidentJudge::default().readers(&relay.doc), None);

    // Sam, of security, restricts it to security: kept, and the relay reads who may see it.
    run(
        &mut doc,
        "sam",
        1,
        Command::RestrictTo(vec!["security".into()]),
    );
    let passage = relay.deliver(doc.automerge(), &member("sam", &["security"]));
    assert_eq!((passage.accepted.len(), passage.refused), (1, None));
    assert_eq!(
        IncidentJudge::default().readers(&relay.doc),
        Some(vec!["security".to_string()])
    );
    assert_eq!(relay.incident().restricted_to, vec!["security"]);

    // Sam restricting it to legal alone would shut him out: refused, with the reason.
    let mut out = doc.fork();
    run(
        &mut out,
        "sam",
        2,
        Command::RestrictTo(vec!["legal".into()]),
    );
    let passage = relay.deliver(out.automerge(), &member("sam", &["security"]));
    let refused = passage.refused.expect("refused");
    assert!(
        refused.reason.contains("would leave you unable to read it"),
        "{}",
        refused.reason
    );
    assert_eq!(relay.incident().restricted_to, vec!["security"]);

    // A hostile peer writing a number instead of names restricts rather than opens it.
    let mut hostile = relay.doc.fork();
    let mut tx = hostile.transaction();
    tx.put(ROOT, "restricted_to", 7).unwrap();
    tx.commit();
    assert!(IncidentJudge::default().readers(&hostile).is_some());
}

/// The workspace document: admins change it, nobody else, and never into something unreadable;
/// the same edit at any other document id is just a document.
#[test]
fn only_admins_change_the_workspace_document() {
    let mut relay = Relay::workspace();
    let mut agent_copy = WorkspaceDoc::new();
    let p2 = outpost_core::sla::SlaTarget::new(30, 240, outpost_core::sla::CalendarChoice::Always);
    agent_copy
        .apply(
            &[Edit::Set(Setting::Sla(Priority::P2, p2.clone()))],
            &by("ana", 0),
        )
        .unwrap();
    let passage = relay.deliver(agent_copy.automerge(), &grant("ana", "agent"));
    assert!(passage.accepted.is_empty());
    assert_eq!(
        passage.refused.unwrap().reason,
        "Changing the workspace needs the admin role"
    );
    // A manager neither.
    let passage = relay.deliver(agent_copy.automerge(), &grant("mo", "manager"));
    assert!(passage.accepted.is_empty());

    let mut admin_copy = WorkspaceDoc::new();
    admin_copy
        .apply(
            &[
                Edit::Set(Setting::Sla(Priority::P2, p2)),
                Edit::Set(Setting::Person(Person {
                    name: "Ana Lima".into(),
                    ..Person::default()
                })),
            ],
            &by("root", 0),
        )
        .unwrap();
    let passage = relay.deliver(admin_copy.automerge(), &grant("root", "admin"));
    assert_eq!(passage.accepted.len(), 1, "{:?}", passage.refused);
    let stored = WorkspaceDoc::from_automerge(relay.doc.clone()).read();
    assert_eq!(
        stored.config.sla.target(Priority::P2).resolution_minutes,
        240
    );

    // Even an admin's change must leave a readable workspace.
    let mut bad = relay.doc.fork();
    let mut tx = bad.transaction();
    tx.put(ROOT, "sla.P3", "{\"response_minutes\": 0}").unwrap();
    tx.commit();
    let passage = relay.deliver(&bad, &grant("root", "admin"));
    assert!(passage.accepted.is_empty());
    assert!(
        passage
            .refused
            .as_ref()
            .unwrap()
            .reason
            .starts_with("This change to the workspace was refused"),
        "{:?}",
        passage.refused
    );

    // The agent's edit at any other id is no workspace document of this workspace.
    let mut elsewhere = Relay::new();
    let passage = elsewhere.deliver(agent_copy.automerge(), &grant("ana", "agent"));
    assert_eq!(passage.accepted.len(), 1);
}
