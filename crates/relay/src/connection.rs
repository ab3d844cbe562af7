//! One WebSocket connection: frames in (checked against the limits), the hub's messages out, and
//! a clean close on shutdown.
//!
//! Bad input never reaches the hub unchecked and never crashes the relay: a text frame, an
//! oversized frame or a flood gets a protocol `error` message, a close frame and a log line.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use outpost_sync::hub::{ConnId, Grant};
use outpost_sync::wire::{self, Message};
use tokio::sync::watch;

use crate::revocation::Registration;
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
    /// Sustained bytes per second; a connection over it waits, unread.
    pub bytes_per_second: usize,
    /// Bytes allowed in a burst (at least one largest frame).
    pub bytes_burst: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 8 * 1024 * 1024,
            messages_per_second: 1_000,
            burst: 20_000,
            bytes_per_second: 1024 * 1024,
            bytes_burst: 16 * 1024 * 1024,
        }
    }
}

/// How many connections' worth of traffic one token's connections may send together: a token
/// is rate limited as a whole too, so opening more sockets does not multiply a flood.
pub const TOKEN_SHARE: u32 = 4;

/// Rate limits (GCRA, from `governor`), of one connection or of all of one token's: messages,
/// whose excess closes the connection, and bytes, whose excess makes it wait without reading
/// its socket.
pub struct Rates {
    messages: DefaultDirectRateLimiter,
    kibibytes: DefaultDirectRateLimiter,
    /// The most kibibytes one frame may take at once (the byte burst).
    burst_kib: NonZeroU32,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Rates {
    /// The limits of all of one token's connections together: [`TOKEN_SHARE`] connections'.
    pub fn for_token(limits: &Limits) -> Rates {
        let share = TOKEN_SHARE as usize;
        Rates::new(&Limits {
            max_frame_bytes: limits.max_frame_bytes,
            messages_per_second: limits.messages_per_second.saturating_mul(TOKEN_SHARE),
            burst: limits.burst.saturating_mul(TOKEN_SHARE),
            bytes_per_second: limits.bytes_per_second.saturating_mul(share),
            bytes_burst: limits.bytes_burst.saturating_mul(share),
        })
    }

    /// The limits of one connection.
    pub fn new(limits: &Limits) -> Rates {
        let kib = |b: usize| nonzero(u32::try_from(b.div_ceil(1024)).unwrap_or(u32::MAX));
        // A frame must fit in one burst, or it could never pass.
        let burst_kib = kib(limits.bytes_burst.max(limits.max_frame_bytes));
        Rates {
            messages: RateLimiter::direct(
                Quota::per_second(nonzero(limits.messages_per_second))
                    .allow_burst(nonzero(limits.burst)),
            ),
            kibibytes: RateLimiter::direct(
                Quota::per_second(kib(limits.bytes_per_second)).allow_burst(burst_kib),
            ),
            burst_kib,
        }
    }

    /// Whether one more message is within the message rate.
    pub fn message(&self) -> bool {
        self.messages.check().is_ok()
    }

    /// Takes a frame of `bytes` from the byte allowance: `None` if it is there now, otherwise a
    /// future that waits until it is and then takes it. The frame has already been passed on,
    /// so it is always paid for: a connection (or a token's connections together) cannot get
    /// more through than the rate by arriving while others wait.
    pub fn pay(self: &Arc<Self>, bytes: usize) -> Option<Paying> {
        let n =
            nonzero(u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)).min(self.burst_kib);
        match self.kibibytes.check_n(n) {
            // Larger than a burst is ruled out by `n.min(burst)`.
            Ok(Ok(())) | Err(_) => None,
            Ok(Err(_)) => {
                let rates = self.clone();
                Some(Box::pin(async move {
                    let _ = rates.kibibytes.until_n_ready(n).await;
                }))
            }
        }
    }
}

/// A connection paying for a frame over its byte rate: it is not read until this is done.
pub type Paying = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Both payments, one after the other, or `None` if neither has to wait.
fn both(a: Option<Paying>, b: Option<Paying>) -> Option<Paying> {
    match (a, b) {
        (None, None) => None,
        (Some(p), None) | (None, Some(p)) => Some(p),
        (Some(a), Some(b)) => Some(Box::pin(async move {
            a.await;
            b.await;
        })),
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
    token: &Registration,
) {
    // Told to close when the token is revoked or expires; limited with its other connections.
    let mut kicked = token.kicked.clone();
    let token_rates = token.token_rates.clone();
    let (conn, mut outbox): (ConnId, _) = service.connect(grant.clone());
    tracing::info!(conn, user = %grant.user, workspace = %grant.workspace, "connected");
    let rates = Arc::new(Rates::new(&limits));
    let budget = Budget::default();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    let mut awaiting_pong = false;
    // When a connection over its byte rate may be read again: until then its socket is not
    // read (TCP pushes back on the sender), holding nothing, while its answers still go out.
    let mut paying: Option<Paying> = None;
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
            _ = async { if let Some(p) = paying.as_mut() { p.await } }, if paying.is_some() => paying = None,
            incoming = socket.recv(), if paying.is_none() => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    if bytes.len() > limits.max_frame_bytes {
                        let why = format!("frame of {} bytes is over the {} byte limit", bytes.len(), limits.max_frame_bytes);
                        refuse(&mut socket, &relay, code::TOO_BIG, &why).await;
                        break why;
                    }
                    if !rates.message() {
                        let why = "rate limit exceeded: too many messages".to_string();
                        refuse(&mut socket, &relay, code::POLICY, &why).await;
                        break why;
                    }
                    if !token_rates.message() {
                        let why = "rate limit exceeded: too many messages from this sign-in's connections together".to_string();
                        refuse(&mut socket, &relay, code::POLICY, &why).await;
                        break why;
                    }
                    // Over its own byte rate or its token's, the connection waits unread until
                    // the frame is paid for.
                    let owed = both(rates.pay(bytes.len()), token_rates.pay(bytes.len()));
                    // With too much queued for the hub (this connection's or the relay's), this
                    // waits for room. (Into a Vec without a copy: the frame is ours alone.)
                    service.frame(conn, bytes.into(), &budget).await;
                    paying = owed;
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
            // A connection paying for its frames is not read, so its pong cannot be seen: it is
            // held back, not dead.
            _ = ping.tick(), if paying.is_none() => {
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
    fn messages_are_allowed_a_burst_then_refused() {
        let limits = Limits {
            messages_per_second: 10,
            burst: 5,
            ..Limits::default()
        };
        let rates = Rates::new(&limits);
        assert!((0..5).all(|_| rates.message()));
        assert!(!rates.message());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn frames_over_the_byte_rate_are_paid_for_however_many_connections_share_it() {
        let limits = Limits {
            max_frame_bytes: 256 * 1024,
            bytes_per_second: 1024 * 1024,
            bytes_burst: 512 * 1024,
            ..Limits::default()
        };
        let rates = Arc::new(Rates::new(&limits));
        let frame = 256 * 1024;
        assert!(rates.pay(frame).is_none());
        assert!(rates.pay(frame).is_none(), "within the burst");
        // Eight connections sharing the allowance each pass one more frame on, and pay for it:
        // 2 MiB over 1 MiB/s takes about two seconds, not the quarter second of one frame.
        let start = std::time::Instant::now();
        let owed: Vec<Paying> = (0..8).filter_map(|_| rates.pay(frame)).collect();
        assert_eq!(owed.len(), 8);
        for paying in owed {
            paying.await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1700) && took <= Duration::from_millis(3000),
            "eight quarter-megabyte frames over a megabyte a second: {took:?}"
        );
    }
}
