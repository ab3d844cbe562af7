//! The Automerge sync data inside a `sync` message, decoded and checked where Automerge 0.12
//! would otherwise panic on it. Both ends read what the other sends through [`decode`]: the
//! relay's hub (a panic there stops sync for every connection) and the client (a hostile relay
//! must not crash a device).

use automerge::sync;

/// The most probes a peer's Bloom filter may ask for: Automerge uses 7, and allocates a vector of
/// this many for every change it looks up.
const MAX_BLOOM_PROBES: u64 = 64;

/// Why sync data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncDataError {
    /// It is not an Automerge sync message.
    #[error("is not an Automerge sync message ({0})")]
    Malformed(String),
    /// Its Bloom filter would make Automerge panic or allocate without bound.
    #[error("has a malformed Bloom filter")]
    Bloom,
}

/// Decodes sync data, refusing Bloom filters Automerge cannot safely look changes up in.
pub fn decode(data: &[u8]) -> Result<sync::Message, SyncDataError> {
    let message =
        sync::Message::decode(data).map_err(|e| SyncDataError::Malformed(e.to_string()))?;
    if !message.have.iter().all(|have| bloom_is_usable(&have.bloom)) {
        return Err(SyncDataError::Bloom);
    }
    Ok(message)
}

/// Whether Automerge can safely look changes up in a peer's Bloom filter. Automerge 0.12 decodes
/// any filter, but one that claims entries and has no bits makes it divide by zero when it
/// answers, and a huge probe count makes it allocate that much per lookup.
fn bloom_is_usable(bloom: &sync::BloomFilter) -> bool {
    // The encoding: nothing for an empty filter (never looked into), else the number of entries,
    // bits per entry and probes (LEB128), then the bits.
    let bytes = bloom.to_bytes();
    if bytes.is_empty() {
        return true;
    }
    let mut rest = bytes.as_slice();
    let mut fields = [0u64; 3];
    for field in &mut fields {
        match leb128::read::unsigned(&mut rest) {
            Ok(value) => *field = value,
            Err(_) => return false,
        }
    }
    let [_, _, probes] = fields;
    !rest.is_empty() && probes <= MAX_BLOOM_PROBES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_bloom(bytes: &[u8]) -> Vec<u8> {
        sync::Message {
            heads: vec![],
            need: vec![],
            have: vec![sync::Have {
                last_sync: vec![],
                bloom: sync::BloomFilter::try_from(bytes).unwrap(),
            }],
            changes: sync::ChunkList::empty(),
            flags: None,
            version: sync::MessageVersion::V1,
        }
        .encode()
    }

    #[test]
    fn filters_automerge_would_crash_on_are_refused() {
        // One entry, zero bits per entry, seven probes: no bits at all.
        assert_eq!(
            decode(&with_bloom(&[1, 0, 7])).unwrap_err(),
            SyncDataError::Bloom
        );
        // A probe count far beyond Automerge's seven.
        assert_eq!(
            decode(&with_bloom(&[1, 10, 0xe8, 0x07, 0xff, 0xff])).unwrap_err(),
            SyncDataError::Bloom
        );
        assert!(matches!(
            decode(b"garbage"),
            Err(SyncDataError::Malformed(_))
        ));
    }

    #[test]
    fn real_filters_pass() {
        let mut doc = automerge::AutoCommit::new();
        use automerge::transaction::Transactable;
        doc.put(automerge::ROOT, "title", "Printer on fire")
            .unwrap();
        let mut state = sync::State::new();
        let mut peer = automerge::AutoCommit::new();
        let mut peer_state = sync::State::new();
        // A few rounds, so the messages carry real filters of what each side has.
        for _ in 0..4 {
            use automerge::sync::SyncDoc;
            if let Some(m) = doc.sync().generate_sync_message(&mut state) {
                let m = decode(&m.encode()).expect("a real message passes");
                peer.sync()
                    .receive_sync_message(&mut peer_state, m)
                    .unwrap();
            }
            if let Some(m) = peer.sync().generate_sync_message(&mut peer_state) {
                let m = decode(&m.encode()).expect("a real message passes");
                doc.sync().receive_sync_message(&mut state, m).unwrap();
            }
        }
        assert_eq!(doc.get_heads(), peer.get_heads());
    }
}
