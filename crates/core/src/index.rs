//! The list's index (every stored incident's summary and sync record) and search texts, and the
//! packed forms of them that let the list open with a handful of reads, whatever happened last.
//!
//! Each incident is stored with its own summary record and sync record (JSON, one of each per
//! document, beside its Automerge chunks). Reading ten thousand of them on every start is what
//! made cold start slow: each record crosses from IndexedDB into wasm on its own and is parsed on
//! its own. So the app keeps the index as a log-structured pair:
//!
//! - a *packed base* ([`Index::pack`]): every entry in a single compact binary record;
//! - a *journal*: every write that changes summaries or sync records (a save, a batch of a pull,
//!   acknowledgements) also writes, in the same transaction, one segment holding what it
//!   changed ([`IndexChanges`], [`SearchChanges`]), keyed by a sequence number one past the last
//!   segment's, read in the same transaction ([`journal_key`], [`next_sequence`]), so key order
//!   is commit order, across tabs too.
//!
//! Starting up reads the base and the journal with one range read each, and applies the segments
//! in order ([`Index::apply_changes`]): a pull of ten thousand incidents is about 160 segments,
//! never ten thousand records. Compaction folds the journal into a new base when the person is
//! idle; start-up does not depend on it having run.
//!
//! Records written outside the journal (an older version's *changed* markers, or data planted by
//! tests) are still honoured: a marker names a document whose per-document records are read and
//! applied last ([`Index::apply`]), since those records are always current.
//!
//! The per-document records stay the source of truth. The packed base and the journal are a
//! cache: when either is from another version ([`PACK_VERSION`]) or damaged, the index is
//! rebuilt from the per-document records.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::summary::{IncidentSummary, SearchText};

/// Version of the packed layout. The body is postcard, which does not describe itself: any change
/// to [`IncidentSummary`] or [`SyncRecord`] (a field added, removed, reordered or retyped, a
/// variant reordered) must bump this, so older packed indexes are rebuilt instead of misread.
/// `packed_layout_is_pinned` (tests/index.rs) fails when the layout changes.
pub const PACK_VERSION: u8 = 4;

/// The first bytes of a packed index: a name, then [`PACK_VERSION`].
const INDEX_MAGIC: &[u8] = b"outpost-index/";
/// The first bytes of packed search texts, then [`PACK_VERSION`].
const SEARCH_MAGIC: &[u8] = b"outpost-search/";
/// The first bytes of a journal segment of the index, then [`PACK_VERSION`].
const INDEX_CHANGES_MAGIC: &[u8] = b"outpost-index-changes/";
/// The first bytes of a journal segment of the search texts, then [`PACK_VERSION`].
const SEARCH_CHANGES_MAGIC: &[u8] = b"outpost-search-changes/";

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

/// What one write changed in the index, in the order it changed it: a journal segment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexChanges {
    /// The changes, applied in this order.
    pub entries: Vec<IndexChange>,
}

/// One document's change in a journal segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum IndexChange {
    /// The document was saved: its new summary (boxed: it is ten times the size of the other
    /// variant) and sync record.
    Saved(Box<IncidentSummary>, SyncRecord),
    /// Only its sync record changed (the relay acknowledged it): `(document id, record)`.
    Synced(String, SyncRecord),
    /// The document was removed from this device (the relay withdrew it): its id.
    Removed(String),
}

/// What one write changed in the search texts: a journal segment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchChanges {
    /// `(document id, text)` of each document saved; an empty text removes the document's.
    pub texts: Vec<(String, String)>,
}

impl IndexChanges {
    /// How many changes the segment holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it names none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The segment's bytes.
    pub fn pack(&self) -> Vec<u8> {
        pack(INDEX_CHANGES_MAGIC, self)
    }

    /// Reads a segment.
    pub fn unpack(bytes: &[u8]) -> Result<IndexChanges, PackError> {
        unpack(INDEX_CHANGES_MAGIC, bytes)
    }
}

impl SearchChanges {
    /// The segment's bytes.
    pub fn pack(&self) -> Vec<u8> {
        pack(SEARCH_CHANGES_MAGIC, self)
    }

    /// Reads a segment.
    pub fn unpack(bytes: &[u8]) -> Result<SearchChanges, PackError> {
        unpack(SEARCH_CHANGES_MAGIC, bytes)
    }
}

/// The key part of journal segment `sequence`: fixed-width hex, so the store's key order (string
/// order) is the order of the numbers.
pub fn journal_key(sequence: u64) -> String {
    format!("{sequence:016x}")
}

/// The sequence number of the segment a write adds, from the key of the last segment stored
/// (`None`: the journal is empty). Compaction removes every segment in the transaction that
/// writes the new base, so numbering again from 1 afterwards keeps key order = commit order. A
/// key that is not a sequence number (damage) makes the journal unusable for reading anyway;
/// numbering goes on from 1 and the next compaction clears it.
pub fn next_sequence(last: Option<&str>) -> u64 {
    last.and_then(|k| u64::from_str_radix(k, 16).ok())
        .unwrap_or(0)
        .saturating_add(1)
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

    /// Applies one journal segment: the documents it saved take its summary and sync record;
    /// an acknowledgement changes the sync record of a document the index holds (one it does
    /// not hold is not stored, so it has none).
    pub fn apply_changes(&mut self, changes: IndexChanges) {
        for change in changes.entries {
            match change {
                IndexChange::Saved(summary, sync) => {
                    let id = summary.document_id.clone();
                    self.unreadable.remove(&id);
                    self.sync.insert(id.clone(), sync);
                    self.summaries.insert(id, *summary);
                }
                IndexChange::Synced(id, sync) => {
                    if self.summaries.contains_key(&id) || self.unreadable.contains(&id) {
                        self.sync.insert(id, sync);
                    }
                }
                IndexChange::Removed(id) => {
                    self.summaries.remove(&id);
                    self.unreadable.remove(&id);
                    self.sync.remove(&id);
                }
            }
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

    /// Applies one journal segment.
    pub fn apply_changes(&mut self, changes: SearchChanges) {
        for (id, text) in changes.texts {
            if text.is_empty() {
                self.texts.remove(&id);
            } else {
                self.texts.insert(id, text);
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
