//! Incidents into Outpost from a CSV another tool exported (or Outpost's own export): columns
//! mapped on a preview, every row checked before anything is written, and imported once.
//!
//! - [`read_csv`] reads the file (RFC 4180, through the `csv` crate); a ragged or undecodable
//!   record is an error on its own line, not the end of the import.
//! - [`recognise`] proposes a [`Mapping`] from the header: ServiceNow's export columns (names or
//!   labels: `number`, `short_description`, `Assignment group`...), Jira Service Management's
//!   (`Issue key`, `Summary`, `Status`...) and Outpost's own ([`crate::export`]). The person
//!   can change any of it.
//! - [`plan`] turns each row into an incident, checked by the same code that logs one (so a
//!   category the workspace's catalog lacks is refused as it would be on the form), or into the
//!   reasons it cannot be imported, or into "already imported".
//! - Idempotence: every imported incident records the source's id as an
//!   [`ReferenceKind::Imported`] reference, which its list entry carries
//!   ([`crate::summary::IncidentSummary::imported_from`]); a row whose id is already on the
//!   device is skipped, so importing a file twice creates nothing the second time.
//!
//! The source's states are carried over by running Outpost's own transitions at import time
//! (In Progress: start work; Resolved: resolve; Closed: resolve and close...), so the history,
//! and with it the SLA clocks, start when the import ran, not when the source logged it; the
//! source's opening time is kept as the detection time.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::config::WorkspaceConfig;
use crate::document::IncidentDoc;
use crate::history::Attribution;
use crate::incident::{DetectionSource, ExternalRef, NewIncident, ReferenceKind};
use crate::priority::{Impact, Priority, Urgency};
use crate::reference::{DevicePrefix, ReferenceNumber};
use crate::state::{Action, HoldReason, ResolutionCode, StandardResolution};
use crate::time::DeviceTime;

/// What a source column can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The source's own id for the record: what makes an import idempotent.
    ExternalId,
    /// Title.
    Title,
    /// Description.
    Description,
    /// Caller.
    Caller,
    /// Category.
    Category,
    /// Subcategory.
    Subcategory,
    /// Affected service.
    Service,
    /// Impact (1-3, or High, Medium, Low).
    Impact,
    /// Urgency.
    Urgency,
    /// Priority, used when impact and urgency are not mapped.
    Priority,
    /// State.
    State,
    /// Assignment group.
    Group,
    /// Assignee.
    Assignee,
    /// When the source opened it: kept as the detection time.
    OpenedAt,
    /// Resolution notes.
    ResolutionNotes,
    /// Major-incident flag.
    Major,
}

impl Target {
    /// Every target, in the order the preview offers them.
    pub const ALL: [Target; 16] = [
        Target::ExternalId,
        Target::Title,
        Target::Description,
        Target::Caller,
        Target::Category,
        Target::Subcategory,
        Target::Service,
        Target::Impact,
        Target::Urgency,
        Target::Priority,
        Target::State,
        Target::Group,
        Target::Assignee,
        Target::OpenedAt,
        Target::ResolutionNotes,
        Target::Major,
    ];

    /// The key the preview's pickers use.
    pub fn key(self) -> &'static str {
        self.names().0
    }

    /// The label for people.
    pub fn label(self) -> &'static str {
        self.names().1
    }

    /// Parses a key.
    pub fn from_key(key: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.key() == key)
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Target::ExternalId => ("external_id", "External id"),
            Target::Title => ("title", "Title"),
            Target::Description => ("description", "Description"),
            Target::Caller => ("caller", "Caller"),
            Target::Category => ("category", "Category"),
            Target::Subcategory => ("subcategory", "Subcategory"),
            Target::Service => ("service", "Affected service"),
            Target::Impact => ("impact", "Impact"),
            Target::Urgency => ("urgency", "Urgency"),
            Target::Priority => ("priority", "Priority"),
            Target::State => ("state", "State"),
            Target::Group => ("group", "Assignment group"),
            Target::Assignee => ("assignee", "Assignee"),
            Target::OpenedAt => ("opened_at", "Opened at"),
            Target::ResolutionNotes => ("resolution_notes", "Resolution notes"),
            Target::Major => ("major", "Major incident"),
        }
    }

    /// Header names this target is recognised by, folded ([`fold`]): Outpost's export,
    /// ServiceNow's field names and labels, Jira Service Management's columns.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Target::ExternalId => &["reference", "number", "issuekey", "key", "externalid", "id"],
            Target::Title => &["title", "shortdescription", "summary"],
            Target::Description => &["description"],
            Target::Caller => &["caller", "callerid", "reporter", "openedby"],
            Target::Category => &["category", "requesttype", "customfieldrequesttype"],
            Target::Subcategory => &["subcategory"],
            Target::Service => &[
                "affectedservice",
                "service",
                "businessservice",
                "cmdbci",
                "configurationitem",
                "customfieldaffectedservices",
                "affectedservices",
                "components",
            ],
            Target::Impact => &["impact", "customfieldimpact"],
            Target::Urgency => &["urgency", "customfieldurgency"],
            Target::Priority => &["priority"],
            Target::State => &["state", "status", "incidentstate"],
            Target::Group => &["assignmentgroup", "group", "team", "customfieldteam"],
            Target::Assignee => &["assignee", "assignedto"],
            Target::OpenedAt => &[
                "openedat",
                "opened",
                "created",
                "reportedat",
                "syscreatedon",
            ],
            Target::ResolutionNotes => &["resolutionnotes", "closenotes", "resolution"],
            Target::Major => &["majorincident", "major", "majorincidentstate"],
        }
    }
}

/// A header name folded for recognition: lower case, letters and digits only
/// (`Custom field (Impact)` → `customfieldimpact`).
pub fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which target each source column fills (`None`: ignored).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// One entry per source column.
    pub columns: Vec<Option<Target>>,
}

impl Mapping {
    /// The column a target is mapped from.
    pub fn column(&self, target: Target) -> Option<usize> {
        self.columns.iter().position(|t| *t == Some(target))
    }

    /// Why the mapping cannot import anything: no external id or no title, or a target
    /// mapped twice.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for needed in [Target::ExternalId, Target::Title] {
            if self.column(needed).is_none() {
                out.push(format!(
                    "Choose the column that holds the {}.",
                    needed.label().to_lowercase()
                ));
            }
        }
        let mut seen = HashSet::new();
        for t in self.columns.iter().flatten() {
            if !seen.insert(*t) {
                out.push(format!(
                    "{} is chosen for two columns: keep one.",
                    t.label()
                ));
            }
        }
        out
    }
}

/// Proposes a mapping from a header: each column its recognised target, the first column
/// to claim a target keeping it.
pub fn recognise(headers: &[String]) -> Mapping {
    let mut taken = HashSet::new();
    let columns = headers
        .iter()
        .map(|h| {
            let folded = fold(h);
            let target = Target::ALL
                .into_iter()
                .find(|t| t.aliases().iter().any(|a| fold(a) == folded))?;
            taken.insert(target).then_some(target)
        })
        .collect();
    Mapping { columns }
}

/// A file read for import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The header's column names.
    pub headers: Vec<String>,
    /// The records, each with its line number in the file.
    pub rows: Vec<(u64, Vec<String>)>,
    /// Records that could not be read, with their line and why.
    pub unreadable: Vec<(u64, String)>,
}

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// No header line.
    #[error("The file is empty: a CSV export starts with a line of column names.")]
    Empty,
    /// The header did not read.
    #[error("The first line of the file is not a CSV header: {0}")]
    BadHeader(String),
}

/// Reads a CSV file (a UTF-8 byte order mark is skipped, as Excel writes one).
pub fn read_csv(text: &str) -> Result<Table, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::BadHeader(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(ImportError::Empty);
    }
    let mut table = Table {
        headers,
        ..Table::default()
    };
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, csv::Position::line);
                table
                    .rows
                    .push((line, r.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                let why = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("it has {len} fields where the header has {expected_len}"),
                    csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".to_string(),
                    _ => e.to_string(),
                };
                table.unreadable.push((line, why));
            }
        }
    }
    Ok(table)
}

/// One row ready to become an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its line in the file.
    pub line: u64,
    /// The source's id.
    pub external_id: String,
    /// The logging form.
    pub new: NewIncident,
    /// What runs after logging, as one change: the import reference, then the transitions to
    /// the source's state.
    pub then: Vec<Command>,
}

/// What the import will do with one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowPlan {
    /// Create this incident.
    Create(Box<Candidate>),
    /// An incident from this id is already on the device.
    AlreadyImported {
        /// Its line.
        line: u64,
        /// The id.
        external_id: String,
    },
    /// The row cannot be imported.
    Invalid {
        /// Its line.
        line: u64,
        /// What is wrong, one sentence each.
        errors: Vec<String>,
    },
}

impl RowPlan {
    /// The row's line in the file.
    pub fn line(&self) -> u64 {
        match self {
            RowPlan::Create(c) => c.line,
            RowPlan::AlreadyImported { line, .. } | RowPlan::Invalid { line, .. } => *line,
        }
    }
}

/// A priority in the words tools use: `P1`, `1`, `1 - Critical`, `Critical`, and Jira's
/// `Highest` to `Lowest`.
pub fn parse_priority(text: &str) -> Option<Priority> {
    let t = text.trim().to_lowercase();
    let lead = t.trim_start_matches('p');
    if let Some(n) = lead
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|d| d.parse::<u8>().ok())
    {
        return Priority::from_number(n);
    }
    Some(match t.as_str() {
        "critical" | "highest" | "blocker" => Priority::P1,
        "high" | "major" => Priority::P2,
        "moderate" | "medium" => Priority::P3,
        "low" | "minor" => Priority::P4,
        "planning" | "lowest" | "trivial" => Priority::P5,
        _ => return None,
    })
}

/// An impact or urgency level: `1`-`3`, `1 - High`, `High`/`Medium`/`Low`, and Jira's impact
/// words (`Extensive / Widespread`...).
pub fn parse_level(text: &str) -> Option<u8> {
    let t = text.trim().to_lowercase();
    if let Some(n) = t.chars().next().and_then(|c| c.to_digit(10)) {
        return u8::try_from(n).ok().filter(|n| (1..=3).contains(n));
    }
    let word = t.split([' ', '/']).next().unwrap_or("");
    Some(match word {
        "high" | "critical" | "extensive" | "significant" => 1,
        "medium" | "moderate" => 2,
        "low" | "minor" => 3,
        _ => return None,
    })
}

/// A time in the forms exports use: RFC 3339, ServiceNow's `2026-03-01 10:00:00`, Jira's
/// `01/Mar/26 10:00 AM` (both read as UTC).
pub fn parse_time(text: &str) -> Option<DeviceTime> {
    let t = text.trim();
    if let Ok(d) = DeviceTime::parse_rfc3339(t) {
        return Some(d);
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%b/%y %I:%M %p",
        "%d/%b/%Y %I:%M %p",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .map(|n| DeviceTime::from_datetime(n.and_utc()))
}

/// What a source state asks of the import, after logging.
fn state_actions(text: &str) -> Result<Vec<Action>, String> {
    let from_source = "Carried over from the system it was imported from.".to_string();
    let resolve = || Action::Resolve {
        code: Some(ResolutionCode::standard(
            StandardResolution::SolutionProvided,
        )),
        notes: String::new(),
    };
    Ok(match fold(text).as_str() {
        "" | "new" | "open" | "todo" | "waitingforsupport" | "triage" => vec![],
        "inprogress" | "active" | "workinprogress" | "assigned" | "escalated" => {
            vec![Action::StartWork]
        }
        "onhold" | "pending" | "waitingforcustomer" | "awaitingvendor" | "waitingforvendor" => {
            vec![Action::PutOnHold {
                reason: HoldReason::AwaitingVendor,
                note: from_source,
            }]
        }
        "resolved" | "done" | "completed" => vec![resolve()],
        "closed" => vec![resolve(), Action::Close],
        "canceled" | "cancelled" | "declined" => vec![Action::Cancel {
            reason: from_source,
        }],
        _ => {
            return Err(format!(
                "State “{}” is not one Outpost knows: use New, In Progress, On Hold, Resolved, Closed or Canceled.",
                text.trim()
            ))
        }
    })
}

/// The plan for every row of `table` under `mapping`, checked against `cfg` as `origin` would
/// log them. `imported` holds the external ids already on the device ([`imported_key`]).
pub fn plan(
    table: &Table,
    mapping: &Mapping,
    imported: &HashSet<String>,
    origin: &Attribution,
    cfg: &WorkspaceConfig,
) -> Vec<RowPlan> {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out: Vec<RowPlan> = table
        .unreadable
        .iter()
        .map(|(line, why)| RowPlan::Invalid {
            line: *line,
            errors: vec![format!("This line cannot be read: {why}.")],
        })
        .collect();
    for (line, fields) in &table.rows {
        let line = *line;
        let get = |t: Target| {
            mapping
                .column(t)
                .and_then(|c| fields.get(c))
                .map_or("", |v| crate::export::undefuse(v.trim()))
                .to_string()
        };
        let external_id = get(Target::ExternalId);
        let key = imported_key(&external_id);
        if external_id.is_empty() {
            out.push(RowPlan::Invalid {
                line,
                errors: vec!["The external id is empty: every row needs one, so that importing again skips it.".into()],
            });
            continue;
        }
        if let Some(first) = seen.insert(key.clone(), line) {
            out.push(RowPlan::Invalid {
                line,
                errors: vec![format!(
                    "External id “{external_id}” is also on line {first}: only the first is imported."
                )],
            });
            seen.insert(key, first);
            continue;
        }
        if imported.contains(&key) {
            out.push(RowPlan::AlreadyImported { line, external_id });
            continue;
        }
        match candidate(line, &external_id, &get, mapping, origin, cfg) {
            Ok(c) => out.push(RowPlan::Create(Box::new(c))),
            Err(errors) => out.push(RowPlan::Invalid { line, errors }),
        }
    }
    out.sort_by_key(RowPlan::line);
    out
}

/// How an external id is compared: trimmed, case ignored.
pub fn imported_key(external_id: &str) -> String {
    external_id.trim().to_lowercase()
}

fn candidate(
    line: u64,
    external_id: &str,
    get: &impl Fn(Target) -> String,
    mapping: &Mapping,
    origin: &Attribution,
    cfg: &WorkspaceConfig,
) -> Result<Candidate, Vec<String>> {
    let mut errors = Vec::new();
    let mut level = |t: Target| -> u8 {
        let text = get(t);
        if text.is_empty() {
            return 3;
        }
        parse_level(&text).unwrap_or_else(|| {
            errors.push(format!(
                "{} “{text}” is not a level: use 1, 2 or 3 (High, Medium, Low).",
                t.label()
            ));
            3
        })
    };
    let (mut impact, mut urgency) = (level(Target::Impact), level(Target::Urgency));
    let by_levels =
        mapping.column(Target::Impact).is_some() || mapping.column(Target::Urgency).is_some();
    let priority_text = get(Target::Priority);
    if !by_levels && !priority_text.is_empty() {
        match parse_priority(&priority_text) {
            Some(p) => (impact, urgency) = levels_for(cfg, p),
            None => errors.push(format!(
                "Priority “{priority_text}” is not one Outpost knows: use P1 to P5."
            )),
        }
    }
    let detected_at = match get(Target::OpenedAt) {
        t if t.is_empty() => None,
        t => match parse_time(&t) {
            Some(at) => Some(at.min(origin.at)),
            None => {
                errors.push(format!(
                    "Opened at “{t}” is not a time: use 2026-03-01T10:00:00Z or 2026-03-01 10:00:00."
                ));
                None
            }
        },
    };
    let actions = state_actions(&get(Target::State)).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let major = matches!(
        fold(&get(Target::Major)).as_str(),
        "yes" | "true" | "1" | "y" | "accepted"
    );
    let caller = get(Target::Caller);
    let new = NewIncident {
        title: get(Target::Title),
        description: get(Target::Description),
        detection_source: if caller.is_empty() {
            DetectionSource::Other
        } else {
            DetectionSource::UserReport
        },
        caller,
        category: get(Target::Category),
        subcategory: get(Target::Subcategory),
        affected_service: get(Target::Service),
        detected_at,
        impact: Impact::from_level(impact).unwrap_or(Impact::Low),
        urgency: Urgency::from_level(urgency).unwrap_or(Urgency::Low),
        assignment_group: get(Target::Group),
        assignee: get(Target::Assignee),
        major_incident: major,
        ..NewIncident::default()
    };
    let notes = get(Target::ResolutionNotes);
    let mut then = vec![Command::AddReference(ExternalRef {
        kind: ReferenceKind::Imported,
        id: external_id.to_string(),
    })];
    then.extend(actions.into_iter().map(|a| {
        Command::Transition(match a {
            Action::Resolve { code, .. } => Action::Resolve {
                code,
                notes: if notes.is_empty() {
                    "Resolved in the system it was imported from.".into()
                } else {
                    notes.clone()
                },
            },
            other => other,
        })
    }));
    let c = Candidate {
        line,
        external_id: external_id.to_string(),
        new,
        then,
    };
    // Checked by logging it for real, in memory: every rule the form and the commands keep.
    if let Err(mut found) = build(
        &c,
        &ReferenceNumber::new(DevicePrefix::from_random(0), 1),
        origin,
        cfg,
    ) {
        errors.append(&mut found);
    }
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(errors)
    }
}

/// The impact and urgency that give `p` under the workspace's matrix: the most urgent pair
/// that does, so a P1 stays P1 (or, if the matrix gives no cell `p`, the nearest lower one).
fn levels_for(cfg: &WorkspaceConfig, p: Priority) -> (u8, u8) {
    let mut best = (3, 3);
    let mut best_distance = u8::MAX;
    for impact in Impact::ALL {
        for urgency in Urgency::ALL {
            let got = cfg.priority_matrix.priority(impact, urgency);
            let distance = got.number().abs_diff(p.number());
            if distance < best_distance {
                best_distance = distance;
                best = (impact.level(), urgency.level());
            }
        }
    }
    best
}

/// The incident a candidate becomes, logged by `origin` under `reference`. Errors are
/// sentences a person can act on.
pub fn build(
    c: &Candidate,
    reference: &ReferenceNumber,
    origin: &Attribution,
    cfg: &WorkspaceConfig,
) -> Result<IncidentDoc, Vec<String>> {
    let mut doc = IncidentDoc::create(reference, &c.new, origin, cfg)
        .map_err(|e| e.0.into_iter().map(|f| f.message).collect::<Vec<_>>())?;
    doc.execute_all(&c.then, origin, cfg)
        .map_err(|e| vec![e.to_string()])?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_fold_to_letters_and_digits() {
        assert_eq!(fold("Custom field (Impact)"), "customfieldimpact");
        assert_eq!(fold(" short_description "), "shortdescription");
    }

    #[test]
    fn priorities_and_levels_in_other_tools_words() {
        for (text, p) in [
            ("P1", Priority::P1),
            ("1 - Critical", Priority::P1),
            ("Highest", Priority::P1),
            ("High", Priority::P2),
            ("3", Priority::P3),
            ("Moderate", Priority::P3),
            ("Lowest", Priority::P5),
            ("5 - Planning", Priority::P5),
        ] {
            assert_eq!(parse_priority(text), Some(p), "{text}");
        }
        assert_eq!(parse_priority("urgent-ish"), None);
        assert_eq!(parse_priority("P9"), None);
        assert_eq!(parse_level("1 - High"), Some(1));
        assert_eq!(parse_level("Extensive / Widespread"), Some(1));
        assert_eq!(parse_level("Low"), Some(3));
        assert_eq!(parse_level("4"), None);
        assert_eq!(parse_level("very"), None);
    }

    #[test]
    fn times_in_other_tools_forms() {
        let want = DeviceTime::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
        assert_eq!(parse_time("2026-03-01T10:00:00Z"), Some(want));
        assert_eq!(parse_time("2026-03-01 10:00:00"), Some(want));
        assert_eq!(parse_time("01/Mar/26 10:00 AM"), Some(want));
        assert_eq!(parse_time("yesterday"), None);
    }
}
