//! Alerts from monitoring, as incidents: what a firing, a repeat, an acknowledgement and a
//! recovery do to an incident.
//!
//! Payloads from Alertmanager, Grafana or an Events API sender are parsed elsewhere (the relay's
//! automation peer) into an [`Alert`]; this module holds the rules, so every peer that acts on
//! an alert acts alike: one open incident per alert identity, a repeat recorded on it as an
//! occurrence, `acknowledge` starting work, and a recovery recorded and, if the workspace says
//! so, resolving the incident as "Resolved by monitoring". Severity, labels and annotations are
//! mapped by an [`AlertMapping`] (data, not code).

use std::collections::BTreeMap;

use crate::command::Command;
use crate::config::WorkspaceConfig;
use crate::incident::{clip, limits, DetectionSource, NewIncident, NoteKind};
use crate::priority::{Impact, Urgency};
use crate::state::{Action, ResolutionCode, StandardResolution, State};
use crate::time::DeviceTime;

/// What the sender says about the alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStatus {
    /// Firing (Alertmanager `firing`, Events API `trigger`).
    Firing,
    /// Someone is on it (Events API `acknowledge`).
    Acknowledged,
    /// Stopped firing (Alertmanager `resolved`, Events API `resolve`).
    Resolved,
}

/// One alert, whatever sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// What identifies it across repeats: Alertmanager's `fingerprint`, the Events API's
    /// `dedup_key`.
    pub identity: String,
    /// Firing, acknowledged or resolved.
    pub status: AlertStatus,
    /// A one-line summary, which becomes the title.
    pub summary: String,
    /// The sender's severity (`critical`, `error`, `warning`, `info`, or a label's value).
    pub severity: String,
    /// Where it came from (a host, a job), if said.
    pub source: String,
    /// Labels (Alertmanager) or details (Events API `custom_details`, flattened to text).
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `description`, `runbook_url`, ...).
    pub annotations: BTreeMap<String, String>,
    /// Links the sender gave (generator, dashboard, silence).
    pub links: Vec<String>,
    /// When it started firing, if said.
    pub started_at: Option<DeviceTime>,
}

/// How a workspace maps alerts onto incidents.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AlertMapping {
    /// Severity (lower case) to impact and urgency.
    pub severities: BTreeMap<String, (Impact, Urgency)>,
    /// For a severity not listed.
    pub otherwise: (Impact, Urgency),
    /// Labels naming the affected service, the first present wins.
    pub service_labels: Vec<String>,
    /// The label naming the category (used only when the catalog has it).
    pub category_label: String,
    /// Whether a recovery resolves the incident, or is only recorded on it.
    pub resolve_on_recovery: bool,
    /// How a group of several alerts becomes incidents.
    pub grouping: Grouping,
}

/// How a group of alerts (Alertmanager's `groupKey`: alerts its route groups together, such as
/// one disk alert per database server) becomes incidents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// A parent incident for the group, each alert a child of it (moving with it, see
    /// [`crate::family`]); a group of one alert has no parent.
    Children,
    /// One incident for the whole group, listing its alerts; each firing and recovery is
    /// recorded on it, and it recovers when the whole group has.
    One,
}

/// A group of alerts as the sender grouped them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertGroup {
    /// The sender's group key.
    pub key: String,
    /// Firing while any alert of it fires.
    pub status: AlertStatus,
    /// The labels every alert of the group shares.
    pub labels: BTreeMap<String, String>,
    /// The annotations every alert shares.
    pub annotations: BTreeMap<String, String>,
    /// The sender's own page (Alertmanager's `externalURL`).
    pub links: Vec<String>,
}

impl AlertGroup {
    /// The group as one alert, for the incident standing for the whole group: its identity is
    /// the group key, its summary the shared summary (or the alert name and how many fire), and
    /// its description lists the alerts.
    pub fn as_alert(&self, alerts: &[Alert]) -> Alert {
        let name = self
            .labels
            .get("alertname")
            .map_or("Alerts", String::as_str);
        let summary = self.annotations.get("summary").cloned().unwrap_or_else(|| {
            let firing = alerts
                .iter()
                .filter(|a| a.status == AlertStatus::Firing)
                .count();
            format!("{name}: {firing} of {} alerts firing", alerts.len())
        });
        let mut annotations = self.annotations.clone();
        let listed: Vec<String> = alerts
            .iter()
            .map(|a| format!("{} ({})", a.summary, a.identity))
            .collect();
        annotations.insert("alerts".into(), listed.join("; "));
        Alert {
            identity: format!("group:{}", self.key),
            status: self.status,
            summary,
            severity: self.labels.get("severity").cloned().unwrap_or_default(),
            source: String::new(),
            labels: self.labels.clone(),
            annotations,
            links: self.links.clone(),
            started_at: alerts.iter().filter_map(|a| a.started_at).min(),
        }
    }
}

impl Default for AlertMapping {
    /// PagerDuty's four severities onto ITIL's impact and urgency: `critical` is a P1 under the
    /// standard matrix, `error` a P2, `warning` a P3 and `info` a P4.
    fn default() -> Self {
        let severities = [
            ("critical", Impact::High, Urgency::High),
            ("error", Impact::High, Urgency::Medium),
            ("warning", Impact::Medium, Urgency::Medium),
            ("info", Impact::Low, Urgency::Medium),
        ]
        .into_iter()
        .map(|(s, i, u)| (s.to_string(), (i, u)))
        .collect();
        AlertMapping {
            severities,
            otherwise: (Impact::Medium, Urgency::Medium),
            service_labels: vec!["service".into(), "job".into()],
            category_label: "category".into(),
            resolve_on_recovery: true,
            grouping: Grouping::Children,
        }
    }
}

impl AlertMapping {
    /// The impact and urgency for a severity.
    pub fn levels(&self, severity: &str) -> (Impact, Urgency) {
        self.severities
            .get(&severity.trim().to_lowercase())
            .copied()
            .unwrap_or(self.otherwise)
    }
}

/// What an alert does to the incident open for its identity (if any).
#[derive(Clone, Debug, PartialEq)]
pub enum AlertEffect {
    /// Log a new incident.
    Open(Box<NewIncident>),
    /// Change the open incident with these commands, in order.
    Change(Vec<Command>),
    /// The alert fired again: this is its `occurrence`-th firing. [`occurrences`] writes the
    /// timeline entry, for one repeat or for several that arrived together.
    Repeat {
        /// Which firing this is (the first is 1).
        occurrence: u64,
    },
    /// Nothing to do (a recovery or acknowledgement with no open incident, or one already
    /// reflected).
    Nothing,
}

/// Whether an incident in `state` still stands for its alert: a firing for an identity whose
/// incident is Resolved, Closed or Canceled opens a new incident.
pub fn still_open(state: State) -> bool {
    !matches!(state, State::Resolved | State::Closed | State::Canceled)
}

/// What `alert` does, given the state of the incident open for its identity (`None`: there is
/// none, or it no longer stands for the alert) and how many times it has fired before.
pub fn effect(
    alert: &Alert,
    open: Option<State>,
    fired_before: u64,
    at: DeviceTime,
    mapping: &AlertMapping,
    cfg: &WorkspaceConfig,
) -> AlertEffect {
    let open = open.filter(|s| still_open(*s));
    match (alert.status, open) {
        (AlertStatus::Firing, None) => {
            AlertEffect::Open(Box::new(new_incident(alert, mapping, cfg)))
        }
        (AlertStatus::Firing, Some(_)) => AlertEffect::Repeat {
            occurrence: fired_before + 1,
        },
        (AlertStatus::Acknowledged, Some(State::New)) => AlertEffect::Change(vec![
            Command::AddNote {
                kind: NoteKind::WorkNote,
                body: format!("Alert acknowledged at {}.", stamp(at)),
            },
            Command::Transition(Action::StartWork),
        ]),
        (AlertStatus::Resolved, Some(_)) => {
            let note = format!("Monitoring reports recovery at {}.", stamp(at));
            let mut commands = vec![Command::AddNote {
                kind: NoteKind::WorkNote,
                body: note.clone(),
            }];
            if mapping.resolve_on_recovery {
                commands.push(Command::Transition(Action::Resolve {
                    code: Some(ResolutionCode::standard(
                        StandardResolution::ResolvedByMonitoring,
                    )),
                    notes: note,
                }));
            }
            AlertEffect::Change(commands)
        }
        _ => AlertEffect::Nothing,
    }
}

/// The timeline entry for repeats `first` to `last` of an alert, last seen at `at`: one entry
/// however many arrived together, so a storm of repeats is a count, not a flood of notes.
pub fn occurrences(first: u64, last: u64, at: DeviceTime) -> Command {
    let which = if first == last {
        format!("occurrence {last}")
    } else {
        format!("occurrences {first} to {last}")
    };
    Command::AddNote {
        kind: NoteKind::WorkNote,
        body: format!("Alert fired again: {which}, last seen {}.", stamp(at)),
    }
}

fn stamp(at: DeviceTime) -> String {
    at.to_datetime().format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The incident a first firing logs.
pub fn new_incident(alert: &Alert, mapping: &AlertMapping, cfg: &WorkspaceConfig) -> NewIncident {
    let (impact, urgency) = mapping.levels(&alert.severity);
    let service = mapping
        .service_labels
        .iter()
        .find_map(|l| alert.labels.get(l).filter(|v| !v.trim().is_empty()))
        .cloned()
        .unwrap_or_default();
    let category = alert
        .labels
        .get(&mapping.category_label)
        .and_then(|c| cfg.canonical_category(c, "").ok())
        .map(|(c, _)| c)
        .unwrap_or_default();
    let summary = alert.summary.trim();
    let title = if summary.is_empty() {
        format!("Alert {}", alert.identity)
    } else {
        summary.to_string()
    };
    NewIncident {
        title: clip(&title, limits::TITLE),
        description: clip(&describe(alert), limits::LONG_TEXT),
        affected_service: clip(&service, limits::SHORT_TEXT),
        category,
        detection_source: DetectionSource::Monitoring,
        detected_at: alert.started_at,
        impact,
        urgency,
        ..NewIncident::default()
    }
}

/// The description: the summary's detail, then annotations, labels and links, one per line.
fn describe(alert: &Alert) -> String {
    let mut lines = Vec::new();
    if let Some(d) = alert.annotations.get("description") {
        lines.push(d.trim().to_string());
        lines.push(String::new());
    }
    if !alert.source.trim().is_empty() {
        lines.push(format!("Source: {}", alert.source.trim()));
    }
    if !alert.severity.trim().is_empty() {
        lines.push(format!("Severity: {}", alert.severity.trim()));
    }
    lines.push(format!("Alert identity: {}", alert.identity));
    for (title, map) in [
        ("Annotations", &alert.annotations),
        ("Labels", &alert.labels),
    ] {
        let shown: Vec<_> = map
            .iter()
            .filter(|(k, _)| !(title == "Annotations" && k.as_str() == "description"))
            .collect();
        if !shown.is_empty() {
            lines.push(format!("{title}:"));
            lines.extend(shown.into_iter().map(|(k, v)| format!("  {k}: {v}")));
        }
    }
    if !alert.links.is_empty() {
        lines.push("Links:".into());
        lines.extend(alert.links.iter().map(|l| format!("  {l}")));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Attribution;
    use crate::priority::Priority;
    use crate::reference::{DevicePrefix, ReferenceNumber};
    use crate::IncidentDoc;

    fn alert(status: AlertStatus, severity: &str) -> Alert {
        Alert {
            identity: "f1b2c3".into(),
            status,
            summary: "Disk almost full on db-1".into(),
            severity: severity.into(),
            source: "db-1:9100".into(),
            labels: [("service", "Payroll"), ("alertname", "DiskFull")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: [
                ("description", "/var is 97% full"),
                ("runbook_url", "https://runbooks.example/disk"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            links: vec!["http://prometheus.example/graph".into()],
            started_at: Some(DeviceTime::from_millis(1_700_000_000_000)),
        }
    }

    fn at() -> DeviceTime {
        DeviceTime::from_millis(1_700_000_600_000)
    }

    fn opened(a: &Alert) -> IncidentDoc {
        let cfg = WorkspaceConfig::default();
        let AlertEffect::Open(new) = effect(a, None, 0, at(), &AlertMapping::default(), &cfg)
        else {
            panic!("a first firing opens an incident")
        };
        let reference = ReferenceNumber::new(DevicePrefix::new("AM01").unwrap(), 1);
        IncidentDoc::create(
            &reference,
            &new,
            &Attribution::new("Alertmanager: prod-eu", at()),
            &cfg,
        )
        .expect("the incident an alert opens is valid")
    }

    fn run(doc: &mut IncidentDoc, e: AlertEffect) {
        let commands = match e {
            AlertEffect::Change(commands) => commands,
            AlertEffect::Repeat { occurrence } => vec![occurrences(occurrence, occurrence, at())],
            e => panic!("expected a change, got {e:?}"),
        };
        for c in commands {
            doc.execute(
                &c,
                &Attribution::new("Alertmanager: prod-eu", at()),
                &WorkspaceConfig::default(),
            )
            .expect("the alert's command is admitted");
        }
    }

    #[test]
    fn a_first_firing_opens_an_incident_from_monitoring_with_mapped_fields() {
        let doc = opened(&alert(AlertStatus::Firing, "critical"));
        let incident = doc.read().unwrap();
        assert_eq!(incident.title, "Disk almost full on db-1");
        assert_eq!(incident.detection_source, DetectionSource::Monitoring);
        assert_eq!(incident.affected_service, "Payroll");
        assert_eq!(
            WorkspaceConfig::default()
                .priority_matrix
                .priority(incident.impact, incident.urgency),
            Priority::P1
        );
        assert!(incident.description.starts_with("/var is 97% full"));
        assert!(incident
            .description
            .contains("  runbook_url: https://runbooks.example/disk"));
        assert!(incident.description.contains("  alertname: DiskFull"));
        assert!(incident.description.contains("Alert identity: f1b2c3"));
    }

    #[test]
    fn severities_map_through_the_table_and_unknown_ones_take_the_default() {
        let m = AlertMapping::default();
        let cfg = WorkspaceConfig::default();
        let p = |s: &str| {
            let n = new_incident(&alert(AlertStatus::Firing, s), &m, &cfg);
            cfg.priority_matrix.priority(n.impact, n.urgency)
        };
        assert_eq!(p("critical"), Priority::P1);
        assert_eq!(p("ERROR"), Priority::P2);
        assert_eq!(p("warning"), Priority::P3);
        assert_eq!(p("info"), Priority::P4);
        assert_eq!(p("page-me-maybe"), Priority::P3);
    }

    #[test]
    fn a_repeat_is_an_occurrence_on_the_open_incident_never_a_second_one() {
        let a = alert(AlertStatus::Firing, "warning");
        let mut doc = opened(&a);
        let cfg = WorkspaceConfig::default();
        let e = effect(
            &a,
            Some(State::New),
            1,
            at(),
            &AlertMapping::default(),
            &cfg,
        );
        run(&mut doc, e);
        let notes = doc.read().unwrap().work_notes;
        assert_eq!(notes.len(), 1);
        assert!(notes[0].body.contains("occurrence 2"), "{}", notes[0].body);
        let Command::AddNote { body, .. } = occurrences(3, 7, at()) else {
            panic!()
        };
        assert!(
            body.starts_with("Alert fired again: occurrences 3 to 7, last seen"),
            "{body}"
        );
        // Once resolved, the identity no longer has an open incident: a firing opens a new one.
        assert!(matches!(
            effect(
                &a,
                Some(State::Resolved),
                2,
                at(),
                &AlertMapping::default(),
                &cfg
            ),
            AlertEffect::Open(_)
        ));
    }

    #[test]
    fn acknowledge_starts_work_and_recovery_resolves_by_monitoring() {
        let cfg = WorkspaceConfig::default();
        let mut doc = opened(&alert(AlertStatus::Firing, "error"));
        let ack = alert(AlertStatus::Acknowledged, "error");
        run(
            &mut doc,
            effect(
                &ack,
                Some(State::New),
                1,
                at(),
                &AlertMapping::default(),
                &cfg,
            ),
        );
        assert_eq!(doc.read().unwrap().state, State::InProgress);
        // A second acknowledgement changes nothing.
        assert_eq!(
            effect(
                &ack,
                Some(State::InProgress),
                1,
                at(),
                &AlertMapping::default(),
                &cfg
            ),
            AlertEffect::Nothing
        );
        let ok = alert(AlertStatus::Resolved, "error");
        run(
            &mut doc,
            effect(
                &ok,
                Some(State::InProgress),
                1,
                at(),
                &AlertMapping::default(),
                &cfg,
            ),
        );
        let incident = doc.read().unwrap();
        assert_eq!(incident.state, State::Resolved);
        assert_eq!(
            incident
                .resolution_code
                .as_ref()
                .map(|c| c.name().to_string())
                .as_deref(),
            Some("Resolved by monitoring")
        );
        // A recovery for an incident no longer open, or none, does nothing.
        assert_eq!(
            effect(
                &ok,
                Some(State::Resolved),
                1,
                at(),
                &AlertMapping::default(),
                &cfg
            ),
            AlertEffect::Nothing
        );
        assert_eq!(
            effect(&ok, None, 0, at(), &AlertMapping::default(), &cfg),
            AlertEffect::Nothing
        );
    }

    #[test]
    fn a_workspace_that_only_records_recoveries_keeps_the_incident_open() {
        let cfg = WorkspaceConfig::default();
        let mapping = AlertMapping {
            resolve_on_recovery: false,
            ..AlertMapping::default()
        };
        let mut doc = opened(&alert(AlertStatus::Firing, "error"));
        let ok = alert(AlertStatus::Resolved, "error");
        run(
            &mut doc,
            effect(&ok, Some(State::New), 1, at(), &mapping, &cfg),
        );
        let incident = doc.read().unwrap();
        assert_eq!(incident.state, State::New);
        assert!(incident.work_notes[0]
            .body
            .starts_with("Monitoring reports recovery"));
    }

    #[test]
    fn a_group_as_one_alert_lists_its_alerts_and_counts_those_firing() {
        let mut second = alert(AlertStatus::Firing, "critical");
        second.identity = "a9".into();
        second.summary = "Disk almost full on db-2".into();
        let mut third = second.clone();
        third.identity = "b7".into();
        third.status = AlertStatus::Resolved;
        let group = AlertGroup {
            key: "{}:{alertname=\"DiskFull\"}".into(),
            status: AlertStatus::Firing,
            labels: [("alertname".to_string(), "DiskFull".to_string())]
                .into_iter()
                .collect(),
            annotations: BTreeMap::new(),
            links: vec![],
        };
        let one = group.as_alert(&[alert(AlertStatus::Firing, "critical"), second, third]);
        assert_eq!(one.identity, "group:{}:{alertname=\"DiskFull\"}");
        assert_eq!(one.summary, "DiskFull: 2 of 3 alerts firing");
        assert!(one.annotations["alerts"].contains("Disk almost full on db-2 (a9)"));
        assert_eq!(
            one.started_at,
            Some(DeviceTime::from_millis(1_700_000_000_000))
        );
    }

    #[test]
    fn long_summaries_are_clipped_to_the_title_limit_and_an_empty_one_names_the_alert() {
        let cfg = WorkspaceConfig::default();
        let mut a = alert(AlertStatus::Firing, "info");
        a.summary = "é".repeat(1024);
        let n = new_incident(&a, &AlertMapping::default(), &cfg);
        assert_eq!(n.title.chars().count(), limits::TITLE);
        a.summary = "  ".into();
        assert_eq!(
            new_incident(&a, &AlertMapping::default(), &cfg).title,
            "Alert f1b2c3"
        );
    }
}
