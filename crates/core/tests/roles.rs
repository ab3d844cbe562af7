//! The role table: every command, every role, open and closed incidents, checked against the
//! roles as the product defines them (issue 13), written out here rather than derived.

use outpost_core::incident::{
    DetectionSource, EscalationLevel, ExternalRef, IncidentLink, NoteKind, ReferenceKind,
    ReviewSection,
};
use outpost_core::role::{Capability, Role};
use outpost_core::{
    Action, Command, DeviceTime, Field, FieldValue, HoldReason, Impact, ResolutionCode, State,
    Urgency,
};

/// One command of every kind, with the least role the product gives it on an open incident and
/// on a closed (or canceled) one. They differ only for the review: reviews happen after closure,
/// and a closed incident's review is the manager's. (Whether a closed incident takes the command
/// at all is the lifecycle's rule, not the role table's.)
fn table() -> Vec<(Command, Role, Role)> {
    use Role::*;
    let link = || IncidentLink {
        document_id: "doc".into(),
        reference: "INC-7F3A-0042".into(),
    };
    let problem = || ExternalRef {
        kind: ReferenceKind::Problem,
        id: "PRB-1".into(),
    };
    vec![
        (Command::SetTitle("t".into()), Agent, Agent),
        (Command::SetDescription("d".into()), Agent, Agent),
        (Command::SetCaller("c".into()), Agent, Agent),
        (
            Command::SetCategory {
                category: "Network".into(),
                subcategory: String::new(),
            },
            Agent,
            Agent,
        ),
        (Command::SetAffectedService("mail".into()), Agent, Agent),
        (
            Command::SetBridgeLink("https://meet.example.org/war-room".into()),
            Agent,
            Agent,
        ),
        (
            Command::SetDetectionSource(DetectionSource::Monitoring),
            Agent,
            Agent,
        ),
        (
            Command::SetDetectedAt(DeviceTime::from_millis(0)),
            Agent,
            Agent,
        ),
        (Command::SetImpact(Impact::High), Agent, Agent),
        (Command::SetUrgency(Urgency::High), Agent, Agent),
        (Command::AddAffectedUser("a".into()), Agent, Agent),
        (Command::RemoveAffectedUser("a".into()), Agent, Agent),
        (Command::SetAssignmentGroup("g".into()), Agent, Agent),
        (Command::SetAssignee("p".into()), Agent, Agent),
        (
            Command::SetEscalation(EscalationLevel::Level2),
            Agent,
            Agent,
        ),
        (Command::RestrictTo(vec!["security".into()]), Agent, Agent),
        (Command::SetMajorIncident(true), Manager, Manager),
        (Command::SetMajorIncident(false), Manager, Manager),
        (Command::Transition(Action::StartWork), Agent, Agent),
        (
            Command::Transition(Action::PutOnHold {
                reason: HoldReason::AwaitingVendor,
                note: String::new(),
            }),
            Agent,
            Agent,
        ),
        (
            Command::Transition(Action::Resolve {
                code: Some(ResolutionCode::standard(
                    outpost_core::state::StandardResolution::SolutionProvided,
                )),
                notes: "n".into(),
            }),
            Agent,
            Agent,
        ),
        (
            Command::Transition(Action::Reopen { reason: "r".into() }),
            Agent,
            Agent,
        ),
        (Command::Transition(Action::Close), Manager, Manager),
        (
            Command::Transition(Action::Cancel { reason: "r".into() }),
            Manager,
            Manager,
        ),
        (
            Command::AddNote {
                kind: NoteKind::WorkNote,
                body: "b".into(),
            },
            Agent,
            Agent,
        ),
        (
            Command::AddNote {
                kind: NoteKind::Comment,
                body: "b".into(),
            },
            Agent,
            Agent,
        ),
        (Command::SetParent(Some(link())), Agent, Agent),
        (Command::SetDuplicateOf(None), Agent, Agent),
        (Command::AddReference(problem()), Agent, Agent),
        (Command::RemoveReference(problem()), Agent, Agent),
        (
            Command::UpdateReview {
                section: ReviewSection::RootCause,
                text: "r".into(),
            },
            Agent,
            Manager,
        ),
        (
            Command::SettleConflict {
                field: Field::Assignee,
                value: FieldValue::Text("p".into()),
            },
            Agent,
            Agent,
        ),
        (
            Command::SettleConflict {
                field: Field::MajorIncident,
                value: FieldValue::Flag(true),
            },
            Manager,
            Manager,
        ),
        (
            Command::SettleConflict {
                field: Field::State,
                value: FieldValue::Text("resolved".into()),
            },
            Agent,
            Agent,
        ),
        (
            Command::SettleConflict {
                field: Field::State,
                value: FieldValue::Text("closed".into()),
            },
            Manager,
            Manager,
        ),
        (
            Command::SettleConflict {
                field: Field::ReviewRootCause,
                value: FieldValue::Text("r".into()),
            },
            Agent,
            Manager,
        ),
    ]
}

/// Fails to compile when a command is added without a row above.
#[allow(dead_code)]
fn every_command_has_a_row(cmd: &Command) {
    match cmd {
        Command::SetTitle(_)
        | Command::SetDescription(_)
        | Command::SetCaller(_)
        | Command::SetCategory { .. }
        | Command::SetAffectedService(_)
        | Command::SetBridgeLink(_)
        | Command::SetDetectionSource(_)
        | Command::SetDetectedAt(_)
        | Command::SetImpact(_)
        | Command::SetUrgency(_)
        | Command::AddAffectedUser(_)
        | Command::RemoveAffectedUser(_)
        | Command::SetAssignmentGroup(_)
        | Command::SetAssignee(_)
        | Command::SetEscalation(_)
        | Command::RestrictTo(_)
        | Command::SetMajorIncident(_)
        | Command::Transition(_)
        | Command::AddNote { .. }
        | Command::SetParent(_)
        | Command::SetDuplicateOf(_)
        | Command::AddReference(_)
        | Command::RemoveReference(_)
        | Command::UpdateReview { .. }
        | Command::SettleConflict { .. } => {}
    }
}

#[test]
fn every_role_may_run_exactly_what_the_table_gives_it() {
    for (cmd, open, closed) in table() {
        for (state, least) in [
            (State::New, open),
            (State::InProgress, open),
            (State::Resolved, open),
            (State::Closed, closed),
            (State::Canceled, closed),
        ] {
            for role in Role::ALL.iter().copied() {
                let allowed = role.may(&cmd, state).is_ok();
                assert_eq!(
                    allowed,
                    role >= least,
                    "{role:?} running {cmd:?} on a {state:?} incident"
                );
            }
        }
    }
}

#[test]
fn a_viewer_changes_nothing_and_roles_are_ordered() {
    assert!(!Role::Viewer.can_change());
    assert!(Role::Agent.can_change());
    assert!(
        Role::Viewer < Role::Agent && Role::Agent < Role::Manager && Role::Manager < Role::Admin
    );
    for (cmd, _, _) in table() {
        assert!(Role::Viewer.may(&cmd, State::New).is_err(), "{cmd:?}");
        assert!(Role::Admin.may(&cmd, State::Closed).is_ok(), "{cmd:?}");
    }
}

#[test]
fn refusals_say_what_and_which_role() {
    let refusal = Role::Agent
        .may(&Command::Transition(Action::Close), State::Resolved)
        .unwrap_err();
    assert_eq!(refusal.to_string(), "Closing needs the manager role");
    let refusal = Role::Agent
        .may(&Command::SetMajorIncident(true), State::InProgress)
        .unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "Declaring a major incident needs the manager role"
    );
    let refusal = Role::Viewer
        .may(
            &Command::AddNote {
                kind: NoteKind::WorkNote,
                body: "b".into(),
            },
            State::New,
        )
        .unwrap_err();
    assert_eq!(refusal.to_string(), "Adding a note needs the agent role");
}

#[test]
fn workspace_capabilities_belong_to_admins_and_logging_to_agents() {
    for capability in [
        Capability::ConfigureWorkspace,
        Capability::ManageTokens,
        Capability::ManageIntegrations,
        Capability::ReadAudit,
    ] {
        assert!(Role::Manager.may_do(capability).is_err(), "{capability:?}");
        assert!(Role::Admin.may_do(capability).is_ok(), "{capability:?}");
    }
    assert!(Role::Viewer.may_do(Capability::LogIncident).is_err());
    assert!(Role::Agent.may_do(Capability::LogIncident).is_ok());
    assert_eq!(
        Role::Agent
            .may_do(Capability::ImportIncidents)
            .unwrap_err()
            .to_string(),
        "Importing incidents needs the manager role"
    );
    assert!(Role::Manager.may_do(Capability::ImportIncidents).is_ok());
    assert_eq!(
        Role::Agent
            .may_do(Capability::ManageTokens)
            .unwrap_err()
            .to_string(),
        "Managing sign-ins needs the admin role"
    );
}

#[test]
fn roles_read_back_from_their_keys() {
    for role in Role::ALL.iter().copied() {
        assert_eq!(Role::from_key(role.key()), Some(role));
    }
    assert_eq!(Role::from_key("superuser"), None);
}

#[test]
fn the_action_buttons_follow_the_table() {
    use outpost_core::ActionKind;
    for kind in ActionKind::ALL {
        let manager_only = matches!(kind, ActionKind::Close | ActionKind::Cancel);
        assert_eq!(
            Role::Agent.may_take(*kind, State::Resolved).is_ok(),
            !manager_only,
            "{kind:?}"
        );
        assert!(Role::Manager.may_take(*kind, State::Resolved).is_ok());
        assert!(Role::Viewer.may_take(*kind, State::Resolved).is_err());
    }
    assert_eq!(
        Role::Agent
            .may_take(ActionKind::Close, State::Resolved)
            .unwrap_err()
            .to_string(),
        "Closing needs the manager role"
    );
}
