//! A whole workspace in one file, for backup or migration: every document (incidents, the
//! workspace document, knowledge articles) in Automerge's own format, with its document id, so
//! that restoring it into an empty workspace loses nothing, history included.
//!
//! ```json
//! { "format": "outpost/workspace-export", "version": 1, "workspace": "acme",
//!   "exported_at": 1764000000000, "exported_by": "Ada Admin",
//!   "documents": [ { "id": "2bTq…", "kind": "incident", "automerge": "<base64>" }, … ] }
//! ```
//!
//! Reading a file checks everything before anything is restored: the format and version, that
//! every document loads, that its kind is what the file says, and that no id appears twice.

use std::collections::HashSet;

use automerge::Automerge;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::time::DeviceTime;
use crate::workspace::WorkspaceDoc;

/// The file's format marker.
pub const FORMAT: &str = "outpost/workspace-export";
/// The newest version this build writes and reads.
pub const VERSION: u32 = 1;

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An incident.
    Incident,
    /// The workspace's configuration and directory.
    Workspace,
    /// A knowledge article.
    Knowledge,
}

/// What kind of document this is, if it is one Outpost knows.
pub fn kind_of(doc: &Automerge) -> Option<Kind> {
    if WorkspaceDoc::claims(doc) {
        Some(Kind::Workspace)
    } else if crate::knowledge::claims(doc, None) {
        Some(Kind::Knowledge)
    } else if crate::IncidentDoc::from_automerge(doc.clone())
        .and_then(|d| d.read())
        .is_ok()
    {
        Some(Kind::Incident)
    } else {
        None
    }
}

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    workspace: String,
    exported_at: DeviceTime,
    #[serde(default)]
    exported_by: String,
    documents: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    id: String,
    kind: Kind,
    automerge: String,
}

/// Writes the export file: `documents` are each document's id, kind and saved bytes
/// ([`Automerge::save`]).
pub fn write<'a>(
    workspace: &str,
    exported_by: &str,
    at: DeviceTime,
    documents: impl IntoIterator<Item = (&'a str, Kind, &'a [u8])>,
) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let file = File {
        format: FORMAT.into(),
        version: VERSION,
        workspace: workspace.into(),
        exported_at: at,
        exported_by: exported_by.into(),
        documents: documents
            .into_iter()
            .map(|(id, kind, bytes)| Entry {
                id: id.into(),
                kind,
                automerge: engine.encode(bytes),
            })
            .collect(),
    };
    serde_json::to_string(&file).expect("plain data")
}

/// A file read back.
#[derive(Debug)]
pub struct Restored {
    /// The workspace it was exported from.
    pub workspace: String,
    /// When, and by whom.
    pub exported_at: DeviceTime,
    /// Who exported it.
    pub exported_by: String,
    /// Every document: id, kind and the document.
    pub documents: Vec<(String, Kind, Automerge)>,
}

impl Restored {
    /// How many documents of a kind.
    pub fn count(&self, kind: Kind) -> usize {
        self.documents.iter().filter(|(_, k, _)| *k == kind).count()
    }
}

/// Why a file cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// Not an export.
    #[error("This is not an Outpost workspace export: {0}")]
    NotAnExport(String),
    /// From a newer version.
    #[error("This export is version {0}; this version of Outpost reads version {VERSION}. Update Outpost first.")]
    Newer(u32),
    /// One document is damaged.
    #[error("Document {id} in the export is damaged ({why}); nothing was restored.")]
    Damaged {
        /// The document's id.
        id: String,
        /// What is wrong.
        why: String,
    },
    /// An id appears twice.
    #[error("Document {0} appears twice in the export; nothing was restored.")]
    Twice(String),
}

/// Reads and checks an export file.
pub fn read(text: &str) -> Result<Restored, BackupError> {
    let file: File =
        serde_json::from_str(text).map_err(|e| BackupError::NotAnExport(e.to_string()))?;
    if file.format != FORMAT {
        return Err(BackupError::NotAnExport(format!(
            "its format is “{}”",
            file.format
        )));
    }
    if file.version > VERSION {
        return Err(BackupError::Newer(file.version));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let mut seen = HashSet::new();
    let mut documents = Vec::with_capacity(file.documents.len());
    for e in file.documents {
        if !seen.insert(e.id.clone()) {
            return Err(BackupError::Twice(e.id));
        }
        let damaged = |why: String| BackupError::Damaged {
            id: e.id.clone(),
            why,
        };
        let bytes = engine
            .decode(&e.automerge)
            .map_err(|err| damaged(format!("not base64: {err}")))?;
        let doc = Automerge::load(&bytes).map_err(|err| damaged(err.to_string()))?;
        match kind_of(&doc) {
            Some(k) if k == e.kind => {}
            Some(k) => return Err(damaged(format!("it is a {k:?} document, not {:?}", e.kind))),
            None => return Err(damaged("it is not an Outpost document".into())),
        }
        documents.push((e.id, e.kind, doc));
    }
    Ok(Restored {
        workspace: file.workspace,
        exported_at: file.exported_at,
        exported_by: file.exported_by,
        documents,
    })
}
