//! # outpost-sync: the automerge-repo sync protocol, sans-IO
//!
//! Outpost speaks automerge-repo's protocol "1" so that the official JavaScript automerge-repo
//! can sync through the Outpost relay and Outpost through any automerge-repo server. This crate
//! holds the protocol with no IO at all, so the browser client and the relay share one tested
//! implementation and tests can drive it message by message.
//!
//! - [`document_id`]: document ids and `automerge:` URLs.
//! - [`storage`]: automerge-repo's storage keys and compaction rule.
//! - [`wire`]: the protocol's messages and their CBOR encoding.
//! - [`sync_data`]: the Automerge sync data inside them, checked where Automerge would panic.
//! - [`reconcile`]: Outpost's catalog reconciliation extension.
//! - [`gate`]: what every change passes before the relay keeps it: the judge, as its author
//!   saw the document.
//! - [`hub`]: the relay's side: a storing peer, scoped by workspace, acknowledging only what is
//!   durable.
//! - [`client`]: a client's side: handshake, reconciliation, catch-up, live changes.

mod ack;
pub mod client;
pub mod document_id;
pub mod gate;
pub mod hub;
pub mod reconcile;
pub mod storage;
pub mod sync_data;
pub mod wire;

pub use document_id::{DocumentId, DocumentIdError};
