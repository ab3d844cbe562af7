//! # outpost-relay
//!
//! One binary that serves the built Outpost app and (from the sync work onwards) relays incident
//! documents between peers. The shape follows mini-redis and the axum examples:
//!
//! - [`cli`] parses the command line into a [`cli::Config`];
//! - [`server`] builds the router with [`server::app`] (socket-free, so tests can drive it with
//!   `oneshot`) and runs it with graceful shutdown in [`server::run`];
//! - [`assets`] serves the single-page app: real files by path, `index.html` for navigations so
//!   deep links work, and a real 404 for missing files;
//! - [`shutdown`] turns SIGINT and SIGTERM into one shutdown future.

pub mod assets;
pub mod cli;
pub mod server;
pub mod shutdown;
