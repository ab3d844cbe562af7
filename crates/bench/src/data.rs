//! The benchmark dataset: realistic incidents from `bench/data/generate.mjs` (seeded JSON, shared
//! with the automerge-repo anchor), built into Outpost incident documents through the domain's
//! own commands, exactly as the app would write them.

use std::path::Path;

use automerge::Automerge;
use outpost_core::incident::{DetectionSource, NoteKind};
use outpost_core::{
    Action, Attribution, Command, DevicePrefix, DeviceTime, HoldReason, Impact, IncidentDoc,
    NewIncident, ReferenceNumber, ResolutionCode, StandardResolution, Urgency, WorkspaceConfig,
};
use outpost_sync::DocumentId;
use serde::Deserialize;

/// The generator's output.
#[derive(Deserialize)]
pub struct Dataset {
    /// The seed it was made from.
    pub seed: u64,
    /// The incidents.
    pub incidents: Vec<Spec>,
}

/// One generated incident.
#[derive(Deserialize)]
pub struct Spec {
    title: String,
    description: String,
    caller: String,
    category: String,
    subcategory: String,
    service: String,
    detection: String,
    impact: u8,
    urgency: u8,
    group: String,
    assignee: String,
    author: String,
    at: i64,
    events: Vec<EventSpec>,
}

/// One thing that happened to it.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum EventKind {
    Note { kind: String, text: String },
    Assign { group: String, assignee: String },
    StartWork,
    PutOnHold { reason: String, note: String },
    Resolve { code: String, notes: String },
    Close,
}

#[derive(Deserialize)]
struct EventSpec {
    at: i64,
    author: String,
    #[serde(flatten)]
    kind: EventKind,
}

impl Dataset {
    /// Reads a generated file.
    pub fn read(path: &Path) -> Result<Dataset, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{} is not a dataset: {e}", path.display()))
    }
}

/// A deterministic document id for incident `i` of a dataset.
pub fn doc_id(seed: u64, i: usize) -> DocumentId {
    let mut x = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    DocumentId::from_bytes(bytes)
}

fn keyword<T: std::str::FromStr>(what: &str, key: &str) -> Result<T, String> {
    key.parse()
        .map_err(|_| format!("unknown {what} {key:?} in the dataset"))
}

/// Builds incident `i` as its author's device would have written it.
pub fn build(spec: &Spec, i: usize, cfg: &WorkspaceConfig) -> Result<Automerge, String> {
    let prefix = DevicePrefix::new("BEN").map_err(|e| e.to_string())?;
    let reference = ReferenceNumber::new(prefix, i as u32 + 1);
    let new = NewIncident {
        title: spec.title.clone(),
        description: spec.description.clone(),
        caller: spec.caller.clone(),
        category: spec.category.clone(),
        subcategory: spec.subcategory.clone(),
        affected_service: spec.service.clone(),
        affected_users: Vec::new(),
        detection_source: keyword::<DetectionSource>("detection source", &spec.detection)?,
        detected_at: None,
        impact: Impact::from_level(spec.impact).ok_or("impact must be 1-3")?,
        urgency: Urgency::from_level(spec.urgency).ok_or("urgency must be 1-3")?,
        assignment_group: spec.group.clone(),
        assignee: spec.assignee.clone(),
        major_incident: false,
    };
    let origin = Attribution::new(&spec.author, DeviceTime::from_millis(spec.at));
    let mut doc = IncidentDoc::create(&reference, &new, &origin, cfg)
        .map_err(|e| format!("incident {i}: {e}"))?;
    for event in &spec.events {
        let by = Attribution::new(&event.author, DeviceTime::from_millis(event.at));
        for command in commands(&event.kind)? {
            doc.execute(&command, &by, cfg)
                .map_err(|e| format!("incident {i}: {e}"))?;
        }
    }
    Ok(doc.into_automerge())
}

fn commands(kind: &EventKind) -> Result<Vec<Command>, String> {
    Ok(match kind {
        EventKind::Note { kind, text } => vec![Command::AddNote {
            kind: keyword::<NoteKind>("note kind", kind)?,
            body: text.clone(),
        }],
        EventKind::Assign { group, assignee } => vec![
            Command::SetAssignmentGroup(group.clone()),
            Command::SetAssignee(assignee.clone()),
        ],
        EventKind::StartWork => vec![Command::Transition(Action::StartWork)],
        EventKind::PutOnHold { reason, note } => vec![Command::Transition(Action::PutOnHold {
            reason: keyword::<HoldReason>("hold reason", reason)?,
            note: note.clone(),
        })],
        EventKind::Resolve { code, notes } => vec![Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(keyword::<StandardResolution>(
                "resolution code",
                code,
            )?)),
            notes: notes.clone(),
        })],
        EventKind::Close => vec![Command::Transition(Action::Close)],
    })
}

/// Builds the first `count` incidents of the dataset (cycling if it has fewer).
pub fn build_all(data: &Dataset, count: usize) -> Result<Vec<(DocumentId, Automerge)>, String> {
    let cfg = WorkspaceConfig::default();
    (0..count)
        .map(|i| {
            let spec = &data.incidents[i % data.incidents.len()];
            Ok((doc_id(data.seed, i), build(spec, i, &cfg)?))
        })
        .collect()
}
