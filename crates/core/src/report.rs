//! The post-incident report: the review plus facts, a response timeline from the history, and
//! appendices of links and the communications sent, as parts a page lays out for print
//! ([`report`]) and as Markdown a person can mail or paste into a wiki ([`render_report`]).
//!
//! It follows the seed's report outline: overview, impact analysis, root cause, response
//! timeline, corrective actions, lessons learned and appendices. Times are UTC so a report reads
//! the same wherever it is opened.

use std::fmt::Write;

use crate::document::IncidentView;
use crate::history::Stamp;
use crate::incident::{Note, ReviewSection};
use crate::time::DeviceTime;

fn utc(t: DeviceTime) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

fn stamp(s: &Option<Stamp>) -> String {
    s.as_ref()
        .map_or("—".to_string(), |s| format!("{} by {}", utc(s.at), s.by))
}

/// The report as parts a page can lay out and [`render_report`] writes as Markdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `INC-7F3A-0042 — Users cannot log in to email`.
    pub heading: String,
    /// `P1 Critical · Major incident · State: Closed`.
    pub standing: String,
    /// Overview facts: service, category, people, detection and resolution times, SLAs.
    pub facts: Vec<(&'static str, String)>,
    /// Overview, impact analysis and root cause, as written (`None`: not written yet).
    pub before_timeline: Vec<(&'static str, Option<String>)>,
    /// The response timeline, from the history: time (UTC), who, what, and its text.
    pub timeline: Vec<(String, String, String, Option<String>)>,
    /// Corrective actions and lessons learned.
    pub after_timeline: Vec<(&'static str, Option<String>)>,
    /// What the appendices section holds as written.
    pub appendices: Option<String>,
    /// Links: the bridge, the parent, the duplicate, problem, change and knowledge records.
    pub links: Vec<String>,
    /// Communications sent: comments to affected users and status updates to stakeholders,
    /// oldest first: time (UTC), kind, author, text.
    pub communications: Vec<(String, &'static str, String, String)>,
}

fn written(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The report's parts for an incident.
pub fn report(view: &IncidentView) -> Report {
    let i = &view.incident;
    let major = if i.major_incident {
        " · Major incident"
    } else {
        ""
    };
    let facts = [
        ("Service", i.affected_service.clone()),
        (
            "Category",
            [i.category.as_str(), i.subcategory.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" / "),
        ),
        ("Caller", i.caller.clone()),
        ("Affected users", i.affected_users.join(", ")),
        (
            "Assignment",
            [i.assignment_group.as_str(), i.assignee.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" / "),
        ),
        (
            "Detected",
            format!("{} ({})", utc(i.detected_at), i.detection_source),
        ),
        (
            "Reported",
            format!("{} by {}", utc(i.reported_at), i.reported_by),
        ),
        ("Acknowledged", stamp(&view.milestones.acknowledged)),
        ("Resolved", stamp(&view.milestones.resolved)),
        ("Closed", stamp(&view.milestones.closed)),
        (
            "Resolution",
            match &i.resolution_code {
                Some(code) => format!("{code}: {}", i.resolution_notes),
                None => "—".to_string(),
            },
        ),
        (
            "SLA",
            format!(
                "{}; {}",
                view.sla.response.describe(),
                view.sla.resolution.describe()
            ),
        ),
    ];
    let facts = facts
        .into_iter()
        .map(|(label, value)| {
            let value = if value.trim().is_empty() {
                "—".to_string()
            } else {
                value
            };
            (label, value)
        })
        .collect();
    let mut links = Vec::new();
    if let Some(link) = written(&i.bridge_link) {
        links.push(format!("Bridge: {link}"));
    }
    if let Some(parent) = &i.parent {
        links.push(format!("Parent incident: {parent}"));
    }
    if let Some(original) = &i.duplicate_of {
        links.push(format!("Duplicate of: {original}"));
    }
    links.extend(i.references.iter().map(ToString::to_string));
    let mut communications: Vec<(DeviceTime, &'static str, &Note)> = i
        .comments
        .iter()
        .map(|n| (n.at, "Comment to affected users", n))
        .chain(i.status_updates.iter().map(|n| (n.at, "Status update", n)))
        .collect();
    communications.sort_by_key(|(at, _, n)| (*at, n.id.clone()));
    Report {
        heading: format!("{} — {}", i.reference, i.title),
        standing: format!("{}{major} · State: {}", view.priority, i.state),
        facts,
        before_timeline: vec![
            ("Overview", written(&i.review.overview)),
            ("Impact analysis", written(&i.review.impact_analysis)),
            ("Root cause", written(&i.review.root_cause)),
        ],
        timeline: view
            .timeline
            .iter()
            .map(|e| (utc(e.at), e.by.clone(), e.summary.clone(), e.detail.clone()))
            .collect(),
        after_timeline: vec![
            ("Corrective actions", written(&i.review.corrective_actions)),
            ("Lessons learned", written(&i.review.lessons_learned)),
        ],
        appendices: written(&i.review.appendices),
        links,
        communications: communications
            .into_iter()
            .map(|(at, kind, n)| (utc(at), kind, n.author.clone(), n.body.clone()))
            .collect(),
    }
}

fn section(out: &mut String, title: &str, body: &Option<String>) {
    let _ = write!(
        out,
        "\n## {title}\n\n{}\n",
        body.as_deref().unwrap_or("_Not written yet._")
    );
}

/// Renders the report for an incident as Markdown.
pub fn render_report(view: &IncidentView) -> String {
    let r = report(view);
    let mut out = String::new();
    let _ = writeln!(out, "# Post-incident report: {}", r.heading);
    let _ = writeln!(out, "\n**{}**", r.standing.replacen(" · ", "** · ", 1));
    out.push('\n');
    for (label, value) in &r.facts {
        let _ = writeln!(out, "- **{label}:** {value}");
    }
    for (title, body) in &r.before_timeline {
        section(&mut out, title, body);
    }
    out.push_str("\n## Response timeline\n\n");
    for (at, by, summary, detail) in &r.timeline {
        let _ = write!(out, "- {at} — {by} — {summary}");
        if let Some(detail) = detail {
            let _ = write!(out, ": {}", detail.replace('\n', " "));
        }
        out.push('\n');
    }
    for (title, body) in &r.after_timeline {
        section(&mut out, title, body);
    }
    section(&mut out, ReviewSection::Appendices.label(), &r.appendices);
    if !r.links.is_empty() {
        out.push_str("\n### Links\n\n");
        for link in &r.links {
            let _ = writeln!(out, "- {link}");
        }
    }
    if !r.communications.is_empty() {
        out.push_str("\n### Communications sent\n\n");
        for (at, kind, by, body) in &r.communications {
            let _ = writeln!(out, "- {at} — {kind} by {by}: {}", body.replace('\n', " "));
        }
    }
    out
}
