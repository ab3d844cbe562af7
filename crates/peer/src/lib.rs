//! # outpost-peer: a native Outpost sync peer
//!
//! The browser app's sync client, minus the browser: `outpost_sync::client::Client` over a
//! tokio-tungstenite WebSocket, with documents in memory. Tests, the interoperability checks and
//! the benchmarks use it to act as a device against a real relay (ours, or automerge-repo's).
//!
//! It is driven step by step: [`Peer::connect`], local edits with [`Peer::change`], and
//! [`Peer::pump_until`] to process the relay's messages until a condition holds.

use std::time::{Duration, Instant};

use automerge::transaction::Transaction;
use automerge::{Automerge, AutomergeError};
use futures_util::{SinkExt, StreamExt};
use outpost_sync::client::{Client, ClientDocs, Event, MemoryDocs, Phase};
use outpost_sync::wire;
use outpost_sync::DocumentId;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a peer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The WebSocket could not be opened (includes HTTP refusals such as 401).
    #[error("connection failed: {0}")]
    Connect(String),
    /// The relay refused the client or closed the connection.
    #[error("the relay refused: {0}")]
    Refused(String),
    /// The condition did not hold in time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// Not connected.
    #[error("not connected")]
    Offline,
    /// A socket error.
    #[error("socket error: {0}")]
    Socket(String),
}

/// With `OUTPOST_PEER_TRACE` set, prints every frame's message to stderr (for debugging interop).
fn trace(direction: &str, bytes: &[u8]) {
    if std::env::var_os("OUTPOST_PEER_TRACE").is_some() {
        match wire::decode(bytes) {
            Ok(m) => eprintln!("outpost-peer {direction}: {m:?}"),
            Err(e) => eprintln!("outpost-peer {direction}: undecodable frame ({e})"),
        }
    }
}

/// Traffic counters, both directions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Frames sent.
    pub frames_out: u64,
    /// Frames received.
    pub frames_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
}

impl Traffic {
    /// Bytes both ways.
    pub fn bytes(&self) -> u64 {
        self.bytes_in + self.bytes_out
    }
}

/// A native device.
pub struct Peer {
    /// The protocol state.
    pub client: Client,
    /// The device's documents.
    pub docs: MemoryDocs,
    socket: Option<Socket>,
    /// Traffic since the last [`Peer::reset_traffic`].
    pub traffic: Traffic,
    /// Documents changed by the relay since the last check.
    pub changed: Vec<DocumentId>,
    /// Documents the relay has acknowledged.
    pub acknowledged: Vec<DocumentId>,
    /// Why the relay refused, if it did.
    pub refused: Option<String>,
    /// Documents whose changes the relay's judge refused, and why.
    pub changes_refused: Vec<(DocumentId, String)>,
    /// Documents the relay said are not available to this peer.
    pub unavailable: Vec<DocumentId>,
}

/// How a WebSocket presents its token.
#[derive(Clone, Debug)]
pub enum TokenIn {
    /// As a subprotocol, as the browser app does.
    Subprotocol(String),
    /// As a `?token=` query parameter, as JavaScript clients do.
    Query(String),
    /// No token.
    None,
}

impl Peer {
    /// A device called `name` with no documents.
    pub fn new(name: &str) -> Peer {
        Peer {
            client: Client::new(name, Some(format!("{name}-storage"))),
            docs: MemoryDocs::default(),
            socket: None,
            traffic: Traffic::default(),
            changed: Vec::new(),
            acknowledged: Vec::new(),
            refused: None,
            changes_refused: Vec::new(),
            unavailable: Vec::new(),
        }
    }

    /// A device that syncs only the documents it has ([`Client::scoped`]).
    pub fn scoped(name: &str) -> Peer {
        let mut peer = Peer::new(name);
        peer.client = Client::scoped(name, Some(format!("{name}-storage")));
        peer
    }

    /// Opens a WebSocket to `url` (e.g. `ws://127.0.0.1:8080/sync`) and joins.
    pub async fn connect(&mut self, url: &str, token: TokenIn) -> Result<(), PeerError> {
        let url = match &token {
            TokenIn::Query(t) => format!("{url}?token={t}"),
            _ => url.to_string(),
        };
        let mut request = url
            .into_client_request()
            .map_err(|e| PeerError::Connect(e.to_string()))?;
        if let TokenIn::Subprotocol(t) = &token {
            let value = HeaderValue::from_str(&format!("outpost.v1, outpost.token.{t}"))
                .map_err(|e| PeerError::Connect(e.to_string()))?;
            request
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| PeerError::Connect(e.to_string()))?;
        self.socket = Some(socket);
        self.refused = None;
        let events = self.client.connected();
        self.apply(events).await
    }

    /// Whether the socket is open.
    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    /// Closes the socket.
    pub async fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        self.client.disconnected();
    }

    /// Drops the socket without a close frame (the network vanished).
    pub fn vanish(&mut self) {
        self.socket = None;
        self.client.disconnected();
    }

    /// Changes a document locally (creating it if new) and sends the change if connected.
    pub async fn change<F>(&mut self, doc: DocumentId, f: F) -> Result<(), PeerError>
    where
        F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
    {
        let am: &mut Automerge = self.docs.create(&doc);
        am.transact(f)
            .map_err(|e| PeerError::Socket(format!("{:?}", e.error)))?;
        if self.socket.is_some() {
            let events = self.client.local_change(&doc, &mut self.docs);
            self.apply(events).await?;
        }
        Ok(())
    }

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), PeerError> {
        let socket = self.socket.as_mut().ok_or(PeerError::Offline)?;
        self.traffic.frames_out += 1;
        self.traffic.bytes_out += bytes.len() as u64;
        trace("out", &bytes);
        socket
            .send(Ws::Binary(bytes.into()))
            .await
            .map_err(|e| PeerError::Socket(e.to_string()))
    }

    async fn apply(&mut self, events: Vec<Event>) -> Result<(), PeerError> {
        let mut queue = std::collections::VecDeque::from(events);
        while let Some(event) = queue.pop_front() {
            match event {
                Event::Send(message) => self.send(wire::encode(&message)).await?,
                Event::Load(ids) => queue.extend(self.client.sync_documents(&ids, &mut self.docs)),
                Event::Changed(d) => self.changed.push(d),
                Event::Acknowledged(d, _) => self.acknowledged.push(d),
                Event::CaughtUp => {}
                Event::ChangesRefused(d, r) => self.changes_refused.push((d, r.reason)),
                Event::Unavailable(d) => self.unavailable.push(d),
                Event::Refused(r) => {
                    self.refused = Some(r.clone());
                    self.vanish();
                    return Err(PeerError::Refused(r));
                }
            }
        }
        Ok(())
    }

    /// Processes the relay's messages until `done` holds, or fails after `timeout`.
    pub async fn pump_until(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Peer) -> bool,
    ) -> Result<(), PeerError> {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PeerError::Timeout(what.to_string()));
            }
            let socket = self.socket.as_mut().ok_or(PeerError::Offline)?;
            let frame = match tokio::time::timeout(left, socket.next()).await {
                Err(_) => return Err(PeerError::Timeout(what.to_string())),
                Ok(None) => {
                    self.vanish();
                    return Err(PeerError::Refused("the relay closed the connection".into()));
                }
                Ok(Some(Err(e))) => {
                    self.vanish();
                    return Err(PeerError::Socket(e.to_string()));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Ws::Binary(bytes) => {
                    self.traffic.frames_in += 1;
                    self.traffic.bytes_in += bytes.len() as u64;
                    trace("in", &bytes);
                    let events = self.client.receive(&bytes, &mut self.docs);
                    self.apply(events).await?;
                }
                Ws::Close(frame) => {
                    self.vanish();
                    let why = frame
                        .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                        .unwrap_or_default();
                    return Err(PeerError::Refused(format!("closed: {why}")));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Waits until the catch-up after connecting is complete.
    pub async fn caught_up(&mut self, timeout: Duration) -> Result<(), PeerError> {
        self.pump_until("catch-up", timeout, |p| p.client.phase() == Phase::Live)
            .await
    }

    /// Waits until the relay has acknowledged every change of `doc`.
    pub async fn acknowledged(
        &mut self,
        doc: DocumentId,
        timeout: Duration,
    ) -> Result<(), PeerError> {
        self.acknowledged.clear();
        self.pump_until("acknowledgement", timeout, |p| {
            p.acknowledged.contains(&doc)
        })
        .await
    }

    /// Asks the relay for a document this device does not have yet.
    pub async fn fetch(&mut self, doc: DocumentId) -> Result<(), PeerError> {
        let events = self.client.sync_documents(&[doc], &mut self.docs);
        self.apply(events).await
    }

    /// Sends raw bytes (tests of bad input).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), PeerError> {
        self.send(bytes).await
    }

    /// Sends a text frame (tests of bad input).
    pub async fn send_text(&mut self, text: &str) -> Result<(), PeerError> {
        let socket = self.socket.as_mut().ok_or(PeerError::Offline)?;
        socket
            .send(Ws::Text(text.to_string().into()))
            .await
            .map_err(|e| PeerError::Socket(e.to_string()))
    }

    /// Waits for the relay to close the connection; returns the close code and reason.
    pub async fn closed_by_relay(
        &mut self,
        timeout: Duration,
    ) -> Result<(u16, String, Vec<wire::Message>), PeerError> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let socket = self.socket.as_mut().ok_or(PeerError::Offline)?;
            match tokio::time::timeout(left, socket.next()).await {
                Err(_) => return Err(PeerError::Timeout("the relay to close".into())),
                Ok(Some(Ok(Ws::Binary(b)))) => {
                    if let Ok(m) = wire::decode(&b) {
                        seen.push(m);
                    }
                }
                Ok(Some(Ok(Ws::Close(frame)))) => {
                    self.vanish();
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Ok((code, reason, seen));
                }
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) => {
                    self.vanish();
                    return Ok((1006, String::new(), seen));
                }
            }
        }
    }

    /// Resets the traffic counters.
    pub fn reset_traffic(&mut self) {
        self.traffic = Traffic::default();
    }
}
