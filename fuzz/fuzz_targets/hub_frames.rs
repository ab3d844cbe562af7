//! Fuzz target: a connection that joins properly and then sends arbitrary frames to the relay.
//!
//! The input is split into frames (a little-endian u16 length, then that many bytes). The hub
//! must never panic whatever arrives, and storage must stay consistent: every batch either
//! commits or is refused as a whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outpost_sync::hub::{Grant, Hub, Input, MemoryStorage};
use outpost_sync::wire::{self, Message, PeerMetadata};

fuzz_target!(|input: &[u8]| {
    let mut hub = Hub::new("relay", "relay-storage", 64);
    let mut storage = MemoryStorage::default();
    let grant = Grant {
        user: "fuzz".into(),
        workspace: "acme".into(),
    };
    hub.handle(Input::Connected { conn: 1, grant }, &mut storage);
    let join = Message::Join {
        sender_id: "fuzz".into(),
        peer_metadata: PeerMetadata::default(),
        supported_protocol_versions: Some(vec!["1".into()]),
    };
    hub.handle(
        Input::Frame {
            conn: 1,
            bytes: wire::encode(&join),
        },
        &mut storage,
    );
    let mut rest = input;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let bytes = rest[2..2 + len].to_vec();
        rest = &rest[2 + len..];
        hub.handle(Input::Frame { conn: 1, bytes }, &mut storage);
        let _ = hub.finish_batch(&mut storage);
    }
});
