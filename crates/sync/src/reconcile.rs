//! Catalog reconciliation: which documents differ between a client and the relay, in one small
//! round trip when nothing does.
//!
//! Plain automerge-repo reconnects by running the sync protocol for every document, at least two
//! messages each even when nothing changed: ten thousand incidents cost twenty thousand frames.
//! Outpost peers instead reconcile their catalogs first, with range-based set reconciliation
//! (negentropy, as Nostr relays use it) over the set of `(document id, hash of its heads)` items.
//! Equal sets need one round trip of a few hundred bytes; otherwise the rounds narrow down to
//! exactly the items that differ, and only those documents run the Automerge sync protocol.
//!
//! An item's 32-byte id is the 16-byte document id followed by the first 16 bytes of
//! SHA-256 over its sorted heads, so a differing item names its document directly.
//!
//! The extension is negotiated: both sides put `outpost: { reconcile: 1 }` in their
//! `peerMetadata`, and the client (initiator) sends `outpost-reconcile` messages. Peers without
//! it (the official JavaScript automerge-repo) never see one and sync document by document.

use std::collections::BTreeSet;

use automerge::ChangeHash;
use negentropy::{Id, Negentropy, NegentropyStorageVector};
use sha2::{Digest, Sha256};

use crate::document_id::DocumentId;

/// Largest reconciliation message, in bytes (bounds memory per round; more rounds if needed).
pub const FRAME_LIMIT: u64 = 60_000;

/// Why reconciliation failed (a peer sent a broken or out-of-order message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalog reconciliation failed: {0}")]
pub struct ReconcileError(String);

fn error(e: negentropy::Error) -> ReconcileError {
    ReconcileError(e.to_string())
}

/// The item id of a document at some heads.
pub fn item_id(doc: &DocumentId, heads: &[ChangeHash]) -> [u8; 32] {
    let mut sorted: Vec<&ChangeHash> = heads.iter().collect();
    sorted.sort();
    let mut hasher = Sha256::new();
    for h in sorted {
        hasher.update(h.0);
    }
    let digest = hasher.finalize();
    let mut id = [0u8; 32];
    id[..16].copy_from_slice(doc.as_bytes());
    id[16..].copy_from_slice(&digest[..16]);
    id
}

/// The document an item id names.
pub fn document_of(item: &[u8; 32]) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&item[..16]);
    DocumentId::from_bytes(bytes)
}

fn storage<'a>(
    items: impl IntoIterator<Item = (&'a DocumentId, &'a [ChangeHash])>,
) -> Result<NegentropyStorageVector, ReconcileError> {
    let mut storage = NegentropyStorageVector::new();
    for (doc, heads) in items {
        storage
            .insert(0, Id::from_byte_array(item_id(doc, heads)))
            .map_err(error)?;
    }
    storage.seal().map_err(error)?;
    Ok(storage)
}

/// The client's side: starts reconciliation and reads the relay's answers.
pub struct Initiator {
    negentropy: Negentropy<'static, NegentropyStorageVector>,
    differing: BTreeSet<DocumentId>,
    rounds: u32,
}

impl std::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("differing", &self.differing.len())
            .field("rounds", &self.rounds)
            .finish()
    }
}

/// What a round of reconciliation leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this to the relay and wait for its answer.
    Continue(Vec<u8>),
    /// Finished: these documents differ (present on one side only, or at different heads).
    Done(BTreeSet<DocumentId>),
}

impl Initiator {
    /// Starts reconciling the client's documents; returns the first message to send.
    pub fn start<'a>(
        items: impl IntoIterator<Item = (&'a DocumentId, &'a [ChangeHash])>,
    ) -> Result<(Initiator, Vec<u8>), ReconcileError> {
        let mut negentropy = Negentropy::owned(storage(items)?, FRAME_LIMIT).map_err(error)?;
        let first = negentropy.initiate().map_err(error)?;
        Ok((
            Initiator {
                negentropy,
                differing: BTreeSet::new(),
                rounds: 0,
            },
            first,
        ))
    }

    /// Reads the relay's answer.
    pub fn step(&mut self, answer: &[u8]) -> Result<Step, ReconcileError> {
        self.rounds += 1;
        let (mut have, mut need) = (Vec::new(), Vec::new());
        let next = self
            .negentropy
            .reconcile_with_ids(answer, &mut have, &mut need)
            .map_err(error)?;
        for id in have.iter().chain(need.iter()) {
            self.differing.insert(document_of(id.as_bytes()));
        }
        Ok(match next {
            Some(message) => Step::Continue(message),
            None => Step::Done(std::mem::take(&mut self.differing)),
        })
    }

    /// Round trips so far.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }
}

/// The relay's side: a sealed catalog answering a client's rounds.
pub struct Responder {
    negentropy: Negentropy<'static, NegentropyStorageVector>,
}

impl Responder {
    /// The relay's catalog of the client's workspace.
    pub fn new<'a>(
        items: impl IntoIterator<Item = (&'a DocumentId, &'a [ChangeHash])>,
    ) -> Result<Responder, ReconcileError> {
        Ok(Responder {
            negentropy: Negentropy::owned(storage(items)?, FRAME_LIMIT).map_err(error)?,
        })
    }

    /// Answers one round.
    pub fn answer(&mut self, query: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        self.negentropy.reconcile(query).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: u32) -> DocumentId {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&n.to_be_bytes());
        DocumentId::from_bytes(b)
    }

    fn heads(n: u8) -> Vec<ChangeHash> {
        vec![ChangeHash([n; 32])]
    }

    fn reconcile(
        client: &[(DocumentId, Vec<ChangeHash>)],
        relay: &[(DocumentId, Vec<ChangeHash>)],
    ) -> (BTreeSet<DocumentId>, u32, usize) {
        let (mut initiator, mut message) =
            Initiator::start(client.iter().map(|(d, h)| (d, h.as_slice()))).unwrap();
        let mut responder = Responder::new(relay.iter().map(|(d, h)| (d, h.as_slice()))).unwrap();
        let mut bytes = message.len();
        loop {
            let answer = responder.answer(&message).unwrap();
            bytes += answer.len();
            match initiator.step(&answer).unwrap() {
                Step::Continue(next) => {
                    bytes += next.len();
                    message = next;
                }
                Step::Done(differing) => return (differing, initiator.rounds(), bytes),
            }
        }
    }

    #[test]
    fn ten_thousand_equal_documents_cost_one_small_round_trip() {
        let catalog: Vec<_> = (0..10_000)
            .map(|n| (doc(n), heads((n % 250) as u8)))
            .collect();
        let (differing, rounds, bytes) = reconcile(&catalog, &catalog);
        assert!(differing.is_empty());
        assert_eq!(rounds, 1);
        assert!(bytes < 1_000, "{bytes} bytes on the wire");
    }

    #[test]
    fn finds_exactly_the_documents_that_differ() {
        let relay: Vec<_> = (0..5_000).map(|n| (doc(n), heads(1))).collect();
        let mut client = relay.clone();
        client[17].1 = heads(2); // changed on the client
        client[4_000].1 = heads(3); // changed on both sides
        client.remove(100); // only on the relay
        client.push((doc(90_000), heads(4))); // only on the client
        let (differing, rounds, bytes) = reconcile(&client, &relay);
        let expected: BTreeSet<DocumentId> = [doc(17), doc(4_000), doc(100), doc(90_000)].into();
        assert_eq!(differing, expected);
        assert!(rounds <= 6, "{rounds} rounds");
        assert!(bytes < 20_000, "{bytes} bytes");
    }

    #[test]
    fn an_empty_client_learns_every_relay_document() {
        let relay: Vec<_> = (0..1_000).map(|n| (doc(n), heads(1))).collect();
        let (differing, _, _) = reconcile(&[], &relay);
        assert_eq!(differing.len(), 1_000);
    }

    #[test]
    fn heads_order_does_not_matter_and_ids_name_their_document() {
        let d = doc(7);
        let (a, b) = (ChangeHash([1; 32]), ChangeHash([2; 32]));
        assert_eq!(item_id(&d, &[a, b]), item_id(&d, &[b, a]));
        assert_ne!(item_id(&d, &[a]), item_id(&d, &[b]));
        assert_eq!(document_of(&item_id(&d, &[a])), d);
    }

    #[test]
    fn garbage_from_a_peer_is_an_error() {
        let mut responder = Responder::new(std::iter::empty()).unwrap();
        assert!(responder.answer(b"\x00garbage").is_err());
        let (mut initiator, _) = Initiator::start(std::iter::empty()).unwrap();
        assert!(initiator.step(b"\x99").is_err());
    }
}
