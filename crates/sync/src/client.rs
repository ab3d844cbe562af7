//! The sync client's protocol logic, with no IO: what to send the relay, and what to do with what
//! it sends back.
//!
//! After the handshake, an Outpost client reconciles its catalog with the relay's
//! ([`crate::reconcile`]) and then syncs only the documents that differ: those it has changed,
//! those the relay has changed, and those only one side has. Against a relay without the
//! extension (automerge-repo's own sync server) it syncs every document, as automerge-repo does.
//! While connected, local changes go out as they happen and the relay's changes come in.
//!
//! The IO layer (the browser app, or a native peer) owns the socket and the documents. Before it
//! hands the client a message about a document it must load that document if it has it
//! ([`ClientDocs::get_mut`]); when the client asks for documents to be loaded
//! ([`Event::Load`]) it loads them and calls [`Client::sync_documents`].

use std::collections::{BTreeSet, HashMap};

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash};

use crate::document_id::DocumentId;
use crate::reconcile::{Initiator, Step};
use crate::wire::{self, Message, PeerId, PeerMetadata, RECONCILE_VERSION};

/// The client's view of this device's documents.
pub trait ClientDocs {
    /// Every local document with its heads (from an index; documents need not be loaded).
    fn catalog(&self) -> Vec<(DocumentId, Vec<ChangeHash>)>;
    /// A local document, if this device has it.
    fn get_mut(&mut self, id: &DocumentId) -> Option<&mut Automerge>;
    /// Creates an empty local document for one the relay has.
    fn create(&mut self, id: &DocumentId) -> &mut Automerge;
}

/// What the IO layer must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Send this to the relay.
    Send(Message),
    /// Remote changes were applied to this document: save it and refresh what shows it.
    Changed(DocumentId),
    /// The relay has every change of this document this device has: these heads. Comes from a
    /// sync in step, and at the end of reconciliation for every document the catalogs agree on.
    Acknowledged(DocumentId, Vec<ChangeHash>),
    /// Load these local documents, then call [`Client::sync_documents`] with them.
    Load(Vec<DocumentId>),
    /// The catch-up after connecting is complete.
    CaughtUp,
    /// The relay refused this client (the message says why); the connection is over.
    Refused(String),
    /// The relay refused some of this device's changes to a document (its judge said why). They
    /// stay on the device, unsynced, until the person discards them.
    ChangesRefused(DocumentId, crate::gate::Refused),
    /// The relay says this document is not available to this device: one it asked for and the
    /// relay lacks, or one it holds that the relay withdrew (restricted to groups the person is
    /// not in), which the device may then no longer keep.
    Unavailable(DocumentId),
}

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not connected.
    Offline,
    /// Connected, waiting for the relay's `peer`.
    Joining,
    /// Comparing catalogs.
    Reconciling,
    /// Catching up on the documents that differ.
    CatchingUp,
    /// In step; changes flow as they happen.
    Live,
}

/// Counters for the status line, tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Reconciliation round trips in the last catch-up.
    pub reconcile_rounds: u32,
    /// Documents that differed in the last catch-up.
    pub differing: usize,
}

/// The sync client's state for one relay.
pub struct Client {
    peer_id: PeerId,
    metadata: PeerMetadata,
    phase: Phase,
    relay: Option<PeerId>,
    initiator: Option<Initiator>,
    syncs: HashMap<DocumentId, sync::State>,
    awaiting: BTreeSet<DocumentId>,
    stats: ClientStats,
}

impl Client {
    /// A client that joins as `peer_id`, with this device's storage id.
    pub fn new(peer_id: impl Into<PeerId>, storage_id: Option<String>) -> Client {
        Client {
            peer_id: peer_id.into(),
            metadata: PeerMetadata {
                storage_id,
                is_ephemeral: Some(false),
                outpost_reconcile: Some(RECONCILE_VERSION),
            },
            phase: Phase::Offline,
            relay: None,
            initiator: None,
            syncs: HashMap::new(),
            awaiting: BTreeSet::new(),
            stats: ClientStats::default(),
        }
    }

    /// This client's peer id.
    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    /// The relay's peer id, once it has answered.
    pub fn relay_id(&self) -> Option<&str> {
        self.relay.as_deref()
    }

    /// Where the connection is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Documents still being caught up.
    pub fn catching_up(&self) -> usize {
        self.awaiting.len()
    }

    /// A client that syncs only the documents this device has, as automerge-repo does: it does
    /// not advertise catalog reconciliation, so the relay sends it only documents it syncs or
    /// asks for. Load generators use it to stand for many devices at once.
    pub fn scoped(peer_id: impl Into<PeerId>, storage_id: Option<String>) -> Client {
        let mut client = Client::new(peer_id, storage_id);
        client.metadata.outpost_reconcile = None;
        client
    }

    /// Counters.
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    fn send(&mut self, message: Message, events: &mut Vec<Event>) {
        self.stats.messages_out += 1;
        events.push(Event::Send(message));
    }

    /// The socket opened: join.
    pub fn connected(&mut self) -> Vec<Event> {
        self.reset();
        self.phase = Phase::Joining;
        let mut events = Vec::new();
        let join = Message::Join {
            sender_id: self.peer_id.clone(),
            peer_metadata: self.metadata.clone(),
            supported_protocol_versions: Some(vec![wire::PROTOCOL_V1.to_string()]),
        };
        self.send(join, &mut events);
        events
    }

    /// The socket closed. Sync states are per connection, so they go too.
    pub fn disconnected(&mut self) {
        self.reset();
    }

    fn reset(&mut self) {
        self.phase = Phase::Offline;
        self.relay = None;
        self.initiator = None;
        self.syncs.clear();
        self.awaiting.clear();
    }

    /// Handles a frame from the relay (decoding it first).
    pub fn receive(&mut self, bytes: &[u8], docs: &mut impl ClientDocs) -> Vec<Event> {
        match wire::decode(bytes) {
            Ok(message) => self.handle(message, docs),
            Err(e) => {
                self.reset();
                vec![Event::Refused(format!(
                    "the relay sent a malformed message ({e})"
                ))]
            }
        }
    }

    /// Handles a message from the relay.
    pub fn handle(&mut self, message: Message, docs: &mut impl ClientDocs) -> Vec<Event> {
        self.stats.messages_in += 1;
        let mut events = Vec::new();
        match message {
            Message::Peer {
                sender_id,
                peer_metadata,
                ..
            } if self.phase == Phase::Joining => {
                self.relay = Some(sender_id);
                let reconcile = self.metadata.outpost_reconcile == Some(RECONCILE_VERSION);
                if reconcile && peer_metadata.outpost_reconcile == Some(RECONCILE_VERSION) {
                    self.start_reconcile(docs, &mut events);
                } else {
                    // A plain automerge-repo relay: sync every local document.
                    let ids: Vec<DocumentId> = docs.catalog().into_iter().map(|(d, _)| d).collect();
                    self.begin_catch_up(ids.iter().copied(), &mut events);
                    if !ids.is_empty() {
                        events.push(Event::Load(ids));
                    }
                }
            }
            Message::Reconcile { data, .. } if self.phase == Phase::Reconciling => {
                let step = self.initiator.as_mut().map(|i| i.step(&data));
                match step {
                    Some(Ok(Step::Continue(next))) => {
                        let message = self.reconcile_message(next);
                        self.send(message, &mut events);
                    }
                    Some(Ok(Step::Done(differing))) => {
                        self.stats.reconcile_rounds =
                            self.initiator.as_ref().map_or(0, Initiator::rounds);
                        self.stats.differing = differing.len();
                        self.initiator = None;
                        let catalog = docs.catalog();
                        let differ: BTreeSet<DocumentId> = differing.iter().copied().collect();
                        // The relay has exactly these heads of every other local document:
                        // acknowledged, as a sync would have said.
                        for (d, heads) in &catalog {
                            if !differ.contains(d) && !heads.is_empty() {
                                events.push(Event::Acknowledged(*d, heads.clone()));
                            }
                        }
                        let local: BTreeSet<DocumentId> =
                            catalog.into_iter().map(|(d, _)| d).collect();
                        let (mine, theirs): (Vec<DocumentId>, Vec<DocumentId>) =
                            differing.into_iter().partition(|d| local.contains(d));
                        self.begin_catch_up(mine.iter().chain(theirs.iter()).copied(), &mut events);
                        for doc in theirs {
                            self.request(doc, &mut events);
                        }
                        if !mine.is_empty() {
                            events.push(Event::Load(mine));
                        }
                    }
                    Some(Err(e)) => {
                        self.reset();
                        events.push(Event::Refused(e.to_string()));
                    }
                    None => {}
                }
            }
            Message::Sync {
                document_id, data, ..
            } => self.on_sync(document_id, &data, docs, &mut events),
            Message::DocUnavailable { document_id, .. } => {
                self.syncs.remove(&document_id);
                self.done_with(document_id, &mut events);
                events.push(Event::Unavailable(document_id));
            }
            Message::Error { message, .. } => {
                self.reset();
                events.push(Event::Refused(message));
            }
            Message::Ephemeral {
                document_id, data, ..
            } => {
                if let Some(refused) = crate::gate::read_refusal(&data) {
                    // The relay will not take these: catch-up must not wait for them.
                    self.done_with(document_id, &mut events);
                    events.push(Event::ChangesRefused(document_id, refused));
                }
            }
            _ => {}
        }
        events
    }

    fn reconcile_message(&self, data: Vec<u8>) -> Message {
        Message::Reconcile {
            sender_id: self.peer_id.clone(),
            target_id: self.relay.clone().unwrap_or_default(),
            data,
        }
    }

    fn start_reconcile(&mut self, docs: &impl ClientDocs, events: &mut Vec<Event>) {
        let catalog = docs.catalog();
        match Initiator::start(catalog.iter().map(|(d, h)| (d, h.as_slice()))) {
            Ok((initiator, first)) => {
                self.initiator = Some(initiator);
                self.phase = Phase::Reconciling;
                let message = self.reconcile_message(first);
                self.send(message, events);
            }
            Err(e) => events.push(Event::Refused(e.to_string())),
        }
    }

    fn begin_catch_up(&mut self, docs: impl Iterator<Item = DocumentId>, events: &mut Vec<Event>) {
        self.awaiting.extend(docs);
        self.phase = Phase::CatchingUp;
        if self.awaiting.is_empty() {
            self.phase = Phase::Live;
            events.push(Event::CaughtUp);
        }
    }

    fn done_with(&mut self, doc: DocumentId, events: &mut Vec<Event>) {
        if self.awaiting.remove(&doc) && self.awaiting.is_empty() && self.phase == Phase::CatchingUp
        {
            self.phase = Phase::Live;
            events.push(Event::CaughtUp);
        }
    }

    /// Asks the relay for a document this device does not have.
    fn request(&mut self, doc: DocumentId, events: &mut Vec<Event>) {
        let state = self.syncs.entry(doc).or_default();
        let Some(message) = Automerge::new().generate_sync_message(state) else {
            return;
        };
        let request = Message::Request {
            sender_id: self.peer_id.clone(),
            target_id: self.relay.clone().unwrap_or_default(),
            document_id: doc,
            data: message.encode(),
        };
        self.send(request, events);
    }

    /// Starts a document's sync afresh: after the device replaced its copy (discarding changes
    /// the relay refused), what it last told the relay no longer holds.
    pub fn resync(&mut self, id: DocumentId, docs: &mut impl ClientDocs) -> Vec<Event> {
        self.syncs.remove(&id);
        if self.phase == Phase::Offline {
            return Vec::new();
        }
        self.sync_documents(&[id], docs)
    }

    /// After [`Event::Load`]: starts syncing these local documents.
    pub fn sync_documents(&mut self, ids: &[DocumentId], docs: &mut impl ClientDocs) -> Vec<Event> {
        let mut events = Vec::new();
        for id in ids {
            if docs.get_mut(id).is_some() {
                self.push(*id, docs, &mut events);
            } else {
                self.request(*id, &mut events);
            }
        }
        events
    }

    /// A local change to a document: send it if connected.
    pub fn local_change(&mut self, id: &DocumentId, docs: &mut impl ClientDocs) -> Vec<Event> {
        let mut events = Vec::new();
        if matches!(self.phase, Phase::CatchingUp | Phase::Live) {
            self.push(*id, docs, &mut events);
        }
        events
    }

    fn push(&mut self, id: DocumentId, docs: &mut impl ClientDocs, events: &mut Vec<Event>) {
        let Some(doc) = docs.get_mut(&id) else { return };
        let state = self.syncs.entry(id).or_default();
        if let Some(message) = doc.generate_sync_message(state) {
            let sync = Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: self.relay.clone().unwrap_or_default(),
                document_id: id,
                data: message.encode(),
            };
            self.send(sync, events);
        }
    }

    fn on_sync(
        &mut self,
        id: DocumentId,
        data: &[u8],
        docs: &mut impl ClientDocs,
        events: &mut Vec<Event>,
    ) {
        let message = match crate::sync_data::decode(data) {
            Ok(m) => m,
            Err(e) => {
                events.push(Event::Refused(format!(
                    "the relay sent sync data for {id} that {e}"
                )));
                return;
            }
        };
        if docs.get_mut(&id).is_none() {
            docs.create(&id);
        }
        let Some(doc) = docs.get_mut(&id) else { return };
        let before = doc.get_heads();
        let state = self.syncs.entry(id).or_default();
        if let Err(e) = doc.receive_sync_message(state, message) {
            events.push(Event::Refused(format!(
                "changes for {id} could not be applied ({e})"
            )));
            return;
        }
        let heads = doc.get_heads();
        if heads != before {
            events.push(Event::Changed(id));
        }
        let reply = doc.generate_sync_message(state);
        // In step: the relay has told us its heads and they are exactly ours, so it has every
        // change we have and we have all of its. Only acknowledgements remain to be sent.
        let mut theirs = state.their_heads.clone().unwrap_or_default();
        theirs.sort();
        let in_step = !heads.is_empty() && theirs == heads;
        let nothing_anywhere =
            heads.is_empty() && state.their_heads.as_ref().is_some_and(Vec::is_empty);
        if in_step {
            events.push(Event::Acknowledged(id, heads));
        }
        if let Some(reply) = reply {
            let sync = Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: self.relay.clone().unwrap_or_default(),
                document_id: id,
                data: reply.encode(),
            };
            self.send(sync, events);
        }
        if in_step || nothing_anywhere {
            self.done_with(id, events);
        }
    }
}

/// Documents in memory, for tests and native peers.
#[derive(Default)]
pub struct MemoryDocs {
    /// The documents.
    pub docs: HashMap<DocumentId, Automerge>,
}

impl ClientDocs for MemoryDocs {
    fn catalog(&self) -> Vec<(DocumentId, Vec<ChangeHash>)> {
        self.docs
            .iter()
            .map(|(id, d)| (*id, d.get_heads()))
            .collect()
    }

    fn get_mut(&mut self, id: &DocumentId) -> Option<&mut Automerge> {
        self.docs.get_mut(id)
    }

    fn create(&mut self, id: &DocumentId) -> &mut Automerge {
        self.docs.entry(*id).or_default()
    }
}
