//! The list's index (every stored incident's summary and sync record) and search texts, and the
//! packed forms of them that let the list open with one read.
//!
//! Each incident is stored with its own summary record and sync record (JSON, one of each per
//! document, beside its Automerge chunks). Reading ten thousand of them on every start is what
//! made cold start slow: each record crosses from IndexedDB into wasm on its own and is parsed on
//! its own. So the app also keeps one *packed* index, every entry in a single compact binary
//! record, and a *changed* marker per document written since the packed index was. Starting up
//! reads the packed index and, on top of it, the records of the marked documents
//! ([`Index::apply`]); the search texts, read after the list is on screen, work the same way
//! ([`SearchIndex`]). Compaction folds the marked documents into new packed records.
//!
//! The per-document records stay the source of truth. The packed index is a cache: when it is
//! missing, from another version ([`PACK_VERSION`]) or damaged, the index is rebuilt from the
//! per-document records, as before it existed.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::summary::{IncidentSummary, SearchText};

/// Version of the packed layout. The body is postcard, which does not describe itself: any change
/// to [`IncidentSummary`] or [`SyncRecord`] (a field added, removed, reordered or retyped, a
/// variant reordered) must bump this, so older packed indexes are rebuilt instead of misread.
/// `packed_layout_is_pinned` (tests/index.rs) fails when the layout changes.
pub const PACK_VERSION: u8 = 1;

/// The first bytes of a packed index: a name, then [`PACK_VERSION`].
const INDEX_MAGIC: &[u8] = b"outpost-index/";
/// The first bytes of packed search texts, then [`PACK_VERSION`].
const SEARCH_MAGIC: &[u8] = b"outpost-search/";

/// A document's sync bookkeeping, stored beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// The document's heads (hex).
    pub heads: Vec<String>,
    /// The heads the relay has acknowledged (hex).
    pub synced: Vec<String>,
    /// Local changes the relay does not have yet.
    pub pending: u32,
}

/// The list's data: every stored incident's summary and sync record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Index {
    /// Every readable summary, by document id.
    pub summaries: HashMap<String, IncidentSummary>,
    /// Sync records by document id, only for documents that are stored.
    pub sync: HashMap<String, SyncRecord>,
    /// Document ids whose summary record could not be read.
    pub unreadable: BTreeSet<String>,
}

/// Why a packed index was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// It was written by a version of Outpost with another layout.
    #[error("the packed index has layout {0}, this version reads {PACK_VERSION}")]
    Version(u8),
    /// It is not a packed index, or it is damaged.
    #[error("the packed index is damaged ({0})")]
    Damaged(String),
}

/// Every stored search text, by document id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchIndex {
    /// The lower-cased words search looks through ([`SearchText::text`]).
    pub texts: HashMap<String, String>,
}

/// The packed body of an index (postcard).
#[derive(Serialize, Deserialize)]
struct Packed {
    summaries: Vec<IncidentSummary>,
    sync: Vec<(String, SyncRecord)>,
    unreadable: Vec<String>,
}

/// The bytes of a summary record.
pub fn summary_bytes(summary: &IncidentSummary) -> Vec<u8> {
    serde_json::to_vec(summary).expect("summaries are plain data")
}

/// The bytes of a search record.
pub fn search_bytes(search: &SearchText) -> Vec<u8> {
    serde_json::to_vec(search).expect("search texts are plain data")
}

/// The bytes of a sync record.
pub fn sync_bytes(sync: &SyncRecord) -> Vec<u8> {
    serde_json::to_vec(sync).expect("sync records are plain data")
}

impl Index {
    /// Brings one document's entry up to date with its stored records: its summary record and
    /// sync record as stored, `None` where there is none.
    ///
    /// A document is stored with its summary in one transaction, so a sync record without a
    /// summary record (left by an older version that recorded acknowledgements before saving)
    /// is ignored: it would tell the relay this device has a document it lacks. A summary
    /// record that cannot be read lists the document as unreadable, keeping its sync record,
    /// since its chunks are stored.
    pub fn apply(&mut self, id: &str, summary: Option<&[u8]>, sync: Option<&[u8]>) {
        self.summaries.remove(id);
        self.unreadable.remove(id);
        self.sync.remove(id);
        let Some(summary) = summary else {
            return;
        };
        match serde_json::from_slice::<IncidentSummary>(summary) {
            Ok(s) if s.document_id == id => {
                self.summaries.insert(id.to_string(), s);
            }
            _ => {
                self.unreadable.insert(id.to_string());
            }
        }
        if let Some(Ok(record)) = sync.map(serde_json::from_slice::<SyncRecord>) {
            self.sync.insert(id.to_string(), record);
        }
    }

    /// Builds the index from every stored summary record and sync record, as `(id, bytes)`.
    pub fn from_records(
        summaries: impl IntoIterator<Item = (String, Vec<u8>)>,
        sync: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Index {
        let mut sync: HashMap<String, Vec<u8>> = sync.into_iter().collect();
        let mut index = Index::default();
        for (id, summary) in summaries {
            let record = sync.remove(&id);
            index.apply(&id, Some(&summary), record.as_deref());
        }
        index
    }

    /// The packed form: one record holding the whole index.
    pub fn pack(&self) -> Vec<u8> {
        let mut sync: Vec<(String, SyncRecord)> = self
            .sync
            .iter()
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        sync.sort_by(|a, b| a.0.cmp(&b.0));
        let mut summaries: Vec<IncidentSummary> = self.summaries.values().cloned().collect();
        summaries.sort_by(|a, b| a.document_id.cmp(&b.document_id));
        let packed = Packed {
            summaries,
            sync,
            unreadable: self.unreadable.iter().cloned().collect(),
        };
        pack(INDEX_MAGIC, &packed)
    }

    /// Reads a packed index.
    pub fn unpack(bytes: &[u8]) -> Result<Index, PackError> {
        let packed: Packed = unpack(INDEX_MAGIC, bytes)?;
        Ok(Index {
            summaries: packed
                .summaries
                .into_iter()
                .map(|s| (s.document_id.clone(), s))
                .collect(),
            sync: packed.sync.into_iter().collect(),
            unreadable: packed.unreadable.into_iter().collect(),
        })
    }
}

impl SearchIndex {
    /// Brings one document's text up to date with its stored search record (`None`: none).
    /// An unreadable record leaves the document without text: search still finds it by the
    /// words in its summary.
    pub fn apply(&mut self, id: &str, search: Option<&[u8]>) {
        match search.map(serde_json::from_slice::<SearchText>) {
            Some(Ok(t)) if t.document_id == id => {
                self.texts.insert(id.to_string(), t.text);
            }
            _ => {
                self.texts.remove(id);
            }
        }
    }

    /// Builds the texts from every stored search record, as `(id, bytes)`.
    pub fn from_records(records: impl IntoIterator<Item = (String, Vec<u8>)>) -> SearchIndex {
        let mut index = SearchIndex::default();
        for (id, bytes) in records {
            index.apply(&id, Some(&bytes));
        }
        index
    }

    /// The packed form: one record holding every text.
    pub fn pack(&self) -> Vec<u8> {
        let mut texts: Vec<(&String, &String)> = self.texts.iter().collect();
        texts.sort();
        pack(SEARCH_MAGIC, &texts)
    }

    /// Reads packed texts.
    pub fn unpack(bytes: &[u8]) -> Result<SearchIndex, PackError> {
        let texts: Vec<(String, String)> = unpack(SEARCH_MAGIC, bytes)?;
        Ok(SearchIndex {
            texts: texts.into_iter().collect(),
        })
    }
}

/// `magic`, [`PACK_VERSION`], then `value` in postcard.
fn pack<T: Serialize>(magic: &[u8], value: &T) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    bytes.push(PACK_VERSION);
    postcard::to_extend(value, bytes).expect("packed values are plain data")
}

/// The value [`pack`] wrote, or why it cannot be read.
fn unpack<T: serde::de::DeserializeOwned>(magic: &[u8], bytes: &[u8]) -> Result<T, PackError> {
    let body = bytes
        .strip_prefix(magic)
        .ok_or_else(|| PackError::Damaged("it does not start as a packed record".into()))?;
    let (&version, body) = body
        .split_first()
        .ok_or_else(|| PackError::Damaged("it has no version".into()))?;
    if version != PACK_VERSION {
        return Err(PackError::Version(version));
    }
    let (value, rest) =
        postcard::take_from_bytes::<T>(body).map_err(|e| PackError::Damaged(e.to_string()))?;
    if !rest.is_empty() {
        return Err(PackError::Damaged(format!(
            "{} bytes follow the packed record",
            rest.len()
        )));
    }
    Ok(value)
}
