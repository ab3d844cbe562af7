//! One file per page, as the router names them.

pub mod backup;
pub mod dashboard;
pub mod import;
pub mod incident;
pub mod integrations;
pub mod join;
pub mod knowledge;
pub mod list;
pub mod new_incident;
pub mod outbox;
pub mod people;
pub mod report;
pub mod settings;
pub mod workspace;
