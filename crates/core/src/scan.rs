//! A list query run over every stored incident in slices, so a search of ten thousand incidents
//! can hand the browser back its main thread between slices instead of blocking typing.
//!
//! Searching the full texts of 10,000 incidents takes 20-30 ms on a laptop and several times that
//! on a phone; done in one go, with the list's rendering after it, it blocks frames. A
//! [`ListScan`] tests incidents until the caller's `pause` says the slice has run long enough,
//! keeps its place, and picks up from there on the next call. It holds incident ids, not
//! borrows, so the summaries may be read afresh each slice; an incident removed in between is
//! skipped. Deciding when to pause is the caller's; [`ScanRuns`] decides which run is current.

use std::collections::HashMap;

use crate::summary::{matches_terms, sort_summaries, IncidentSummary, ListQuery};

/// How many incidents are tested between two questions to `pause`: asking the clock costs more
/// than testing one incident.
pub const PAUSE_CHECK_EVERY: usize = 128;

/// One run of a [`ListQuery`] over a fixed set of incidents.
#[derive(Debug, Clone)]
pub struct ListScan {
    query: ListQuery,
    terms: Vec<String>,
    me: String,
    ids: Vec<String>,
    next: usize,
    matched: Vec<String>,
}

impl ListScan {
    /// A run of `query` for the person named `me` (for "assigned to me") over `ids`.
    pub fn new(query: ListQuery, me: &str, ids: Vec<String>) -> Self {
        Self {
            terms: query.terms(),
            query,
            me: me.to_string(),
            ids,
            next: 0,
            matched: Vec::new(),
        }
    }

    /// The query this run answers.
    pub fn query(&self) -> &ListQuery {
        &self.query
    }

    /// Whether every incident has been tested.
    pub fn is_done(&self) -> bool {
        self.next >= self.ids.len()
    }

    /// Tests incidents until all are tested (true) or `pause` answers true (false; call again to
    /// go on). `pause` is asked after every [`PAUSE_CHECK_EVERY`] incidents. Incidents missing
    /// from `summaries` are skipped; `search` holds the full search texts that are loaded.
    pub fn advance(
        &mut self,
        summaries: &HashMap<String, IncidentSummary>,
        search: &HashMap<String, String>,
        mut pause: impl FnMut() -> bool,
    ) -> bool {
        while !self.is_done() {
            let end = (self.next + PAUSE_CHECK_EVERY).min(self.ids.len());
            for id in &self.ids[self.next..end] {
                let Some(s) = summaries.get(id) else { continue };
                if self.query.admits(s, &self.me)
                    && matches_terms(&self.terms, s, search.get(id).map(String::as_str))
                {
                    self.matched.push(id.clone());
                }
            }
            self.next = end;
            if !self.is_done() && pause() {
                return false;
            }
        }
        true
    }

    /// The matching incidents' ids in the query's order. Only meaningful once
    /// [`advance`](Self::advance) has returned true.
    pub fn finish(self, summaries: &HashMap<String, IncidentSummary>) -> Vec<String> {
        let mut shown: Vec<&IncidentSummary> = self
            .matched
            .iter()
            .filter_map(|id| summaries.get(id))
            .collect();
        sort_summaries(&mut shown, self.query.sort);
        shown.iter().map(|s| s.document_id.clone()).collect()
    }
}

/// Which scan of the list is current, as the query and the incidents change.
///
/// A new query (or a new user, for "assigned to me") abandons the run under way: its result is
/// no longer wanted. New or changed incidents do not: during a pull they change every few
/// hundred milliseconds, and a search that restarted each time might never finish. The run under
/// way completes, and is then run again over the incidents as they are.
#[derive(Debug, Default)]
pub struct ScanRuns {
    started: u64,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    run: u64,
    query: ListQuery,
    me: String,
    stale: bool,
}

impl ScanRuns {
    /// The query, the user or the incidents changed. Returns the number of a run to start, or
    /// `None` when the run under way already answers this query (it will run again when done).
    pub fn wanted(&mut self, query: &ListQuery, me: &str) -> Option<u64> {
        if let Some(r) = &mut self.running {
            if r.query == *query && r.me == me {
                r.stale = true;
                return None;
            }
        }
        self.started += 1;
        self.running = Some(Running {
            run: self.started,
            query: query.clone(),
            me: me.to_string(),
            stale: false,
        });
        Some(self.started)
    }

    /// Whether `run` is still wanted; a run that is not should stop and show nothing.
    pub fn is_current(&self, run: u64) -> bool {
        self.running.as_ref().is_some_and(|r| r.run == run)
    }

    /// `run` finished and its result is shown. Returns true when the incidents changed while it
    /// ran, so the list must ask again ([`wanted`](Self::wanted) will then start a run).
    pub fn finished(&mut self, run: u64) -> bool {
        if !self.is_current(run) {
            return false;
        }
        self.running.take().is_some_and(|r| r.stale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{HoldReason, State, StateKind};
    use crate::summary::tests::summary;
    use crate::summary::{SortOrder, StateFilter};
    use crate::Priority;
    use proptest::prelude::*;

    /// One incident: priority, state (index), assignee (index), SLA due, updated, search words.
    type Facts = (u8, u8, u8, Option<i64>, i64, Option<u8>);

    type Stored = (HashMap<String, IncidentSummary>, HashMap<String, String>);

    /// Incidents with the given facts; the `words` of those that have them become their
    /// loaded search text.
    fn stored(facts: &[Facts]) -> Stored {
        const STATES: [State; 6] = [
            State::New,
            State::InProgress,
            State::OnHold(HoldReason::AwaitingCaller),
            State::Resolved,
            State::Closed,
            State::Canceled,
        ];
        const WORDS: [&str; 4] = ["vpn down", "disk full", "vpn disk", "printer"];
        let mut summaries = HashMap::new();
        let mut search = HashMap::new();
        for (i, &(priority, state, assignee, due, updated, words)) in facts.iter().enumerate() {
            let s = summary(
                &format!("INC-A-{i:04}"),
                Priority::from_number(priority).unwrap(),
                STATES[usize::from(state)],
                ["", "ana", "Ben"][usize::from(assignee)],
                due,
                updated,
            );
            if let Some(w) = words {
                let text = format!("{} {}", s.title.to_lowercase(), WORDS[usize::from(w)]);
                search.insert(s.document_id.clone(), text);
            }
            summaries.insert(s.document_id.clone(), s);
        }
        (summaries, search)
    }

    /// The list as the page computed it before scans: filter and sort in one pass.
    fn at_once(q: &ListQuery, me: &str, (summaries, search): &Stored) -> Vec<String> {
        let terms = q.terms();
        let mut shown: Vec<&IncidentSummary> = summaries
            .values()
            .filter(|s| {
                q.admits(s, me)
                    && matches_terms(&terms, s, search.get(&s.document_id).map(String::as_str))
            })
            .collect();
        sort_summaries(&mut shown, q.sort);
        shown.iter().map(|s| s.document_id.clone()).collect()
    }

    fn ids(stored: &Stored) -> Vec<String> {
        stored.0.keys().cloned().collect()
    }

    fn facts() -> impl Strategy<Value = Vec<Facts>> {
        prop::collection::vec(
            (
                1u8..=5,
                0u8..6,
                0u8..3,
                prop::option::of(0i64..10_000),
                0i64..50,
                prop::option::of(0u8..4),
            ),
            0..700,
        )
    }

    fn query() -> impl Strategy<Value = ListQuery> {
        (
            0usize..3,
            prop::option::of(1u8..=5),
            0usize..3,
            any::<bool>(),
            0usize..6,
            0usize..3,
        )
            .prop_map(|(state, priority, assignee, mine, text, sort)| ListQuery {
                state: [
                    StateFilter::Open,
                    StateFilter::All,
                    StateFilter::Only(StateKind::InProgress),
                ][state],
                priority: priority.and_then(Priority::from_number),
                assignee: [None, Some("ANA".to_string()), Some(String::new())][assignee].clone(),
                assigned_to_me: mine,
                in_groups: None,
                text: ["", "vpn", "Title", "vpn disk", "inc-a-0001", "nothing"][text].to_string(),
                sort: SortOrder::ALL[sort],
                ..ListQuery::default()
            })
    }

    proptest! {
        #[test]
        fn a_scan_in_the_smallest_slices_lists_what_one_pass_lists(facts in facts(), q in query()) {
            let stored = stored(&facts);
            let mut scan = ListScan::new(q.clone(), "ana", ids(&stored));
            let mut slices = 1;
            while !scan.advance(&stored.0, &stored.1, || true) {
                slices += 1;
            }
            prop_assert_eq!(slices, facts.len().div_ceil(PAUSE_CHECK_EVERY).max(1));
            let expected = at_once(&q, "ana", &stored);
            prop_assert_eq!(scan.finish(&stored.0), expected.clone());
            // And in one slice, never pausing.
            let mut whole = ListScan::new(q, "ana", ids(&stored));
            prop_assert!(whole.advance(&stored.0, &stored.1, || false));
            prop_assert_eq!(whole.finish(&stored.0), expected);
        }
    }

    #[test]
    fn a_new_query_abandons_the_run_under_way() {
        let mut runs = ScanRuns::default();
        let vpn = ListQuery {
            text: "vpn".into(),
            ..ListQuery::default()
        };
        let first = runs.wanted(&ListQuery::default(), "ana").unwrap();
        let second = runs.wanted(&vpn, "ana").unwrap();
        assert_ne!(first, second);
        assert!(!runs.is_current(first) && runs.is_current(second));
        // The abandoned run finishing late changes nothing.
        assert!(!runs.finished(first));
        assert!(runs.is_current(second));
        // Another user is another question, even for the same query.
        let third = runs.wanted(&vpn, "ben").unwrap();
        assert!(!runs.is_current(second) && runs.is_current(third));
    }

    #[test]
    fn changed_incidents_let_the_run_finish_then_run_again() {
        let mut runs = ScanRuns::default();
        let q = ListQuery::default();
        let run = runs.wanted(&q, "ana").unwrap();
        // Incidents arrive twice while it runs: no new run, it stays current.
        assert_eq!(runs.wanted(&q, "ana"), None);
        assert_eq!(runs.wanted(&q, "ana"), None);
        assert!(runs.is_current(run));
        assert!(
            runs.finished(run),
            "it must run again over the new incidents"
        );
        assert!(!runs.is_current(run));
        let again = runs.wanted(&q, "ana").unwrap();
        assert_ne!(again, run);
        // Nothing changed during this one: done.
        assert!(!runs.finished(again));
        // With no run under way, any change starts one.
        assert!(runs.wanted(&q, "ana").is_some());
    }

    #[test]
    fn a_scan_that_fits_one_check_never_asks_to_pause() {
        let stored = stored(&[(1, 0, 0, None, 1, Some(0)); PAUSE_CHECK_EVERY]);
        let mut scan = ListScan::new(ListQuery::default(), "ana", ids(&stored));
        assert!(scan.advance(&stored.0, &stored.1, || panic!("asked to pause")));
        assert_eq!(scan.finish(&stored.0).len(), PAUSE_CHECK_EVERY);
    }

    #[test]
    fn a_scan_keeps_its_place_and_skips_incidents_gone_between_slices() {
        let mut stored = stored(&[(2, 1, 1, Some(5), 3, Some(0)); 300]);
        let query = ListQuery {
            text: "vpn".into(),
            ..ListQuery::default()
        };
        let mut order = ids(&stored);
        order.sort();
        let mut scan = ListScan::new(query, "ana", order.clone());
        assert!(!scan.advance(&stored.0, &stored.1, || true));
        assert!(!scan.is_done());
        // One already matched and one not yet reached are deleted before the next slice.
        stored.0.remove(&order[0]);
        stored.0.remove(&order[299]);
        assert!(scan.advance(&stored.0, &stored.1, || false));
        let listed = scan.finish(&stored.0);
        assert_eq!(listed.len(), 298);
        assert!(!listed.contains(&order[0]) && !listed.contains(&order[299]));
    }
}
