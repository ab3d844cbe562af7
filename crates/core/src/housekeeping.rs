//! The workspace's timed rules, which nobody presses a button for: a Resolved incident closes
//! after the workspace's auto-close delay (not a major incident: its review comes first, as
//! ServiceNow excludes them), and an escalation rule raises the escalation level once an open
//! incident has used its share of the resolution target. The relay's automation runs them;
//! each leaves a work note saying which rule acted and why.

use crate::command::Command;
use crate::config::WorkspaceConfig;
use crate::document::IncidentView;
use crate::incident::{EscalationLevel, NoteKind};
use crate::state::{Action, State};
use crate::time::DeviceTime;

/// One rule due on one incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// Which rule: `auto_close`, or `escalate@75` for the rule at 75%. The runner remembers
    /// the rules that acted on an incident, so a person lowering the level again is not
    /// overruled by the same rule.
    pub rule: String,
    /// What it does, in order.
    pub commands: Vec<Command>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The rules due on an incident at `now`, leaving out those in `done` (they acted already).
pub fn due(
    view: &IncidentView,
    cfg: &WorkspaceConfig,
    now: DeviceTime,
    done: &[String],
) -> Vec<Due> {
    let incident = &view.incident;
    let mut due = Vec::new();
    if incident.state == State::Resolved && !incident.major_incident && cfg.auto_close_days > 0 {
        if let Some(resolved) = &view.milestones.resolved {
            let at = resolved.at.plus(crate::time::Span::milliseconds(
                i64::from(cfg.auto_close_days) * DAY_MS,
            ));
            if at <= now && !done.iter().any(|d| d == "auto_close") {
                due.push(Due {
                    rule: "auto_close".into(),
                    commands: vec![
                        Command::AddNote {
                            kind: NoteKind::WorkNote,
                            body: format!(
                                "Closed automatically: Resolved for {} days with no reopening (the workspace closes Resolved incidents after {} days).",
                                cfg.auto_close_days, cfg.auto_close_days
                            ),
                        },
                        Command::Transition(Action::Close),
                    ],
                });
            }
        }
    }
    if incident.state.is_open() && incident.state != State::Resolved {
        let used = view.sla.resolution.percent_used();
        let mut level = incident.escalation;
        for rule in cfg.escalations.iter().filter(|r| r.raise_level) {
            let key = format!("escalate@{}", rule.at_percent);
            if used < rule.at_percent || done.contains(&key) {
                continue;
            }
            let Some(next) = next_level(level) else { break };
            level = next;
            due.push(Due {
                rule: key,
                commands: vec![
                    Command::AddNote {
                        kind: NoteKind::WorkNote,
                        body: format!(
                            "Escalated to {} by the workspace's rule at {}% of the resolution target ({}% used).",
                            next.label(),
                            rule.at_percent,
                            used
                        ),
                    },
                    Command::SetEscalation(next),
                ],
            });
        }
    }
    due
}

/// The next level up, if there is one.
fn next_level(level: EscalationLevel) -> Option<EscalationLevel> {
    let all = EscalationLevel::ALL;
    let at = all.iter().position(|l| *l == level)?;
    all.get(at + 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Attribution;
    use crate::incident::NewIncident;
    use crate::reference::{DevicePrefix, ReferenceNumber};
    use crate::state::{ResolutionCode, StandardResolution};
    use crate::{Impact, IncidentDoc, Urgency};

    const T0: i64 = 1_700_000_000_000;
    const MIN: i64 = 60_000;

    fn logged(major: bool) -> IncidentDoc {
        let new = NewIncident {
            title: "Payroll export fails".into(),
            caller: "Dana Reyes".into(),
            impact: Impact::High,
            urgency: Urgency::Medium,
            major_incident: major,
            ..NewIncident::default()
        };
        let reference = ReferenceNumber::new(DevicePrefix::new("7F3A").unwrap(), 1);
        IncidentDoc::create(
            &reference,
            &new,
            &Attribution::new("Ana Field", DeviceTime::from_millis(T0)),
            &WorkspaceConfig::default(),
        )
        .unwrap()
    }

    fn run(doc: &mut IncidentDoc, commands: &[Command], at: i64) {
        for c in commands {
            doc.execute(
                c,
                &Attribution::new("Outpost automation", DeviceTime::from_millis(at)),
                &WorkspaceConfig::default(),
            )
            .unwrap();
        }
    }

    fn resolved(major: bool) -> IncidentDoc {
        let mut doc = logged(major);
        run(
            &mut doc,
            &[
                Command::Transition(Action::StartWork),
                Command::Transition(Action::Resolve {
                    code: Some(ResolutionCode::standard(
                        StandardResolution::SolutionProvided,
                    )),
                    notes: "Fixed the export job".into(),
                }),
            ],
            T0 + 10 * MIN,
        );
        doc
    }

    fn due_at(doc: &IncidentDoc, at: i64, done: &[String]) -> Vec<Due> {
        let cfg = WorkspaceConfig::default();
        let now = DeviceTime::from_millis(at);
        due(&doc.view(&cfg, now).unwrap(), &cfg, now, done)
    }

    #[test]
    fn a_resolved_incident_closes_after_the_delay_and_not_a_minute_before() {
        let mut doc = resolved(false);
        let resolved_at = T0 + 10 * MIN;
        assert!(due_at(&doc, resolved_at + 7 * DAY_MS - MIN, &[]).is_empty());
        let d = due_at(&doc, resolved_at + 7 * DAY_MS, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule, "auto_close");
        run(&mut doc, &d[0].commands, resolved_at + 7 * DAY_MS);
        let incident = doc.read().unwrap();
        assert_eq!(incident.state, State::Closed);
        assert!(incident.work_notes[0]
            .body
            .starts_with("Closed automatically"));
    }

    #[test]
    fn a_major_incident_is_never_closed_by_the_delay() {
        let doc = resolved(true);
        assert!(due_at(&doc, T0 + 30 * DAY_MS, &[]).is_empty());
    }

    #[test]
    fn the_escalation_rule_raises_the_level_once_at_its_share_of_the_target() {
        // P2 under the default policy: 480 minutes to resolve, around the clock.
        let mut doc = logged(false);
        let cfg = WorkspaceConfig::default();
        let target = i64::from(cfg.sla.target(crate::Priority::P2).resolution_minutes) * MIN;
        assert!(due_at(&doc, T0 + target * 74 / 100, &[]).is_empty());
        let d = due_at(&doc, T0 + target * 75 / 100, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].rule, "escalate@75");
        run(&mut doc, &d[0].commands, T0 + target * 75 / 100);
        assert_eq!(doc.read().unwrap().escalation, EscalationLevel::Level2);
        // Once it acted, it does not act again, even if someone lowers the level.
        run(
            &mut doc,
            &[Command::SetEscalation(EscalationLevel::Level1)],
            T0 + target * 80 / 100,
        );
        assert!(due_at(&doc, T0 + target * 90 / 100, &["escalate@75".to_string()]).is_empty());
    }
}
