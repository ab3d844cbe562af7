//! The single-valued fields of an incident: where each is stored, what it is called, and how its
//! raw stored values read to a person.
//!
//! Every field here is a last-writer-wins register in Automerge. When two people set one
//! concurrently, Automerge keeps both values; [`crate::conflict`] reports them by this table, and
//! the audit trail names fields by it.

use std::fmt;

use automerge::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::incident::{DetectionSource, EscalationLevel};
use crate::keyword::keyword_enum;
use crate::priority::{Impact, Urgency};
use crate::state::{ResolutionCode, State};
use crate::time::DeviceTime;

keyword_enum! {
    /// A single-valued incident field.
    pub enum Field ("field") {
        /// Short description.
        Title => ("title", "Title"),
        /// Long description.
        Description => ("description", "Description"),
        /// Who reported it.
        Caller => ("caller", "Caller"),
        /// Category from the workspace catalog.
        Category => ("category", "Category"),
        /// Subcategory within the category.
        Subcategory => ("subcategory", "Subcategory"),
        /// The affected service or configuration item.
        AffectedService => ("affected_service", "Affected service"),
        /// How it was detected.
        DetectionSource => ("detection_source", "Detection source"),
        /// When it was detected.
        DetectedAt => ("detected_at", "Detected"),
        /// Impact 1-3.
        Impact => ("impact", "Impact"),
        /// Urgency 1-3.
        Urgency => ("urgency", "Urgency"),
        /// The team working it.
        AssignmentGroup => ("assignment_group", "Assignment group"),
        /// The person working it.
        Assignee => ("assignee", "Assignee"),
        /// Escalation level.
        Escalation => ("escalation", "Escalation level"),
        /// Major-incident flag.
        MajorIncident => ("major_incident", "Major incident"),
        /// The coordination call's address (a Teams or any conference link), shown at the top of
        /// the incident and in every notification about it.
        BridgeLink => ("bridge_link", "Bridge link"),
        /// Lifecycle state.
        State => ("state", "State"),
        /// How it was resolved.
        ResolutionCode => ("resolution_code", "Resolution code"),
        /// What was done to resolve it.
        ResolutionNotes => ("resolution_notes", "Resolution notes"),
        /// Parent incident (document id).
        Parent => ("parent", "Parent incident"),
        /// The incident this duplicates (document id).
        DuplicateOf => ("duplicate_of", "Duplicate of"),
        /// The groups that alone may read it, comma-separated; empty or missing: everyone in the
        /// workspace (see [`crate::access`]).
        RestrictedTo => ("restricted_to", "Restricted to"),
        /// The SLA definition its clocks measure against (see [`crate::sla::SlaDefinition`]),
        /// recorded when it is logged and when it is re-prioritised.
        SlaDefinition => ("sla_definition", "SLA definition"),
        /// Review: overview.
        ReviewOverview => ("review.overview", "Review: overview"),
        /// Review: impact analysis.
        ReviewImpact => ("review.impact_analysis", "Review: impact analysis"),
        /// Review: root cause.
        ReviewRootCause => ("review.root_cause", "Review: root cause"),
        /// Review: corrective actions.
        ReviewCorrectiveActions => ("review.corrective_actions", "Review: corrective actions"),
        /// Review: lessons learned.
        ReviewLessons => ("review.lessons_learned", "Review: lessons learned"),
        /// Review: appendices.
        ReviewAppendices => ("review.appendices", "Review: appendices"),
    }
}

/// Which map of the document a field lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// The document root.
    Root,
    /// The `review` map.
    Review,
}

impl Field {
    /// The map a field lives in and its key there.
    pub fn location(self) -> (Container, &'static str) {
        match self.key().split_once('.') {
            Some((_, key)) => (Container::Review, key),
            None => (Container::Root, self.key()),
        }
    }

    /// A section of the post-incident review.
    pub fn is_review(self) -> bool {
        matches!(
            self,
            Field::ReviewOverview
                | Field::ReviewImpact
                | Field::ReviewRootCause
                | Field::ReviewCorrectiveActions
                | Field::ReviewLessons
                | Field::ReviewAppendices
        )
    }

    /// Fields people type free text into (shown as text areas or inputs when picking a value).
    pub fn is_long_text(self) -> bool {
        matches!(
            self,
            Field::Description
                | Field::ResolutionNotes
                | Field::ReviewOverview
                | Field::ReviewImpact
                | Field::ReviewRootCause
                | Field::ReviewCorrectiveActions
                | Field::ReviewLessons
                | Field::ReviewAppendices
        )
    }

    /// How a stored value of this field reads to a person.
    pub fn display(self, value: &FieldValue) -> String {
        let keyword = |label: Option<&str>| match (label, value) {
            (Some(l), _) => l.to_string(),
            (None, v) => v.to_string(),
        };
        match (self, value) {
            (_, FieldValue::Empty) => "(empty)".to_string(),
            (_, FieldValue::Text(t)) if t.is_empty() => "(empty)".to_string(),
            (Field::SlaDefinition, FieldValue::Text(t)) => {
                crate::sla::SlaDefinition::decode(t).map_or_else(|| t.clone(), |d| d.describe())
            }
            (Field::Impact, FieldValue::Number(n)) => keyword(
                u8::try_from(*n)
                    .ok()
                    .and_then(Impact::from_level)
                    .map(|i| i.to_string())
                    .as_deref(),
            ),
            (Field::Urgency, FieldValue::Number(n)) => keyword(
                u8::try_from(*n)
                    .ok()
                    .and_then(Urgency::from_level)
                    .map(|u| u.to_string())
                    .as_deref(),
            ),
            (Field::DetectionSource, FieldValue::Text(t)) => {
                keyword(DetectionSource::from_key(t).map(|d| d.label()))
            }
            (Field::Escalation, FieldValue::Text(t)) => {
                keyword(EscalationLevel::from_key(t).map(|e| e.label()))
            }
            (Field::ResolutionCode, FieldValue::Text(t)) => {
                ResolutionCode::from_stored(t).map_or_else(|| t.clone(), |c| c.name().to_string())
            }
            (Field::State, FieldValue::Text(t)) => {
                keyword(t.parse::<State>().ok().map(|s| s.to_string()).as_deref())
            }
            (Field::MajorIncident, FieldValue::Flag(b)) => {
                if *b { "Yes" } else { "No" }.to_string()
            }
            (_, v) => v.to_string(),
        }
    }
}

/// A stored field value, as Automerge holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Nothing, or null.
    Empty,
    /// A string.
    Text(String),
    /// A whole number.
    Number(i64),
    /// A boolean.
    Flag(bool),
    /// A timestamp.
    Time(DeviceTime),
}

impl FieldValue {
    /// Reads an Automerge scalar. Whole floats (as JavaScript writes numbers) become numbers.
    pub fn from_scalar(v: &ScalarValue) -> FieldValue {
        match v {
            ScalarValue::Null => FieldValue::Empty,
            ScalarValue::Str(s) => FieldValue::Text(s.to_string()),
            ScalarValue::Int(i) => FieldValue::Number(*i),
            ScalarValue::Uint(u) => i64::try_from(*u)
                .map_or_else(|_| FieldValue::Text(u.to_string()), FieldValue::Number),
            ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                FieldValue::Number(*f as i64)
            }
            ScalarValue::F64(f) => FieldValue::Text(f.to_string()),
            ScalarValue::Boolean(b) => FieldValue::Flag(*b),
            ScalarValue::Timestamp(t) => FieldValue::Time(DeviceTime::from_millis(*t)),
            ScalarValue::Counter(c) => FieldValue::Number(i64::from(c)),
            ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } => FieldValue::Text(format!("{v}")),
        }
    }

    /// The Automerge scalar to store. Numbers are stored unsigned when they are non-negative, as
    /// the core's own writes do.
    pub fn to_scalar(&self) -> ScalarValue {
        match self {
            FieldValue::Empty => ScalarValue::Null,
            FieldValue::Text(s) => ScalarValue::Str(s.as_str().into()),
            FieldValue::Number(n) if *n >= 0 => ScalarValue::Uint(*n as u64),
            FieldValue::Number(n) => ScalarValue::Int(*n),
            FieldValue::Flag(b) => ScalarValue::Boolean(*b),
            FieldValue::Time(t) => ScalarValue::Timestamp(t.millis()),
        }
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A short form for audit records: long text is cut at `max` characters with an ellipsis.
    pub fn abbreviated(&self, max: usize) -> FieldValue {
        match self {
            FieldValue::Text(t) if t.chars().count() > max => {
                FieldValue::Text(t.chars().take(max).chain(['…']).collect())
            }
            other => other.clone(),
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Empty => f.write_str("(empty)"),
            FieldValue::Text(t) => f.write_str(t),
            FieldValue::Number(n) => write!(f, "{n}"),
            FieldValue::Flag(b) => f.write_str(if *b { "yes" } else { "no" }),
            FieldValue::Time(t) => write!(f, "{t}"),
        }
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Text(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_fields_live_in_the_review_map() {
        assert_eq!(
            Field::ReviewRootCause.location(),
            (Container::Review, "root_cause")
        );
        assert_eq!(Field::Title.location(), (Container::Root, "title"));
    }

    #[test]
    fn stored_values_read_as_people_expect() {
        assert_eq!(Field::Impact.display(&FieldValue::Number(1)), "1 - High");
        assert_eq!(
            Field::State.display(&"on_hold:awaiting_vendor".into()),
            "On Hold (Awaiting Vendor)"
        );
        assert_eq!(
            Field::DetectionSource.display(&"monitoring".into()),
            "Monitoring"
        );
        assert_eq!(Field::MajorIncident.display(&FieldValue::Flag(true)), "Yes");
        assert_eq!(Field::Assignee.display(&"".into()), "(empty)");
        // Unknown stored values are shown raw rather than hidden.
        assert_eq!(Field::State.display(&"limbo".into()), "limbo");
        assert_eq!(Field::Impact.display(&FieldValue::Number(7)), "7");
    }

    #[test]
    fn javascript_numbers_and_our_numbers_compare_equal() {
        assert_eq!(
            FieldValue::from_scalar(&ScalarValue::F64(2.0)),
            FieldValue::Number(2)
        );
        assert_eq!(
            FieldValue::from_scalar(&ScalarValue::Uint(2)),
            FieldValue::Number(2)
        );
        assert_eq!(
            FieldValue::from_scalar(&FieldValue::Number(2).to_scalar()),
            FieldValue::Number(2)
        );
        assert_eq!(
            FieldValue::from_scalar(&FieldValue::Number(-2).to_scalar()),
            FieldValue::Number(-2)
        );
    }

    #[test]
    fn long_text_is_abbreviated_for_the_audit_trail() {
        let long = FieldValue::Text("x".repeat(300));
        assert_eq!(
            long.abbreviated(10),
            FieldValue::Text(format!("{}…", "x".repeat(10)))
        );
        assert_eq!(FieldValue::Number(3).abbreviated(1), FieldValue::Number(3));
    }
}
