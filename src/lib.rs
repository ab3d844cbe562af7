//! # Outpost: the browser app
//!
//! A Leptos single-page app over the incident domain in `outpost-core`. Components render state
//! and send commands; the rules live in the core.
//!
//! - [`app`]: the shell, navigation and routes; [`pages`]: one file per page; [`components`]:
//!   pieces shared between pages.
//! - [`state`]: the reactive state components share.
//! - [`repo`]: this device's incident documents, in memory and in IndexedDB; [`storage`]: the
//!   IndexedDB adapter in automerge-repo's layout.
//! - [`sync`]: the sync client's IO (WebSocket, reconnects, batching); [`relay_api`]: the
//!   relay's HTTP API (session, audit, invitations, devices).
//! - [`accounts`]: the sign-ins on this browser, each with its own settings and database.
//! - [`pwa`]: the installable app: the service worker bridge (offline copy, updates) and
//!   persistent storage.
//! - [`tasks`]: when work runs (slices, and work a page starts); [`crash`]: what a person sees
//!   after an internal error.
//! - [`zones`]: time-zone tables from the browser's own tzdb (for business calendars).
//! - [`settings`]: per-device settings; [`clock`]: time and randomness; [`format`]: how times
//!   read.

pub mod accounts;
pub mod app;
pub mod clock;
pub mod components;
pub mod crash;
pub mod format;
pub mod pages;
pub mod pwa;
pub mod relay_api;
pub mod repo;
pub mod settings;
pub mod state;
pub mod storage;
pub mod sync;
pub mod tasks;
pub mod zones;

pub use app::App;
