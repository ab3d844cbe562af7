//! Acknowledgements answered without the document.
//!
//! A device that has just pulled thousands of documents answers each one with a sync message that
//! says "I now have exactly your heads" and carries nothing else. Applying that with Automerge
//! means loading the document first, and the relay keeps only so many in memory: after a pull of
//! 10,000 most have been evicted, and reloading each to read one acknowledgement kept the relay
//! busy for seconds, while every other device waited behind it.
//!
//! When a message is such an acknowledgement (no changes, nothing needed, heads equal to the heads
//! the relay stored, every summary of what the peer has starting from those heads) and the relay
//! has already answered this peer about this document, [`acknowledge`] updates the sync state
//! exactly as `receive_sync_message` followed by `generate_sync_message` would, and that pair sends
//! nothing. Anything else is left to the full path. The tests compare the two on real documents,
//! so an Automerge upgrade that changes the state machine fails them rather than the relay.

use automerge::sync::{self, Capability, MessageFlags};
use automerge::ChangeHash;

/// Applies `message` to `state` if it is a bare acknowledgement of `stored` (the document's
/// durable heads), returning whether it did. When it returns `false`, `state` is untouched and
/// the message needs the document.
pub fn acknowledge(
    state: &mut sync::State,
    message: &sync::Message,
    stored: &[ChangeHash],
) -> bool {
    let bare = message.changes.is_empty()
        && message.need.is_empty()
        && !message.heads.is_empty()
        && message.heads == stored
        && message.have.iter().all(|have| have.last_sync == stored);
    // Without an earlier answer Automerge would send one now (the peer must learn our heads);
    // read-only and reset states take other branches.
    let settled = state.have_responded && !state.read_only && !state.needs_reset;
    if !bare || !settled {
        return false;
    }
    state.in_flight = false;
    if let Some(flags) = message.flags {
        let mut capabilities = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            capabilities.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(capabilities);
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }
    // Every change sent was one of ours, so an ancestor of (or one of) the heads they now have.
    state.sent_hashes.clear();
    state.last_sent_heads = stored.to_vec();
    state.shared_heads = stored.to_vec();
    state.their_have = Some(message.have.clone());
    state.their_heads = Some(stored.to_vec());
    state.their_need = Some(Vec::new());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ROOT};
    use proptest::prelude::*;

    /// A document with `edits` changes from `actors` actors, some concurrent (merged).
    fn history(edits: &[(u8, u8)]) -> automerge::Automerge {
        let mut base = AutoCommit::new().with_actor(ActorId::from(vec![0]));
        base.put(ROOT, "title", "Printer offline").unwrap();
        let mut forks: Vec<AutoCommit> = (1..=3u8)
            .map(|a| base.fork().with_actor(ActorId::from(vec![a])))
            .collect();
        for (i, (actor, merge)) in edits.iter().enumerate() {
            let a = usize::from(actor % 3);
            forks[a].put(ROOT, "note", format!("edit {i}")).unwrap();
            forks[a].commit();
            if merge % 3 == 0 {
                let b = (a + 1) % 3;
                let (left, right) = if a < b {
                    let (l, r) = forks.split_at_mut(b);
                    (&mut l[a], &mut r[0])
                } else {
                    let (l, r) = forks.split_at_mut(a);
                    (&mut r[0], &mut l[b])
                };
                right.merge(left).unwrap();
            }
        }
        for fork in &mut forks {
            base.merge(fork).unwrap();
        }
        base.document().clone()
    }

    /// Runs the real protocol between the relay's copy and a peer's until a message from the peer
    /// is about to reach the relay for the `stop`-th time (or the sync is quiet), and returns that
    /// message with the relay's state. The peer starts with `peer_has` of the relay's changes.
    fn conversation(
        relay: &automerge::Automerge,
        peer_has: usize,
        stop: usize,
    ) -> Option<(sync::State, sync::Message)> {
        let changes = relay.get_changes(&[]);
        let mut peer = automerge::Automerge::new();
        peer.apply_changes(changes.iter().take(peer_has).cloned())
            .unwrap();
        let mut relay = relay.clone();
        let (mut relay_state, mut peer_state) = (sync::State::new(), sync::State::new());
        let mut last = None;
        for _ in 0..=stop {
            let to_relay = peer.generate_sync_message(&mut peer_state);
            let Some(message) = to_relay else {
                return last;
            };
            last = Some((relay_state.clone(), message.clone()));
            relay
                .receive_sync_message(&mut relay_state, message)
                .unwrap();
            if let Some(reply) = relay.generate_sync_message(&mut relay_state) {
                peer.receive_sync_message(&mut peer_state, reply).unwrap();
            }
        }
        last
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Wherever the shortcut applies, it leaves the state Automerge would, and Automerge would
        /// send nothing; and it applies to the plain end of a pull.
        #[test]
        fn the_shortcut_is_what_automerge_would_do(
            edits in proptest::collection::vec((0u8..3, 0u8..6), 0..12),
            peer_has in 0usize..14,
            stop in 0usize..5,
        ) {
            let relay = history(&edits);
            let heads = relay.get_heads();
            if let Some((state, message)) = conversation(&relay, peer_has, stop) {
                let mut fast = state.clone();
                if acknowledge(&mut fast, &message, &heads) {
                    let mut slow = state;
                    let mut doc = relay.clone();
                    doc.receive_sync_message(&mut slow, message).unwrap();
                    prop_assert!(doc.generate_sync_message(&mut slow).is_none());
                    prop_assert_eq!(fast, slow);
                } else {
                    prop_assert_eq!(fast, state);
                }
            }
        }
    }

    /// The case the shortcut exists for: after a full pull, the peer's closing message.
    #[test]
    fn a_pull_ends_with_an_acknowledgement_the_shortcut_takes() {
        let relay = history(&[(0, 0), (1, 1), (2, 3), (0, 2)]);
        let mut taken = 0;
        for stop in 1..4 {
            let (state, message) = conversation(&relay, 0, stop).expect("a conversation");
            let mut fast = state.clone();
            if acknowledge(&mut fast, &message, &relay.get_heads()) {
                taken += 1;
            }
        }
        assert!(
            taken >= 1,
            "no message of a pull was a bare acknowledgement"
        );
    }

    #[test]
    fn a_message_with_other_heads_is_left_alone() {
        let relay = history(&[(0, 0), (1, 1)]);
        let (mut state, message) = conversation(&relay, 0, 3).expect("a conversation");
        let before = state.clone();
        let mut other = relay.clone();
        let mut tx = other.transaction();
        tx.put(ROOT, "later", 1).unwrap();
        tx.commit();
        assert!(!acknowledge(&mut state, &message, &other.get_heads()));
        assert_eq!(state, before);
    }
}
