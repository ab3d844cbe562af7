//! One person works incidents through their whole life: creation, triage, the guarded state
//! machine, notes, links, review and report, read back from the document each time.

mod common;

use common::*;
use outpost_core::automerge::{transaction::Transactable, Automerge, ObjType, ROOT};
use outpost_core::history::Event;
use outpost_core::incident::{
    DetectionSource, EscalationLevel, ExternalRef, IncidentLink, NoteKind, ReferenceKind,
    ReviewSection,
};
use outpost_core::report::render_report;
use outpost_core::schema::ReadError;
use outpost_core::sla::{ClockState, SlaLevel};
use outpost_core::state::TransitionError;
use outpost_core::{
    Action, ActionKind, Command, CommandError, Field, HoldReason, Impact, IncidentDoc, NewIncident,
    Outcome, Priority, ResolutionCode, State, Urgency,
};

fn resolve() -> Command {
    Command::Transition(Action::Resolve {
        code: Some(ResolutionCode::standard(
            outpost_core::state::StandardResolution::WorkaroundProvided,
        )),
        notes: "Rolled back the security patch and reconfigured the mail server.".into(),
    })
}

#[test]
fn a_logged_incident_reads_back_exactly_with_its_priority() {
    let doc = logged();
    let i = doc.read().unwrap();
    assert_eq!(i.reference.to_string(), "INC-7F3A-0042");
    assert_eq!(i.title, "Users cannot log in to email");
    assert_eq!(
        (i.category.as_str(), i.subcategory.as_str()),
        ("Software", "Email")
    );
    assert_eq!(i.affected_users, vec!["dana", "lee"]);
    assert_eq!((i.impact, i.urgency), (Impact::High, Urgency::Medium));
    assert_eq!(i.priority(&cfg().priority_matrix), Priority::P2);
    assert_eq!(i.state, State::New);
    assert_eq!(i.escalation, EscalationLevel::Level1);
    assert_eq!(
        (i.reported_by.as_str(), i.reported_at, i.detected_at),
        ("alice", at(1), at(0))
    );
    assert!(i.work_notes.is_empty() && i.comments.is_empty() && i.references.is_empty());
    let history = doc.history();
    assert_eq!(history.len(), 1);
    assert!(
        matches!(&history[0].events[0], Event::Created { reference, .. } if reference == "INC-7F3A-0042")
    );
    assert_eq!(history[0].by, "alice");
}

#[test]
fn the_creation_form_reports_every_problem_at_once() {
    let bad = NewIncident {
        title: "   ".into(),
        caller: String::new(),
        category: "Plumbing".into(),
        affected_users: vec!["ok".into(), " ".into()],
        detected_at: Some(at(90)),
        ..NewIncident::default()
    };
    let errors = IncidentDoc::create(&reference(1), &bad, &by("alice", 1), &cfg()).unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "title",
            "caller",
            "category",
            "affected_users",
            "detected_at"
        ],
        "{errors:?}"
    );
    assert_eq!(
        errors.for_field("title").unwrap().message,
        "Title is required."
    );
    assert_eq!(
        errors.for_field("caller").unwrap().message,
        "Caller is required for incidents reported by a user."
    );
    assert_eq!(
        errors.for_field("category").unwrap().message,
        "\"Plumbing\" is not a category in this workspace."
    );

    let nameless =
        IncidentDoc::create(&reference(1), &email_outage(), &by(" ", 1), &cfg()).unwrap_err();
    assert_eq!(
        nameless.for_field("user").unwrap().message,
        "Set your name in Settings before changing incidents."
    );
}

#[test]
fn monitoring_alerts_need_no_caller() {
    let alert = NewIncident {
        title: "Disk 95% full on mail-01".into(),
        detection_source: DetectionSource::Monitoring,
        ..NewIncident::default()
    };
    let doc = IncidentDoc::create(&reference(2), &alert, &by("alice", 0), &cfg()).unwrap();
    let i = doc.read().unwrap();
    assert_eq!(i.caller, "");
    assert_eq!(i.priority(&cfg().priority_matrix), Priority::P5);
}

#[test]
fn working_an_incident_from_new_to_closed() {
    let mut doc = logged();
    ok(&mut doc, "bob", 5, Command::SetAssignee("bob".into()));
    ok(&mut doc, "bob", 6, Command::Transition(Action::StartWork));
    ok(
        &mut doc,
        "bob",
        10,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "Failed logins since the 08:00 patch.".into(),
        },
    );
    ok(
        &mut doc,
        "bob",
        12,
        Command::AddNote {
            kind: NoteKind::Comment,
            body: "We are on it.".into(),
        },
    );
    ok(
        &mut doc,
        "bob",
        20,
        Command::Transition(Action::PutOnHold {
            reason: HoldReason::AwaitingCaller,
            note: "Which client do you use?".into(),
        }),
    );
    assert_eq!(
        doc.read().unwrap().state,
        State::OnHold(HoldReason::AwaitingCaller)
    );
    ok(&mut doc, "bob", 30, Command::Transition(Action::StartWork));

    let missing_code = run(
        &mut doc,
        "bob",
        40,
        Command::Transition(Action::Resolve {
            code: None,
            notes: "fixed".into(),
        }),
    );
    let err = missing_code.unwrap_err();
    assert_eq!(
        err,
        CommandError::Transition(TransitionError::ResolutionCodeRequired)
    );
    assert_eq!(err.field(), Some("resolution_code"));
    let missing_notes = run(
        &mut doc,
        "bob",
        40,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                outpost_core::state::StandardResolution::SolutionProvided,
            )),
            notes: " ".into(),
        }),
    );
    assert_eq!(
        missing_notes.unwrap_err(),
        CommandError::Transition(TransitionError::ResolutionNotesRequired)
    );

    ok(&mut doc, "bob", 45, resolve());
    ok(&mut doc, "carol", 90, Command::Transition(Action::Close));

    let view = doc.view(&cfg(), at(120)).unwrap();
    let i = &view.incident;
    assert_eq!(i.state, State::Closed);
    assert_eq!(
        i.resolution_code,
        Some(ResolutionCode::standard(
            outpost_core::state::StandardResolution::WorkaroundProvided
        ))
    );
    assert_eq!(i.work_notes.len(), 1);
    assert_eq!(
        i.comments.len(),
        2,
        "the Awaiting Caller comment is customer-visible"
    );
    assert_eq!(i.comments[1].body, "Which client do you use?");
    assert_eq!(
        view.milestones
            .acknowledged
            .as_ref()
            .map(|s| (s.at, s.by.as_str())),
        Some((at(6), "bob"))
    );
    assert_eq!(
        view.milestones.resolved.as_ref().map(|s| s.at),
        Some(at(45))
    );
    assert_eq!(
        view.milestones.closed.as_ref().map(|s| s.by.as_str()),
        Some("carol")
    );
    // P2: respond in 30 min (5 min used), resolve in 8 h; on hold 20→30 paused.
    assert_eq!(view.sla.response.state, ClockState::Completed);
    assert_eq!(view.sla.response.elapsed().num_minutes(), 5);
    assert_eq!(view.sla.resolution.state, ClockState::Completed);
    assert_eq!(view.sla.resolution.elapsed().num_minutes(), 34);
    let summaries: Vec<&str> = view.timeline.iter().map(|t| t.summary.as_str()).collect();
    assert!(
        summaries.contains(&"Put on hold: In Progress → On Hold (Awaiting Caller)"),
        "{summaries:#?}"
    );
    assert!(summaries.contains(&"Close: Resolved → Closed"));
    let hold = view
        .timeline
        .iter()
        .find(|t| t.summary.starts_with("Put on hold"))
        .unwrap();
    assert_eq!(hold.detail.as_deref(), Some("Which client do you use?"));
}

#[test]
fn closed_and_canceled_incidents_refuse_every_edit_and_change_nothing() {
    let mut doc = logged();
    ok(&mut doc, "bob", 5, resolve());
    ok(&mut doc, "bob", 6, Command::Transition(Action::Close));
    let heads = doc.automerge().get_heads();
    for cmd in [
        Command::SetTitle("New title".into()),
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "late note".into(),
        },
        Command::SetImpact(Impact::Low),
        Command::Transition(Action::Reopen {
            reason: "again".into(),
        }),
        Command::AddReference(ExternalRef {
            kind: ReferenceKind::Problem,
            id: "PRB1".into(),
        }),
    ] {
        assert_eq!(
            run(&mut doc, "bob", 7, cmd),
            Err(CommandError::ReadOnly {
                state: State::Closed
            })
        );
    }
    assert_eq!(
        doc.automerge().get_heads(),
        heads,
        "a refusal writes nothing"
    );
    // The post-incident review happens after closure.
    ok(
        &mut doc,
        "carol",
        60,
        Command::UpdateReview {
            section: ReviewSection::RootCause,
            text: "Untested patch.".into(),
        },
    );

    let mut canceled = logged();
    ok(
        &mut canceled,
        "bob",
        2,
        Command::Transition(Action::Cancel {
            reason: "Duplicate of INC-7F3A-0041".into(),
        }),
    );
    assert_eq!(
        canceled.read().unwrap().work_notes[0].body,
        "Duplicate of INC-7F3A-0041"
    );
    let err = run(
        &mut canceled,
        "bob",
        3,
        Command::UpdateReview {
            section: ReviewSection::Overview,
            text: "x".into(),
        },
    );
    assert_eq!(
        err,
        Err(CommandError::ReadOnly {
            state: State::Canceled
        })
    );
    assert_eq!(
        run(&mut canceled, "bob", 3, Command::SetTitle("x".into()))
            .unwrap_err()
            .to_string(),
        "This incident is Canceled and can no longer be changed."
    );
}

#[test]
fn unknown_and_repeated_transitions_are_refused_by_name() {
    let mut doc = logged();
    let err = run(&mut doc, "bob", 1, Command::Transition(Action::Close)).unwrap_err();
    assert_eq!(
        err,
        CommandError::Transition(TransitionError::NotAllowed {
            from: State::New,
            action: ActionKind::Close
        })
    );
    let err = run(
        &mut doc,
        "bob",
        1,
        Command::Transition(Action::Reopen { reason: "x".into() }),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"Reopen\" is not possible while the incident is New."
    );
    ok(&mut doc, "bob", 2, Command::Transition(Action::StartWork));
    assert!(run(&mut doc, "bob", 3, Command::Transition(Action::StartWork)).is_err());
    let caller = Command::Transition(Action::PutOnHold {
        reason: HoldReason::AwaitingCaller,
        note: "".into(),
    });
    let err = run(&mut doc, "bob", 3, caller).unwrap_err();
    assert_eq!(
        err,
        CommandError::Transition(TransitionError::CommentRequiredForAwaitingCaller)
    );
    assert_eq!(err.field(), Some("note"));
}

#[test]
fn reopening_needs_a_reason_and_resumes_the_clock() {
    let mut doc = logged();
    ok(&mut doc, "bob", 5, resolve());
    let err = run(
        &mut doc,
        "dana",
        30,
        Command::Transition(Action::Reopen { reason: "".into() }),
    );
    assert_eq!(
        err,
        Err(CommandError::Transition(TransitionError::ReasonRequired {
            action: ActionKind::Reopen
        }))
    );
    ok(
        &mut doc,
        "dana",
        30,
        Command::Transition(Action::Reopen {
            reason: "Outlook still fails".into(),
        }),
    );
    let view = doc.view(&cfg(), at(60)).unwrap();
    assert_eq!(view.incident.state, State::InProgress);
    assert_eq!(view.milestones.resolved, None, "no longer resolved");
    assert_eq!(view.sla.resolution.state, ClockState::Running);
    // Ran 1→5 (reported at +1), stopped while resolved 5→30, runs again 30→60.
    assert_eq!(view.sla.resolution.elapsed().num_minutes(), 34);
    assert_eq!(view.incident.work_notes[0].body, "Outlook still fails");
}

#[test]
fn edits_that_change_nothing_record_nothing() {
    let mut doc = logged();
    let before = doc.history().len();
    assert_eq!(
        run(
            &mut doc,
            "bob",
            1,
            Command::SetTitle("  Users cannot log in to email ".into())
        ),
        Ok(Outcome::Unchanged)
    );
    assert_eq!(
        run(&mut doc, "bob", 1, Command::AddAffectedUser("dana".into())),
        Ok(Outcome::Unchanged)
    );
    assert_eq!(
        run(
            &mut doc,
            "bob",
            1,
            Command::RemoveAffectedUser("nobody".into())
        ),
        Ok(Outcome::Unchanged)
    );
    assert_eq!(doc.history().len(), before);
}

#[test]
fn triage_fields_are_validated_and_audited() {
    let mut doc = logged();
    ok(&mut doc, "bob", 1, Command::SetImpact(Impact::Medium));
    ok(&mut doc, "bob", 2, Command::SetUrgency(Urgency::High));
    assert_eq!(
        doc.read().unwrap().priority(&cfg().priority_matrix),
        Priority::P2
    );
    ok(
        &mut doc,
        "bob",
        3,
        Command::SetCategory {
            category: "network".into(),
            subcategory: "vpn".into(),
        },
    );
    let i = doc.read().unwrap();
    assert_eq!(
        (i.category.as_str(), i.subcategory.as_str()),
        ("Network", "VPN")
    );
    let err = run(
        &mut doc,
        "bob",
        4,
        Command::SetCategory {
            category: "Network".into(),
            subcategory: "Email".into(),
        },
    );
    assert_eq!(err.unwrap_err().field(), Some("category"));
    let err = run(&mut doc, "bob", 4, Command::SetTitle("x".repeat(161))).unwrap_err();
    assert_eq!(err.to_string(), "Title must be at most 160 characters.");
    let err = run(&mut doc, "bob", 4, Command::SetCaller("".into())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Caller is required for incidents reported by a user."
    );
    let err = run(&mut doc, "bob", 4, Command::SetDetectedAt(at(30))).unwrap_err();
    assert_eq!(err.field(), Some("detected_at"));
    ok(
        &mut doc,
        "bob",
        4,
        Command::SetDetectionSource(DetectionSource::Monitoring),
    );
    ok(&mut doc, "bob", 5, Command::SetCaller("".into()));
    ok(
        &mut doc,
        "bob",
        6,
        Command::SetEscalation(EscalationLevel::Level3),
    );
    ok(&mut doc, "bob", 7, Command::SetMajorIncident(true));
    ok(
        &mut doc,
        "bob",
        8,
        Command::AddAffectedUser("  kim  ".into()),
    );
    ok(
        &mut doc,
        "bob",
        9,
        Command::RemoveAffectedUser("lee".into()),
    );
    let i = doc.read().unwrap();
    assert_eq!(i.escalation, EscalationLevel::Level3);
    assert!(i.major_incident);
    assert_eq!(i.affected_users, vec!["dana", "kim"]);
    let view = doc.view(&cfg(), at(10)).unwrap();
    let summaries: Vec<&str> = view.timeline.iter().map(|t| t.summary.as_str()).collect();
    assert!(
        summaries.contains(&"Changed impact from 1 - High to 2 - Medium"),
        "{summaries:#?}"
    );
    assert!(summaries.contains(&"Changed major incident from No to Yes"));
    assert!(summaries.contains(&"Added affected user kim"));
    assert!(summaries.contains(&"Removed affected user lee"));
}

#[test]
fn links_and_references() {
    let mut doc = logged();
    let me = IncidentLink {
        document_id: "docSelf".into(),
        reference: "INC-7F3A-0042".into(),
    };
    assert_eq!(
        run(&mut doc, "bob", 1, Command::SetParent(Some(me))),
        Err(CommandError::SelfLink)
    );
    let parent = IncidentLink {
        document_id: "2fX9parent".into(),
        reference: "INC-B00C-0007".into(),
    };
    ok(&mut doc, "bob", 2, Command::SetParent(Some(parent.clone())));
    ok(
        &mut doc,
        "bob",
        3,
        Command::SetDuplicateOf(Some(parent.clone())),
    );
    let prb = ExternalRef {
        kind: ReferenceKind::Problem,
        id: "PRB0040123".into(),
    };
    let kb = ExternalRef {
        kind: ReferenceKind::Knowledge,
        id: "KB0010".into(),
    };
    ok(&mut doc, "bob", 4, Command::AddReference(prb.clone()));
    ok(&mut doc, "bob", 5, Command::AddReference(kb.clone()));
    ok(&mut doc, "bob", 6, Command::RemoveReference(kb));
    let i = doc.read().unwrap();
    assert_eq!(i.parent.as_deref(), Some("2fX9parent"));
    assert_eq!(i.duplicate_of.as_deref(), Some("2fX9parent"));
    assert_eq!(i.references, vec![prb]);
    ok(&mut doc, "bob", 7, Command::SetParent(None));
    assert_eq!(doc.read().unwrap().parent, None);
    let view = doc.view(&cfg(), at(8)).unwrap();
    let summaries: Vec<&str> = view.timeline.iter().map(|t| t.summary.as_str()).collect();
    assert!(
        summaries.contains(&"Set parent incident to INC-B00C-0007"),
        "{summaries:#?}"
    );
    assert!(summaries.contains(&"Linked Problem PRB0040123"));
    assert!(summaries.contains(&"Removed the parent incident"));
    let err = run(
        &mut doc,
        "bob",
        9,
        Command::AddReference(ExternalRef {
            kind: ReferenceKind::Change,
            id: " ".into(),
        }),
    );
    assert_eq!(err.unwrap_err().to_string(), "Change is required.");
}

#[test]
fn sla_and_communication_are_shown_at_any_instant() {
    let mut doc = logged(); // P2, reported at +1
    let v = doc.view(&cfg(), at(17)).unwrap();
    assert_eq!(v.sla.response.level(), SlaLevel::Warning50);
    assert_eq!(v.sla.response.remaining().num_minutes(), 14);
    assert_eq!(v.communication.update_due, Some(at(61)));
    assert_eq!(v.communication.stakeholder_update_due, Some(at(121)));
    ok(
        &mut doc,
        "bob",
        40,
        Command::AddNote {
            kind: NoteKind::Comment,
            body: "Investigating.".into(),
        },
    );
    ok(
        &mut doc,
        "bob",
        41,
        Command::AddNote {
            kind: NoteKind::StatusUpdate,
            body: "Email down for 200 users.".into(),
        },
    );
    let v = doc.view(&cfg(), at(42)).unwrap();
    assert_eq!(
        v.sla.response.level(),
        SlaLevel::Breached,
        "nobody started work"
    );
    assert_eq!(v.communication.update_due, Some(at(100)));
    assert_eq!(v.communication.stakeholder_update_due, Some(at(161)));
    ok(&mut doc, "bob", 50, resolve());
    let v = doc.view(&cfg(), at(51)).unwrap();
    assert!(v.communication.report_due, "P2 owes a post-incident report");
    for s in ReviewSection::ALL.iter().filter(|s| s.required()) {
        ok(
            &mut doc,
            "carol",
            60,
            Command::UpdateReview {
                section: *s,
                text: format!("{} text", s.label()),
            },
        );
    }
    assert!(!doc.view(&cfg(), at(61)).unwrap().communication.report_due);
}

#[test]
fn the_report_has_every_section_and_the_response_timeline() {
    let mut doc = logged();
    ok(&mut doc, "bob", 6, Command::Transition(Action::StartWork));
    ok(
        &mut doc,
        "bob",
        20,
        Command::AddNote {
            kind: NoteKind::StatusUpdate,
            body: "Mail is being restored.".into(),
        },
    );
    ok(
        &mut doc,
        "bob",
        10,
        Command::AddNote {
            kind: NoteKind::Comment,
            body: "We are on it.".into(),
        },
    );
    ok(
        &mut doc,
        "bob",
        30,
        Command::AddReference(ExternalRef {
            kind: ReferenceKind::Problem,
            id: "PRB0040123".into(),
        }),
    );
    ok(&mut doc, "bob", 45, resolve());
    ok(
        &mut doc,
        "carol",
        90,
        Command::UpdateReview {
            section: ReviewSection::RootCause,
            text: "An untested security patch.".into(),
        },
    );
    let view = doc.view(&cfg(), at(100)).unwrap();
    let parts = outpost_core::report::report(&view);
    assert_eq!(
        parts.communications,
        [
            (
                "2026-11-30 08:40 UTC".to_string(),
                "Comment to affected users",
                "bob".to_string(),
                "We are on it.".to_string()
            ),
            (
                "2026-11-30 08:50 UTC".to_string(),
                "Status update",
                "bob".to_string(),
                "Mail is being restored.".to_string()
            ),
        ],
        "oldest first, whichever list they are in"
    );
    assert_eq!(parts.links, ["Problem PRB0040123"]);
    let report = render_report(&view);
    for heading in [
        "# Post-incident report: INC-7F3A-0042 — Users cannot log in to email",
        "## Overview",
        "## Impact analysis",
        "## Root cause\n\nAn untested security patch.",
        "## Response timeline",
        "## Corrective actions",
        "## Lessons learned",
        "## Appendices",
        "- **Acknowledged:** 2026-11-30 08:36 UTC by bob",
        "2026-11-30 09:15 UTC — bob — Resolve: In Progress → Resolved",
        "### Links\n\n- Problem PRB0040123",
        "### Communications sent\n\n- 2026-11-30 08:40 UTC — Comment to affected users by bob: We are on it.",
    ] {
        assert!(report.contains(heading), "missing {heading:?} in\n{report}");
    }
}

#[test]
fn saved_bytes_load_back_and_damaged_ones_are_named() {
    let mut doc = logged();
    ok(
        &mut doc,
        "bob",
        2,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "note".into(),
        },
    );
    let loaded = IncidentDoc::load(&doc.save()).unwrap();
    assert_eq!(loaded.read().unwrap(), doc.read().unwrap());
    assert_eq!(loaded.history(), doc.history());

    assert!(matches!(
        IncidentDoc::load(b"not automerge"),
        Err(ReadError::Load(_))
    ));
    let mut other = Automerge::new();
    other
        .transact::<_, _, outpost_core::automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "todo", "milk").map(|_| ())
        })
        .unwrap();
    assert_eq!(
        IncidentDoc::from_automerge(other).unwrap_err(),
        ReadError::NotAnIncident
    );

    let mut newer = doc.automerge().clone();
    newer
        .transact::<_, _, outpost_core::automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "schema", 9u64)
        })
        .unwrap();
    let err = IncidentDoc::from_automerge(newer).unwrap_err();
    assert_eq!(err.to_string(), "This incident was saved by a newer version of Outpost (format 9). Update the app to open it.");

    let mut broken = doc.automerge().clone();
    broken
        .transact::<_, _, outpost_core::automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "state", "limbo")
        })
        .unwrap();
    let broken = IncidentDoc::from_automerge(broken).unwrap();
    assert!(matches!(broken.read(), Err(ReadError::Corrupt { ref field, .. }) if field == "state"));
    // Commands refuse rather than guess.
    let err = broken
        .clone()
        .execute(&Command::SetTitle("x".into()), &by("bob", 3), &cfg())
        .unwrap_err();
    assert!(matches!(err, CommandError::Read(_)));
}

#[test]
fn values_written_by_javascript_peers_are_read() {
    // Automerge JS writes numbers as floats and strings as collaborative text.
    let mut doc = logged();
    let mut am = doc.automerge().clone();
    am.transact::<_, _, outpost_core::automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "impact", 1.0f64)?;
        tx.put(ROOT, "urgency", 1.0f64)?;
        let title = tx.put_object(ROOT, "title", ObjType::Text)?;
        tx.splice_text(&title, 0, 0, "Email down (from JS)")?;
        Ok(())
    })
    .unwrap();
    doc = IncidentDoc::from_automerge(am).unwrap();
    let i = doc.read().unwrap();
    assert_eq!(i.title, "Email down (from JS)");
    assert_eq!(i.priority(&cfg().priority_matrix), Priority::P1);
    // And our commands still work on it.
    ok(&mut doc, "bob", 5, Command::SetTitle("Email down".into()));
    assert_eq!(doc.read().unwrap().title, "Email down");
    let unattributed = doc
        .history()
        .into_iter()
        .filter(|r| r.events == [Event::Unrecognized])
        .count();
    assert_eq!(
        unattributed, 1,
        "the foreign change is kept in the audit trail"
    );
}

#[test]
fn the_field_table_covers_every_field_the_skeleton_writes() {
    let doc = logged();
    for field in Field::ALL {
        assert_eq!(
            doc.field_values(*field).len(),
            1,
            "{field:?} missing from a new incident"
        );
    }
}

#[test]
fn the_search_text_finds_whatever_the_summary_is_searched_by() {
    // The list searches only the search text once it is loaded, so it must hold the summary's
    // reference, title and assignee.
    let mut doc = logged();
    ok(
        &mut doc,
        "alice",
        2,
        Command::SetAssignee("Bob Okafor".into()),
    );
    let view = doc.view(&cfg(), at(3)).unwrap();
    let summary = view.summary("doc", &cfg(), 0);
    let search = view.search_text("doc");
    let terms: Vec<String> = outpost_core::summary::normalise(&format!(
        "{} {} {}",
        summary.reference, summary.title, summary.assignee
    ))
    .split_whitespace()
    .map(str::to_string)
    .collect();
    assert!(terms.len() >= 8, "{terms:?}");
    for term in &terms {
        assert!(
            search.text.contains(term.as_str()),
            "{term} not in {}",
            search.text
        );
    }
    assert!(outpost_core::summary::matches_terms(
        &terms,
        &summary,
        Some(&search.text)
    ));
}

#[test]
fn resolution_codes_come_from_the_workspace_catalog() {
    use outpost_core::config::ResolutionCodeEntry;
    let mut cfg = cfg();
    cfg.resolution_codes.retain(|c| c.name != "Known error");
    cfg.resolution_codes.push(ResolutionCodeEntry {
        name: "Replaced hardware".into(),
        description: "A part was swapped.".into(),
    });
    cfg.validate().unwrap();
    let resolve_with = |name: &str| {
        Command::Transition(Action::Resolve {
            code: ResolutionCode::named(name),
            notes: "Swapped the failed disk.".into(),
        })
    };
    let mut doc = logged();
    doc.execute(&Command::Transition(Action::StartWork), &by("bob", 2), &cfg)
        .unwrap();

    // A code the workspace removed is refused next to the code, and nothing changes.
    let err = doc
        .execute(&resolve_with("known error"), &by("bob", 3), &cfg)
        .unwrap_err();
    assert_eq!(err.field(), Some("resolution_code"));
    assert_eq!(
        err.to_string(),
        "\"Known error\" is not a resolution code in this workspace."
    );
    assert_eq!(doc.read().unwrap().state, State::InProgress);

    // The workspace's own code is stored by name and reads back as it.
    doc.execute(&resolve_with("replaced HARDWARE"), &by("bob", 4), &cfg)
        .unwrap();
    let i = doc.read().unwrap();
    assert_eq!(i.state, State::Resolved);
    let code = i.resolution_code.unwrap();
    assert_eq!(code.stored(), "Replaced hardware");
    assert_eq!(code.to_string(), "Replaced hardware");

    // A standard code is stored by its key, as every earlier version reads it.
    let standard = ResolutionCode::named("Solution Provided").unwrap();
    assert_eq!(standard.stored(), "solution_provided");
    assert_eq!(standard.name(), "Solution provided");

    // Two codes of one name are refused; an empty catalog accepts any code.
    let mut twice = cfg.clone();
    twice.resolution_codes.push(ResolutionCodeEntry {
        name: "replaced hardware".into(),
        ..Default::default()
    });
    assert!(twice.validate().is_err());
    let mut open = cfg;
    open.resolution_codes.clear();
    let anything = ResolutionCode::named("Anything").unwrap();
    assert_eq!(open.canonical_resolution_code(&anything), Ok(anything));
    // The resolve form then offers the standard codes; otherwise the catalog's.
    let names = |c: &outpost_core::WorkspaceConfig| -> Vec<String> {
        c.offered_resolution_codes()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    let offered = names(&open);
    assert_eq!(offered.len(), outpost_core::StandardResolution::ALL.len());
    assert_eq!(offered[0], "Solution provided");
    let mut own = open.clone();
    own.resolution_codes = vec![ResolutionCodeEntry {
        name: "Replaced hardware".into(),
        ..Default::default()
    }];
    assert_eq!(names(&own), ["Replaced hardware"]);
}

#[test]
fn a_forms_commands_land_as_one_change_or_not_at_all() {
    let mut doc = logged();
    let changes = |d: &IncidentDoc| d.history().len();
    let before = (changes(&doc), doc.read().unwrap());
    // The second command is refused: the first is taken back with it.
    let refused = doc.execute_all(
        &[
            Command::SetMajorIncident(true),
            Command::SetBridgeLink("not a link".into()),
        ],
        &by("mo", 2),
        &cfg(),
    );
    assert!(refused.is_err());
    assert_eq!((changes(&doc), doc.read().unwrap()), before);
    // All accepted: one change, whose history names each.
    let done = doc
        .execute_all(
            &[
                Command::SetMajorIncident(true),
                Command::SetBridgeLink("https://meet.example.org/bridge".into()),
                Command::SetAssignee("ben".into()),
            ],
            &by("mo", 3),
            &cfg(),
        )
        .unwrap();
    assert!(matches!(done, Outcome::Changed { .. }));
    assert_eq!(changes(&doc), before.0 + 1);
    let last = doc.history().pop().unwrap();
    assert_eq!(last.events.len(), 3, "{:?}", last.events);
    let i = doc.read().unwrap();
    assert!(i.major_incident);
    assert_eq!(
        (i.bridge_link.as_str(), i.assignee.as_str()),
        ("https://meet.example.org/bridge", "ben")
    );
}
