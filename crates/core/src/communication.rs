//! The communication plan: when the next update to affected users and to stakeholders is due,
//! and when a post-incident report is owed.
//!
//! From the seed plan: updates every hour for high-impact incidents and every three hours
//! otherwise; status updates to stakeholders every two hours until resolved; a complete incident
//! report after resolution. Cadences run on wall-clock time (people expect to hear about a P1 at
//! night too) and from device times. A customer-visible comment is an update to affected users; a
//! stakeholder status update is recorded separately.

use serde::{Deserialize, Serialize};

use crate::priority::Priority;
use crate::state::State;
use crate::time::{DeviceTime, Span};

/// The workspace's communication plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationPlan {
    /// Minutes between updates to affected users, for P1 (index 0) to P5.
    pub update_every_minutes: [u32; 5],
    /// Minutes between status updates to stakeholders.
    pub stakeholder_every_minutes: u32,
    /// Priorities whose stakeholders get status updates.
    pub stakeholder_priorities: Vec<Priority>,
    /// Whether every major incident's stakeholders get status updates, whatever its priority.
    pub stakeholder_for_major: bool,
    /// Priorities that owe a post-incident report once resolved (major incidents always do).
    pub report_priorities: Vec<Priority>,
    /// The directory duty that owns communication when an incident is customer-specific.
    #[serde(default = "account_owner")]
    pub customer_owner_duty: String,
    /// The directory duty that owns it otherwise.
    #[serde(default = "product_head")]
    pub owner_duty: String,
}

fn account_owner() -> String {
    "Account owner".to_string()
}

fn product_head() -> String {
    "Product head".to_string()
}

impl Default for CommunicationPlan {
    fn default() -> Self {
        CommunicationPlan {
            update_every_minutes: [60, 60, 180, 180, 180],
            stakeholder_every_minutes: 120,
            stakeholder_priorities: vec![Priority::P1, Priority::P2],
            stakeholder_for_major: true,
            report_priorities: vec![Priority::P1, Priority::P2],
            customer_owner_duty: account_owner(),
            owner_duty: product_head(),
        }
    }
}

/// Why a communication plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Update intervals must be at least one minute.")]
pub struct CommunicationPlanError;

impl CommunicationPlan {
    /// Checks every interval is positive.
    pub fn validate(&self) -> Result<(), CommunicationPlanError> {
        if self.update_every_minutes.contains(&0) || self.stakeholder_every_minutes == 0 {
            return Err(CommunicationPlanError);
        }
        Ok(())
    }

    /// The update interval for a priority.
    pub fn update_every(&self, priority: Priority) -> Span {
        Span::minutes(i64::from(self.update_every_minutes[priority.index()]))
    }

    /// Whether an incident's stakeholders get status updates.
    pub fn stakeholders_follow(&self, priority: Priority, major: bool) -> bool {
        (major && self.stakeholder_for_major) || self.stakeholder_priorities.contains(&priority)
    }

    /// Whether an incident owes a post-incident report once resolved.
    pub fn report_required(&self, priority: Priority, major: bool) -> bool {
        major || self.report_priorities.contains(&priority)
    }
}

/// What an incident needs next, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationStatus {
    /// When the next update to affected users is due (open incidents only).
    pub update_due: Option<DeviceTime>,
    /// When the next stakeholder status update is due (open incidents they follow only).
    pub stakeholder_update_due: Option<DeviceTime>,
    /// A post-incident report is owed and not yet complete.
    pub report_due: bool,
}

impl CommunicationStatus {
    /// Whether any update is overdue at `now`.
    pub fn overdue(&self, now: DeviceTime) -> bool {
        [self.update_due, self.stakeholder_update_due]
            .into_iter()
            .flatten()
            .any(|due| due <= now)
    }
}

/// The facts the plan needs about an incident.
#[derive(Clone, Copy, Debug)]
pub struct CommunicationFacts {
    /// Current priority.
    pub priority: Priority,
    /// Major-incident flag.
    pub major: bool,
    /// Current state.
    pub state: State,
    /// When it was reported.
    pub reported: DeviceTime,
    /// The latest customer-visible comment.
    pub last_comment: Option<DeviceTime>,
    /// The latest stakeholder status update.
    pub last_status_update: Option<DeviceTime>,
    /// Whether the post-incident review has every required section.
    pub review_complete: bool,
}

/// When the next updates are due under `plan`.
pub fn communication_status(
    plan: &CommunicationPlan,
    f: &CommunicationFacts,
) -> CommunicationStatus {
    let open = f.state.is_open();
    let update_due = open.then(|| {
        let last = f.last_comment.unwrap_or(f.reported).max(f.reported);
        last.plus(plan.update_every(f.priority))
    });
    let stakeholder_update_due =
        (open && plan.stakeholders_follow(f.priority, f.major)).then(|| {
            let last = f.last_status_update.unwrap_or(f.reported).max(f.reported);
            last.plus(Span::minutes(i64::from(plan.stakeholder_every_minutes)))
        });
    let finished = matches!(f.state, State::Resolved | State::Closed);
    CommunicationStatus {
        update_due,
        stakeholder_update_due,
        report_due: finished && plan.report_required(f.priority, f.major) && !f.review_complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DeviceTime {
        DeviceTime::parse_rfc3339(s).unwrap()
    }

    fn facts(priority: Priority) -> CommunicationFacts {
        CommunicationFacts {
            priority,
            major: false,
            state: State::InProgress,
            reported: t("2026-11-30T08:30:00Z"),
            last_comment: None,
            last_status_update: None,
            review_complete: false,
        }
    }

    #[test]
    fn high_impact_hourly_otherwise_every_three_hours() {
        let plan = CommunicationPlan::default();
        let p1 = communication_status(&plan, &facts(Priority::P1));
        assert_eq!(p1.update_due, Some(t("2026-11-30T09:30:00Z")));
        assert_eq!(p1.stakeholder_update_due, Some(t("2026-11-30T10:30:00Z")));
        let p4 = communication_status(&plan, &facts(Priority::P4));
        assert_eq!(p4.update_due, Some(t("2026-11-30T11:30:00Z")));
        assert_eq!(p4.stakeholder_update_due, None);
    }

    #[test]
    fn an_update_resets_the_cadence_and_overdue_is_reported() {
        let plan = CommunicationPlan::default();
        let mut f = facts(Priority::P2);
        f.last_comment = Some(t("2026-11-30T10:00:00Z"));
        let s = communication_status(&plan, &f);
        assert_eq!(s.update_due, Some(t("2026-11-30T11:00:00Z")));
        assert!(!s.overdue(t("2026-11-30T10:20:00Z")));
        assert!(
            s.overdue(t("2026-11-30T10:31:00Z")),
            "stakeholder update was due at 10:30"
        );
    }

    #[test]
    fn major_incidents_always_brief_stakeholders_and_owe_a_report() {
        let plan = CommunicationPlan::default();
        let mut f = facts(Priority::P4);
        f.major = true;
        assert!(communication_status(&plan, &f)
            .stakeholder_update_due
            .is_some());
        f.state = State::Resolved;
        let s = communication_status(&plan, &f);
        assert_eq!(
            (s.update_due, s.stakeholder_update_due, s.report_due),
            (None, None, true)
        );
        f.review_complete = true;
        assert!(!communication_status(&plan, &f).report_due);
    }

    #[test]
    fn low_priority_resolved_incidents_owe_nothing() {
        let mut f = facts(Priority::P4);
        f.state = State::Closed;
        let s = communication_status(&CommunicationPlan::default(), &f);
        assert_eq!(
            s,
            CommunicationStatus {
                update_due: None,
                stakeholder_update_due: None,
                report_due: false
            }
        );
    }

    #[test]
    fn zero_intervals_are_refused() {
        let mut plan = CommunicationPlan::default();
        assert!(plan.validate().is_ok());
        plan.update_every_minutes[2] = 0;
        assert_eq!(plan.validate(), Err(CommunicationPlanError));
    }
}
