//! The incident as plain Rust types: what a person sees and fills in, with input validation.
//!
//! [`Incident`] is the read model hydrated from a document ([`crate::schema`] knows the layout);
//! [`NewIncident`] is the creation form. Nothing here touches Automerge directly.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::field::Field;
use crate::keyword::keyword_enum;
use crate::priority::{Impact, Priority, PriorityMatrix, Urgency};
use crate::reference::ReferenceNumber;
use crate::state::{ResolutionCode, State};
use crate::time::DeviceTime;

keyword_enum! {
    /// How an incident came to light.
    pub enum DetectionSource ("detection source") {
        /// Someone called, mailed or walked up.
        UserReport => ("user_report", "User report"),
        /// A monitoring tool showed it.
        Monitoring => ("monitoring", "Monitoring"),
        /// An automated alert fired.
        AutomatedAlert => ("automated_alert", "Automated alert"),
        /// A mail to the workspace's mailbox.
        Email => ("email", "Email"),
        /// Anything else.
        Other => ("other", "Other"),
    }
}

keyword_enum! {
    /// Who is working it: functional escalation through support tiers, up to management.
    pub enum EscalationLevel ("escalation level") {
        /// First line.
        Level1 => ("level_1", "Level 1 · Service desk"),
        /// Second line.
        Level2 => ("level_2", "Level 2 · Support team"),
        /// Third line.
        Level3 => ("level_3", "Level 3 · Specialists"),
        /// Hierarchical escalation.
        Management => ("management", "Management"),
    }
}

keyword_enum! {
    /// The three append-only note lists.
    pub enum NoteKind ("note kind") {
        /// Internal, for the people working it.
        WorkNote => ("work_note", "Work note"),
        /// Shared with the caller and affected users; counts as an update to them.
        Comment => ("comment", "Comment"),
        /// A status update to stakeholders, per the communication plan.
        StatusUpdate => ("status_update", "Status update"),
    }
}

keyword_enum! {
    /// Records in other ITSM processes an incident can point at.
    pub enum ReferenceKind ("reference kind") {
        /// A problem record.
        Problem => ("problem", "Problem"),
        /// A change request.
        Change => ("change", "Change"),
        /// A knowledge article.
        Knowledge => ("knowledge", "Knowledge article"),
        /// The record in another tool this incident was imported from ([`crate::import`]).
        Imported => ("imported", "Imported from"),
    }
}

keyword_enum! {
    /// The sections of a post-incident review.
    pub enum ReviewSection ("review section") {
        /// What happened, when it was detected and resolved.
        Overview => ("overview", "Overview"),
        /// Effect on systems and business operations.
        ImpactAnalysis => ("impact_analysis", "Impact analysis"),
        /// The failure or weakness that caused it.
        RootCause => ("root_cause", "Root cause"),
        /// What was done, and what will prevent a recurrence.
        CorrectiveActions => ("corrective_actions", "Corrective actions"),
        /// What to do better next time.
        LessonsLearned => ("lessons_learned", "Lessons learned"),
        /// Logs, graphs, communications.
        Appendices => ("appendices", "Appendices"),
    }
}

impl ReviewSection {
    /// The document field that stores this section.
    pub fn field(self) -> Field {
        match self {
            ReviewSection::Overview => Field::ReviewOverview,
            ReviewSection::ImpactAnalysis => Field::ReviewImpact,
            ReviewSection::RootCause => Field::ReviewRootCause,
            ReviewSection::CorrectiveActions => Field::ReviewCorrectiveActions,
            ReviewSection::LessonsLearned => Field::ReviewLessons,
            ReviewSection::Appendices => Field::ReviewAppendices,
        }
    }

    /// Whether a complete review needs this section (appendices are optional).
    pub fn required(self) -> bool {
        self != ReviewSection::Appendices
    }
}

/// A note in one of the append-only lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Unique across every peer: the Automerge id of the note object.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When, on the author's device.
    pub at: DeviceTime,
    /// What they wrote.
    pub body: String,
}

/// A pointer to a problem, change or knowledge article, e.g. `PRB0040123`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExternalRef {
    /// What kind of record.
    pub kind: ReferenceKind,
    /// Its number in the other system.
    pub id: String,
}

impl ExternalRef {
    /// The key it is stored under: `problem:PRB0040123`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.key(), self.id)
    }

    /// Parses a stored key.
    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        Some(ExternalRef {
            kind: ReferenceKind::from_key(kind)?,
            id: id.to_string(),
        })
    }
}

impl fmt::Display for ExternalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.id)
    }
}

/// Another incident this one points at: its document id, and its reference for display.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncidentLink {
    /// The other incident's document id.
    pub document_id: String,
    /// The other incident's reference number, e.g. `INC-7F3A-0042`.
    pub reference: String,
}

/// The post-incident review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostIncidentReview {
    /// What happened.
    pub overview: String,
    /// Effect on systems and the business.
    pub impact_analysis: String,
    /// Why it happened.
    pub root_cause: String,
    /// What was and will be done.
    pub corrective_actions: String,
    /// What to do better.
    pub lessons_learned: String,
    /// Supporting material.
    pub appendices: String,
}

impl PostIncidentReview {
    /// One section's text.
    pub fn section(&self, section: ReviewSection) -> &str {
        match section {
            ReviewSection::Overview => &self.overview,
            ReviewSection::ImpactAnalysis => &self.impact_analysis,
            ReviewSection::RootCause => &self.root_cause,
            ReviewSection::CorrectiveActions => &self.corrective_actions,
            ReviewSection::LessonsLearned => &self.lessons_learned,
            ReviewSection::Appendices => &self.appendices,
        }
    }

    /// Mutable access to one section.
    pub fn section_mut(&mut self, section: ReviewSection) -> &mut String {
        match section {
            ReviewSection::Overview => &mut self.overview,
            ReviewSection::ImpactAnalysis => &mut self.impact_analysis,
            ReviewSection::RootCause => &mut self.root_cause,
            ReviewSection::CorrectiveActions => &mut self.corrective_actions,
            ReviewSection::LessonsLearned => &mut self.lessons_learned,
            ReviewSection::Appendices => &mut self.appendices,
        }
    }

    /// Every required section has text.
    pub fn is_complete(&self) -> bool {
        ReviewSection::ALL
            .iter()
            .filter(|s| s.required())
            .all(|s| !self.section(*s).trim().is_empty())
    }

    /// The required sections still empty.
    pub fn missing_sections(&self) -> Vec<ReviewSection> {
        ReviewSection::ALL
            .iter()
            .copied()
            .filter(|s| s.required() && self.section(*s).trim().is_empty())
            .collect()
    }
}

/// An incident, read from its document. Text fields are empty strings when not set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-7F3A-0042`.
    pub reference: ReferenceNumber,
    /// Short description.
    pub title: String,
    /// Long description.
    pub description: String,
    /// Who reported it.
    pub caller: String,
    /// Category.
    pub category: String,
    /// Subcategory.
    pub subcategory: String,
    /// Affected service or configuration item.
    pub affected_service: String,
    /// People affected, sorted.
    pub affected_users: Vec<String>,
    /// How it was detected.
    pub detection_source: DetectionSource,
    /// When it was detected.
    pub detected_at: DeviceTime,
    /// When it was logged, on the logging device.
    pub reported_at: DeviceTime,
    /// Who logged it.
    pub reported_by: String,
    /// Impact.
    pub impact: Impact,
    /// Urgency.
    pub urgency: Urgency,
    /// The team working it.
    pub assignment_group: String,
    /// The person working it.
    pub assignee: String,
    /// Escalation level.
    pub escalation: EscalationLevel,
    /// Major-incident flag.
    pub major_incident: bool,
    /// The coordination call's address, or empty.
    pub bridge_link: String,
    /// Lifecycle state.
    pub state: State,
    /// Set when resolved.
    pub resolution_code: Option<ResolutionCode>,
    /// Set when resolved.
    pub resolution_notes: String,
    /// Internal notes, oldest first.
    pub work_notes: Vec<Note>,
    /// Customer-visible comments, oldest first.
    pub comments: Vec<Note>,
    /// Stakeholder status updates, oldest first.
    pub status_updates: Vec<Note>,
    /// Parent incident's document id.
    pub parent: Option<String>,
    /// Document id of the incident this duplicates.
    pub duplicate_of: Option<String>,
    /// Problem, change and knowledge references, sorted.
    pub references: Vec<ExternalRef>,
    /// The groups that alone may read it, sorted; empty: everyone in the workspace.
    pub restricted_to: Vec<String>,
    /// The SLA definition recorded on it; `None` for incidents logged before definitions were
    /// recorded (their clocks follow the workspace's current targets).
    pub sla_definition: Option<crate::sla::SlaDefinition>,
    /// The post-incident review.
    pub review: PostIncidentReview,
}

impl Incident {
    /// The priority under a workspace's matrix.
    pub fn priority(&self, matrix: &PriorityMatrix) -> Priority {
        matrix.priority(self.impact, self.urgency)
    }

    /// The notes of one kind.
    pub fn notes(&self, kind: NoteKind) -> &[Note] {
        match kind {
            NoteKind::WorkNote => &self.work_notes,
            NoteKind::Comment => &self.comments,
            NoteKind::StatusUpdate => &self.status_updates,
        }
    }

    /// Finds a note of any kind by id.
    pub fn find_note(&self, id: &str) -> Option<(NoteKind, &Note)> {
        NoteKind::ALL
            .iter()
            .find_map(|k| self.notes(*k).iter().find(|n| n.id == id).map(|n| (*k, n)))
    }
}

/// Size limits for text a person types.
pub mod limits {
    /// Title, in characters.
    pub const TITLE: usize = 160;
    /// Names, groups, services, categories, references.
    pub const SHORT_TEXT: usize = 200;
    /// Descriptions, notes, resolution notes, review sections.
    pub const LONG_TEXT: usize = 20_000;
    /// Affected users on one incident.
    pub const AFFECTED_USERS: usize = 1_000;
    /// A link (the bridge's), in characters.
    pub const LINK: usize = 2_000;
}

/// A problem with one input, to show next to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The input's key: a [`Field`] key, or `affected_users`, `note`, `reference`, ...
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every problem with a form, so all can be shown at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The problem with one input, if any.
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
}

/// At most `max` characters of `text`: what a sender gave, cut to fit a field's limit (alerts
/// and mail are taken, not refused, when they run long).
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_string(),
        None => text.to_string(),
    }
}

/// Trims a single-line input and checks its length; `required` refuses empty input.
pub(crate) fn clean_line(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    let line: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if required && line.is_empty() {
        return Err(FieldError::new(field, format!("{label} is required.")));
    }
    if line.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("{label} must be at most {max} characters."),
        ));
    }
    Ok(line)
}

/// Trims a multi-line input and checks its length; `required` refuses empty input.
pub(crate) fn clean_text(
    field: &str,
    label: &str,
    value: &str,
    required: bool,
) -> Result<String, FieldError> {
    let text = value.trim().replace("\r\n", "\n");
    if required && text.is_empty() {
        return Err(FieldError::new(field, format!("{label} is required.")));
    }
    if text.chars().count() > limits::LONG_TEXT {
        return Err(FieldError::new(
            field,
            format!("{label} must be at most {} characters.", limits::LONG_TEXT),
        ));
    }
    Ok(text)
}

/// The creation form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIncident {
    /// Required.
    pub title: String,
    /// Optional.
    pub description: String,
    /// Required for user reports.
    pub caller: String,
    /// From the workspace catalog, or empty.
    pub category: String,
    /// Within the category, or empty.
    pub subcategory: String,
    /// Optional.
    pub affected_service: String,
    /// Optional.
    pub affected_users: Vec<String>,
    /// How it was detected.
    pub detection_source: DetectionSource,
    /// When it was detected; defaults to when it is logged.
    pub detected_at: Option<DeviceTime>,
    /// 1-3.
    pub impact: Impact,
    /// 1-3.
    pub urgency: Urgency,
    /// Optional.
    pub assignment_group: String,
    /// Optional.
    pub assignee: String,
    /// Declared a major incident from the start.
    pub major_incident: bool,
}

impl Default for NewIncident {
    fn default() -> Self {
        NewIncident {
            title: String::new(),
            description: String::new(),
            caller: String::new(),
            category: String::new(),
            subcategory: String::new(),
            affected_service: String::new(),
            affected_users: Vec::new(),
            detection_source: DetectionSource::UserReport,
            detected_at: None,
            impact: Impact::Low,
            urgency: Urgency::Low,
            assignment_group: String::new(),
            assignee: String::new(),
            major_incident: false,
        }
    }
}

/// Cleans one affected user's name.
pub(crate) fn clean_user(name: &str) -> Result<String, FieldError> {
    clean_line(
        "affected_users",
        "An affected user",
        name,
        limits::SHORT_TEXT,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_and_collapsed_and_limits_named() {
        assert_eq!(
            clean_line("title", "Title", "  Email\n down  ", 160, true).unwrap(),
            "Email down"
        );
        assert_eq!(
            clean_line("title", "Title", " \t", 160, true)
                .unwrap_err()
                .message,
            "Title is required."
        );
        assert_eq!(
            clean_line("caller", "Caller", &"x".repeat(201), 200, false)
                .unwrap_err()
                .message,
            "Caller must be at most 200 characters."
        );
        assert_eq!(
            clean_text("description", "Description", "  a\r\nb ", false).unwrap(),
            "a\nb"
        );
    }

    #[test]
    fn review_completeness_ignores_appendices() {
        let mut r = PostIncidentReview::default();
        assert_eq!(r.missing_sections().len(), 5);
        for s in ReviewSection::ALL.iter().filter(|s| s.required()) {
            *r.section_mut(*s) = "done".into();
        }
        assert!(r.is_complete());
        assert!(r.appendices.is_empty());
    }

    #[test]
    fn external_references_round_trip_through_their_keys() {
        let r = ExternalRef {
            kind: ReferenceKind::Problem,
            id: "PRB0040123".into(),
        };
        assert_eq!(r.key(), "problem:PRB0040123");
        assert_eq!(ExternalRef::from_key(&r.key()), Some(r.clone()));
        assert_eq!(r.to_string(), "Problem PRB0040123");
        assert_eq!(ExternalRef::from_key("ticket:1"), None);
    }
}
