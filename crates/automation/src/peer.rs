//! The automation's sync peer for one workspace: a scoped sync client (it holds only the
//! incidents it opened or was asked about, and the workspace document) connected to the relay's
//! hub through a [`Link`], exactly as a device is, so every change it makes is judged, stored and
//! fanned out by the hub like anyone else's.
//!
//! It handles one delivery at a time: reads the workspace's rules, applies each alert's effect
//! ([`outpost_core::alert::effect`]) to the incident its identity stands for, and answers only
//! once the hub has acknowledged every change (committed it), or says why not.

use std::collections::HashMap;
use std::time::Duration;

use automerge::ChangeHash;
use outpost_core::alert::{effect, Alert, AlertEffect, Grouping};
use outpost_core::housekeeping;
use outpost_core::incident::IncidentLink;
use outpost_core::mail::{self, Mail};
use outpost_core::notify;
use outpost_core::reference::{DevicePrefix, ReferenceNumber};
use outpost_core::workspace::{read_document, Workspace};
use outpost_core::{
    Attribution, Command, DeviceTime, IncidentDoc, NewIncident, State, WorkspaceConfig,
};
use outpost_sync::client::{Client, Event, MemoryDocs, Phase};
use outpost_sync::hub::Grant;
use outpost_sync::wire;
use outpost_sync::DocumentId;
use tokio::sync::mpsc;

use crate::answer;
use crate::outbox::{Channel, Queued};
use crate::payload::Received;
use crate::store::{lock, Integration, Store, Tracked};

/// How long the hub may take to answer before a delivery fails (the sender retries).
pub const HUB_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a workspace without a workspace document (nobody configured it) is taken to have
/// none before the hub is asked again.
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(30);

/// A connection to the hub: frames to it, and frames from it (closed when the hub drops the
/// connection).
pub struct Link {
    /// Frames to the hub.
    pub to_hub: mpsc::UnboundedSender<Vec<u8>>,
    /// Frames from the hub.
    pub from_hub: mpsc::Receiver<Vec<u8>>,
}

/// What the automation needs from the relay it runs in.
pub trait Relay: Send + Sync + 'static {
    /// Connects to the hub as `grant`.
    fn connect(&self, grant: Grant) -> Link;
    /// The workspace document's id.
    fn workspace_document(&self, workspace: &str) -> Result<DocumentId, String>;
    /// A reference prefix for `device` in `workspace`, unique there.
    fn claim_prefix(&self, workspace: &str, device: &str) -> Result<String, String>;
    /// The workspaces the relay holds documents for.
    fn workspaces(&self) -> Result<Vec<String>, String>;
    /// The documents the relay holds for a workspace.
    fn documents(&self, workspace: &str) -> Result<Vec<DocumentId>, String>;
    /// Where people reach the relay's app (`https://outpost.example.org/`), for links in
    /// notifications.
    fn public_url(&self) -> url::Url;
}

/// Where an incident opens in the app served at `base`.
pub fn incident_link(base: &url::Url, id: &DocumentId) -> String {
    base.join(&format!("incidents/{id}"))
        .map(String::from)
        .unwrap_or_else(|_| base.to_string())
}

/// What a peer is for, which sets the role the judge holds it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Alerts in: an agent's rights, as the roles issue says of integrations.
    Alerts,
    /// The workspace's timed rules: closing Resolved incidents needs a manager's rights, as a
    /// service desk's scheduled job runs as a system user.
    Housekeeping,
    /// A caller's answer to a resolution mail, which closes or reopens: a manager's rights too
    /// (the signed link is the caller's authority; the rules still decide what the answer may do).
    Answers,
}

impl Purpose {
    fn role(self) -> &'static str {
        match self {
            Purpose::Alerts => "agent",
            Purpose::Housekeeping | Purpose::Answers => "manager",
        }
    }

    fn device(self) -> &'static str {
        match self {
            Purpose::Alerts => "automation-alerts",
            Purpose::Housekeeping => "automation-housekeeping",
            Purpose::Answers => "automation-answers",
        }
    }
}

/// What became of one alert of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AlertOutcome {
    /// The alert's identity.
    pub identity: String,
    /// `opened`, `updated` or `unchanged`.
    pub result: &'static str,
    /// The incident's reference number, when there is one.
    pub incident: Option<String>,
}

/// Why a delivery failed: the sender should retry later (503), or never (the message says).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The hub or storage could not take it now.
    #[error("{0}")]
    Unavailable(String),
    /// The relay's rules refused the change.
    #[error("the relay's rules refused the change: {0}")]
    Refused(String),
}

/// The automation's peer in one workspace.
pub struct WorkspacePeer {
    workspace: String,
    purpose: Purpose,
    relay: std::sync::Arc<dyn Relay>,
    client: Client,
    docs: MemoryDocs,
    link: Option<Link>,
    workspace_doc: Option<DocumentId>,
    acknowledged: HashMap<DocumentId, Vec<ChangeHash>>,
    refused: HashMap<DocumentId, String>,
    unavailable: Vec<DocumentId>,
    /// Documents changed by staged deliveries, not yet acknowledged by the hub.
    pending: Vec<DocumentId>,
    /// The workspace (rules and directory) as last read, at its document's heads then.
    workspace_cache: Option<(Vec<ChangeHash>, Workspace)>,
    /// Since when the hub has said the workspace has no workspace document.
    workspace_missing: Option<std::time::Instant>,
    /// Repeats staged per incident, written at the flush.
    repeats: HashMap<DocumentId, Repeats>,
}

impl WorkspacePeer {
    /// A peer for `workspace`, not yet connected.
    pub fn new(
        workspace: &str,
        purpose: Purpose,
        relay: std::sync::Arc<dyn Relay>,
    ) -> WorkspacePeer {
        let name = format!("outpost-{}-{workspace}", purpose.device());
        WorkspacePeer {
            workspace: workspace.to_string(),
            purpose,
            relay,
            client: Client::scoped(name.clone(), Some(format!("{name}-storage"))),
            docs: MemoryDocs::default(),
            link: None,
            workspace_doc: None,
            acknowledged: HashMap::new(),
            refused: HashMap::new(),
            unavailable: Vec::new(),
            pending: Vec::new(),
            workspace_cache: None,
            workspace_missing: None,
            repeats: HashMap::new(),
        }
    }

    fn send(&mut self, events: Vec<Event>) {
        let mut queue = std::collections::VecDeque::from(events);
        while let Some(event) = queue.pop_front() {
            match event {
                Event::Send(message) => {
                    let sent = self
                        .link
                        .as_ref()
                        .is_some_and(|l| l.to_hub.send(wire::encode(&message)).is_ok());
                    if !sent {
                        self.drop_link();
                    }
                }
                Event::Load(ids) => queue.extend(self.client.sync_documents(&ids, &mut self.docs)),
                Event::Acknowledged(id, heads) => {
                    self.acknowledged.insert(id, heads);
                }
                Event::ChangesRefused(id, r) => {
                    self.refused.insert(id, r.reason);
                }
                Event::Unavailable(id) => self.unavailable.push(id),
                Event::Refused(why) => {
                    tracing::warn!(workspace = %self.workspace, "the hub refused the automation peer: {why}");
                    self.drop_link();
                }
                Event::Changed(_) | Event::CaughtUp => {}
            }
        }
    }

    fn drop_link(&mut self) {
        self.link = None;
        self.client.disconnected();
    }

    /// Handles frames from the hub until `done` holds, or fails after [`HUB_TIMEOUT`].
    async fn pump(
        &mut self,
        what: &str,
        done: impl Fn(&WorkspacePeer) -> bool,
    ) -> Result<(), Failure> {
        let deadline = tokio::time::Instant::now() + HUB_TIMEOUT;
        while !done(self) {
            let Some(link) = self.link.as_mut() else {
                return Err(Failure::Unavailable(
                    "the sync hub closed the automation's connection".into(),
                ));
            };
            match tokio::time::timeout_at(deadline, link.from_hub.recv()).await {
                Err(_) => {
                    return Err(Failure::Unavailable(format!(
                        "the sync hub did not answer within {} s ({what})",
                        HUB_TIMEOUT.as_secs()
                    )))
                }
                Ok(None) => self.drop_link(),
                Ok(Some(bytes)) => {
                    let events = self.client.receive(&bytes, &mut self.docs);
                    self.send(events);
                }
            }
        }
        Ok(())
    }

    async fn connected(&mut self) -> Result<(), Failure> {
        if self.link.is_some() && self.client.phase() != Phase::Offline {
            return Ok(());
        }
        let grant = Grant {
            user: "Outpost automation".into(),
            workspace: self.workspace.clone(),
            role: self.purpose.role().into(),
            device: self.purpose.device().into(),
            groups: Vec::new(),
        };
        self.link = Some(self.relay.connect(grant));
        let events = self.client.connected();
        self.send(events);
        self.pump("joining", |p| {
            matches!(p.client.phase(), Phase::Live | Phase::CatchingUp)
        })
        .await?;
        // Documents held from before a reconnect sync again.
        let held: Vec<DocumentId> = self.docs.docs.keys().copied().collect();
        let events = self.client.sync_documents(&held, &mut self.docs);
        self.send(events);
        Ok(())
    }

    /// Fetches a document from the hub unless held; whether the hub has it.
    async fn fetch(&mut self, id: DocumentId) -> Result<bool, Failure> {
        if self
            .docs
            .docs
            .get(&id)
            .is_some_and(|d| !d.get_heads().is_empty())
        {
            return Ok(true);
        }
        self.unavailable.retain(|u| *u != id);
        // Afresh: a copy dropped earlier in this connection left a sync state saying we had it.
        self.docs.docs.remove(&id);
        let events = self.client.resync(id, &mut self.docs);
        self.send(events);
        self.pump("a document", |p| {
            p.unavailable.contains(&id)
                || p.docs
                    .docs
                    .get(&id)
                    .is_some_and(|d| !d.get_heads().is_empty())
        })
        .await?;
        Ok(!self.unavailable.contains(&id))
    }

    /// The workspace's rules, as its document now says.
    async fn config(&mut self) -> Result<WorkspaceConfig, Failure> {
        Ok(self.workspace().await?.config)
    }

    /// The workspace (rules and directory), as its document now says.
    async fn workspace(&mut self) -> Result<Workspace, Failure> {
        let id = match self.workspace_doc {
            Some(id) => id,
            None => {
                let id = self
                    .relay
                    .workspace_document(&self.workspace)
                    .map_err(Failure::Unavailable)?;
                self.workspace_doc = Some(id);
                id
            }
        };
        // A workspace nobody configured has no document yet: the defaults apply. Asked again
        // only after a while, not on every delivery.
        if !self.docs.docs.contains_key(&id)
            && self
                .workspace_missing
                .is_some_and(|at| at.elapsed() < ASK_AGAIN_AFTER)
        {
            return Ok(Workspace::default());
        }
        if !self.fetch(id).await? {
            self.docs.docs.remove(&id);
            self.workspace_missing = Some(std::time::Instant::now());
            return Ok(Workspace::default());
        }
        self.workspace_missing = None;
        let Some(doc) = self.docs.docs.get(&id) else {
            return Ok(Workspace::default());
        };
        // Read again only when the workspace document changed.
        let heads = doc.get_heads();
        if let Some((at, ws)) = &self.workspace_cache {
            if *at == heads {
                return Ok(ws.clone());
            }
        }
        let ws = read_document(doc);
        self.workspace_cache = Some((heads, ws.clone()));
        Ok(ws)
    }

    /// Applies one delivery, leaving its changes for [`WorkspacePeer::flush`].
    pub async fn stage(
        &mut self,
        store: &std::sync::Mutex<Store>,
        integration: &Integration,
        received: &Received,
        now: DeviceTime,
    ) -> Result<Vec<AlertOutcome>, Failure> {
        self.connected().await?;
        let cfg = self.config().await?;
        let mut work = Delivery {
            store,
            integration,
            cfg,
            origin: Attribution::new(integration.author(), now),
            now,
            outcomes: Vec::new(),
            written: Vec::new(),
        };
        if let Some(mail) = &received.mail {
            self.mail(&mut work, mail).await?;
        }
        match (&received.group, work.cfg.alerts.grouping) {
            // One incident for the whole group.
            (Some(group), Grouping::One) => {
                let one = group.as_alert(&received.alerts);
                self.apply(&mut work, &one, None).await?;
            }
            // A parent for a group of several (or one that has a parent already), each alert
            // its child.
            (Some(group), Grouping::Children) => {
                let parent_alert = group.as_alert(&received.alerts);
                let has_parent = lock(store)
                    .tracked(&integration.id, &parent_alert.identity)
                    .map_err(storage)?
                    .is_some();
                let parent = if received.alerts.len() > 1 || has_parent {
                    self.apply(&mut work, &parent_alert, None).await?
                } else {
                    None
                };
                let link = parent.map(|(id, reference)| IncidentLink {
                    document_id: id.to_string(),
                    reference,
                });
                for alert in &received.alerts {
                    self.apply(&mut work, alert, link.as_ref()).await?;
                }
            }
            (None, _) => {
                for alert in &received.alerts {
                    self.apply(&mut work, alert, None).await?;
                }
            }
        }
        let Delivery {
            outcomes, written, ..
        } = work;
        for id in written {
            if !self.pending.contains(&id) {
                self.pending.push(id);
            }
        }
        Ok(outcomes)
    }

    /// Writes the timeline entry of the repeats staged for `id`, if any.
    fn write_repeats(&mut self, id: DocumentId, cfg: &WorkspaceConfig) {
        let Some(r) = self.repeats.remove(&id) else {
            return;
        };
        let Some(am) = self.docs.docs.get_mut(&id) else {
            return;
        };
        let mut doc = IncidentDoc::holding(std::mem::take(am));
        let note = outpost_core::alert::occurrences(r.first, r.last, r.seen.at);
        if let Err(e) = doc.execute(&note, &r.seen, cfg) {
            tracing::info!("an occurrence could not be recorded: {e}");
        }
        self.docs.docs.insert(id, doc.into_automerge());
    }

    /// Writes the batch's repeats (one timeline entry per incident), sends every staged
    /// change and waits until the hub has acknowledged them all.
    pub async fn flush(&mut self) -> Result<(), Failure> {
        let cfg = self
            .workspace_cache
            .as_ref()
            .map(|(_, w)| w.config.clone())
            .unwrap_or_default();
        let staged: Vec<DocumentId> = self.repeats.keys().copied().collect();
        for id in staged {
            self.write_repeats(id, &cfg);
        }
        let pending = std::mem::take(&mut self.pending);
        self.commit(&pending).await
    }

    /// A mail: a comment on the incident it is about (by reference number or thread), or a
    /// new incident. A mail about an incident already Closed or Canceled opens a new one that
    /// says which it follows up.
    async fn mail(&mut self, work: &mut Delivery<'_>, m: &Mail) -> Result<(), Failure> {
        let known = {
            let store = lock(work.store);
            let by_reference = match mail::reference_in(m) {
                Some(r) => store
                    .document_of(&self.workspace, &r.to_string())
                    .map_err(storage)?,
                None => None,
            };
            match by_reference {
                Some(d) => Some(d),
                None => store.thread_document(&m.thread).map_err(storage)?,
            }
        };
        let mut follows = None;
        if let Some(url) = known {
            let id = DocumentId::from_url(&url).map_err(|e| Failure::Unavailable(e.to_string()))?;
            if self.fetch(id).await? {
                let am = self.docs.docs.get_mut(&id).expect("fetched above");
                let mut doc = IncidentDoc::holding(std::mem::take(am));
                let read = doc.read().ok();
                let result = match &read {
                    Some(i) if !i.state.is_read_only() => doc
                        .execute(&mail::reply(m), &work.origin, &work.cfg)
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    _ => Err("read-only".to_string()),
                };
                self.docs.docs.insert(id, doc.into_automerge());
                match (result, read) {
                    (Ok(()), Some(i)) => {
                        work.written.push(id);
                        self.remember_mail(work, m, &id)?;
                        work.outcomes.push(AlertOutcome {
                            identity: m.message_id.clone(),
                            result: "commented",
                            incident: Some(i.reference.to_string()),
                        });
                        return Ok(());
                    }
                    (_, Some(i)) => follows = Some(i.reference.to_string()),
                    (_, None) => {}
                }
            }
        }
        let mut new = mail::new_incident(m, &work.cfg.mail, &work.cfg);
        new.detected_at = not_after(new.detected_at, work.now);
        if let Some(reference) = &follows {
            new.description = format!(
                "Follow-up to {reference}, which is closed.\n\n{}",
                new.description
            );
        }
        let (id, reference) = self.open_incident(work, &new, None, "mail")?;
        self.remember_mail(work, m, &id)?;
        work.outcomes.push(AlertOutcome {
            identity: m.message_id.clone(),
            result: "opened",
            incident: Some(reference.to_string()),
        });
        Ok(())
    }

    /// Logs a new incident (under `parent`, if given) with the integration's next reference
    /// number, and indexes that number; `what` made it ("alert", "mail"), for a refusal.
    fn open_incident(
        &mut self,
        work: &mut Delivery<'_>,
        new: &NewIncident,
        parent: Option<&IncidentLink>,
        what: &str,
    ) -> Result<(DocumentId, ReferenceNumber), Failure> {
        let prefix = self.prefix(work.store, work.integration)?;
        let sequence = lock(work.store)
            .next_sequence(&work.integration.id, prefix.as_str())
            .map_err(storage)?;
        let reference = ReferenceNumber::new(prefix, sequence);
        let mut doc =
            IncidentDoc::create(&reference, new, &work.origin, &work.cfg).map_err(|e| {
                Failure::Refused(format!("the {what} does not make a valid incident: {e}"))
            })?;
        if let Some(link) = parent {
            doc.execute(
                &Command::SetParent(Some(link.clone())),
                &work.origin,
                &work.cfg,
            )
            .map_err(|e| Failure::Refused(e.to_string()))?;
        }
        let id = new_document_id();
        self.docs.docs.insert(id, doc.into_automerge());
        work.written.push(id);
        lock(work.store)
            .index_reference(&self.workspace, &reference.to_string(), &id.url())
            .map_err(storage)?;
        Ok((id, reference))
    }

    fn remember_mail(&self, work: &Delivery<'_>, m: &Mail, id: &DocumentId) -> Result<(), Failure> {
        if m.message_id.trim().is_empty() {
            return Ok(());
        }
        lock(work.store)
            .thread(&m.message_id, &id.url())
            .map_err(storage)
    }

    /// Applies one alert's effect to the incident its identity stands for (a new one under
    /// `parent`, if given); returns that incident's id and reference, if it has one.
    async fn apply(
        &mut self,
        work: &mut Delivery<'_>,
        alert: &Alert,
        parent: Option<&IncidentLink>,
    ) -> Result<Option<(DocumentId, String)>, Failure> {
        let tracked = lock(work.store)
            .tracked(&work.integration.id, &alert.identity)
            .map_err(storage)?;
        let mut open = None;
        if let Some(t) = &tracked {
            let id = DocumentId::from_url(&t.document)
                .map_err(|e| Failure::Unavailable(e.to_string()))?;
            if self.fetch(id).await? {
                let am = self.docs.docs.get_mut(&id).expect("fetched above");
                let doc = IncidentDoc::holding(std::mem::take(am));
                open = doc
                    .state()
                    .ok()
                    .map(|state| (id, state, t.reference.clone()));
                self.docs.docs.insert(id, doc.into_automerge());
            }
        }
        let fired = tracked.as_ref().map_or(0, |t| t.fired);
        let state = open.as_ref().map(|o| o.1);
        match effect(alert, state, fired, work.now, &work.cfg.alerts, &work.cfg) {
            AlertEffect::Open(mut new) => {
                new.detected_at = not_after(new.detected_at, work.now);
                let (id, reference) = self.open_incident(work, &new, parent, "alert")?;
                track(work, alert, id, 1, &reference.to_string())?;
                work.outcomes
                    .push(outcome(alert, "opened", Some(reference.to_string())));
                Ok(Some((id, reference.to_string())))
            }
            AlertEffect::Repeat { occurrence } => {
                let Some((id, _, reference)) = open else {
                    return Ok(None);
                };
                // Written at the flush, one entry for every repeat the batch holds.
                let staged = self.repeats.entry(id).or_insert(Repeats {
                    first: occurrence,
                    last: occurrence,
                    seen: Attribution::new(work.origin.by.clone(), work.now),
                });
                staged.last = occurrence;
                staged.seen = Attribution::new(work.origin.by.clone(), work.now);
                track(work, alert, id, occurrence, &reference)?;
                if !self.pending.contains(&id) {
                    self.pending.push(id);
                }
                work.outcomes
                    .push(outcome(alert, "updated", Some(reference.clone())));
                Ok(Some((id, reference)))
            }
            AlertEffect::Change(commands) => {
                let Some((id, _, reference)) = open else {
                    return Ok(None);
                };
                // Repeats staged before this, in the timeline before it.
                self.write_repeats(id, &work.cfg);
                let mut doc = IncidentDoc::holding(std::mem::take(
                    self.docs.docs.get_mut(&id).expect("fetched above"),
                ));
                let mut changed = false;
                for command in &commands {
                    // A refusal (a workspace whose catalog lacks "Resolved by monitoring", say)
                    // leaves the notes before it in place; the rest still apply.
                    match doc.execute(command, &work.origin, &work.cfg) {
                        Ok(o) => changed |= matches!(o, outpost_core::Outcome::Changed { .. }),
                        Err(e) => tracing::info!(%reference, "automation command refused: {e}"),
                    }
                }
                self.docs.docs.insert(id, doc.into_automerge());
                if changed && !work.written.contains(&id) {
                    work.written.push(id);
                }
                work.outcomes.push(outcome(
                    alert,
                    if changed { "updated" } else { "unchanged" },
                    Some(reference.clone()),
                ));
                Ok(Some((id, reference)))
            }
            AlertEffect::Nothing => {
                work.outcomes.push(outcome(
                    alert,
                    "unchanged",
                    open.as_ref().map(|o| o.2.clone()),
                ));
                Ok(open
                    .filter(|o| outpost_core::alert::still_open(o.1))
                    .map(|o| (o.0, o.2)))
            }
        }
    }

    /// Runs the workspace's timed rules ([`outpost_core::housekeeping`]) over its documents,
    /// `BATCH` at a time, each batch on a fresh connection so the peer holds no more than a
    /// batch in memory. Returns how many rules acted.
    pub async fn sweep(
        &mut self,
        store: &std::sync::Mutex<Store>,
        now: DeviceTime,
    ) -> Result<usize, Failure> {
        const BATCH: usize = 100;
        let settled = lock(store).settled().map_err(storage)?;
        let workspace_doc = self
            .relay
            .workspace_document(&self.workspace)
            .map_err(Failure::Unavailable)?;
        let ids: Vec<DocumentId> = self
            .relay
            .documents(&self.workspace)
            .map_err(Failure::Unavailable)?
            .into_iter()
            .filter(|id| *id != workspace_doc && !settled.contains(&id.url()))
            .collect();
        let origin = Attribution::new("Outpost automation", now);
        let since = lock(store)
            .notifications_since(now.unix_seconds())
            .map_err(storage)?;
        let mut acted = 0;
        for batch in ids.chunks(BATCH) {
            self.connected().await?;
            let ws = self.workspace().await?;
            let cfg = ws.config.clone();
            let mut written = Vec::new();
            let mut done_rules = Vec::new();
            for id in batch {
                if !self.fetch(*id).await? {
                    continue;
                }
                let Some(am) = self.docs.docs.get_mut(id) else {
                    continue;
                };
                let mut doc = IncidentDoc::holding(std::mem::take(am));
                let url = id.url();
                if let Ok(view) = doc.view(&cfg, now) {
                    lock(store)
                        .index_reference(
                            &self.workspace,
                            &view.incident.reference.to_string(),
                            &url,
                        )
                        .map_err(storage)?;
                    if matches!(view.incident.state, State::Closed | State::Canceled) {
                        lock(store).settle(&url).map_err(storage)?;
                    }
                    if view.incident.reported_at.unix_seconds() >= since {
                        self.queue_notices(store, &view, &ws, id, now)?;
                    }
                    let done = lock(store).rules_done(&url).map_err(storage)?;
                    for rule in housekeeping::due(&view, &cfg, now, &done) {
                        let before = doc.automerge().get_heads();
                        let ok = rule
                            .commands
                            .iter()
                            .all(|c| doc.execute(c, &origin, &cfg).is_ok());
                        if ok {
                            written.push(*id);
                            done_rules.push((url.clone(), rule.rule));
                        } else {
                            // All of a rule or none of it: a refused step takes back the
                            // notes before it.
                            if let Ok(kept) = doc.automerge().fork_at(&before) {
                                doc = IncidentDoc::holding(kept);
                            }
                            tracing::info!(document = %url, rule = %rule.rule, "a timed rule could not act");
                        }
                    }
                } else if outpost_core::knowledge::claims(doc.automerge(), None) {
                    // A knowledge article: no timed rules, no notices; never fetched again.
                    lock(store).settle(&url).map_err(storage)?;
                }
                self.docs.docs.insert(*id, doc.into_automerge());
            }
            written.dedup();
            self.commit(&written).await?;
            for (url, rule) in done_rules {
                lock(store)
                    .rule_done(&url, &rule, now.unix_seconds())
                    .map_err(storage)?;
                acted += 1;
            }
            // A fresh connection for the next batch, holding nothing.
            self.drop_link();
            self.docs.docs.clear();
            self.workspace_doc = None;
        }
        Ok(acted)
    }

    /// Queues the notices an incident owes ([`outpost_core::notify::owed`]): a mail to each
    /// recipient and a message to each of the workspace's chat webhooks. Those queued before are
    /// not queued again.
    fn queue_notices(
        &self,
        store: &std::sync::Mutex<Store>,
        view: &outpost_core::IncidentView,
        ws: &Workspace,
        id: &DocumentId,
        now: DeviceTime,
    ) -> Result<(), Failure> {
        let base = self.relay.public_url();
        let link = incident_link(&base, id);
        let owed = notify::owed(view, &ws.config, &ws.directory, now, &link);
        if owed.is_empty() {
            return Ok(());
        }
        let store = lock(store);
        let hooks = store.hooks(&self.workspace).map_err(storage)?;
        let document = id.url();
        for n in owed {
            let queued = |channel, name: &str, address: &str, body: String| Queued {
                workspace: self.workspace.clone(),
                document: document.clone(),
                key: n.key.clone(),
                channel,
                name: name.to_string(),
                address: address.to_string(),
                subject: n.subject.clone(),
                body,
            };
            for r in &n.to {
                let mut body = n.body.clone();
                if n.occasion == notify::Occasion::Resolved
                    && r.audience == notify::Audience::Caller
                {
                    let secret = store.secret(answer::SECRET).map_err(storage)?;
                    let links = answer::links(&base, &secret, |a| answer::Claim {
                        workspace: self.workspace.clone(),
                        document: document.clone(),
                        reference: view.incident.reference.to_string(),
                        key: n.key.clone(),
                        answer: a.key().to_string(),
                        expires: now.unix_seconds() + answer::VALID_FOR_SECONDS,
                    });
                    body = format!("{links}\n\n{body}");
                }
                store
                    .enqueue(
                        &queued(Channel::Email, &r.name, &r.email, body),
                        now.unix_seconds(),
                    )
                    .map_err(storage)?;
            }
            for h in &hooks {
                store
                    .enqueue(
                        &queued(Channel::Hook(h.id.clone()), "", "", n.body.clone()),
                        now.unix_seconds(),
                    )
                    .map_err(storage)?;
            }
        }
        Ok(())
    }

    /// Applies a caller's answer to the resolution `key` of incident `id`: a comment and Close,
    /// or Reopen, authored as the caller. Returns the incident's reference number.
    pub async fn answer(
        &mut self,
        id: DocumentId,
        key: &str,
        answer: notify::CallerAnswer,
        now: DeviceTime,
    ) -> Result<String, Failure> {
        self.connected().await?;
        let cfg = self.config().await?;
        if !self.fetch(id).await? {
            return Err(Failure::Refused(
                "the relay does not hold this incident".into(),
            ));
        }
        let held = self
            .docs
            .docs
            .get(&id)
            .cloned()
            .ok_or_else(|| Failure::Unavailable("the incident could not be loaded".into()))?;
        let mut doc = IncidentDoc::holding(held);
        let view = doc
            .view(&cfg, now)
            .map_err(|e| Failure::Refused(format!("the incident cannot be read: {e}")))?;
        let commands = notify::caller_answer(&view, key, answer)
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let origin = Attribution::new(&view.incident.caller, now);
        for c in &commands {
            doc.execute(c, &origin, &cfg)
                .map_err(|e| Failure::Refused(e.to_string()))?;
        }
        self.docs.docs.insert(id, doc.into_automerge());
        self.commit(&[id]).await?;
        Ok(view.incident.reference.to_string())
    }

    fn prefix(
        &self,
        store: &std::sync::Mutex<Store>,
        integration: &Integration,
    ) -> Result<DevicePrefix, Failure> {
        let known = lock(store)
            .prefix(&integration.id)
            .map_err(|e| Failure::Unavailable(e.to_string()))?;
        let text = match known {
            Some(p) => p,
            None => self
                .relay
                .claim_prefix(&self.workspace, &format!("integration:{}", integration.id))
                .map_err(Failure::Unavailable)?,
        };
        DevicePrefix::new(&text).map_err(|e| Failure::Unavailable(e.to_string()))
    }

    /// Sends the written documents and waits until the hub has acknowledged each one's heads.
    async fn commit(&mut self, written: &[DocumentId]) -> Result<(), Failure> {
        if written.is_empty() {
            return Ok(());
        }
        let mut wanted = Vec::new();
        for id in written {
            self.acknowledged.remove(id);
            self.refused.remove(id);
            let events = self.client.local_change(id, &mut self.docs);
            self.send(events);
            wanted.push((*id, self.docs.docs[id].get_heads()));
        }
        let all_in = |p: &WorkspacePeer| {
            wanted.iter().all(|(id, heads)| {
                p.refused.contains_key(id)
                    || p.acknowledged
                        .get(id)
                        .is_some_and(|acked| heads.iter().all(|h| acked.contains(h)))
            })
        };
        self.pump("the acknowledgement of a change", all_in).await?;
        if let Some((id, why)) = wanted
            .iter()
            .find_map(|(id, _)| self.refused.get(id).map(|w| (id, w.clone())))
        {
            // What the hub refused must not linger here to be offered again.
            self.docs.docs.remove(id);
            return Err(Failure::Refused(why));
        }
        Ok(())
    }
}

fn outcome(
    alert: &outpost_core::alert::Alert,
    result: &'static str,
    incident: Option<String>,
) -> AlertOutcome {
    AlertOutcome {
        identity: alert.identity.clone(),
        result,
        incident,
    }
}

/// The repeats of one incident's alert that a batch holds: the first and last occurrence, and
/// by whom and when it was last seen.
struct Repeats {
    first: u64,
    last: u64,
    seen: Attribution,
}

/// One delivery in progress: what it needs and what it has done.
struct Delivery<'a> {
    store: &'a std::sync::Mutex<Store>,
    integration: &'a Integration,
    cfg: WorkspaceConfig,
    origin: Attribution,
    now: DeviceTime,
    outcomes: Vec<AlertOutcome>,
    written: Vec<DocumentId>,
}

/// A sender's time, but never later than now: a sender whose clock runs ahead (or a mail dated
/// by one) must not make an incident detected in the future, which the rules refuse.
fn not_after(at: Option<DeviceTime>, now: DeviceTime) -> Option<DeviceTime> {
    at.map(|t| t.min(now))
}

/// Records the incident an alert's identity stands for and how often it has fired.
fn track(
    work: &Delivery<'_>,
    alert: &Alert,
    id: DocumentId,
    fired: u64,
    reference: &str,
) -> Result<(), Failure> {
    let tracked = Tracked {
        document: id.url(),
        fired,
        reference: reference.to_string(),
    };
    lock(work.store)
        .track(&work.integration.id, &alert.identity, &tracked)
        .map_err(storage)
}

fn storage(e: crate::store::StoreError) -> Failure {
    Failure::Unavailable(e.to_string())
}

fn new_document_id() -> DocumentId {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    DocumentId::from_random(bytes)
}
