//! automerge-repo's storage layout, so Outpost's stores and the official adapters can read each
//! other's data.
//!
//! Keys are lists of strings:
//!
//! - `[docId, "snapshot", sha256hex(concat(hex heads))]` holds `save()` of the whole document;
//! - `[docId, "incremental", sha256hex(chunk)]` holds the changes since the last save;
//! - `[namespace, ...]` holds application data (Outpost's summaries live under
//!   `["outpost/summary", docId]`).
//!
//! A document is loaded by concatenating every chunk under its id and loading them together.
//! automerge-repo compacts (writes a snapshot and deletes the chunks it replaces) when the
//! snapshot is under 1 KiB or the incremental chunks have grown as large as the snapshot; Outpost
//! follows the same rule.

use sha2::{Digest, Sha256};

use crate::document_id::DocumentId;

/// The kind of a document chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChunkKind {
    /// A full `save()`.
    Snapshot,
    /// Changes since an earlier save.
    Incremental,
}

impl ChunkKind {
    /// The key segment: `snapshot` or `incremental`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkKind::Snapshot => "snapshot",
            ChunkKind::Incremental => "incremental",
        }
    }

    /// Parses a key segment.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "snapshot" => Some(ChunkKind::Snapshot),
            "incremental" => Some(ChunkKind::Incremental),
            _ => None,
        }
    }
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key of an incremental chunk: `[docId, "incremental", sha256hex(bytes)]`.
pub fn incremental_key(doc: &DocumentId, bytes: &[u8]) -> [String; 3] {
    [
        doc.to_string(),
        ChunkKind::Incremental.as_str().to_string(),
        sha256_hex(&[bytes]),
    ]
}

/// The key of a snapshot: `[docId, "snapshot", sha256hex(concat(utf8(hex head)))]`, heads as
/// Automerge returns them (sorted).
pub fn snapshot_key<H: AsRef<str>>(doc: &DocumentId, hex_heads: &[H]) -> [String; 3] {
    let parts: Vec<&[u8]> = hex_heads.iter().map(|h| h.as_ref().as_bytes()).collect();
    [
        doc.to_string(),
        ChunkKind::Snapshot.as_str().to_string(),
        sha256_hex(&parts),
    ]
}

/// automerge-repo's compaction rule: write a snapshot when there is none, when it is under
/// 1 KiB, or when the incremental chunks add up to at least its size.
pub fn should_compact(snapshot_bytes: Option<usize>, incremental_bytes: usize) -> bool {
    match snapshot_bytes {
        None => true,
        Some(s) => s < 1024 || incremental_bytes >= s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: DocumentId = DocumentId::from_bytes([1; 16]);

    #[test]
    fn keys_hash_like_automerge_repo() {
        // Expected values computed with Node's crypto, as automerge-repo's keyHash/headsHash do.
        let chunk = incremental_key(&DOC, &[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]);
        assert_eq!(chunk[0], "p3u5PhN9wrNpsGCwfkeef2LzF9");
        assert_eq!(chunk[1], "incremental");
        assert_eq!(
            chunk[2],
            "8b2fe83c78cddc11669a8f20053376e50efb9dbd2b7a0600d111fddf6edda055"
        );
        let heads = ["aa".repeat(32), "bb".repeat(32)];
        assert_eq!(
            snapshot_key(&DOC, &heads)[2],
            "fa0dafbf43f1f551e536353e9d1a942a8e86e41a0b58dfeaf264ef217f6b862a"
        );
        assert_eq!(ChunkKind::parse("snapshot"), Some(ChunkKind::Snapshot));
        assert_eq!(ChunkKind::parse("sync-state"), None);
    }

    #[test]
    fn compacts_as_automerge_repo_does() {
        assert!(should_compact(None, 0));
        assert!(should_compact(Some(1000), 10));
        assert!(!should_compact(Some(4000), 3999));
        assert!(should_compact(Some(4000), 4000));
    }
}

/// A storage key: `[docId, kind, hash]`.
pub type ChunkKey = [String; 3];

#[derive(Clone, Debug, PartialEq, Eq)]
struct KnownChunk {
    key: ChunkKey,
    kind: ChunkKind,
    len: usize,
}

/// The chunks of one document this process has loaded or written, and the heads they hold.
///
/// Only these chunks are ever deleted by compaction, as in automerge-repo: chunks another tab or
/// process wrote meanwhile are left alone, and so are damaged chunks, which are kept for recovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkSet {
    chunks: Vec<KnownChunk>,
    saved_heads: Vec<automerge::ChangeHash>,
}

/// What to write for one save, in one storage transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavePlan {
    /// Chunks to put.
    pub puts: Vec<(ChunkKey, Vec<u8>)>,
    /// Chunks to delete (replaced by a new snapshot).
    pub deletes: Vec<ChunkKey>,
    /// The chunk set once the write has committed.
    pub after: ChunkSet,
}

impl ChunkSet {
    /// Whether `doc` has changes not yet in storage.
    pub fn is_behind(&self, doc: &automerge::Automerge) -> bool {
        doc.get_heads() != self.saved_heads
    }

    /// Total bytes of snapshots and of incremental chunks.
    pub fn sizes(&self) -> (Option<usize>, usize) {
        let sum = |kind| {
            self.chunks
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| c.len)
                .sum::<usize>()
        };
        let snapshot = self
            .chunks
            .iter()
            .any(|c| c.kind == ChunkKind::Snapshot)
            .then(|| sum(ChunkKind::Snapshot));
        (snapshot, sum(ChunkKind::Incremental))
    }

    /// What to write so storage holds everything in `doc`; `None` when it already does.
    pub fn plan_save(&self, doc_id: &DocumentId, doc: &automerge::Automerge) -> Option<SavePlan> {
        let heads = doc.get_heads();
        if heads == self.saved_heads {
            return None;
        }
        let (snapshot, incremental) = self.sizes();
        let plan = if should_compact(snapshot, incremental) {
            self.plan_snapshot(doc_id, doc)
        } else {
            let bytes = doc.save_after(&self.saved_heads);
            let key = incremental_key(doc_id, &bytes);
            let mut after = self.clone();
            after.chunks.push(KnownChunk {
                key: key.clone(),
                kind: ChunkKind::Incremental,
                len: bytes.len(),
            });
            after.saved_heads = heads;
            SavePlan {
                puts: vec![(key, bytes)],
                deletes: Vec::new(),
                after,
            }
        };
        Some(plan)
    }

    /// One snapshot of `doc` replacing every chunk this set knows: compaction, and a document
    /// replaced by one with fewer changes (discarded refused changes), whose old chunks must go.
    pub fn plan_snapshot(&self, doc_id: &DocumentId, doc: &automerge::Automerge) -> SavePlan {
        let heads = doc.get_heads();
        let bytes = doc.save();
        let hex: Vec<String> = heads.iter().map(ToString::to_string).collect();
        let key = snapshot_key(doc_id, &hex);
        let deletes = self
            .chunks
            .iter()
            .map(|c| c.key.clone())
            .filter(|k| *k != key)
            .collect();
        let after = ChunkSet {
            chunks: vec![KnownChunk {
                key: key.clone(),
                kind: ChunkKind::Snapshot,
                len: bytes.len(),
            }],
            saved_heads: heads,
        };
        SavePlan {
            puts: vec![(key, bytes)],
            deletes,
            after,
        }
    }
}

/// A document read back from its chunks.
#[derive(Debug)]
pub struct Loaded {
    /// The document, from every chunk that could be read.
    pub doc: automerge::Automerge,
    /// The readable chunks, for later saves.
    pub chunks: ChunkSet,
    /// Chunks that could not be read: kept in storage, never deleted, reported to the person.
    pub damaged: Vec<ChunkKey>,
}

/// Why no document could be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// No chunks under that id.
    #[error("nothing is stored for this document")]
    Missing,
    /// Every chunk is damaged.
    #[error("every stored chunk is damaged ({0})")]
    Damaged(String),
}

/// Whether a chunk parses completely on its own: bad magic bytes, a bad checksum or a truncated
/// tail are damage. Changes whose dependencies live in another chunk are fine.
fn check_chunk(bytes: &[u8]) -> Result<(), String> {
    let strict = automerge::LoadOptions::new().on_partial_load(automerge::OnPartialLoad::Error);
    match automerge::Automerge::load_with_options(bytes, strict) {
        Ok(_) | Err(automerge::AutomergeError::MissingDeps) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Loads a document from its stored chunks. Each chunk is checked on its own first, because
/// Automerge's incremental load skips an unreadable tail with only a log line; damaged chunks are
/// set aside and reported, and the document is built from the rest.
pub fn load_chunks(mut records: Vec<(ChunkKey, Vec<u8>)>) -> Result<Loaded, LoadError> {
    records.retain(|(key, _)| ChunkKind::parse(&key[1]).is_some());
    if records.is_empty() {
        return Err(LoadError::Missing);
    }
    records.sort_by_key(|(key, _)| {
        (
            ChunkKind::parse(&key[1]) != Some(ChunkKind::Snapshot),
            key[2].clone(),
        )
    });
    let (mut chunks, mut damaged, mut good, mut last_error) =
        (Vec::new(), Vec::new(), Vec::new(), String::new());
    for (key, bytes) in &records {
        match check_chunk(bytes) {
            Ok(()) => {
                good.extend_from_slice(bytes);
                let kind = ChunkKind::parse(&key[1]).expect("filtered above");
                chunks.push(KnownChunk {
                    key: key.clone(),
                    kind,
                    len: bytes.len(),
                });
            }
            Err(e) => {
                last_error = e;
                damaged.push(key.clone());
            }
        }
    }
    let mut doc = automerge::Automerge::new();
    if let Err(e) = doc.load_incremental(&good) {
        last_error = e.to_string();
    }
    if doc.get_heads().is_empty() {
        return Err(LoadError::Damaged(last_error));
    }
    let saved_heads = doc.get_heads();
    Ok(Loaded {
        doc,
        chunks: ChunkSet {
            chunks,
            saved_heads,
        },
        damaged,
    })
}

#[cfg(test)]
mod chunk_tests {
    use super::*;
    use automerge::{transaction::Transactable, Automerge, ROOT};

    const DOC: DocumentId = DocumentId::from_bytes([7; 16]);

    /// Text that does not compress away, so snapshots have a realistic size.
    fn noise(len: usize, seed: u64) -> String {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(b'a' + ((x >> 33) % 26) as u8)
            })
            .collect()
    }

    fn edit(doc: &mut Automerge, key: &str, value: &str) {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, value).map(|_| ()))
            .unwrap();
    }

    /// A simple in-memory store applying plans as a storage transaction would.
    #[derive(Default)]
    struct Store(std::collections::BTreeMap<ChunkKey, Vec<u8>>);

    impl Store {
        fn apply(&mut self, plan: &SavePlan) {
            for k in &plan.deletes {
                self.0.remove(k);
            }
            for (k, b) in &plan.puts {
                self.0.insert(k.clone(), b.clone());
            }
        }
        fn records(&self) -> Vec<(ChunkKey, Vec<u8>)> {
            self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
    }

    #[test]
    fn first_save_is_a_snapshot_then_incremental_until_compaction() {
        let mut doc = Automerge::new();
        edit(&mut doc, "title", &noise(2000, 1)); // a snapshot over 1 KiB
        let mut store = Store::default();
        let mut set = ChunkSet::default();
        let plan = set.plan_save(&DOC, &doc).unwrap();
        assert_eq!(plan.puts[0].0[1], "snapshot");
        store.apply(&plan);
        set = plan.after;
        assert!(set.plan_save(&DOC, &doc).is_none(), "nothing new to save");

        edit(&mut doc, "state", "in_progress");
        let plan = set.plan_save(&DOC, &doc).unwrap();
        assert_eq!(plan.puts[0].0[1], "incremental");
        assert!(plan.deletes.is_empty());
        store.apply(&plan);
        set = plan.after;

        // Grow the incremental chunks past the snapshot: the next save compacts.
        for i in 0..40 {
            edit(&mut doc, "notes", &noise(80, i));
            let plan = set.plan_save(&DOC, &doc).unwrap();
            store.apply(&plan);
            set = plan.after;
        }
        let kinds: Vec<&str> = store.0.keys().map(|k| k[1].as_str()).collect();
        assert!(kinds.contains(&"snapshot"));
        assert!(
            kinds.iter().filter(|k| **k == "incremental").count() < 40,
            "compaction deleted chunks: {kinds:?}"
        );

        let loaded = load_chunks(store.records()).unwrap();
        assert_eq!(loaded.doc.get_heads(), doc.get_heads());
        assert!(loaded.damaged.is_empty());
        assert!(!loaded.chunks.is_behind(&doc));
    }

    #[test]
    fn a_damaged_chunk_is_skipped_kept_and_reported() {
        let mut doc = Automerge::new();
        edit(&mut doc, "title", &noise(2000, 2));
        let mut store = Store::default();
        let plan = ChunkSet::default().plan_save(&DOC, &doc).unwrap();
        store.apply(&plan);
        edit(&mut doc, "state", "resolved");
        let plan2 = plan.after.plan_save(&DOC, &doc).unwrap();
        store.apply(&plan2);
        let bad_key = incremental_key(&DOC, b"garbage");
        store.0.insert(bad_key.clone(), b"garbage".to_vec());

        let loaded = load_chunks(store.records()).unwrap();
        assert_eq!(loaded.damaged, vec![bad_key.clone()]);
        assert_eq!(
            loaded.doc.get_heads(),
            doc.get_heads(),
            "every good change is there"
        );
        // Compaction never deletes the damaged chunk.
        let mut doc = loaded.doc;
        edit(&mut doc, "x", "y");
        let mut set = loaded.chunks;
        while let Some(plan) = set.plan_save(&DOC, &doc) {
            assert!(!plan.deletes.contains(&bad_key));
            store.apply(&plan);
            set = plan.after;
        }
        assert!(store.0.contains_key(&bad_key));
    }

    #[test]
    fn nothing_readable_is_an_error_not_an_empty_document() {
        assert_eq!(load_chunks(vec![]).unwrap_err(), LoadError::Missing);
        let bad = vec![(incremental_key(&DOC, b"junk"), b"junk".to_vec())];
        assert!(matches!(load_chunks(bad), Err(LoadError::Damaged(_))));
        let foreign = vec![(
            [DOC.to_string(), "sync-state".into(), "peer".into()],
            vec![1, 2],
        )];
        assert_eq!(load_chunks(foreign).unwrap_err(), LoadError::Missing);
    }
}
