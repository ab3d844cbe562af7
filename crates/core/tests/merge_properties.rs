//! Property: three peers edit one incident with randomly interleaved offline work, one-way merges
//! and two-way syncs. After they all sync:
//!
//! - every peer has the same document, incident and conflicts;
//! - no note is ever lost;
//! - every field holds exactly the values a causal model predicts, namely the values of the writes
//!   no other write of that field had seen, and a conflict is reported exactly when two or more of
//!   those values differ.
//!
//! The model knows nothing about Automerge. It records each successful write with the set of
//! writes its peer had seen at that moment (merges union those sets), which is the definition of
//! "concurrent".

mod common;

use std::collections::BTreeSet;

use common::*;
use outpost_core::history::Event;
use outpost_core::incident::{EscalationLevel, NoteKind};
use outpost_core::{
    Action, Command, Field, FieldValue, HoldReason, Impact, IncidentDoc, Outcome, ResolutionCode,
    State, Urgency,
};
use proptest::prelude::*;

const PEERS: usize = 3;
/// Each peer's device clock is off by a different amount.
const SKEW_MINUTES: [i64; PEERS] = [0, -3, 7];

#[derive(Clone, Debug)]
enum Edit {
    Title(u8),
    Assignee(u8),
    Caller(u8),
    Impact(u8),
    Urgency(u8),
    Major(bool),
    Escalation(u8),
    StartWork,
    HoldForVendor,
    Resolve(u8),
    Reopen,
}

#[derive(Clone, Debug)]
enum Step {
    Edit { peer: usize, edit: Edit },
    Note { peer: usize, kind: u8 },
    Settle { peer: usize, pick: u8 },
    Merge { from: usize, to: usize },
    Sync { a: usize, b: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0u8..3).prop_map(Edit::Title),
        (0u8..3).prop_map(Edit::Assignee),
        (0u8..2).prop_map(Edit::Caller),
        (1u8..4).prop_map(Edit::Impact),
        (1u8..4).prop_map(Edit::Urgency),
        any::<bool>().prop_map(Edit::Major),
        (0u8..4).prop_map(Edit::Escalation),
        Just(Edit::StartWork),
        Just(Edit::HoldForVendor),
        (0u8..2).prop_map(Edit::Resolve),
        Just(Edit::Reopen),
    ]
}

fn pair() -> impl Strategy<Value = (usize, usize)> {
    (0..PEERS, 1..PEERS).prop_map(|(a, d)| (a, (a + d) % PEERS))
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..PEERS, edit()).prop_map(|(peer, edit)| Step::Edit { peer, edit }),
        2 => (0..PEERS, 0u8..3).prop_map(|(peer, kind)| Step::Note { peer, kind }),
        1 => (0..PEERS, any::<u8>()).prop_map(|(peer, pick)| Step::Settle { peer, pick }),
        2 => pair().prop_map(|(from, to)| Step::Merge { from, to }),
        1 => pair().prop_map(|(a, b)| Step::Sync { a, b }),
    ]
}

impl Edit {
    fn command(&self) -> Command {
        match self {
            Edit::Title(n) => Command::SetTitle(format!("Title {n}")),
            Edit::Assignee(n) => Command::SetAssignee(["ana", "ben", "cy"][*n as usize].into()),
            Edit::Caller(n) => Command::SetCaller(["Dana", "Eli"][*n as usize].into()),
            Edit::Impact(n) => Command::SetImpact(Impact::from_level(*n).unwrap()),
            Edit::Urgency(n) => Command::SetUrgency(Urgency::from_level(*n).unwrap()),
            Edit::Major(b) => Command::SetMajorIncident(*b),
            Edit::Escalation(n) => Command::SetEscalation(EscalationLevel::ALL[*n as usize]),
            Edit::StartWork => Command::Transition(Action::StartWork),
            Edit::HoldForVendor => Command::Transition(Action::PutOnHold {
                reason: HoldReason::AwaitingVendor,
                note: String::new(),
            }),
            Edit::Resolve(n) => Command::Transition(Action::Resolve {
                code: Some(
                    [
                        ResolutionCode::standard(
                            outpost_core::state::StandardResolution::SolutionProvided,
                        ),
                        ResolutionCode::standard(
                            outpost_core::state::StandardResolution::WorkaroundProvided,
                        ),
                    ][*n as usize]
                        .clone(),
                ),
                notes: format!("Fix {n}"),
            }),
            Edit::Reopen => Command::Transition(Action::Reopen {
                reason: "Came back".into(),
            }),
        }
    }

    /// The fields this edit writes, given the values the peer currently shows. Commands skip a
    /// field that already shows the new value.
    fn expected_writes(&self, doc: &IncidentDoc) -> Option<Vec<(Field, FieldValue)>> {
        let shown = |f: Field| doc.field_values(f).into_iter().next().unwrap();
        let text = |s: &str| FieldValue::Text(s.to_string());
        let mut writes = match self.command() {
            Command::SetTitle(t) => vec![(Field::Title, text(&t))],
            Command::SetAssignee(a) => vec![(Field::Assignee, text(&a))],
            Command::SetCaller(c) => vec![(Field::Caller, text(&c))],
            Command::SetImpact(i) => {
                vec![(Field::Impact, FieldValue::Number(i64::from(i.level())))]
            }
            Command::SetUrgency(u) => {
                vec![(Field::Urgency, FieldValue::Number(i64::from(u.level())))]
            }
            Command::SetMajorIncident(b) => vec![(Field::MajorIncident, FieldValue::Flag(b))],
            Command::SetEscalation(e) => vec![(Field::Escalation, text(e.key()))],
            Command::Transition(action) => {
                let state: State = shown(Field::State).as_text().unwrap().parse().unwrap();
                // The guard is unit-tested on its own; a refused action writes nothing.
                let to = state.apply(&action).ok()?;
                let mut w = vec![(Field::State, text(&to.key()))];
                if let Action::Resolve {
                    code: Some(code),
                    notes,
                } = action
                {
                    w.push((Field::ResolutionCode, text(code.stored())));
                    w.push((Field::ResolutionNotes, text(&notes)));
                }
                w
            }
            other => unreachable!("{other:?}"),
        };
        writes.retain(|(f, v)| shown(*f) != *v);
        Some(writes)
    }
}

struct Write {
    field: Field,
    value: FieldValue,
    seen: BTreeSet<usize>,
}

struct Model {
    writes: Vec<Write>,
    known: [BTreeSet<usize>; PEERS],
    notes: Vec<String>,
}

impl Model {
    fn new(base: &IncidentDoc) -> Self {
        let mut model = Model {
            writes: Vec::new(),
            known: Default::default(),
            notes: Vec::new(),
        };
        for field in Field::ALL {
            let value = base.field_values(*field).remove(0);
            model.write(0, *field, value);
        }
        let all = model.known[0].clone();
        model.known = [all.clone(), all.clone(), all];
        model
    }

    fn write(&mut self, peer: usize, field: Field, value: FieldValue) {
        let id = self.writes.len();
        self.writes.push(Write {
            field,
            value,
            seen: self.known[peer].clone(),
        });
        self.known[peer].insert(id);
    }

    fn merge(&mut self, from: usize, to: usize) {
        let from = self.known[from].clone();
        self.known[to].extend(from);
    }

    /// The distinct values of the writes of `field` that no other write of it had seen.
    fn surviving_values(&self, field: Field) -> BTreeSet<String> {
        let of_field: Vec<(usize, &Write)> = self
            .writes
            .iter()
            .enumerate()
            .filter(|(_, w)| w.field == field)
            .collect();
        of_field
            .iter()
            .filter(|(id, _)| !of_field.iter().any(|(_, later)| later.seen.contains(id)))
            .map(|(_, w)| format!("{:?}", w.value))
            .collect()
    }
}

fn note_ids(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::NoteAdded { note, .. }
            | Event::Transition {
                note: Some(note), ..
            } => Some(note.clone()),
            _ => None,
        })
        .collect()
}

fn run_scenario(steps: &[Step]) -> Result<(), TestCaseError> {
    let base = logged();
    let mut peers: Vec<IncidentDoc> = (0..PEERS).map(|_| base.fork()).collect();
    let mut model = Model::new(&base);
    let names = ["ana", "ben", "cy"];

    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Edit { peer, edit } => {
                let expected = edit.expected_writes(&peers[*peer]);
                let origin = by(names[*peer], i as i64 + SKEW_MINUTES[*peer]);
                let result = peers[*peer].execute(&edit.command(), &origin, &cfg());
                match (result, expected) {
                    (Ok(Outcome::Changed { events, .. }), Some(writes)) => {
                        prop_assert!(
                            !writes.is_empty() || !note_ids(&events).is_empty(),
                            "{edit:?} changed more than expected"
                        );
                        for (field, value) in writes {
                            model.write(*peer, field, value);
                        }
                        model.notes.extend(note_ids(&events));
                    }
                    (Ok(Outcome::Unchanged), Some(writes)) => {
                        prop_assert!(writes.is_empty(), "{edit:?} skipped {writes:?}")
                    }
                    (Err(_), None) => {}
                    (result, expected) => prop_assert!(
                        false,
                        "{edit:?}: got {result:?}, model expected {expected:?}"
                    ),
                }
            }
            Step::Note { peer, kind } => {
                let kind = NoteKind::ALL[*kind as usize];
                let cmd = Command::AddNote {
                    kind,
                    body: format!("{} note {i}", names[*peer]),
                };
                match peers[*peer].execute(
                    &cmd,
                    &by(names[*peer], i as i64 + SKEW_MINUTES[*peer]),
                    &cfg(),
                ) {
                    Ok(Outcome::Changed { events, .. }) => model.notes.extend(note_ids(&events)),
                    other => prop_assert!(false, "note refused: {other:?}"),
                }
            }
            Step::Settle { peer, pick } => {
                let Some(conflict) = peers[*peer].conflicts().into_iter().next() else {
                    continue;
                };
                let value = conflict.values[*pick as usize % conflict.values.len()].clone();
                let cmd = Command::SettleConflict {
                    field: conflict.field,
                    value: value.clone(),
                };
                let result = peers[*peer].execute(
                    &cmd,
                    &by(names[*peer], i as i64 + SKEW_MINUTES[*peer]),
                    &cfg(),
                );
                prop_assert!(
                    matches!(result, Ok(Outcome::Changed { .. })),
                    "settle failed: {result:?}"
                );
                model.write(*peer, conflict.field, value);
            }
            Step::Merge { from, to } => {
                let mut source = peers[*from].clone();
                peers[*to].merge(&mut source).unwrap();
                model.merge(*from, *to);
            }
            Step::Sync { a, b } => {
                let (lo, hi) = (*a.min(b), *a.max(b));
                let (left, right) = peers.split_at_mut(hi);
                sync_pair(left[lo].automerge_mut(), right[0].automerge_mut());
                model.merge(*a, *b);
                model.merge(*b, *a);
            }
        }
    }

    // Everyone reconnects.
    for (a, b) in [(0, 1), (1, 2), (0, 2), (0, 1)] {
        let (left, right) = peers.split_at_mut(b);
        sync_pair(left[a].automerge_mut(), right[0].automerge_mut());
    }

    let first = &peers[0];
    let incident = first.read().unwrap();
    for other in &peers[1..] {
        prop_assert_eq!(other.automerge().get_heads(), first.automerge().get_heads());
        prop_assert_eq!(&other.read().unwrap(), &incident);
        prop_assert_eq!(other.conflicts(), first.conflicts());
    }
    for id in &model.notes {
        prop_assert!(incident.find_note(id).is_some(), "note {} lost", id);
    }
    let note_count: usize = NoteKind::ALL.iter().map(|k| incident.notes(*k).len()).sum();
    prop_assert_eq!(note_count, model.notes.len());

    let conflicted: BTreeSet<Field> = first.conflicts().iter().map(|c| c.field).collect();
    // The SLA definition follows the priority (re-prioritising records it), so the model of
    // independent registers does not predict it; tests/sla_definition.rs covers it.
    for field in Field::ALL.iter().filter(|f| **f != Field::SlaDefinition) {
        let expected = model.surviving_values(*field);
        let actual: BTreeSet<String> = first
            .field_values(*field)
            .iter()
            .map(|v| format!("{v:?}"))
            .collect();
        prop_assert_eq!(&actual, &expected, "values of {:?}", field);
        prop_assert_eq!(
            conflicted.contains(field),
            expected.len() > 1,
            "conflict on {:?}",
            field
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn three_peers_converge_lose_no_note_and_report_every_conflict(steps in prop::collection::vec(step(), 1..45)) {
        run_scenario(&steps)?;
    }
}

/// A fixed scenario, so a regression here is readable without shrinking.
#[test]
fn a_known_three_way_conflict() {
    let steps = [
        Step::Edit {
            peer: 0,
            edit: Edit::Assignee(0),
        },
        Step::Edit {
            peer: 1,
            edit: Edit::Assignee(1),
        },
        Step::Edit {
            peer: 2,
            edit: Edit::Assignee(2),
        },
        Step::Note { peer: 0, kind: 0 },
        Step::Note { peer: 2, kind: 1 },
    ];
    run_scenario(&steps).unwrap();
    // And the model really predicts a conflict here: check independently.
    let base = logged();
    let mut peers: Vec<IncidentDoc> = (0..PEERS).map(|_| base.fork()).collect();
    for (p, name) in ["ana", "ben", "cy"].iter().enumerate() {
        ok(&mut peers[p], name, 1, Edit::Assignee(p as u8).command());
    }
    let (a, rest) = peers.split_at_mut(1);
    sync_pair(a[0].automerge_mut(), rest[0].automerge_mut());
    sync_pair(a[0].automerge_mut(), rest[1].automerge_mut());
    assert_eq!(a[0].conflicts()[0].values.len(), 3);
}
