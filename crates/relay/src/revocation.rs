//! Revocation and expiry that bite: the open connections of a revoked or expired token are
//! closed within a second, and the tokens of open connections are renewed while in use.
//!
//! A token is checked when its WebSocket opens, and `outpost-relay token revoke` runs as another
//! process on the same database, so the serving relay has to look. Every connection registers
//! its token's listed id here; a watcher reads the tokens revoked since its last look (a few
//! rows: revocations are rare) every [`CHECK_EVERY`] and tells each of their connections to
//! close with 1008 and the reason. The same registry caps how many connections one token may
//! hold open, and holds the rate limits its connections share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::connection::{Limits, Rates};

/// How often the watcher looks for revocations.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

/// What a connection is told when its token is revoked.
pub const REVOKED: &str = "this device's sign-in was revoked";
/// What a connection is told when its token expires.
pub const EXPIRED: &str = "this device's sign-in expired";
/// How often the tokens of open connections are renewed (a token in use does not expire).
pub const RENEW_EVERY: Duration = Duration::from_secs(60);

/// One token's open connections, and the rate limits they share.
struct Live {
    connections: Vec<(u64, watch::Sender<Option<String>>)>,
    rates: Arc<Rates>,
}

/// The open connections of each token, by the token's listed id.
pub struct LiveTokens {
    kicks: Mutex<HashMap<String, Live>>,
    next: AtomicU64,
    limits: Limits,
}

impl Default for LiveTokens {
    fn default() -> Self {
        LiveTokens::new(Limits::default())
    }
}

/// One connection's place in [`LiveTokens`]; leaving it (dropping this) unregisters it.
pub struct Registration {
    live: Arc<LiveTokens>,
    device: String,
    id: u64,
    /// Changes to `Some(reason)` when the connection must close.
    pub kicked: watch::Receiver<Option<String>>,
    /// The rate limits of all the token's connections together.
    pub token_rates: Arc<Rates>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut kicks) = self.live.kicks.lock() {
            if let Some(live) = kicks.get_mut(&self.device) {
                live.connections.retain(|(id, _)| *id != self.id);
                if live.connections.is_empty() {
                    kicks.remove(&self.device);
                }
            }
        }
    }
}

impl LiveTokens {
    /// A registry whose tokens' connections share [`Rates::for_token`] of `limits`.
    pub fn new(limits: Limits) -> LiveTokens {
        LiveTokens {
            kicks: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            limits,
        }
    }

    /// Registers a connection of the token listed as `device`.
    pub fn register(self: &Arc<Self>, device: &str) -> Registration {
        let (tx, kicked) = watch::channel(None);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let token_rates = match self.kicks.lock() {
            Ok(mut kicks) => {
                let live = kicks.entry(device.to_string()).or_insert_with(|| Live {
                    connections: Vec::new(),
                    rates: Arc::new(Rates::for_token(&self.limits)),
                });
                live.connections.push((id, tx));
                live.rates.clone()
            }
            Err(_) => Arc::new(Rates::for_token(&self.limits)),
        };
        Registration {
            live: self.clone(),
            device: device.to_string(),
            id,
            kicked,
            token_rates,
        }
    }

    /// Tells every connection of `device` to close, for `reason`; returns how many there were.
    pub fn kick(&self, device: &str, reason: &str) -> usize {
        let Ok(kicks) = self.kicks.lock() else {
            return 0;
        };
        let Some(live) = kicks.get(device) else {
            return 0;
        };
        for (_, tx) in &live.connections {
            let _ = tx.send(Some(reason.to_string()));
        }
        live.connections.len()
    }

    /// How many connections `device` has open.
    pub fn connections_of(&self, device: &str) -> usize {
        self.kicks
            .lock()
            .map_or(0, |k| k.get(device).map_or(0, |l| l.connections.len()))
    }

    /// The listed ids of the tokens with open connections.
    pub fn devices(&self) -> Vec<String> {
        self.kicks
            .lock()
            .map_or_else(|_| Vec::new(), |k| k.keys().cloned().collect())
    }

    /// How many tokens have open connections.
    pub fn tokens(&self) -> usize {
        self.kicks.lock().map_or(0, |k| k.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kick_reaches_every_connection_of_the_token_and_no_other() {
        let live = Arc::new(LiveTokens::default());
        let (a1, a2, b) = (
            live.register("aaaa"),
            live.register("aaaa"),
            live.register("bbbb"),
        );
        assert_eq!(live.kick("aaaa", REVOKED), 2);
        assert_eq!(a1.kicked.borrow().as_deref(), Some(REVOKED));
        assert_eq!(a2.kicked.borrow().as_deref(), Some(REVOKED));
        assert_eq!(*b.kicked.borrow(), None);
        drop((a1, a2));
        assert_eq!(live.kick("aaaa", REVOKED), 0, "gone once closed");
        assert_eq!(live.tokens(), 1);
    }

    #[test]
    fn a_token_s_connections_share_one_allowance() {
        let limits = Limits {
            messages_per_second: 1,
            burst: 2,
            ..Limits::default()
        };
        let live = Arc::new(LiveTokens::new(limits));
        let (a1, a2, b) = (
            live.register("aaaa"),
            live.register("aaaa"),
            live.register("bbbb"),
        );
        assert!(Arc::ptr_eq(&a1.token_rates, &a2.token_rates));
        // The token may send TOKEN_SHARE connections' burst in all, however many it opens.
        let together = (0..100)
            .filter(|i| if i % 2 == 0 { &a1 } else { &a2 }.token_rates.message())
            .count();
        assert_eq!(together, (2 * crate::connection::TOKEN_SHARE) as usize);
        assert!(
            b.token_rates.message(),
            "another token's allowance is its own"
        );
    }
}
