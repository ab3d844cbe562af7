//! Documents restricted to groups, at the relay: to a peer in none of the groups such a document
//! does not exist. Not answered, not in the catalog, not fanned out, no ephemeral messages, and
//! a peer that held it before the restriction is told once that it is gone and hears no more.
//! Driven by plain Automerge peers, as the JavaScript automerge-repo is one.

use std::collections::VecDeque;

use automerge::sync::{self, SyncDoc};
use automerge::{transaction::Transactable, Automerge, Change, ChangeHash, ReadDoc, ROOT};
use outpost_sync::gate::Judge;
use outpost_sync::hub::{ConnId, Grant, Hub, HubStorage, Input, MemoryStorage, Output};
use outpost_sync::reconcile::{Initiator, Step};
use outpost_sync::wire::{self, Message, PeerMetadata, RECONCILE_VERSION};
use outpost_sync::DocumentId;

/// Keeps everything; a document's readers are the comma-separated groups in its `readers` key.
struct Readers;

impl Judge for Readers {
    fn judge(
        &mut self,
        _: &Grant,
        _: &DocumentId,
        _: &Automerge,
        _: &[ChangeHash],
        _: &[ChangeHash],
        _: &Change,
    ) -> Result<(), String> {
        Ok(())
    }

    fn readers(&mut self, doc: &Automerge) -> Option<Vec<String>> {
        let (value, _) = doc.get(ROOT, "readers").unwrap()?;
        let text = value.into_scalar().ok()?.into_string().ok()?;
        let groups: Vec<String> = text
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect();
        (!groups.is_empty()).then_some(groups)
    }
}

#[derive(Default)]
struct Heard {
    syncs: usize,
    unavailable: usize,
    ephemeral: usize,
    reconcile: Vec<Vec<u8>>,
}

struct Peer {
    name: String,
    conn: ConnId,
    doc: Automerge,
    state: sync::State,
    heard: Heard,
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
            hub: Hub::new("relay", "relay-storage", 100).with_judge(Readers),
            storage: MemoryStorage::default(),
            peers: Vec::new(),
            queue: VecDeque::new(),
            doc: DocumentId::from_random([9; 16]),
        }
    }

    /// A peer of `groups` joins (an Outpost client if `outpost`, wanting every document) and
    /// asks for the document, or offers it if it has it.
    fn join(&mut self, name: &str, groups: &[&str], outpost: bool, doc: Automerge) -> usize {
        let conn = self.peers.len() as ConnId + 1;
        let grant = Grant {
            user: name.into(),
            workspace: "acme".into(),
            role: "agent".into(),
            device: format!("{name}-phone"),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        };
        self.hub
            .handle(Input::Connected { conn, grant }, &mut self.storage);
        self.peers.push(Peer {
            name: name.into(),
            conn,
            doc,
            state: sync::State::new(),
            heard: Heard::default(),
        });
        let join = Message::Join {
            sender_id: name.into(),
            peer_metadata: PeerMetadata {
                outpost_reconcile: outpost.then_some(RECONCILE_VERSION),
                ..Default::default()
            },
            supported_protocol_versions: Some(vec!["1".into()]),
        };
        self.queue.push_back((conn, wire::encode(&join)));
        let i = self.peers.len() - 1;
        let lacks = self.peers[i].doc.get_heads().is_empty();
        self.speak(i, lacks);
        self.settle();
        i
    }

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

    fn send(&mut self, i: usize, message: Message) {
        self.queue
            .push_back((self.peers[i].conn, wire::encode(&message)));
    }

    fn settle(&mut self) {
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
                        peer.heard.syncs += 1;
                        let m = sync::Message::decode(&data).unwrap();
                        peer.doc.receive_sync_message(&mut peer.state, m).unwrap();
                        self.speak(i, false);
                    }
                    Message::DocUnavailable { .. } => self.peers[i].heard.unavailable += 1,
                    Message::Ephemeral { .. } => self.peers[i].heard.ephemeral += 1,
                    Message::Reconcile { data, .. } => self.peers[i].heard.reconcile.push(data),
                    _ => {}
                }
            }
        }
    }

    fn edit(&mut self, i: usize, key: &str, value: &str) {
        let peer = &mut self.peers[i];
        let mut tx = peer.doc.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
        self.speak(i, false);
        self.settle();
    }

    fn title(&self, i: usize) -> Option<String> {
        let (value, _) = self.peers[i].doc.get(ROOT, "title").unwrap()?;
        value.into_scalar().ok()?.into_string().ok()
    }

    /// The documents the relay's catalog offers peer `i` (it holds none itself).
    fn catalog(&mut self, i: usize) -> Vec<DocumentId> {
        let (mut initiator, first) = Initiator::start(std::iter::empty()).unwrap();
        let mut query = first;
        loop {
            let sender_id = self.peers[i].name.clone();
            self.send(
                i,
                Message::Reconcile {
                    sender_id,
                    target_id: "relay".into(),
                    data: query,
                },
            );
            self.settle();
            let answer = self.peers[i].heard.reconcile.pop().expect("an answer");
            match initiator.step(&answer).unwrap() {
                Step::Continue(next) => query = next,
                Step::Done(docs) => return docs.into_iter().collect(),
            }
        }
    }
}

fn incident(readers: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "title", "Phishing mail with a payroll link")
        .unwrap();
    if !readers.is_empty() {
        tx.put(ROOT, "readers", readers).unwrap();
    }
    tx.commit();
    doc
}

#[test]
fn a_restricted_document_reaches_its_groups_and_nobody_else() {
    let mut net = Net::new();
    let sam = net.join("sam", &["security"], true, incident("security,legal"));
    let lee = net.join("lee", &["legal"], false, Automerge::new());
    let dan = net.join("dan", &["desk"], false, Automerge::new());
    let otto = net.join("otto", &[], true, Automerge::new());
    assert_eq!(
        net.title(lee).as_deref(),
        Some("Phishing mail with a payroll link")
    );
    assert_eq!(net.title(dan), None, "dan asked and was told nothing");
    assert_eq!(net.peers[dan].heard.unavailable, 1);
    assert_eq!(net.peers[dan].heard.syncs, 0);

    // Every later change reaches the groups, never the others: not the asker, not an Outpost
    // client that wants every document of the workspace.
    net.edit(sam, "notes", "Blocked the sender domain");
    net.edit(lee, "notes", "Legal hold placed");
    assert_eq!(
        net.peers[sam].doc.get_heads(),
        net.peers[lee].doc.get_heads()
    );
    for outsider in [dan, otto] {
        assert_eq!(
            net.peers[outsider].heard.syncs, 0,
            "{}",
            net.peers[outsider].name
        );
        assert!(net.peers[outsider].doc.get_heads().is_empty());
    }
    // Nor is it in the catalog an outsider reconciles against, while a member's lists it.
    assert_eq!(net.catalog(otto), Vec::<DocumentId>::new());
    assert_eq!(net.catalog(sam), vec![net.doc]);
}

#[test]
fn an_outsider_cannot_push_into_a_restricted_document_or_its_ephemeral_channel() {
    let mut net = Net::new();
    let open = incident("");
    let sam = net.join("sam", &["security"], true, open.clone());
    // Dan held the open incident, then it was restricted while he was away.
    let dan = net.join("dan", &["desk"], false, Automerge::new());
    assert!(net.title(dan).is_some());
    net.edit(sam, "readers", "security");
    assert_eq!(
        net.peers[dan].heard.unavailable, 1,
        "told once that it is gone"
    );
    let heard = net.peers[dan].heard.syncs;

    // His offline edit is not applied, and the relay says the document is unavailable.
    net.edit(dan, "title", "Nothing to see here");
    let stored = net.storage.load(&net.doc).unwrap().unwrap().1;
    let stored = Automerge::load(&stored).unwrap();
    let (title, _) = stored.get(ROOT, "title").unwrap().unwrap();
    assert_eq!(title.as_str(), Some("Phishing mail with a payroll link"));
    assert_eq!(net.peers[dan].heard.unavailable, 2);
    assert_eq!(
        net.peers[dan].heard.syncs, heard,
        "no sync message ever again"
    );

    // Ephemeral messages (presence, refusals) neither come from him nor reach him.
    let ephemeral = |from: &str, count| Message::Ephemeral {
        sender_id: from.into(),
        target_id: "relay".into(),
        document_id: DocumentId::from_random([9; 16]),
        data: vec![0xa0],
        count,
        session_id: from.into(),
    };
    net.send(dan, ephemeral("dan", 1));
    net.send(sam, ephemeral("sam", 1));
    net.settle();
    assert_eq!(net.peers[sam].heard.ephemeral, 0);
    assert_eq!(net.peers[dan].heard.ephemeral, 0);
}

#[test]
fn lifting_a_restriction_opens_the_document_to_the_workspace_again() {
    let mut net = Net::new();
    let sam = net.join("sam", &["security"], true, incident("security"));
    let otto = net.join("otto", &[], true, Automerge::new());
    assert!(net.catalog(otto).is_empty());
    net.edit(sam, "readers", "");
    assert_eq!(net.catalog(otto), vec![net.doc]);
    // Otto's client now asks for it, as it asks for every document its catalog lacks.
    net.speak(otto, true);
    net.settle();
    assert_eq!(
        net.title(otto).as_deref(),
        Some("Phishing mail with a payroll link")
    );
}
