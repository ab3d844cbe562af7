//! Who may do what: the four roles of a workspace, and the one table saying which role each
//! [`Command`] (and each thing beyond commands) needs.
//!
//! The app uses it to disable what a person may not do, with the reason; the relay's judge uses
//! the same table on every change a peer sends, so the two can never disagree. Roles are ordered:
//! each one may do everything the one below it may.
//!
//! | role | may |
//! | --- | --- |
//! | viewer | read everything, change nothing |
//! | agent | log, edit, note, assign, escalate, hold, resolve, reopen; write a review before closure |
//! | manager | also close, cancel, declare and stand down a major incident, edit a closed incident's review |
//! | admin | also workspace configuration, tokens and integrations |

use crate::command::Command;
use crate::field::{Field, FieldValue};
use crate::keyword::keyword_enum;
use crate::state::{Action, ActionKind, State};

keyword_enum! {
    /// A person's role in a workspace, carried by their token.
    pub enum Role ("role") {
        /// Reads everything, changes nothing.
        Viewer => ("viewer", "viewer"),
        /// Works incidents.
        Agent => ("agent", "agent"),
        /// Also closes, cancels, declares major incidents, edits closed reviews.
        Manager => ("manager", "manager"),
        /// Also configures the workspace, its tokens and integrations.
        Admin => ("admin", "admin"),
    }
}

/// What a person does, beyond the commands on one incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Log a new incident.
    LogIncident,
    /// Change the workspace's configuration and directory.
    ConfigureWorkspace,
    /// Create, list and revoke tokens and invitations.
    ManageTokens,
    /// Create and revoke integration keys.
    ManageIntegrations,
    /// Read the relay's audit of an incident.
    ReadAudit,
    /// Import incidents from another tool's export (which closes and cancels as the source
    /// says, so it needs what closing and canceling need).
    ImportIncidents,
}

/// Why a role may not do something, in words for the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} needs the {} role", needed.label())]
pub struct RoleRefusal {
    /// What was refused, as a gerund phrase: "Closing", "Declaring a major incident".
    pub what: &'static str,
    /// The least role that may do it.
    pub needed: Role,
}

/// The least role that may run `cmd` on an incident in `state`, and what the command is called
/// in a refusal.
pub fn needed_for(cmd: &Command, state: State) -> (Role, &'static str) {
    use Command::*;
    match cmd {
        Transition(Action::Close) => (Role::Manager, "Closing"),
        Transition(Action::Cancel { .. }) => (Role::Manager, "Canceling"),
        Transition(Action::StartWork) => (Role::Agent, "Starting work"),
        Transition(Action::PutOnHold { .. }) => (Role::Agent, "Putting on hold"),
        Transition(Action::Resolve { .. }) => (Role::Agent, "Resolving"),
        Transition(Action::Reopen { .. }) => (Role::Agent, "Reopening"),
        SetMajorIncident(true) => (Role::Manager, "Declaring a major incident"),
        SetMajorIncident(false) => (Role::Manager, "Standing down a major incident"),
        UpdateReview { .. } if state.is_read_only() => {
            (Role::Manager, "Editing a closed incident's review")
        }
        UpdateReview { .. } => (Role::Agent, "Writing the review"),
        SettleConflict { field, value } => settling(*field, value, state),
        SetTitle(_)
        | SetDescription(_)
        | SetCaller(_)
        | SetCategory { .. }
        | SetAffectedService(_)
        | SetBridgeLink(_)
        | SetDetectionSource(_)
        | SetDetectedAt(_)
        | SetImpact(_)
        | SetUrgency(_)
        | AddAffectedUser(_)
        | RemoveAffectedUser(_) => (Role::Agent, "Editing an incident"),
        SetAssignmentGroup(_) | SetAssignee(_) => (Role::Agent, "Assigning"),
        SetEscalation(_) => (Role::Agent, "Escalating"),
        RestrictTo(_) => (Role::Agent, "Restricting an incident"),
        AddNote { .. } => (Role::Agent, "Adding a note"),
        SetParent(_) | SetDuplicateOf(_) | AddReference(_) | RemoveReference(_) => {
            (Role::Agent, "Linking incidents")
        }
    }
}

/// Settling a conflict sets the field to one of its values, so it needs what setting it needs.
fn settling(field: Field, value: &FieldValue, state: State) -> (Role, &'static str) {
    match field {
        Field::MajorIncident => (Role::Manager, "Settling the major-incident flag"),
        Field::State => match value.as_text().and_then(|t| t.parse::<State>().ok()) {
            Some(to) if to.is_read_only() => (Role::Manager, "Settling the state as closed"),
            _ => (Role::Agent, "Settling the state"),
        },
        review if review.is_review() && state.is_read_only() => {
            (Role::Manager, "Editing a closed incident's review")
        }
        _ => (Role::Agent, "Settling a conflict"),
    }
}

/// The least role that has `capability`, and what it is called in a refusal.
pub fn needed_for_capability(capability: Capability) -> (Role, &'static str) {
    match capability {
        Capability::LogIncident => (Role::Agent, "Logging an incident"),
        Capability::ConfigureWorkspace => (Role::Admin, "Changing the workspace"),
        Capability::ManageTokens => (Role::Admin, "Managing sign-ins"),
        Capability::ManageIntegrations => (Role::Admin, "Managing integrations"),
        Capability::ReadAudit => (Role::Admin, "Reading the audit"),
        Capability::ImportIncidents => (Role::Manager, "Importing incidents"),
    }
}

impl Role {
    /// Whether this role may run `cmd` on an incident in `state`; if not, why.
    pub fn may(self, cmd: &Command, state: State) -> Result<(), RoleRefusal> {
        let (needed, what) = needed_for(cmd, state);
        self.at_least(needed, what)
    }

    /// Whether this role may take a lifecycle action (a button) on an incident in `state`; if
    /// not, why.
    pub fn may_take(self, kind: ActionKind, state: State) -> Result<(), RoleRefusal> {
        let action = match kind {
            ActionKind::StartWork => Action::StartWork,
            ActionKind::PutOnHold => Action::PutOnHold {
                reason: crate::state::HoldReason::AwaitingVendor,
                note: String::new(),
            },
            ActionKind::Resolve => Action::Resolve {
                code: None,
                notes: String::new(),
            },
            ActionKind::Reopen => Action::Reopen {
                reason: String::new(),
            },
            ActionKind::Close => Action::Close,
            ActionKind::Cancel => Action::Cancel {
                reason: String::new(),
            },
        };
        self.may(&Command::Transition(action), state)
    }

    /// Whether this role has `capability`; if not, why.
    pub fn may_do(self, capability: Capability) -> Result<(), RoleRefusal> {
        let (needed, what) = needed_for_capability(capability);
        self.at_least(needed, what)
    }

    /// Whether this role changes anything at all.
    pub fn can_change(self) -> bool {
        self >= Role::Agent
    }

    fn at_least(self, needed: Role, what: &'static str) -> Result<(), RoleRefusal> {
        if self >= needed {
            Ok(())
        } else {
            Err(RoleRefusal { what, needed })
        }
    }
}
