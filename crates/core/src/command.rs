//! Commands: everything a person can do to an incident, each validated and applied as one
//! Automerge change.
//!
//! A command either applies completely, recording its [`Event`]s in the change message, or is
//! refused with a [`CommandError`] and leaves the document untouched (the transaction is rolled
//! back). Commands write only the fields they change; a field that already shows the new value is
//! left alone, so an edit can never settle a conflict behind a person's back.

use automerge::{
    transaction::Transactable, transaction::Transaction, AutomergeError, ObjType, ReadDoc,
};

use crate::config::WorkspaceConfig;
use crate::field::{Field, FieldValue};
use crate::history::{Attribution, Event};
use crate::incident::{
    clean_line, clean_text, clean_user, limits, DetectionSource, EscalationLevel, ExternalRef,
    FieldError, IncidentLink, NoteKind, ReviewSection,
};
use crate::priority::{Impact, Urgency};
use crate::schema::{
    self, container, note_list, object, read_field, read_field_values, read_state, DocText,
    ReadError, StoredNote,
};
use crate::sla::SlaDefinition;
use crate::state::{Action, State, TransitionError};
use crate::time::DeviceTime;

/// How much of a long text value the audit trail keeps.
const AUDIT_TEXT: usize = 120;

/// Something a person does to an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Change the title (required).
    SetTitle(String),
    /// Change the description.
    SetDescription(String),
    /// Change the caller (required for user reports).
    SetCaller(String),
    /// Change the category and subcategory together (checked against the workspace catalog).
    SetCategory {
        /// Category, or empty.
        category: String,
        /// Subcategory, or empty.
        subcategory: String,
    },
    /// Change the affected service or configuration item.
    SetAffectedService(String),
    /// Set the bridge (coordination call) link, an http(s) address; empty to clear.
    SetBridgeLink(String),
    /// Change how it was detected.
    SetDetectionSource(DetectionSource),
    /// Change when it was detected.
    SetDetectedAt(DeviceTime),
    /// Change the impact.
    SetImpact(Impact),
    /// Change the urgency.
    SetUrgency(Urgency),
    /// Add someone to the affected users.
    AddAffectedUser(String),
    /// Remove someone from the affected users.
    RemoveAffectedUser(String),
    /// Assign to a team (empty to clear).
    SetAssignmentGroup(String),
    /// Assign to a person (empty to clear).
    SetAssignee(String),
    /// Escalate or de-escalate.
    SetEscalation(EscalationLevel),
    /// Declare or stand down a major incident.
    SetMajorIncident(bool),
    /// A lifecycle action.
    Transition(Action),
    /// Append a work note, comment or status update.
    AddNote {
        /// Which list.
        kind: NoteKind,
        /// The text.
        body: String,
    },
    /// Set or clear the parent incident.
    SetParent(Option<IncidentLink>),
    /// Set or clear the incident this one duplicates.
    SetDuplicateOf(Option<IncidentLink>),
    /// Restrict who may read it to these groups; none: everyone in the workspace.
    RestrictTo(Vec<String>),
    /// Point at a problem, change or knowledge article.
    AddReference(ExternalRef),
    /// Remove such a pointer.
    RemoveReference(ExternalRef),
    /// Write one section of the post-incident review.
    UpdateReview {
        /// Which section.
        section: ReviewSection,
        /// Its new text.
        text: String,
    },
    /// Keep one of a field's conflicting values.
    SettleConflict {
        /// The conflicting field.
        field: Field,
        /// The value to keep; must be one of the current values.
        value: FieldValue,
    },
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The lifecycle guard refused the action.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Closed and Canceled incidents are read-only.
    #[error("This incident is {state} and can no longer be changed.")]
    ReadOnly {
        /// The read-only state.
        state: State,
    },
    /// An input is missing or unusable.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The field holds a single value.
    #[error("{} has no conflicting values to settle.", .field.label())]
    NoConflict {
        /// The field.
        field: Field,
    },
    /// The chosen value is not one of the field's values.
    #[error("That value is not one of the conflicting values of {}; reload and choose again.", .field.label())]
    NotAConflictingValue {
        /// The field.
        field: Field,
    },
    /// Linking an incident to itself.
    #[error("An incident cannot be linked to itself.")]
    SelfLink,
    /// The document is damaged where the command needs it.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Automerge refused the change (a bug, or a damaged document).
    #[error("The change could not be recorded: {0}")]
    Storage(String),
}

impl From<AutomergeError> for CommandError {
    fn from(e: AutomergeError) -> Self {
        CommandError::Storage(e.to_string())
    }
}

impl CommandError {
    /// The input a refusal is about, when it is about one, so a form can show it in place.
    pub fn field(&self) -> Option<&str> {
        match self {
            CommandError::Invalid(e) => Some(&e.field),
            CommandError::Transition(TransitionError::ResolutionCodeRequired) => {
                Some("resolution_code")
            }
            CommandError::Transition(TransitionError::ResolutionNotesRequired) => {
                Some("resolution_notes")
            }
            CommandError::Transition(
                TransitionError::CommentRequiredForAwaitingCaller
                | TransitionError::ReasonRequired { .. },
            ) => Some("note"),
            _ => None,
        }
    }
}

fn missing(what: &str) -> CommandError {
    CommandError::Read(ReadError::Corrupt {
        field: what.to_string(),
        detail: "missing".to_string(),
    })
}

/// The commands being applied to one transaction, with the events they record.
struct Apply<'t, 'd> {
    tx: &'t mut Transaction<'d>,
    origin: &'t Attribution,
    events: Vec<Event>,
}

impl Apply<'_, '_> {
    /// Writes a field unless it already shows `value`, recording the change.
    fn set(&mut self, field: Field, value: FieldValue) -> Result<(), CommandError> {
        if let Some(from) = self.put(field, &value)? {
            self.events.push(Event::FieldChanged {
                field,
                from: from.abbreviated(AUDIT_TEXT),
                to: value.abbreviated(AUDIT_TEXT),
            });
        }
        Ok(())
    }

    /// Writes a field unless it already shows `value`; returns the value replaced.
    fn put(
        &mut self,
        field: Field,
        value: &FieldValue,
    ) -> Result<Option<FieldValue>, CommandError> {
        let current = read_field(self.tx, field);
        if current == *value {
            return Ok(None);
        }
        let (c, key) = field.location();
        let obj = container(self.tx, c).ok_or_else(|| missing(field.label()))?;
        self.tx.put(&obj, key, value.to_scalar())?;
        Ok(Some(current))
    }

    /// Re-prioritising applies the new priority's SLA definition from then on: records the
    /// workspace's current one when the priority no longer matches what is recorded (or two
    /// devices recorded different ones), so the timeline says which definition applies.
    fn record_sla_definition(&mut self, cfg: &WorkspaceConfig) -> Result<(), CommandError> {
        let level = |field| match read_field(self.tx, field) {
            FieldValue::Number(n) => u8::try_from(n).ok(),
            _ => None,
        };
        let (Some(impact), Some(urgency)) = (
            level(Field::Impact).and_then(Impact::from_level),
            level(Field::Urgency).and_then(Urgency::from_level),
        ) else {
            return Ok(());
        };
        let priority = cfg.priority_matrix.priority(impact, urgency);
        let recorded = read_field_values(self.tx, Field::SlaDefinition);
        let current = match recorded.as_slice() {
            [FieldValue::Text(t)] => SlaDefinition::decode(t),
            _ => None,
        };
        if current.is_some_and(|d| d.priority == priority) {
            return Ok(());
        }
        let definition = SlaDefinition::current(&cfg.sla, priority);
        self.set_text(Field::SlaDefinition, definition.encode())
    }

    fn set_text(&mut self, field: Field, text: String) -> Result<(), CommandError> {
        self.set(field, FieldValue::Text(text))
    }

    /// Appends a note and returns its id.
    fn add_note(&mut self, kind: NoteKind, body: String) -> Result<String, CommandError> {
        let list = object(self.tx, note_list(kind), ObjType::List)
            .ok_or_else(|| missing(note_list(kind)))?;
        let index = self.tx.length(&list);
        let note = StoredNote {
            author: DocText(self.origin.by.clone()),
            at: self.origin.at,
            body: DocText(body),
        };
        autosurgeon::reconcile_insert(self.tx, list.clone(), index, note)
            .map_err(|e| CommandError::Storage(e.to_string()))?;
        let (_, id) = self
            .tx
            .get(&list, index)?
            .ok_or_else(|| missing("new note"))?;
        Ok(id.to_string())
    }

    /// Sets or deletes `key` in one of the root's set-like maps; true if anything changed.
    fn set_member(&mut self, map: &str, key: &str, present: bool) -> Result<bool, CommandError> {
        let obj = object(self.tx, map, ObjType::Map).ok_or_else(|| missing(map))?;
        let is_present = matches!(
            self.tx.get(&obj, key)?,
            Some((automerge::Value::Scalar(s), _)) if s.as_ref() == &automerge::ScalarValue::Boolean(true)
        );
        match (present, is_present) {
            (true, false) => self.tx.put(&obj, key, true)?,
            (false, true) => self.tx.delete(&obj, key)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn link(&mut self, field: Field, target: &Option<IncidentLink>) -> Result<(), CommandError> {
        if let Some(t) = target {
            let reference = self.tx.get(automerge::ROOT, schema::REFERENCE)?;
            let own_reference = reference.and_then(|(v, _)| v.as_str().map(str::to_string));
            if own_reference.as_deref() == Some(t.reference.as_str()) {
                return Err(CommandError::SelfLink);
            }
            clean_line(
                field.key(),
                field.label(),
                &t.document_id,
                limits::SHORT_TEXT,
                true,
            )?;
        }
        let value = FieldValue::Text(
            target
                .as_ref()
                .map(|t| t.document_id.clone())
                .unwrap_or_default(),
        );
        if self.put(field, &value)?.is_some() {
            self.events.push(Event::Linked {
                link: field,
                target: target.clone(),
            });
        }
        Ok(())
    }

    fn transition(&mut self, action: &Action) -> Result<(), CommandError> {
        let from = read_state(self.tx)?;
        // Validate text first so an over-long note is refused like any other input.
        let action = match action {
            Action::PutOnHold { reason, note } => Action::PutOnHold {
                reason: *reason,
                note: clean_text("note", "The note", note, false)?,
            },
            Action::Resolve { code, notes } => Action::Resolve {
                code: code.clone(),
                notes: clean_text("resolution_notes", "Resolution notes", notes, false)?,
            },
            Action::Reopen { reason } => Action::Reopen {
                reason: clean_text("note", "The reason", reason, false)?,
            },
            Action::Cancel { reason } => Action::Cancel {
                reason: clean_text("note", "The reason", reason, false)?,
            },
            other => other.clone(),
        };
        let to = from.apply(&action)?;
        self.put(Field::State, &FieldValue::Text(to.key()))?;
        let note = match &action {
            Action::PutOnHold { reason, note } if !note.is_empty() => {
                let kind = if *reason == crate::state::HoldReason::AwaitingCaller {
                    NoteKind::Comment
                } else {
                    NoteKind::WorkNote
                };
                Some(self.add_note(kind, note.clone())?)
            }
            Action::Reopen { reason } | Action::Cancel { reason } => {
                Some(self.add_note(NoteKind::WorkNote, reason.clone())?)
            }
            _ => None,
        };
        self.events.insert(
            0,
            Event::Transition {
                action: action.kind(),
                from,
                to,
                note,
            },
        );
        if let Action::Resolve {
            code: Some(code),
            notes,
        } = &action
        {
            self.set(Field::ResolutionCode, code.stored().into())?;
            self.set_text(Field::ResolutionNotes, notes.clone())?;
        }
        Ok(())
    }

    fn settle(&mut self, field: Field, value: &FieldValue) -> Result<(), CommandError> {
        let values = read_field_values(self.tx, field);
        if values.len() < 2 {
            return Err(CommandError::NoConflict { field });
        }
        if !values.contains(value) {
            return Err(CommandError::NotAConflictingValue { field });
        }
        let (c, key) = field.location();
        let obj = container(self.tx, c).ok_or_else(|| missing(field.label()))?;
        // A real new write, even of the value shown. A plain put of the shown value would only
        // delete the other values (Automerge's shortcut), and a concurrent edit by someone who had
        // not seen this choice would then replace it silently instead of conflicting with it.
        self.tx.delete(&obj, key)?;
        self.tx.put(&obj, key, value.to_scalar())?;
        self.events.push(Event::ConflictSettled {
            field,
            value: value.abbreviated(AUDIT_TEXT),
        });
        Ok(())
    }

    fn require_caller_for_user_reports(
        &mut self,
        caller: &str,
        source: DetectionSource,
    ) -> Result<(), CommandError> {
        if source == DetectionSource::UserReport && caller.is_empty() {
            return Err(FieldError::new(
                Field::Caller.key(),
                "Caller is required for incidents reported by a user.",
            )
            .into());
        }
        Ok(())
    }

    fn current_text(&self, field: Field) -> String {
        read_field(self.tx, field)
            .as_text()
            .unwrap_or_default()
            .to_string()
    }

    fn current_source(&self) -> DetectionSource {
        read_field(self.tx, Field::DetectionSource)
            .as_text()
            .and_then(DetectionSource::from_key)
            .unwrap_or(DetectionSource::Other)
    }

    fn run(&mut self, cmd: &Command, cfg: &WorkspaceConfig) -> Result<(), CommandError> {
        let short = |field: Field, value: &str, required: bool| {
            clean_line(
                field.key(),
                field.label(),
                value,
                limits::SHORT_TEXT,
                required,
            )
        };
        match cmd {
            Command::SetTitle(t) => {
                let t = clean_line(Field::Title.key(), "Title", t, limits::TITLE, true)?;
                self.set_text(Field::Title, t)
            }
            Command::SetDescription(d) => {
                let d = clean_text(Field::Description.key(), "Description", d, false)?;
                self.set_text(Field::Description, d)
            }
            Command::SetCaller(c) => {
                let c = short(Field::Caller, c, false)?;
                self.require_caller_for_user_reports(&c, self.current_source())?;
                self.set_text(Field::Caller, c)
            }
            Command::SetCategory {
                category,
                subcategory,
            } => {
                let (category, subcategory) = cfg
                    .canonical_category(category, subcategory)
                    .map_err(|e| FieldError::new(Field::Category.key(), e.to_string()))?;
                short(Field::Category, &category, false)?;
                short(Field::Subcategory, &subcategory, false)?;
                self.set_text(Field::Category, category)?;
                self.set_text(Field::Subcategory, subcategory)
            }
            Command::SetAffectedService(s) => {
                let s = short(Field::AffectedService, s, false)?;
                self.set_text(Field::AffectedService, s)
            }
            Command::SetBridgeLink(link) => {
                let link = bridge_link(link)?;
                self.set_text(Field::BridgeLink, link)
            }
            Command::SetDetectionSource(source) => {
                let caller = self.current_text(Field::Caller);
                self.require_caller_for_user_reports(&caller, *source)?;
                self.set(Field::DetectionSource, source.key().into())
            }
            Command::SetDetectedAt(at) => {
                let reported = self
                    .tx
                    .get(automerge::ROOT, schema::REPORTED_AT)?
                    .and_then(|(v, _)| v.as_scalar().map(FieldValue::from_scalar));
                if let Some(FieldValue::Time(reported)) = reported {
                    if *at > reported {
                        return Err(FieldError::new(
                            Field::DetectedAt.key(),
                            "The detection time cannot be after the incident was logged.",
                        )
                        .into());
                    }
                }
                self.set(Field::DetectedAt, FieldValue::Time(*at))
            }
            Command::SetImpact(i) => {
                self.set(Field::Impact, FieldValue::Number(i64::from(i.level())))
            }
            Command::SetUrgency(u) => {
                self.set(Field::Urgency, FieldValue::Number(i64::from(u.level())))
            }
            Command::AddAffectedUser(user) => {
                let user = clean_user(user)?;
                let users = object(self.tx, schema::AFFECTED_USERS, ObjType::Map)
                    .ok_or_else(|| missing("affected users"))?;
                if self.tx.length(&users) >= limits::AFFECTED_USERS {
                    return Err(FieldError::new(
                        "affected_users",
                        format!(
                            "An incident can list at most {} affected users.",
                            limits::AFFECTED_USERS
                        ),
                    )
                    .into());
                }
                if self.set_member(schema::AFFECTED_USERS, &user, true)? {
                    self.events.push(Event::AffectedUserAdded { user });
                }
                Ok(())
            }
            Command::RemoveAffectedUser(user) => {
                let user = user.trim().to_string();
                if self.set_member(schema::AFFECTED_USERS, &user, false)? {
                    self.events.push(Event::AffectedUserRemoved { user });
                }
                Ok(())
            }
            Command::SetAssignmentGroup(g) => {
                let g = short(Field::AssignmentGroup, g, false)?;
                self.set_text(Field::AssignmentGroup, g)
            }
            Command::SetAssignee(a) => {
                let a = short(Field::Assignee, a, false)?;
                self.set_text(Field::Assignee, a)
            }
            Command::SetEscalation(level) => self.set(Field::Escalation, level.key().into()),
            Command::SetMajorIncident(major) => {
                self.set(Field::MajorIncident, FieldValue::Flag(*major))
            }
            Command::Transition(Action::Resolve {
                code: Some(code),
                notes,
            }) => {
                let code = cfg
                    .canonical_resolution_code(code)
                    .map_err(|e| FieldError::new(Field::ResolutionCode.key(), e.to_string()))?;
                self.transition(&Action::Resolve {
                    code: Some(code),
                    notes: notes.clone(),
                })
            }
            Command::Transition(action) => self.transition(action),
            Command::AddNote { kind, body } => {
                let body = clean_text("note", kind.label(), body, true)?;
                let note = self.add_note(*kind, body)?;
                self.events.push(Event::NoteAdded {
                    note_kind: *kind,
                    note,
                });
                Ok(())
            }
            Command::SetParent(target) => self.link(Field::Parent, target),
            Command::SetDuplicateOf(target) => self.link(Field::DuplicateOf, target),
            Command::RestrictTo(groups) => {
                let text = crate::access::restriction(groups)?;
                if text.is_empty() && read_field(self.tx, Field::RestrictedTo) == FieldValue::Empty
                {
                    return Ok(());
                }
                self.set_text(Field::RestrictedTo, text)
            }
            Command::AddReference(r) | Command::RemoveReference(r) => {
                let id = clean_line("reference", r.kind.label(), &r.id, limits::SHORT_TEXT, true)?;
                let reference = ExternalRef { kind: r.kind, id };
                let adding = matches!(cmd, Command::AddReference(_));
                if self.set_member(schema::REFERENCES, &reference.key(), adding)? {
                    self.events.push(if adding {
                        Event::ReferenceAdded { reference }
                    } else {
                        Event::ReferenceRemoved { reference }
                    });
                }
                Ok(())
            }
            Command::UpdateReview { section, text } => {
                let text = clean_text(section.key(), section.label(), text, false)?;
                self.set_text(section.field(), text)
            }
            Command::SettleConflict { field, value } => self.settle(*field, value),
        }
    }
}

/// Applies a command inside a transaction; returns the events to record.
pub(crate) fn apply(
    tx: &mut Transaction<'_>,
    cmd: &Command,
    origin: &Attribution,
    cfg: &WorkspaceConfig,
) -> Result<Vec<Event>, CommandError> {
    let state = read_state(tx)?;
    let allowed = match cmd {
        // A conflict must always be settleable, whatever state the incident shows.
        Command::SettleConflict { .. } => true,
        // The review happens after closure (as in the seed case study), so it stays writable.
        Command::UpdateReview { .. } => state != State::Canceled,
        _ => !state.is_read_only(),
    };
    if !allowed {
        return Err(CommandError::ReadOnly { state });
    }
    let mut apply = Apply {
        tx,
        origin,
        events: Vec::new(),
    };
    apply.run(cmd, cfg)?;
    let reprioritised = match cmd {
        Command::SetImpact(_) | Command::SetUrgency(_) => true,
        Command::SettleConflict { field, .. } => matches!(field, Field::Impact | Field::Urgency),
        _ => false,
    };
    // Only when the command changed something: an edit that changes nothing records nothing.
    if reprioritised && !apply.events.is_empty() {
        apply.record_sla_definition(cfg)?;
    }
    Ok(apply.events)
}

/// A bridge link as stored: trimmed, and an http(s) address without spaces, or empty.
pub fn bridge_link(link: &str) -> Result<String, FieldError> {
    let link = link.trim();
    if link.is_empty() {
        return Ok(String::new());
    }
    let scheme_ok = ["https://", "http://"]
        .iter()
        .any(|s| link.len() > s.len() && link[..s.len()].eq_ignore_ascii_case(s));
    if !scheme_ok || link.chars().any(char::is_whitespace) {
        return Err(FieldError::new(
            Field::BridgeLink.key(),
            "Enter the bridge's address as a link, starting https:// (a Teams or any conference link).",
        ));
    }
    if link.chars().count() > limits::LINK {
        return Err(FieldError::new(
            Field::BridgeLink.key(),
            format!("A bridge link must be at most {} characters.", limits::LINK),
        ));
    }
    Ok(link.to_string())
}
