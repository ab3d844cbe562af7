//! The relay's protocol logic, with no IO: connections in, messages out.
//!
//! The relay is a storing peer, not a forwarder: it keeps every document it is given and runs its
//! own Automerge sync with each connection, exactly as automerge-repo's sync server does, so two
//! technicians who are never online at the same time still converge.
//!
//! The IO layer (the `outpost-relay` crate) feeds [`Input`]s in batches and, after each batch,
//! calls [`Hub::finish_batch`], which commits the batch's writes to storage before it releases
//! any message. Every message the relay sends therefore describes only changes that are already
//! durable: an acknowledged write survives a crash.
//!
//! Scoping: a connection carries a [`Grant`] (user and workspace, from its token). A document
//! belongs to the workspace of the first connection that sent it. To any other workspace it does
//! not exist: a `request` gets `doc-unavailable`, exactly as for a document nobody has, and a
//! `sync` for it is refused the same way, so nothing about other workspaces leaks.
//!
//! Restriction: a document can be readable by only some groups of its workspace (the [`Judge`]
//! says which, from its content). To a connection whose grant is in none of them it is, again,
//! indistinguishable from one nobody has: not answered, not in the catalog, not fanned out, no
//! ephemeral messages; a connection that was syncing it when it became restricted is told it is
//! unavailable, once.
//!
//! Fan-out: when a document changes, every other connection that is syncing it gets a sync
//! message, and so does every Outpost client in the workspace (they want all its incidents); a
//! plain automerge-repo peer only hears about documents it asked for, including ones that were
//! unavailable when it asked and arrived later. Fan-out runs once per document per batch, after
//! the batch commits, so a burst of changes to one document costs each peer one message.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash};

use crate::document_id::DocumentId;
use crate::gate::{self, AdmitAll, Judge, Refused};
use crate::reconcile::Responder;
use crate::wire::{self, Message, PeerId, PeerMetadata, PROTOCOL_V1, RECONCILE_VERSION};

/// A connection, numbered by the IO layer.
pub type ConnId = u64;

/// What a connection's token grants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The person.
    pub user: String,
    /// Their workspace.
    pub workspace: String,
    /// Their role, as the token names it. The hub does not read it; the [`Judge`] does.
    pub role: String,
    /// The token's listed id, so the audit says which device delivered a change.
    pub device: String,
    /// The groups the person belongs to, for documents restricted to groups.
    pub groups: Vec<String>,
}

impl Grant {
    /// Whether this grant may read a document readable by `readers` (`None`: everyone in its
    /// workspace).
    pub fn reads(&self, readers: Option<&[String]>) -> bool {
        readers.is_none_or(|allowed| self.groups.iter().any(|g| allowed.contains(g)))
    }
}

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("relay storage failed: {0}")]
pub struct StoreError(pub String);

/// What the hub needs from storage. Writes become durable at [`HubStorage::commit`].
pub trait HubStorage {
    /// A stored document: its workspace and its bytes (chunks, concatenated).
    fn load(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// Appends changes (`save_after` bytes) of a document, creating it in `workspace` if new.
    fn append(
        &mut self,
        doc: &DocumentId,
        workspace: &str,
        changes: &[u8],
        heads: &[ChangeHash],
    ) -> Result<(), StoreError>;
    /// Makes every append since the last commit durable.
    fn commit(&mut self) -> Result<(), StoreError>;
    /// Discards every append since the last commit.
    fn rollback(&mut self);
    /// A stored document's workspace and heads, without reading its bytes.
    fn heads(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<ChangeHash>)>, StoreError>;
    /// Records that `grant` delivered these changes of a document (the relay's audit), in the
    /// same transaction as their [`HubStorage::append`].
    fn arrived(
        &mut self,
        doc: &DocumentId,
        grant: &Grant,
        changes: &[ChangeHash],
    ) -> Result<(), StoreError> {
        let _ = (doc, grant, changes);
        Ok(())
    }
    /// Every document of a workspace with its heads.
    fn catalog(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<ChangeHash>)>, StoreError>;
    /// Records who may read a stored document (`None`: everyone in its workspace), in the
    /// batch's transaction.
    fn restrict(&mut self, doc: &DocumentId, readers: Option<&[String]>) -> Result<(), StoreError>;
    /// The restricted documents of a workspace and their readers.
    fn restricted(&mut self, workspace: &str)
        -> Result<Vec<(DocumentId, Vec<String>)>, StoreError>;
}

/// Something that happened to a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A connection was accepted with this grant.
    Connected {
        /// The connection.
        conn: ConnId,
        /// Its token's grant.
        grant: Grant,
    },
    /// A binary frame arrived.
    Frame {
        /// The connection.
        conn: ConnId,
        /// The frame.
        bytes: Vec<u8>,
    },
    /// The connection is gone.
    Disconnected {
        /// The connection.
        conn: ConnId,
    },
}

/// Something the IO layer must do, after the batch's writes are committed.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Send a message.
    Send {
        /// To whom.
        conn: ConnId,
        /// What.
        message: Message,
    },
    /// Close the connection (after sending what precedes this for it).
    Close {
        /// Which.
        conn: ConnId,
        /// Why, for the log.
        reason: String,
    },
}

/// Counters for logs and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Frames received.
    pub frames_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Documents changed by incoming syncs.
    pub documents_changed: u64,
    /// Connections closed for protocol errors.
    pub protocol_errors: u64,
    /// Changes the judge refused.
    pub changes_refused: u64,
}

/// How many refused changes one connection may send before the relay stops listening to it: the
/// relay remembers each one so that it never asks for it again.
pub const MAX_REFUSED_PER_CONNECTION: usize = 4_096;

struct LoadedDoc {
    doc: Automerge,
    workspace: String,
    saved: Vec<ChangeHash>,
    used: u64,
    /// Who may read it (`None`: its whole workspace), as the judge reads it, and as stored.
    readers: Option<Vec<String>>,
}

struct Conn {
    grant: Grant,
    peer: Option<(PeerId, PeerMetadata)>,
    syncs: HashMap<DocumentId, sync::State>,
    responder: Option<(u64, Responder)>,
    closing: bool,
    /// Changes refused from this connection, never to be asked for again.
    refused: gate::RefusedChanges,
}

/// The relay's state.
pub struct Hub {
    peer_id: PeerId,
    metadata: PeerMetadata,
    docs: HashMap<DocumentId, LoadedDoc>,
    capacity: usize,
    clock: u64,
    conns: BTreeMap<ConnId, Conn>,
    catalog_versions: HashMap<String, u64>,
    pending: Vec<Output>,
    changed: BTreeSet<DocumentId>,
    /// Documents stored in this batch, fanned out once it commits.
    stored: BTreeSet<DocumentId>,
    stats: HubStats,
    judge: Box<dyn Judge>,
    /// Ephemeral messages this relay has sent (automerge-repo de-duplicates by session and count).
    ephemeral_count: u64,
    /// This run of the relay, for its ephemeral messages: the count restarts with the process, so
    /// the session must too, or a peer that stayed up would drop new refusals as seen.
    session_id: String,
    /// Documents set aside after a failure ([`Hub::quarantine`]).
    quarantined: BTreeSet<DocumentId>,
    /// The document of the message being handled.
    handling: Option<DocumentId>,
}

fn sync_message(data: &[u8]) -> Result<sync::Message, String> {
    crate::sync_data::decode(data).map_err(|e| format!("the sync data {e}"))
}

impl Hub {
    /// A hub that answers as `peer_id`, advertising `storage_id`, keeping at most `capacity`
    /// documents in memory (the rest are loaded from storage when needed).
    pub fn new(peer_id: impl Into<PeerId>, storage_id: impl Into<String>, capacity: usize) -> Hub {
        let peer_id = peer_id.into();
        Hub {
            session_id: peer_id.clone(),
            peer_id,
            metadata: PeerMetadata {
                storage_id: Some(storage_id.into()),
                is_ephemeral: Some(false),
                outpost_reconcile: Some(RECONCILE_VERSION),
            },
            docs: HashMap::new(),
            capacity: capacity.max(1),
            clock: 0,
            conns: BTreeMap::new(),
            catalog_versions: HashMap::new(),
            pending: Vec::new(),
            changed: BTreeSet::new(),
            stored: BTreeSet::new(),
            stats: HubStats::default(),
            judge: Box::new(AdmitAll),
            ephemeral_count: 0,
            quarantined: BTreeSet::new(),
            handling: None,
        }
    }

    /// The same hub, naming this run `session` in its ephemeral messages (the relay passes a
    /// random one at each start; without one, the peer id is used).
    pub fn with_session(mut self, session: impl Into<String>) -> Hub {
        self.session_id = session.into();
        self
    }

    /// The same hub, judging every change with `judge` before it is kept.
    pub fn with_judge(mut self, judge: impl Judge + 'static) -> Hub {
        self.judge = Box::new(judge);
        self
    }

    /// The relay's peer id.
    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    /// Counters.
    pub fn stats(&self) -> &HubStats {
        &self.stats
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Documents held in memory.
    pub fn documents_in_memory(&self) -> usize {
        self.docs.len()
    }

    /// Sets a document aside after a failure while handling it (a panic the IO layer caught):
    /// its in-memory state cannot be trusted, so it is dropped from memory and from every
    /// connection's sync state, and from now on every message about it is answered
    /// `doc-unavailable`. Storage keeps its last committed state for an operator to look at.
    pub fn quarantine(&mut self, doc: DocumentId) {
        self.docs.remove(&doc);
        self.changed.remove(&doc);
        self.stored.remove(&doc);
        for conn in self.conns.values_mut() {
            conn.syncs.remove(&doc);
        }
        self.quarantined.insert(doc);
    }

    /// The document of the message being handled, if any: after a panic the IO layer caught,
    /// the one to quarantine.
    pub fn handling(&self) -> Option<DocumentId> {
        self.handling
    }

    fn send(&mut self, conn: ConnId, message: Message) {
        self.stats.messages_out += 1;
        self.pending.push(Output::Send { conn, message });
    }

    fn refuse(&mut self, conn: ConnId, reason: String) {
        self.stats.protocol_errors += 1;
        let target = self
            .conns
            .get(&conn)
            .and_then(|c| c.peer.as_ref().map(|p| p.0.clone()));
        if let Some(c) = self.conns.get_mut(&conn) {
            if c.closing {
                return;
            }
            c.closing = true;
        }
        self.pending.push(Output::Send {
            conn,
            message: Message::Error {
                sender_id: Some(self.peer_id.clone()),
                target_id: target,
                message: reason.clone(),
            },
        });
        self.pending.push(Output::Close { conn, reason });
    }

    /// Handles one input. Outputs wait for [`Hub::finish_batch`].
    pub fn handle(&mut self, input: Input, storage: &mut impl HubStorage) {
        match input {
            Input::Connected { conn, grant } => {
                self.conns.insert(
                    conn,
                    Conn {
                        grant,
                        peer: None,
                        syncs: HashMap::new(),
                        responder: None,
                        closing: false,
                        refused: Default::default(),
                    },
                );
            }
            Input::Disconnected { conn } => {
                self.conns.remove(&conn);
            }
            Input::Frame { conn, bytes } => {
                self.stats.frames_in += 1;
                if self.conns.get(&conn).is_none_or(|c| c.closing) {
                    return;
                }
                match wire::decode(&bytes) {
                    Ok(message) => {
                        self.handling = message.document_id();
                        if let Some(doc) = self.handling.filter(|d| self.quarantined.contains(d)) {
                            if let Some(target_id) = message.sender().map(str::to_string) {
                                let sender_id = self.peer_id.clone();
                                self.send(
                                    conn,
                                    Message::DocUnavailable {
                                        sender_id,
                                        target_id,
                                        document_id: doc,
                                    },
                                );
                            }
                        } else if let Err(reason) = self.on_message(conn, message, storage) {
                            self.refuse(conn, reason);
                        }
                        self.handling = None;
                    }
                    Err(e) => self.refuse(conn, format!("malformed message: {e}")),
                }
            }
        }
    }

    /// Commits the batch's writes, then releases its messages. On a storage failure nothing the
    /// batch changed is acknowledged: its documents are dropped from memory (storage still has
    /// their last durable state), and every connection the batch would have answered is closed
    /// instead, so clients keep their changes and sync again when they reconnect. The error is
    /// returned beside those closes, for the log.
    pub fn finish_batch(
        &mut self,
        storage: &mut impl HubStorage,
    ) -> (Vec<Output>, Option<StoreError>) {
        let changed = std::mem::take(&mut self.changed);
        let stored = std::mem::take(&mut self.stored);
        match storage.commit() {
            Ok(()) => {
                // Once per document per batch, however many changes it took: under load batches
                // grow, and so does what one fan-out message carries.
                for doc in stored {
                    if let Some(workspace) = self.docs.get(&doc).map(|d| d.workspace.clone()) {
                        self.handling = Some(doc);
                        self.fan_out(doc, &workspace);
                    }
                }
                self.handling = None;
                self.evict();
                (std::mem::take(&mut self.pending), None)
            }
            Err(e) => {
                storage.rollback();
                for doc in &changed {
                    self.docs.remove(doc);
                }
                let senders: BTreeSet<ConnId> = self
                    .pending
                    .iter()
                    .map(|o| match o {
                        Output::Send { conn, .. } | Output::Close { conn, .. } => *conn,
                    })
                    .collect();
                self.pending.clear();
                let mut outputs = Vec::new();
                for conn in senders {
                    self.conns.remove(&conn);
                    outputs.push(Output::Close {
                        conn,
                        reason: format!("{e}; nothing from this batch was acknowledged"),
                    });
                }
                (outputs, Some(e))
            }
        }
    }

    /// Drops the least recently used documents beyond capacity, all at once: one pass over the
    /// loaded documents per batch, not one per document dropped (a pull of 10,000 documents
    /// evicts thousands).
    fn evict(&mut self) {
        let excess = self.docs.len().saturating_sub(self.capacity);
        if excess == 0 {
            return;
        }
        let mut by_use: Vec<(u64, DocumentId)> =
            self.docs.iter().map(|(id, d)| (d.used, *id)).collect();
        by_use.select_nth_unstable(excess - 1);
        for (_, id) in &by_use[..excess] {
            self.docs.remove(id);
        }
    }

    /// The document if the connection's workspace may see it, loading it from storage.
    fn visible(
        &mut self,
        conn: ConnId,
        doc: &DocumentId,
        storage: &mut impl HubStorage,
    ) -> Result<bool, String> {
        self.clock += 1;
        let grant = match self.conns.get(&conn) {
            Some(c) => &c.grant,
            None => return Ok(false),
        };
        if let Some(loaded) = self.docs.get_mut(doc) {
            loaded.used = self.clock;
            return Ok(
                loaded.workspace == grant.workspace && grant.reads(loaded.readers.as_deref())
            );
        }
        match storage.load(doc).map_err(|e| e.to_string())? {
            None => Ok(false),
            Some((owner, bytes)) => {
                let mut am = Automerge::new();
                am.load_incremental(&bytes)
                    .map_err(|e| format!("stored document {doc} is damaged ({e})"))?;
                let saved = am.get_heads();
                let readers = self.judge.readers(&am);
                let mine = owner == grant.workspace && grant.reads(readers.as_deref());
                self.docs.insert(
                    *doc,
                    LoadedDoc {
                        doc: am,
                        workspace: owner,
                        saved,
                        used: self.clock,
                        readers,
                    },
                );
                Ok(mine)
            }
        }
    }

    fn exists(&mut self, doc: &DocumentId, storage: &mut impl HubStorage) -> Result<bool, String> {
        Ok(self.docs.contains_key(doc) || storage.load(doc).map_err(|e| e.to_string())?.is_some())
    }

    fn on_message(
        &mut self,
        conn: ConnId,
        message: Message,
        storage: &mut impl HubStorage,
    ) -> Result<(), String> {
        let joined = self
            .conns
            .get(&conn)
            .and_then(|c| c.peer.as_ref().map(|p| p.0.clone()));
        let Some(peer) = joined else {
            return match message {
                Message::Join {
                    sender_id,
                    peer_metadata,
                    supported_protocol_versions,
                } => {
                    let speaks_v1 = supported_protocol_versions
                        .as_ref()
                        .is_none_or(|v| v.iter().any(|v| v == PROTOCOL_V1));
                    if !speaks_v1 {
                        return Err("unsupported protocol version".to_string());
                    }
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.peer = Some((sender_id.clone(), peer_metadata));
                    }
                    let reply = Message::Peer {
                        sender_id: self.peer_id.clone(),
                        target_id: sender_id,
                        peer_metadata: self.metadata.clone(),
                        selected_protocol_version: PROTOCOL_V1.to_string(),
                    };
                    self.send(conn, reply);
                    Ok(())
                }
                other => Err(format!(
                    "expected a join message first, got {}",
                    other.type_name()
                )),
            };
        };
        if message.sender() != Some(peer.as_str()) {
            return Err(format!(
                "messages must come from the peer that joined ({peer})"
            ));
        }
        if message.target().is_some_and(|t| t != self.peer_id) {
            return Err(format!(
                "messages must be addressed to the relay ({})",
                self.peer_id
            ));
        }
        match message {
            Message::Join { .. } => Err("already joined".to_string()),
            Message::Peer { .. } => Err("a client may not send a peer message".to_string()),
            Message::Error { message, .. } => {
                self.pending.push(Output::Close {
                    conn,
                    reason: format!("the peer reported an error: {message}"),
                });
                Ok(())
            }
            Message::Leave { .. } => {
                self.pending.push(Output::Close {
                    conn,
                    reason: "the peer left".to_string(),
                });
                Ok(())
            }
            Message::Request {
                document_id, data, ..
            } => {
                if !self.visible(conn, &document_id, storage)? {
                    // Remember the ask, as automerge-repo's sync server does: if the document
                    // reaches this workspace later, the asker gets it then. (A peer that was
                    // told "unavailable" never asks again.) Fan-out only serves the asker's own
                    // workspace, so another workspace's document stays hidden.
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.syncs.entry(document_id).or_default();
                    }
                    self.send(
                        conn,
                        Message::DocUnavailable {
                            sender_id: self.peer_id.clone(),
                            target_id: peer,
                            document_id,
                        },
                    );
                    return Ok(());
                }
                self.receive_sync(conn, &peer, document_id, sync_message(&data)?, storage)?;
                self.persist(document_id, storage)
            }
            Message::Sync {
                document_id, data, ..
            } => {
                let message = sync_message(&data)?;
                if self.acknowledged_unloaded(conn, document_id, &message, storage)? {
                    return Ok(());
                }
                if !self.visible(conn, &document_id, storage)? {
                    if self.exists(&document_id, storage)? {
                        // Another workspace's document: indistinguishable from one nobody has.
                        self.send(
                            conn,
                            Message::DocUnavailable {
                                sender_id: self.peer_id.clone(),
                                target_id: peer,
                                document_id,
                            },
                        );
                        return Ok(());
                    }
                    let workspace = self.conns[&conn].grant.workspace.clone();
                    self.clock += 1;
                    self.docs.insert(
                        document_id,
                        LoadedDoc {
                            doc: Automerge::new(),
                            workspace,
                            saved: Vec::new(),
                            used: self.clock,
                            readers: None,
                        },
                    );
                }
                self.receive_sync(conn, &peer, document_id, message, storage)?;
                self.persist(document_id, storage)
            }
            Message::DocUnavailable { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::RemoteHeadsChanged { .. } => Ok(()),
            Message::Ephemeral {
                document_id,
                data,
                count,
                session_id,
                sender_id,
                ..
            } => {
                if self.visible(conn, &document_id, storage)? {
                    // Only the document's own workspace: a peer of another one that asked for
                    // it was told it is unavailable, but its ask is remembered in `syncs`.
                    let workspace = self.conns[&conn].grant.workspace.clone();
                    let readers = self.docs.get(&document_id).and_then(|d| d.readers.clone());
                    let watchers: Vec<(ConnId, PeerId)> = self
                        .conns
                        .iter()
                        .filter(|(c, state)| {
                            **c != conn
                                && state.grant.workspace == workspace
                                && state.grant.reads(readers.as_deref())
                                && state.syncs.contains_key(&document_id)
                        })
                        .filter_map(|(c, state)| state.peer.as_ref().map(|p| (*c, p.0.clone())))
                        .collect();
                    for (other, target_id) in watchers {
                        let message = Message::Ephemeral {
                            sender_id: sender_id.clone(),
                            target_id,
                            document_id,
                            data: data.clone(),
                            count,
                            session_id: session_id.clone(),
                        };
                        self.send(other, message);
                    }
                }
                Ok(())
            }
            Message::Reconcile { data, .. } => {
                let workspace = self.conns[&conn].grant.workspace.clone();
                let version = *self.catalog_versions.get(&workspace).unwrap_or(&0);
                let stale = self.conns[&conn]
                    .responder
                    .as_ref()
                    .is_none_or(|(v, _)| *v != version);
                if stale {
                    let mut catalog = storage.catalog(&workspace).map_err(|e| e.to_string())?;
                    let hidden: BTreeSet<DocumentId> = storage
                        .restricted(&workspace)
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .filter(|(_, readers)| !self.conns[&conn].grant.reads(Some(readers)))
                        .map(|(doc, _)| doc)
                        .collect();
                    catalog.retain(|(doc, _)| !hidden.contains(doc));
                    let responder = Responder::new(catalog.iter().map(|(d, h)| (d, h.as_slice())))
                        .map_err(|e| e.to_string())?;
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.responder = Some((version, responder));
                    }
                }
                let answer = self
                    .conns
                    .get_mut(&conn)
                    .and_then(|c| c.responder.as_mut())
                    .map(|(_, r)| r.answer(&data))
                    .ok_or("no catalog")?
                    .map_err(|e| e.to_string())?;
                self.send(
                    conn,
                    Message::Reconcile {
                        sender_id: self.peer_id.clone(),
                        target_id: peer,
                        data: answer,
                    },
                );
                Ok(())
            }
        }
    }

    /// Takes a bare acknowledgement of a document that is not in memory without loading it (see
    /// [`crate::ack`]): the closing messages of a pull, thousands at once. Returns whether it did.
    fn acknowledged_unloaded(
        &mut self,
        conn: ConnId,
        doc: DocumentId,
        message: &sync::Message,
        storage: &mut impl HubStorage,
    ) -> Result<bool, String> {
        // A message carrying changes needs the document anyway: no storage read for it.
        if self.docs.contains_key(&doc) || !message.changes.is_empty() {
            return Ok(false);
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return Ok(false);
        };
        let Some(state) = c.syncs.get_mut(&doc) else {
            return Ok(false);
        };
        match storage.heads(&doc).map_err(|e| e.to_string())? {
            Some((workspace, heads)) if workspace == c.grant.workspace => {
                Ok(crate::ack::acknowledge(state, message, &heads))
            }
            _ => Ok(false),
        }
    }

    /// Passes a peer's sync message through the gate, applies what it admits to a loaded
    /// document, records who delivered it, and answers.
    fn receive_sync(
        &mut self,
        conn: ConnId,
        peer: &str,
        doc: DocumentId,
        mut message: sync::Message,
        storage: &mut impl HubStorage,
    ) -> Result<(), String> {
        let Some(loaded) = self.docs.get_mut(&doc) else {
            return Err("document vanished".to_string());
        };
        let before = loaded.doc.get_heads();
        let c = self.conns.get_mut(&conn).ok_or("no connection")?;
        let passage = gate::pass(
            &doc,
            &mut loaded.doc,
            &mut message,
            &c.grant,
            self.judge.as_mut(),
            &mut c.refused,
        )?;
        if !passage.accepted.is_empty() {
            storage
                .arrived(&doc, &c.grant, &passage.accepted)
                .map_err(|e| e.to_string())?;
        }
        let too_many = c.refused.len() > MAX_REFUSED_PER_CONNECTION;
        let state = c.syncs.entry(doc).or_default();
        loaded
            .doc
            .receive_sync_message(state, message)
            .map_err(|e| format!("the sync message could not be applied ({e})"))?;
        if passage.carried_changes {
            // The gate applied the changes itself and handed Automerge a message without them,
            // which it would take for a peer merely reporting heads it already shares, and leave
            // unanswered. A peer that sent changes waits for an answer (automerge-repo sends
            // nothing more until it has one), and an Outpost client learns from it that they
            // are stored.
            state.last_sent_heads.clear();
        }
        if loaded.doc.get_heads() != before {
            self.changed.insert(doc);
        }
        let reply = loaded.doc.generate_sync_message(state);
        if let Some(reply) = reply {
            let message = Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: peer.to_string(),
                document_id: doc,
                data: reply.encode(),
            };
            self.send(conn, message);
        }
        if let Some(refused) = passage.refused {
            self.stats.changes_refused += refused.changes.len() as u64;
            self.tell_refused(conn, peer, doc, &refused);
        }
        if too_many {
            return Err(format!(
                "more than {MAX_REFUSED_PER_CONNECTION} refused changes from one connection"
            ));
        }
        Ok(())
    }

    /// Tells a peer which of its changes were refused and why, as an ephemeral message on the
    /// document: every automerge-repo peer hands those to its application.
    fn tell_refused(&mut self, conn: ConnId, peer: &str, doc: DocumentId, refused: &Refused) {
        self.ephemeral_count += 1;
        let message = Message::Ephemeral {
            sender_id: self.peer_id.clone(),
            target_id: peer.to_string(),
            document_id: doc,
            data: gate::refusal_data(refused),
            count: self.ephemeral_count,
            session_id: self.session_id.clone(),
        };
        self.send(conn, message);
    }

    /// Stores a document's new changes and tells its other peers about them.
    fn persist(&mut self, doc: DocumentId, storage: &mut impl HubStorage) -> Result<(), String> {
        let Some(loaded) = self.docs.get_mut(&doc) else {
            return Ok(());
        };
        let heads = loaded.doc.get_heads();
        if heads == loaded.saved {
            return Ok(());
        }
        let changes = loaded.doc.save_after(&loaded.saved);
        storage
            .append(&doc, &loaded.workspace, &changes, &heads)
            .map_err(|e| e.to_string())?;
        let readers = self.judge.readers(&loaded.doc);
        // Written whenever it is restricted, not only when that changes: storage must never
        // list a restricted document as open (a relay once run without the judge would have).
        if readers != loaded.readers || readers.is_some() {
            storage
                .restrict(&doc, readers.as_deref())
                .map_err(|e| e.to_string())?;
            loaded.readers = readers;
        }
        loaded.saved = heads;
        let workspace = loaded.workspace.clone();
        *self.catalog_versions.entry(workspace).or_insert(0) += 1;
        self.stats.documents_changed += 1;
        self.stored.insert(doc);
        Ok(())
    }

    fn fan_out(&mut self, doc: DocumentId, workspace: &str) {
        let Some(loaded) = self.docs.get(&doc) else {
            return;
        };
        // Who hears about it: every connection of the workspace syncing this document, and every
        // Outpost client of the workspace (they want all its incidents).
        let mut targets: Vec<(ConnId, u64)> = Vec::new();
        let mut alike: HashMap<u64, usize> = HashMap::new();
        let mut withdrawn: Vec<(ConnId, PeerId)> = Vec::new();
        for (conn, state) in self.conns.iter_mut() {
            let Some((peer, metadata)) = &state.peer else {
                continue;
            };
            if state.closing || state.grant.workspace != workspace {
                continue;
            }
            if !state.grant.reads(loaded.readers.as_deref()) {
                // Restricted away from this peer. If it held the document, it is told, once,
                // that the document is unavailable to it now, and hears nothing more.
                // (An ask that was answered "unavailable" stays remembered, for a lifting.)
                let held = state.syncs.get(&doc).is_some_and(|s| {
                    !s.shared_heads.is_empty()
                        || s.their_heads.as_ref().is_some_and(|h| !h.is_empty())
                });
                if held {
                    state.syncs.remove(&doc);
                    withdrawn.push((*conn, peer.clone()));
                }
                continue;
            }
            let wants_everything = metadata.outpost_reconcile.is_some();
            if !wants_everything && !state.syncs.contains_key(&doc) {
                continue;
            }
            let print = fingerprint(state.syncs.entry(doc).or_default());
            *alike.entry(print).or_default() += 1;
            targets.push((*conn, print));
        }
        // Peers that have acknowledged the same things have equal sync states, and Automerge's
        // sync is deterministic: generate once per distinct state and share the result. Only
        // states whose cheap fingerprint another shares are compared whole: cloning and hashing
        // every state cost more than it saved when 20 writers share an incident and no two
        // states are alike (hub p99 about twice as long).
        let mut memo: HashMap<sync::State, (sync::State, Option<Vec<u8>>)> = HashMap::new();
        let mut messages = Vec::new();
        for (conn, print) in targets {
            let Some(state) = self.conns.get_mut(&conn) else {
                continue;
            };
            let Some((peer, _)) = &state.peer else {
                continue;
            };
            let Some(sync_state) = state.syncs.get_mut(&doc) else {
                continue;
            };
            let data = if alike[&print] > 1 {
                let (after, data) = memo.entry(sync_state.clone()).or_insert_with_key(|before| {
                    let mut after = before.clone();
                    let data = loaded
                        .doc
                        .generate_sync_message(&mut after)
                        .map(|m| m.encode());
                    (after, data)
                });
                *sync_state = after.clone();
                data.clone()
            } else {
                loaded
                    .doc
                    .generate_sync_message(sync_state)
                    .map(|m| m.encode())
            };
            if let Some(data) = data {
                messages.push((
                    conn,
                    Message::Sync {
                        sender_id: self.peer_id.clone(),
                        target_id: peer.clone(),
                        document_id: doc,
                        data,
                    },
                ));
            }
        }
        for (conn, message) in messages {
            self.send(conn, message);
        }
        for (conn, target_id) in withdrawn {
            let message = Message::DocUnavailable {
                sender_id: self.peer_id.clone(),
                target_id,
                document_id: doc,
            };
            self.send(conn, message);
        }
    }
}

/// A cheap summary of a sync state: equal states have equal fingerprints.
fn fingerprint(state: &sync::State) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (
        &state.shared_heads,
        &state.last_sent_heads,
        &state.their_heads,
        &state.their_need,
        state.their_have.as_ref().map(Vec::len),
        state.sent_hashes.len(),
        state.in_flight,
        state.have_responded,
    )
        .hash(&mut hasher);
    hasher.finish()
}

/// An in-memory [`HubStorage`], for tests and benchmarks. It never fails: tests of the failure
/// path wrap it in a storage of their own that does (the sync tests, the `hub_frames` fuzz
/// target).
#[derive(Default)]
pub struct MemoryStorage {
    docs: BTreeMap<DocumentId, (String, Vec<u8>, Vec<ChangeHash>)>,
    readers: BTreeMap<DocumentId, Vec<String>>,
    staged_readers: Vec<(DocumentId, Option<Vec<String>>)>,
    staged: Vec<(DocumentId, String, Vec<u8>, Vec<ChangeHash>)>,
    /// Commits so far.
    pub commits: u64,
    /// Documents read whole so far (tests of what the relay keeps loading).
    pub loads: u64,
}

impl MemoryStorage {
    /// Documents stored durably.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

impl HubStorage for MemoryStorage {
    fn load(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.loads += 1;
        Ok(self.docs.get(doc).map(|(w, b, _)| (w.clone(), b.clone())))
    }

    fn append(
        &mut self,
        doc: &DocumentId,
        workspace: &str,
        changes: &[u8],
        heads: &[ChangeHash],
    ) -> Result<(), StoreError> {
        self.staged.push((
            *doc,
            workspace.to_string(),
            changes.to_vec(),
            heads.to_vec(),
        ));
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.commits += 1;
        for (doc, readers) in self.staged_readers.drain(..) {
            match readers {
                Some(r) => self.readers.insert(doc, r),
                None => self.readers.remove(&doc),
            };
        }
        for (doc, workspace, changes, heads) in self.staged.drain(..) {
            let entry = self
                .docs
                .entry(doc)
                .or_insert_with(|| (workspace, Vec::new(), Vec::new()));
            entry.1.extend_from_slice(&changes);
            entry.2 = heads;
        }
        Ok(())
    }

    fn rollback(&mut self) {
        self.staged.clear();
        self.staged_readers.clear();
    }

    fn restrict(&mut self, doc: &DocumentId, readers: Option<&[String]>) -> Result<(), StoreError> {
        self.staged_readers
            .push((*doc, readers.map(<[String]>::to_vec)));
        Ok(())
    }

    fn restricted(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<String>)>, StoreError> {
        Ok(self
            .readers
            .iter()
            .filter(|(d, _)| self.docs.get(d).is_some_and(|(w, _, _)| w == workspace))
            .map(|(d, r)| (*d, r.clone()))
            .collect())
    }

    fn heads(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<ChangeHash>)>, StoreError> {
        // Like SQLite, a batch sees its own writes before they commit.
        if let Some((_, w, _, h)) = self.staged.iter().rev().find(|(d, ..)| d == doc) {
            return Ok(Some((w.clone(), h.clone())));
        }
        Ok(self.docs.get(doc).map(|(w, _, h)| (w.clone(), h.clone())))
    }

    fn catalog(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<ChangeHash>)>, StoreError> {
        Ok(self
            .docs
            .iter()
            .filter(|(_, (w, _, _))| w == workspace)
            .map(|(d, (_, _, h))| (*d, h.clone()))
            .collect())
    }
}
