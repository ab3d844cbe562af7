//! The relay's and the clients' protocol logic together, in memory, message by message: peers
//! who are never online at the same time converge, reconnects are cheap, workspaces are sealed
//! off, bad input is refused, and nothing acknowledged is lost when storage fails or the relay
//! restarts.

use std::collections::VecDeque;

use automerge::{transaction::Transactable, Automerge, ObjType, ReadDoc, ROOT};
use outpost_sync::client::{Client, ClientDocs, Event, MemoryDocs, Phase};
use outpost_sync::hub::{ConnId, Grant, Hub, HubStorage, Input, MemoryStorage, Output, StoreError};
use outpost_sync::wire::{self, Message};
use outpost_sync::DocumentId;

/// The relay's storage here: in memory, on a disk that can fill up.
#[derive(Default)]
struct TestStorage {
    memory: MemoryStorage,
    /// Make the next commit fail, writing nothing, as a full disk does.
    fail_next_commit: bool,
}

impl std::ops::Deref for TestStorage {
    type Target = MemoryStorage;

    fn deref(&self) -> &MemoryStorage {
        &self.memory
    }
}

impl HubStorage for TestStorage {
    fn load(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.memory.load(doc)
    }

    fn append(
        &mut self,
        doc: &DocumentId,
        workspace: &str,
        changes: &[u8],
        heads: &[automerge::ChangeHash],
    ) -> Result<(), StoreError> {
        self.memory.append(doc, workspace, changes, heads)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if std::mem::take(&mut self.fail_next_commit) {
            return Err(StoreError("the disk is full".into()));
        }
        self.memory.commit()
    }

    fn rollback(&mut self) {
        self.memory.rollback();
    }

    fn heads(
        &mut self,
        doc: &DocumentId,
    ) -> Result<Option<(String, Vec<automerge::ChangeHash>)>, StoreError> {
        self.memory.heads(doc)
    }

    fn catalog(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<automerge::ChangeHash>)>, StoreError> {
        self.memory.catalog(workspace)
    }

    fn restrict(&mut self, doc: &DocumentId, readers: Option<&[String]>) -> Result<(), StoreError> {
        self.memory.restrict(doc, readers)
    }

    fn restricted(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<String>)>, StoreError> {
        self.memory.restricted(workspace)
    }
}

struct Node {
    client: Client,
    docs: MemoryDocs,
    conn: ConnId,
    grant: Grant,
    online: bool,
    refusals: Vec<String>,
    changed: Vec<DocumentId>,
    acknowledged: Vec<(DocumentId, Vec<automerge::ChangeHash>)>,
}

/// A relay and its clients, wired together in memory.
struct Net {
    hub: Hub,
    storage: TestStorage,
    nodes: Vec<Node>,
    next_conn: ConnId,
    to_hub: VecDeque<(ConnId, Vec<u8>)>,
    /// Bytes and frames since the last reset, both directions.
    bytes: usize,
    frames: usize,
    closed: Vec<(ConnId, String)>,
    /// Messages the relay sent to connections that are not nodes (raw peers in a test).
    to_others: Vec<(ConnId, Message)>,
}

impl Net {
    fn new() -> Net {
        Net {
            hub: Hub::new("relay", "relay-storage", 10_000),
            storage: TestStorage::default(),
            nodes: Vec::new(),
            next_conn: 1,
            to_hub: VecDeque::new(),
            bytes: 0,
            frames: 0,
            closed: Vec::new(),
            to_others: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, workspace: &str) -> usize {
        self.nodes.push(Node {
            client: Client::new(name, Some(format!("{name}-storage"))),
            docs: MemoryDocs::default(),
            conn: 0,
            grant: Grant {
                user: name.into(),
                workspace: workspace.into(),
                ..Default::default()
            },
            online: false,
            refusals: Vec::new(),
            changed: Vec::new(),
            acknowledged: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// A plain automerge-repo peer (not a node) connects as `name` in `workspace`, joins and
    /// asks for `id` holding nothing of it, as automerge-repo's `find` does.
    fn plain_peer_asks(&mut self, conn: ConnId, name: &str, workspace: &str, id: DocumentId) {
        use automerge::sync::SyncDoc;
        let request = Automerge::new()
            .generate_sync_message(&mut automerge::sync::State::new())
            .expect("an empty document asks for everything")
            .encode();
        let grant = Grant {
            user: name.into(),
            workspace: workspace.into(),
            ..Default::default()
        };
        self.hub
            .handle(Input::Connected { conn, grant }, &mut self.storage);
        let join = Message::Join {
            sender_id: name.into(),
            peer_metadata: Default::default(),
            supported_protocol_versions: Some(vec!["1".into()]),
        };
        let ask = Message::Request {
            sender_id: name.into(),
            target_id: "relay".into(),
            document_id: id,
            data: request,
        };
        self.to_hub.push_back((conn, wire::encode(&join)));
        self.to_hub.push_back((conn, wire::encode(&ask)));
        self.settle();
    }

    /// A node that syncs only its own documents ([`Client::scoped`]).
    fn add_scoped(&mut self, name: &str, workspace: &str) -> usize {
        let i = self.add(name, workspace);
        self.nodes[i].client = Client::scoped(name, None);
        i
    }

    fn connect(&mut self, i: usize) {
        let conn = self.next_conn;
        self.next_conn += 1;
        let node = &mut self.nodes[i];
        node.conn = conn;
        node.online = true;
        self.hub.handle(
            Input::Connected {
                conn,
                grant: node.grant.clone(),
            },
            &mut self.storage,
        );
        let events = node.client.connected();
        self.client_events(i, events);
        self.settle();
    }

    fn disconnect(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.online = false;
        node.client.disconnected();
        self.hub
            .handle(Input::Disconnected { conn: node.conn }, &mut self.storage);
    }

    fn client_events(&mut self, i: usize, events: Vec<Event>) {
        let mut queue: VecDeque<Event> = events.into();
        while let Some(event) = queue.pop_front() {
            let node = &mut self.nodes[i];
            match event {
                Event::Send(m) => {
                    let bytes = wire::encode(&m);
                    self.bytes += bytes.len();
                    self.frames += 1;
                    self.to_hub.push_back((node.conn, bytes));
                }
                Event::Load(ids) => queue.extend(node.client.sync_documents(&ids, &mut node.docs)),
                Event::Refused(r) => node.refusals.push(r),
                Event::ChangesRefused(_, r) => node.refusals.push(r.reason),
                Event::Changed(d) => node.changed.push(d),
                Event::Acknowledged(d, heads) => node.acknowledged.push((d, heads)),
                Event::CaughtUp | Event::Unavailable(_) => {}
            }
        }
    }

    /// Delivers messages until nobody has anything to say.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            if self.to_hub.is_empty() {
                return;
            }
            // One batch: everything queued for the relay.
            while let Some((conn, bytes)) = self.to_hub.pop_front() {
                self.hub
                    .handle(Input::Frame { conn, bytes }, &mut self.storage);
            }
            let (outputs, _) = self.hub.finish_batch(&mut self.storage);
            for output in outputs {
                match output {
                    Output::Send { conn, message } => {
                        let Some(i) = self.nodes.iter().position(|n| n.conn == conn && n.online)
                        else {
                            self.to_others.push((conn, message));
                            continue;
                        };
                        let bytes = wire::encode(&message);
                        self.bytes += bytes.len();
                        self.frames += 1;
                        let node = &mut self.nodes[i];
                        let events = node.client.receive(&bytes, &mut node.docs);
                        self.client_events(i, events);
                    }
                    Output::Close { conn, reason } => {
                        self.closed.push((conn, reason));
                        if let Some(i) = self.nodes.iter().position(|n| n.conn == conn && n.online)
                        {
                            self.disconnect(i);
                        }
                    }
                }
            }
        }
        panic!("the network never went quiet");
    }

    /// A local edit on a node, sent at once if it is online.
    fn edit(&mut self, i: usize, doc: DocumentId, key: &str, value: &str) {
        let node = &mut self.nodes[i];
        let am = node.docs.create(&doc);
        am.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, value).map(|_| ()))
            .unwrap();
        if node.online {
            let events = node.client.local_change(&doc, &mut node.docs);
            self.client_events(i, events);
            self.settle();
        }
    }

    /// Creates a document with its notes list, as one peer does when logging an incident (a
    /// document's objects are created once, never concurrently).
    fn create(&mut self, i: usize, doc: DocumentId, title: &str) {
        let node = &mut self.nodes[i];
        let am = node.docs.create(&doc);
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "title", title)?;
            tx.put_object(ROOT, "notes", ObjType::List)?;
            Ok(())
        })
        .unwrap();
        if node.online {
            let events = node.client.local_change(&doc, &mut node.docs);
            self.client_events(i, events);
            self.settle();
        }
    }

    /// Appends a note (a list item) so concurrent notes can be checked.
    fn note(&mut self, i: usize, doc: DocumentId, text: &str) {
        let node = &mut self.nodes[i];
        let am = node.docs.create(&doc);
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            let (_, notes) = tx
                .get(ROOT, "notes")?
                .expect("documents are created with their notes list");
            let len = tx.length(&notes);
            tx.insert(&notes, len, text)?;
            Ok(())
        })
        .unwrap();
        if node.online {
            let events = node.client.local_change(&doc, &mut node.docs);
            self.client_events(i, events);
            self.settle();
        }
    }

    fn value(&self, i: usize, doc: &DocumentId, key: &str) -> Option<String> {
        let am = self.nodes[i].docs.docs.get(doc)?;
        am.get(ROOT, key)
            .ok()
            .flatten()
            .and_then(|(v, _)| v.as_str().map(String::from))
    }

    fn notes(&self, i: usize, doc: &DocumentId) -> Vec<String> {
        let Some(am) = self.nodes[i].docs.docs.get(doc) else {
            return vec![];
        };
        let Some((_, list)) = am.get(ROOT, "notes").ok().flatten() else {
            return vec![];
        };
        let mut all: Vec<String> = (0..am.length(&list))
            .filter_map(|n| {
                am.get(&list, n)
                    .ok()
                    .flatten()
                    .and_then(|(v, _)| v.as_str().map(String::from))
            })
            .collect();
        all.sort();
        all
    }

    fn reset_counters(&mut self) {
        self.bytes = 0;
        self.frames = 0;
    }
}

fn doc(n: u32) -> DocumentId {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&n.to_be_bytes());
    b[15] = 0xaa;
    DocumentId::from_bytes(b)
}

#[test]
fn two_peers_who_edit_offline_converge_through_the_relay() {
    let mut net = Net::new();
    let (a, b) = (net.add("alice", "w"), net.add("bob", "w"));
    let shared = doc(1);
    net.connect(a);
    net.create(a, shared, "Email down");
    net.connect(b);
    assert_eq!(
        net.value(b, &shared, "title").as_deref(),
        Some("Email down")
    );
    net.disconnect(a);
    net.disconnect(b);
    // Both offline: notes and one field each.
    net.note(a, shared, "alice: rebooted mail-01");
    net.note(b, shared, "bob: users on floor 3 ok");
    net.edit(a, doc(2), "title", "Printer jam");
    net.edit(b, doc(3), "title", "VPN slow");
    net.connect(a);
    net.connect(b);
    net.connect(a); // alice reconnects to pick up what bob pushed after her
    for i in [a, b] {
        assert_eq!(
            net.notes(i, &shared),
            ["alice: rebooted mail-01", "bob: users on floor 3 ok"]
        );
        assert_eq!(
            net.value(i, &doc(2), "title").as_deref(),
            Some("Printer jam")
        );
        assert_eq!(net.value(i, &doc(3), "title").as_deref(), Some("VPN slow"));
    }
    assert_eq!(
        net.nodes[a].docs.docs[&shared].get_heads(),
        net.nodes[b].docs.docs[&shared].get_heads()
    );
    assert!(net.nodes[a].refusals.is_empty() && net.nodes[b].refusals.is_empty());
}

#[test]
fn three_peers_never_online_together_still_converge() {
    let mut net = Net::new();
    let ids: Vec<usize> = ["ana", "ben", "cy"]
        .iter()
        .map(|n| net.add(n, "w"))
        .collect();
    let shared = doc(7);
    // Ana logs the incident; each colleague picks it up once, alone, before the shift.
    net.create(ids[0], shared, "Core switch flapping");
    for &i in &ids {
        net.connect(i);
        net.disconnect(i);
    }
    for (turn, &i) in ids.iter().enumerate() {
        net.note(i, shared, &format!("note {turn}"));
        net.edit(i, doc(100 + turn as u32), "title", &format!("own {turn}"));
        net.connect(i);
        net.disconnect(i);
    }
    for &i in &ids {
        net.connect(i);
        net.disconnect(i);
    }
    for &i in &ids {
        assert_eq!(
            net.notes(i, &shared),
            ["note 0", "note 1", "note 2"],
            "peer {i}"
        );
        for turn in 0..3u32 {
            assert_eq!(
                net.value(i, &doc(100 + turn), "title"),
                Some(format!("own {turn}"))
            );
        }
    }
}

#[test]
fn live_changes_reach_other_peers_without_asking() {
    let mut net = Net::new();
    let (a, b) = (net.add("alice", "w"), net.add("bob", "w"));
    net.connect(a);
    net.connect(b);
    net.edit(a, doc(5), "title", "New incident while bob is online");
    assert_eq!(
        net.value(b, &doc(5), "title").as_deref(),
        Some("New incident while bob is online")
    );
    assert!(net.nodes[b].changed.contains(&doc(5)));
    net.edit(b, doc(5), "state", "in_progress");
    assert_eq!(
        net.value(a, &doc(5), "state").as_deref(),
        Some("in_progress")
    );
}

#[test]
fn reconnecting_with_thousands_of_unchanged_documents_is_one_small_round_trip() {
    let mut net = Net::new();
    let a = net.add("alice", "w");
    for n in 0..2_000 {
        net.edit(a, doc(n), "title", &format!("incident {n}"));
    }
    net.connect(a);
    assert_eq!(net.storage.len(), 2_000);
    net.disconnect(a);

    net.reset_counters();
    net.connect(a);
    assert_eq!(net.nodes[a].client.phase(), Phase::Live);
    assert_eq!(net.nodes[a].client.stats().reconcile_rounds, 1);
    assert_eq!(net.nodes[a].client.stats().differing, 0);
    assert_eq!(net.frames, 4, "join, peer, one reconcile round trip");
    assert!(net.bytes < 1_500, "{} bytes on the wire", net.bytes);

    // One changed document costs only that document's sync.
    net.disconnect(a);
    net.edit(a, doc(42), "title", "changed offline");
    net.reset_counters();
    net.connect(a);
    assert_eq!(net.nodes[a].client.stats().differing, 1);
    assert!(net.frames < 12, "{} frames", net.frames);
}

#[test]
fn documents_the_catalogs_agree_on_are_acknowledged_without_syncing_them() {
    // A device that stored what it pulled but was closed before it recorded the relay's
    // acknowledgements learns at the next catch-up that the relay has it all, without a sync
    // message per document.
    let mut net = Net::new();
    let a = net.add("alice", "w");
    for n in 0..50 {
        net.edit(a, doc(n), "title", &format!("incident {n}"));
    }
    net.connect(a);
    net.disconnect(a);
    net.edit(a, doc(7), "title", "changed offline");
    net.nodes[a].acknowledged.clear();

    net.connect(a);
    assert_eq!(net.nodes[a].client.stats().differing, 1);
    let mut acked = net.nodes[a].acknowledged.clone();
    acked.sort();
    acked.dedup();
    assert_eq!(
        acked.len(),
        50,
        "every document, the changed one after its sync"
    );
    for (d, heads) in &acked {
        assert_eq!(heads, &net.nodes[a].docs.docs[d].get_heads(), "{d}");
    }
}

#[test]
fn a_new_device_pulls_everything_in_its_workspace_and_nothing_else() {
    let mut net = Net::new();
    let (a, b, outsider) = (
        net.add("alice", "acme"),
        net.add("bob", "acme"),
        net.add("eve", "globex"),
    );
    net.connect(a);
    for n in 0..50 {
        net.edit(a, doc(n), "title", "acme incident");
    }
    net.connect(outsider);
    net.edit(outsider, doc(900), "title", "globex incident");
    net.connect(b);
    assert_eq!(net.nodes[b].docs.docs.len(), 50);
    assert!(net.value(b, &doc(900), "title").is_none());
    assert_eq!(
        net.nodes[outsider].docs.docs.len(),
        1,
        "no acme documents leak to globex"
    );
}

#[test]
fn another_workspaces_document_is_indistinguishable_from_a_missing_one() {
    let mut net = Net::new();
    let (a, eve) = (net.add("alice", "acme"), net.add("eve", "globex"));
    net.connect(a);
    net.edit(a, doc(1), "title", "secret acme incident");
    net.connect(eve);
    // Eve asks for it by id, and then tries to write into it.
    let eve_conn = net.nodes[eve].conn;
    let answers = |net: &mut Net, message: Message| {
        net.hub.handle(
            Input::Frame {
                conn: eve_conn,
                bytes: wire::encode(&message),
            },
            &mut net.storage,
        );
        net.hub.finish_batch(&mut net.storage).0
    };
    let mut probe = Automerge::new();
    let mut state = automerge::sync::State::new();
    use automerge::sync::SyncDoc;
    let request = probe.generate_sync_message(&mut state).unwrap().encode();
    for (kind, document_id) in [("request", doc(1)), ("request", doc(999))] {
        let out = answers(
            &mut net,
            Message::Request {
                sender_id: "eve".into(),
                target_id: "relay".into(),
                document_id,
                data: request.clone(),
            },
        );
        assert_eq!(
            out,
            vec![Output::Send {
                conn: eve_conn,
                message: Message::DocUnavailable {
                    sender_id: "relay".into(),
                    target_id: "eve".into(),
                    document_id
                }
            }],
            "{kind} {document_id}"
        );
    }
    probe
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "title", "pwned").map(|_| ())
        })
        .unwrap();
    let mut state = automerge::sync::State::new();
    let write = probe.generate_sync_message(&mut state).unwrap().encode();
    let out = answers(
        &mut net,
        Message::Sync {
            sender_id: "eve".into(),
            target_id: "relay".into(),
            document_id: doc(1),
            data: write,
        },
    );
    assert!(
        matches!(
            &out[..],
            [Output::Send {
                message: Message::DocUnavailable { .. },
                ..
            }]
        ),
        "{out:?}"
    );
    net.connect(a);
    assert_eq!(
        net.value(a, &doc(1), "title").as_deref(),
        Some("secret acme incident")
    );
}

#[test]
fn a_plain_peer_told_unavailable_gets_the_document_when_it_arrives() {
    // automerge-repo marks a document unavailable and never asks again, so the relay remembers
    // the ask, as automerge-repo's own sync server does; it serves only the asker's workspace.
    let mut net = Net::new();
    let alice = net.add("alice", "acme");
    let mut probe = Automerge::new();
    use automerge::sync::SyncDoc;
    let mut plain = Vec::new();
    for (name, workspace) in [("js-acme", "acme"), ("js-globex", "globex")] {
        let conn = 1000 + plain.len() as ConnId;
        net.plain_peer_asks(conn, name, workspace, doc(7));
        plain.push(conn);
    }
    let unavailable = |net: &Net, conn| {
        net.to_others.iter().any(|(c, m)| {
            *c == conn && matches!(m, Message::DocUnavailable { document_id, .. } if *document_id == doc(7))
        })
    };
    assert!(unavailable(&net, plain[0]) && unavailable(&net, plain[1]));
    net.to_others.clear();

    net.connect(alice);
    net.create(alice, doc(7), "boiler room flooded");
    let syncs_to = |net: &Net, conn| -> Vec<Vec<u8>> {
        net.to_others
            .iter()
            .filter_map(|(c, m)| match m {
                Message::Sync {
                    document_id, data, ..
                } if *c == conn && *document_id == doc(7) => Some(data.clone()),
                _ => None,
            })
            .collect()
    };
    assert!(
        !syncs_to(&net, plain[0]).is_empty(),
        "the asker in acme heard nothing"
    );
    // The plain peer syncs as automerge-repo would, until the relay has nothing more to say.
    let mut state = automerge::sync::State::new();
    for _ in 0..10 {
        let delivered = syncs_to(&net, plain[0]);
        net.to_others.clear();
        if delivered.is_empty() {
            break;
        }
        for data in delivered {
            let message = automerge::sync::Message::decode(&data).unwrap();
            probe.receive_sync_message(&mut state, message).unwrap();
        }
        if let Some(reply) = probe.generate_sync_message(&mut state) {
            let sync = Message::Sync {
                sender_id: "js-acme".into(),
                target_id: "relay".into(),
                document_id: doc(7),
                data: reply.encode(),
            };
            net.to_hub.push_back((plain[0], wire::encode(&sync)));
            net.settle();
        }
    }
    let title = probe.get(ROOT, "title").unwrap().map(|(v, id)| match v {
        automerge::Value::Object(ObjType::Text) => probe.text(&id).unwrap(),
        other => other.as_str().unwrap_or_default().to_string(),
    });
    assert_eq!(title.as_deref(), Some("boiler room flooded"));
    assert!(
        net.to_others.iter().all(|(c, _)| *c != plain[1]),
        "the asker in another workspace learned about acme's document"
    );
}

#[test]
fn ephemeral_messages_stay_in_their_workspace() {
    // A peer that asked for another workspace's document was told it is unavailable, and the
    // relay remembered the ask; that must not make it a watcher of the document's ephemeral
    // messages (presence, cursors) when its owners send them.
    let mut net = Net::new();
    let alice = net.add("alice", "acme");
    net.connect(alice);
    net.create(alice, doc(8), "badge readers down");
    let mut plain = Vec::new();
    for (name, workspace) in [
        ("js-acme", "acme"),
        ("js-acme-2", "acme"),
        ("js-globex", "globex"),
    ] {
        let conn = 2000 + plain.len() as ConnId;
        net.plain_peer_asks(conn, name, workspace, doc(8));
        plain.push(conn);
    }
    net.to_others.clear();
    let presence = Message::Ephemeral {
        sender_id: "js-acme".into(),
        target_id: "relay".into(),
        document_id: doc(8),
        data: b"ana is typing".to_vec(),
        count: 1,
        session_id: "s1".into(),
    };
    net.to_hub.push_back((plain[0], wire::encode(&presence)));
    net.settle();
    let heard = |conn| {
        net.to_others
            .iter()
            .any(|(c, m)| *c == conn && matches!(m, Message::Ephemeral { .. }))
    };
    assert!(
        heard(plain[1]),
        "a watcher in the same workspace heard nothing"
    );
    assert!(
        !heard(plain[2]),
        "a peer of another workspace got acme's ephemeral message"
    );
}

#[test]
fn a_scoped_client_hears_only_about_its_own_documents() {
    let mut net = Net::new();
    let (alice, probe) = (net.add("alice", "acme"), net.add_scoped("probe", "acme"));
    net.connect(alice);
    net.create(alice, doc(1), "shared");
    net.create(alice, doc(2), "not for the probe");
    // The probe has its own copy of doc 1 (as a load generator's device would).
    let copy = net.nodes[alice].docs.docs[&doc(1)].clone();
    net.nodes[probe].docs.docs.insert(doc(1), copy);
    net.connect(probe);
    assert_eq!(net.nodes[probe].client.phase(), Phase::Live);
    net.edit(alice, doc(1), "status", "on site");
    net.edit(alice, doc(2), "status", "elsewhere");
    assert_eq!(
        net.value(probe, &doc(1), "status").as_deref(),
        Some("on site")
    );
    assert!(!net.nodes[probe].docs.docs.contains_key(&doc(2)));
    // And what it writes still reaches full clients.
    net.edit(probe, doc(1), "eta", "10:30");
    assert_eq!(net.value(alice, &doc(1), "eta").as_deref(), Some("10:30"));
}

#[test]
fn bad_input_gets_an_error_and_a_closed_connection() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"\xff\xfe not cbor".to_vec(),
            "malformed message",
        ),
        (
            "before join",
            wire::encode(&Message::Leave {
                sender_id: "x".into(),
            }),
            "expected a join message first",
        ),
        (
            "unsupported version",
            wire::encode(&Message::Join {
                sender_id: "x".into(),
                peer_metadata: Default::default(),
                supported_protocol_versions: Some(vec!["9".into()]),
            }),
            "unsupported protocol version",
        ),
    ];
    for (name, frame, expected) in cases {
        let mut net = Net::new();
        net.hub.handle(
            Input::Connected {
                conn: 1,
                grant: Grant {
                    user: "u".into(),
                    workspace: "w".into(),
                    ..Default::default()
                },
            },
            &mut net.storage,
        );
        net.hub.handle(
            Input::Frame {
                conn: 1,
                bytes: frame,
            },
            &mut net.storage,
        );
        let (out, _) = net.hub.finish_batch(&mut net.storage);
        match &out[..] {
            [Output::Send {
                message: Message::Error { message, .. },
                ..
            }, Output::Close { .. }] => {
                assert!(message.contains(expected), "{name}: {message}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // After joining: impersonation, and a sync message that is not one.
    let mut net = Net::new();
    let a = net.add("alice", "w");
    net.connect(a);
    let conn = net.nodes[a].conn;
    for (frame, expected) in [
        (
            wire::encode(&Message::Leave {
                sender_id: "mallory".into(),
            }),
            "must come from the peer that joined",
        ),
        (
            wire::encode(&Message::Sync {
                sender_id: "alice".into(),
                target_id: "relay".into(),
                document_id: doc(1),
                data: vec![1, 2, 3],
            }),
            "not an Automerge sync message",
        ),
    ] {
        net.hub.handle(
            Input::Connected {
                conn: conn + 100,
                grant: net.nodes[a].grant.clone(),
            },
            &mut net.storage,
        );
        let join = Message::Join {
            sender_id: "alice".into(),
            peer_metadata: Default::default(),
            supported_protocol_versions: None,
        };
        net.hub.handle(
            Input::Frame {
                conn: conn + 100,
                bytes: wire::encode(&join),
            },
            &mut net.storage,
        );
        net.hub.handle(
            Input::Frame {
                conn: conn + 100,
                bytes: frame,
            },
            &mut net.storage,
        );
        let (out, _) = net.hub.finish_batch(&mut net.storage);
        let error = out.iter().find_map(|o| match o {
            Output::Send {
                message: Message::Error { message, .. },
                ..
            } => Some(message.clone()),
            _ => None,
        });
        assert!(
            error.as_deref().is_some_and(|m| m.contains(expected)),
            "{out:?}"
        );
        assert!(out.iter().any(|o| matches!(o, Output::Close { .. })));
        net.hub
            .handle(Input::Disconnected { conn: conn + 100 }, &mut net.storage);
    }
    assert_eq!(net.hub.stats().protocol_errors, 2);
}

/// Sync data whose Bloom filter claims one entry but has no bits (zero bits per entry, seven
/// probes): Automerge 0.12 divides by zero when it answers it.
fn poisoned_sync_data() -> Vec<u8> {
    automerge::sync::Message {
        heads: vec![],
        need: vec![],
        have: vec![automerge::sync::Have {
            last_sync: vec![],
            bloom: automerge::sync::BloomFilter::try_from(&[1u8, 0, 7][..]).unwrap(),
        }],
        changes: automerge::sync::ChunkList::empty(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode()
}

#[test]
fn a_sync_message_whose_bloom_filter_would_crash_automerge_is_refused() {
    // Found by the hub_frames fuzz target: a Bloom filter that claims entries but has no bits
    // makes Automerge 0.12 divide by zero when it answers, which would stop the hub for everyone.
    let mut net = Net::new();
    let a = net.add("alice", "w");
    net.connect(a);
    net.create(a, doc(1), "Printer on fire");
    let conn = 77;
    net.hub.handle(
        Input::Connected {
            conn,
            grant: Grant {
                user: "mallory".into(),
                workspace: "w".into(),
                ..Default::default()
            },
        },
        &mut net.storage,
    );
    let join = Message::Join {
        sender_id: "mallory".into(),
        peer_metadata: Default::default(),
        supported_protocol_versions: Some(vec!["1".into()]),
    };
    let sync = Message::Sync {
        sender_id: "mallory".into(),
        target_id: "relay".into(),
        document_id: doc(1),
        data: poisoned_sync_data(),
    };
    for frame in [wire::encode(&join), wire::encode(&sync)] {
        net.hub
            .handle(Input::Frame { conn, bytes: frame }, &mut net.storage);
    }
    let (out, _) = net.hub.finish_batch(&mut net.storage);
    let error = out.iter().find_map(|o| match o {
        Output::Send {
            message: Message::Error { message, .. },
            ..
        } => Some(message.clone()),
        _ => None,
    });
    assert!(
        error.as_deref().is_some_and(|m| m.contains("Bloom filter")),
        "{out:?}"
    );
    assert!(out.iter().any(|o| matches!(o, Output::Close { .. })));
    // The hub still serves everyone else.
    net.note(a, doc(1), "still syncing");
    let b = net.add("bob", "w");
    net.connect(b);
    assert_eq!(net.notes(b, &doc(1)), vec!["still syncing".to_string()]);
}

#[test]
fn a_failed_commit_acknowledges_nothing_and_the_client_resends() {
    let mut net = Net::new();
    let (a, b) = (net.add("alice", "w"), net.add("bob", "w"));
    net.connect(a);
    net.connect(b);
    net.storage.fail_next_commit = true;
    net.edit(a, doc(9), "title", "written while the disk was full");
    assert!(
        !net.nodes[a].online,
        "the relay closed the connection instead of acknowledging"
    );
    assert!(
        net.value(b, &doc(9), "title").is_none(),
        "nothing undurable was fanned out"
    );
    assert_eq!(net.storage.len(), 0);
    assert_eq!(
        net.value(a, &doc(9), "title").as_deref(),
        Some("written while the disk was full"),
        "the client kept it"
    );
    net.connect(a);
    assert_eq!(net.storage.len(), 1);
    net.connect(b);
    assert_eq!(
        net.value(b, &doc(9), "title").as_deref(),
        Some("written while the disk was full")
    );
}

#[test]
fn a_restarted_relay_has_everything_it_acknowledged() {
    let mut net = Net::new();
    let (a, b) = (net.add("alice", "w"), net.add("bob", "w"));
    net.connect(a);
    net.create(a, doc(1), "Storage array degraded");
    for n in 0..20 {
        net.note(a, doc(1), &format!("note {n}"));
    }
    // The relay process dies; its storage survives. A new hub starts on it.
    net.hub = Hub::new("relay", "relay-storage", 10);
    net.nodes[a].online = false;
    net.nodes[a].client.disconnected();
    net.connect(b);
    assert_eq!(net.notes(b, &doc(1)).len(), 20);
    assert!(net.hub.documents_in_memory() <= 10);
}

#[test]
fn a_relay_over_capacity_keeps_its_limit_and_every_document() {
    let mut net = Net::new();
    net.hub = Hub::new("relay", "relay-storage", 3);
    let (a, b) = (net.add("alice", "w"), net.add("bob", "w"));
    net.connect(a);
    for n in 1..=12 {
        net.create(a, doc(n), &format!("Incident {n}"));
        net.note(a, doc(n), "checked the rack");
    }
    assert_eq!(net.hub.documents_in_memory(), 3);
    let loads = net.storage.loads;
    net.connect(b);
    for n in 1..=12 {
        assert_eq!(net.notes(b, &doc(n)).len(), 1, "incident {n}");
    }
    assert!(net.hub.documents_in_memory() <= 3);
    // Each document is loaded once to send it; Bob's acknowledgements of the ones evicted since
    // are taken without loading them again.
    let pulled = net.storage.loads - loads;
    assert!(pulled <= 12, "{pulled} loads for a pull of 12");
    // And the relay still knows what Bob has: a later change reaches him as a change.
    net.note(a, doc(1), "replaced the fan");
    assert_eq!(net.notes(b, &doc(1)).len(), 2);
}

#[test]
fn a_relay_sending_a_bloom_filter_that_would_crash_automerge_is_refused_by_the_client() {
    // The same poisoned filter the hub refuses, from the other side. The client reads it with
    // the same Automerge code, so it refuses it the same way (before this it was taken as sync
    // data and answered), says so, and keeps working.
    let mut net = Net::new();
    let a = net.add("alice", "w");
    net.connect(a);
    net.create(a, doc(1), "Printer on fire");
    let node = &mut net.nodes[a];
    let events = node.client.handle(
        Message::Sync {
            sender_id: "relay".into(),
            target_id: "alice".into(),
            document_id: doc(1),
            data: poisoned_sync_data(),
        },
        &mut node.docs,
    );
    let refused: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Refused(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(
        refused.iter().any(|r| r.contains("Bloom filter")),
        "{events:?}"
    );
    // Still syncing normally.
    net.note(a, doc(1), "still syncing");
    let b = net.add("bob", "w");
    net.connect(b);
    assert_eq!(net.notes(b, &doc(1)), vec!["still syncing".to_string()]);
}
