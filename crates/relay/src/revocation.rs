//! Revocation and expiry that bite: the open connections of a revoked or expired token are
//! closed within a second, and the tokens of open connections are renewed while in use.
//!
//! A token is checked when its WebSocket opens, and `outpost-relay token revoke` runs as another
//! process on the same database, so the serving relay has to look. Every connection registers
//! its token's listed id here; a watcher reads the tokens revoked since its last look (a few
//! rows: revocations are rare) every [`CHECK_EVERY`] and tells each of their connections to
//! close with 1008 and the reason. The same registry caps how many connections one token may
//! hold open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// How often the watcher looks for revocations.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

/// What a connection is told when its token is revoked.
pub const REVOKED: &str = "this device's sign-in was revoked";
/// What a connection is told when its token expires.
pub const EXPIRED: &str = "this device's sign-in expired";
/// How often the tokens of open connections are renewed (a token in use does not expire).
pub const RENEW_EVERY: Duration = Duration::from_secs(60);

type Kicks = HashMap<String, Vec<(u64, watch::Sender<Option<String>>)>>;

/// The open connections of each token, by the token's listed id.
#[derive(Default)]
pub struct LiveTokens {
    kicks: Mutex<Kicks>,
    next: AtomicU64,
}

/// One connection's place in [`LiveTokens`]; leaving it (dropping this) unregisters it.
pub struct Registration {
    live: Arc<LiveTokens>,
    device: String,
    id: u64,
    /// Changes to `Some(reason)` when the connection must close.
    pub kicked: watch::Receiver<Option<String>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut kicks) = self.live.kicks.lock() {
            if let Some(list) = kicks.get_mut(&self.device) {
                list.retain(|(id, _)| *id != self.id);
                if list.is_empty() {
                    kicks.remove(&self.device);
                }
            }
        }
    }
}

impl LiveTokens {
    /// Registers a connection of the token listed as `device`.
    pub fn register(self: &Arc<Self>, device: &str) -> Registration {
        let (tx, kicked) = watch::channel(None);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut kicks) = self.kicks.lock() {
            kicks.entry(device.to_string()).or_default().push((id, tx));
        }
        Registration {
            live: self.clone(),
            device: device.to_string(),
            id,
            kicked,
        }
    }

    /// Tells every connection of `device` to close, for `reason`; returns how many there were.
    pub fn kick(&self, device: &str, reason: &str) -> usize {
        let Ok(kicks) = self.kicks.lock() else {
            return 0;
        };
        let Some(list) = kicks.get(device) else {
            return 0;
        };
        for (_, tx) in list {
            let _ = tx.send(Some(reason.to_string()));
        }
        list.len()
    }

    /// How many connections `device` has open.
    pub fn connections_of(&self, device: &str) -> usize {
        self.kicks
            .lock()
            .map_or(0, |k| k.get(device).map_or(0, Vec::len))
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
}
