//! The app's reactive state: the repo, the list's summaries and search texts, the settings, a
//! ticking clock, and what the person must be told (storage problems, unsaved changes).
//!
//! Components get it with [`use_app`]. It is a bundle of copyable handles, so any closure can
//! capture it; the repo itself is kept in local (non-`Send`) storage and used from `spawn_local`.

use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use outpost_core::family::follow;
use outpost_core::knowledge::{Article, ArticleDraft, ArticleEdit};
use outpost_core::summary::IncidentSummary;
use outpost_core::workspace::{Edit, Workspace};
use outpost_core::{
    Action, ActionKind, Attribution, Command, DeviceTime, IncidentDoc, IncidentView, NewIncident,
    Outcome, ReferenceNumber, Role, State, WorkspaceConfig,
};
use outpost_sync::gate::Refused;
use outpost_sync::DocumentId;

use crate::clock::{new_document_id, now};
use crate::repo::{Repo, RepoError, Saved, SyncRecord};
use crate::settings::Settings;
use crate::sync::{SyncDriver, SyncStatus};

/// The IndexedDB database the app uses (automerge-repo's default name).
pub const DATABASE: &str = crate::storage::DATABASE;

/// Everything components share.
#[derive(Clone, Copy)]
pub struct AppState {
    repo: StoredValue<Option<Rc<Repo>>, LocalStorage>,
    sync: StoredValue<Option<Rc<SyncDriver>>, LocalStorage>,
    /// Where sync stands.
    pub sync_status: RwSignal<SyncStatus>,
    /// Local changes the relay does not have yet, by document id.
    pub pending: RwSignal<HashMap<String, u32>>,
    /// The workspace's configuration and directory, from its document (the defaults until one
    /// is on this device).
    pub workspace: RwSignal<Workspace>,
    /// The repo is open and the list is loaded.
    pub ready: RwSignal<bool>,
    /// Every incident's list entry, by document id.
    pub summaries: RwSignal<HashMap<String, IncidentSummary>>,
    /// Search texts by document id, once loaded.
    pub search: RwSignal<HashMap<String, String>>,
    /// Whether search texts are loaded.
    pub search_ready: RwSignal<bool>,
    /// Document ids whose list entry could not be read.
    pub unlisted: RwSignal<Vec<String>>,
    /// The workspace's knowledge articles on this device, by document id.
    pub articles: RwSignal<HashMap<String, Article>>,
    /// This device's settings.
    pub settings: RwSignal<Settings>,
    /// Now, updated every 20 seconds (SLA clocks and "ago" times follow it).
    pub now: RwSignal<DeviceTime>,
    /// Why storage is not working, if it is not.
    pub storage_problem: RwSignal<Option<String>>,
    /// Documents with changes not yet saved on this device, with the reason.
    pub unsaved: RwSignal<Vec<(String, String)>>,
    /// A counter per document, bumped whenever it changes, so open pages re-read it.
    pub revisions: RwSignal<HashMap<String, u64>>,
    /// Changes of this device the relay refused, by document id, until the person discards
    /// them (the relay says so again at the next connection if they are kept).
    pub refusals: RwSignal<HashMap<String, Refused>>,
    /// Incidents the relay withdrew from this device, with what the person is told.
    pub withdrawn: RwSignal<Vec<String>>,
    /// List entries still to be derived again under the workspace's current rules (0 when none).
    pub relisting: RwSignal<usize>,
    /// Whether the task deriving them runs.
    relist_running: StoredValue<bool>,
    /// When the person last pressed a key or touched the screen (`Date.now()`, ms).
    last_input: StoredValue<f64>,
    /// When the app started (`Date.now()`, ms).
    started_at: f64,
}

/// How long the person must leave the keyboard and screen alone before the list index is
/// packed. Packing rewrites the whole index in one IndexedDB transaction, which blocks the page
/// for 130-300 ms with ten thousand incidents, so it waits for a pause rather than landing in the
/// middle of typing. The 20 s tick tries again.
const QUIET_BEFORE_PACKING_MS: f64 = 3_000.0;

/// How long after the app starts packing may run. The start shows the list, loads the search
/// texts and reconciles with the relay; a person opening the app briefly (as field staff do)
/// should meet none of packing's blocking, and start-up does not need it (the journal reads
/// quickly however long it is).
const SETTLE_BEFORE_PACKING_MS: f64 = 10_000.0;

/// List entries derived again per slice when the workspace's rules change: each loads its
/// document (a few milliseconds), so a slice stays well under a frame's budget of 100 ms.
const RELIST_BATCH: usize = 8;

/// The app state provided by [`crate::app::App`].
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}

impl AppState {
    /// The role the relay gives this device, once it has said (reactive). `None` until then:
    /// the app then offers everything, and the relay judges.
    pub fn role(&self) -> Option<Role> {
        self.settings.with(|s| Role::from_key(&s.role))
    }

    /// Whether this device may only read (reactive).
    pub fn read_only(&self) -> bool {
        self.role().is_some_and(|r| !r.can_change())
    }

    /// Why this device may not take `kind` on an incident in `state`, if it may not (reactive).
    pub fn action_refusal(&self, kind: ActionKind, state: State) -> Option<String> {
        self.role()?
            .may_take(kind, state)
            .err()
            .map(|r| r.to_string())
    }

    /// Creates the state and provides it as context.
    pub fn provide() -> AppState {
        let state = AppState {
            repo: StoredValue::new_local(None),
            sync: StoredValue::new_local(None),
            sync_status: RwSignal::new(SyncStatus::Starting),
            pending: RwSignal::new(HashMap::new()),
            workspace: RwSignal::new(Workspace::default()),
            ready: RwSignal::new(false),
            summaries: RwSignal::new(HashMap::new()),
            search: RwSignal::new(HashMap::new()),
            search_ready: RwSignal::new(false),
            relisting: RwSignal::new(0),
            relist_running: StoredValue::new(false),
            unlisted: RwSignal::new(Vec::new()),
            articles: RwSignal::new(HashMap::new()),
            settings: RwSignal::new(Settings::load()),
            now: RwSignal::new(now()),
            storage_problem: RwSignal::new(None),
            unsaved: RwSignal::new(Vec::new()),
            revisions: RwSignal::new(HashMap::new()),
            refusals: RwSignal::new(HashMap::new()),
            withdrawn: RwSignal::new(Vec::new()),
            last_input: StoredValue::new(0.0),
            started_at: js_sys::Date::now(),
        };
        provide_context(state);
        state
    }

    /// Opens storage, loads the list, then the search texts, and starts the clock.
    pub fn start(self) {
        let touched = move || self.last_input.set_value(js_sys::Date::now());
        // Never removed (dropping the handle leaves a listener in place): the app lives as long
        // as the page.
        let _ = window_event_listener(leptos::ev::keydown, move |_| touched());
        let _ = window_event_listener(leptos::ev::pointerdown, move |_| touched());
        spawn_local(async move {
            // A sign-out's database goes before any is opened; then this sign-in's own.
            crate::accounts::finish_sign_outs().await;
            let repo = Rc::new(Repo::open(&crate::accounts::database()).await);
            self.storage_problem
                .set(repo.storage_problem().map(ToString::to_string));
            match repo.load_index().await {
                Ok(index) => {
                    self.summaries.set(index.summaries);
                    self.pending.set(
                        index
                            .sync
                            .into_iter()
                            .map(|(id, r)| (id, r.pending))
                            .collect(),
                    );
                    self.unlisted.set(index.unreadable.into_iter().collect());
                }
                Err(e) => self.storage_problem.set(Some(e.to_string())),
            }
            self.repo.set_value(Some(repo.clone()));
            if let Some(id) = self.workspace_document() {
                if let Some(ws) = repo.workspace(&id).await {
                    self.workspace.set(ws);
                }
            }
            self.ready.set(true);
            self.sync
                .set_value(Some(SyncDriver::start(self, repo.clone())));
            self.load_articles();
            if let Ok(texts) = repo.load_search().await {
                // Texts saved while these loaded are newer: keep them.
                self.search.update(|s| {
                    for (id, text) in texts {
                        s.entry(id).or_insert(text);
                    }
                });
            }
            self.search_ready.set(true);
            self.relist_stale();
            self.compact_if_due();
        });
        // A catch-up writes a marker per incident pulled: pack them as soon as it ends, so the
        // next start reads one record rather than thousands.
        // The same for list entries left stale by new workspace rules that arrived mid-pull.
        Effect::new(move |_| {
            if self.sync_status.with(|s| *s == SyncStatus::UpToDate) {
                self.relist_stale();
                self.compact_if_due();
            }
        });
        let _ = set_interval_with_handle(
            move || {
                self.now.set(now());
                if !self.unsaved.with_untracked(Vec::is_empty) {
                    self.retry_unsaved();
                }
                self.compact_if_due();
            },
            std::time::Duration::from_secs(20),
        );
    }

    /// The repo, once open.
    pub fn repo(&self) -> Result<Rc<Repo>, RepoError> {
        self.repo.get_value().ok_or_else(|| {
            RepoError::Storage(crate::storage::StorageError::Failed(
                "Outpost is still starting; try again in a moment".into(),
            ))
        })
    }

    /// The workspace configuration (not tracked: read [`AppState::workspace`] to follow it).
    pub fn config(&self) -> WorkspaceConfig {
        self.workspace.with_untracked(|w| w.config.clone())
    }

    /// The id of the workspace document, once the relay has said it.
    pub fn workspace_document(&self) -> Option<DocumentId> {
        self.settings
            .with_untracked(|s| s.workspace_document.parse().ok())
    }

    /// Reads the workspace document again (it arrived or changed); every page following
    /// [`AppState::workspace`] recomputes with it.
    pub fn reload_workspace(self) {
        let (Some(id), Ok(repo)) = (self.workspace_document(), self.repo()) else {
            return;
        };
        spawn_local(async move {
            if let Some(ws) = repo.workspace(&id).await {
                if self.workspace.with_untracked(|w| *w != ws) {
                    self.workspace.set(ws);
                    self.relist_stale();
                }
            }
        });
    }

    /// Makes workspace edits (admins only; the relay refuses anyone else's) as one change.
    pub async fn edit_workspace(self, edits: Vec<Edit>) -> Result<bool, RepoError> {
        let id = self
            .workspace_document()
            .ok_or(RepoError::WorkspaceUnknown)?;
        let repo = self.repo()?;
        let changed = repo
            .edit_workspace(&id, &edits, &self.attribution(), now())
            .await?;
        if changed {
            if let Some(ws) = repo.workspace(&id).await {
                self.workspace.set(ws);
                self.relist_stale();
            }
            if let Some(sync) = self.sync() {
                sync.local_change(id);
            }
        }
        Ok(changed)
    }

    /// The person using the app and the groups they work in: the directory's, or their team
    /// before the directory lists them (reactive).
    pub fn me_and_groups(&self) -> (String, Vec<String>) {
        let (me, team) = self
            .settings
            .with(|s| (s.user_name.clone(), s.team.clone()));
        let mut groups = self.workspace.with(|w| w.directory.groups_of(&me));
        if groups.is_empty() && !team.trim().is_empty() {
            groups.push(team.trim().to_string());
        }
        (me, groups)
    }

    /// The person using the app, now.
    pub fn attribution(&self) -> Attribution {
        Attribution::new(self.settings.with_untracked(|s| s.user_name.clone()), now())
    }

    /// The sync driver, once started.
    pub fn sync(&self) -> Option<Rc<SyncDriver>> {
        self.sync.get_value()
    }

    /// Changes not yet on the relay, across all incidents.
    pub fn pending_total(&self) -> u32 {
        self.pending.with(|p| p.values().sum())
    }

    /// Records acknowledgements in the reactive state.
    pub fn record_synced(&self, records: Vec<(DocumentId, SyncRecord)>) {
        self.pending.update(|p| {
            for (id, r) in records {
                p.insert(id.to_string(), r.pending);
            }
        });
    }

    /// Records a save in the reactive state: the list entry, the search text, pending changes,
    /// and whether it is durable.
    pub fn record_saved(&self, saved: &Saved) {
        let id = saved.summary.document_id.clone();
        self.summaries.update(|s| {
            s.insert(id.clone(), saved.summary.clone());
        });
        self.search.update(|s| {
            s.insert(id.clone(), saved.search.text.clone());
        });
        self.pending.update(|p| {
            p.insert(id.clone(), saved.sync.pending);
        });
        self.unsaved.update(|u| {
            u.retain(|(d, _)| *d != id);
            if let Err(e) = &saved.durable {
                u.push((id.clone(), e.to_string()));
            }
        });
        self.bump(&id);
    }

    /// Records that a document was removed from this device because the relay withdrew it,
    /// with the `pending` local changes it never had.
    pub fn record_withdrawn(&self, id: &str, pending: u32) {
        let reference = self
            .summaries
            .with_untracked(|s| s.get(id).map(|s| s.reference.clone()))
            .unwrap_or_else(|| "An incident".to_string());
        self.summaries.update(|s| {
            s.remove(id);
        });
        self.search.update(|s| {
            s.remove(id);
        });
        self.pending.update(|p| {
            p.remove(id);
        });
        self.unsaved.update(|u| u.retain(|(d, _)| d != id));
        self.refusals.update(|r| {
            r.remove(id);
        });
        let lost = match pending {
            0 => String::new(),
            1 => " One change made on this device had not reached the relay and is gone.".into(),
            n => {
                format!(" {n} changes made on this device had not reached the relay and are gone.")
            }
        };
        self.withdrawn.update(|w| {
            w.push(format!(
                "{reference} is no longer shared with you (it was restricted to groups you are not in) and was removed from this device.{lost}"
            ))
        });
        self.bump(id);
    }

    /// Tells open pages that a document changed.
    pub fn bump(&self, id: &str) {
        self.revisions
            .update(|r| *r.entry(id.to_string()).or_insert(0) += 1);
    }

    /// The reference numbers already used on this device.
    fn references(&self) -> Vec<ReferenceNumber> {
        self.summaries.with_untracked(|s| {
            s.values()
                .filter_map(|s| s.reference.parse().ok())
                .collect()
        })
    }

    /// Logs a new incident; returns its document id once it is saved (or kept in memory with
    /// a warning if saving failed).
    pub async fn create(self, new: NewIncident) -> Result<DocumentId, RepoError> {
        let repo = self.repo()?;
        let mut settings = self.settings.get_untracked();
        let reference = settings.allocate_reference(&self.references());
        let id = new_document_id();
        let saved = repo
            .create(id, &reference, &new, &self.attribution(), &self.config())
            .await?;
        // The number is used whether or not the write committed: never hand it out twice.
        let _ = settings.save();
        self.settings.set(settings);
        self.record_saved(&saved);
        if let Some(sync) = self.sync() {
            sync.local_change(id);
        }
        Ok(id)
    }

    /// Reads every knowledge article stored here (documents without a list entry that are
    /// not the workspace's), after the list is on screen.
    pub fn load_articles(self) {
        let Ok(repo) = self.repo() else { return };
        spawn_local(async move {
            let workspace = self.workspace_document();
            let ids: Vec<DocumentId> = self.summaries.with_untracked(|listed| {
                repo.stored_ids()
                    .into_iter()
                    .filter(|id| Some(*id) != workspace && !listed.contains_key(&id.to_string()))
                    .collect()
            });
            self.refresh_articles(&ids).await;
        });
    }

    /// Reads these documents again where they are knowledge articles (synced or edited).
    pub async fn refresh_articles(self, ids: &[DocumentId]) {
        let Ok(repo) = self.repo() else { return };
        let mut found = Vec::new();
        for id in ids {
            if self
                .summaries
                .with_untracked(|s| s.contains_key(&id.to_string()))
            {
                continue;
            }
            if let Some(article) = repo.article(id).await {
                found.push((id.to_string(), article));
            }
        }
        if !found.is_empty() {
            self.articles.update(|a| a.extend(found));
        }
    }

    /// The role articles are written with: the sign-in's, or, before the relay has said,
    /// a manager's (the relay judges every change anyway).
    fn article_role(&self) -> Role {
        self.role().unwrap_or(Role::Manager)
    }

    /// Writes a new draft article, drawn from `source` if given; returns its document id.
    pub async fn write_article(
        self,
        draft: ArticleDraft,
        source: Option<outpost_core::incident::IncidentLink>,
    ) -> Result<DocumentId, String> {
        let repo = self.repo().map_err(|e| e.to_string())?;
        let prefix = self.settings.with_untracked(|s| s.prefix().to_string());
        let number = self.articles.with_untracked(|a| {
            outpost_core::knowledge::next_number(&prefix, a.values().map(|a| a.number.as_str()))
        });
        let doc = outpost_core::knowledge::create(
            &number,
            &draft,
            source.as_ref(),
            &self.attribution(),
            self.article_role(),
        )
        .map_err(|e| e.to_string())?;
        let id = new_document_id();
        repo.insert_article(id, doc, &self.config(), now())
            .await
            .map_err(|e| e.to_string())?;
        self.refresh_articles(&[id]).await;
        if let Some(sync) = self.sync() {
            sync.local_change(id);
        }
        Ok(id)
    }

    /// Makes an edit to an article; returns whether anything changed.
    pub async fn edit_article(self, id: DocumentId, edit: ArticleEdit) -> Result<bool, String> {
        let repo = self.repo().map_err(|e| e.to_string())?;
        let changed = repo
            .edit_article(
                &id,
                &edit,
                &self.attribution(),
                self.article_role(),
                &self.config(),
            )
            .await?;
        if changed {
            self.refresh_articles(&[id]).await;
            if let Some(sync) = self.sync() {
                sync.local_change(id);
            }
        }
        Ok(changed)
    }

    /// Imports checked rows ([`outpost_core::import::plan`]): each is numbered, logged and
    /// saved as a new incident, a batch at a time with the main thread given back between
    /// batches. Returns, per row's line, the new reference or why it was not saved.
    pub async fn import(
        self,
        candidates: Vec<outpost_core::import::Candidate>,
    ) -> Vec<(u64, Result<String, String>)> {
        const BATCH: usize = 100;
        let repo = match self.repo() {
            Ok(r) => r,
            Err(e) => {
                return candidates
                    .iter()
                    .map(|c| (c.line, Err(e.to_string())))
                    .collect()
            }
        };
        let (origin, cfg) = (self.attribution(), self.config());
        let mut out = Vec::with_capacity(candidates.len());
        for batch in candidates.chunks(BATCH) {
            let mut settings = self.settings.get_untracked();
            let existing = self.references();
            let mut docs = Vec::new();
            for c in batch {
                let reference = settings.allocate_reference(&existing);
                match outpost_core::import::build(c, &reference, &origin, &cfg) {
                    Ok(doc) => docs.push((c.line, doc)),
                    Err(e) => out.push((c.line, Err(e.join(" ")))),
                }
            }
            // The numbers are used whether or not the writes commit: never hand them out twice.
            let _ = settings.save();
            self.settings.set(settings);
            let lines: Vec<(DocumentId, u64)> = docs
                .iter()
                .map(|(line, _)| (new_document_id(), *line))
                .collect();
            let batch: Vec<(DocumentId, IncidentDoc)> = lines
                .iter()
                .zip(docs)
                .map(|((id, _), (_, doc))| (*id, doc))
                .collect();
            for ((id, line), (_, result)) in lines
                .iter()
                .zip(repo.insert_many(batch, &cfg, origin.at).await)
            {
                match result {
                    Ok(Some(saved)) => {
                        self.record_saved(&saved);
                        if let Some(sync) = self.sync() {
                            sync.local_change(*id);
                        }
                        out.push((*line, Ok(saved.summary.reference.clone())));
                    }
                    Ok(None) => out.push((*line, Err("it was not saved".into()))),
                    Err(e) => out.push((*line, Err(e.to_string()))),
                }
            }
            crate::tasks::next_task().await;
        }
        out
    }

    /// Loads a document and computes its view now.
    pub async fn view(self, id: DocumentId) -> Result<IncidentView, RepoError> {
        let repo = self.repo()?;
        repo.open_doc(&id).await?;
        repo.view(&id, &self.config(), now())
    }

    /// Runs a command on an incident and saves it. A lifecycle action on a parent carries to
    /// the children this device holds ([`outpost_core::family::follow`]).
    pub async fn run(self, id: DocumentId, cmd: Command) -> Result<Outcome, RepoError> {
        self.run_all(id, vec![cmd]).await
    }

    /// Moves the open children of `parent` with it, in one save. A child that cannot follow
    /// (unreadable here, or its own rules refuse) stays as it is; the parent's change stands.
    async fn carry_to_children(self, parent: &DocumentId, reference: &str, action: &Action) {
        let Ok(repo) = self.repo() else { return };
        let parent = parent.to_string();
        let children: Vec<DocumentId> = self.summaries.with_untracked(|s| {
            s.values()
                .filter(|c| c.parent.as_deref() == Some(parent.as_str()) && c.state.is_open())
                .filter_map(|c| c.document_id.parse().ok())
                .collect()
        });
        if children.is_empty() {
            return;
        }
        let (origin, cfg) = (self.attribution(), self.config());
        let mut moved = Vec::new();
        for child in children {
            if repo.open_doc(&child).await.is_err() {
                continue;
            }
            let done = repo.with_doc_mut(&child, |doc| {
                let state = doc.read().ok()?.state;
                let cmd = follow(action, reference, state)?;
                doc.execute(&cmd, &origin, &cfg).ok()
            });
            if let Ok(Some(Outcome::Changed { .. })) = done {
                moved.push(child);
            }
        }
        for (child, result) in repo.save_many(&moved, &cfg, origin.at).await {
            if let Ok(Some(saved)) = result {
                self.record_saved(&saved);
            }
            if let Some(sync) = self.sync() {
                sync.local_change(child);
            }
        }
    }

    /// Runs a form's commands as one change: all of them, or, at the first refusal, none.
    pub async fn run_all(self, id: DocumentId, cmds: Vec<Command>) -> Result<Outcome, RepoError> {
        let repo = self.repo()?;
        let (outcome, saved) = repo
            .execute(&id, &cmds, &self.attribution(), &self.config())
            .await?;
        if let Some(saved) = saved {
            let reference = saved.summary.reference.clone();
            self.record_saved(&saved);
            if let Some(sync) = self.sync() {
                sync.local_change(id);
            }
            for cmd in &cmds {
                if let Command::Transition(action) = cmd {
                    self.carry_to_children(&id, &reference, action).await;
                }
            }
        }
        Ok(outcome)
    }

    /// Rewrites the packed list index and search texts when enough changed, so the next start
    /// stays one read each. A failure is only logged: the per-incident records are intact and
    /// the next start reads them instead.
    fn compact_if_due(self) {
        // Not while catching up: the pull would wait for it, and its end compacts anyway. Not
        // while the person is typing or tapping either (see QUIET_BEFORE_PACKING_MS), nor just
        // after start (SETTLE_BEFORE_PACKING_MS).
        let catching_up = self
            .sync_status
            .with_untracked(|s| matches!(s, SyncStatus::CatchingUp(_)));
        let Ok(repo) = self.repo() else { return };
        let now = js_sys::Date::now();
        let typing = now - self.last_input.get_value() < QUIET_BEFORE_PACKING_MS;
        let starting = now - self.started_at < SETTLE_BEFORE_PACKING_MS;
        if catching_up || typing || starting || !repo.compaction_due() {
            return;
        }
        spawn_local(async move {
            if let Err(e) = repo.compact_index().await {
                web_sys::console::warn_1(
                    &format!("Outpost: could not pack the list index: {e}").into(),
                );
            }
        });
    }

    /// Derives again, in the background, the list entries that a change of the workspace's
    /// rules (matrix, SLA targets, calendar, communication plan) left stale, so the list shows
    /// every open incident's priority, due time and update-due time under the rules in force.
    /// Incidents most recently updated go first; a few are loaded at a time with the main
    /// thread given back between them. If the rules change again meanwhile, the rest are
    /// derived under the newer ones.
    ///
    /// Not while catching up: a new device pulling its first incidents may meet the workspace
    /// document midway, and the entries it saves from then on are derived under the new rules
    /// anyway; the end of the pull starts this for those saved before.
    fn relist_stale(self) {
        if self.relist_running.get_value() {
            return; // the running task picks up the newer rules at its next batch
        }
        let catching_up = self
            .sync_status
            .with_untracked(|s| matches!(s, SyncStatus::CatchingUp(_)));
        if catching_up {
            return;
        }
        let Ok(repo) = self.repo() else { return };
        self.relist_running.set_value(true);
        spawn_local(async move {
            // Entries that could not be derived (unreadable documents) are left for the next
            // start rather than tried again in a loop.
            let mut failed: std::collections::HashSet<String> = Default::default();
            loop {
                let cfg = self.config();
                let rules = cfg.list_rules();
                let mut stale: Vec<(DeviceTime, String)> = self.summaries.with_untracked(|s| {
                    s.values()
                        .filter(|e| e.stale_under(rules) && !failed.contains(&e.document_id))
                        .map(|e| (e.updated_at, e.document_id.clone()))
                        .collect()
                });
                self.relisting.set(stale.len());
                if stale.is_empty() {
                    break;
                }
                stale.sort_unstable_by(|a, b| b.cmp(a));
                let mut batch = Vec::new();
                for (_, id) in stale.into_iter().take(RELIST_BATCH) {
                    match id.parse::<DocumentId>() {
                        Ok(doc) if repo.open_doc(&doc).await.is_ok() => batch.push(doc),
                        _ => {
                            failed.insert(id);
                        }
                    }
                }
                for (id, result) in repo.relist(&batch, &cfg, now()).await {
                    match result {
                        Ok(Some(saved)) => self.record_saved(&saved),
                        _ => {
                            failed.insert(id.to_string());
                        }
                    }
                }
                crate::tasks::next_task().await;
            }
            self.relist_running.set_value(false);
        });
    }

    fn retry_unsaved(self) {
        spawn_local(async move {
            let Ok(repo) = self.repo() else { return };
            let still: Vec<String> = repo
                .retry_unsaved(&self.config(), now())
                .await
                .iter()
                .map(ToString::to_string)
                .collect();
            self.unsaved
                .update(|u| u.retain(|(id, _)| still.contains(id)));
        });
    }
}
