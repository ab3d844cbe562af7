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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use outpost_sync::hub::{ConnId, Grant, Hub, Input, Output};
use outpost_sync::wire;
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

/// What the hub thread shares with the HTTP side: counters as of its last batch, recent delays.
#[derive(Default)]
struct Shared {
    stats: ServiceStats,
    delays: Delays,
}

/// A handle to the sync service.
pub struct SyncService {
    tx: mpsc::Sender<Command>,
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
    ) -> SyncService {
        let (tx, rx) = mpsc::channel::<Command>();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let session = crate::auth::new_token()[4..20].to_string();
        let hub = Hub::new(peer_id, storage_id, capacity).with_session(session);
        let hub = if judge {
            hub.with_judge(outpost_judge::IncidentJudge)
        } else {
            hub
        };
        let for_hub = shared.clone();
        let thread = std::thread::Builder::new()
            .name("outpost-hub".into())
            .spawn(move || run(rx, storage, hub, &for_hub))
            .expect("the hub thread starts");
        SyncService {
            tx,
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
        let _ = self.tx.send(Command::Connect {
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
        let _ = self.tx.send(Command::Input(
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
        let _ = self.tx.send(Command::Input(
            Input::Disconnected { conn },
            Instant::now(),
            None,
        ));
    }

    /// Finishes the last batch (committing it) and stops the hub thread.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

fn run(rx: mpsc::Receiver<Command>, mut storage: Storage, mut hub: Hub, shared: &Mutex<Shared>) {
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
                    match &input {
                        Input::Disconnected { conn } => {
                            outboxes.remove(conn);
                        }
                        Input::Frame { .. } => arrivals.push(arrived),
                        Input::Connected { .. } => {}
                    }
                    hub.handle(input, &mut storage);
                    drop(in_flight);
                }
                Command::Shutdown => stop = true,
            }
            handled += 1;
            if handled < BATCH {
                next = rx.try_recv().ok();
            }
        }
        let (outputs, error) = hub.finish_batch(&mut storage);
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
    use std::time::Duration;

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
