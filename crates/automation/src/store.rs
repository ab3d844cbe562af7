//! What the automation peer remembers, in a SQLite file of its own beside the relay's (the
//! relay's storage stays free of it): integrations and their keys (hashed), which incident each
//! alert identity opened, how often it fired, the bodies already handled (senders retry), and
//! each integration's next reference number.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::payload::Kind;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("automation storage failed: {0}")]
pub struct StoreError(String);

pub(crate) fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// One integration: a sender with a key, posting into one workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integration {
    /// Its id (the first digits of its key's hash), which the command line and the audit use.
    pub id: String,
    /// The workspace it posts into.
    pub workspace: String,
    /// Which sender's shape it reads.
    pub kind: Kind,
    /// Its name ("prod-eu"); changes are authored as "Alertmanager: prod-eu".
    pub name: String,
    /// When it was created (Unix seconds).
    pub created: i64,
}

impl Integration {
    /// Who its changes are authored as.
    pub fn author(&self) -> String {
        format!("{}: {}", self.kind.label(), self.name)
    }
}

/// The incident an alert identity opened, and how often it has fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked {
    /// The incident document's id (automerge URL).
    pub document: String,
    /// Firings recorded, the first included.
    pub fired: u64,
    /// The incident's reference number.
    pub reference: String,
}

/// The store behind its lock; a panic elsewhere while it was held leaves SQLite consistent, so
/// the store is used on.
pub(crate) fn lock(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// The automation peer's store.
pub struct Store {
    pub(crate) db: Connection,
}

fn key_hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

impl Store {
    /// Opens (creating if needed) `automation.sqlite3` in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db = Connection::open(dir.join("automation.sqlite3")).map_err(err)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS integrations (
                 id TEXT PRIMARY KEY,
                 key_hash BLOB NOT NULL UNIQUE,
                 workspace TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 name TEXT NOT NULL,
                 created INTEGER NOT NULL,
                 revoked INTEGER);
             CREATE TABLE IF NOT EXISTS alerts (
                 integration TEXT NOT NULL,
                 identity TEXT NOT NULL,
                 document TEXT NOT NULL,
                 fired INTEGER NOT NULL,
                 reference TEXT NOT NULL,
                 PRIMARY KEY (integration, identity));
             CREATE TABLE IF NOT EXISTS handled (
                 integration TEXT NOT NULL,
                 body_hash BLOB NOT NULL,
                 answer TEXT NOT NULL,
                 at INTEGER NOT NULL,
                 PRIMARY KEY (integration, body_hash));
             CREATE INDEX IF NOT EXISTS handled_at ON handled (at);
             CREATE TABLE IF NOT EXISTS rules_done (
                 document TEXT NOT NULL,
                 rule TEXT NOT NULL,
                 at INTEGER NOT NULL,
                 PRIMARY KEY (document, rule));
             CREATE TABLE IF NOT EXISTS refs (
                 workspace TEXT NOT NULL,
                 reference TEXT NOT NULL,
                 document TEXT NOT NULL,
                 PRIMARY KEY (workspace, reference));
             CREATE TABLE IF NOT EXISTS threads (
                 message_id TEXT PRIMARY KEY,
                 document TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS settled (
                 document TEXT PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS sequences (
                 integration TEXT PRIMARY KEY,
                 prefix TEXT NOT NULL,
                 next INTEGER NOT NULL);",
        )
        .map_err(err)?;
        crate::outbox::migrate(&db)?;
        Ok(Store { db })
    }

    /// Starts a transaction: what a batch of deliveries records is written at once, with one
    /// sync to disk, at [`Store::commit`].
    pub fn begin(&self) -> Result<(), StoreError> {
        self.db.execute_batch("BEGIN IMMEDIATE").map_err(err)
    }

    /// Commits the transaction [`Store::begin`] started.
    pub fn commit(&self) -> Result<(), StoreError> {
        self.db.execute_batch("COMMIT").map_err(err)
    }

    /// Creates an integration; returns it and its key (shown once: only its hash is kept).
    pub fn create_integration(
        &self,
        workspace: &str,
        kind: Kind,
        name: &str,
        now: i64,
    ) -> Result<(Integration, String), StoreError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(err)?;
        // 32 characters: the Events API's routing-key length, so Events senders accept it.
        let key = hex::encode(bytes);
        let hash = key_hash(&key);
        let id = hex::encode(&hash[..4]);
        self.db
            .execute(
                "INSERT INTO integrations (id, key_hash, workspace, kind, name, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, hash, workspace, kind.key(), name, now],
            )
            .map_err(err)?;
        let integration = Integration {
            id,
            workspace: workspace.to_string(),
            kind,
            name: name.to_string(),
            created: now,
        };
        Ok((integration, key))
    }

    /// The integration a key belongs to, unless unknown or revoked.
    pub fn integration(&self, key: &str) -> Result<Option<Integration>, StoreError> {
        self.db
            .prepare_cached(
                "SELECT id, workspace, kind, name, created FROM integrations
                 WHERE key_hash = ?1 AND revoked IS NULL",
            )
            .map_err(err)?
            .query_row(params![key_hash(key)], row)
            .optional()
            .map_err(err)
            .map(Option::flatten)
    }

    /// Every integration that is not revoked.
    pub fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        let mut q = self
            .db
            .prepare_cached(
                "SELECT id, workspace, kind, name, created FROM integrations
                 WHERE revoked IS NULL ORDER BY workspace, created",
            )
            .map_err(err)?;
        let rows = q.query_map([], row).map_err(err)?;
        Ok(rows.filter_map(|r| r.ok().flatten()).collect())
    }

    /// Revokes an integration by id; whether there was one.
    pub fn revoke(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let n = self
            .db
            .execute(
                "UPDATE integrations SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
                params![id, now],
            )
            .map_err(err)?;
        Ok(n > 0)
    }

    /// The incident an identity opened.
    pub fn tracked(
        &self,
        integration: &str,
        identity: &str,
    ) -> Result<Option<Tracked>, StoreError> {
        self.db
            .prepare_cached(
                "SELECT document, fired, reference FROM alerts WHERE integration = ?1 AND identity = ?2",
            )
            .map_err(err)?
            .query_row(params![integration, identity], |r| {
                Ok(Tracked {
                    document: r.get(0)?,
                    fired: r.get::<_, i64>(1)? as u64,
                    reference: r.get(2)?,
                })
            })
            .optional()
            .map_err(err)
    }

    /// Records the incident an identity now stands for and how often it fired.
    pub fn track(
        &self,
        integration: &str,
        identity: &str,
        tracked: &Tracked,
    ) -> Result<(), StoreError> {
        self.db
            .prepare_cached(
                "INSERT INTO alerts (integration, identity, document, fired, reference)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (integration, identity) DO UPDATE SET document = ?3, fired = ?4,
                 reference = ?5",
            )
            .map_err(err)?
            .execute(params![
                integration,
                identity,
                tracked.document,
                tracked.fired as i64,
                tracked.reference
            ])
            .map_err(err)?;
        Ok(())
    }

    /// The answer given to this body before, if it was handled.
    pub fn handled(&self, integration: &str, body: &[u8]) -> Result<Option<String>, StoreError> {
        self.db
            .prepare_cached("SELECT answer FROM handled WHERE integration = ?1 AND body_hash = ?2")
            .map_err(err)?
            .query_row(params![integration, Sha256::digest(body).to_vec()], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)
    }

    /// Records that this body was handled, with the answer a retry gets.
    pub fn remember(
        &self,
        integration: &str,
        body: &[u8],
        answer: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .prepare_cached(
                "INSERT OR IGNORE INTO handled (integration, body_hash, answer, at) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(err)?
            .execute(params![integration, Sha256::digest(body).to_vec(), answer, now])
            .map_err(err)?;
        Ok(())
    }

    /// Forgets handled bodies older than `before` (a retry days later is a new delivery).
    pub fn forget_handled(&self, before: i64) -> Result<usize, StoreError> {
        self.db
            .execute("DELETE FROM handled WHERE at < ?1", params![before])
            .map_err(err)
    }

    /// The timed rules that acted on a document already.
    pub fn rules_done(&self, document: &str) -> Result<Vec<String>, StoreError> {
        let mut q = self
            .db
            .prepare_cached("SELECT rule FROM rules_done WHERE document = ?1")
            .map_err(err)?;
        let rows = q.query_map(params![document], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Records that a timed rule acted on a document.
    pub fn rule_done(&self, document: &str, rule: &str, now: i64) -> Result<(), StoreError> {
        self.db
            .prepare_cached(
                "INSERT OR IGNORE INTO rules_done (document, rule, at) VALUES (?1, ?2, ?3)",
            )
            .map_err(err)?
            .execute(params![document, rule, now])
            .map_err(err)?;
        Ok(())
    }

    /// Documents Closed or Canceled (read-only for good): no timed rule looks at them again.
    pub fn settled(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut q = self
            .db
            .prepare_cached("SELECT document FROM settled")
            .map_err(err)?;
        let rows = q.query_map([], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Records a document as Closed or Canceled, or as one no timed rule applies to (a
    /// knowledge article).
    pub fn settle(&self, document: &str) -> Result<(), StoreError> {
        self.db
            .prepare_cached("INSERT OR IGNORE INTO settled (document) VALUES (?1)")
            .map_err(err)?
            .execute(params![document])
            .map_err(err)?;
        Ok(())
    }

    /// Records which document holds a reference number (every incident the automation opens
    /// or its sweep sees), so a mail quoting the number finds it.
    pub fn index_reference(
        &self,
        workspace: &str,
        reference: &str,
        document: &str,
    ) -> Result<(), StoreError> {
        self.db
            .prepare_cached(
                "INSERT INTO refs (workspace, reference, document) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace, reference) DO UPDATE SET document = ?3",
            )
            .map_err(err)?
            .execute(params![workspace, reference, document])
            .map_err(err)?;
        Ok(())
    }

    /// The document holding a reference number, if known.
    pub fn document_of(
        &self,
        workspace: &str,
        reference: &str,
    ) -> Result<Option<String>, StoreError> {
        self.db
            .prepare_cached("SELECT document FROM refs WHERE workspace = ?1 AND reference = ?2")
            .map_err(err)?
            .query_row(params![workspace, reference], |r| r.get(0))
            .optional()
            .map_err(err)
    }

    /// Records the incident a mail (by its message id) opened or commented on.
    pub fn thread(&self, message_id: &str, document: &str) -> Result<(), StoreError> {
        self.db
            .prepare_cached("INSERT OR IGNORE INTO threads (message_id, document) VALUES (?1, ?2)")
            .map_err(err)?
            .execute(params![message_id.trim(), document])
            .map_err(err)?;
        Ok(())
    }

    /// The incident the first of these message ids belongs to, if any.
    pub fn thread_document(&self, message_ids: &[String]) -> Result<Option<String>, StoreError> {
        for id in message_ids {
            let found = self
                .db
                .prepare_cached("SELECT document FROM threads WHERE message_id = ?1")
                .map_err(err)?
                .query_row(params![id.trim()], |r| r.get(0))
                .optional()
                .map_err(err)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// The integration's reference prefix, if it has one.
    pub fn prefix(&self, integration: &str) -> Result<Option<String>, StoreError> {
        self.db
            .prepare_cached("SELECT prefix FROM sequences WHERE integration = ?1")
            .map_err(err)?
            .query_row(params![integration], |r| r.get(0))
            .optional()
            .map_err(err)
    }

    /// Takes the integration's next reference sequence under `prefix` (recording the prefix on
    /// first use). Taken numbers are never handed out again, even if the incident is not
    /// written: a gap, never a duplicate.
    pub fn next_sequence(&self, integration: &str, prefix: &str) -> Result<u32, StoreError> {
        let next: i64 = self
            .db
            .prepare_cached(
                "INSERT INTO sequences (integration, prefix, next) VALUES (?1, ?2, 2)
                 ON CONFLICT (integration) DO UPDATE SET next = next + 1
                 RETURNING next - 1",
            )
            .map_err(err)?
            .query_row(params![integration, prefix], |r| r.get(0))
            .map_err(err)?;
        u32::try_from(next).map_err(err)
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Integration>> {
    let kind: String = r.get(2)?;
    Ok(Kind::from_key(&kind).map(|kind| Integration {
        id: r.get(0).unwrap_or_default(),
        workspace: r.get(1).unwrap_or_default(),
        kind,
        name: r.get(3).unwrap_or_default(),
        created: r.get(4).unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_finds_its_integration_until_revoked_and_sequences_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (made, key) = store
            .create_integration("acme", Kind::Alertmanager, "prod-eu", 10)
            .unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(store.integration(&key).unwrap(), Some(made.clone()));
        assert_eq!(made.author(), "Alertmanager: prod-eu");
        assert_eq!(store.integration("0".repeat(32).as_str()).unwrap(), None);
        assert_eq!(store.next_sequence(&made.id, "AB12").unwrap(), 1);
        assert_eq!(store.next_sequence(&made.id, "AB12").unwrap(), 2);
        drop(store);
        // Reopened: the same numbers continue.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.next_sequence(&made.id, "AB12").unwrap(), 3);
        assert_eq!(store.prefix(&made.id).unwrap().as_deref(), Some("AB12"));
        assert!(store.revoke(&made.id, 11).unwrap());
        assert_eq!(store.integration(&key).unwrap(), None);
    }
}
