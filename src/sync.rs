//! The browser's sync client: one WebSocket to the relay, reconnecting with backoff and jitter,
//! catching up through catalog reconciliation, then exchanging changes as they happen.
//!
//! The protocol logic is `outpost_sync::client::Client`; this module is its IO. Incoming frames
//! are processed one at a time on a single task, which loads a document from IndexedDB before
//! handing the client a message about it. Remote changes and acknowledgements are written in
//! batches (one IndexedDB transaction per flush), so a new device pulling a thousand incidents does
//! not pay a thousand transactions. Nothing here blocks input: every step is a short task.
//!
//! The status line ([`SyncStatus`]) always says where things are: offline (and why), connecting,
//! catching up, up to date, or refused (a bad token; retrying is pointless until it changes).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Duration;

use futures::channel::mpsc;
use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use outpost_core::automerge::ChangeHash;
use outpost_sync::client::{Client, Event, Phase};
use outpost_sync::wire;
use outpost_sync::DocumentId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::clock::{now, random_bytes};
use crate::relay_api::{fetch_json, http_base, request_json};
use crate::repo::Repo;
use crate::settings::Settings;
use crate::state::AppState;

/// Documents written per transaction when the relay's changes are flushed. Preparing them is
/// sliced (`Repo::save_many`), but writing is one task per transaction, about 0.8 ms a
/// document: a pull's backlog of 2,000 (one that waited for the list index to be packed) was a
/// 1.6 s task in one transaction. Smaller batches cost a commit each: 16 made a pull of 10,000
/// about a quarter slower.
const SAVE_BATCH: usize = 64;

/// Where sync stands, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// Not started yet.
    Starting,
    /// No connection; the reason, and whether a retry is scheduled.
    Offline(String),
    /// Opening the connection.
    Connecting,
    /// Comparing catalogs, or catching up on this many documents.
    CatchingUp(usize),
    /// In step with the relay.
    UpToDate,
    /// The relay refused this device (bad or revoked token): no retries until settings change.
    Refused(String),
}

impl SyncStatus {
    /// The words on the status line.
    pub fn label(&self) -> String {
        match self {
            SyncStatus::Starting => "Starting…".into(),
            SyncStatus::Offline(_) => "Offline".into(),
            SyncStatus::Connecting => "Connecting…".into(),
            SyncStatus::CatchingUp(0) => "Syncing…".into(),
            SyncStatus::CatchingUp(n) => {
                format!("Syncing {n} incident{}…", if *n == 1 { "" } else { "s" })
            }
            SyncStatus::UpToDate => "Up to date".into(),
            SyncStatus::Refused(_) => "Not syncing".into(),
        }
    }

    /// More detail, for a tooltip and for the settings page.
    pub fn detail(&self) -> String {
        match self {
            SyncStatus::Offline(reason) | SyncStatus::Refused(reason) => reason.clone(),
            other => other.label(),
        }
    }
}

/// What the relay said of a new token.
enum TokenCheck {
    /// It is this sign-in's: sync.
    Theirs,
    /// It is refused, or someone else's: the status says so; no retries.
    Stop,
    /// The relay could not say: try again later.
    Retry,
}

enum Inbound {
    Opened(u32),
    Frame(u32, Vec<u8>),
    Closed(u32, u16, String),
    Kick,
}

/// The sync client's IO.
pub struct SyncDriver {
    app: AppState,
    repo: Rc<Repo>,
    client: RefCell<Client>,
    socket: RefCell<Option<WebSocket>>,
    /// Bumped per socket, so events from an old socket are ignored.
    generation: Cell<u32>,
    opened: Cell<bool>,
    attempt: Cell<u32>,
    inbox: mpsc::UnboundedSender<Inbound>,
    dirty: RefCell<BTreeSet<DocumentId>>,
    /// The heads the relay has acknowledged, per document, since the last flush.
    acked: RefCell<HashMap<DocumentId, Vec<ChangeHash>>>,
    flushing: Cell<bool>,
    refused: Cell<bool>,
    /// The current socket's event handlers (dropped with it).
    socket_handlers: RefCell<Vec<Box<dyn std::any::Any>>>,
    /// The window's "online" listener (lives as long as the driver).
    network_handler: RefCell<Option<Closure<dyn Fn()>>>,
}

fn peer_id() -> String {
    let bytes: [u8; 6] = random_bytes();
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("outpost-web-{suffix}")
}

/// The sync endpoint for a configured relay address (empty: this site).
pub fn endpoint(relay: &str) -> Option<String> {
    let relay = relay.trim().trim_end_matches('/');
    let base = if relay.is_empty() {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        format!("{scheme}://{}", location.host().ok()?)
    } else if let Some(rest) = relay.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = relay.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if relay.starts_with("ws://") || relay.starts_with("wss://") {
        relay.to_string()
    } else {
        return None;
    };
    Some(if base.ends_with("/sync") {
        base
    } else {
        format!("{base}/sync")
    })
}

impl SyncDriver {
    /// Starts syncing: connects now and keeps reconnecting.
    pub fn start(app: AppState, repo: Rc<Repo>) -> Rc<SyncDriver> {
        let (tx, mut rx) = mpsc::unbounded();
        let driver = Rc::new(SyncDriver {
            app,
            repo,
            client: RefCell::new(Client::new(peer_id(), None)),
            socket: RefCell::new(None),
            generation: Cell::new(0),
            opened: Cell::new(false),
            attempt: Cell::new(0),
            inbox: tx,
            dirty: RefCell::new(BTreeSet::new()),
            acked: RefCell::new(HashMap::new()),
            flushing: Cell::new(false),
            refused: Cell::new(false),
            socket_handlers: RefCell::new(Vec::new()),
            network_handler: RefCell::new(None),
        });
        let worker = driver.clone();
        spawn_local(async move {
            while let Some(inbound) = rx.next().await {
                worker.on_inbound(inbound).await;
            }
        });
        driver.watch_network();
        driver.clone().connect();
        driver
    }

    fn set_status(&self, status: SyncStatus) {
        if self.app.sync_status.get_untracked() != status {
            self.app.sync_status.set(status);
        }
    }

    fn watch_network(&self) {
        let online = {
            let inbox = self.inbox.clone();
            Closure::<dyn Fn()>::new(move || {
                let _ = inbox.unbounded_send(Inbound::Kick);
            })
        };
        let _ =
            window().add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        *self.network_handler.borrow_mut() = Some(online);
    }

    /// Try again now (settings changed, or the person asked).
    pub fn reconnect_now(&self) {
        self.refused.set(false);
        self.attempt.set(0);
        self.close_socket();
        let _ = self.inbox.unbounded_send(Inbound::Kick);
    }

    fn close_socket(&self) {
        self.generation.set(self.generation.get() + 1);
        if let Some(socket) = self.socket.borrow_mut().take() {
            // Detach its handlers first: it still fires `close` once the closing handshake ends,
            // after the next socket has replaced (and dropped) these closures, and calling a
            // dropped closure is an error on the page. Its events are stale anyway.
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        self.client.borrow_mut().disconnected();
        self.opened.set(false);
    }

    fn connect(self: Rc<Self>) {
        if self.socket.borrow().is_some() || self.refused.get() {
            return;
        }
        spawn_local(async move {
            let settings = self.app.settings.get_untracked();
            let Some(url) = endpoint(&settings.relay_url) else {
                self.set_status(SyncStatus::Refused(format!(
                    "The relay address “{}” is not a web address. Fix it in Settings.",
                    settings.relay_url
                )));
                self.refused.set(true);
                return;
            };
            let token = match self.token(&settings).await {
                Some(t) => t,
                None => {
                    self.set_status(SyncStatus::Offline(
                        "Not signed in: open the invitation link from your administrator on this device, or paste an access token in Settings."
                            .into(),
                    ));
                    return;
                }
            };
            // A new token is checked before anything syncs: it must be the one of the person
            // and workspace whose incidents this device holds.
            if !self.app.settings.get_untracked().token_checked {
                match self.check_token(&token).await {
                    TokenCheck::Theirs => {}
                    TokenCheck::Stop => return,
                    TokenCheck::Retry => return self.schedule_retry(),
                }
            }
            self.open(&url, &token);
        });
    }

    /// Asks the relay whom `token` signs in. An unbound sign-in (new, or from before this
    /// check) takes the token's person and workspace; a bound one syncs only with a token of
    /// its own person and workspace, so signing in as someone else never sends this device's
    /// incidents to them. (Development tokens bind the workspace only: on a development relay
    /// anyone may take any name.)
    async fn check_token(&self, token: &str) -> TokenCheck {
        let settings = self.app.settings.get_untracked();
        let url = format!("{}/api/session", http_base(&settings.relay_url));
        match fetch_json(&url, Some(token)).await {
            Ok((200, body)) => {
                let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
                let (user, workspace) = (text("user"), text("workspace"));
                let mut updated = self.app.settings.get_untracked();
                let bound = !updated.workspace.is_empty() && !updated.signed_in_as.is_empty();
                let same_person = updated.signed_in_as == user || updated.bound_in_development;
                if bound && (updated.workspace != workspace || !same_person) {
                    self.refused.set(true);
                    self.set_status(SyncStatus::Refused(format!(
                        "This token signs in {user} to workspace {workspace}, but the incidents on this device are {}'s in workspace {}. Nothing was synced, so the two never mix: sign out in Settings first, or open an invitation link for {workspace}.",
                        updated.signed_in_as, updated.workspace
                    )));
                    return TokenCheck::Stop;
                }
                updated.signed_in_as = user;
                updated.workspace = workspace;
                let document = text("workspace_document");
                let learned = !document.is_empty() && updated.workspace_document != document;
                if !document.is_empty() {
                    updated.workspace_document = document;
                }
                updated.bound_in_development = updated.development_token;
                updated.token_checked = true;
                if updated.save().is_ok() {
                    self.app.settings.set(updated);
                }
                if learned {
                    self.app.reload_workspace();
                }
                TokenCheck::Theirs
            }
            Ok((401, _)) => {
                if self.diagnose_refusal().await {
                    TokenCheck::Stop
                } else {
                    TokenCheck::Retry
                }
            }
            _ => {
                self.set_status(SyncStatus::Offline(
                    "The relay cannot be reached. Retrying…".into(),
                ));
                TokenCheck::Retry
            }
        }
    }

    /// The configured token, or a development token from a relay on this machine.
    async fn token(&self, settings: &Settings) -> Option<String> {
        if !settings.token.trim().is_empty() {
            return Some(settings.token.trim().to_string());
        }
        let user = js_sys::encode_uri_component(settings.user_name.trim());
        let url = format!(
            "{}/api/dev-token?user={user}",
            http_base(&settings.relay_url)
        );
        let (status, body) = fetch_json(&url, None).await.ok()?;
        let token = body.get("token")?.as_str()?.to_string();
        if status != 200 {
            return None;
        }
        let mut updated = self.app.settings.get_untracked();
        updated.token = token.clone();
        updated.development_token = true;
        updated.token_checked = false;
        if updated.save().is_ok() {
            self.app.settings.set(updated);
        }
        Some(token)
    }

    fn open(&self, url: &str, token: &str) {
        self.set_status(SyncStatus::Connecting);
        let protocols = js_sys::Array::of2(
            &JsValue::from_str("outpost.v1"),
            &JsValue::from_str(&format!("outpost.token.{token}")),
        );
        let socket = match WebSocket::new_with_str_sequence(url, &protocols) {
            Ok(s) => s,
            Err(e) => {
                self.set_status(SyncStatus::Offline(format!(
                    "The connection could not be opened ({e:?})."
                )));
                self.schedule_retry();
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        let on_open = {
            let inbox = self.inbox.clone();
            Closure::<dyn Fn()>::new(move || {
                let _ = inbox.unbounded_send(Inbound::Opened(generation));
            })
        };
        let on_message = {
            let inbox = self.inbox.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                if let Ok(buffer) = e.data().dyn_into::<js_sys::ArrayBuffer>() {
                    let _ = inbox.unbounded_send(Inbound::Frame(
                        generation,
                        js_sys::Uint8Array::new(&buffer).to_vec(),
                    ));
                }
            })
        };
        let on_close = {
            let inbox = self.inbox.clone();
            Closure::<dyn Fn(CloseEvent)>::new(move |e: CloseEvent| {
                let _ = inbox.unbounded_send(Inbound::Closed(generation, e.code(), e.reason()));
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The previous socket's handlers are no longer needed.
        *self.socket_handlers.borrow_mut() =
            vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
        *self.socket.borrow_mut() = Some(socket);
    }

    fn schedule_retry(&self) {
        if self.refused.get() {
            return;
        }
        let attempt = self.attempt.get();
        self.attempt.set(attempt.saturating_add(1));
        // 0.5 s doubling to 30 s, times a random 0.5-1.5 so devices do not return in step.
        let base = (500.0 * 2f64.powi(attempt.min(6) as i32)).min(30_000.0);
        let jitter = 0.5 + f64::from(random_bytes::<1>()[0]) / 255.0;
        let inbox = self.inbox.clone();
        set_timeout(
            move || {
                let _ = inbox.unbounded_send(Inbound::Kick);
            },
            Duration::from_millis((base * jitter) as u64),
        );
    }

    async fn on_inbound(self: &Rc<Self>, inbound: Inbound) {
        match inbound {
            Inbound::Kick => self.clone().connect(),
            Inbound::Opened(g) if g == self.generation.get() => {
                self.opened.set(true);
                self.attempt.set(0);
                self.set_status(SyncStatus::CatchingUp(0));
                let me = self.clone();
                spawn_local(async move {
                    me.learn_role().await;
                    me.confirm_prefix().await;
                });
                let events = self.client.borrow_mut().connected();
                self.handle_events(events).await;
            }
            Inbound::Frame(g, bytes) if g == self.generation.get() => {
                let message = match wire::decode(&bytes) {
                    Ok(m) => m,
                    Err(e) => {
                        self.set_status(SyncStatus::Offline(format!(
                            "The relay sent something unreadable ({e}); reconnecting."
                        )));
                        self.close_socket();
                        self.schedule_retry();
                        return;
                    }
                };
                if let Some(doc) = message.document_id() {
                    if self.repo.has(&doc) && !self.repo.is_open(&doc) {
                        let _ = self.repo.open_doc(&doc).await;
                    }
                }
                let events = self
                    .repo
                    .with_client_docs(|docs| self.client.borrow_mut().handle(message, docs));
                self.handle_events(events).await;
            }
            Inbound::Closed(g, code, reason) if g == self.generation.get() => {
                let was_open = self.opened.get();
                self.socket.borrow_mut().take();
                self.client.borrow_mut().disconnected();
                self.opened.set(false);
                self.flush().await;
                if !was_open && self.diagnose_refusal().await {
                    return;
                }
                if code == 1008 && self.sign_in_ended(&reason) {
                    return;
                }
                let why = match (code, reason.as_str()) {
                    (1001, _) => "The relay is restarting.".to_string(),
                    (_, r) if !r.is_empty() => format!("The relay closed the connection: {r}."),
                    _ if was_open => "The connection to the relay was lost.".to_string(),
                    _ => "The relay cannot be reached.".to_string(),
                };
                self.set_status(SyncStatus::Offline(format!("{why} Retrying…")));
                self.schedule_retry();
            }
            _ => {} // events of an old socket
        }
    }

    /// Discards this device's changes to a document that the relay refused (and what builds on
    /// them), then syncs the document afresh, which brings the device back in step.
    pub async fn discard_refused(self: &Rc<Self>, id: DocumentId) -> Result<(), String> {
        let Some(refused) = self
            .app
            .refusals
            .with_untracked(|r| r.get(&id.to_string()).cloned())
        else {
            return Ok(());
        };
        let cfg = self.app.config();
        let (saved, _) = self
            .repo
            .discard(&id, &refused.changes, &cfg, now())
            .await
            .map_err(|e| e.to_string())?;
        if let Some(saved) = &saved {
            self.app.record_saved(saved);
        }
        self.app.refusals.update(|r| {
            r.remove(&id.to_string());
        });
        let events = self
            .repo
            .with_client_docs(|docs| self.client.borrow_mut().resync(id, docs));
        self.handle_events(events).await;
        Ok(())
    }

    /// What the relay refused in a document, as lines a person can copy.
    pub fn refused_text(&self, id: &DocumentId) -> Vec<String> {
        let Some(refused) = self
            .app
            .refusals
            .with_untracked(|r| r.get(&id.to_string()).cloned())
        else {
            return Vec::new();
        };
        self.repo
            .with_doc(id, |doc| {
                doc.without(&refused.changes).map(|(_, text)| text)
            })
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    }

    /// Asks the relay which role this device's token carries and keeps it in the settings, so
    /// the app shows what the person may do, offline too. (The relay judges every change
    /// whatever the app shows.)
    async fn learn_role(&self) {
        let settings = self.app.settings.get_untracked();
        let url = format!("{}/api/session", http_base(&settings.relay_url));
        let Ok((200, body)) = fetch_json(&url, Some(settings.token.trim())).await else {
            return;
        };
        let Some(role) = body.get("role").and_then(|r| r.as_str()) else {
            return;
        };
        let groups: Vec<String> = body
            .get("groups")
            .and_then(|g| g.as_array())
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect();
        let document = body
            .get("workspace_document")
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_string();
        let mut updated = self.app.settings.get_untracked();
        let learned = !document.is_empty() && updated.workspace_document != document;
        if updated.role != role || updated.groups != groups || learned {
            updated.role = role.to_string();
            updated.groups = groups;
            if learned {
                updated.workspace_document = document;
            }
            if updated.save().is_ok() {
                self.app.settings.set(updated);
            }
        }
        if learned {
            self.app.reload_workspace();
        }
    }

    /// Has the relay confirm this device's reference-number prefix as its alone in the
    /// workspace, once (and after the person edits it). If another device holds it, the relay
    /// gives another, and numbering starts again under it (numbers used stay used).
    async fn confirm_prefix(&self) {
        let settings = self.app.settings.get_untracked();
        if settings.prefix_confirmed {
            return;
        }
        let url = format!(
            "{}/api/device-prefix?wanted={}",
            http_base(&settings.relay_url),
            js_sys::encode_uri_component(&settings.device_prefix)
        );
        let Ok((200, body)) = request_json("POST", &url, Some(settings.token.trim())).await else {
            return;
        };
        let Some(prefix) = body.get("prefix").and_then(|p| p.as_str()) else {
            return;
        };
        let mut updated = self.app.settings.get_untracked();
        if updated.device_prefix != settings.device_prefix {
            return; // edited meanwhile: the next connection confirms the new one
        }
        if updated.device_prefix != prefix {
            updated.device_prefix = prefix.to_string();
            updated.last_sequence = 0;
        }
        updated.prefix_confirmed = true;
        if updated.save().is_ok() {
            self.app.settings.set(updated);
        }
    }

    /// Whether the relay's `reason` for closing is that this device's sign-in was revoked or
    /// expired; if so the status says it, and no retries are made (they cannot help until the
    /// device signs in again).
    fn sign_in_ended(&self, reason: &str) -> bool {
        if !reason.contains("sign-in was revoked") && !reason.contains("sign-in expired") {
            return false;
        }
        self.refused.set(true);
        self.set_status(SyncStatus::Refused(format!(
            "The relay ended this device's sign-in ({reason}). Nothing more syncs from it; ask your administrator for a new invitation and open it on this device."
        )));
        true
    }

    /// After a failed connection: was the token refused? Asks the relay's session endpoint.
    async fn diagnose_refusal(&self) -> bool {
        let settings = self.app.settings.get_untracked();
        let url = format!("{}/api/session", http_base(&settings.relay_url));
        match fetch_json(&url, Some(settings.token.trim())).await {
            Ok((401, body)) => {
                let detail = body
                    .get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("token refused")
                    .to_string();
                let mut updated = settings.clone();
                if updated.development_token {
                    // A development relay that was reset: drop the stale token and ask again.
                    updated.token.clear();
                    updated.development_token = false;
                    if updated.save().is_ok() {
                        self.app.settings.set(updated);
                    }
                    return false;
                }
                self.refused.set(true);
                self.set_status(SyncStatus::Refused(format!(
                    "The relay refused this device's sign-in ({detail}). Ask your administrator for a new invitation and open it on this device, or paste a valid access token in Settings."
                )));
                true
            }
            _ => false,
        }
    }

    async fn handle_events(self: &Rc<Self>, events: Vec<Event>) {
        let mut queue = std::collections::VecDeque::from(events);
        while let Some(event) = queue.pop_front() {
            match event {
                Event::Send(message) => {
                    if let Some(socket) = self.socket.borrow().as_ref() {
                        let _ = socket.send_with_u8_array(&wire::encode(&message));
                    }
                }
                Event::Load(ids) => {
                    for id in &ids {
                        let _ = self.repo.open_doc(id).await;
                    }
                    let more = self.repo.with_client_docs(|docs| {
                        self.client.borrow_mut().sync_documents(&ids, docs)
                    });
                    queue.extend(more);
                }
                Event::Changed(id) => {
                    self.dirty.borrow_mut().insert(id);
                }
                Event::Acknowledged(id, heads) => {
                    self.acked.borrow_mut().insert(id, heads);
                }
                Event::CaughtUp => {}
                Event::ChangesRefused(id, refused) => {
                    self.app.refusals.update(|r| {
                        r.insert(id.to_string(), refused);
                    });
                    self.app.bump(&id.to_string());
                }
                Event::Unavailable(id) => {
                    // One this device holds was withdrawn from it: it may not keep it.
                    if self.repo.holds(&id) {
                        match self.repo.remove(&id).await {
                            Ok(Some(pending)) => {
                                self.app.record_withdrawn(&id.to_string(), pending)
                            }
                            Ok(None) => {}
                            Err(e) => web_sys::console::warn_1(
                                &format!("could not remove withdrawn incident {id}: {e}").into(),
                            ),
                        }
                    }
                }
                Event::Refused(reason) => {
                    self.close_socket();
                    if self.sign_in_ended(&reason) {
                        continue;
                    }
                    self.set_status(SyncStatus::Offline(format!("{reason}. Retrying…")));
                    self.schedule_retry();
                }
            }
        }
        let client = self.client.borrow();
        match client.phase() {
            Phase::Live => self.set_status(SyncStatus::UpToDate),
            Phase::Reconciling | Phase::Joining => self.set_status(SyncStatus::CatchingUp(0)),
            Phase::CatchingUp => self.set_status(SyncStatus::CatchingUp(client.catching_up())),
            Phase::Offline => {}
        }
        drop(client);
        self.schedule_flush();
    }

    fn schedule_flush(self: &Rc<Self>) {
        if self.flushing.get() || (self.dirty.borrow().is_empty() && self.acked.borrow().is_empty())
        {
            return;
        }
        self.flushing.set(true);
        let driver = self.clone();
        set_timeout(
            move || {
                spawn_local(async move {
                    driver.flush().await;
                    driver.flushing.set(false);
                    driver.schedule_flush();
                });
            },
            Duration::from_millis(100),
        );
    }

    /// Saves documents changed by the relay, [`SAVE_BATCH`] to a transaction, then records the
    /// acknowledgements.
    async fn flush(&self) {
        let dirty: Vec<DocumentId> = std::mem::take(&mut *self.dirty.borrow_mut())
            .into_iter()
            .collect();
        if !dirty.is_empty() {
            let cfg = self.app.config();
            for batch in dirty.chunks(SAVE_BATCH) {
                for (_, result) in self.repo.save_many(batch, &cfg, now()).await {
                    if let Ok(Some(saved)) = result {
                        self.app.record_saved(&saved);
                    }
                }
            }
            if self
                .app
                .workspace_document()
                .is_some_and(|id| dirty.contains(&id))
            {
                self.app.reload_workspace();
            }
            // Documents with no list entry may be knowledge articles.
            self.app.refresh_articles(&dirty).await;
        }
        let acked: Vec<(DocumentId, Vec<ChangeHash>)> =
            std::mem::take(&mut *self.acked.borrow_mut())
                .into_iter()
                .collect();
        if !acked.is_empty() {
            if let Ok(records) = self.repo.mark_synced(&acked).await {
                self.app.record_synced(records);
            }
        }
    }

    /// A local change: send it now if connected (otherwise the next catch-up sends it).
    pub fn local_change(self: &Rc<Self>, id: DocumentId) {
        if !self.opened.get() {
            return;
        }
        let driver = self.clone();
        spawn_local(async move {
            let events = driver
                .repo
                .with_client_docs(|docs| driver.client.borrow_mut().local_change(&id, docs));
            driver.handle_events(events).await;
        });
    }
}
