//! The layout of an incident document, and reading it back into an [`Incident`].
//!
//! ```text
//! { type: "outpost/incident", schema: 1, reference: "INC-7F3A-0042",
//!   reported_at: <timestamp>, reported_by: "alice",
//!   title, description, caller, category, subcategory, affected_service,   (strings)
//!   detection_source, escalation, state, resolution_code,                  (keyword strings)
//!   resolution_notes, assignment_group, assignee, parent, duplicate_of,    (strings; "" = unset)
//!   impact, urgency: 1-3, major_incident: bool, detected_at: <timestamp>,
//!   restricted_to: "security, network"         (optional; missing or "" = the whole workspace)
//!   bridge_link: "https://…"                   (optional; missing or "" = no bridge)
//!   sla_definition: "P2 30 480 always"         (optional: older incidents have none)
//!   affected_users: { "<name>": true },        references: { "problem:PRB001": true },
//!   work_notes | comments | status_updates: [ { author, at, body } ],
//!   review: { overview, impact_analysis, root_cause, corrective_actions, lessons_learned, appendices } }
//! ```
//!
//! Every map and list is created once, by the device that logs the incident, in the first change.
//! Later edits only put keys inside them. That matters: if two peers each created `review`
//! concurrently, Automerge would keep one map and hide the other's contents entirely.
//!
//! Reading is tolerant of what other Automerge peers write: JavaScript numbers arrive as floats and
//! strings may be collaborative Text objects. Unknown keyword values fall back to a neutral
//! value rather than making the whole incident unreadable; an unknown state, impact or reference
//! does make it unreadable, because guards and priority depend on them.

use automerge::{
    transaction::Transactable, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue,
    ScalarValueRef, Value, ValueRef, ROOT,
};
use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};

use crate::field::{Container, Field, FieldValue};
use crate::history::Attribution;
use crate::incident::{
    DetectionSource, EscalationLevel, Incident, NewIncident, Note, NoteKind, PostIncidentReview,
    ReviewSection,
};
use crate::priority::{Impact, Urgency};
use crate::reference::ReferenceNumber;
use crate::state::{ResolutionCode, State};
use crate::time::DeviceTime;

/// The `type` marker of an incident document.
pub const DOC_TYPE: &str = "outpost/incident";
/// The newest layout this build writes and reads.
pub const SCHEMA_VERSION: u64 = 1;

pub(crate) const TYPE: &str = "type";
pub(crate) const SCHEMA: &str = "schema";
pub(crate) const REFERENCE: &str = "reference";
pub(crate) const REPORTED_AT: &str = "reported_at";
pub(crate) const REPORTED_BY: &str = "reported_by";
pub(crate) const AFFECTED_USERS: &str = "affected_users";
pub(crate) const REFERENCES: &str = "references";
pub(crate) const REVIEW: &str = "review";

/// The list a kind of note is appended to.
pub(crate) fn note_list(kind: NoteKind) -> &'static str {
    match kind {
        NoteKind::WorkNote => "work_notes",
        NoteKind::Comment => "comments",
        NoteKind::StatusUpdate => "status_updates",
    }
}

/// Why a document could not be read as an incident.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not an Automerge document.
    #[error("The incident's data is damaged and could not be loaded ({0}).")]
    Load(String),
    /// An Automerge document, but not an incident.
    #[error("This document is not an Outpost incident.")]
    NotAnIncident,
    /// Written by a newer version of Outpost.
    #[error("This incident was saved by a newer version of Outpost (format {found}). Update the app to open it.")]
    NewerSchema {
        /// The document's schema version.
        found: u64,
    },
    /// A field holds something unusable.
    #[error("The incident's {field} could not be read ({detail}).")]
    Corrupt {
        /// The field's name.
        field: String,
        /// What was found.
        detail: String,
    },
}

impl ReadError {
    fn corrupt(field: &str, detail: impl Into<String>) -> Self {
        ReadError::Corrupt {
            field: field.to_string(),
            detail: detail.into(),
        }
    }
}

/// A string that may be stored as a scalar or as a collaborative Text object; missing or null
/// reads as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DocText(pub String);

impl Hydrate for DocText {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        Ok(DocText(s.to_string()))
    }
    fn hydrate_text<D: autosurgeon::ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        Ok(DocText(doc.text(obj)?))
    }
    fn hydrate_none() -> Result<Self, HydrateError> {
        Ok(DocText(String::new()))
    }
}

impl Reconcile for DocText {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.str(&self.0)
    }
}

/// A note as stored in its list.
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate)]
pub(crate) struct StoredNote {
    #[autosurgeon(missing = "Default::default")]
    pub author: DocText,
    #[autosurgeon(missing = "stored_note_epoch")]
    pub at: DeviceTime,
    #[autosurgeon(missing = "Default::default")]
    pub body: DocText,
}

fn stored_note_epoch() -> DeviceTime {
    DeviceTime::EPOCH
}

/// The review map as stored.
#[derive(Clone, Debug, Default, PartialEq, Hydrate)]
struct StoredReview {
    #[autosurgeon(missing = "Default::default")]
    overview: DocText,
    #[autosurgeon(missing = "Default::default")]
    impact_analysis: DocText,
    #[autosurgeon(missing = "Default::default")]
    root_cause: DocText,
    #[autosurgeon(missing = "Default::default")]
    corrective_actions: DocText,
    #[autosurgeon(missing = "Default::default")]
    lessons_learned: DocText,
    #[autosurgeon(missing = "Default::default")]
    appendices: DocText,
}

/// The cleaned values a new incident starts with.
pub(crate) struct InitialValues<'a> {
    pub reference: &'a ReferenceNumber,
    pub new: &'a NewIncident,
    pub origin: &'a Attribution,
    /// The SLA definition its clocks start with.
    pub sla: crate::sla::SlaDefinition,
}

/// Writes the whole skeleton of a new incident: every field, map and list.
pub(crate) fn initialise<T: Transactable>(
    tx: &mut T,
    v: &InitialValues<'_>,
) -> Result<(), AutomergeError> {
    let n = v.new;
    tx.put(ROOT, TYPE, DOC_TYPE)?;
    tx.put(ROOT, SCHEMA, SCHEMA_VERSION)?;
    tx.put(ROOT, REFERENCE, v.reference.to_string())?;
    tx.put(
        ROOT,
        REPORTED_AT,
        ScalarValue::Timestamp(v.origin.at.millis()),
    )?;
    tx.put(ROOT, REPORTED_BY, v.origin.by.as_str())?;
    let initial: [(Field, FieldValue); 22] = [
        (Field::Title, n.title.as_str().into()),
        (Field::Description, n.description.as_str().into()),
        (Field::Caller, n.caller.as_str().into()),
        (Field::Category, n.category.as_str().into()),
        (Field::Subcategory, n.subcategory.as_str().into()),
        (Field::AffectedService, n.affected_service.as_str().into()),
        (Field::DetectionSource, n.detection_source.key().into()),
        (
            Field::DetectedAt,
            FieldValue::Time(n.detected_at.unwrap_or(v.origin.at)),
        ),
        (
            Field::Impact,
            FieldValue::Number(i64::from(n.impact.level())),
        ),
        (
            Field::Urgency,
            FieldValue::Number(i64::from(n.urgency.level())),
        ),
        (Field::AssignmentGroup, n.assignment_group.as_str().into()),
        (Field::Assignee, n.assignee.as_str().into()),
        (Field::Escalation, EscalationLevel::Level1.key().into()),
        (Field::MajorIncident, FieldValue::Flag(n.major_incident)),
        (Field::BridgeLink, "".into()),
        (Field::State, State::New.key().as_str().into()),
        (Field::ResolutionCode, "".into()),
        (Field::ResolutionNotes, "".into()),
        (Field::Parent, "".into()),
        (Field::DuplicateOf, "".into()),
        (Field::RestrictedTo, "".into()),
        (Field::SlaDefinition, FieldValue::Text(v.sla.encode())),
    ];
    for (field, value) in initial {
        tx.put(ROOT, field.location().1, value.to_scalar())?;
    }
    let users = tx.put_object(ROOT, AFFECTED_USERS, ObjType::Map)?;
    for user in &n.affected_users {
        tx.put(&users, user.as_str(), true)?;
    }
    tx.put_object(ROOT, REFERENCES, ObjType::Map)?;
    for kind in NoteKind::ALL {
        tx.put_object(ROOT, note_list(*kind), ObjType::List)?;
    }
    let review = tx.put_object(ROOT, REVIEW, ObjType::Map)?;
    for section in ReviewSection::ALL {
        tx.put(&review, section.key(), "")?;
    }
    Ok(())
}

/// The id of a map or list at the root, if it is there and of the right type.
pub(crate) fn object<D: ReadDoc>(doc: &D, key: &str, expected: ObjType) -> Option<ObjId> {
    match doc.get(ROOT, key).ok().flatten() {
        Some((Value::Object(t), id)) if t == expected => Some(id),
        _ => None,
    }
}

/// The map a field lives in.
pub(crate) fn container<D: ReadDoc>(doc: &D, c: Container) -> Option<ObjId> {
    match c {
        Container::Root => Some(ROOT),
        Container::Review => object(doc, REVIEW, ObjType::Map),
    }
}

fn to_field_value<D: ReadDoc>(doc: &D, value: Value<'_>, id: &ObjId) -> FieldValue {
    match value {
        Value::Scalar(s) => FieldValue::from_scalar(&s),
        Value::Object(ObjType::Text) => FieldValue::Text(doc.text(id).unwrap_or_default()),
        Value::Object(t) => FieldValue::Text(format!("({t:?} object)")),
    }
}

/// A field's current (winning) value.
pub(crate) fn read_field<D: ReadDoc>(doc: &D, field: Field) -> FieldValue {
    let (c, key) = field.location();
    container(doc, c)
        .and_then(|obj| doc.get(&obj, key).ok().flatten())
        .map_or(FieldValue::Empty, |(v, id)| to_field_value(doc, v, &id))
}

/// Every distinct value a field currently holds, the winner first. One value means no conflict;
/// none means the field is missing.
pub(crate) fn read_field_values<D: ReadDoc>(doc: &D, field: Field) -> Vec<FieldValue> {
    let (c, key) = field.location();
    let Some(obj) = container(doc, c) else {
        return Vec::new();
    };
    let winner = doc.get(&obj, key).ok().flatten();
    let all = doc.get_all(&obj, key).unwrap_or_default();
    let mut values: Vec<FieldValue> = Vec::with_capacity(all.len());
    for (v, id) in winner.into_iter().chain(all) {
        let v = to_field_value(doc, v, &id);
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values
}

fn text(doc: &impl ReadDoc, field: Field) -> String {
    match read_field(doc, field) {
        FieldValue::Text(t) => t,
        FieldValue::Empty => String::new(),
        other => other.to_string(),
    }
}

fn keyword<T>(doc: &impl ReadDoc, field: Field, parse: fn(&str) -> Option<T>) -> Option<T> {
    read_field(doc, field).as_text().and_then(parse)
}

fn level<T>(doc: &impl ReadDoc, field: Field, parse: fn(u8) -> Option<T>) -> Result<T, ReadError> {
    match read_field(doc, field) {
        FieldValue::Number(n) => u8::try_from(n).ok().and_then(parse),
        _ => None,
    }
    .ok_or_else(|| {
        ReadError::corrupt(
            field.label(),
            format!("{} is not 1, 2 or 3", read_field(doc, field)),
        )
    })
}

fn time(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<DeviceTime> {
    match doc.get(obj, key).ok().flatten() {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Timestamp(t) | ScalarValue::Int(t) => Some(DeviceTime::from_millis(*t)),
            ScalarValue::Uint(u) => i64::try_from(*u).ok().map(DeviceTime::from_millis),
            ScalarValue::F64(f) if f.is_finite() => Some(DeviceTime::from_millis(*f as i64)),
            _ => None,
        },
        _ => None,
    }
}

/// Reads the notes of one kind, oldest first (by device time, then id for a stable order).
pub(crate) fn read_notes<D: ReadDoc + autosurgeon::ReadDoc>(doc: &D, kind: NoteKind) -> Vec<Note> {
    let Some(list) = object(doc, note_list(kind), ObjType::List) else {
        return Vec::new();
    };
    let mut notes: Vec<Note> = (0..ReadDoc::length(doc, &list))
        .filter_map(|i| {
            let (_, id) = ReadDoc::get(doc, &list, i).ok().flatten()?;
            let stored: StoredNote = autosurgeon::hydrate_prop(doc, &list, i).ok()?;
            Some(Note {
                id: id.to_string(),
                author: stored.author.0,
                at: stored.at,
                body: stored.body.0,
            })
        })
        .collect();
    notes.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    notes
}

fn true_keys(doc: &impl ReadDoc, key: &str) -> Vec<String> {
    let Some(map) = object(doc, key, ObjType::Map) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = doc
        .map_range(&map, ..)
        .filter(|item| matches!(item.value, ValueRef::Scalar(ScalarValueRef::Boolean(true))))
        .map(|item| item.key.to_string())
        .collect();
    keys.sort();
    keys
}

/// The state, which guards need even when the rest of the document is damaged.
pub(crate) fn read_state(doc: &impl ReadDoc) -> Result<State, ReadError> {
    let stored = read_field(doc, Field::State);
    stored
        .as_text()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ReadError::corrupt("state", format!("\"{stored}\" is not a known state")))
}

/// Checks the type marker and schema version.
pub(crate) fn check_marker(doc: &impl ReadDoc) -> Result<(), ReadError> {
    match doc.get(ROOT, TYPE).ok().flatten() {
        Some((Value::Scalar(s), _)) if s.as_str() == Some(DOC_TYPE) => {}
        _ => return Err(ReadError::NotAnIncident),
    }
    match read_root_scalar(doc, SCHEMA) {
        FieldValue::Number(n) if n > SCHEMA_VERSION as i64 => {
            Err(ReadError::NewerSchema { found: n as u64 })
        }
        FieldValue::Number(_) => Ok(()),
        other => Err(ReadError::corrupt("format version", other.to_string())),
    }
}

fn read_root_scalar(doc: &impl ReadDoc, key: &str) -> FieldValue {
    doc.get(ROOT, key)
        .ok()
        .flatten()
        .map_or(FieldValue::Empty, |(v, id)| to_field_value(doc, v, &id))
}

/// Reads a whole incident.
pub fn read_incident<D: ReadDoc + autosurgeon::ReadDoc>(doc: &D) -> Result<Incident, ReadError> {
    check_marker(doc)?;
    let reference_text = match read_root_scalar(doc, REFERENCE) {
        FieldValue::Text(t) => t,
        other => other.to_string(),
    };
    let reference: ReferenceNumber = reference_text
        .parse()
        .map_err(|_| ReadError::corrupt("reference number", format!("\"{reference_text}\"")))?;
    let reported_at = time(doc, &ROOT, REPORTED_AT)
        .ok_or_else(|| ReadError::corrupt("report time", "missing"))?;
    let review: StoredReview = object(doc, REVIEW, ObjType::Map)
        .and_then(|_| autosurgeon::hydrate_prop(doc, ROOT, REVIEW).ok())
        .unwrap_or_default();
    let optional_id = |field| Some(text(doc, field)).filter(|s| !s.is_empty());
    Ok(Incident {
        reference,
        title: text(doc, Field::Title),
        description: text(doc, Field::Description),
        caller: text(doc, Field::Caller),
        category: text(doc, Field::Category),
        subcategory: text(doc, Field::Subcategory),
        affected_service: text(doc, Field::AffectedService),
        affected_users: true_keys(doc, AFFECTED_USERS),
        detection_source: keyword(doc, Field::DetectionSource, DetectionSource::from_key)
            .unwrap_or(DetectionSource::Other),
        detected_at: time(doc, &ROOT, Field::DetectedAt.key()).unwrap_or(reported_at),
        reported_at,
        reported_by: match read_root_scalar(doc, REPORTED_BY) {
            FieldValue::Text(t) => t,
            _ => String::new(),
        },
        impact: level(doc, Field::Impact, Impact::from_level)?,
        urgency: level(doc, Field::Urgency, Urgency::from_level)?,
        assignment_group: text(doc, Field::AssignmentGroup),
        assignee: text(doc, Field::Assignee),
        escalation: keyword(doc, Field::Escalation, EscalationLevel::from_key)
            .unwrap_or(EscalationLevel::Level1),
        major_incident: matches!(
            read_field(doc, Field::MajorIncident),
            FieldValue::Flag(true)
        ),
        bridge_link: text(doc, Field::BridgeLink),
        state: read_state(doc)?,
        resolution_code: keyword(doc, Field::ResolutionCode, ResolutionCode::from_stored),
        resolution_notes: text(doc, Field::ResolutionNotes),
        work_notes: read_notes(doc, NoteKind::WorkNote),
        comments: read_notes(doc, NoteKind::Comment),
        status_updates: read_notes(doc, NoteKind::StatusUpdate),
        parent: optional_id(Field::Parent),
        duplicate_of: optional_id(Field::DuplicateOf),
        restricted_to: crate::access::Readers::from_values(read_field_values(
            doc,
            Field::RestrictedTo,
        ))
        .groups()
        .unwrap_or_default(),
        sla_definition: crate::sla::SlaDefinition::decode(&text(doc, Field::SlaDefinition)),
        references: true_keys(doc, REFERENCES)
            .iter()
            .filter_map(|k| crate::incident::ExternalRef::from_key(k))
            .collect(),
        review: PostIncidentReview {
            overview: review.overview.0,
            impact_analysis: review.impact_analysis.0,
            root_cause: review.root_cause.0,
            corrective_actions: review.corrective_actions.0,
            lessons_learned: review.lessons_learned.0,
            appendices: review.appendices.0,
        },
    })
}
