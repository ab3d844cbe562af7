//! The sync service: the protocol hub on its own thread, with the storage it commits to.
//!
//! Connections send it frames; it handles them in batches (everything queued, up to a limit),
//! commits the batch's writes in one SQLite transaction, and only then routes the resulting
//! messages to the connections' outboxes. One thread owns every document, so there are no locks
//! and fan-out is a loop. A connection whose outbox is full (a client that stopped reading) is
//! closed rather than buffered without bound.
//!
//! The way in is bounded too. A frame waiting for the hub holds its size in two budgets, its
//! connection's ([`CONNECTION_BYTES`]) and the relay's ([`RELAY_BYTES`]), until the hub has
//! handled it. A connection that would exceed either waits, and while it waits it does not read
//! its socket, so TCP pushes back on the sender. However many sockets flood, the frames queued
//! for the hub never take more than the relay's budget.
//!
//! A panic while the hub handles one document does not stop sync. The document is quarantined:
//! dropped from memory (storage keeps its last committed state), reported in the log and the
//! statistics, and answered `doc-unavailable` from then on; the connection that sent the frame
//! is closed with the reason; every other document goes on. [`SyncService::health`] says
//! whether the hub is making progress, for `/healthz`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use outpost_sync::hub::{ConnId, Grant, Hub, Input, Output};
use outpost_sync::{wire, DocumentId};
use tokio::sync::{mpsc as async_mpsc, OwnedSemaphorePermit, Semaphore};

use crate::stats::{Delays, ServiceStats};
use crate::storage::Storage;

/// Most inputs handled per batch.
const BATCH: usize = 512;
/// Messages queued per connection before it counts as not reading.
pub const OUTBOX: usize = 4_096;
/// Bytes of frames one connection may have waiting for the hub.
pub const CONNECTION_BYTES: usize = 16 * 1024 * 1024;
/// Bytes of frames all connections together may have waiting for the hub.
pub const RELAY_BYTES: usize = 128 * 1024 * 1024;
/// The budgets count in kibibytes (a semaphore's permits are a `u32`).
const UNIT: usize = 1024;

/// A frame's share of the budgets, given back when the hub has handled it.
pub struct InFlight {
    _connection: OwnedSemaphorePermit,
    _relay: OwnedSemaphorePermit,
}

/// One connection's budget of bytes waiting for the hub.
pub struct Budget(Arc<Semaphore>);

impl Default for Budget {
    fn default() -> Self {
        Budget(Arc::new(Semaphore::new(CONNECTION_BYTES / UNIT)))
    }
}

/// Takes `bytes` from a connection's budget and the relay's, waiting until both have room.
/// The semaphores are never closed, and a frame is never larger than a whole budget (the frame
/// limit is smaller), so this always ends with the bytes reserved.
async fn reserve(relay: &Arc<Semaphore>, budget: &Budget, bytes: usize) -> Option<InFlight> {
    let n = units(bytes);
    let connection = budget.0.clone().acquire_many_owned(n).await.ok()?;
    let relay = relay.clone().acquire_many_owned(n).await.ok()?;
    Some(InFlight {
        _connection: connection,
        _relay: relay,
    })
}

fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX)
}

/// What the hub sends a connection.
#[derive(Debug)]
pub enum Outbound {
    /// A protocol frame.
    Frame(Vec<u8>),
    /// Close, for this reason.
    Close(String),
}

enum Command {
    Connect {
        conn: ConnId,
        grant: Grant,
        outbox: async_mpsc::Sender<Outbound>,
    },
    /// An input, when it reached the hub's queue, and the budget it holds until handled.
    Input(Input, Instant, Option<InFlight>),
    Shutdown,
}

/// What the hub thread shares with the HTTP side: counters as of its last batch, recent delays,
/// and what it has been through.
#[derive(Default)]
struct Shared {
    stats: ServiceStats,
    delays: Delays,
    /// Documents set aside after a panic, with what the panic said.
    quarantined: Vec<(DocumentId, String)>,
    /// When the hub last finished a batch.
    progress: Option<Instant>,
}

/// How long the hub may go without finishing a batch, while work waits, before it counts as
/// stuck.
pub const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// A handle to the sync service.
pub struct SyncService {
    tx: mpsc::Sender<Command>,
    /// Commands sent to the hub thread, and handled by it (the difference is waiting).
    sent: Arc<AtomicU64>,
    handled: Arc<AtomicU64>,
    /// The relay's budget of bytes waiting for the hub.
    relay_bytes: Arc<Semaphore>,
    next: AtomicU64,
    thread: Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Mutex<Shared>>,
}

impl SyncService {
    /// Starts the hub thread on `storage`, judging every change unless `judge` is false.
    pub fn start(
        storage: Storage,
        peer_id: String,
        storage_id: String,
        capacity: usize,
        judge: bool,
        workspaces: outpost_judge::WorkspaceDocuments,
    ) -> SyncService {
        let session = crate::auth::new_token()[4..20].to_string();
        let hub = Hub::new(peer_id, storage_id, capacity).with_session(session);
        let hub = if judge {
            hub.with_judge(outpost_judge::IncidentJudge::new(workspaces))
        } else {
            hub
        };
        SyncService::with_hub(storage, hub)
    }

    /// Starts the hub thread with this hub (tests give it a judge of their own).
    pub fn with_hub(storage: Storage, hub: Hub) -> SyncService {
        let (tx, rx) = mpsc::channel::<Command>();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let handled = Arc::new(AtomicU64::new(0));
        let for_hub = (shared.clone(), handled.clone());
        let thread = std::thread::Builder::new()
            .name("outpost-hub".into())
            .spawn(move || run(rx, storage, hub, &for_hub.0, &for_hub.1))
            .expect("the hub thread starts");
        SyncService {
            tx,
            sent: Arc::new(AtomicU64::new(0)),
            handled,
            relay_bytes: Arc::new(Semaphore::new(RELAY_BYTES / UNIT)),
            next: AtomicU64::new(1),
            thread: Mutex::new(Some(thread)),
            shared,
        }
    }

    /// The hub's counters as of its last batch, and the delays of the last `frames` frames (or
    /// of all those kept).
    pub fn stats(&self, frames: Option<usize>) -> ServiceStats {
        let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        ServiceStats {
            hub_delay: match frames {
                Some(n) => shared.delays.summary_of_last(n),
                None => shared.delays.summary(),
            },
            ..shared.stats.clone()
        }
    }

    /// Registers a new connection; returns its id and its outbox.
    pub fn connect(&self, grant: Grant) -> (ConnId, async_mpsc::Receiver<Outbound>) {
        let conn = self.next.fetch_add(1, Ordering::Relaxed);
        let (outbox, rx) = async_mpsc::channel(OUTBOX);
        self.send(Command::Connect {
            conn,
            grant,
            outbox,
        });
        (conn, rx)
    }

    /// Hands a frame to the hub, once it fits in the connection's `budget` and the relay's
    /// (waiting until it does: the caller stops reading its socket meanwhile).
    pub async fn frame(&self, conn: ConnId, bytes: Vec<u8>, budget: &Budget) {
        let in_flight = reserve(&self.relay_bytes, budget, bytes.len()).await;
        self.send(Command::Input(
            Input::Frame { conn, bytes },
            Instant::now(),
            in_flight,
        ));
    }

    /// Bytes of frames waiting for the hub now, across all connections.
    pub fn bytes_in_flight(&self) -> usize {
        (RELAY_BYTES / UNIT - self.relay_bytes.available_permits()) * UNIT
    }

    /// The connection is gone.
    pub fn disconnect(&self, conn: ConnId) {
        self.send(Command::Input(
            Input::Disconnected { conn },
            Instant::now(),
            None,
        ));
    }

    fn send(&self, command: Command) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(command);
    }

    /// Whether the hub is working: its thread runs, and it finished a batch within
    /// [`STUCK_AFTER`] if anything waits for it. If not, why.
    pub fn health(&self) -> Result<(), String> {
        let running = self
            .thread
            .lock()
            .map(|t| t.as_ref().is_some_and(|t| !t.is_finished()))
            .unwrap_or(false);
        if !running {
            return Err("the sync hub has stopped".to_string());
        }
        let waiting = self
            .sent
            .load(Ordering::Relaxed)
            .saturating_sub(self.handled.load(Ordering::Relaxed));
        let progress = self
            .shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .progress;
        match progress {
            Some(at) if waiting > 0 && at.elapsed() > STUCK_AFTER => Err(format!(
                "the sync hub has finished nothing for {} s with {waiting} messages waiting",
                at.elapsed().as_secs()
            )),
            _ => Ok(()),
        }
    }

    /// Documents quarantined after a panic, with what it said.
    pub fn quarantined(&self) -> Vec<(DocumentId, String)> {
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .quarantined
            .clone()
    }

    /// Finishes the last batch (committing it) and stops the hub thread.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

/// What a panic said, as far as it says anything.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

fn run(
    rx: mpsc::Receiver<Command>,
    mut storage: Storage,
    mut hub: Hub,
    shared: &Mutex<Shared>,
    handled_count: &AtomicU64,
) {
    let mut outboxes: HashMap<ConnId, async_mpsc::Sender<Outbound>> = HashMap::new();

    let mut batches: u64 = 0;
    let mut closed_not_reading: u64 = 0;
    let mut arrivals: Vec<Instant> = Vec::with_capacity(BATCH);
    while let Ok(first) = rx.recv() {
        let mut stop = false;
        let mut next = Some(first);
        let mut handled = 0;
        arrivals.clear();
        while let Some(command) = next.take() {
            match command {
                Command::Connect {
                    conn,
                    grant,
                    outbox,
                } => {
                    outboxes.insert(conn, outbox);
                    hub.handle(Input::Connected { conn, grant }, &mut storage);
                }
                Command::Input(input, arrived, in_flight) => {
                    let from = match &input {
                        Input::Disconnected { conn } => {
                            outboxes.remove(conn);
                            None
                        }
                        Input::Frame { conn, .. } => {
                            arrivals.push(arrived);
                            Some(*conn)
                        }
                        Input::Connected { .. } => None,
                    };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        hub.handle(input, &mut storage)
                    }));
                    if let Err(panic) = outcome {
                        let what = panic_text(panic.as_ref());
                        quarantine(&mut hub, &mut storage, &mut outboxes, shared, from, what);
                    }
                    drop(in_flight);
                }
                Command::Shutdown => stop = true,
            }
            handled_count.fetch_add(1, Ordering::Relaxed);
            handled += 1;
            if handled < BATCH {
                next = rx.try_recv().ok();
            }
        }
        // The batch is committed before fan-out; a panic in fan-out loses only that batch's
        // answers (the peers ask again), and its document is set aside like any other.
        let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            hub.finish_batch(&mut storage)
        }));
        let (outputs, error) = finished.unwrap_or_else(|panic| {
            let what = panic_text(panic.as_ref());
            quarantine(&mut hub, &mut storage, &mut outboxes, shared, None, what);
            (Vec::new(), None)
        });
        shared.lock().unwrap_or_else(|e| e.into_inner()).progress = Some(Instant::now());
        if let Some(e) = error {
            tracing::error!(error = %e, "storage failed; the batch was not acknowledged and its connections were closed");
        }
        // Encoded first, so the statistics can be published before any answer leaves: whoever
        // hears an answer then reads statistics that include its batch.
        let outputs: Vec<(ConnId, Result<Vec<u8>, String>)> = outputs
            .into_iter()
            .map(|output| match output {
                Output::Send { conn, message } => (conn, Ok(wire::encode(&message))),
                Output::Close { conn, reason } => (conn, Err(reason)),
            })
            .collect();
        publish(shared, &hub, &arrivals, closed_not_reading);
        let mut dropped = Vec::new();
        for (conn, output) in outputs {
            match output {
                Ok(frame) => {
                    if let Some(outbox) = outboxes.get(&conn) {
                        if outbox.try_send(Outbound::Frame(frame)).is_err() {
                            dropped.push(conn);
                        }
                    }
                }
                Err(reason) => {
                    if let Some(outbox) = outboxes.remove(&conn) {
                        tracing::warn!(conn, %reason, "closing connection");
                        let _ = outbox.try_send(Outbound::Close(reason));
                    }
                }
            }
        }
        if !dropped.is_empty() {
            for conn in dropped {
                if outboxes.remove(&conn).is_some() {
                    tracing::warn!(
                        conn,
                        "closing a connection that stopped reading (outbox full)"
                    );
                    closed_not_reading += 1;
                    hub.handle(Input::Disconnected { conn }, &mut storage);
                }
            }
            publish(shared, &hub, &[], closed_not_reading);
        }
        batches += 1;
        if batches.is_multiple_of(10_000) {
            let shared = shared.lock().unwrap_or_else(|e| e.into_inner());
            let s = &shared.stats;
            tracing::info!(
                connections = s.connections,
                frames_in = s.frames_in,
                messages_out = s.messages_out,
                documents_changed = s.documents_changed,
                "hub"
            );
        }
        if stop {
            break;
        }
    }
    let (_, error) = hub.finish_batch(&mut storage);
    if let Some(e) = error {
        tracing::error!(error = %e, "storage failed while shutting down");
    }
    tracing::info!("sync service stopped; storage committed");
}

/// After the hub panicked on a frame from `conn`: sets the document it was handling aside,
/// reports it, and closes the connection that sent the frame.
fn quarantine(
    hub: &mut Hub,
    storage: &mut Storage,
    outboxes: &mut HashMap<ConnId, async_mpsc::Sender<Outbound>>,
    shared: &Mutex<Shared>,
    from: Option<ConnId>,
    what: String,
) {
    let doc = hub.handling();
    match doc {
        Some(doc) => {
            tracing::error!(%doc, panic = %what, "the hub failed on a document; it is quarantined and every other document goes on");
            hub.quarantine(doc);
            shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .quarantined
                .push((doc, what));
        }
        None => tracing::error!(panic = %what, "the hub failed on a message about no document"),
    }
    let Some(conn) = from else {
        return;
    };
    if let Some(outbox) = outboxes.remove(&conn) {
        let reason = match doc {
            Some(doc) => format!(
                "the relay failed while handling document {doc}; it is set aside and reported"
            ),
            None => "the relay failed while handling a message from this connection".to_string(),
        };
        let _ = outbox.try_send(Outbound::Close(reason));
    }
    hub.handle(Input::Disconnected { conn }, storage);
}

/// Publishes the hub's counters, and the delay of each frame that `arrivals` lists (from its
/// arrival to now, when its answers are about to leave), for `/api/stats`.
fn publish(shared: &Mutex<Shared>, hub: &Hub, arrivals: &[Instant], closed_not_reading: u64) {
    let routed = Instant::now();
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    for arrived in arrivals {
        shared.delays.record(routed - *arrived);
    }
    let s = hub.stats();
    shared.stats = ServiceStats {
        connections: hub.connections(),
        documents_in_memory: hub.documents_in_memory(),
        frames_in: s.frames_in,
        messages_out: s.messages_out,
        documents_changed: s.documents_changed,
        closed_not_reading,
        hub_delay: Default::default(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{transaction::Transactable, Automerge, ReadDoc, ROOT};
    use outpost_sync::gate::Judge;
    use outpost_sync::wire::Message;
    use std::time::Duration;

    /// Keeps everything, but falls over on any change that writes `boom`, as a bug would.
    struct Fragile;

    impl Judge for Fragile {
        fn judge(
            &mut self,
            _: &Grant,
            _: &outpost_sync::DocumentId,
            doc: &Automerge,
            _: &[automerge::ChangeHash],
            after: &[automerge::ChangeHash],
            _: &automerge::Change,
        ) -> Result<(), String> {
            if doc.get_at(ROOT, "boom", after).unwrap().is_some() {
                panic!("a bug in the judge");
            }
            Ok(())
        }
    }

    struct Device {
        name: String,
        conn: ConnId,
        outbox: async_mpsc::Receiver<Outbound>,
    }

    impl Device {
        fn join(service: &SyncService, name: &str) -> Device {
            let grant = Grant {
                user: name.into(),
                workspace: "acme".into(),
                ..Default::default()
            };
            let (conn, outbox) = service.connect(grant);
            let device = Device {
                name: name.into(),
                conn,
                outbox,
            };
            let join = Message::Join {
                sender_id: name.into(),
                peer_metadata: Default::default(),
                supported_protocol_versions: Some(vec!["1".into()]),
            };
            service.send(Command::Input(
                Input::Frame {
                    conn,
                    bytes: wire::encode(&join),
                },
                Instant::now(),
                None,
            ));
            device
        }

        /// Sends a document with one change writing `key`.
        fn offer(&self, service: &SyncService, doc: DocumentId, key: &str) {
            let mut am = Automerge::new();
            let mut tx = am.transaction();
            tx.put(ROOT, key, "x").unwrap();
            tx.commit();
            // Heads and every change at once, as a peer that has never synced sends them.
            let changes: Vec<Vec<u8>> = am
                .get_changes(&[])
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect();
            let message = automerge::sync::Message {
                heads: am.get_heads(),
                need: vec![],
                have: vec![],
                changes: changes.into(),
                flags: None,
                version: automerge::sync::MessageVersion::V1,
            };
            let sync = Message::Sync {
                sender_id: self.name.clone(),
                target_id: "relay".into(),
                document_id: doc,
                data: message.encode(),
            };
            service.send(Command::Input(
                Input::Frame {
                    conn: self.conn,
                    bytes: wire::encode(&sync),
                },
                Instant::now(),
                None,
            ));
        }

        /// The next thing the relay sends, decoded.
        async fn next(&mut self) -> Option<Result<Message, String>> {
            match tokio::time::timeout(Duration::from_secs(20), self.outbox.recv()).await {
                Ok(Some(Outbound::Frame(bytes))) => Some(Ok(wire::decode(&bytes).unwrap())),
                Ok(Some(Outbound::Close(why))) => Some(Err(why)),
                _ => None,
            }
        }

        /// Reads until a message about `doc` (or a close) arrives.
        async fn about(&mut self, doc: DocumentId) -> Result<Message, String> {
            loop {
                match self.next().await {
                    Some(Ok(m)) if m.document_id() == Some(doc) => return Ok(m),
                    Some(Ok(_)) => continue,
                    Some(Err(why)) => return Err(why),
                    None => return Err("nothing came".into()),
                }
            }
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_on_one_document_quarantines_it_and_the_others_keep_syncing() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let hub = Hub::new("relay", "relay-storage", 100).with_judge(Fragile);
        let service = SyncService::with_hub(storage, hub);
        let (bad, good) = (
            DocumentId::from_random([1; 16]),
            DocumentId::from_random([2; 16]),
        );

        let mut mallory = Device::join(&service, "mallory");
        mallory.offer(&service, bad, "boom");
        let closed = mallory.about(bad).await.unwrap_err();
        assert!(
            closed.contains(&format!("failed while handling document {bad}")),
            "{closed}"
        );
        assert_eq!(service.quarantined().len(), 1);
        assert_eq!(service.quarantined()[0].0, bad);
        assert!(service.quarantined()[0].1.contains("a bug in the judge"));

        // Everyone else goes on: a document syncs, the quarantined one is unavailable.
        let mut ana = Device::join(&service, "ana");
        ana.offer(&service, good, "title");
        assert!(matches!(ana.about(good).await, Ok(Message::Sync { .. })));
        ana.offer(&service, bad, "title");
        assert!(matches!(
            ana.about(bad).await,
            Ok(Message::DocUnavailable { .. })
        ));
        assert_eq!(service.health(), Ok(()));
        service.shutdown();
        assert!(service.health().is_err(), "a stopped hub is unhealthy");
    }

    /// Whether `reserve` is still waiting after a short while (it should end at once if there is
    /// room).
    async fn waits(relay: &Arc<Semaphore>, budget: &Budget, bytes: usize) -> bool {
        tokio::time::timeout(Duration::from_millis(50), reserve(relay, budget, bytes))
            .await
            .is_err()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn frames_wait_while_their_connection_or_the_relay_is_over_budget() {
        let relay = Arc::new(Semaphore::new(RELAY_BYTES / UNIT));
        let (flood, quiet) = (Budget::default(), Budget::default());
        // One connection fills its own budget: its next frame waits, another connection's not.
        let held = reserve(&relay, &flood, CONNECTION_BYTES).await.unwrap();
        assert!(waits(&relay, &flood, 1).await);
        assert!(!waits(&relay, &quiet, 1).await);
        drop(held);
        assert!(
            !waits(&relay, &flood, 1).await,
            "room again once the hub handled it"
        );

        // Many connections together fill the relay's: then everyone waits.
        let floods: Vec<Budget> = (0..RELAY_BYTES / CONNECTION_BYTES)
            .map(|_| Budget::default())
            .collect();
        let mut held = Vec::new();
        for b in &floods {
            held.push(reserve(&relay, b, CONNECTION_BYTES).await.unwrap());
        }
        assert_eq!(relay.available_permits(), 0);
        assert!(waits(&relay, &quiet, 1).await);
        held.pop();
        assert!(!waits(&relay, &quiet, 1).await);
    }
}
