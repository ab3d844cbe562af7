//! The post-incident report: the review plus facts and a response timeline from the history,
//! as Markdown a person can print, mail or paste into a wiki.
//!
//! It follows the seed's report outline: overview, impact analysis, root cause, response
//! timeline, corrective actions, lessons learned and appendices. Times are UTC so a report reads
//! the same wherever it is opened.

use std::fmt::Write;

use crate::document::IncidentView;
use crate::history::Stamp;
use crate::incident::ReviewSection;
use crate::time::DeviceTime;

fn utc(t: DeviceTime) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

fn stamp(s: &Option<Stamp>) -> String {
    s.as_ref()
        .map_or("—".to_string(), |s| format!("{} by {}", utc(s.at), s.by))
}

fn section(out: &mut String, title: &str, body: &str) {
    let body = body.trim();
    let _ = write!(
        out,
        "\n## {title}\n\n{}\n",
        if body.is_empty() {
            "_Not written yet._"
        } else {
            body
        }
    );
}

/// Renders the report for an incident.
pub fn render_report(view: &IncidentView) -> String {
    let i = &view.incident;
    let mut out = String::new();
    let _ = writeln!(out, "# Post-incident report: {} — {}", i.reference, i.title);
    let major = if i.major_incident {
        " · Major incident"
    } else {
        ""
    };
    let _ = writeln!(out, "\n**{}**{major} · State: {}", view.priority, i.state);
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
    out.push('\n');
    for (label, value) in facts {
        let value = if value.trim().is_empty() {
            "—".to_string()
        } else {
            value
        };
        let _ = writeln!(out, "- **{label}:** {value}");
    }
    section(&mut out, "Overview", &i.review.overview);
    section(&mut out, "Impact analysis", &i.review.impact_analysis);
    section(&mut out, "Root cause", &i.review.root_cause);
    out.push_str("\n## Response timeline\n\n");
    for entry in &view.timeline {
        let _ = write!(
            out,
            "- {} — {} — {}",
            utc(entry.at),
            entry.by,
            entry.summary
        );
        if let Some(detail) = &entry.detail {
            let _ = write!(out, ": {}", detail.replace('\n', " "));
        }
        out.push('\n');
    }
    section(&mut out, "Corrective actions", &i.review.corrective_actions);
    section(&mut out, "Lessons learned", &i.review.lessons_learned);
    section(
        &mut out,
        ReviewSection::Appendices.label(),
        &i.review.appendices,
    );
    out
}
