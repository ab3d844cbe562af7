//! Parent and child incidents move together, as ServiceNow's do: a child follows its parent to
//! In Progress, and to On Hold when the parent waits for a change, a problem or a vendor (not
//! for the caller: that is the parent's caller); when the parent resolves, its open children
//! resolve with the parent's code and resolution notes. The parent never closes or cancels a
//! child: its caller confirms, or auto-close closes it.
//!
//! The device that acts on the parent applies [`follow`] to each child it holds, offline too,
//! so a major incident with forty child reports is resolved in one step.

use crate::command::Command;
use crate::state::{Action, HoldReason, State};

/// What a child in `child` state does when its parent (`parent_reference`) has just taken
/// `action`; `None` when it stays as it is.
pub fn follow(action: &Action, parent_reference: &str, child: State) -> Option<Command> {
    let follows = match action {
        Action::StartWork => Action::StartWork,
        Action::PutOnHold { reason, .. } if *reason != HoldReason::AwaitingCaller => {
            Action::PutOnHold {
                reason: *reason,
                note: format!("On hold with its parent {parent_reference}."),
            }
        }
        Action::Resolve { code, notes } => Action::Resolve {
            code: code.clone(),
            notes: format!("Resolved with its parent {parent_reference}: {notes}"),
        },
        _ => return None,
    };
    // Only where the child's own lifecycle allows it, and never out of Resolved, Closed or
    // Canceled (a child resolved on its own stays so; a closed one is read-only).
    match child.apply(&follows) {
        Ok(next) if child.is_open() && next != child => Some(Command::Transition(follows)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Attribution;
    use crate::incident::{IncidentLink, NewIncident};
    use crate::reference::{DevicePrefix, ReferenceNumber};
    use crate::state::{ResolutionCode, StandardResolution};
    use crate::{DeviceTime, IncidentDoc, WorkspaceConfig};

    fn incident(n: u32, title: &str) -> IncidentDoc {
        let new = NewIncident {
            title: title.into(),
            caller: "Dana Reyes".into(),
            ..NewIncident::default()
        };
        let at = Attribution::new("Ana Field", DeviceTime::from_millis(1_700_000_000_000));
        let reference = ReferenceNumber::new(DevicePrefix::new("7F3A").unwrap(), n);
        IncidentDoc::create(&reference, &new, &at, &WorkspaceConfig::default()).unwrap()
    }

    fn act(doc: &mut IncidentDoc, cmd: &Command) {
        let at = Attribution::new("Ana Field", DeviceTime::from_millis(1_700_000_100_000));
        doc.execute(cmd, &at, &WorkspaceConfig::default()).unwrap();
    }

    fn state(doc: &IncidentDoc) -> State {
        doc.read().unwrap().state
    }

    /// Applies the parent's action to it and to each child, as the acting device does.
    fn parent_acts(parent: &mut IncidentDoc, children: &mut [IncidentDoc], action: Action) {
        act(parent, &Command::Transition(action.clone()));
        let reference = parent.read().unwrap().reference.to_string();
        for child in children {
            if let Some(cmd) = follow(&action, &reference, state(child)) {
                act(child, &cmd);
            }
        }
    }

    #[test]
    fn children_follow_the_parent_through_work_holds_and_resolution_but_are_never_closed() {
        let mut parent = incident(1, "Email down for the whole office");
        let mut children: Vec<IncidentDoc> =
            (2..6).map(|n| incident(n, "My email is down")).collect();
        for child in &mut children {
            act(
                child,
                &Command::SetParent(Some(IncidentLink {
                    document_id: "parent".into(),
                    reference: "INC-7F3A-0001".into(),
                })),
            );
        }
        // One child was already resolved on its own; it stays as it is.
        act(&mut children[3], &Command::Transition(Action::StartWork));
        act(
            &mut children[3],
            &Command::Transition(Action::Resolve {
                code: Some(ResolutionCode::standard(
                    StandardResolution::ResolvedByCaller,
                )),
                notes: "Restarted Outlook".into(),
            }),
        );

        parent_acts(&mut parent, &mut children, Action::StartWork);
        assert!(children[..3].iter().all(|c| state(c) == State::InProgress));

        // Waiting for the caller is the parent's own: children stay In Progress.
        parent_acts(
            &mut parent,
            &mut children,
            Action::PutOnHold {
                reason: HoldReason::AwaitingCaller,
                note: "Which mailbox?".into(),
            },
        );
        assert!(children[..3].iter().all(|c| state(c) == State::InProgress));
        parent_acts(&mut parent, &mut children, Action::StartWork);

        // Waiting for a vendor is every child's too.
        parent_acts(
            &mut parent,
            &mut children,
            Action::PutOnHold {
                reason: HoldReason::AwaitingVendor,
                note: "Ticket with the mail host".into(),
            },
        );
        assert!(children[..3]
            .iter()
            .all(|c| state(c) == State::OnHold(HoldReason::AwaitingVendor)));

        parent_acts(&mut parent, &mut children, Action::StartWork);
        parent_acts(
            &mut parent,
            &mut children,
            Action::Resolve {
                code: Some(ResolutionCode::standard(
                    StandardResolution::SolutionProvided,
                )),
                notes: "The mail host restored the relay".into(),
            },
        );
        for child in &children[..3] {
            let read = child.read().unwrap();
            assert_eq!(read.state, State::Resolved);
            assert_eq!(
                read.resolution_notes,
                "Resolved with its parent INC-7F3A-0001: The mail host restored the relay"
            );
        }
        assert_eq!(
            children[3].read().unwrap().resolution_notes,
            "Restarted Outlook"
        );

        // Closing the parent closes no child.
        parent_acts(&mut parent, &mut children, Action::Close);
        assert_eq!(state(&parent), State::Closed);
        assert!(children.iter().all(|c| state(c) == State::Resolved));
    }

    #[test]
    fn reopening_or_canceling_the_parent_leaves_children_alone() {
        for action in [
            Action::Reopen {
                reason: "Still broken".into(),
            },
            Action::Close,
            Action::Cancel {
                reason: String::new(),
            },
        ] {
            assert_eq!(
                follow(&action, "INC-7F3A-0001", State::InProgress),
                None,
                "{action:?}"
            );
        }
        assert_eq!(
            follow(&Action::StartWork, "INC-7F3A-0001", State::Closed),
            None
        );
    }
}
