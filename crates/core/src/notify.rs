//! Who is told what, and when: the notifications an incident owes under the workspace's
//! communication plan and directory.
//!
//! Each notice has a key that names the occasion (`raised:P1`, `assigned@…`, `sla:resolution:75`,
//! `resolved@…`), stable for as long as the occasion lasts, so whoever sends them (the relay's
//! automation) can send each once however often it asks. The rules follow ServiceNow's defaults:
//!
//! - a P1 or P2, or a declared major incident: the assignment group and everyone on call;
//! - an assignment: the assignee, or the group when nobody is named (not the person who did it);
//! - the response or resolution target 75% used, and breached: the assignee (the group when
//!   nobody is named) and the group's manager;
//! - a stakeholder update overdue: whoever owes it (assignee or group), the group's manager and
//!   the communication owner (the plan's owner duty);
//! - resolved: the caller, the affected users and, when stakeholders follow the incident, the
//!   communication owners, with a summary; the caller may answer "It works now" or "Still broken"
//!   ([`caller_answer`]);
//! - a post-incident report owed: the assignee, the group's manager and the communication owner.
//!
//! A group with a shared mailbox is told there; otherwise each member is. People without an
//! address are left out (the directory is where one adds it).

use crate::command::Command;
use crate::directory::{same_name, Directory, Person};
use crate::document::IncidentView;
use crate::incident::NoteKind;
use crate::priority::Priority;
use crate::sla::{ClockState, SlaClock, SlaLevel};
use crate::state::{Action, State};
use crate::time::DeviceTime;
use crate::WorkspaceConfig;

/// Why someone receives a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// They work in the assignment group (or it is the group's mailbox).
    Group,
    /// They are on call.
    OnCall,
    /// The incident is assigned to them.
    Assignee,
    /// They manage the assignment group.
    Manager,
    /// They reported it.
    Caller,
    /// They are among the affected users.
    AffectedUser,
    /// They own communication about it (the plan's owner duty).
    Stakeholder,
}

/// One person (or mailbox) a notice goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Their name, as the directory has it.
    pub name: String,
    /// Where mail reaches them.
    pub email: String,
    /// Why they are told.
    pub audience: Audience,
}

/// What a notice is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Occasion {
    /// A P1 or P2, or a major incident.
    Raised,
    /// Assigned to a group or a person.
    Assigned,
    /// A target 75% used.
    SlaWarning,
    /// A target breached.
    SlaBreach,
    /// A stakeholder update is overdue.
    UpdateOverdue,
    /// Resolved: the summary, and the caller's answer links.
    Resolved,
    /// A post-incident report is owed.
    ReportOwed,
}

/// A notification an incident owes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The occasion's identity within the incident: sent once.
    pub key: String,
    /// What it is about.
    pub occasion: Occasion,
    /// Who is told, each address once.
    pub to: Vec<Recipient>,
    /// One line, for a mail's subject or a chat message's title.
    pub subject: String,
    /// Plain text: what it is about, then the incident's facts.
    pub body: String,
}

/// The notices `view` owes at `now`; `link` is where the incident opens in the app.
pub fn owed(
    view: &IncidentView,
    cfg: &WorkspaceConfig,
    directory: &Directory,
    now: DeviceTime,
    link: &str,
) -> Vec<Notice> {
    let i = &view.incident;
    let mut notices = Vec::new();
    let facts = facts(view, link);
    let mut notice = |key: String, occasion: Occasion, to: Vec<Recipient>, subject, lead| {
        let to = unique(to);
        if !to.is_empty() {
            notices.push(Notice {
                key,
                occasion,
                to,
                subject,
                body: format!("{lead}\n\n{facts}"),
            });
        }
    };
    let working = i.state.is_open() && i.state != State::Resolved;
    let title = format!("{} {}", i.reference, i.title);

    if working && (view.priority <= Priority::P2 || i.major_incident) {
        let what = if i.major_incident {
            "major"
        } else {
            view.priority.code()
        };
        let mut to = group(directory, &i.assignment_group);
        to.extend(
            directory
                .on_call()
                .into_iter()
                .filter_map(|p| recipient(p, Audience::OnCall)),
        );
        let label = if i.major_incident {
            format!("Major incident ({})", view.priority)
        } else {
            view.priority.to_string()
        };
        notice(
            format!("raised:{what}"),
            Occasion::Raised,
            to,
            format!("[{label}] {title}"),
            format!(
                "{label} raised: {}. You are told as on call or as the assignment group.",
                i.title
            ),
        );
    }

    if working && (!i.assignee.is_empty() || !i.assignment_group.is_empty()) {
        if let Some(stamp) = &view.milestones.assigned {
            let (to, whom) = if i.assignee.is_empty() {
                (
                    group(directory, &i.assignment_group),
                    i.assignment_group.clone(),
                )
            } else {
                (
                    person(directory, &i.assignee, Audience::Assignee),
                    i.assignee.clone(),
                )
            };
            let to = to
                .into_iter()
                .filter(|r| !same_name(&r.name, &stamp.by))
                .collect();
            notice(
                format!("assigned@{}", stamp.at),
                Occasion::Assigned,
                to,
                format!("[{}] {title} assigned to {whom}", view.priority.code()),
                format!("{} assigned it to {whom}.", stamp.by),
            );
        }
    }

    if working {
        for clock in [&view.sla.response, &view.sla.resolution] {
            let Some(mark) = sla_mark(clock) else {
                continue;
            };
            let SlaMark {
                key,
                kind,
                what,
                breached,
            } = mark;
            notice(
                key,
                if breached {
                    Occasion::SlaBreach
                } else {
                    Occasion::SlaWarning
                },
                owners(directory, i),
                format!("[{}] {title}: {kind} target {what}", view.priority.code()),
                format!(
                    "The {} target is {what}: {}.",
                    kind.to_lowercase(),
                    left(clock)
                ),
            );
        }
    }

    if let Some(due) = view.communication.stakeholder_update_due {
        if working && due <= now {
            let mut to = owners(directory, i);
            to.extend(stakeholders(directory, cfg));
            notice(
                format!("update-overdue@{due}"),
                Occasion::UpdateOverdue,
                to,
                format!("[{}] {title}: stakeholder update overdue", view.priority.code()),
                format!(
                    "A status update to stakeholders was due at {due} (every {} minutes under the communication plan). Post one on the incident.",
                    cfg.communication.stakeholder_every_minutes
                ),
            );
        }
    }

    if i.state == State::Resolved {
        if let Some(resolved) = &view.milestones.resolved {
            let mut to = person(directory, &i.caller, Audience::Caller);
            for user in &i.affected_users {
                to.extend(person(directory, user, Audience::AffectedUser));
            }
            if cfg
                .communication
                .stakeholders_follow(view.priority, i.major_incident)
            {
                to.extend(stakeholders(directory, cfg));
            }
            notice(
                resolved_key(resolved.at),
                Occasion::Resolved,
                to,
                format!("Resolved: {title}"),
                resolution_summary(view),
            );
        }
    }

    if view.communication.report_due {
        let mut to = owners(directory, i);
        to.extend(stakeholders(directory, cfg));
        notice(
            "report-owed".into(),
            Occasion::ReportOwed,
            to,
            format!("[{}] {title}: post-incident report owed", view.priority.code()),
            "A post-incident report is owed: write the review on the incident (root cause, corrective actions, lessons learned).".into(),
        );
    }
    notices
}

/// The key of the resolution notice for a resolution at `at`: the caller's answer links name
/// it, so an answer to an earlier resolution (before a reopen) is refused.
pub fn resolved_key(at: DeviceTime) -> String {
    format!("resolved@{at}")
}

/// The caller's answer to a resolution notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallerAnswer {
    /// "It works now": close it.
    Works,
    /// "Still broken": reopen it.
    StillBroken,
}

impl CallerAnswer {
    /// As a link names it.
    pub fn key(self) -> &'static str {
        match self {
            CallerAnswer::Works => "works",
            CallerAnswer::StillBroken => "still-broken",
        }
    }

    /// From a link's name for it.
    pub fn parse(key: &str) -> Option<CallerAnswer> {
        match key {
            "works" => Some(CallerAnswer::Works),
            "still-broken" => Some(CallerAnswer::StillBroken),
            _ => None,
        }
    }

    /// What the button says.
    pub fn label(self) -> &'static str {
        match self {
            CallerAnswer::Works => "It works now",
            CallerAnswer::StillBroken => "Still broken",
        }
    }
}

/// Why a caller's answer was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefusal {
    /// The incident is no longer in the resolution the link was sent for.
    #[error("This link was for a resolution that has since changed (the incident is {0} now). Nothing was done.")]
    Stale(State),
}

/// The commands a caller's answer to the resolution notice `key` runs: a comment saying what
/// they answered, then Close or Reopen.
pub fn caller_answer(
    view: &IncidentView,
    key: &str,
    answer: CallerAnswer,
) -> Result<Vec<Command>, AnswerRefusal> {
    let current = view
        .milestones
        .resolved
        .as_ref()
        .map(|r| resolved_key(r.at));
    if view.incident.state != State::Resolved || current.as_deref() != Some(key) {
        return Err(AnswerRefusal::Stale(view.incident.state));
    }
    let caller = &view.incident.caller;
    Ok(match answer {
        CallerAnswer::Works => vec![
            Command::AddNote {
                kind: NoteKind::Comment,
                body: format!(
                    "{caller} confirmed the fix (\"It works now\" in the resolution mail)."
                ),
            },
            Command::Transition(Action::Close),
        ],
        CallerAnswer::StillBroken => vec![Command::Transition(Action::Reopen {
            reason: format!(
                "{caller} reports it is still broken (\"Still broken\" in the resolution mail)."
            ),
        })],
    })
}

/// Something the device reminds its person of, offline: an update to affected users due, or an
/// SLA target 75% used or breached, on an incident assigned to them or to one of their groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// The incident's document id.
    pub document_id: String,
    /// Identity of the occasion on that incident: a device shows each once.
    pub key: String,
    /// One line: `INC-7F3A-0042: update to affected users due` .
    pub title: String,
    /// The incident's title and when.
    pub body: String,
    /// Whether it is past due (a breach, an overdue update) rather than a warning.
    pub overdue: bool,
}

/// Whom a device reminds.
#[derive(Clone, Copy, Debug)]
pub struct Me<'a> {
    /// Their name.
    pub name: &'a str,
    /// The groups they work in.
    pub groups: &'a [String],
    /// Whether the directory has them on call (told of every new P1 and P2).
    pub on_call: bool,
}

/// The reminders for `me` at `now` over the incidents the device holds, most pressing first:
/// breaches, overdue updates and new P1s and P2s nobody has started (for the on-call person,
/// and for whoever they are assigned to), then warnings, each by priority.
pub fn reminders<'a>(
    summaries: impl IntoIterator<Item = &'a crate::summary::IncidentSummary>,
    me: Me<'_>,
    cfg: &WorkspaceConfig,
    now: DeviceTime,
) -> Vec<Reminder> {
    let mut out: Vec<(bool, Priority, Reminder)> = Vec::new();
    if me.name.trim().is_empty() {
        return Vec::new();
    }
    for s in summaries {
        let working = s.state.is_open() && s.state != State::Resolved;
        if !working {
            continue;
        }
        let in_group = me.groups.iter().any(|g| same_name(g, &s.assignment_group));
        let mine = if s.assignee.is_empty() {
            in_group
        } else {
            same_name(&s.assignee, me.name)
        };
        let urgent = s.priority <= Priority::P2 || s.major_incident;
        if urgent && s.state == State::New && (mine || me.on_call) {
            let label = if s.major_incident {
                format!("new major incident ({})", s.priority.code())
            } else {
                format!("new {}", s.priority)
            };
            out.push((
                true,
                s.priority,
                Reminder {
                    document_id: s.document_id.clone(),
                    key: "raised".into(),
                    title: format!("{}: {label}", s.reference),
                    body: format!("{}: nobody has started work on it yet.", s.title),
                    overdue: false,
                },
            ));
        }
        if !mine {
            continue;
        }
        let mut push = |key: String, what: String, body: String, overdue: bool| {
            out.push((
                overdue,
                s.priority,
                Reminder {
                    document_id: s.document_id.clone(),
                    key,
                    title: format!("{}: {what}", s.reference),
                    body,
                    overdue,
                },
            ))
        };
        if let Some(due) = s.update_due {
            let soon = due.since(now) <= crate::time::Span::minutes(15);
            if soon {
                let overdue = due <= now;
                push(
                    format!("update-due@{due}"),
                    if overdue {
                        "update to affected users overdue".into()
                    } else {
                        "update to affected users due soon".into()
                    },
                    format!(
                        "{} ({}): post a comment for the affected users.",
                        s.title,
                        s.priority.code()
                    ),
                    overdue,
                );
            }
        }
        let clocks = s
            .sla
            .project(now, cfg.calendar_named(&s.sla.business_calendar));
        for clock in [&clocks.response, &clocks.resolution] {
            if let Some(SlaMark {
                key,
                kind,
                what,
                breached,
            }) = sla_mark(clock)
            {
                push(
                    key,
                    format!("{kind} target {what}"),
                    format!("{} ({}): {}.", s.title, s.priority.code(), left(clock)),
                    breached,
                );
            }
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.into_iter().map(|(_, _, r)| r).collect()
}

/// Where a running SLA clock stands, once it matters: 75% used or breached.
struct SlaMark {
    /// The occasion's key: `sla:response:75`, `sla:resolution:breach`.
    key: String,
    /// "Response" or "Resolution".
    kind: &'static str,
    /// "76% used" or "breached".
    what: String,
    /// Past its target.
    breached: bool,
}

fn sla_mark(clock: &SlaClock) -> Option<SlaMark> {
    if clock.state != ClockState::Running {
        return None;
    }
    let (mark, what, breached) = match clock.level() {
        SlaLevel::Breached => ("breach", "breached".to_string(), true),
        SlaLevel::Warning75 => ("75", format!("{}% used", clock.percent_used()), false),
        _ => return None,
    };
    let kind = clock.kind.label();
    Some(SlaMark {
        key: format!("sla:{}:{mark}", kind.to_lowercase()),
        kind,
        what,
        breached,
    })
}

fn left(clock: &SlaClock) -> String {
    let remaining = clock.remaining();
    if remaining.num_milliseconds() <= 0 {
        format!("over by {}", crate::time::format_span(-remaining))
    } else {
        format!("{} left", crate::time::format_span(remaining))
    }
}

fn recipient(p: &Person, audience: Audience) -> Option<Recipient> {
    (!p.email.trim().is_empty()).then(|| Recipient {
        name: p.name.clone(),
        email: p.email.trim().to_string(),
        audience,
    })
}

fn person(directory: &Directory, name: &str, audience: Audience) -> Vec<Recipient> {
    directory
        .person(name)
        .and_then(|p| recipient(p, audience))
        .into_iter()
        .collect()
}

/// The group's mailbox, or each member.
fn group(directory: &Directory, name: &str) -> Vec<Recipient> {
    if name.is_empty() {
        return Vec::new();
    }
    if let Some(g) = directory.group(name) {
        if !g.email.trim().is_empty() {
            return vec![Recipient {
                name: g.name.clone(),
                email: g.email.trim().to_string(),
                audience: Audience::Group,
            }];
        }
    }
    directory
        .members(name)
        .into_iter()
        .filter_map(|p| recipient(p, Audience::Group))
        .collect()
}

/// Whoever works it (the assignee, or the group), and the group's manager.
fn owners(directory: &Directory, i: &crate::Incident) -> Vec<Recipient> {
    let mut to = if i.assignee.is_empty() {
        group(directory, &i.assignment_group)
    } else {
        person(directory, &i.assignee, Audience::Assignee)
    };
    if let Some(g) = directory.group(&i.assignment_group) {
        to.extend(person(directory, &g.manager, Audience::Manager));
    }
    to
}

fn stakeholders(directory: &Directory, cfg: &WorkspaceConfig) -> Vec<Recipient> {
    directory
        .with_duty(&cfg.communication.owner_duty)
        .into_iter()
        .filter_map(|p| recipient(p, Audience::Stakeholder))
        .collect()
}

/// Each address once, keeping the first reason it was given.
fn unique(to: Vec<Recipient>) -> Vec<Recipient> {
    let mut kept: Vec<Recipient> = Vec::new();
    for r in to {
        if !kept.iter().any(|k| k.email.eq_ignore_ascii_case(&r.email)) {
            kept.push(r);
        }
    }
    kept
}

fn facts(view: &IncidentView, link: &str) -> String {
    let i = &view.incident;
    let or_none = |s: &str| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            s.to_string()
        }
    };
    let mut lines = vec![
        format!("{} {}", i.reference, i.title),
        format!(
            "Priority: {} (impact {}, urgency {}){}",
            view.priority,
            i.impact,
            i.urgency,
            if i.major_incident {
                ", major incident"
            } else {
                ""
            }
        ),
        format!("State: {}", i.state),
        format!("Assignment group: {}", or_none(&i.assignment_group)),
        format!("Assignee: {}", or_none(&i.assignee)),
        format!("Affected service: {}", or_none(&i.affected_service)),
        format!("Caller: {}", or_none(&i.caller)),
    ];
    if !i.bridge_link.is_empty() {
        lines.insert(1, format!("Bridge (join the call): {}", i.bridge_link));
    }
    lines.push(format!("Open it: {link}"));
    lines.join("\n")
}

fn resolution_summary(view: &IncidentView) -> String {
    let i = &view.incident;
    let code = i
        .resolution_code
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    let users = match i.affected_users.len() {
        0 => String::new(),
        1 => ", 1 affected user".to_string(),
        n => format!(", {n} affected users"),
    };
    let service = if i.affected_service.is_empty() {
        String::new()
    } else {
        format!(" on {}", i.affected_service)
    };
    format!(
        "What happened: {}\n\nImpact: {} impact{service}{users}.\n\nResolution ({code}): {}",
        if i.description.is_empty() {
            &i.title
        } else {
            &i.description
        },
        i.impact.name().to_lowercase(),
        i.resolution_notes
    )
}
