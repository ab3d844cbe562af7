//! Whether a change to an incident may be kept: the rules the relay's judge applies to every
//! change a peer sends, whatever program wrote it.
//!
//! A change is judged by what it does to the incident **as its author saw it**: the incident
//! read at the change's dependencies (`before`) against the incident with the change applied
//! (`after`). Offline work made in good faith is therefore never refused because of what others
//! did meanwhile; concurrent results stay conflicts for people to settle.
//!
//! What the change amounts to is mapped onto the commands of [`crate::role`]'s table, so the
//! relay and the app can never disagree about who may do what. Beyond roles, some things nobody
//! may do: change a Closed or Canceled incident other than its review, rewrite or delete a
//! note once written, change the reference number or the creation record, or move the incident
//! along a transition the lifecycle does not have.
//!
//! Documents that are not incidents (no `type: "outpost/incident"` marker, before or after the
//! change) are not judged here; a change that removes the marker is refused like any other that
//! leaves the incident unreadable, and one that adds it is judged as logging a new incident.

use automerge::{Automerge, ReadDoc, ROOT};

use crate::command::Command;
use crate::field::{Field, FieldValue};
use crate::incident::{Incident, Note, NoteKind};
use crate::role::{Capability, Role, RoleRefusal};
use crate::schema::{read_field_values, read_incident, DOC_TYPE, SCHEMA, TYPE};
use crate::state::{Action, ActionKind, HoldReason, State};

/// Why a change was refused, in words for the person whose change it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Their role may not do it.
    #[error("{0}")]
    Role(#[from] RoleRefusal),
    /// The incident is Closed or Canceled.
    #[error("the incident is {state}; only its review can still change")]
    ReadOnly {
        /// Closed or Canceled.
        state: State,
    },
    /// A note already written was edited or deleted.
    #[error("{} cannot be edited or deleted once written", kind_plural(*.kind))]
    NoteRewritten {
        /// Which list.
        kind: NoteKind,
    },
    /// The reference number or the creation record changed.
    #[error("the reference number and the creation record of an incident cannot be changed")]
    CreationChanged,
    /// A state change the lifecycle does not have.
    #[error("an incident cannot go from {from} to {to}")]
    Transition {
        /// The state as the author saw it.
        from: State,
        /// The state the change wrote.
        to: State,
    },
    /// The document no longer reads as an incident.
    #[error("the change leaves a document that is not a readable incident ({0})")]
    NotAnIncident(String),
}

impl Refusal {
    /// The refusal as a person reads it at the start of a sentence: "Closing needs the manager
    /// role".
    pub fn sentence(&self) -> String {
        let text = self.to_string();
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }
}

fn kind_plural(kind: NoteKind) -> &'static str {
    match kind {
        NoteKind::WorkNote => "work notes",
        NoteKind::Comment => "comments",
        NoteKind::StatusUpdate => "status updates",
    }
}

/// Whether `role` may make a change that turns the document `before` (as the change's author
/// saw it; empty when the change logs the incident) into `after`.
pub fn admit(role: Role, before: &Automerge, after: &Automerge) -> Result<(), Refusal> {
    if !role.can_change() {
        return Err(RoleRefusal {
            what: "Changing an incident",
            needed: Role::Agent,
        }
        .into());
    }
    let (was, is) = (claims_incident(before), claims_incident(after));
    if !was && !is {
        // Not an incident, before or after: an empty first change (automerge-repo's `create()`
        // writes one) or a document of another kind. The gate's other rules still apply.
        return Ok(());
    }
    let incident = read_incident(after).map_err(|e| Refusal::NotAnIncident(e.to_string()))?;
    if !was {
        role.may_do(Capability::LogIncident)?;
        transition(role, State::New, &incident)?;
        if incident.major_incident {
            role.may(&Command::SetMajorIncident(true), State::New)?;
        }
        return Ok(());
    }
    let earlier = read_incident(before).map_err(|e| Refusal::NotAnIncident(e.to_string()))?;
    if [TYPE, SCHEMA]
        .iter()
        .any(|key| scalar(before, key) != scalar(after, key))
    {
        return Err(Refusal::CreationChanged);
    }
    judge(role, &earlier, &incident, &Fields::compare(before, after))
}

/// The single-valued fields a change touched, and which of them it settled: a conflict as the
/// author saw it, now holding one of its values.
struct Fields {
    changed: Vec<Field>,
    settled: Vec<Field>,
}

impl Fields {
    fn compare(before: &Automerge, after: &Automerge) -> Fields {
        let mut fields = Fields {
            changed: Vec::new(),
            settled: Vec::new(),
        };
        for &field in Field::ALL {
            let (was, now) = (
                read_field_values(before, field),
                read_field_values(after, field),
            );
            if was == now {
                continue;
            }
            fields.changed.push(field);
            if was.len() > 1 && now.len() == 1 && was.contains(&now[0]) {
                fields.settled.push(field);
            }
        }
        fields
    }
}

/// Whether the document carries the incident type marker (readable or not).
fn claims_incident(doc: &Automerge) -> bool {
    matches!(
        doc.get(ROOT, TYPE),
        Ok(Some((automerge::Value::Scalar(s), _))) if s.as_str() == Some(DOC_TYPE)
    )
}

fn scalar(doc: &Automerge, key: &str) -> Option<String> {
    doc.get(ROOT, key)
        .ok()
        .flatten()
        .map(|(value, _)| value.to_string())
}

/// The rules, on the incident as its author saw it and as the change leaves it.
fn judge(role: Role, before: &Incident, after: &Incident, fields: &Fields) -> Result<(), Refusal> {
    if before.reference != after.reference
        || before.reported_at != after.reported_at
        || before.reported_by != after.reported_by
    {
        return Err(Refusal::CreationChanged);
    }
    for kind in [
        NoteKind::WorkNote,
        NoteKind::Comment,
        NoteKind::StatusUpdate,
    ] {
        if !kept(before.notes(kind), after.notes(kind)) {
            return Err(Refusal::NoteRewritten { kind });
        }
    }
    for &field in &fields.settled {
        let value = read_value(after, field);
        role.may(&Command::SettleConflict { field, value }, before.state)?;
    }
    let unsettled = |field: &Field| !fields.settled.contains(field);
    if before.state.is_read_only() {
        let lists_kept = before.affected_users == after.affected_users
            && before.references == after.references
            && [
                NoteKind::WorkNote,
                NoteKind::Comment,
                NoteKind::StatusUpdate,
            ]
            .iter()
            .all(|k| before.notes(*k).len() == after.notes(*k).len());
        let only_review = fields
            .changed
            .iter()
            .filter(|f| unsettled(f))
            .all(|f| f.is_review());
        if !lists_kept || !only_review {
            return Err(Refusal::ReadOnly {
                state: before.state,
            });
        }
    }
    if fields.changed.iter().any(|f| f.is_review() && unsettled(f)) {
        role.may(&review_command(), before.state)?;
    }
    if before.major_incident != after.major_incident && unsettled(&Field::MajorIncident) {
        role.may(
            &Command::SetMajorIncident(after.major_incident),
            before.state,
        )?;
    }
    if before.state != after.state && unsettled(&Field::State) {
        transition(role, before.state, after)?;
    }
    Ok(())
}

/// The value a settled field now holds.
fn read_value(after: &Incident, field: Field) -> FieldValue {
    match field {
        Field::State => FieldValue::Text(after.state.key()),
        Field::MajorIncident => FieldValue::Flag(after.major_incident),
        _ => FieldValue::Empty,
    }
}

fn review_command() -> Command {
    Command::UpdateReview {
        section: crate::incident::ReviewSection::Overview,
        text: String::new(),
    }
}

/// Every note of `before` is still in `after`, unchanged and in order.
fn kept(before: &[Note], after: &[Note]) -> bool {
    let mut after = after.iter();
    before.iter().all(|note| after.any(|n| n == note))
}

/// Checks that `after.state` is one lifecycle action away from `from`, and that the role may
/// take that action.
fn transition(role: Role, from: State, after: &Incident) -> Result<(), Refusal> {
    let to = after.state;
    if from == to {
        return Ok(());
    }
    let refused = Refusal::Transition { from, to };
    let kind = match (from, to) {
        (State::Resolved, State::InProgress) => ActionKind::Reopen,
        (_, State::InProgress) => ActionKind::StartWork,
        (_, State::OnHold(_)) => ActionKind::PutOnHold,
        (_, State::Resolved) => ActionKind::Resolve,
        (_, State::Closed) => ActionKind::Close,
        (_, State::Canceled) => ActionKind::Cancel,
        (_, State::New) => return Err(refused),
    };
    if from.is_read_only() || !from.available_actions().contains(&kind) {
        return Err(refused);
    }
    if kind == ActionKind::Resolve && after.resolution_code.is_none() {
        return Err(refused);
    }
    let action = match kind {
        ActionKind::StartWork => Action::StartWork,
        ActionKind::PutOnHold => Action::PutOnHold {
            reason: HoldReason::AwaitingCaller,
            note: String::new(),
        },
        ActionKind::Resolve => Action::Resolve {
            code: after.resolution_code,
            notes: after.resolution_notes.clone(),
        },
        ActionKind::Reopen => Action::Reopen {
            reason: String::new(),
        },
        ActionKind::Close => Action::Close,
        ActionKind::Cancel => Action::Cancel {
            reason: String::new(),
        },
    };
    role.may(&Command::Transition(action), from)?;
    Ok(())
}
