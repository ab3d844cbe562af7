//! [`IncidentDoc`]: one incident as one Automerge document, and the way in for every command.
//!
//! The app, the tests and any future server all go through this type: create an incident, load
//! one from bytes, execute commands on it, merge another peer's copy, and read it back as an
//! [`IncidentView`] with its priority, SLA clocks, communication status, conflicts and timeline.

use automerge::{transaction::CommitOptions, Automerge, ChangeHash};

use crate::command::{apply, Command, CommandError};
use crate::communication::{communication_status, CommunicationFacts, CommunicationStatus};
use crate::config::WorkspaceConfig;
use crate::conflict::{find_conflicts, Conflict};
use crate::field::{Field, FieldValue};
use crate::history::{
    audit_records, encode_message, milestones, state_changes, timeline, Attribution, AuditRecord,
    Event, Milestones, TimelineEntry,
};
use crate::incident::{
    clean_line, clean_text, clean_user, limits, DetectionSource, FieldError, Incident, NewIncident,
    ValidationErrors,
};
use crate::priority::Priority;
use crate::reference::ReferenceNumber;
use crate::schema::{self, read_field_values, read_incident, InitialValues, ReadError};
use crate::sla::{compute_clocks, SlaClocks, SlaDefinition};
use crate::state::State;
use crate::time::DeviceTime;

/// What a successful command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A change was recorded.
    Changed {
        /// The new change.
        hash: ChangeHash,
        /// What it recorded.
        events: Vec<Event>,
    },
    /// Nothing needed to change (the incident already looked like that).
    Unchanged,
}

/// An incident document.
#[derive(Debug, Clone)]
pub struct IncidentDoc {
    doc: Automerge,
}

/// Everything the app shows about one incident, computed at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentView {
    /// The stored incident.
    pub incident: Incident,
    /// Its priority under the workspace matrix.
    pub priority: Priority,
    /// Response and resolution clocks.
    pub sla: SlaClocks,
    /// The SLA definition the clocks measure against.
    pub sla_definition: SlaDefinition,
    /// Updates and reports due.
    pub communication: CommunicationStatus,
    /// Acknowledged, resolved, closed, canceled.
    pub milestones: Milestones,
    /// Fields holding concurrent values.
    pub conflicts: Vec<Conflict>,
    /// Who did what, when on their device.
    pub timeline: Vec<TimelineEntry>,
    /// The latest device time in its history.
    pub last_updated: DeviceTime,
}

fn clean_new(
    new: &NewIncident,
    origin: &Attribution,
    cfg: &WorkspaceConfig,
) -> Result<(NewIncident, Attribution), ValidationErrors> {
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, FieldError>| {
        r.unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        })
    };
    let short =
        |key: &str, label: &str, v: &str| clean_line(key, label, v, limits::SHORT_TEXT, false);
    let mut cleaned = NewIncident {
        title: keep(clean_line(
            "title",
            "Title",
            &new.title,
            limits::TITLE,
            true,
        )),
        description: keep(clean_text(
            "description",
            "Description",
            &new.description,
            false,
        )),
        caller: keep(short("caller", "Caller", &new.caller)),
        affected_service: keep(short(
            "affected_service",
            "Affected service",
            &new.affected_service,
        )),
        assignment_group: keep(short(
            "assignment_group",
            "Assignment group",
            &new.assignment_group,
        )),
        assignee: keep(short("assignee", "Assignee", &new.assignee)),
        affected_users: Vec::new(),
        ..new.clone()
    };
    let origin = match origin.cleaned() {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            origin.clone()
        }
    };
    let caller_failed = errors.iter().any(|e| e.field == "caller");
    if cleaned.detection_source == DetectionSource::UserReport
        && cleaned.caller.is_empty()
        && !caller_failed
    {
        errors.push(FieldError::new(
            "caller",
            "Caller is required for incidents reported by a user.",
        ));
    }
    match cfg.canonical_category(&new.category, &new.subcategory) {
        Ok((c, s)) => (cleaned.category, cleaned.subcategory) = (c, s),
        Err(e) => errors.push(FieldError::new("category", e.to_string())),
    }
    for user in &new.affected_users {
        match clean_user(user) {
            Ok(u) if !cleaned.affected_users.contains(&u) => cleaned.affected_users.push(u),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if cleaned.affected_users.len() > limits::AFFECTED_USERS {
        errors.push(FieldError::new(
            "affected_users",
            format!(
                "An incident can list at most {} affected users.",
                limits::AFFECTED_USERS
            ),
        ));
    }
    if new.detected_at.is_some_and(|d| d > origin.at) {
        errors.push(FieldError::new(
            "detected_at",
            "The detection time cannot be in the future.",
        ));
    }
    if errors.is_empty() {
        Ok((cleaned, origin))
    } else {
        Err(ValidationErrors(errors))
    }
}

impl IncidentDoc {
    /// Logs a new incident: validates the form (reporting every problem at once) and writes the
    /// whole document skeleton in its first change.
    pub fn create(
        reference: &ReferenceNumber,
        new: &NewIncident,
        origin: &Attribution,
        cfg: &WorkspaceConfig,
    ) -> Result<IncidentDoc, ValidationErrors> {
        let (new, origin) = clean_new(new, origin, cfg)?;
        let events = [Event::Created {
            reference: reference.to_string(),
            title: new.title.clone(),
        }];
        let mut doc = Automerge::new();
        doc.transact_with(
            |_| {
                CommitOptions::default()
                    .with_message(encode_message(&origin, &events))
                    .with_time(origin.at.unix_seconds())
            },
            |tx| {
                schema::initialise(
                    tx,
                    &InitialValues {
                        reference,
                        new: &new,
                        origin: &origin,
                        sla: SlaDefinition::current(
                            &cfg.sla,
                            cfg.priority_matrix.priority(new.impact, new.urgency),
                        ),
                    },
                )
            },
        )
        .map_err(|f| ValidationErrors(vec![FieldError::new("document", f.error.to_string())]))?;
        Ok(IncidentDoc { doc })
    }

    /// An empty document about to be filled from a peer (sync creates one for an incident this
    /// device has not seen yet). It reads as an error until the incident's first change arrives.
    pub fn incoming() -> IncidentDoc {
        IncidentDoc {
            doc: Automerge::new(),
        }
    }

    /// Wraps any Automerge document unchecked: a device keeps its workspace document beside its
    /// incidents, stored and synced the same way, and reads it with
    /// [`crate::workspace::WorkspaceDoc`].
    pub fn holding(doc: Automerge) -> IncidentDoc {
        IncidentDoc { doc }
    }

    /// Wraps an Automerge document after checking it is an incident.
    pub fn from_automerge(doc: Automerge) -> Result<IncidentDoc, ReadError> {
        schema::check_marker(&doc)?;
        Ok(IncidentDoc { doc })
    }

    /// Loads saved bytes (a snapshot, change chunks, or both concatenated).
    pub fn load(bytes: &[u8]) -> Result<IncidentDoc, ReadError> {
        let doc = Automerge::load(bytes).map_err(|e| ReadError::Load(e.to_string()))?;
        Self::from_automerge(doc)
    }

    /// The underlying document, for storage and sync.
    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    /// The underlying document, for receiving sync messages.
    pub fn automerge_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    /// Gives up the wrapper.
    pub fn into_automerge(self) -> Automerge {
        self.doc
    }

    /// A full compressed snapshot.
    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// A copy for another actor (a second device in tests).
    pub fn fork(&self) -> IncidentDoc {
        IncidentDoc {
            doc: self.doc.fork(),
        }
    }

    /// This incident without the `refused` changes and everything built on them (changes the
    /// relay refused: discarding them brings the device back in step), as a new copy under a new
    /// actor, with what the discarded changes wrote, as lines a person can copy.
    pub fn without(&self, refused: &[ChangeHash]) -> Result<(IncidentDoc, Vec<String>), ReadError> {
        let mut dropped: std::collections::HashSet<ChangeHash> = refused.iter().copied().collect();
        let changes = self.doc.get_changes(&[]);
        let mut kept = Vec::new();
        for change in &changes {
            if dropped.contains(&change.hash()) || change.deps().iter().any(|d| dropped.contains(d))
            {
                dropped.insert(change.hash());
            } else {
                kept.push(change.hash());
            }
        }
        // The heads of what is kept: kept changes no other kept change depends on.
        let depended: std::collections::HashSet<ChangeHash> = changes
            .iter()
            .filter(|c| !dropped.contains(&c.hash()))
            .flat_map(|c| c.deps().iter().copied())
            .collect();
        let heads: Vec<ChangeHash> = kept.into_iter().filter(|h| !depended.contains(h)).collect();
        let text = self
            .doc
            .diff(&heads, &self.doc.get_heads())
            .into_iter()
            .filter_map(|patch| match patch.action {
                automerge::PatchAction::PutMap { key, value, .. } => match value.0 {
                    automerge::Value::Scalar(s) => match s.as_ref() {
                        automerge::ScalarValue::Str(t) if !t.is_empty() => {
                            Some(format!("{key}: {t}"))
                        }
                        _ => None,
                    },
                    _ => None,
                },
                automerge::PatchAction::SpliceText { value, .. } => {
                    Some(value.make_string()).filter(|t| !t.is_empty())
                }
                _ => None,
            })
            .collect();
        let doc = self
            .doc
            .fork_at(&heads)
            .map_err(|e| ReadError::Load(e.to_string()))?;
        Ok((IncidentDoc { doc }, text))
    }

    /// Takes in every change of `other` (another peer's copy of the same incident).
    pub fn merge(&mut self, other: &mut IncidentDoc) -> Result<(), ReadError> {
        self.doc
            .merge(&mut other.doc)
            .map_err(|e| ReadError::Load(e.to_string()))?;
        Ok(())
    }

    /// Validates and applies a command as one change, or refuses it and changes nothing.
    pub fn execute(
        &mut self,
        cmd: &Command,
        origin: &Attribution,
        cfg: &WorkspaceConfig,
    ) -> Result<Outcome, CommandError> {
        self.execute_all(std::slice::from_ref(cmd), origin, cfg)
    }

    /// Runs `cmds` in order as one change: each sees what the ones before it wrote, and the
    /// first refusal takes them all back, so a form never half-saves.
    pub fn execute_all(
        &mut self,
        cmds: &[Command],
        origin: &Attribution,
        cfg: &WorkspaceConfig,
    ) -> Result<Outcome, CommandError> {
        let origin = origin.cleaned()?;
        let result = self.doc.transact_with(
            |events: &Vec<Event>| {
                CommitOptions::default()
                    .with_message(encode_message(&origin, events))
                    .with_time(origin.at.unix_seconds())
            },
            |tx| {
                let mut events = Vec::new();
                for cmd in cmds {
                    events.extend(apply(tx, cmd, &origin, cfg)?);
                }
                Ok(events)
            },
        );
        match result {
            Ok(done) => Ok(match done.hash {
                Some(hash) => Outcome::Changed {
                    hash,
                    events: done.result,
                },
                None => Outcome::Unchanged,
            }),
            Err(failure) => Err(failure.error),
        }
    }

    /// Only its state: what the automation needs to decide on an alert, without reading every
    /// note of an incident that has fired a thousand times.
    pub fn state(&self) -> Result<State, ReadError> {
        schema::check_marker(&self.doc)?;
        schema::read_state(&self.doc)
    }

    /// The incident as stored.
    pub fn read(&self) -> Result<Incident, ReadError> {
        read_incident(&self.doc)
    }

    /// Every change, in history order.
    pub fn history(&self) -> Vec<AuditRecord> {
        audit_records(&self.doc)
    }

    /// The distinct values a field holds, the one shown first; more than one is a conflict.
    pub fn field_values(&self, field: Field) -> Vec<FieldValue> {
        read_field_values(&self.doc, field)
    }

    /// Fields holding concurrent values.
    pub fn conflicts(&self) -> Vec<Conflict> {
        find_conflicts(&self.doc)
    }

    /// Everything the app shows, computed at `now`.
    pub fn view(&self, cfg: &WorkspaceConfig, now: DeviceTime) -> Result<IncidentView, ReadError> {
        let incident = self.read()?;
        let records = self.history();
        let priority = incident.priority(&cfg.priority_matrix);
        let definition =
            SlaDefinition::applying(incident.sla_definition.as_ref(), &cfg.sla, priority);
        let sla = compute_clocks(
            &cfg.sla,
            cfg.calendar_named(&definition.target.business_calendar),
            &definition,
            incident.reported_at,
            &state_changes(&records),
            now,
        );
        let communication = communication_status(
            &cfg.communication,
            &CommunicationFacts {
                priority,
                major: incident.major_incident,
                state: incident.state,
                reported: incident.reported_at,
                last_comment: incident.comments.iter().map(|n| n.at).max(),
                last_status_update: incident.status_updates.iter().map(|n| n.at).max(),
                review_complete: incident.review.is_complete(),
            },
        );
        Ok(IncidentView {
            priority,
            sla,
            sla_definition: definition,
            communication,
            milestones: milestones(&records, incident.state),
            conflicts: self.conflicts(),
            timeline: timeline(&records, Some(&incident)),
            last_updated: records
                .iter()
                .map(|r| r.at)
                .max()
                .unwrap_or(incident.reported_at),
            incident,
        })
    }
}
