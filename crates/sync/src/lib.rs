//! # outpost-sync: the automerge-repo sync protocol, sans-IO
//!
//! Outpost speaks automerge-repo's protocol "1" so that the official JavaScript automerge-repo
//! can sync through the Outpost relay and Outpost through any automerge-repo server. This crate
//! holds the protocol with no IO at all, so the browser client and the relay share one tested
//! implementation and tests can drive it message by message.
//!
//! - [`document_id`]: document ids and `automerge:` URLs.
//! - [`storage`]: automerge-repo's storage keys and compaction rule.

pub mod document_id;
pub mod storage;

pub use document_id::{DocumentId, DocumentIdError};
