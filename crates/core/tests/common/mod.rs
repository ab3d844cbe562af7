//! Fixtures shared by the integration tests: a workspace, people, device times and incidents.
#![allow(dead_code)]

use outpost_core::automerge::sync::{self, SyncDoc};
use outpost_core::automerge::Automerge;
use outpost_core::incident::DetectionSource;
use outpost_core::{
    Attribution, Command, CommandError, DevicePrefix, DeviceTime, Impact, IncidentDoc, NewIncident,
    Outcome, ReferenceNumber, Urgency, WorkspaceConfig,
};

/// Monday 2026-11-30 08:30 UTC, plus `minutes`.
pub fn at(minutes: i64) -> DeviceTime {
    DeviceTime::parse_rfc3339("2026-11-30T08:30:00Z")
        .unwrap()
        .plus(outpost_core::time::Span::minutes(minutes))
}

pub fn by(name: &str, minutes: i64) -> Attribution {
    Attribution::new(name, at(minutes))
}

pub fn cfg() -> WorkspaceConfig {
    WorkspaceConfig::default()
}

pub fn reference(n: u32) -> ReferenceNumber {
    ReferenceNumber::new(DevicePrefix::new("7F3A").unwrap(), n)
}

/// The seed case study: corporate email down, reported by users.
pub fn email_outage() -> NewIncident {
    NewIncident {
        title: "Users cannot log in to email".into(),
        description: "Multiple departments report failed logins since 08:30.".into(),
        caller: "Dana Reyes".into(),
        category: "Software".into(),
        subcategory: "Email".into(),
        affected_service: "Corporate email".into(),
        affected_users: vec!["dana".into(), "lee".into()],
        detection_source: DetectionSource::UserReport,
        detected_at: Some(at(0)),
        impact: Impact::High,
        urgency: Urgency::Medium,
        assignment_group: "Messaging".into(),
        assignee: String::new(),
        major_incident: false,
    }
}

pub fn logged() -> IncidentDoc {
    IncidentDoc::create(&reference(42), &email_outage(), &by("alice", 1), &cfg())
        .expect("valid incident")
}

pub fn run(
    doc: &mut IncidentDoc,
    who: &str,
    minutes: i64,
    cmd: Command,
) -> Result<Outcome, CommandError> {
    doc.execute(&cmd, &by(who, minutes), &cfg())
}

pub fn ok(doc: &mut IncidentDoc, who: &str, minutes: i64, cmd: Command) {
    match run(doc, who, minutes, cmd.clone()) {
        Ok(Outcome::Changed { .. }) => {}
        other => panic!("{cmd:?} by {who}: expected a change, got {other:?}"),
    }
}

/// Runs the real Automerge sync protocol between two documents until neither has anything to
/// send, passing every message through its byte encoding as the wire would.
pub fn sync_pair(a: &mut Automerge, b: &mut Automerge) {
    let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
    for _ in 0..64 {
        let to_b = a.generate_sync_message(&mut sa).map(|m| m.encode());
        if let Some(bytes) = &to_b {
            b.receive_sync_message(&mut sb, sync::Message::decode(bytes).unwrap())
                .unwrap();
        }
        let to_a = b.generate_sync_message(&mut sb).map(|m| m.encode());
        if let Some(bytes) = &to_a {
            a.receive_sync_message(&mut sa, sync::Message::decode(bytes).unwrap())
                .unwrap();
        }
        if to_a.is_none() && to_b.is_none() {
            return;
        }
    }
    panic!("sync did not settle");
}
