//! # outpost-relay
//!
//! One binary that serves the built Outpost app and syncs incident documents between devices.
//! It is a storing peer that speaks automerge-repo's protocol, so the official JavaScript
//! automerge-repo can sync through it too. Its hub holds no domain logic; every change a peer sends is judged by `outpost-judge`, which
//! applies the same rules as the app, before it is stored or forwarded.
//!
//! The shape follows mini-redis and the axum examples, around the sans-IO protocol hub in
//! `outpost-sync`:
//!
//! - [`cli`] parses the command line: serve, manage tokens, or read the audit;
//! - [`audit`] reports who delivered each change of an incident, and when;
//! - [`automation`] connects the automation peer (`outpost-automation`: alerts in) to the hub;
//! - [`server`] builds the router ([`server::app`], socket-free for tests) and runs it with
//!   graceful shutdown ([`server::run`]);
//! - [`auth`] issues tokens and finds them in requests; tokens are checked at the WebSocket
//!   upgrade;
//! - [`connection`] serves one WebSocket: limits (frame size, rate) and clean closes;
//! - [`integrations`] is the admin's API for integration keys;
//! - [`invitations`] stores invitations and devices; [`people`] is their HTTP API (invite,
//!   join, list and revoke devices, sign out);
//! - [`revocation`] closes the open connections of a revoked token within a second;
//! - [`service`] runs the protocol hub on its own thread: batches in, commit, messages out;
//! - [`stats`] is what the relay reports about itself (`/api/stats`, to this machine only);
//! - [`storage`] is the embedded SQLite store (crash-safe, no setup) and the token table;
//! - [`assets`] serves the single-page app; [`shutdown`] turns signals into a future.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod backup;
pub mod cli;
pub mod connection;
pub mod integrations;
pub mod invitations;
pub mod outbox;
pub mod people;
pub mod revocation;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod stats;
pub mod storage;
