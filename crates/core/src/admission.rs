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

use automerge::{
    legacy, Automerge, Change, ChangeHash, ObjId, ObjType, PatchAction, Prop, ReadDoc, ROOT,
};

use crate::command::Command;
use crate::field::{Container, Field, FieldValue};
use crate::incident::{Incident, NoteKind};
use crate::role::{Capability, Role, RoleRefusal};
use crate::schema::{
    note_list, read_incident, ReadError, AFFECTED_USERS, DOC_TYPE, REFERENCE, REFERENCES,
    REPORTED_AT, REPORTED_BY, REVIEW, SCHEMA, TYPE,
};
use crate::state::{ActionKind, ResolutionCode, State};

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
    /// A list or map of the incident's skeleton was replaced.
    #[error("the incident's lists and maps are made when it is logged and cannot be replaced")]
    Skeleton,
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

/// Whether `role` may make `change`, which `doc` holds: the incident read at the change's
/// dependencies (as its author saw it) against the incident with it applied. What the change
/// wrote is read from its own operations, so judging costs what the change holds, not what
/// the incident holds (an incident with a long timeline is judged as fast as a new one). This
/// is the relay's judge; [`admit`] is the same rules between any two sets of heads.
pub fn admit_change(role: Role, doc: &Automerge, change: &Change) -> Result<(), Refusal> {
    let after = [change.hash()];
    judge(role, doc, change.deps(), &after, || {
        Touched::from_change(doc, change, &after)
    })
}

/// Whether `role` may make the change that takes `doc` from the heads `before` (the document as
/// the change's author saw it; empty when it logs the incident) to the heads `after`. `doc`
/// holds both; nothing is copied: what changed is read from Automerge's diff between the two,
/// and the few values the rules need are read at each set of heads.
pub fn admit(
    role: Role,
    doc: &Automerge,
    before: &[ChangeHash],
    after: &[ChangeHash],
) -> Result<(), Refusal> {
    judge(role, doc, before, after, || {
        Touched::from_diff(doc, before, after)
    })
}

/// The rules, given what the change touched (asked for only when the incident existed before).
fn judge(
    role: Role,
    doc: &Automerge,
    before: &[ChangeHash],
    after: &[ChangeHash],
    touched: impl FnOnce() -> Result<Touched, Refusal>,
) -> Result<(), Refusal> {
    if !role.can_change() {
        return Err(RoleRefusal {
            what: "Changing an incident",
            needed: Role::Agent,
        }
        .into());
    }
    let (was, is) = (claims_incident(doc, before), claims_incident(doc, after));
    if !was && !is {
        // Not an incident, before or after: an empty first change (automerge-repo's `create()`
        // writes one) or a document of another kind. The gate's other rules still apply.
        return Ok(());
    }
    if !is {
        return Err(Refusal::NotAnIncident(
            "its type marker was removed".to_string(),
        ));
    }
    if !was {
        let incident = incident_at(doc, after)?;
        role.may_do(Capability::LogIncident)?;
        transition(role, State::New, incident.state, incident.resolution_code)?;
        if incident.major_incident {
            role.may(&Command::SetMajorIncident(true), State::New)?;
        }
        return Ok(());
    }
    let touched = touched()?;
    if touched.record
        && [TYPE, SCHEMA, REFERENCE, REPORTED_AT, REPORTED_BY]
            .iter()
            .any(|key| root_values(doc, key, before) != root_values(doc, key, after))
    {
        return Err(Refusal::CreationChanged);
    }
    let state = state_at(doc, before)?;
    let mut changed = Vec::new();
    let mut settled = Vec::new();
    for &field in &touched.fields {
        let (was, now) = (values_at(doc, field, before), values_at(doc, field, after));
        if was == now {
            continue;
        }
        changed.push(field);
        if was.len() > 1 && now.len() == 1 && was.contains(&now[0]) {
            settled.push((field, now[0].clone()));
        }
    }
    let unsettled = |field: &Field| !settled.iter().any(|(f, _)| f == field);
    // A value the reader depends on: check the incident still reads (rare: transitions, levels).
    if changed
        .iter()
        .any(|f| matches!(f, Field::State | Field::Impact | Field::Urgency))
    {
        incident_at(doc, after)?;
    }
    for (field, value) in &settled {
        role.may(
            &Command::SettleConflict {
                field: *field,
                value: value.clone(),
            },
            state,
        )?;
    }
    if state.is_read_only()
        && (touched.lists
            || touched.notes_added
            || changed.iter().any(|f| unsettled(f) && !f.is_review()))
    {
        return Err(Refusal::ReadOnly { state });
    }
    if changed.iter().any(|f| f.is_review() && unsettled(f)) {
        role.may(&review_command(), state)?;
    }
    if changed.contains(&Field::MajorIncident) && unsettled(&Field::MajorIncident) {
        let now = values_at(doc, Field::MajorIncident, after);
        let declared = matches!(now.first(), Some(FieldValue::Flag(true)));
        role.may(&Command::SetMajorIncident(declared), state)?;
    }
    if changed.contains(&Field::State) && unsettled(&Field::State) {
        let to = state_at(doc, after)?;
        let code = values_at(doc, Field::ResolutionCode, after)
            .first()
            .and_then(|v| v.as_text().and_then(ResolutionCode::from_stored));
        transition(role, state, to, code)?;
    }
    Ok(())
}

/// One place a change wrote: the path to the object written (root first, as Automerge's patches
/// and `parents` give it), that object, the map key written in it, and whether it inserted into
/// a list.
struct Touch<'a> {
    path: &'a [(ObjId, Prop)],
    obj: &'a ObjId,
    key: Option<&'a str>,
    insert: bool,
}

/// What a change touched, from Automerge's diff or from the change's operations.
#[derive(Default)]
struct Touched {
    /// Single-valued fields written (their values are compared afterwards).
    fields: Vec<Field>,
    /// The creation record or type marker was written.
    record: bool,
    /// Affected users or references changed.
    lists: bool,
    /// A note was appended.
    notes_added: bool,
}

impl Touched {
    fn from_diff(
        doc: &Automerge,
        before: &[ChangeHash],
        after: &[ChangeHash],
    ) -> Result<Touched, Refusal> {
        let mut touched = Touched::default();
        for patch in doc.diff(before, after) {
            touched.take(
                doc,
                before,
                &Touch {
                    path: &patch.path,
                    obj: &patch.obj,
                    key: patch_key(&patch.action),
                    insert: matches!(patch.action, PatchAction::Insert { .. }),
                },
            )?;
        }
        Ok(touched)
    }

    /// What `change` (held by `doc`, whose heads after it are `after`) wrote, from its
    /// operations: each operation on an object the change did not make itself is placed by that
    /// object's path in the incident. Operations inside objects it made (a new note, its text)
    /// are judged by the operation that placed the object.
    fn from_change(
        doc: &Automerge,
        change: &Change,
        after: &[ChangeHash],
    ) -> Result<Touched, Refusal> {
        let mut touched = Touched::default();
        let actor = change.actor_id();
        let made = change.start_op().get()..change.start_op().get() + change.len() as u64;
        // Operations on one object come together (a text's characters), so one path is kept.
        let mut placed: Option<Placed> = None;
        for op in change.decode().operations {
            let key = match &op.key {
                legacy::Key::Map(key) => Some(key.as_str()),
                legacy::Key::Seq(_) => None,
            };
            let id = match op.obj {
                legacy::ObjectId::Root => {
                    touched.take(
                        doc,
                        change.deps(),
                        &Touch {
                            path: &[],
                            obj: &ROOT,
                            key,
                            insert: false,
                        },
                    )?;
                    continue;
                }
                legacy::ObjectId::Id(id) if id.1 == *actor && made.contains(&id.0) => continue,
                legacy::ObjectId::Id(id) => id,
            };
            if placed.as_ref().map(|p| &p.op) != Some(&id) {
                // The actor's index in this document is looked up by Automerge from the actor.
                let obj = ObjId::Id(id.0, id.1.clone(), usize::MAX);
                let path = doc
                    .parents_at(&obj, after)
                    .map_err(|_| {
                        Refusal::NotAnIncident("it writes to an object it does not have".into())
                    })?
                    .path();
                placed = Some(Placed { op: id, obj, path });
            }
            let placed = placed.as_ref().expect("just placed");
            touched.take(
                doc,
                change.deps(),
                &Touch {
                    path: &placed.path,
                    obj: &placed.obj,
                    key,
                    insert: op.insert,
                },
            )?;
        }
        Ok(touched)
    }

    fn take(
        &mut self,
        doc: &Automerge,
        before: &[ChangeHash],
        touch: &Touch,
    ) -> Result<(), Refusal> {
        let Some((_, top)) = touch.path.first() else {
            // A key of the root itself.
            let Some(key) = touch.key else {
                return Ok(());
            };
            return self.root_key(key);
        };
        let Prop::Map(top) = top else {
            return Ok(());
        };
        if let Some(kind) = note_kind(top) {
            let rewritten = Refusal::NoteRewritten { kind };
            if touch.path.len() == 1 {
                // The list itself: appending is the only thing allowed.
                if touch.insert {
                    self.notes_added = true;
                    return Ok(());
                }
                return Err(rewritten);
            }
            // Inside a note: only one this change wrote. (Each step of the path names the
            // object holding the next: the root, then the list, then the note.)
            let list = &touch.path[1].0;
            let note = touch.path.get(2).map_or(touch.obj, |(id, _)| id);
            let existed = doc
                .list_range_at(list, .., before)
                .any(|item| item.id() == *note);
            return if existed { Err(rewritten) } else { Ok(()) };
        }
        match top.as_str() {
            REVIEW => {
                let key = match touch.path.get(1) {
                    Some((_, Prop::Map(key))) => Some(key.as_str()),
                    _ => touch.key,
                };
                if let Some(field) = key.and_then(|k| field_at(Container::Review, k)) {
                    if !self.fields.contains(&field) {
                        self.fields.push(field);
                    }
                }
            }
            AFFECTED_USERS | REFERENCES => self.lists = true,
            other => {
                // Inside a root field held as Text.
                if let Some(field) = field_at(Container::Root, other) {
                    if !self.fields.contains(&field) {
                        self.fields.push(field);
                    }
                }
            }
        }
        Ok(())
    }

    fn root_key(&mut self, key: &str) -> Result<(), Refusal> {
        match key {
            TYPE | SCHEMA | REFERENCE | REPORTED_AT | REPORTED_BY => self.record = true,
            REVIEW | AFFECTED_USERS | REFERENCES => return Err(Refusal::Skeleton),
            other if note_kind(other).is_some() => return Err(Refusal::Skeleton),
            other => {
                if let Some(field) = field_at(Container::Root, other) {
                    if !self.fields.contains(&field) {
                        self.fields.push(field);
                    }
                }
            }
        }
        Ok(())
    }
}

/// An object a change writes to, and where it sits in the incident.
struct Placed {
    op: legacy::OpId,
    obj: ObjId,
    path: Vec<(ObjId, Prop)>,
}

fn patch_key(action: &PatchAction) -> Option<&str> {
    match action {
        PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => Some(key),
        PatchAction::Conflict {
            prop: Prop::Map(key),
        }
        | PatchAction::Increment {
            prop: Prop::Map(key),
            ..
        } => Some(key),
        _ => None,
    }
}

fn note_kind(key: &str) -> Option<NoteKind> {
    [
        NoteKind::WorkNote,
        NoteKind::Comment,
        NoteKind::StatusUpdate,
    ]
    .into_iter()
    .find(|k| note_list(*k) == key)
}

fn field_at(container: Container, key: &str) -> Option<Field> {
    Field::ALL
        .iter()
        .copied()
        .find(|f| f.location() == (container, key))
}

/// Whether the document carries the incident type marker at `heads` (readable or not).
fn claims_incident(doc: &Automerge, heads: &[ChangeHash]) -> bool {
    matches!(
        doc.get_at(ROOT, TYPE, heads),
        Ok(Some((automerge::Value::Scalar(s), _))) if s.as_str() == Some(DOC_TYPE)
    )
}

/// The incident at `heads`, read whole.
fn incident_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<Incident, Refusal> {
    let unreadable = |e: ReadError| Refusal::NotAnIncident(e.to_string());
    if doc.get_heads() == heads {
        return read_incident(doc).map_err(unreadable);
    }
    let at = doc
        .fork_at(heads)
        .map_err(|e| Refusal::NotAnIncident(e.to_string()))?;
    read_incident(&at).map_err(unreadable)
}

/// A field's distinct values at `heads`, the one shown first (more than one is a conflict).
fn values_at(doc: &Automerge, field: Field, heads: &[ChangeHash]) -> Vec<FieldValue> {
    let (container, key) = field.location();
    let obj = match container {
        Container::Root => ROOT,
        Container::Review => match doc.get_at(ROOT, REVIEW, heads) {
            Ok(Some((automerge::Value::Object(_), id))) => id,
            _ => return Vec::new(),
        },
    };
    values_in(doc, &obj, key, heads)
}

fn root_values(doc: &Automerge, key: &str, heads: &[ChangeHash]) -> Vec<FieldValue> {
    values_in(doc, &ROOT, key, heads)
}

fn values_in(doc: &Automerge, obj: &ObjId, key: &str, heads: &[ChangeHash]) -> Vec<FieldValue> {
    let mut values: Vec<FieldValue> = Vec::new();
    for (value, id) in doc.get_all_at(obj, key, heads).unwrap_or_default() {
        let value = match value {
            automerge::Value::Scalar(s) => FieldValue::from_scalar(&s),
            automerge::Value::Object(ObjType::Text) => {
                FieldValue::Text(doc.text_at(&id, heads).unwrap_or_default())
            }
            automerge::Value::Object(_) => FieldValue::Empty,
        };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

fn state_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<State, Refusal> {
    let values = values_at(doc, Field::State, heads);
    values
        .first()
        .and_then(|v| v.as_text())
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| Refusal::NotAnIncident("its state is not a known state".to_string()))
}

fn review_command() -> Command {
    Command::UpdateReview {
        section: crate::incident::ReviewSection::Overview,
        text: String::new(),
    }
}

/// Checks that `to` is one lifecycle action away from `from`, and that the role may take that
/// action. `code` is the resolution code the change leaves.
fn transition(
    role: Role,
    from: State,
    to: State,
    code: Option<ResolutionCode>,
) -> Result<(), Refusal> {
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
    if kind == ActionKind::Resolve && code.is_none() {
        return Err(refused);
    }
    role.may_take(kind, from)?;
    Ok(())
}
