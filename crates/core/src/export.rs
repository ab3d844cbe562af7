//! The incident list out of Outpost: CSV (RFC 4180) and JSON, one row per incident, from the
//! list's summaries, so ten thousand incidents export without loading a document.
//!
//! The columns are [`ExportRow`]'s fields, in order, and are documented in `docs/data.md`; the
//! CSV and JSON forms carry the same fields under the same names, and the import
//! ([`crate::import`]) recognises them, so an export imports into another workspace.
//!
//! A CSV is opened in spreadsheets, which run a cell that starts with `=`, `+`, `-` or `@` as a
//! formula: a title typed as `=HYPERLINK(...)` would become a link on the reader's machine. So
//! the CSV writes such text cells with a leading `'` ([`defuse`], OWASP's advice), which
//! spreadsheets show as text, and the import takes it off again ([`undefuse`]). JSON is
//! written as is.

use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::sla::{ClockState, SlaClock, SlaLevel};
use crate::summary::IncidentSummary;
use crate::time::DeviceTime;

/// One exported incident. Times are RFC 3339 in UTC; absent ones are empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRow {
    /// `INC-7F3A-0042`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// `New`, `In Progress`, `On Hold`, `Resolved`, `Closed` or `Canceled`.
    pub state: String,
    /// `P1` to `P5`.
    pub priority: String,
    /// Assignee, or empty.
    pub assignee: String,
    /// Assignment group, or empty.
    pub assignment_group: String,
    /// Category, or empty.
    pub category: String,
    /// Affected service, or empty.
    pub affected_service: String,
    /// `yes` or `no`.
    pub major_incident: String,
    /// When it was logged.
    pub reported_at: String,
    /// When it first left New.
    pub acknowledged_at: String,
    /// When it was last resolved (while Resolved or Closed).
    pub resolved_at: String,
    /// The latest change in its history.
    pub updated_at: String,
    /// The response SLA at export time: `met`, `missed`, `running`, `paused`, `breached` (still
    /// running or paused, past its target) or `canceled`.
    pub response_sla: String,
    /// The resolution SLA, in the same words.
    pub resolution_sla: String,
    /// The Automerge document id.
    pub document_id: String,
}

/// A time as the export writes it: `2026-03-01T10:00:00Z`.
pub fn time_text(t: DeviceTime) -> String {
    t.to_datetime()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// An SLA clock in the export's words.
pub fn sla_word(clock: &SlaClock) -> &'static str {
    let breached = clock.level() == SlaLevel::Breached;
    match (clock.state, breached) {
        (ClockState::Canceled, _) => "canceled",
        (ClockState::Completed, false) => "met",
        (ClockState::Completed, true) => "missed",
        (_, true) => "breached",
        (ClockState::Running, false) => "running",
        (ClockState::Paused, false) => "paused",
    }
}

impl ExportRow {
    /// The row for a summary, its SLA clocks projected to `now` in `calendar` (the business
    /// calendar they count in).
    pub fn of(s: &IncidentSummary, now: DeviceTime, calendar: &BusinessCalendar) -> ExportRow {
        let clocks = s.sla.project(now, calendar);
        let time = |t: Option<DeviceTime>| t.map(time_text).unwrap_or_default();
        ExportRow {
            reference: s.reference.clone(),
            title: s.title.clone(),
            state: s.state.kind().label().to_string(),
            priority: s.priority.code().to_string(),
            assignee: s.assignee.clone(),
            assignment_group: s.assignment_group.clone(),
            category: s.category.clone(),
            affected_service: s.affected_service.clone(),
            major_incident: if s.major_incident { "yes" } else { "no" }.to_string(),
            reported_at: time_text(s.reported_at),
            acknowledged_at: time(s.acknowledged_at),
            resolved_at: time(s.resolved_at),
            updated_at: time_text(s.updated_at),
            response_sla: sla_word(&clocks.response).to_string(),
            resolution_sla: sla_word(&clocks.resolution).to_string(),
            document_id: s.document_id.clone(),
        }
    }
}

/// Why an export could not be written (only if the writer fails; strings always encode).
#[derive(Debug, thiserror::Error)]
#[error("The export could not be written: {0}")]
pub struct ExportError(String);

/// Text a spreadsheet will not run as a formula: a `'` before a leading `=`, `+`, `-`, `@`,
/// tab or carriage return.
pub fn defuse(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// The text [`defuse`] was given.
pub fn undefuse(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => text,
    }
}

impl ExportRow {
    /// The row with its free-text cells defused for a spreadsheet.
    fn defused(&self) -> ExportRow {
        let d = |s: &String| defuse(s).into_owned();
        ExportRow {
            title: d(&self.title),
            assignee: d(&self.assignee),
            assignment_group: d(&self.assignment_group),
            category: d(&self.category),
            affected_service: d(&self.affected_service),
            ..self.clone()
        }
    }
}

/// The rows as CSV: a header line of the column names, then one record per row, quoted where
/// RFC 4180 needs it, lines ending CRLF, formulas defused.
pub fn to_csv(rows: &[ExportRow]) -> Result<String, ExportError> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 200));
    if rows.is_empty() {
        // serde writes the header with the first row; an empty export still names its columns.
        out.write_record(columns())
            .map_err(|e| ExportError(e.to_string()))?;
    }
    for row in rows {
        out.serialize(row.defused())
            .map_err(|e| ExportError(e.to_string()))?;
    }
    let bytes = out.into_inner().map_err(|e| ExportError(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ExportError(e.to_string()))
}

/// The rows as a JSON array of objects with the same names.
pub fn to_json(rows: &[ExportRow]) -> String {
    serde_json::to_string_pretty(rows).expect("rows are plain strings")
}

/// The column names, in order.
pub fn columns() -> [&'static str; 16] {
    [
        "reference",
        "title",
        "state",
        "priority",
        "assignee",
        "assignment_group",
        "category",
        "affected_service",
        "major_incident",
        "reported_at",
        "acknowledged_at",
        "resolved_at",
        "updated_at",
        "response_sla",
        "resolution_sla",
        "document_id",
    ]
}
