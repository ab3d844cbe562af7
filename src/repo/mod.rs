//! The repo: this device's incident documents, in memory and in IndexedDB.
//!
//! The list never loads documents: it reads the summaries ([`Repo::load_index`]), and full-text
//! search reads the search texts after the list is on screen ([`Repo::load_search`]). Both come
//! from a packed base and a journal of what each write changed since, a few range reads in all,
//! and are repacked when the person is idle ([`Repo::compact_index`], [`listing`],
//! [`outpost_core::index`]). Opening an incident loads its chunks ([`Repo::open_doc`]); commands
//! run on the loaded document and are saved with its new summary, search text, sync record and
//! journal segment in one transaction ([`Repo::execute`]). Sync saves many documents per
//! transaction ([`Repo::save_many`]).
//!
//! Each document has a sync record: its heads (so the sync client can reconcile the catalog
//! without loading documents), the heads the relay has acknowledged, and how many local changes
//! the relay does not have yet (so the count survives a reload while offline).
//!
//! Nothing is lost when storage misbehaves:
//! - a failed save leaves the change in memory and the document marked unsaved; the next save
//!   (or [`Repo::retry_unsaved`]) writes everything since the last committed save;
//! - a damaged chunk is skipped, reported, and never deleted; a document with nothing readable
//!   is reported by name, its bytes kept and downloadable for recovery;
//! - without IndexedDB at all, the repo works in memory and says so.
//!
//! The repo knows nothing about the UI; `crate::state` wraps it in signals.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};

use futures::lock::Mutex;
use outpost_core::automerge::{Automerge, ChangeHash};
use outpost_core::incident::ValidationErrors;
pub use outpost_core::index::{Index, SyncRecord};
use outpost_core::knowledge::{self, Article, ArticleEdit};
use outpost_core::schema::ReadError;
use outpost_core::summary::{IncidentSummary, SearchText};
use outpost_core::workspace::{self, Edit, EditError, Workspace, WorkspaceDoc};
use outpost_core::{
    Attribution, Command, CommandError, DeviceTime, IncidentDoc, IncidentView, NewIncident,
    Outcome, ReferenceNumber, Role, WorkspaceConfig,
};
use outpost_sync::client::ClientDocs;
use outpost_sync::storage::{load_chunks, ChunkKey, ChunkSet, LoadError, SavePlan};
use outpost_sync::DocumentId;

use crate::storage::{IdbStore, Record, StorageError};
use crate::tasks::next_task;

mod listing;
use listing::{
    changed_record, read_changed, read_index, read_search, say_rebuilt, search_record,
    summary_record, sync_record, Segment,
};
pub use listing::{
    CHANGED_NS, INDEX_KEY, JOURNAL_INDEX, JOURNAL_SEARCH, SEARCH_KEY, SEARCH_NS, SUMMARY_NS,
    SYNC_NS,
};

/// Journal changes that make compaction due. Start-up reads them all in a few range reads, so
/// they cost it little; each compaction rewrites the packed bases (megabytes at 10,000
/// incidents), so it should be rare.
const COMPACT_AFTER_CHANGES: usize = 1_000;
/// How long preparing documents for one save may hold the main thread before giving it back.
const PREPARE_SLICE_MS: f64 = 12.0;
/// Documents kept in memory once saved; older ones are dropped and reloaded when needed.
const MEMORY_DOCUMENTS: usize = 300;

/// Why a repo operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RepoError {
    /// No such incident on this device.
    #[error("This incident is not on this device.")]
    NotFound,
    /// Its stored data cannot be read.
    #[error("This incident could not be read: {0} Its data is kept on this device.")]
    Unreadable(String),
    /// The command was refused.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The creation form has problems.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed before anything changed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The relay has not yet said which document is the workspace's.
    #[error("This device does not know the workspace's document yet: connect to the relay once, then try again.")]
    WorkspaceUnknown,
    /// A workspace edit was refused.
    #[error(transparent)]
    Workspace(#[from] EditError),
}

fn hex(heads: &[ChangeHash]) -> Vec<String> {
    heads.iter().map(ToString::to_string).collect()
}

fn unhex(heads: &[String]) -> Vec<ChangeHash> {
    heads.iter().filter_map(|h| h.parse().ok()).collect()
}

/// Every document with its heads: the stored records, overridden by the loaded documents.
fn catalog_of(
    records: &HashMap<DocumentId, SyncRecord>,
    docs: &HashMap<DocumentId, OpenDoc>,
) -> Vec<(DocumentId, Vec<ChangeHash>)> {
    let mut catalog: HashMap<DocumentId, Vec<ChangeHash>> = records
        .iter()
        .map(|(id, r)| (*id, unhex(&r.heads)))
        .collect();
    for (id, open) in docs {
        let heads = open.doc.automerge().get_heads();
        if !heads.is_empty() {
            catalog.insert(*id, heads);
        }
    }
    catalog.into_iter().collect()
}

/// A document loaded in memory.
struct OpenDoc {
    doc: IncidentDoc,
    chunks: ChunkSet,
    damaged: Vec<ChunkKey>,
    synced: Vec<ChangeHash>,
    used: u64,
    /// The document was replaced by one with fewer changes: its next save is one snapshot that
    /// removes every stored chunk, or the discarded changes would load again.
    replaced: bool,
}

impl OpenDoc {
    fn new(doc: IncidentDoc, synced: Vec<ChangeHash>) -> OpenDoc {
        OpenDoc {
            doc,
            chunks: ChunkSet::default(),
            damaged: Vec::new(),
            synced,
            used: 0,
            replaced: false,
        }
    }

    fn pending(&self) -> u32 {
        let count = self.doc.automerge().get_changes_meta(&self.synced).len();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    fn sync_record(&self) -> SyncRecord {
        SyncRecord {
            heads: hex(&self.doc.automerge().get_heads()),
            synced: hex(&self.synced),
            pending: self.pending(),
        }
    }
}

/// What was saved for one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    /// Its new list entry.
    pub summary: IncidentSummary,
    /// Its new search text.
    pub search: SearchText,
    /// Its sync record.
    pub sync: SyncRecord,
    /// Whether the write committed; on failure the change is kept in memory and retried.
    pub durable: Result<(), StorageError>,
}

/// This device's incidents.
pub struct Repo {
    store: Option<IdbStore>,
    problem: Option<StorageError>,
    docs: RefCell<HashMap<DocumentId, OpenDoc>>,
    /// Heads and acknowledged heads of every stored document, loaded or not.
    records: RefCell<HashMap<DocumentId, SyncRecord>>,
    unsaved: RefCell<BTreeSet<DocumentId>>,
    pinned: RefCell<BTreeSet<DocumentId>>,
    clock: RefCell<u64>,
    writes: Mutex<()>,
    /// Journal changes and markers in storage not yet folded into the packed bases, as far as
    /// this tab knows (another tab's writes add to the journal too; compaction folds them all).
    unfolded: Cell<usize>,
    /// Whether a packed record was missing or unusable when last read.
    unpacked: Cell<bool>,
    /// A compaction is running (or waiting for the write lock): another is not due.
    compacting: Cell<bool>,
}

/// The sync client's view of the repo's documents (see [`Repo::with_client_docs`]).
///
/// The catalog is computed only when the client asks for it (on connecting and at the end of
/// reconciliation): it touches every stored document, and frames arrive by the thousand.
pub struct RepoDocs<'a> {
    docs: &'a mut HashMap<DocumentId, OpenDoc>,
    records: &'a HashMap<DocumentId, SyncRecord>,
}

impl ClientDocs for RepoDocs<'_> {
    fn catalog(&self) -> Vec<(DocumentId, Vec<ChangeHash>)> {
        catalog_of(self.records, self.docs)
    }

    fn get_mut(&mut self, id: &DocumentId) -> Option<&mut Automerge> {
        self.docs.get_mut(id).map(|d| d.doc.automerge_mut())
    }

    fn create(&mut self, id: &DocumentId) -> &mut Automerge {
        self.docs
            .entry(*id)
            .or_insert_with(|| OpenDoc::new(IncidentDoc::incoming(), Vec::new()))
            .doc
            .automerge_mut()
    }
}

impl Repo {
    /// Opens the repo on an IndexedDB database; without IndexedDB it works in memory and
    /// [`Repo::storage_problem`] says why.
    pub async fn open(database: &str) -> Repo {
        let (store, problem) = match IdbStore::open(database).await {
            Ok(store) => (Some(store), None),
            Err(e) => (None, Some(e)),
        };
        Repo {
            store,
            problem,
            docs: RefCell::new(HashMap::new()),
            records: RefCell::new(HashMap::new()),
            unsaved: RefCell::new(BTreeSet::new()),
            pinned: RefCell::new(BTreeSet::new()),
            clock: RefCell::new(0),
            writes: Mutex::new(()),
            unfolded: Cell::new(0),
            unpacked: Cell::new(false),
            compacting: Cell::new(false),
        }
    }

    /// Why the repo is running in memory only, if it is.
    pub fn storage_problem(&self) -> Option<&StorageError> {
        self.problem.as_ref()
    }

    /// Documents with changes not yet committed to storage.
    pub fn unsaved(&self) -> Vec<DocumentId> {
        self.unsaved.borrow().iter().copied().collect()
    }

    /// Every stored summary and sync record: the packed base with the journal and the marked
    /// documents' records applied (see [`outpost_core::index`]).
    pub async fn load_index(&self) -> Result<Index, StorageError> {
        let Some(store) = &self.store else {
            return Ok(Index::default());
        };
        let tx = store.read()?;
        let changed = read_changed(&tx, &[SUMMARY_NS, SYNC_NS]).await?;
        let read = read_index(&tx, &changed).await?;
        say_rebuilt("the list index was", read.rebuilt.as_ref());
        self.unfolded.set(self.unfolded.get().max(read.unfolded));
        self.unpacked
            .set(self.unpacked.get() || read.rebuilt.is_some());
        let index = read.value;
        let mut records = self.records.borrow_mut();
        for (id, sync) in &index.sync {
            if let Ok(doc) = id.parse() {
                records.insert(doc, sync.clone());
            }
        }
        Ok(index)
    }

    /// Every stored search text, by document id: the packed texts with the journal and the
    /// marked documents' texts applied.
    pub async fn load_search(&self) -> Result<HashMap<String, String>, StorageError> {
        let Some(store) = &self.store else {
            return Ok(HashMap::new());
        };
        let tx = store.read()?;
        let changed = read_changed(&tx, &[SEARCH_NS]).await?;
        let read = read_search(&tx, &changed, 0).await?;
        say_rebuilt("search texts were", read.rebuilt.as_ref());
        self.unpacked
            .set(self.unpacked.get() || read.rebuilt.is_some());
        Ok(read.value.texts)
    }

    /// Whether the packed bases should be rewritten now: one was missing or unusable, or the
    /// journal has grown long.
    pub fn compaction_due(&self) -> bool {
        self.store.is_some()
            && !self.compacting.get()
            && (self.unpacked.get() || self.unfolded.get() >= COMPACT_AFTER_CHANGES)
    }

    /// Folds the journal and the marked documents into new packed bases (index and search
    /// texts), in one transaction. Returns the number of changes folded in.
    ///
    /// The bases are built from storage, not from this tab's memory, so another tab's writes
    /// are never lost: they are either folded in or still in the journal. After a failure
    /// (storage full, say) nothing is lost either, and compaction is not due again until
    /// another [`COMPACT_AFTER_CHANGES`] changes or the next start, rather than on every tick.
    /// Start-up never waits for it: the journal reads quickly however long it is.
    pub async fn compact_index(&self) -> Result<usize, StorageError> {
        let Some(store) = &self.store else {
            return Ok(0);
        };
        self.compacting.set(true);
        let _turn = self.writes.lock().await;
        let folded = listing::compact(store).await;
        self.unfolded.set(0);
        self.unpacked.set(false);
        self.compacting.set(false);
        folded
    }

    /// Counts journal changes or markers written by a committed write.
    fn wrote_unfolded(&self, count: usize) {
        self.unfolded.set(self.unfolded.get() + count);
    }

    /// Whether a document is loaded in memory.
    pub fn is_open(&self, id: &DocumentId) -> bool {
        self.docs.borrow().contains_key(id)
    }

    /// Whether this device has a document (stored or in memory).
    pub fn has(&self, id: &DocumentId) -> bool {
        self.is_open(id) || self.records.borrow().contains_key(id)
    }

    /// Whether this device holds any of a document's content (not merely an empty copy that
    /// sync created for it).
    pub fn holds(&self, id: &DocumentId) -> bool {
        self.records.borrow().contains_key(id)
            || self
                .docs
                .borrow()
                .get(id)
                .is_some_and(|d| !d.doc.automerge().get_heads().is_empty())
    }

    fn touch(&self, id: &DocumentId) {
        let mut clock = self.clock.borrow_mut();
        *clock += 1;
        if let Some(open) = self.docs.borrow_mut().get_mut(id) {
            open.used = *clock;
        }
    }

    /// Keeps a document in memory while a page shows it.
    pub fn pin(&self, id: &DocumentId, pinned: bool) {
        let mut set = self.pinned.borrow_mut();
        if pinned {
            set.insert(*id);
        } else {
            set.remove(id);
        }
    }

    /// Drops saved, unpinned documents from memory beyond the budget (least recently used first).
    fn evict(&self) {
        let mut docs = self.docs.borrow_mut();
        if docs.len() <= MEMORY_DOCUMENTS {
            return;
        }
        let pinned = self.pinned.borrow();
        let unsaved = self.unsaved.borrow();
        let mut candidates: Vec<(u64, DocumentId)> = docs
            .iter()
            .filter(|(id, d)| {
                !pinned.contains(id)
                    && !unsaved.contains(id)
                    && !d.chunks.is_behind(d.doc.automerge())
            })
            .map(|(id, d)| (d.used, *id))
            .collect();
        candidates.sort();
        let excess = docs.len() - MEMORY_DOCUMENTS;
        for (_, id) in candidates.into_iter().take(excess) {
            docs.remove(&id);
        }
    }

    /// Loads a document from storage (no-op if already loaded).
    pub async fn open_doc(&self, id: &DocumentId) -> Result<(), RepoError> {
        if self.is_open(id) {
            self.touch(id);
            return Ok(());
        }
        let store = self.store.as_ref().ok_or(RepoError::NotFound)?;
        let records = store.load_range(&[&id.to_string()]).await?;
        let chunks = records
            .into_iter()
            .filter_map(|r| <[String; 3]>::try_from(r.key).ok().map(|k| (k, r.bytes)))
            .collect();
        let loaded = match load_chunks(chunks) {
            Ok(l) => l,
            Err(LoadError::Missing) => return Err(RepoError::NotFound),
            Err(LoadError::Damaged(detail)) => {
                return Err(RepoError::Unreadable(format!(
                    "every stored part is damaged ({detail})."
                )))
            }
        };
        let doc = if WorkspaceDoc::claims(&loaded.doc) || knowledge::claims(&loaded.doc, None) {
            IncidentDoc::holding(loaded.doc)
        } else {
            let doc = IncidentDoc::from_automerge(loaded.doc)
                .map_err(|e| RepoError::Unreadable(e.to_string()))?;
            doc.read()
                .map_err(|e: ReadError| RepoError::Unreadable(e.to_string()))?;
            doc
        };
        if self.is_open(id) {
            return Ok(()); // loaded meanwhile by another task
        }
        let synced = self
            .records
            .borrow()
            .get(id)
            .map(|r| unhex(&r.synced))
            .unwrap_or_default();
        let mut open = OpenDoc::new(doc, synced);
        open.chunks = loaded.chunks;
        open.damaged = loaded.damaged;
        self.docs.borrow_mut().insert(*id, open);
        self.touch(id);
        Ok(())
    }

    /// The workspace as this device holds it; `None` when it holds no workspace document yet
    /// (nobody configured the workspace, or it has not arrived): the defaults apply then.
    pub async fn workspace(&self, id: &DocumentId) -> Option<Workspace> {
        if !self.is_open(id) {
            self.open_doc(id).await.ok()?;
        }
        self.pin(id, true);
        self.with_doc(id, |d| workspace::read_document(d.automerge()))
            .ok()
    }

    /// Edits the workspace document (creating it on the first edit) and saves it; returns
    /// whether anything changed. The edits are validated together and make one change.
    pub async fn edit_workspace(
        &self,
        id: &DocumentId,
        edits: &[Edit],
        origin: &Attribution,
        now: DeviceTime,
    ) -> Result<bool, RepoError> {
        if !self.is_open(id) && self.open_doc(id).await.is_err() {
            self.docs
                .borrow_mut()
                .entry(*id)
                .or_insert_with(|| OpenDoc::new(IncidentDoc::incoming(), Vec::new()));
        }
        self.pin(id, true);
        let changed = self.with_doc_mut(id, |d| {
            workspace::apply_edits(d.automerge_mut(), edits, origin)
        })??;
        if changed {
            self.save(id, &WorkspaceConfig::default(), now).await?;
        }
        Ok(changed)
    }

    /// Stored chunks of a loaded document that could not be read (kept for recovery).
    pub fn damaged_chunks(&self, id: &DocumentId) -> Vec<ChunkKey> {
        self.docs
            .borrow()
            .get(id)
            .map(|d| d.damaged.clone())
            .unwrap_or_default()
    }

    /// Runs `f` on a loaded document.
    pub fn with_doc<T>(
        &self,
        id: &DocumentId,
        f: impl FnOnce(&IncidentDoc) -> T,
    ) -> Result<T, RepoError> {
        self.docs
            .borrow()
            .get(id)
            .map(|d| f(&d.doc))
            .ok_or(RepoError::NotFound)
    }

    /// Runs `f` on a loaded document mutably (tests merge in second copies this way); save
    /// afterwards with [`Repo::save`].
    pub fn with_doc_mut<T>(
        &self,
        id: &DocumentId,
        f: impl FnOnce(&mut IncidentDoc) -> T,
    ) -> Result<T, RepoError> {
        self.docs
            .borrow_mut()
            .get_mut(id)
            .map(|d| f(&mut d.doc))
            .ok_or(RepoError::NotFound)
    }

    /// Lends the loaded documents to the sync client.
    pub fn with_client_docs<T>(&self, f: impl FnOnce(&mut RepoDocs<'_>) -> T) -> T {
        let records = self.records.borrow();
        let mut docs = self.docs.borrow_mut();
        f(&mut RepoDocs {
            docs: &mut docs,
            records: &records,
        })
    }

    /// The full view of a loaded document.
    pub fn view(
        &self,
        id: &DocumentId,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<IncidentView, RepoError> {
        self.with_doc(id, |d| d.view(cfg, now))?
            .map_err(|e| RepoError::Unreadable(e.to_string()))
    }

    /// Adds a document created elsewhere (tests) and saves it.
    pub async fn insert(
        &self,
        id: DocumentId,
        doc: IncidentDoc,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<Saved, RepoError> {
        self.docs
            .borrow_mut()
            .insert(id, OpenDoc::new(doc, Vec::new()));
        self.save(&id, cfg, now).await?.ok_or(RepoError::NotFound)
    }

    /// Every document stored here, loaded or not.
    pub fn stored_ids(&self) -> Vec<DocumentId> {
        self.records.borrow().keys().copied().collect()
    }

    /// The knowledge article a document holds, opening it if need be (`None`: not an article,
    /// or unreadable).
    pub async fn article(&self, id: &DocumentId) -> Option<Article> {
        self.open_doc(id).await.ok()?;
        self.with_doc(id, |d| knowledge::read(d.automerge()).ok())
            .ok()
            .flatten()
    }

    /// Stores a new knowledge article's document.
    pub async fn insert_article(
        &self,
        id: DocumentId,
        doc: Automerge,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<(), RepoError> {
        self.docs
            .borrow_mut()
            .insert(id, OpenDoc::new(IncidentDoc::holding(doc), Vec::new()));
        self.save(&id, cfg, now).await.map(|_| ())
    }

    /// Merges a workspace document from elsewhere (an export) into this workspace's document
    /// (or makes it this workspace's, if none is stored yet), and saves it.
    pub async fn merge_workspace(
        &self,
        id: &DocumentId,
        mut other: Automerge,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<(), RepoError> {
        if self.is_open(id) || self.open_doc(id).await.is_ok() {
            self.with_doc_mut(id, |d| d.automerge_mut().merge(&mut other))?
                .map_err(|e| RepoError::Unreadable(e.to_string()))?;
        } else {
            self.docs
                .borrow_mut()
                .insert(*id, OpenDoc::new(IncidentDoc::holding(other), Vec::new()));
        }
        self.pin(id, true);
        self.save(id, cfg, now).await.map(|_| ())
    }

    /// Makes an edit to a stored article and saves it; returns whether anything changed.
    pub async fn edit_article(
        &self,
        id: &DocumentId,
        edit: &ArticleEdit,
        origin: &Attribution,
        role: Role,
        cfg: &WorkspaceConfig,
    ) -> Result<bool, String> {
        self.open_doc(id).await.map_err(|e| e.to_string())?;
        let changed = self
            .with_doc_mut(id, |d| {
                knowledge::edit(d.automerge_mut(), edit, origin, role)
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if changed {
            self.save(id, cfg, origin.at)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(changed)
    }

    /// Stores new documents (imported or restored incidents) in one transaction.
    pub async fn insert_many(
        &self,
        docs: Vec<(DocumentId, IncidentDoc)>,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Vec<(DocumentId, Result<Option<Saved>, RepoError>)> {
        let ids: Vec<DocumentId> = docs.iter().map(|(id, _)| *id).collect();
        {
            let mut open = self.docs.borrow_mut();
            for (id, doc) in docs {
                open.insert(id, OpenDoc::new(doc, Vec::new()));
            }
        }
        self.save_many(&ids, cfg, now).await
    }

    /// Logs a new incident and saves it.
    pub async fn create(
        &self,
        id: DocumentId,
        reference: &ReferenceNumber,
        new: &NewIncident,
        origin: &Attribution,
        cfg: &WorkspaceConfig,
    ) -> Result<Saved, RepoError> {
        let doc = IncidentDoc::create(reference, new, origin, cfg)?;
        self.insert(id, doc, cfg, origin.at).await
    }

    /// Runs a command and saves the result. A refused command changes nothing; an accepted one
    /// is kept even if saving fails (see [`Saved::durable`]).
    pub async fn execute(
        &self,
        id: &DocumentId,
        cmds: &[Command],
        origin: &Attribution,
        cfg: &WorkspaceConfig,
    ) -> Result<(Outcome, Option<Saved>), RepoError> {
        self.open_doc(id).await?;
        let outcome = self.with_doc_mut(id, |d| d.execute_all(cmds, origin, cfg))??;
        let saved = match outcome {
            Outcome::Changed { .. } => self.save(id, cfg, origin.at).await?,
            Outcome::Unchanged => None,
        };
        Ok((outcome, saved))
    }

    /// Discards changes of a document that the relay refused, and everything built on them, and
    /// saves what is left as one snapshot in place of its stored chunks. Returns the saved state
    /// and what the discarded changes wrote (for the person to copy).
    pub async fn discard(
        &self,
        id: &DocumentId,
        refused: &[ChangeHash],
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<(Option<Saved>, Vec<String>), RepoError> {
        self.open_doc(id).await?;
        let text = self.with_doc_mut(id, |doc| -> Result<Vec<String>, RepoError> {
            let (kept, text) = doc
                .without(refused)
                .map_err(|e| RepoError::Unreadable(e.to_string()))?;
            *doc = kept;
            Ok(text)
        })??;
        if let Some(open) = self.docs.borrow_mut().get_mut(id) {
            open.replaced = true;
        }
        Ok((self.save(id, cfg, now).await?, text))
    }

    /// Saves one document; `None` when there was nothing to save.
    pub async fn save(
        &self,
        id: &DocumentId,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<Option<Saved>, RepoError> {
        let mut saved = self.save_many(&[*id], cfg, now).await;
        match saved.pop() {
            Some((_, result)) => result,
            None => Ok(None),
        }
    }

    /// Saves whatever these documents have that storage lacks, with their summaries, search texts
    /// and sync records, in one transaction. Documents that are not (yet) readable incidents are
    /// skipped with an error.
    pub async fn save_many(
        &self,
        ids: &[DocumentId],
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Vec<(DocumentId, Result<Option<Saved>, RepoError>)> {
        self.write_docs(ids, cfg, now, false).await
    }

    /// Derives these documents' list entries again under `cfg` (the workspace's rules changed)
    /// and writes them, with whatever else the documents have that storage lacks, in one
    /// transaction. The documents must be open ([`Repo::open_doc`]).
    pub async fn relist(
        &self,
        ids: &[DocumentId],
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Vec<(DocumentId, Result<Option<Saved>, RepoError>)> {
        self.write_docs(ids, cfg, now, true).await
    }

    /// [`Repo::save_many`], and with `relist` also the list entries of documents with nothing
    /// new to save.
    async fn write_docs(
        &self,
        ids: &[DocumentId],
        cfg: &WorkspaceConfig,
        now: DeviceTime,
        relist: bool,
    ) -> Vec<(DocumentId, Result<Option<Saved>, RepoError>)> {
        let _turn = self.writes.lock().await;
        let rules = cfg.list_rules();
        let mut results = Vec::new();
        let mut prepared: Vec<(DocumentId, Option<SavePlan>, Saved)> = Vec::new();
        // The workspace document: its chunks and sync record, no list entry.
        let mut plain: Vec<(DocumentId, SavePlan, SyncRecord)> = Vec::new();
        // Preparing a document (its incremental save, summary and search text) takes a
        // millisecond or more, so a pull's backlog of hundreds is prepared in slices with the
        // main thread given back between them; they are still written in one transaction.
        // Documents waiting here are behind their stored chunks, so they are never evicted
        // meanwhile; one changed meanwhile is saved up to the heads it was prepared at and
        // marked changed again.
        let mut slice_began = js_sys::Date::now();
        for id in ids {
            if js_sys::Date::now() - slice_began > PREPARE_SLICE_MS {
                next_task().await;
                slice_began = js_sys::Date::now();
            }
            let docs = self.docs.borrow();
            let Some(open) = docs.get(id) else {
                results.push((*id, Err(RepoError::NotFound)));
                continue;
            };
            let plan = if open.replaced {
                Some(open.chunks.plan_snapshot(id, open.doc.automerge()))
            } else {
                open.chunks.plan_save(id, open.doc.automerge())
            };
            // Documents without a list entry: the workspace's and knowledge articles.
            let workspace = WorkspaceDoc::claims(open.doc.automerge())
                || knowledge::claims(open.doc.automerge(), None);
            let plan = match plan {
                Some(plan) if workspace => {
                    plain.push((*id, plan, open.sync_record()));
                    continue;
                }
                None if !relist || workspace => {
                    results.push((*id, Ok(None)));
                    continue;
                }
                plan => plan,
            };
            match open.doc.view(cfg, now) {
                Ok(view) => {
                    let doc_id = id.to_string();
                    let saved = Saved {
                        summary: view.summary(&doc_id, cfg, rules),
                        search: view.search_text(&doc_id),
                        sync: open.sync_record(),
                        durable: Ok(()),
                    };
                    prepared.push((*id, plan, saved));
                }
                Err(e) => results.push((*id, Err(RepoError::Unreadable(e.to_string())))),
            }
        }
        if prepared.is_empty() && plain.is_empty() {
            return results;
        }
        let durable = match &self.store {
            None => Err(self
                .problem
                .clone()
                .unwrap_or(StorageError::Unavailable("no storage".into()))),
            Some(store) => {
                let mut puts = Vec::new();
                let mut deletes = Vec::new();
                let mut segment = Segment::default();
                for (id, plan, saved) in &prepared {
                    if let Some(plan) = plan {
                        puts.extend(plan.puts.iter().map(|(k, b)| Record::new(k, b.clone())));
                        deletes.extend(plan.deletes.iter().map(|k| k.to_vec()));
                    }
                    puts.push(summary_record(id, &saved.summary));
                    puts.push(search_record(id, &saved.search));
                    puts.push(sync_record(id, &saved.sync));
                    segment.saved(&saved.summary, &saved.search, &saved.sync);
                }
                for (id, plan, sync) in &plain {
                    puts.extend(plan.puts.iter().map(|(k, b)| Record::new(k, b.clone())));
                    puts.push(sync_record(id, sync));
                    segment.synced(id, sync);
                    deletes.extend(plan.deletes.iter().map(|k| k.to_vec()));
                }
                segment.write(store, &puts, &deletes).await
            }
        };
        if durable.is_ok() {
            self.wrote_unfolded(prepared.len() + plain.len());
        }
        for (id, plan, sync) in plain {
            if durable.is_ok() {
                if let Some(open) = self.docs.borrow_mut().get_mut(&id) {
                    open.chunks = plan.after;
                    open.replaced = false;
                }
                self.unsaved.borrow_mut().remove(&id);
                self.records.borrow_mut().insert(id, sync);
            } else {
                self.unsaved.borrow_mut().insert(id);
            }
            results.push((id, Ok(None)));
        }
        for (id, plan, mut saved) in prepared {
            saved.durable = durable.clone();
            // A list entry alone that failed to write stays stale, and is derived again later;
            // only changes of the document itself wait in `unsaved`.
            let changed = plan.is_some();
            match &durable {
                Ok(()) => {
                    if let (Some(open), Some(plan)) = (self.docs.borrow_mut().get_mut(&id), plan) {
                        open.chunks = plan.after;
                        open.replaced = false;
                    }
                    self.unsaved.borrow_mut().remove(&id);
                    self.records.borrow_mut().insert(id, saved.sync.clone());
                }
                Err(_) if changed => {
                    self.unsaved.borrow_mut().insert(id);
                }
                Err(_) => {}
            }
            results.push((id, Ok(Some(saved))));
        }
        self.evict();
        results
    }

    /// Records that the relay has these heads of these documents; returns the sync records
    /// written (only those that changed: a reconnect acknowledges every document).
    ///
    /// A sync record claims its document is stored (its heads are what the catalog tells the
    /// relay), so one is written only for a document storage holds: an acknowledgement for
    /// changes still waiting for their save is kept in memory and written by that save. Waiting
    /// for the write lock puts this entirely before or entirely after any save in progress.
    pub async fn mark_synced(
        &self,
        acks: &[(DocumentId, Vec<ChangeHash>)],
    ) -> Result<Vec<(DocumentId, SyncRecord)>, StorageError> {
        let _turn = self.writes.lock().await;
        let mut updated = Vec::new();
        {
            let mut docs = self.docs.borrow_mut();
            let records = self.records.borrow();
            for (id, heads) in acks {
                if let Some(open) = docs.get_mut(id) {
                    open.synced.clone_from(heads);
                    if !open.chunks.is_behind(open.doc.automerge()) {
                        let record = open.sync_record();
                        if records.get(id) != Some(&record) {
                            updated.push((*id, record));
                        }
                    }
                } else if let Some(stored) = records.get(id) {
                    let synced = hex(heads);
                    let pending = if synced == stored.heads {
                        0
                    } else {
                        stored.pending
                    };
                    let record = SyncRecord {
                        heads: stored.heads.clone(),
                        synced,
                        pending,
                    };
                    if record != *stored {
                        updated.push((*id, record));
                    }
                }
            }
        }
        if let Some(store) = &self.store {
            if !updated.is_empty() {
                let mut segment = Segment::default();
                let puts: Vec<Record> = updated
                    .iter()
                    .map(|(id, r)| {
                        segment.synced(id, r);
                        sync_record(id, r)
                    })
                    .collect();
                segment.write(store, &puts, &[]).await?;
                self.wrote_unfolded(updated.len());
            }
        }
        let mut records = self.records.borrow_mut();
        for (id, r) in &updated {
            records.insert(*id, r.clone());
        }
        Ok(updated)
    }

    /// Tries again to save every document with unsaved changes; returns those still unsaved.
    pub async fn retry_unsaved(&self, cfg: &WorkspaceConfig, now: DeviceTime) -> Vec<DocumentId> {
        let ids = self.unsaved();
        self.save_many(&ids, cfg, now).await;
        self.unsaved()
    }

    /// Removes a document from this device: its chunks, its summary, search and sync records,
    /// and its list entry, in one transaction. For a document the relay withdrew (restricted to
    /// groups this person is not in): this device may no longer hold it. Returns how many of
    /// its local changes the relay never had (they are gone with it), or `None` if it held
    /// nothing of it (removed already, by a task that got the write lock first).
    pub async fn remove(&self, id: &DocumentId) -> Result<Option<u32>, RepoError> {
        let _turn = self.writes.lock().await;
        if !self.holds(id) {
            return Ok(None);
        }
        let pending = self
            .docs
            .borrow()
            .get(id)
            .map(OpenDoc::pending)
            .or_else(|| self.records.borrow().get(id).map(|r| r.pending))
            .unwrap_or(0);
        if let Some(store) = &self.store {
            let key = id.to_string();
            let mut deletes = store.keys(&[&key]).await?;
            for ns in [SUMMARY_NS, SEARCH_NS, SYNC_NS, CHANGED_NS] {
                deletes.push(vec![ns.to_string(), key.clone()]);
            }
            let mut segment = Segment::default();
            segment.removed(id);
            segment.write(store, &[], &deletes).await?;
            self.wrote_unfolded(1);
        }
        self.docs.borrow_mut().remove(id);
        self.records.borrow_mut().remove(id);
        self.unsaved.borrow_mut().remove(id);
        self.pinned.borrow_mut().remove(id);
        Ok(Some(pending))
    }

    /// Every stored record of a document, for a recovery download.
    pub async fn raw_records(&self, id: &DocumentId) -> Result<Vec<Record>, StorageError> {
        match &self.store {
            Some(store) => store.load_range(&[&id.to_string()]).await,
            None => Ok(Vec::new()),
        }
    }

    /// Stores records as they are (tests use this to plant damaged data), marking the documents
    /// whose summary or sync record they replace, so the list reads those records as they are.
    pub async fn write_raw(&self, puts: &[Record]) -> Result<(), StorageError> {
        let marks: Vec<Record> = puts
            .iter()
            .filter(|r| {
                matches!(
                    r.key.first().map(String::as_str),
                    Some(SUMMARY_NS | SYNC_NS)
                )
            })
            .filter_map(|r| Some(changed_record(r.key.get(1)?)))
            .collect();
        match &self.store {
            Some(store) => {
                store.write(&[puts, &marks].concat(), &[]).await?;
                self.wrote_unfolded(marks.len());
                Ok(())
            }
            None => Err(self
                .problem
                .clone()
                .unwrap_or(StorageError::Unavailable("no storage".into()))),
        }
    }

    /// Forgets a loaded document (tests use this to prove it reloads from storage).
    pub fn evict_one(&self, id: &DocumentId) {
        self.docs.borrow_mut().remove(id);
    }

    /// Closes the database connection.
    pub fn close(&self) {
        if let Some(store) = &self.store {
            store.close();
        }
    }
}
