//! The audit trail, derived from the document's own history.
//!
//! Every command commits exactly one Automerge change whose message is a small JSON record: who
//! did it, when on their device, and what happened ([`Event`]s). The timeline, the milestones
//! (acknowledged, resolved, closed) and the state changes the SLA clocks run on are all read back
//! from those messages, so the audit can never disagree with the data, and two technicians'
//! offline work interleaves by device time after it merges.
//!
//! Changes made by other Automerge peers (without our message) still appear, attributed to their
//! actor id at their change time.

use automerge::Automerge;
use serde::{Deserialize, Serialize};

use crate::field::{Field, FieldValue};
use crate::incident::limits;
use crate::incident::{ExternalRef, FieldError, Incident, IncidentLink, NoteKind};
use crate::sla::StateChange;
use crate::state::{ActionKind, State};
use crate::time::DeviceTime;

/// Who did something and when, on their device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The person, as the device knows them.
    pub by: String,
    /// The device's time when they did it.
    pub at: DeviceTime,
}

impl Attribution {
    /// Someone at a time.
    pub fn new(by: impl Into<String>, at: DeviceTime) -> Self {
        Attribution { by: by.into(), at }
    }

    /// Checks there is a name to attribute the change to.
    pub(crate) fn cleaned(&self) -> Result<Attribution, FieldError> {
        let by =
            crate::incident::clean_line("user", "Your name", &self.by, limits::SHORT_TEXT, true)
                .map_err(|_| {
                    FieldError::new(
                        "user",
                        "Set your name in Settings before changing incidents.",
                    )
                })?;
        Ok(Attribution { by, at: self.at })
    }
}

/// One thing that happened to an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The incident was logged.
    Created {
        /// Its reference number.
        reference: String,
        /// Its title then.
        title: String,
    },
    /// A single-valued field changed. Long text is abbreviated.
    FieldChanged {
        /// Which field.
        field: Field,
        /// The value before.
        from: FieldValue,
        /// The value after.
        to: FieldValue,
    },
    /// Someone was added to the affected users.
    AffectedUserAdded {
        /// Their name.
        user: String,
    },
    /// Someone was removed from the affected users.
    AffectedUserRemoved {
        /// Their name.
        user: String,
    },
    /// A lifecycle action.
    Transition {
        /// The action.
        action: ActionKind,
        /// The state before.
        from: State,
        /// The state after.
        to: State,
        /// The note written with it (a comment to the caller, or a reason), by note id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A note was added.
    NoteAdded {
        /// Which list.
        note_kind: NoteKind,
        /// The note's id.
        note: String,
    },
    /// A parent or duplicate-of link was set or removed.
    Linked {
        /// [`Field::Parent`] or [`Field::DuplicateOf`].
        link: Field,
        /// The other incident, or `None` when removed.
        target: Option<IncidentLink>,
    },
    /// A problem, change or knowledge reference was added.
    ReferenceAdded {
        /// The reference.
        reference: ExternalRef,
    },
    /// A reference was removed.
    ReferenceRemoved {
        /// The reference.
        reference: ExternalRef,
    },
    /// Someone chose one of a field's conflicting values.
    ConflictSettled {
        /// Which field.
        field: Field,
        /// The value kept.
        value: FieldValue,
    },
    /// A change from another application, or from a newer Outpost this build does not understand.
    #[serde(other)]
    Unrecognized,
}

/// The JSON stored as a change's message.
#[derive(Serialize, Deserialize)]
struct Message {
    /// Format marker and version.
    outpost: u32,
    by: String,
    at: DeviceTime,
    events: Vec<Event>,
}

const MESSAGE_VERSION: u32 = 1;

/// The change message for a command.
pub(crate) fn encode_message(origin: &Attribution, events: &[Event]) -> String {
    serde_json::to_string(&Message {
        outpost: MESSAGE_VERSION,
        by: origin.by.clone(),
        at: origin.at,
        events: events.to_vec(),
    })
    .expect("audit messages are plain data")
}

/// Reads a change message written by [`encode_message`].
pub fn decode_message(message: &str) -> Option<(Attribution, Vec<Event>)> {
    let m: Message = serde_json::from_str(message).ok()?;
    Some((Attribution { by: m.by, at: m.at }, m.events))
}

/// One change in an incident's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The Automerge change hash (hex).
    pub change: String,
    /// The Automerge actor that made it (hex).
    pub actor: String,
    /// Who, as their device recorded it.
    pub by: String,
    /// When, on their device.
    pub at: DeviceTime,
    /// What happened.
    pub events: Vec<Event>,
}

/// Every change of a document, in causal (history) order.
pub fn audit_records(doc: &Automerge) -> Vec<AuditRecord> {
    doc.get_changes_meta(&[])
        .into_iter()
        .map(|meta| {
            let actor = meta.actor.to_hex_string();
            let decoded = meta.message.as_deref().and_then(decode_message);
            let (by, at, events) = match decoded {
                Some((origin, events)) => (origin.by, origin.at, events),
                None => (
                    format!("device {}", &actor[..actor.len().min(8)]),
                    DeviceTime::from_millis(meta.timestamp.saturating_mul(1000)),
                    vec![Event::Unrecognized],
                ),
            };
            AuditRecord {
                change: meta.hash.to_string(),
                actor,
                by,
                at,
                events,
            }
        })
        .collect()
}

/// Records in device-time order (stable: equal times keep history order).
fn by_device_time(records: &[AuditRecord]) -> Vec<&AuditRecord> {
    let mut ordered: Vec<&AuditRecord> = records.iter().collect();
    ordered.sort_by_key(|r| r.at);
    ordered
}

fn events_with_time(records: &[AuditRecord]) -> impl Iterator<Item = (&AuditRecord, &Event)> {
    by_device_time(records)
        .into_iter()
        .flat_map(|r| r.events.iter().map(move |e| (r, e)))
}

/// The states the incident entered, with device times, for the SLA clocks.
pub fn state_changes(records: &[AuditRecord]) -> Vec<StateChange> {
    events_with_time(records)
        .filter_map(|(r, e)| match e {
            Event::Transition { to, .. } => Some(StateChange {
                at: r.at,
                state: *to,
            }),
            Event::ConflictSettled {
                field: Field::State,
                value,
            } => value
                .as_text()
                .and_then(|s| s.parse().ok())
                .map(|state| StateChange { at: r.at, state }),
            _ => None,
        })
        .collect()
}

/// Someone at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// When, on their device.
    pub at: DeviceTime,
    /// Who.
    pub by: String,
}

/// The moments ITIL reports on, derived from the history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    /// First moved out of New.
    pub acknowledged: Option<Stamp>,
    /// Last resolved (only while Resolved or Closed).
    pub resolved: Option<Stamp>,
    /// Closed (only while Closed).
    pub closed: Option<Stamp>,
    /// Canceled (only while Canceled).
    pub canceled: Option<Stamp>,
    /// Last given its current group or assignee (its logging, if never since): whose
    /// assignment a notice tells of.
    #[serde(default)]
    pub assigned: Option<Stamp>,
}

/// Milestones given the history and the current state.
pub fn milestones(records: &[AuditRecord], current: State) -> Milestones {
    let changes: Vec<(Stamp, State)> = events_with_time(records)
        .filter_map(|(r, e)| {
            let stamp = || Stamp {
                at: r.at,
                by: r.by.clone(),
            };
            match e {
                Event::Transition { to, .. } => Some((stamp(), *to)),
                Event::ConflictSettled {
                    field: Field::State,
                    value,
                } => value
                    .as_text()
                    .and_then(|s| s.parse().ok())
                    .map(|s| (stamp(), s)),
                _ => None,
            }
        })
        .collect();
    let last_into = |state: State| {
        changes
            .iter()
            .rev()
            .find(|(_, s)| *s == state)
            .map(|(st, _)| st.clone())
    };
    Milestones {
        acknowledged: changes
            .iter()
            .find(|(_, s)| *s != State::New)
            .map(|(st, _)| st.clone()),
        resolved: matches!(current, State::Resolved | State::Closed)
            .then(|| last_into(State::Resolved))
            .flatten(),
        closed: (current == State::Closed)
            .then(|| last_into(State::Closed))
            .flatten(),
        canceled: (current == State::Canceled)
            .then(|| last_into(State::Canceled))
            .flatten(),
        assigned: events_with_time(records)
            .filter(|(_, e)| match e {
                Event::Created { .. } => true,
                Event::FieldChanged { field, .. } => {
                    matches!(field, Field::AssignmentGroup | Field::Assignee)
                }
                _ => false,
            })
            .last()
            .map(|(r, _)| Stamp {
                at: r.at,
                by: r.by.clone(),
            }),
    }
}

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When, on the device.
    pub at: DeviceTime,
    /// Who.
    pub by: String,
    /// What happened, in a sentence.
    pub summary: String,
    /// Supporting text: the note written, for instance.
    pub detail: Option<String>,
    /// The change it came from.
    pub change: String,
}

fn describe(event: &Event, incident: Option<&Incident>) -> (String, Option<String>) {
    let note_body = |id: &str| {
        incident
            .and_then(|i| i.find_note(id))
            .map(|(_, n)| n.body.clone())
    };
    match event {
        Event::Created { reference, title } => (format!("Logged {reference}: {title}"), None),
        Event::FieldChanged { field, to, .. } if field.is_long_text() => (
            format!("Edited {}", field.label().to_lowercase()),
            Some(to.to_string()).filter(|s| !s.is_empty()),
        ),
        Event::FieldChanged { field, from, to } => (
            format!(
                "Changed {} from {} to {}",
                field.label().to_lowercase(),
                field.display(from),
                field.display(to)
            ),
            None,
        ),
        Event::AffectedUserAdded { user } => (format!("Added affected user {user}"), None),
        Event::AffectedUserRemoved { user } => (format!("Removed affected user {user}"), None),
        Event::Transition {
            action,
            from,
            to,
            note,
        } => (
            format!("{}: {from} → {to}", action.label()),
            note.as_deref().and_then(note_body),
        ),
        Event::NoteAdded { note_kind, note } => (
            format!("Added a {}", note_kind.label().to_lowercase()),
            note_body(note),
        ),
        Event::Linked {
            link,
            target: Some(t),
        } => (
            format!("Set {} to {}", link.label().to_lowercase(), t.reference),
            None,
        ),
        Event::Linked { link, target: None } => {
            (format!("Removed the {}", link.label().to_lowercase()), None)
        }
        Event::ReferenceAdded { reference } => (format!("Linked {reference}"), None),
        Event::ReferenceRemoved { reference } => (format!("Unlinked {reference}"), None),
        Event::ConflictSettled { field, value } => (
            format!(
                "Settled conflicting {}: kept {}",
                field.label().to_lowercase(),
                field.display(value)
            ),
            None,
        ),
        Event::Unrecognized => ("Changed by another application".to_string(), None),
    }
}

/// The timeline, in device-time order, with note text looked up in `incident` when given.
pub fn timeline(records: &[AuditRecord], incident: Option<&Incident>) -> Vec<TimelineEntry> {
    events_with_time(records)
        .map(|(r, e)| {
            let (summary, detail) = describe(e, incident);
            TimelineEntry {
                at: r.at,
                by: r.by.clone(),
                summary,
                detail,
                change: r.change.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_foreign_ones_are_ignored() {
        let origin = Attribution::new("alice", DeviceTime::from_millis(1_790_000_000_000));
        let events = vec![Event::NoteAdded {
            note_kind: NoteKind::WorkNote,
            note: "3@ab".into(),
        }];
        let (o, e) = decode_message(&encode_message(&origin, &events)).unwrap();
        assert_eq!((o, e), (origin, events));
        assert_eq!(decode_message("fixed the thing"), None);
        assert_eq!(decode_message("{\"foo\":1}"), None);
    }

    #[test]
    fn events_from_a_newer_version_are_kept_as_unrecognized() {
        let json =
            r#"{"outpost":1,"by":"bob","at":5,"events":[{"kind":"teleported","where":"mars"}]}"#;
        let (_, events) = decode_message(json).unwrap();
        assert_eq!(events, vec![Event::Unrecognized]);
    }

    #[test]
    fn a_name_is_needed_to_attribute_changes() {
        let err = Attribution::new("  ", DeviceTime::EPOCH)
            .cleaned()
            .unwrap_err();
        assert_eq!(
            err.message,
            "Set your name in Settings before changing incidents."
        );
    }
}
