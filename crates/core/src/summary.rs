//! The incident list: a small summary per incident, and the filters, search and sort over them.
//!
//! The list must render with ten thousand incidents stored without loading ten thousand
//! documents, so each incident keeps an [`IncidentSummary`] beside its document, rewritten on
//! every save. Full-text search uses a separate, larger [`SearchText`] (title, description,
//! people and every note), loaded after the list is on screen.
//!
//! A summary is computed at save time, so everything in it that moves with the clock is stored
//! in a form that can be projected: the SLA clocks ([`SlaClocks::project`]) and the instant the
//! running clock breaches, which does not move while it runs. It is derived under the
//! workspace's rules of the moment; each entry records which ([`IncidentSummary::rules`]), so
//! when an admin changes the matrix, targets, calendar or communication plan, the app can find
//! the open incidents whose entries are stale and derive them again.

use serde::{Deserialize, Serialize};

use crate::config::WorkspaceConfig;
use crate::document::IncidentView;
use crate::incident::NoteKind;
use crate::priority::Priority;
use crate::sla::{ClockState, SlaClock, SlaClocks};
use crate::state::{State, StateKind};
use crate::time::DeviceTime;

/// What the list needs to know about one incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSummary {
    /// The document id (automerge-repo form).
    pub document_id: String,
    /// `INC-7F3A-0042`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Lifecycle state.
    pub state: State,
    /// Priority under the workspace matrix it was derived under (see `rules`).
    pub priority: Priority,
    /// Assignee, or empty.
    pub assignee: String,
    /// Assignment group, or empty.
    pub assignment_group: String,
    /// Major-incident flag.
    pub major_incident: bool,
    /// Both SLA clocks, as of `sla.*.measured_at`.
    pub sla: SlaClocks,
    /// When the running headline clock breaches; `None` when it is not running or has breached.
    pub sla_due: Option<DeviceTime>,
    /// When the next update to affected users is due.
    pub update_due: Option<DeviceTime>,
    /// When it was logged.
    pub reported_at: DeviceTime,
    /// The latest device time in its history.
    pub updated_at: DeviceTime,
    /// How many fields hold conflicting values.
    pub conflicts: u32,
    /// The parent incident's document id.
    pub parent: Option<String>,
    /// The [`WorkspaceConfig::list_rules`] this entry was derived under (0 when unknown).
    #[serde(default)]
    pub rules: u64,
    /// Category (the dashboard's trends and filters, and the export).
    #[serde(default)]
    pub category: String,
    /// Affected service.
    #[serde(default)]
    pub affected_service: String,
    /// When it first left New: the first response (MTTA).
    #[serde(default)]
    pub acknowledged_at: Option<DeviceTime>,
    /// When it was last resolved, while Resolved or Closed (MTTR).
    #[serde(default)]
    pub resolved_at: Option<DeviceTime>,
    /// Whether a post-incident review is owed and not complete.
    #[serde(default)]
    pub review_owed: bool,
    /// The id of the record in another tool it was imported from ([`crate::import`]).
    #[serde(default)]
    pub imported_from: Option<String>,
    /// The knowledge articles it was resolved using (their numbers): how often an article was
    /// used is counted from these.
    #[serde(default)]
    pub knowledge: Vec<String>,
    /// The [`SUMMARY_FORMAT`] this entry was derived with (0: before the dashboard's fields).
    #[serde(default)]
    pub format: u8,
}

/// Which fields a summary carries. Raised when a field is added, so entries derived before
/// are derived again ([`IncidentSummary::stale_under`]), closed incidents included.
pub const SUMMARY_FORMAT: u8 = 1;

impl IncidentSummary {
    /// Whether this entry must be derived again: it was derived before the summary gained
    /// fields ([`SUMMARY_FORMAT`]), or under other rules while the incident is not closed or
    /// canceled (whose priority, clocks and update times no longer move).
    pub fn stale_under(&self, rules: u64) -> bool {
        self.format < SUMMARY_FORMAT
            || (self.rules != rules && !matches!(self.state, State::Closed | State::Canceled))
    }
}

/// The words full-text search looks through, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchText {
    /// The document id.
    pub document_id: String,
    /// Reference, title, description, caller, service, category, people and every note.
    pub text: String,
}

impl IncidentView {
    /// The list entry for this incident, derived under `cfg` (the configuration the view was
    /// computed with) whose [`WorkspaceConfig::list_rules`] are `rules`.
    pub fn summary(&self, document_id: &str, cfg: &WorkspaceConfig, rules: u64) -> IncidentSummary {
        let i = &self.incident;
        let headline = self.sla.headline();
        IncidentSummary {
            document_id: document_id.to_string(),
            reference: i.reference.to_string(),
            title: i.title.clone(),
            state: i.state,
            priority: self.priority,
            assignee: i.assignee.clone(),
            assignment_group: i.assignment_group.clone(),
            major_incident: i.major_incident,
            sla: self.sla.clone(),
            sla_due: headline.breach_at(cfg.calendar_named(&self.sla.business_calendar)),
            update_due: self.communication.update_due,
            reported_at: i.reported_at,
            updated_at: self.last_updated,
            conflicts: u32::try_from(self.conflicts.len()).unwrap_or(u32::MAX),
            parent: i.parent.clone(),
            rules,
            category: i.category.clone(),
            affected_service: i.affected_service.clone(),
            acknowledged_at: self.milestones.acknowledged.as_ref().map(|s| s.at),
            resolved_at: self.milestones.resolved.as_ref().map(|s| s.at),
            review_owed: self.communication.report_due,
            imported_from: i
                .references
                .iter()
                .find(|r| r.kind == crate::incident::ReferenceKind::Imported)
                .map(|r| r.id.clone()),
            knowledge: i
                .references
                .iter()
                .filter(|r| r.kind == crate::incident::ReferenceKind::Knowledge)
                .map(|r| r.id.clone())
                .collect(),
            format: SUMMARY_FORMAT,
        }
    }

    /// The search text for this incident.
    pub fn search_text(&self, document_id: &str) -> SearchText {
        let i = &self.incident;
        let mut parts: Vec<&str> = vec![
            i.reference.prefix().as_str(),
            &i.title,
            &i.description,
            &i.caller,
            &i.affected_service,
            &i.category,
            &i.subcategory,
            &i.assignment_group,
            &i.assignee,
            &i.resolution_notes,
        ];
        let reference = i.reference.to_string();
        parts.push(&reference);
        parts.extend(i.affected_users.iter().map(String::as_str));
        for kind in NoteKind::ALL {
            parts.extend(i.notes(*kind).iter().map(|n| n.body.as_str()));
        }
        SearchText {
            document_id: document_id.to_string(),
            text: normalise(&parts.join("\n")),
        }
    }
}

/// Lower-cases text for matching.
pub fn normalise(text: &str) -> String {
    text.to_lowercase()
}

/// Which states the list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// New, In Progress and On Hold.
    #[default]
    Open,
    /// Everything.
    All,
    /// One state.
    Only(StateKind),
}

impl StateFilter {
    /// The key used in URLs: `open`, `all`, or a state key.
    pub fn key(self) -> &'static str {
        match self {
            StateFilter::Open => "open",
            StateFilter::All => "all",
            StateFilter::Only(k) => k.key(),
        }
    }

    /// Parses a URL key; unknown keys mean the default.
    pub fn from_key(key: &str) -> Self {
        match key {
            "all" => StateFilter::All,
            "open" => StateFilter::Open,
            other => StateKind::from_key(other).map_or(StateFilter::Open, StateFilter::Only),
        }
    }

    fn admits(self, state: State) -> bool {
        match self {
            StateFilter::Open => state.is_open(),
            StateFilter::All => true,
            StateFilter::Only(kind) => state.kind() == kind,
        }
    }
}

/// How the list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Most urgent first, then soonest SLA breach, then most recently updated.
    #[default]
    Priority,
    /// Soonest SLA breach first (breached, then running by due time, then the rest).
    SlaDue,
    /// Most recently updated first.
    Updated,
}

impl SortOrder {
    /// Every order, for the picker.
    pub const ALL: [SortOrder; 3] = [SortOrder::Priority, SortOrder::SlaDue, SortOrder::Updated];

    /// The URL key.
    pub fn key(self) -> &'static str {
        match self {
            SortOrder::Priority => "priority",
            SortOrder::SlaDue => "sla",
            SortOrder::Updated => "updated",
        }
    }

    /// The label for people.
    pub fn label(self) -> &'static str {
        match self {
            SortOrder::Priority => "Priority",
            SortOrder::SlaDue => "SLA due",
            SortOrder::Updated => "Last update",
        }
    }

    /// Parses a URL key; unknown keys mean the default.
    pub fn from_key(key: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or_default()
    }
}

/// What the person asked the list for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Which states.
    pub state: StateFilter,
    /// One priority, or any.
    pub priority: Option<Priority>,
    /// One assignee (case-insensitive), or any. Empty string means unassigned.
    pub assignee: Option<String>,
    /// Only incidents assigned to the person using the app.
    pub assigned_to_me: bool,
    /// Only incidents assigned to one of these groups (the person's groups in the directory);
    /// `None`: any group.
    pub in_groups: Option<Vec<String>>,
    /// Words that must all appear, in any order.
    pub text: String,
    /// The order.
    pub sort: SortOrder,
    /// One category (case ignored), or any: where the dashboard's links lead.
    #[serde(default)]
    pub category: Option<String>,
    /// One affected service (case ignored), or any.
    #[serde(default)]
    pub service: Option<String>,
    /// One assignment group (case ignored), or any.
    #[serde(default)]
    pub group: Option<String>,
}

impl ListQuery {
    /// The search words, lower-cased.
    pub fn terms(&self) -> Vec<String> {
        normalise(&self.text)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Whether a summary passes the filters (not the text search).
    pub fn admits(&self, s: &IncidentSummary, me: &str) -> bool {
        self.state.admits(s.state)
            && self.priority.is_none_or(|p| s.priority == p)
            && self
                .assignee
                .as_deref()
                .is_none_or(|a| s.assignee.eq_ignore_ascii_case(a.trim()))
            && (!self.assigned_to_me
                || (!me.trim().is_empty() && s.assignee.eq_ignore_ascii_case(me.trim())))
            && self.in_groups.as_ref().is_none_or(|groups| {
                groups
                    .iter()
                    .any(|g| crate::directory::same_name(g, &s.assignment_group))
            })
            && [
                (&self.category, &s.category),
                (&self.service, &s.affected_service),
                (&self.group, &s.assignment_group),
            ]
            .iter()
            .all(|(want, have)| {
                want.as_deref()
                    .is_none_or(|w| crate::directory::same_name(w, have))
            })
    }

    /// The query as the list's address carries it (`state=open&sort=priority&category=Network`),
    /// every value percent-encoded. `in_groups` is written as `groups=mine`: the groups are the
    /// person's, looked up again when the address is opened.
    pub fn to_params(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("state", self.state.key());
        out.append_pair("sort", self.sort.key());
        if let Some(p) = self.priority {
            out.append_pair("priority", &p.number().to_string());
        }
        if let Some(a) = &self.assignee {
            out.append_pair("assignee", a);
        }
        if self.assigned_to_me {
            out.append_pair("mine", "1");
        }
        if self.in_groups.is_some() {
            out.append_pair("groups", "mine");
        }
        for (key, value) in [
            ("category", &self.category),
            ("service", &self.service),
            ("group", &self.group),
        ] {
            if let Some(v) = value {
                out.append_pair(key, v);
            }
        }
        if !self.text.is_empty() {
            out.append_pair("q", &self.text);
        }
        out.finish()
    }

    /// The query an address's parameters (`a=b&c=d`, without the `?`) ask for; unknown
    /// values fall back to the defaults. `my_groups` gives the person's groups for
    /// `groups=mine`.
    pub fn from_params(params: &str, my_groups: impl FnOnce() -> Vec<String>) -> ListQuery {
        let mut q = ListQuery::default();
        let mut mine_groups = false;
        for (key, value) in form_urlencoded::parse(params.trim_start_matches('?').as_bytes()) {
            let value = value.into_owned();
            let named = || Some(value.clone()).filter(|v| !v.trim().is_empty());
            match key.as_ref() {
                "state" => q.state = StateFilter::from_key(&value),
                "sort" => q.sort = SortOrder::from_key(&value),
                "priority" => q.priority = value.parse().ok().and_then(Priority::from_number),
                "assignee" => q.assignee = named(),
                "mine" => q.assigned_to_me = value == "1",
                "groups" => mine_groups = value == "mine",
                "category" => q.category = named(),
                "service" => q.service = named(),
                "group" => q.group = named(),
                "q" => q.text = value,
                _ => {}
            }
        }
        if mine_groups {
            q.in_groups = Some(my_groups());
        }
        q
    }
}

/// Whether every term appears in the incident's search text, or, until the search texts are
/// loaded, in the summary's reference, title and assignee.
///
/// The search text holds those three as well ([`IncidentView::search_text`]), already
/// lower-cased, so once it is loaded nothing is lower-cased per keystroke.
pub fn matches_terms(terms: &[String], summary: &IncidentSummary, search: Option<&str>) -> bool {
    if terms.is_empty() {
        return true;
    }
    match search {
        Some(text) => terms.iter().all(|t| text.contains(t.as_str())),
        None => {
            let own = normalise(&format!(
                "{} {} {}",
                summary.reference, summary.title, summary.assignee
            ));
            terms.iter().all(|t| own.contains(t.as_str()))
        }
    }
}

/// The incidents a person may mean when they type `query` to choose one to link to: every word
/// must appear in the reference or the title. An exact reference comes first, then references
/// that start with the query, then the rest, each in reference order; at most `limit`, never
/// `exclude` (the incident being linked from).
///
/// Typing replaces a picker of every incident, which costs a DOM node per incident on every
/// incident page.
pub fn link_candidates<'a>(
    all: impl IntoIterator<Item = &'a IncidentSummary>,
    query: &str,
    exclude: &str,
    limit: usize,
) -> Vec<&'a IncidentSummary> {
    let query = normalise(query.trim());
    let terms: Vec<&str> = query.split_whitespace().collect();
    if terms.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<(u8, &IncidentSummary)> = all
        .into_iter()
        .filter(|s| s.document_id != exclude)
        .filter_map(|s| {
            let reference = normalise(&s.reference);
            let rank = if reference == query {
                0
            } else if reference.starts_with(&query) {
                1
            } else {
                let own = format!("{reference} {}", normalise(&s.title));
                if !terms.iter().all(|t| own.contains(t)) {
                    return None;
                }
                2
            };
            Some((rank, s))
        })
        .collect();
    found.sort_by(|(ra, a), (rb, b)| {
        (ra, &a.reference, &a.document_id).cmp(&(rb, &b.reference, &b.document_id))
    });
    found.into_iter().take(limit).map(|(_, s)| s).collect()
}

/// Which incident a typed link target means: the one whose reference it is (any case), or the
/// only candidate. `Err` says, in words, why there is no single answer.
pub fn resolve_link<'a>(
    all: impl IntoIterator<Item = &'a IncidentSummary>,
    typed: &str,
    exclude: &str,
) -> Result<&'a IncidentSummary, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err("Type the reference number or title of an incident first.".into());
    }
    let candidates = link_candidates(all, typed, exclude, 2);
    match candidates.as_slice() {
        [only] => Ok(only),
        [first, ..] if first.reference.eq_ignore_ascii_case(typed) => Ok(first),
        [] => Err(format!("No other incident on this device matches “{typed}”.")),
        _ => Err(format!(
            "Several incidents match “{typed}”: choose one from the suggestions or type its reference number."
        )),
    }
}

fn sla_rank(s: &IncidentSummary) -> (u8, i64) {
    let clock: &SlaClock = s.sla.headline();
    match (clock.state, s.sla_due) {
        (ClockState::Running | ClockState::Paused, _) if clock.elapsed_ms >= clock.target_ms => {
            (0, clock.measured_at.millis())
        }
        (ClockState::Running, Some(due)) => (1, due.millis()),
        (ClockState::Paused, _) => (2, clock.remaining().num_milliseconds()),
        _ => (3, 0),
    }
}

/// The tie-break every order ends with.
fn last(s: &IncidentSummary) -> (&str, &str) {
    (&s.reference, &s.document_id)
}

/// Orders summaries in place. The keys borrow from the summaries (`last(s)`): sorting 10,000
/// used to clone a reference per comparison.
pub fn sort_summaries(items: &mut [&IncidentSummary], order: SortOrder) {
    let newest = |s: &IncidentSummary| std::cmp::Reverse(s.updated_at);
    match order {
        SortOrder::Priority => items.sort_by_key(|s| (s.priority, sla_rank(s), newest(s), last(s))),
        SortOrder::SlaDue => items.sort_by_key(|s| (sla_rank(s), s.priority, newest(s), last(s))),
        SortOrder::Updated => items.sort_by_key(|s| (newest(s), last(s))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sla::{CalendarChoice, SlaKind};

    fn clock(kind: SlaKind, state: ClockState, elapsed_min: i64, target_min: i64) -> SlaClock {
        SlaClock {
            kind,
            target_ms: target_min * 60_000,
            elapsed_ms: elapsed_min * 60_000,
            measured_at: DeviceTime::from_millis(0),
            state,
            calendar: CalendarChoice::Always,
        }
    }

    /// A summary for tests: `doc-{reference}`, titled `Title of {reference}`.
    pub(crate) fn summary(
        reference: &str,
        priority: Priority,
        state: State,
        assignee: &str,
        due: Option<i64>,
        updated: i64,
    ) -> IncidentSummary {
        let running = matches!(state, State::New | State::InProgress);
        let resolution = clock(
            SlaKind::Resolution,
            if running {
                ClockState::Running
            } else {
                ClockState::Paused
            },
            10,
            60,
        );
        IncidentSummary {
            document_id: format!("doc-{reference}"),
            reference: reference.into(),
            title: format!("Title of {reference}"),
            state,
            priority,
            assignee: assignee.into(),
            assignment_group: String::new(),
            major_incident: false,
            sla: SlaClocks {
                response: clock(SlaKind::Response, ClockState::Completed, 1, 15),
                resolution,
                business_calendar: String::new(),
            },
            sla_due: due.map(DeviceTime::from_millis),
            update_due: None,
            reported_at: DeviceTime::from_millis(0),
            updated_at: DeviceTime::from_millis(updated),
            conflicts: 0,
            parent: None,
            rules: 0,
            category: String::new(),
            affected_service: String::new(),
            acknowledged_at: None,
            resolved_at: None,
            review_owed: false,
            imported_from: None,
            knowledge: Vec::new(),
            format: SUMMARY_FORMAT,
        }
    }

    fn listed(items: &[IncidentSummary], q: &ListQuery, me: &str) -> Vec<String> {
        let terms = q.terms();
        let mut shown: Vec<&IncidentSummary> = items
            .iter()
            .filter(|s| q.admits(s, me) && matches_terms(&terms, s, None))
            .collect();
        sort_summaries(&mut shown, q.sort);
        shown.iter().map(|s| s.reference.clone()).collect()
    }

    fn sample() -> Vec<IncidentSummary> {
        vec![
            summary(
                "INC-A-0001",
                Priority::P3,
                State::InProgress,
                "ana",
                Some(5_000),
                100,
            ),
            summary("INC-A-0002", Priority::P1, State::New, "", Some(9_000), 50),
            summary(
                "INC-A-0003",
                Priority::P1,
                State::InProgress,
                "Ben",
                Some(2_000),
                10,
            ),
            summary(
                "INC-A-0004",
                Priority::P2,
                State::Resolved,
                "ana",
                None,
                300,
            ),
            summary(
                "INC-A-0005",
                Priority::P4,
                State::OnHold(crate::state::HoldReason::AwaitingVendor),
                "ana",
                None,
                200,
            ),
        ]
    }

    #[test]
    fn link_candidates_put_the_exact_reference_first_and_skip_this_incident() {
        let mut items = sample();
        items[1].title = "Mail down in INC-A-0001's building".into();
        items.push(summary(
            "INC-A-00011",
            Priority::P3,
            State::New,
            "",
            None,
            0,
        ));
        let refs = |found: Vec<&IncidentSummary>| -> Vec<String> {
            found.iter().map(|s| s.reference.clone()).collect()
        };
        assert_eq!(
            refs(link_candidates(&items, "inc-a-0001", "", 10)),
            ["INC-A-0001", "INC-A-00011", "INC-A-0002"]
        );
        assert_eq!(
            refs(link_candidates(&items, "inc-a-0001", "doc-INC-A-0001", 10)),
            ["INC-A-00011", "INC-A-0002"]
        );
        assert_eq!(
            refs(link_candidates(&items, "title 0004", "", 10)),
            ["INC-A-0004"]
        );
        assert_eq!(link_candidates(&items, "INC", "", 2).len(), 2);
        assert!(link_candidates(&items, "   ", "", 10).is_empty());
    }

    #[test]
    fn a_typed_link_target_resolves_to_one_incident_or_says_why_not() {
        let items = sample();
        assert_eq!(
            resolve_link(&items, " inc-a-0003 ", "").unwrap().reference,
            "INC-A-0003"
        );
        assert_eq!(
            resolve_link(&items, "of INC-A-0005", "").unwrap().reference,
            "INC-A-0005"
        );
        let several = resolve_link(&items, "Title", "").unwrap_err();
        assert!(
            several.starts_with("Several incidents match “Title”"),
            "{several}"
        );
        let none = resolve_link(&items, "INC-A-0003", "doc-INC-A-0003").unwrap_err();
        assert_eq!(
            none,
            "No other incident on this device matches “INC-A-0003”."
        );
        assert!(resolve_link(&items, "", "").is_err());
    }

    #[test]
    fn open_incidents_by_priority_then_soonest_breach() {
        let q = ListQuery::default();
        assert_eq!(
            listed(&sample(), &q, "ana"),
            ["INC-A-0003", "INC-A-0002", "INC-A-0001", "INC-A-0005"]
        );
    }

    #[test]
    fn filters_combine() {
        let mut q = ListQuery {
            state: StateFilter::All,
            assigned_to_me: true,
            ..ListQuery::default()
        };
        assert_eq!(
            listed(&sample(), &q, "ANA"),
            ["INC-A-0004", "INC-A-0001", "INC-A-0005"]
        );
        q.priority = Some(Priority::P2);
        assert_eq!(listed(&sample(), &q, "ana"), ["INC-A-0004"]);
        let q = ListQuery {
            assignee: Some("ben".into()),
            ..ListQuery::default()
        };
        assert_eq!(listed(&sample(), &q, ""), ["INC-A-0003"]);
        let q = ListQuery {
            state: StateFilter::Only(StateKind::OnHold),
            ..ListQuery::default()
        };
        assert_eq!(listed(&sample(), &q, ""), ["INC-A-0005"]);
        let nobody = ListQuery {
            assigned_to_me: true,
            ..ListQuery::default()
        };
        assert!(
            listed(&sample(), &nobody, " ").is_empty(),
            "no name set: nothing is mine"
        );
    }

    #[test]
    fn my_groups_come_from_the_directory() {
        let mut items = sample();
        items[0].assignment_group = "Network Operations".into();
        items[2].assignment_group = "Service Desk".into();
        let q = ListQuery {
            in_groups: Some(vec!["network operations".into(), "Facilities".into()]),
            ..ListQuery::default()
        };
        assert_eq!(listed(&items, &q, "ben"), ["INC-A-0001"]);
        let none = ListQuery {
            in_groups: Some(Vec::new()),
            ..ListQuery::default()
        };
        assert!(
            listed(&items, &none, "ben").is_empty(),
            "in no group: nothing is my groups'"
        );
    }

    #[test]
    fn sorts_by_sla_due_and_by_update() {
        let q = ListQuery {
            sort: SortOrder::SlaDue,
            ..ListQuery::default()
        };
        assert_eq!(
            listed(&sample(), &q, ""),
            ["INC-A-0003", "INC-A-0001", "INC-A-0002", "INC-A-0005"]
        );
        let q = ListQuery {
            sort: SortOrder::Updated,
            state: StateFilter::All,
            ..ListQuery::default()
        };
        assert_eq!(
            listed(&sample(), &q, ""),
            [
                "INC-A-0004",
                "INC-A-0005",
                "INC-A-0001",
                "INC-A-0002",
                "INC-A-0003"
            ]
        );
    }

    #[test]
    fn every_search_word_must_appear_somewhere() {
        let s = &sample()[0];
        let terms = |t: &str| {
            ListQuery {
                text: t.into(),
                ..ListQuery::default()
            }
            .terms()
        };
        assert!(matches_terms(&terms("title inc-a-0001"), s, None));
        assert!(!matches_terms(&terms("vpn"), s, None));
        let search = "inc-a-0001\ntitle of inc-a-0001\nana\nthe vpn gateway rebooted";
        assert!(matches_terms(&terms("VPN title"), s, Some(search)));
        assert!(!matches_terms(&terms("vpn printer"), s, Some(search)));
    }

    #[test]
    fn a_query_round_trips_through_the_address() {
        let q = ListQuery {
            state: StateFilter::All,
            priority: Some(Priority::P2),
            assignee: Some("Ana & Ben".into()),
            assigned_to_me: true,
            in_groups: Some(vec!["Network".into()]),
            text: "vpn 50%".into(),
            sort: SortOrder::Updated,
            category: Some("Network / VPN".into()),
            service: Some("Mail=Exchange".into()),
            group: Some("Service Desk".into()),
        };
        let params = q.to_params();
        assert!(params.contains("assignee=Ana+%26+Ben"), "{params}");
        assert_eq!(
            ListQuery::from_params(&params, || vec!["Network".into()]),
            q
        );
        assert_eq!(
            ListQuery::from_params("?state=nonsense&priority=9&category=", Vec::new),
            ListQuery::default()
        );
    }

    #[test]
    fn the_dashboards_filters_narrow_the_list() {
        let mut items = sample();
        items[0].category = "Network".into();
        items[1].affected_service = "Mail".into();
        let q = ListQuery {
            category: Some("network".into()),
            ..ListQuery::default()
        };
        assert_eq!(listed(&items, &q, ""), ["INC-A-0001"]);
        let q = ListQuery {
            service: Some("MAIL".into()),
            ..ListQuery::default()
        };
        assert_eq!(listed(&items, &q, ""), ["INC-A-0002"]);
    }

    #[test]
    fn url_keys_round_trip_and_unknown_ones_fall_back() {
        for f in [
            StateFilter::Open,
            StateFilter::All,
            StateFilter::Only(StateKind::Resolved),
        ] {
            assert_eq!(StateFilter::from_key(f.key()), f);
        }
        assert_eq!(StateFilter::from_key("nonsense"), StateFilter::Open);
        for s in SortOrder::ALL {
            assert_eq!(SortOrder::from_key(s.key()), s);
        }
        assert_eq!(SortOrder::from_key(""), SortOrder::Priority);
    }
}
