//! The repo: this device's incident documents, in memory and in IndexedDB.
//!
//! The list never loads documents: it reads the summaries ([`Repo::load_index`]), and full-text
//! search reads the search texts after the list is on screen ([`Repo::load_search`]). Opening an
//! incident loads its chunks ([`Repo::open`]); commands run on the loaded document and are saved
//! with its new summary and search text in one transaction ([`Repo::execute`]).
//!
//! Nothing is lost when storage misbehaves:
//! - a failed save leaves the change in memory and the document marked unsaved; the next save of
//!   that document (or [`Repo::retry_unsaved`]) writes everything since the last committed save;
//! - a damaged chunk is skipped, reported, and never deleted; a document with nothing readable is
//!   reported by name, its bytes kept and downloadable for recovery;
//! - without IndexedDB at all, the repo works in memory and says so.
//!
//! The repo knows nothing about the UI; `crate::state` wraps it in signals.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use futures::lock::Mutex;
use outpost_core::incident::ValidationErrors;
use outpost_core::schema::ReadError;
use outpost_core::summary::{IncidentSummary, SearchText};
use outpost_core::{
    Attribution, Command, CommandError, DeviceTime, IncidentDoc, IncidentView, NewIncident,
    Outcome, ReferenceNumber, WorkspaceConfig,
};
use outpost_sync::storage::{load_chunks, ChunkKey, ChunkSet, LoadError};
use outpost_sync::DocumentId;

use crate::storage::{IdbStore, Record, StorageError};

/// Key namespace of incident summaries: `["outpost/summary", docId]`.
pub const SUMMARY_NS: &str = "outpost/summary";
/// Key namespace of search texts: `["outpost/search", docId]`.
pub const SEARCH_NS: &str = "outpost/search";

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
}

/// A document loaded in memory.
struct OpenDoc {
    doc: IncidentDoc,
    chunks: ChunkSet,
    damaged: Vec<ChunkKey>,
}

/// What was saved for one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    /// Its new list entry.
    pub summary: IncidentSummary,
    /// Its new search text.
    pub search: SearchText,
    /// Whether the write committed; on failure the change is kept in memory and retried.
    pub durable: Result<(), StorageError>,
}

/// The list's data, as stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Index {
    /// Every readable summary.
    pub summaries: Vec<IncidentSummary>,
    /// Document ids whose summary could not be read.
    pub unreadable: Vec<String>,
}

/// This device's incidents.
pub struct Repo {
    store: Option<IdbStore>,
    problem: Option<StorageError>,
    docs: RefCell<HashMap<DocumentId, OpenDoc>>,
    unsaved: RefCell<BTreeSet<DocumentId>>,
    writes: Mutex<()>,
}

fn summary_record(id: &DocumentId, summary: &IncidentSummary) -> Record {
    Record::new(
        &[SUMMARY_NS, &id.to_string()],
        serde_json::to_vec(summary).expect("summaries are plain data"),
    )
}

fn search_record(id: &DocumentId, search: &SearchText) -> Record {
    Record::new(
        &[SEARCH_NS, &id.to_string()],
        serde_json::to_vec(search).expect("search texts are plain data"),
    )
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
            unsaved: RefCell::new(BTreeSet::new()),
            writes: Mutex::new(()),
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

    /// Every stored summary.
    pub async fn load_index(&self) -> Result<Index, StorageError> {
        let Some(store) = &self.store else {
            return Ok(Index::default());
        };
        let mut index = Index::default();
        for record in store.load_range(&[SUMMARY_NS]).await? {
            match serde_json::from_slice::<IncidentSummary>(&record.bytes) {
                Ok(summary) => index.summaries.push(summary),
                Err(_) => index
                    .unreadable
                    .push(record.key.get(1).cloned().unwrap_or_default()),
            }
        }
        Ok(index)
    }

    /// Every stored search text.
    pub async fn load_search(&self) -> Result<Vec<SearchText>, StorageError> {
        let Some(store) = &self.store else {
            return Ok(Vec::new());
        };
        Ok(store
            .load_range(&[SEARCH_NS])
            .await?
            .into_iter()
            .filter_map(|r| serde_json::from_slice(&r.bytes).ok())
            .collect())
    }

    /// Whether a document is loaded in memory.
    pub fn is_open(&self, id: &DocumentId) -> bool {
        self.docs.borrow().contains_key(id)
    }

    /// Loads a document from storage (no-op if already loaded).
    pub async fn open_doc(&self, id: &DocumentId) -> Result<(), RepoError> {
        if self.is_open(id) {
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
        let doc = IncidentDoc::from_automerge(loaded.doc)
            .map_err(|e| RepoError::Unreadable(e.to_string()))?;
        doc.read()
            .map_err(|e: ReadError| RepoError::Unreadable(e.to_string()))?;
        if self.is_open(id) {
            return Ok(()); // loaded meanwhile by another task
        }
        self.docs.borrow_mut().insert(
            *id,
            OpenDoc {
                doc,
                chunks: loaded.chunks,
                damaged: loaded.damaged,
            },
        );
        Ok(())
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

    /// Runs `f` on a loaded document mutably (sync uses this to apply remote changes); the caller
    /// saves afterwards with [`Repo::save`].
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

    /// Adds a document created or received elsewhere (sync, tests) and saves it.
    pub async fn insert(
        &self,
        id: DocumentId,
        doc: IncidentDoc,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<Saved, RepoError> {
        self.docs.borrow_mut().insert(
            id,
            OpenDoc {
                doc,
                chunks: ChunkSet::default(),
                damaged: Vec::new(),
            },
        );
        self.save(&id, cfg, now).await?.ok_or(RepoError::NotFound)
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
        cmd: &Command,
        origin: &Attribution,
        cfg: &WorkspaceConfig,
    ) -> Result<(Outcome, Option<Saved>), RepoError> {
        self.open_doc(id).await?;
        let outcome = self.with_doc_mut(id, |d| d.execute(cmd, origin, cfg))??;
        let saved = match outcome {
            Outcome::Changed { .. } => self.save(id, cfg, origin.at).await?,
            Outcome::Unchanged => None,
        };
        Ok((outcome, saved))
    }

    /// Saves whatever a loaded document has that storage lacks, with its summary and search
    /// text, in one transaction. `None` when there was nothing to save.
    pub async fn save(
        &self,
        id: &DocumentId,
        cfg: &WorkspaceConfig,
        now: DeviceTime,
    ) -> Result<Option<Saved>, RepoError> {
        let _turn = self.writes.lock().await;
        let prepared = {
            let docs = self.docs.borrow();
            let open = docs.get(id).ok_or(RepoError::NotFound)?;
            let view = open
                .doc
                .view(cfg, now)
                .map_err(|e| RepoError::Unreadable(e.to_string()))?;
            let doc_id = id.to_string();
            let summary = view.summary(&doc_id, &cfg.calendar);
            let search = view.search_text(&doc_id);
            open.chunks
                .plan_save(id, open.doc.automerge())
                .map(|plan| (plan, summary, search))
        };
        let Some((plan, summary, search)) = prepared else {
            return Ok(None);
        };
        let durable = match &self.store {
            None => Err(self
                .problem
                .clone()
                .unwrap_or(StorageError::Unavailable("no storage".into()))),
            Some(store) => {
                let mut puts: Vec<Record> = plan
                    .puts
                    .iter()
                    .map(|(k, b)| Record::new(k, b.clone()))
                    .collect();
                puts.push(summary_record(id, &summary));
                puts.push(search_record(id, &search));
                let deletes: Vec<Vec<String>> = plan.deletes.iter().map(|k| k.to_vec()).collect();
                store.write(&puts, &deletes).await
            }
        };
        match &durable {
            Ok(()) => {
                if let Some(open) = self.docs.borrow_mut().get_mut(id) {
                    open.chunks = plan.after;
                }
                self.unsaved.borrow_mut().remove(id);
            }
            Err(_) => {
                self.unsaved.borrow_mut().insert(*id);
            }
        }
        Ok(Some(Saved {
            summary,
            search,
            durable,
        }))
    }

    /// Tries again to save every document with unsaved changes; returns those still unsaved.
    pub async fn retry_unsaved(&self, cfg: &WorkspaceConfig, now: DeviceTime) -> Vec<DocumentId> {
        for id in self.unsaved() {
            let _ = self.save(&id, cfg, now).await;
        }
        self.unsaved()
    }

    /// Every stored record of a document, for a recovery download.
    pub async fn raw_records(&self, id: &DocumentId) -> Result<Vec<Record>, StorageError> {
        match &self.store {
            Some(store) => store.load_range(&[&id.to_string()]).await,
            None => Ok(Vec::new()),
        }
    }

    /// Stores records as they are (tests use this to plant damaged data).
    pub async fn write_raw(&self, puts: &[Record]) -> Result<(), StorageError> {
        match &self.store {
            Some(store) => store.write(puts, &[]).await,
            None => Err(self
                .problem
                .clone()
                .unwrap_or(StorageError::Unavailable("no storage".into()))),
        }
    }

    /// Forgets a loaded document (tests use this to prove it reloads from storage).
    pub fn evict(&self, id: &DocumentId) {
        self.docs.borrow_mut().remove(id);
    }

    /// Closes the database connection.
    pub fn close(&self) {
        if let Some(store) = &self.store {
            store.close();
        }
    }
}
