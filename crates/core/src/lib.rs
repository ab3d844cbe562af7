//! # outpost-core: the incident domain
//!
//! Outpost keeps each ITIL incident in its own Automerge document so that field staff can log,
//! triage, work and resolve incidents offline, and their changes merge when they reconnect. This
//! crate is that domain, with no browser and no IO: it builds natively for tests and for wasm32
//! for the app.
//!
//! ## How a change flows
//!
//! A person's action becomes a [`Command`]. [`IncidentDoc::execute`] checks it against the
//! lifecycle guards ([`state`]), the workspace rules ([`config`]) and the input limits
//! ([`incident`]), then writes only the fields it changes as one Automerge change. That change's
//! message records who did it and when on their device ([`history`]). Reading goes the other way:
//! [`schema`] hydrates an [`Incident`], and [`IncidentDoc::view`] adds what is derived rather than
//! stored: the [`priority`] from impact × urgency, the [`sla`] clocks and the [`communication`]
//! plan from the history's state changes at device times, the [`conflict`]s, and the timeline.
//!
//! ## Decisions that matter for merging
//!
//! - **Priority, milestones and SLA are derived, never stored**, so concurrent edits cannot leave
//!   them stale.
//! - **Notes are append-only lists** of objects; two people writing offline never conflict, and
//!   every note survives a merge.
//! - **Single-valued fields are registers.** Concurrent different values are a [`Conflict`] that a
//!   person settles; edits skip fields that already show the new value, so nothing is settled by
//!   accident.
//! - **The document skeleton is written once**, at creation, so no two peers ever create the same
//!   nested object.
//!
//! ## Modules
//!
//! - [`document`]: [`IncidentDoc`], the way in for everything.
//! - [`command`]: commands and their refusals.
//! - [`state`]: the lifecycle and its guards.
//! - [`priority`]: impact, urgency, priority and the matrix.
//! - [`sla`] and [`calendar`]: SLA clocks in business time; [`zone`]: time zones as tables of
//!   their offsets (daylight saving without a time-zone database in the bundle).
//! - [`communication`]: update cadence and report obligations.
//! - [`history`]: the audit trail, timeline and milestones.
//! - [`conflict`] and [`field`]: conflicting values and the field table.
//! - [`incident`]: the plain types and input validation.
//! - [`schema`]: the document layout and reading it.
//! - [`reference`]: offline reference numbers.
//! - [`report`]: the post-incident report.
//! - [`summary`]: the list entries, filters, search and sort.
//! - [`index`]: every stored summary and sync record, packed for a fast start.
//! - [`config`]: workspace configuration; [`entry`]: what admins type into its forms, read
//!   with a message per field.
//! - [`access`]: who may read an incident (restriction to groups).
//! - [`admission`]: whether a change may be kept, judged as its author saw the incident (the
//!   relay's rules).
//! - [`role`]: the four roles and which command each may run (the app and the relay's judge
//!   share it).
//! - [`time`]: device time.

pub mod access;
pub mod admission;
pub mod alert;
pub mod backup;
pub mod calendar;
pub mod command;
pub mod communication;
pub mod config;
pub mod conflict;
pub mod dashboard;
pub mod directory;
pub mod document;
pub mod entry;
pub mod export;
pub mod family;
pub mod field;
pub mod history;
pub mod housekeeping;
pub mod import;
pub mod incident;
pub mod index;
mod keyword;
pub mod knowledge;
pub mod mail;
pub mod notify;
pub mod priority;
pub mod reference;
pub mod report;
pub mod role;
pub mod scan;
pub mod schema;
pub mod sla;
pub mod state;
pub mod summary;
pub mod time;
pub mod workspace;
pub mod zone;

pub use command::{Command, CommandError};
pub use config::WorkspaceConfig;
pub use conflict::Conflict;
pub use document::{IncidentDoc, IncidentView, Outcome};
pub use field::{Field, FieldValue};
pub use history::Attribution;
pub use incident::{Incident, NewIncident};
pub use keyword::UnknownKeyword;
pub use priority::{Impact, Priority, PriorityMatrix, Urgency};
pub use reference::{DevicePrefix, ReferenceNumber};
pub use role::{Capability, Role, RoleRefusal};
pub use state::{Action, ActionKind, HoldReason, ResolutionCode, StandardResolution, State};
pub use time::DeviceTime;

/// Automerge, re-exported so the app and sync layers use the same version.
pub use automerge;
