//! The gate in front of the relay's documents, driven by plain Automerge peers (as the
//! JavaScript automerge-repo is one): a refused change is not stored, not forwarded and not
//! acknowledged, the peer is told why, the relay never asks for it again, and a change is judged
//! against the document as its author saw it.

use std::collections::VecDeque;

use automerge::sync::{self, SyncDoc};
use automerge::{transaction::Transactable, Automerge, Change, ChangeHash, ReadDoc, ROOT};
use outpost_sync::gate::{read_refusal, Judge, Refused};
use outpost_sync::hub::{ConnId, Grant, Hub, Input, MemoryStorage, Output};
use outpost_sync::wire::{self, Message};
use outpost_sync::DocumentId;

/// Refuses writing `secret`, anything from a `viewer`, and any change to a document that was
/// `locked` as the change's author saw it.
struct Rules;

impl Judge for Rules {
    fn judge(
        &mut self,
        grant: &Grant,
        _: &DocumentId,
        doc: &Automerge,
        before: &[ChangeHash],
        after: &[ChangeHash],
        _: &Change,
    ) -> Result<(), String> {
        if grant.role == "viewer" {
            return Err("viewers change nothing".into());
        }
        if doc.get_at(ROOT, "locked", before).unwrap().is_some() {
            return Err("the document is locked".into());
        }
        if doc.get_at(ROOT, "secret", after).unwrap().is_some() {
            return Err("no secrets".into());
        }
        Ok(())
    }
}

struct Peer {
    name: String,
    conn: ConnId,
    doc: Automerge,
    state: sync::State,
    refusals: Vec<Refused>,
    received: usize,
}

struct Net {
    hub: Hub,
    storage: MemoryStorage,
    peers: Vec<Peer>,
    queue: VecDeque<(ConnId, Vec<u8>)>,
    doc: DocumentId,
}

impl Net {
    fn new() -> Net {
        Net {
            hub: Hub::new("relay", "relay-storage", 100).with_judge(Rules),
            storage: MemoryStorage::default(),
            peers: Vec::new(),
            queue: VecDeque::new(),
            doc: DocumentId::from_random([7; 16]),
        }
    }

    fn join(&mut self, name: &str, role: &str, doc: Automerge) -> usize {
        let conn = self.peers.len() as ConnId + 1;
        let grant = Grant {
            user: name.into(),
            workspace: "acme".into(),
            role: role.into(),
            device: format!("{name}-phone"),
            groups: Vec::new(),
        };
        self.hub
            .handle(Input::Connected { conn, grant }, &mut self.storage);
        self.peers.push(Peer {
            name: name.into(),
            conn,
            doc,
            state: sync::State::new(),
            refusals: Vec::new(),
            received: 0,
        });
        let join = Message::Join {
            sender_id: name.into(),
            peer_metadata: Default::default(),
            supported_protocol_versions: Some(vec!["1".into()]),
        };
        self.queue.push_back((conn, wire::encode(&join)));
        let i = self.peers.len() - 1;
        // As automerge-repo does: `request` a document it lacks, `sync` one it has.
        let lacks = self.peers[i].doc.get_heads().is_empty();
        self.speak(i, lacks);
        self.settle();
        i
    }

    /// The peer sends what its sync state says it should (the first time as a request).
    fn speak(&mut self, i: usize, request: bool) {
        let peer = &mut self.peers[i];
        if let Some(m) = peer.doc.generate_sync_message(&mut peer.state) {
            let message = Message::sync_data(
                request,
                peer.name.clone(),
                "relay".to_string(),
                self.doc,
                m.encode(),
            );
            self.queue.push_back((peer.conn, wire::encode(&message)));
        }
    }

    /// Delivers everything until nobody has anything to say; returns how many frames moved.
    fn settle(&mut self) -> usize {
        let mut frames = 0;
        while let Some((conn, bytes)) = self.queue.pop_front() {
            frames += 1;
            assert!(frames < 1_000, "the sync never went quiet");
            self.hub
                .handle(Input::Frame { conn, bytes }, &mut self.storage);
            let (outputs, error) = self.hub.finish_batch(&mut self.storage);
            assert_eq!(error, None);
            for output in outputs {
                let Output::Send { conn, message } = output else {
                    panic!("the relay closed a connection: {output:?}");
                };
                let i = self.peers.iter().position(|p| p.conn == conn).unwrap();
                match message {
                    Message::Sync { data, .. } => {
                        let peer = &mut self.peers[i];
                        peer.received += 1;
                        let m = sync::Message::decode(&data).unwrap();
                        peer.doc.receive_sync_message(&mut peer.state, m).unwrap();
                        self.speak(i, false);
                    }
                    Message::Ephemeral { data, .. } => {
                        self.peers[i]
                            .refusals
                            .push(read_refusal(&data).expect("a refusal"));
                    }
                    _ => {}
                }
            }
        }
        frames
    }

    fn edit(
        &mut self,
        i: usize,
        edit: impl FnOnce(&mut automerge::transaction::Transaction),
    ) -> automerge::ChangeHash {
        let peer = &mut self.peers[i];
        let mut tx = peer.doc.transaction();
        edit(&mut tx);
        tx.commit().0.expect("a change")
    }

    fn stored(&mut self) -> Automerge {
        use outpost_sync::hub::HubStorage;
        let (_, bytes) = self.storage.load(&self.doc).unwrap().expect("stored");
        Automerge::load(&bytes).unwrap()
    }
}

fn created() -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "title", "Mail down").unwrap();
    tx.commit();
    doc
}

#[test]
fn a_refused_change_is_not_stored_forwarded_or_asked_for_again() {
    let mut net = Net::new();
    let alice = net.join("alice", "agent", created());
    let bob = net.join("bob", "agent", Automerge::new());
    assert_eq!(
        net.peers[bob].doc.get_heads(),
        net.peers[alice].doc.get_heads()
    );

    let secret = net.edit(alice, |tx| tx.put(ROOT, "secret", "hunter2").unwrap());
    net.speak(alice, false);
    let frames = net.settle();
    assert!(
        frames < 10,
        "{frames} frames: the relay kept asking for a refused change"
    );
    assert_eq!(
        net.peers[alice].refusals,
        vec![Refused {
            changes: vec![secret],
            reason: "no secrets".into()
        }]
    );
    assert!(net.stored().get_change_by_hash(&secret).is_none(), "stored");
    assert!(
        net.peers[bob].doc.get(ROOT, "secret").unwrap().is_none(),
        "forwarded"
    );

    // Alice keeps working on top of it: that is refused too, and nothing loops.
    let after = net.edit(alice, |tx| {
        tx.put(ROOT, "title", "Mail down for everyone").unwrap()
    });
    net.speak(alice, false);
    net.settle();
    assert!(net.stored().get_change_by_hash(&after).is_none());

    // Bob is unaffected and his own change flows to the relay and on.
    net.edit(bob, |tx| tx.put(ROOT, "assignee", "bob").unwrap());
    net.speak(bob, false);
    net.settle();
    assert_eq!(
        net.stored()
            .get(ROOT, "assignee")
            .unwrap()
            .unwrap()
            .0
            .as_str(),
        Some("bob")
    );
}

#[test]
fn a_viewer_is_refused_everything_and_later_changes_are_refused_as_built_on_it() {
    let mut net = Net::new();
    let _alice = net.join("alice", "agent", created());
    let mut copy = Automerge::new();
    copy.merge(&mut net.stored()).unwrap();
    let viewer = net.join("val", "viewer", copy);
    let first = net.edit(viewer, |tx| tx.put(ROOT, "title", "x").unwrap());
    let second = net.edit(viewer, |tx| tx.put(ROOT, "title", "y").unwrap());
    net.speak(viewer, false);
    net.settle();
    let refusal = &net.peers[viewer].refusals[0];
    assert_eq!(refusal.reason, "viewers change nothing");
    assert_eq!(refusal.changes, vec![first, second]);
    assert_eq!(
        net.stored().get(ROOT, "title").unwrap().unwrap().0.as_str(),
        Some("Mail down")
    );
}

#[test]
fn a_change_is_judged_against_the_document_its_author_saw() {
    let mut net = Net::new();
    let alice = net.join("alice", "agent", created());
    let bob = net.join("bob", "agent", Automerge::new());
    // Bob goes offline and edits; meanwhile Alice locks the document.
    let offline = net.edit(bob, |tx| tx.put(ROOT, "note", "checked the cable").unwrap());
    net.edit(alice, |tx| tx.put(ROOT, "locked", true).unwrap());
    net.speak(alice, false);
    net.settle();
    // Bob's change was made before the lock, so it is kept, and both converge.
    net.speak(bob, false);
    net.settle();
    assert!(net.peers[bob].refusals.is_empty());
    assert!(net.stored().get_change_by_hash(&offline).is_some());
    assert_eq!(
        net.peers[alice].doc.get_heads(),
        net.peers[bob].doc.get_heads()
    );
    // Now that Bob has seen the lock, his next change is refused.
    net.edit(bob, |tx| tx.put(ROOT, "note", "more").unwrap());
    net.speak(bob, false);
    net.settle();
    assert_eq!(net.peers[bob].refusals[0].reason, "the document is locked");
}

#[test]
fn a_change_whose_dependencies_have_not_arrived_waits_for_them_and_is_then_judged() {
    let mut net = Net::new();
    let alice = net.join("alice", "agent", created());
    let mut offline = net.peers[alice].doc.clone();
    let first = {
        let mut tx = offline.transaction();
        tx.put(ROOT, "a", 1).unwrap();
        tx.commit().0.unwrap()
    };
    let second = {
        let mut tx = offline.transaction();
        tx.put(ROOT, "secret", 2).unwrap();
        tx.commit().0.unwrap()
    };
    let third = {
        let mut tx = offline.transaction();
        tx.put(ROOT, "b", 3).unwrap();
        tx.commit().0.unwrap()
    };
    // Only the last change, as a bloom-filter false positive would make a peer send.
    let only_last = sync::Message {
        heads: vec![third],
        need: vec![],
        have: vec![],
        changes: vec![offline
            .get_change_by_hash(&third)
            .unwrap()
            .raw_bytes()
            .to_vec()]
        .into(),
        flags: None,
        version: sync::MessageVersion::V1,
    };
    let _ = (first, second);
    let message = Message::Sync {
        sender_id: "alice".into(),
        target_id: "relay".into(),
        document_id: net.doc,
        data: only_last.encode(),
    };
    net.peers[alice].doc = offline;
    net.queue
        .push_back((net.peers[alice].conn, wire::encode(&message)));
    net.settle();
    let stored = net.stored();
    assert!(
        stored.get_change_by_hash(&first).is_some(),
        "the relay asked for the missing change"
    );
    assert!(stored.get_change_by_hash(&second).is_none());
    assert!(
        stored.get_change_by_hash(&third).is_none(),
        "built on a refused change"
    );
    assert_eq!(net.peers[alice].refusals.len(), 1);
}
