//! One WebSocket connection: frames in (checked against the limits), the hub's messages out, and
//! a clean close on shutdown.
//!
//! Bad input never reaches the hub unchecked and never crashes the relay: a text frame, an
//! oversized frame or a flood gets a protocol `error` message, a close frame and a log line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use outpost_sync::hub::{ConnId, Grant};
use outpost_sync::wire::{self, Message};
use tokio::sync::watch;

use crate::service::{Budget, Outbound, SyncService};

/// Per-connection limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Sustained messages per second.
    pub messages_per_second: u32,
    /// Messages allowed in a burst (a new device asks for many documents at once).
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 8 * 1024 * 1024,
            messages_per_second: 1_000,
            burst: 20_000,
        }
    }
}

/// A token bucket.
pub struct RateLimiter {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl RateLimiter {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            tokens: f64::from(burst),
            last: Instant::now(),
            rate: f64::from(rate),
            burst: f64::from(burst),
        }
    }

    /// Takes one token if there is one.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// WebSocket close codes used.
mod code {
    pub const GOING_AWAY: u16 = 1001;
    pub const UNSUPPORTED: u16 = 1003;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
}

async fn refuse(socket: &mut WebSocket, relay: &str, code: u16, reason: &str) {
    let error = Message::Error {
        sender_id: Some(relay.to_string()),
        target_id: None,
        message: reason.to_string(),
    };
    let _ = socket
        .send(WsMessage::Binary(wire::encode(&error).into()))
        .await;
    close(socket, code, reason).await;
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    // A close reason may be at most 123 bytes.
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].to_string().into(),
    };
    if socket.send(WsMessage::Close(Some(frame))).await.is_err() {
        return;
    }
    // The closing handshake: read until the peer's close (or a short timeout). Dropping the
    // socket with unread data would make TCP send a reset, and the peer would never see the
    // close frame that says why.
    let drain = async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, WsMessage::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

/// Serves one authenticated connection until it ends.
pub async fn serve(
    mut socket: WebSocket,
    grant: Grant,
    service: Arc<SyncService>,
    relay: String,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
    mut kicked: watch::Receiver<Option<String>>,
) {
    let (conn, mut outbox): (ConnId, _) = service.connect(grant.clone());
    tracing::info!(conn, user = %grant.user, workspace = %grant.workspace, "connected");
    let mut limiter = RateLimiter::new(limits.messages_per_second, limits.burst);
    let budget = Budget::default();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    let mut awaiting_pong = false;
    let reason = loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => {
                close(&mut socket, code::GOING_AWAY, "the relay is shutting down").await;
                break "relay shutting down".to_string();
            }
            _ = kicked.changed() => {
                // Revoked: the peer is told why (an error message, then 1008 with the reason).
                let why = kicked.borrow().clone().unwrap_or_else(|| "signed out".to_string());
                refuse(&mut socket, &relay, code::POLICY, &why).await;
                break why;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    if bytes.len() > limits.max_frame_bytes {
                        let why = format!("frame of {} bytes is over the {} byte limit", bytes.len(), limits.max_frame_bytes);
                        refuse(&mut socket, &relay, code::TOO_BIG, &why).await;
                        break why;
                    }
                    if !limiter.allow(Instant::now()) {
                        let why = "rate limit exceeded: too many messages".to_string();
                        refuse(&mut socket, &relay, code::POLICY, &why).await;
                        break why;
                    }
                    // Waits while this connection or the relay has too much queued for the
                    // hub; meanwhile this socket is not read, and TCP pushes back.
                    service.frame(conn, bytes.to_vec(), &budget).await;
                }
                Some(Ok(WsMessage::Text(_))) => {
                    let why = "text frames are not part of the protocol; send binary CBOR".to_string();
                    refuse(&mut socket, &relay, code::UNSUPPORTED, &why).await;
                    break why;
                }
                Some(Ok(WsMessage::Pong(_))) => awaiting_pong = false,
                Some(Ok(WsMessage::Ping(_))) => {}
                Some(Ok(WsMessage::Close(_))) | None => break "closed by the peer".to_string(),
                Some(Err(e)) => {
                    let why = format!("socket error: {e}");
                    close(&mut socket, code::TOO_BIG, "frame too large or malformed").await;
                    break why;
                }
            },
            outgoing = outbox.recv() => match outgoing {
                Some(Outbound::Frame(bytes)) => {
                    if socket.send(WsMessage::Binary(bytes.into())).await.is_err() {
                        break "send failed".to_string();
                    }
                }
                Some(Outbound::Close(why)) => {
                    close(&mut socket, code::POLICY, &why).await;
                    break why;
                }
                None => {
                    close(&mut socket, code::POLICY, "the relay dropped this connection").await;
                    break "dropped by the relay".to_string();
                }
            },
            _ = ping.tick() => {
                if awaiting_pong {
                    break "no answer to ping".to_string();
                }
                awaiting_pong = true;
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break "ping failed".to_string();
                }
            }
        }
    };
    service.disconnect(conn);
    tracing::info!(conn, %reason, "disconnected");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_sustained_rate() {
        let start = Instant::now();
        let mut l = RateLimiter::new(10, 5);
        assert!((0..5).all(|_| l.allow(start)));
        assert!(!l.allow(start));
        assert!(l.allow(start + Duration::from_millis(150)));
        assert!(!l.allow(start + Duration::from_millis(150)));
    }
}
