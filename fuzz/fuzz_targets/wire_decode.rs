//! Fuzz target: any bytes a peer can send as a WebSocket frame.
//!
//! `wire::decode` must never panic, and whatever it accepts must survive a round trip: encoding
//! the decoded message and decoding it again gives the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outpost_sync::wire;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(message) = wire::decode(bytes) {
        let again = wire::decode(&wire::encode(&message));
        assert_eq!(
            again.as_ref(),
            Ok(&message),
            "round trip changed the message"
        );
    }
});
