//! The incident lifecycle: states, the actions that move between them, and their guards.
//!
//! ```text
//!            start work             resolve              close
//!   New ───────────────▶ In Progress ─────────▶ Resolved ─────▶ Closed (read-only)
//!    │  ╲                 ▲     │                 │
//!    │   ╲ put on hold    │     │ put on hold     │ reopen ──▶ In Progress
//!    │    ╲──────────▶ On Hold ◀┘                 │
//!    │         (Awaiting Caller | Change | Problem | Vendor)
//!    └── cancel (from New, In Progress, On Hold) ──▶ Canceled (read-only)
//! ```
//!
//! Resolve needs a resolution code and resolution notes; putting an incident on hold awaiting the
//! caller needs a comment for the caller; reopening and canceling need a reason. Every refusal is a
//! typed [`TransitionError`] with a message a person can act on.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::keyword::keyword_enum;

keyword_enum! {
    /// Why an incident is on hold: which other party has to act.
    pub enum HoldReason ("hold reason") {
        /// The caller has to answer; a comment to the caller is required.
        AwaitingCaller => ("awaiting_caller", "Awaiting Caller"),
        /// A change has to be implemented.
        AwaitingChange => ("awaiting_change", "Awaiting Change"),
        /// A problem investigation has to conclude.
        AwaitingProblem => ("awaiting_problem", "Awaiting Problem"),
        /// A vendor has to act.
        AwaitingVendor => ("awaiting_vendor", "Awaiting Vendor"),
    }
}

keyword_enum! {
    /// The resolution codes every workspace's catalog starts with (ServiceNow's); a workspace
    /// can remove them and add its own ([`crate::WorkspaceConfig::resolution_codes`]).
    pub enum StandardResolution ("resolution code") {
        /// A fix or answer was given.
        SolutionProvided => ("solution_provided", "Solution provided"),
        /// Service was restored with a workaround; the cause remains.
        WorkaroundProvided => ("workaround_provided", "Workaround provided"),
        /// A known error with a documented workaround.
        KnownError => ("known_error", "Known error"),
        /// Fixed by implementing a change.
        ResolvedByChange => ("resolved_by_change", "Resolved by change"),
        /// Fixed by resolving the underlying problem.
        ResolvedByProblem => ("resolved_by_problem", "Resolved by problem"),
        /// The caller fixed it themselves.
        ResolvedByCaller => ("resolved_by_caller", "Resolved by caller"),
        /// It was a request, not an incident.
        ResolvedByRequest => ("resolved_by_request", "Resolved by request"),
        /// The caller made a mistake; nothing was broken.
        UserError => ("user_error", "User error"),
        /// A duplicate of another incident.
        Duplicate => ("duplicate", "Duplicate"),
        /// Could not be reproduced.
        NotReproducible => ("not_reproducible", "Not reproducible"),
        /// No resolution was provided.
        NoResolutionProvided => ("no_resolution_provided", "No resolution provided"),
        /// Monitoring reported the recovery and the workspace resolves on it.
        ResolvedByMonitoring => ("resolved_by_monitoring", "Resolved by monitoring"),
    }
}

/// How an incident was resolved: a code from the workspace's catalog. A standard code is
/// stored as its key (`solution_provided`, as every version of Outpost reads it), any other
/// as its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResolutionCode(String);

impl ResolutionCode {
    /// A standard code.
    pub fn standard(code: StandardResolution) -> Self {
        ResolutionCode(code.key().to_string())
    }

    /// The code a catalog entry of this name stands for; `None` for an empty name.
    pub fn named(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        Some(
            match StandardResolution::ALL
                .iter()
                .find(|c| crate::directory::same_name(c.label(), name))
            {
                Some(c) => ResolutionCode::standard(*c),
                None => ResolutionCode(name.to_string()),
            },
        )
    }

    /// Reads a stored value; `None` for an empty one.
    pub fn from_stored(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| ResolutionCode(text.to_string()))
    }

    /// As stored on the incident.
    pub fn stored(&self) -> &str {
        &self.0
    }

    /// Its name, as the catalog lists it: "Solution provided".
    pub fn name(&self) -> &str {
        StandardResolution::from_key(&self.0).map_or(&self.0, |c| c.label())
    }
}

impl fmt::Display for ResolutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

keyword_enum! {
    /// The actions that move an incident through its lifecycle, named as the buttons are.
    pub enum ActionKind ("action") {
        /// New or On Hold → In Progress.
        StartWork => ("start_work", "Start work"),
        /// → On Hold with a reason.
        PutOnHold => ("put_on_hold", "Put on hold"),
        /// → Resolved with a code and notes.
        Resolve => ("resolve", "Resolve"),
        /// Resolved → In Progress.
        Reopen => ("reopen", "Reopen"),
        /// Resolved → Closed.
        Close => ("close", "Close"),
        /// New, In Progress or On Hold → Canceled.
        Cancel => ("cancel", "Cancel"),
    }
}

/// Where an incident is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Logged, not yet worked.
    New,
    /// Someone is working it.
    InProgress,
    /// Waiting for another party.
    OnHold(HoldReason),
    /// A fix has been provided; the caller can confirm, or it can be reopened.
    Resolved,
    /// Finished; read-only.
    Closed,
    /// Not an incident, a duplicate, or not needed; read-only.
    Canceled,
}

/// The states a filter can choose between (On Hold counts once, whatever its reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// New.
    New,
    /// In Progress.
    InProgress,
    /// On Hold, any reason.
    OnHold,
    /// Resolved.
    Resolved,
    /// Closed.
    Closed,
    /// Canceled.
    Canceled,
}

impl StateKind {
    /// Every kind, in lifecycle order.
    pub const ALL: [StateKind; 6] = [
        StateKind::New,
        StateKind::InProgress,
        StateKind::OnHold,
        StateKind::Resolved,
        StateKind::Closed,
        StateKind::Canceled,
    ];

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            StateKind::New => "New",
            StateKind::InProgress => "In Progress",
            StateKind::OnHold => "On Hold",
            StateKind::Resolved => "Resolved",
            StateKind::Closed => "Closed",
            StateKind::Canceled => "Canceled",
        }
    }

    /// The stable key, as used in URLs and filters.
    pub fn key(self) -> &'static str {
        match self {
            StateKind::New => "new",
            StateKind::InProgress => "in_progress",
            StateKind::OnHold => "on_hold",
            StateKind::Resolved => "resolved",
            StateKind::Closed => "closed",
            StateKind::Canceled => "canceled",
        }
    }

    /// Parses a key.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

impl State {
    /// The state without its hold reason.
    pub fn kind(self) -> StateKind {
        match self {
            State::New => StateKind::New,
            State::InProgress => StateKind::InProgress,
            State::OnHold(_) => StateKind::OnHold,
            State::Resolved => StateKind::Resolved,
            State::Closed => StateKind::Closed,
            State::Canceled => StateKind::Canceled,
        }
    }

    /// Closed and Canceled incidents are read-only.
    pub fn is_read_only(self) -> bool {
        matches!(self, State::Closed | State::Canceled)
    }

    /// Still needs work: New, In Progress or On Hold.
    pub fn is_open(self) -> bool {
        matches!(self, State::New | State::InProgress | State::OnHold(_))
    }

    /// The stored form: `new`, `in_progress`, `on_hold:awaiting_vendor`, `resolved`, ...
    ///
    /// The hold reason is part of the one stored value, so a concurrent "put on hold" and
    /// "resolve" are a single conflict on one field rather than two half-conflicts.
    pub fn key(self) -> String {
        match self {
            State::OnHold(reason) => format!("on_hold:{}", reason.key()),
            other => other.kind().key().to_string(),
        }
    }

    /// The actions a person can take from this state, in button order.
    pub fn available_actions(self) -> &'static [ActionKind] {
        use ActionKind::*;
        match self {
            State::New => &[StartWork, PutOnHold, Resolve, Cancel],
            State::InProgress => &[PutOnHold, Resolve, Cancel],
            State::OnHold(_) => &[StartWork, PutOnHold, Resolve, Cancel],
            State::Resolved => &[Reopen, Close],
            State::Closed | State::Canceled => &[],
        }
    }

    /// Checks an action against this state and returns the state it leads to.
    pub fn apply(self, action: &Action) -> Result<State, TransitionError> {
        if self.is_read_only() {
            return Err(TransitionError::ReadOnly { state: self });
        }
        let kind = action.kind();
        if !self.available_actions().contains(&kind) {
            return Err(TransitionError::NotAllowed {
                from: self,
                action: kind,
            });
        }
        match action {
            Action::StartWork => Ok(State::InProgress),
            Action::PutOnHold { reason, note } => {
                if State::OnHold(*reason) == self {
                    return Err(TransitionError::AlreadyOnHold { reason: *reason });
                }
                if *reason == HoldReason::AwaitingCaller && note.trim().is_empty() {
                    return Err(TransitionError::CommentRequiredForAwaitingCaller);
                }
                Ok(State::OnHold(*reason))
            }
            Action::Resolve { code, notes } => {
                if code.is_none() {
                    return Err(TransitionError::ResolutionCodeRequired);
                }
                if notes.trim().is_empty() {
                    return Err(TransitionError::ResolutionNotesRequired);
                }
                Ok(State::Resolved)
            }
            Action::Reopen { reason } | Action::Cancel { reason } => {
                if reason.trim().is_empty() {
                    return Err(TransitionError::ReasonRequired { action: kind });
                }
                Ok(if kind == ActionKind::Reopen {
                    State::InProgress
                } else {
                    State::Canceled
                })
            }
            Action::Close => Ok(State::Closed),
        }
    }
}

impl fmt::Display for State {
    /// `On Hold (Awaiting Vendor)`, `In Progress`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::OnHold(reason) => write!(f, "On Hold ({reason})"),
            other => f.write_str(other.kind().label()),
        }
    }
}

/// A stored state that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a known incident state")]
pub struct UnknownState(pub String);

impl FromStr for State {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownState(s.to_string());
        if let Some(reason) = s.strip_prefix("on_hold:") {
            return HoldReason::from_key(reason)
                .map(State::OnHold)
                .ok_or_else(unknown);
        }
        match StateKind::from_key(s).ok_or_else(unknown)? {
            StateKind::New => Ok(State::New),
            StateKind::InProgress => Ok(State::InProgress),
            StateKind::OnHold => Err(unknown()),
            StateKind::Resolved => Ok(State::Resolved),
            StateKind::Closed => Ok(State::Closed),
            StateKind::Canceled => Ok(State::Canceled),
        }
    }
}

impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A lifecycle action with the information its guard needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Begin (or resume) work.
    StartWork,
    /// Wait for another party. For Awaiting Caller, `note` is the comment to the caller and is
    /// required; otherwise it is an optional work note.
    PutOnHold {
        /// Who has to act.
        reason: HoldReason,
        /// Comment to the caller (Awaiting Caller) or work note (other reasons).
        note: String,
    },
    /// Provide a fix. `code` is optional here only so that a missing code is a typed refusal.
    Resolve {
        /// The resolution code.
        code: Option<ResolutionCode>,
        /// What was done.
        notes: String,
    },
    /// The fix did not hold.
    Reopen {
        /// Why it is being reopened; recorded as a work note.
        reason: String,
    },
    /// Confirm the resolution and finish.
    Close,
    /// Not an incident, a duplicate, or no longer needed.
    Cancel {
        /// Why it is being canceled; recorded as a work note.
        reason: String,
    },
}

impl Action {
    /// Which action this is.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::StartWork => ActionKind::StartWork,
            Action::PutOnHold { .. } => ActionKind::PutOnHold,
            Action::Resolve { .. } => ActionKind::Resolve,
            Action::Reopen { .. } => ActionKind::Reopen,
            Action::Close => ActionKind::Close,
            Action::Cancel { .. } => ActionKind::Cancel,
        }
    }
}

/// Why a lifecycle action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Closed and Canceled incidents cannot change.
    #[error("This incident is {state} and can no longer be changed.")]
    ReadOnly {
        /// The read-only state.
        state: State,
    },
    /// The action does not apply to the current state.
    #[error("\"{action}\" is not possible while the incident is {from}.")]
    NotAllowed {
        /// The current state.
        from: State,
        /// The refused action.
        action: ActionKind,
    },
    /// Putting on hold for the reason it is already on hold for.
    #[error("The incident is already on hold ({reason}).")]
    AlreadyOnHold {
        /// The current hold reason.
        reason: HoldReason,
    },
    /// Resolve without a resolution code.
    #[error("Choose a resolution code to resolve the incident.")]
    ResolutionCodeRequired,
    /// Resolve without resolution notes.
    #[error("Write resolution notes to resolve the incident.")]
    ResolutionNotesRequired,
    /// Awaiting Caller without a comment to the caller.
    #[error("Write a comment to the caller saying what you need from them.")]
    CommentRequiredForAwaitingCaller,
    /// Reopen or cancel without a reason.
    #[error("Give a reason to {}.", action.label().to_lowercase())]
    ReasonRequired {
        /// Reopen or Cancel.
        action: ActionKind,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve() -> Action {
        Action::Resolve {
            code: Some(ResolutionCode::standard(
                StandardResolution::SolutionProvided,
            )),
            notes: "Rolled back the patch".into(),
        }
    }

    #[test]
    fn happy_path_new_to_closed() {
        let s = State::New.apply(&Action::StartWork).unwrap();
        assert_eq!(s, State::InProgress);
        let s = s.apply(&resolve()).unwrap();
        assert_eq!(s, State::Resolved);
        assert_eq!(s.apply(&Action::Close).unwrap(), State::Closed);
    }

    #[test]
    fn resolve_needs_code_and_notes() {
        let no_code = Action::Resolve {
            code: None,
            notes: "fixed".into(),
        };
        assert_eq!(
            State::InProgress.apply(&no_code),
            Err(TransitionError::ResolutionCodeRequired)
        );
        let no_notes = Action::Resolve {
            code: Some(ResolutionCode::standard(
                StandardResolution::WorkaroundProvided,
            )),
            notes: "  \n".into(),
        };
        assert_eq!(
            State::InProgress.apply(&no_notes),
            Err(TransitionError::ResolutionNotesRequired)
        );
    }

    #[test]
    fn awaiting_caller_needs_a_comment_other_holds_do_not() {
        let caller = |note: &str| Action::PutOnHold {
            reason: HoldReason::AwaitingCaller,
            note: note.into(),
        };
        assert_eq!(
            State::InProgress.apply(&caller(" ")),
            Err(TransitionError::CommentRequiredForAwaitingCaller)
        );
        assert_eq!(
            State::InProgress.apply(&caller("Which floor are you on?")),
            Ok(State::OnHold(HoldReason::AwaitingCaller))
        );
        let vendor = Action::PutOnHold {
            reason: HoldReason::AwaitingVendor,
            note: String::new(),
        };
        assert_eq!(
            State::InProgress.apply(&vendor),
            Ok(State::OnHold(HoldReason::AwaitingVendor))
        );
        // Changing the reason while on hold is allowed; repeating it is not.
        let on_hold = State::OnHold(HoldReason::AwaitingVendor);
        assert_eq!(
            on_hold.apply(&vendor),
            Err(TransitionError::AlreadyOnHold {
                reason: HoldReason::AwaitingVendor
            })
        );
        assert_eq!(
            on_hold.apply(&caller("Still broken?")),
            Ok(State::OnHold(HoldReason::AwaitingCaller))
        );
        assert_eq!(on_hold.apply(&Action::StartWork), Ok(State::InProgress));
    }

    #[test]
    fn closed_and_canceled_are_read_only() {
        for s in [State::Closed, State::Canceled] {
            for a in [
                Action::StartWork,
                resolve(),
                Action::Close,
                Action::Reopen { reason: "x".into() },
            ] {
                assert_eq!(s.apply(&a), Err(TransitionError::ReadOnly { state: s }));
            }
            assert!(s.available_actions().is_empty());
        }
    }

    #[test]
    fn reopen_only_from_resolved_and_with_a_reason() {
        let reopen = Action::Reopen {
            reason: "Still failing".into(),
        };
        assert_eq!(State::Resolved.apply(&reopen), Ok(State::InProgress));
        assert_eq!(
            State::InProgress.apply(&reopen),
            Err(TransitionError::NotAllowed {
                from: State::InProgress,
                action: ActionKind::Reopen
            })
        );
        assert_eq!(
            State::Resolved.apply(&Action::Reopen { reason: "".into() }),
            Err(TransitionError::ReasonRequired {
                action: ActionKind::Reopen
            })
        );
    }

    #[test]
    fn unknown_transitions_are_refused_by_name() {
        let err = State::New.apply(&Action::Close).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"Close\" is not possible while the incident is New."
        );
        assert!(State::Resolved.apply(&Action::StartWork).is_err());
        assert!(State::Resolved
            .apply(&Action::Cancel {
                reason: "dup".into()
            })
            .is_err());
        assert!(State::InProgress.apply(&Action::StartWork).is_err());
        assert_eq!(
            "teleport".parse::<ActionKind>().unwrap_err().to_string(),
            "\"teleport\" is not a known action"
        );
    }

    #[test]
    fn every_state_round_trips_through_its_stored_key() {
        let mut all = vec![
            State::New,
            State::InProgress,
            State::Resolved,
            State::Closed,
            State::Canceled,
        ];
        all.extend(HoldReason::ALL.iter().map(|r| State::OnHold(*r)));
        for s in all {
            assert_eq!(s.key().parse::<State>(), Ok(s));
        }
        assert!("on_hold".parse::<State>().is_err());
        assert!("on_hold:awaiting_godot".parse::<State>().is_err());
        assert_eq!(
            State::OnHold(HoldReason::AwaitingVendor).to_string(),
            "On Hold (Awaiting Vendor)"
        );
    }

    #[test]
    fn cancel_needs_a_reason() {
        assert_eq!(
            State::New.apply(&Action::Cancel { reason: " ".into() }),
            Err(TransitionError::ReasonRequired {
                action: ActionKind::Cancel
            })
        );
        assert_eq!(
            TransitionError::ReasonRequired {
                action: ActionKind::Cancel
            }
            .to_string(),
            "Give a reason to cancel."
        );
    }
}
