//! Fuzz target: four connections in two workspaces send arbitrary frames to the relay's hub, in
//! batches, while storage fails some commits.
//!
//! The input is a sequence of records: a control byte, a little-endian u16 length, then that many
//! bytes of frame. The control byte says:
//!
//! - bits 0-1: which connection sends the frame: 0 and 1 are in workspace `acme`, 2 and 3 in
//!   `globex`; 1 and 3 are Outpost clients (they hear about every document of their workspace),
//!   0 and 2 plain automerge-repo peers (only documents they asked for);
//! - bit 2 (`MORE`): the batch goes on after this frame (otherwise it ends here and commits);
//! - bit 3 (`FAIL`): this batch's commit fails (storage full);
//! - bit 4 (`RECONNECT`): the connection drops and reconnects (a new join) before the frame.
//!
//! Every connection joins as peer `fuzz`, so a frame valid on one is valid on all of them: the
//! fuzzer can send one workspace's document, request or ephemeral message to the other. A
//! connection the hub closes is disconnected, as the relay does, and reconnects when it next
//! sends.
//!
//! The hub must never panic, and after every batch:
//!
//! - (a) what it tells a peer it has is durable: every `sync` message released after a commit
//!   names heads and carries changes that storage holds for that document; storage holds exactly
//!   what the hub appended in committed batches, and each stored document's bytes load to the
//!   heads recorded beside them;
//! - (b) workspaces never mix: no `sync` or `ephemeral` message about a document stored for one
//!   workspace goes to a connection of the other, no document is stored under two workspaces, and
//!   the hub never appends to a document under a workspace other than the one storing it;
//! - (c) a failed commit acknowledges nothing and leaves nothing half-written: the batch releases
//!   no message (only closes), and storage reads exactly as before the batch, staged writes
//!   included (the hub rolled them back).
#![no_main]

use std::collections::{BTreeMap, HashMap};

use automerge::sync::{self, Message as SyncMessage};
use automerge::{Automerge, ChangeHash, ReadDoc};
use libfuzzer_sys::fuzz_target;
use outpost_sync::hub::{ConnId, Grant, Hub, HubStorage, Input, MemoryStorage, Output, StoreError};
use outpost_sync::wire::{self, Message, PeerMetadata, RECONCILE_VERSION};
use outpost_sync::DocumentId;

const WORKSPACES: [&str; 2] = ["acme", "globex"];
const MORE: u8 = 0b0000_0100;
const FAIL: u8 = 0b0000_1000;
const RECONNECT: u8 = 0b0001_0000;

/// Test-only storage around the real one: fails the next commit on demand (as a full disk
/// does: nothing of the batch is written), and records what the hub appended since the last
/// commit so the harness knows what storage should hold.
struct FailingStorage<S> {
    inner: S,
    fail_next_commit: bool,
    appended: Vec<(DocumentId, String, Vec<ChangeHash>)>,
}

impl<S: HubStorage> HubStorage for FailingStorage<S> {
    fn load(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.inner.load(doc)
    }

    fn append(
        &mut self,
        doc: &DocumentId,
        workspace: &str,
        changes: &[u8],
        heads: &[ChangeHash],
    ) -> Result<(), StoreError> {
        if let Some((owner, _)) = self.inner.heads(doc)? {
            assert_eq!(
                owner, workspace,
                "(b) the hub appended {doc}, stored for {owner}, under {workspace}"
            );
        }
        self.appended
            .push((*doc, workspace.to_string(), heads.to_vec()));
        self.inner.append(doc, workspace, changes, heads)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if std::mem::take(&mut self.fail_next_commit) {
            return Err(StoreError("the disk is full (fuzz input)".into()));
        }
        self.inner.commit()
    }

    fn rollback(&mut self) {
        self.inner.rollback()
    }

    fn heads(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<ChangeHash>)>, StoreError> {
        self.inner.heads(doc)
    }

    fn catalog(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<ChangeHash>)>, StoreError> {
        self.inner.catalog(workspace)
    }

    fn restrict(&mut self, doc: &DocumentId, readers: Option<&[String]>) -> Result<(), StoreError> {
        self.inner.restrict(doc, readers)
    }

    fn restricted(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<String>)>, StoreError> {
        self.inner.restricted(workspace)
    }
}

/// What storage holds, as the hub would read it: each document's workspace and sorted heads.
type Stored = BTreeMap<DocumentId, (String, Vec<ChangeHash>)>;

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

struct Slot {
    conn: Option<ConnId>,
    grant: Grant,
    metadata: PeerMetadata,
}

struct World {
    hub: Hub,
    storage: FailingStorage<MemoryStorage>,
    slots: Vec<Slot>,
    workspace_of: HashMap<ConnId, String>,
    next_conn: ConnId,
    /// Storage after the last batch.
    before: Stored,
    /// Each stored document loaded, at the heads it was loaded at.
    docs: HashMap<DocumentId, (Vec<ChangeHash>, Automerge)>,
    open_batch: bool,
}

impl World {
    fn new() -> World {
        let slots = (0..4)
            .map(|i| Slot {
                conn: None,
                grant: Grant {
                    user: format!("fuzz-{i}"),
                    workspace: WORKSPACES[i / 2].to_string(),
                    ..Default::default()
                },
                metadata: PeerMetadata {
                    outpost_reconcile: (i % 2 == 1).then_some(RECONCILE_VERSION),
                    ..PeerMetadata::default()
                },
            })
            .collect();
        World {
            // A small memory, so documents are often evicted and read back from storage.
            hub: Hub::new("relay", "relay-storage", 3),
            storage: FailingStorage {
                inner: MemoryStorage::default(),
                fail_next_commit: false,
                appended: Vec::new(),
            },
            slots,
            workspace_of: HashMap::new(),
            next_conn: 1,
            before: Stored::new(),
            docs: HashMap::new(),
            open_batch: false,
        }
    }

    /// The slot's connection, connecting and joining it first if it has none.
    fn conn(&mut self, slot: usize) -> ConnId {
        if let Some(conn) = self.slots[slot].conn {
            return conn;
        }
        let conn = self.next_conn;
        self.next_conn += 1;
        let s = &mut self.slots[slot];
        s.conn = Some(conn);
        self.workspace_of.insert(conn, s.grant.workspace.clone());
        let join = Message::Join {
            sender_id: "fuzz".into(),
            peer_metadata: s.metadata.clone(),
            supported_protocol_versions: Some(vec!["1".into()]),
        };
        let grant = s.grant.clone();
        self.hub
            .handle(Input::Connected { conn, grant }, &mut self.storage);
        self.hub.handle(
            Input::Frame {
                conn,
                bytes: wire::encode(&join),
            },
            &mut self.storage,
        );
        self.open_batch = true;
        conn
    }

    fn disconnect(&mut self, conn: ConnId) {
        for slot in &mut self.slots {
            if slot.conn == Some(conn) {
                slot.conn = None;
            }
        }
        self.hub
            .handle(Input::Disconnected { conn }, &mut self.storage);
    }

    fn frame(&mut self, control: u8, bytes: Vec<u8>) {
        let slot = usize::from(control & 0b11);
        if control & RECONNECT != 0 {
            if let Some(conn) = self.slots[slot].conn {
                self.disconnect(conn);
            }
        }
        let conn = self.conn(slot);
        self.hub
            .handle(Input::Frame { conn, bytes }, &mut self.storage);
        self.open_batch = true;
        if control & FAIL != 0 {
            self.storage.fail_next_commit = true;
        }
        if control & MORE == 0 {
            self.finish_batch();
        }
    }

    /// Reads storage through the interface the hub uses, checking it is self-consistent.
    fn read_storage(&mut self) -> Stored {
        let mut stored = Stored::new();
        for workspace in WORKSPACES {
            for (doc, heads) in self.storage.catalog(workspace).unwrap() {
                let previous = stored.insert(doc, (workspace.to_string(), sorted(heads)));
                assert!(
                    previous.is_none(),
                    "(b) {doc} is stored for both workspaces"
                );
            }
        }
        assert_eq!(
            self.storage.inner.len(),
            stored.len(),
            "storage holds documents of a workspace nobody has"
        );
        for (doc, (workspace, heads)) in &stored {
            // What the hub reads before deciding to load a document: it must agree with the
            // catalog (a write left staged after a failed commit shows up here).
            let (w, h) = self.storage.heads(doc).unwrap().expect("listed but gone");
            assert_eq!(
                (&w, &sorted(h)),
                (workspace, heads),
                "{doc}: storage's heads disagree with its catalog (a write neither committed nor \
                 rolled back)"
            );
            if self.docs.get(doc).is_none_or(|(at, _)| at != heads) {
                let (w, bytes) = self.storage.load(doc).unwrap().expect("listed but gone");
                assert_eq!(&w, workspace);
                let mut am = Automerge::new();
                am.load_incremental(&bytes)
                    .unwrap_or_else(|e| panic!("{doc}: the stored bytes do not load ({e})"));
                assert_eq!(
                    &sorted(am.get_heads()),
                    heads,
                    "{doc}: the stored bytes are not the document at its stored heads"
                );
                self.docs.insert(*doc, (heads.clone(), am));
            }
        }
        stored
    }

    fn finish_batch(&mut self) {
        if !self.open_batch {
            return;
        }
        self.open_batch = false;
        let failing = self.storage.fail_next_commit;
        let (outputs, error) = self.hub.finish_batch(&mut self.storage);
        assert_eq!(
            error.is_some(),
            failing,
            "a commit failed unasked, or did not"
        );
        let appended = std::mem::take(&mut self.storage.appended);
        let after = self.read_storage();
        if error.is_some() {
            for output in &outputs {
                assert!(
                    matches!(output, Output::Close { .. }),
                    "(c) a batch whose commit failed released {output:?}"
                );
            }
            assert_eq!(
                after, self.before,
                "(c) a failed commit changed what storage holds"
            );
        } else {
            let mut expected = self.before.clone();
            for (doc, workspace, heads) in appended {
                let entry = expected
                    .entry(doc)
                    .or_insert_with(|| (workspace.clone(), Vec::new()));
                assert_eq!(
                    entry.0, workspace,
                    "(b) {doc} appended under two workspaces"
                );
                entry.1 = sorted(heads);
            }
            assert_eq!(
                after, expected,
                "(a) storage does not hold exactly what the hub committed"
            );
            for output in &outputs {
                self.check_sent(output, &after);
            }
        }
        for output in outputs {
            if let Output::Close { conn, .. } = output {
                // As the relay does: the socket closes and the connection is gone.
                self.disconnect(conn);
            }
        }
        self.before = after;
    }

    /// Checks one message a committed batch released.
    fn check_sent(&self, output: &Output, stored: &Stored) {
        let Output::Send { conn, message } = output else {
            return;
        };
        let workspace = &self.workspace_of[conn];
        match message {
            Message::Sync {
                document_id, data, ..
            } => {
                let sync = SyncMessage::decode(data).unwrap_or_else(|e| {
                    panic!("the hub sent a sync message that does not decode ({e})")
                });
                self.check_sync(*conn, workspace, document_id, &sync, stored);
            }
            Message::Ephemeral { document_id, .. } => {
                if let Some((owner, _)) = stored.get(document_id) {
                    assert_eq!(
                        owner, workspace,
                        "(b) an ephemeral message about {document_id} of {owner} went to \
                         connection {conn} of {workspace}"
                    );
                }
            }
            _ => {}
        }
    }

    fn check_sync(
        &self,
        conn: ConnId,
        workspace: &str,
        doc: &DocumentId,
        sync: &sync::Message,
        stored: &Stored,
    ) {
        let Some((owner, _)) = stored.get(doc) else {
            // (A V2 message to a peer with nothing carries the whole document as one chunk, so
            // even an empty document sends a chunk: what matters is whether it holds changes.)
            assert!(
                sync.heads.is_empty() && !adds_changes(&Automerge::new(), sync),
                "(a) the hub told connection {conn} about {doc} at {:?}, or sent changes of it, \
                 and storage does not hold it",
                sync.heads
            );
            return;
        };
        assert_eq!(
            owner, workspace,
            "(b) a sync message about {doc} of {owner} went to connection {conn} of {workspace}"
        );
        let (_, am) = &self.docs[doc];
        for head in &sync.heads {
            assert!(
                am.get_change_meta_by_hash(head).is_some(),
                "(a) the hub told connection {conn} it has change {head} of {doc}, which storage \
                 does not hold"
            );
        }
        assert!(
            !adds_changes(am, sync),
            "(a) the hub sent connection {conn} changes of {doc} that storage does not hold"
        );
    }
}

/// Whether a sync message carries changes `doc` does not have.
fn adds_changes(doc: &Automerge, sync: &sync::Message) -> bool {
    if sync.changes.is_empty() {
        return false;
    }
    let mut copy = doc.clone();
    for chunk in sync.changes.iter() {
        copy.load_incremental(chunk)
            .unwrap_or_else(|e| panic!("the hub sent changes that do not load ({e})"));
    }
    copy.get_heads() != doc.get_heads() || !copy.get_missing_deps(&[]).is_empty()
}

fuzz_target!(|input: &[u8]| {
    let mut world = World::new();
    let mut rest = input;
    while rest.len() >= 3 {
        let control = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let bytes = rest[3..3 + len].to_vec();
        rest = &rest[3 + len..];
        world.frame(control, bytes);
    }
    world.finish_batch();
});
