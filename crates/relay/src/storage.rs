//! The relay's embedded storage: SQLite (bundled, no setup) in the data directory.
//!
//! Documents are stored as their change chunks in arrival order, compacted into one snapshot
//! when a document gathers many chunks. Every batch of the hub's writes is one SQLite
//! transaction, committed before the hub releases any message that acknowledges it.
//!
//! Durability is a stated choice: WAL mode with `synchronous=NORMAL`. A committed transaction
//! survives the process being killed at any moment (`kill -9`: the WAL is in the operating
//! system's cache). A power cut or a kernel crash can lose the transactions committed since the
//! WAL was last synced to disk (at most the last checkpoint's worth, typically well under a
//! second of writes), and never corrupts the database. That is acceptable because the relay is
//! never the only copy: every device keeps each change it made, and on connecting the sync
//! reconciles the relay's catalog with the device's and syncs every document whose heads differ,
//! so a change the relay acknowledged and then lost is sent again (the same path a restore from
//! a backup takes, tested in `tests/backup.rs`). `synchronous=FULL` would add a disk sync to
//! every commit (one per hub batch); its cost has not been measured here yet (issue 19).
//!
//! Tokens live here too, as SHA-256 hashes: the database never holds a usable token. So does the
//! audit: which token delivered each change and when it arrived, append-only, written in the
//! same transaction as the change itself.

use std::path::Path;

use automerge::{Automerge, ChangeHash};
use outpost_sync::hub::{Grant, HubStorage, StoreError};
use outpost_sync::DocumentId;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// A document is compacted into one snapshot once it has this many chunks.
const COMPACT_AFTER_CHUNKS: i64 = 32;

/// The relay's SQLite database.
pub struct Storage {
    pub(crate) db: Connection,
    in_transaction: bool,
}

pub(crate) fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn heads_blob(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn heads_from(blob: &[u8]) -> Vec<ChangeHash> {
    blob.chunks_exact(32)
        .map(|c| ChangeHash(c.try_into().expect("chunks_exact yields 32 bytes")))
        .collect()
}

/// The listed id of a token: the first six bytes of its hash, in hex.
pub(crate) fn short_id(hash: &[u8]) -> String {
    hex::encode(&hash[..hash.len().min(6)])
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// One change's arrival at the relay, from the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The change.
    pub change: ChangeHash,
    /// The token that delivered it (its workspace left empty).
    pub grant: Grant,
    /// When it arrived (seconds since the epoch).
    pub arrived_at: i64,
}

/// A token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The first characters of the token's hash, to tell tokens apart.
    pub id: String,
    /// What it grants.
    pub grant: Grant,
    /// When it was created (seconds since the epoch).
    pub created_at: i64,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When it expires unless used (seconds since the epoch); `None`: never.
    pub expires_at: Option<i64>,
    /// The device's name, given when it joined by invitation (empty for `token create`).
    pub device_name: String,
    /// The app version the device last reported (empty if it never did).
    pub app_version: String,
    /// When the device last connected or synced (seconds since the epoch).
    pub last_seen: Option<i64>,
}

impl TokenInfo {
    /// `revoked`, `expired` or `active` at `now`.
    pub fn state(&self, now: i64) -> &'static str {
        match self.expires_at {
            _ if self.revoked => "revoked",
            Some(at) if at <= now => "expired",
            _ => "active",
        }
    }
}

impl Storage {
    /// Opens (creating) `relay.sqlite3` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Storage, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(err)?;
        let db = Connection::open(data_dir.join("relay.sqlite3")).map_err(err)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS documents (
                 id TEXT PRIMARY KEY,
                 workspace TEXT NOT NULL,
                 heads BLOB NOT NULL,
                 chunks INTEGER NOT NULL DEFAULT 0,
                 bytes INTEGER NOT NULL DEFAULT 0,
                 updated_at INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS documents_by_workspace ON documents (workspace);
             CREATE TABLE IF NOT EXISTS chunks (
                 doc TEXT NOT NULL REFERENCES documents (id),
                 seq INTEGER NOT NULL,
                 data BLOB NOT NULL,
                 PRIMARY KEY (doc, seq)
             );
             CREATE TABLE IF NOT EXISTS tokens (
                 hash BLOB PRIMARY KEY,
                 workspace TEXT NOT NULL,
                 user TEXT NOT NULL,
                 created_at INTEGER NOT NULL,
                 revoked_at INTEGER
             );
             CREATE TABLE IF NOT EXISTS arrivals (
                 doc TEXT NOT NULL,
                 change BLOB NOT NULL,
                 user TEXT NOT NULL,
                 role TEXT NOT NULL,
                 device TEXT NOT NULL,
                 arrived_at INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS arrivals_by_doc ON arrivals (doc);
             CREATE TABLE IF NOT EXISTS device_prefixes (
                 workspace TEXT NOT NULL,
                 prefix TEXT NOT NULL,
                 device TEXT NOT NULL,
                 allocated_at INTEGER NOT NULL,
                 PRIMARY KEY (workspace, prefix),
                 UNIQUE (workspace, device)
             );
             CREATE TABLE IF NOT EXISTS invitations (
                 hash BLOB PRIMARY KEY,
                 id TEXT NOT NULL UNIQUE,
                 workspace TEXT NOT NULL,
                 user TEXT NOT NULL,
                 role TEXT NOT NULL,
                 groups TEXT NOT NULL DEFAULT '',
                 created_by TEXT NOT NULL,
                 created_at INTEGER NOT NULL,
                 expires_at INTEGER NOT NULL,
                 spent_at INTEGER,
                 device TEXT
             );
             CREATE TABLE IF NOT EXISTS workspace_documents (
                 workspace TEXT PRIMARY KEY,
                 document TEXT NOT NULL UNIQUE,
                 created_at INTEGER NOT NULL
             );
             CREATE TRIGGER IF NOT EXISTS arrivals_are_kept BEFORE DELETE ON arrivals
                 BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
             CREATE TRIGGER IF NOT EXISTS arrivals_are_not_rewritten BEFORE UPDATE ON arrivals
                 BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;",
        )
        .map_err(err)?;
        // Tokens issued before roles existed could do everything but are given the agent's role:
        // the least that keeps their holders working. An admin raises them with `token create`.
        add_column(&db, "tokens", "role", "TEXT NOT NULL DEFAULT 'agent'")?;
        // Groups, one per line; none for tokens issued before restricted incidents.
        add_column(&db, "tokens", "groups", "TEXT NOT NULL DEFAULT ''")?;
        // Who may read a restricted document, one group per line; NULL: its whole workspace.
        add_column(&db, "documents", "readers", "TEXT")?;
        // Development tokens work only while the relay runs with --dev. Earlier versions kept
        // them in plaintext in `meta`, to hand the same one out again: mark those, and forget
        // the plaintext (they are derived now, see `development_token`).
        add_column(&db, "tokens", "development", "INTEGER NOT NULL DEFAULT 0")?;
        // Tokens expire unless in use (each connection renews one for its lifetime again).
        // Tokens from before expiry existed get a whole lifetime from now; development tokens
        // do not expire.
        add_column(
            &db,
            "tokens",
            "lifetime",
            &format!("INTEGER NOT NULL DEFAULT {DEFAULT_LIFETIME}"),
        )?;
        let had_expiry = db
            .prepare("SELECT 1 FROM pragma_table_info('tokens') WHERE name = 'expires_at'")
            .and_then(|mut st| st.exists([]))
            .map_err(err)?;
        if !had_expiry {
            add_column(&db, "tokens", "expires_at", "INTEGER")?;
            db.execute(
                "UPDATE tokens SET expires_at = ?1 + lifetime WHERE development = 0",
                [now_seconds()],
            )
            .map_err(err)?;
        }
        // Devices: a token made by accepting an invitation belongs to one device, named when it
        // joined; the app version and when it was last seen are kept as it syncs.
        add_column(&db, "tokens", "device_name", "TEXT NOT NULL DEFAULT ''")?;
        add_column(&db, "tokens", "app_version", "TEXT NOT NULL DEFAULT ''")?;
        add_column(&db, "tokens", "last_seen", "INTEGER")?;
        let planted: Vec<String> = db
            .prepare("SELECT value FROM meta WHERE key LIKE 'dev-token:%'")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .map_err(err)?;
        for token in planted {
            db.execute(
                "UPDATE tokens SET development = 1 WHERE hash = ?1",
                [token_hash(&token)],
            )
            .map_err(err)?;
        }
        db.execute("DELETE FROM meta WHERE key LIKE 'dev-token:%'", [])
            .map_err(err)?;
        Ok(Storage {
            db,
            in_transaction: false,
        })
    }

    /// A value kept across restarts (the relay's storage id), created on first use.
    pub fn identity(&self, key: &str, make: impl FnOnce() -> String) -> Result<String, StoreError> {
        if let Some(v) = self
            .db
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map_err(err)?
        {
            return Ok(v);
        }
        let value = make();
        self.db
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(err)?;
        Ok(value)
    }

    /// Stores a new token for a workspace and user, valid for [`DEFAULT_LIFETIME`] from `now`
    /// and renewed by use.
    pub fn add_token(&self, token: &str, grant: &Grant, now: i64) -> Result<(), StoreError> {
        self.add_token_for(token, grant, now, DEFAULT_LIFETIME)
    }

    /// Stores a new token valid for `lifetime` seconds from `now`, renewed by use.
    pub fn add_token_for(
        &self,
        token: &str,
        grant: &Grant,
        now: i64,
        lifetime: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO tokens (hash, workspace, user, role, groups, created_at, lifetime, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    token_hash(token),
                    grant.workspace,
                    grant.user,
                    grant.role,
                    grant.groups.join("\n"),
                    now,
                    lifetime,
                    now.saturating_add(lifetime)
                ],
            )
            .map_err(err)?;
        Ok(())
    }

    /// Renews the tokens listed as `devices` (in use now): each is valid for its whole lifetime
    /// from `now` again, and is marked as seen.
    pub fn renew(&self, devices: &[String], now: i64) -> Result<(), StoreError> {
        if devices.is_empty() {
            return Ok(());
        }
        for hash in self.active_hashes()? {
            if devices.contains(&short_id(&hash)) {
                self.db
                    .execute(
                        "UPDATE tokens SET expires_at = CASE WHEN expires_at IS NULL THEN NULL ELSE ?1 + lifetime END, last_seen = ?1 WHERE hash = ?2 AND (expires_at IS NULL OR expires_at > ?1)",
                        params![now, hash],
                    )
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    /// The development token of `identity` (a user, role and groups): the same each time it
    /// is asked for, derived from a secret of this relay's, so no token is kept in plaintext.
    /// It is stored (hashed) and marked as a development token the first time; one that was
    /// revoked stays revoked. Returns the token and whether it is usable.
    pub fn development_token(
        &self,
        identity: &str,
        grant: &Grant,
        now: i64,
    ) -> Result<(String, bool), StoreError> {
        let secret = self.identity("dev-token-secret", crate::auth::new_token)?;
        let token = crate::auth::derived_token(&secret, identity);
        self.db
            .execute(
                "INSERT OR IGNORE INTO tokens (hash, workspace, user, role, groups, created_at, development) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
                params![
                    token_hash(&token),
                    grant.workspace,
                    grant.user,
                    grant.role,
                    grant.groups.join("\n"),
                    now
                ],
            )
            .map_err(err)?;
        let usable = self.verify_token(&token, true)?.is_some();
        Ok((token, usable))
    }

    /// What a token grants, if it is known and not revoked. A development token grants
    /// something only if `development` (the relay runs with --dev).
    pub fn verify_token(
        &self,
        token: &str,
        development: bool,
    ) -> Result<Option<Grant>, StoreError> {
        self.db
            .query_row(
                "SELECT workspace, user, role, groups FROM tokens WHERE hash = ?1 AND revoked_at IS NULL AND (development = 0 OR ?2) AND (expires_at IS NULL OR expires_at > CAST(strftime('%s', 'now') AS INTEGER))",
                params![token_hash(token), development],
                |r| {
                    Ok(Grant {
                        workspace: r.get(0)?,
                        user: r.get(1)?,
                        role: r.get(2)?,
                        device: short_id(&token_hash(token)),
                        groups: lines(&r.get::<_, String>(3)?),
                    })
                },
            )
            .optional()
            .map_err(err)
    }

    /// Every token, newest first.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut stmt = self
            .db
            .prepare("SELECT hash, workspace, user, created_at, revoked_at, role, groups, expires_at, device_name, app_version, last_seen FROM tokens ORDER BY created_at DESC")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                let hash: Vec<u8> = r.get(0)?;
                Ok(TokenInfo {
                    id: short_id(&hash),
                    grant: Grant {
                        workspace: r.get(1)?,
                        user: r.get(2)?,
                        role: r.get(5)?,
                        device: short_id(&hash),
                        groups: lines(&r.get::<_, String>(6)?),
                    },
                    created_at: r.get(3)?,
                    revoked: r.get::<_, Option<i64>>(4)?.is_some(),
                    expires_at: r.get(7)?,
                    device_name: r.get(8)?,
                    app_version: r.get(9)?,
                    last_seen: r.get(10)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// The hashes of every token not revoked.
    fn active_hashes(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .db
            .prepare("SELECT hash FROM tokens WHERE revoked_at IS NULL")
            .map_err(err)?;
        let hashes = stmt
            .query_map([], |r| r.get(0))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        Ok(hashes)
    }

    /// Changes the role of the active token whose listed id is exactly `id`; returns whether
    /// there was one. Connections already open keep the role they were accepted with until they
    /// reconnect; the relay judges each by the role its connection carries.
    pub fn set_role(&self, id: &str, role: &str) -> Result<bool, StoreError> {
        self.update_token(id, "role", role)
    }

    /// Sets the groups of the active token whose listed id is exactly `id`; returns whether
    /// there was one. Like a role, they reach open connections when those reconnect.
    pub fn set_groups(&self, id: &str, groups: &[String]) -> Result<bool, StoreError> {
        self.update_token(id, "groups", &groups.join("\n"))
    }

    fn update_token(&self, id: &str, column: &str, value: &str) -> Result<bool, StoreError> {
        let hashes = self.active_hashes()?;
        let Some(hash) = hashes.iter().find(|h| short_id(h) == id.trim()) else {
            return Ok(false);
        };
        self.db
            .execute(
                &format!("UPDATE tokens SET {column} = ?1 WHERE hash = ?2"),
                params![value, hash],
            )
            .map_err(err)?;
        Ok(true)
    }

    /// Who may read a stored document: `None` if it is not stored, `Some(None)` for its whole
    /// workspace, `Some(Some(groups))` if it is restricted.
    pub fn readers(&self, doc: &DocumentId) -> Result<Option<Option<Vec<String>>>, StoreError> {
        self.db
            .query_row(
                "SELECT readers FROM documents WHERE id = ?1",
                [doc.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(|found| found.map(|readers| readers.as_deref().map(lines)))
            .map_err(err)
    }

    /// Revokes the active token whose listed id is exactly `id`. A prefix is not enough, even
    /// of one token: `token revoke 0` once revoked every token whose id began with 0.
    pub fn revoke(&self, id: &str, now: i64) -> Result<Revoke, StoreError> {
        let id = id.trim();
        let hashes = self.active_hashes()?;
        if let Some(hash) = hashes.iter().find(|h| short_id(h) == id) {
            self.db
                .execute(
                    "UPDATE tokens SET revoked_at = ?1 WHERE hash = ?2",
                    params![now, hash],
                )
                .map_err(err)?;
            return Ok(Revoke::Revoked);
        }
        let starting: Vec<String> = hashes
            .iter()
            .map(|h| short_id(h))
            .filter(|s| !id.is_empty() && s.starts_with(id))
            .collect();
        Ok(if starting.is_empty() {
            Revoke::Unknown
        } else {
            Revoke::NotWhole(starting)
        })
    }

    /// The reference-number prefix of `device` (a token's listed id) in `workspace`: one no other
    /// device of the workspace has, so two devices never number incidents alike. A device keeps
    /// the prefix it has; asking with `wanted` (the prefix it already numbers with) claims that
    /// one if no other device holds it. Otherwise a free one is drawn with `random`.
    pub fn claim_prefix(
        &self,
        workspace: &str,
        device: &str,
        wanted: Option<&str>,
        now: i64,
        mut random: impl FnMut() -> u32,
    ) -> Result<String, StoreError> {
        let holder = |prefix: &str| -> Result<Option<String>, StoreError> {
            self.db
                .prepare_cached(
                    "SELECT device FROM device_prefixes WHERE workspace = ?1 AND prefix = ?2",
                )
                .map_err(err)?
                .query_row(params![workspace, prefix], |r| r.get(0))
                .optional()
                .map_err(err)
        };
        let mine: Option<String> = self
            .db
            .prepare_cached(
                "SELECT prefix FROM device_prefixes WHERE workspace = ?1 AND device = ?2",
            )
            .map_err(err)?
            .query_row(params![workspace, device], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if let Some(mine) = &mine {
            if wanted.is_none_or(|w| w == mine) {
                return Ok(mine.clone());
            }
        }
        let free = |prefix: &str| -> Result<bool, StoreError> { Ok(holder(prefix)?.is_none()) };
        let mut chosen = None;
        if let Some(w) = wanted.filter(|w| free(w).unwrap_or(false)) {
            chosen = Some(w.to_string());
        }
        // Four hex digits first (65,536 a workspace), drawn at random, then by a scan; five
        // once those are all taken.
        for _ in 0..64 {
            if chosen.is_some() {
                break;
            }
            let candidate = format!("{:04X}", random() & 0xFFFF);
            if free(&candidate)? {
                chosen = Some(candidate);
            }
        }
        if chosen.is_none() {
            let start = random() & 0xFFFF;
            for i in 0..=0xFFFF_u32 {
                let candidate = format!("{:04X}", (start + i) & 0xFFFF);
                if free(&candidate)? {
                    chosen = Some(candidate);
                    break;
                }
            }
        }
        while chosen.is_none() {
            let candidate = format!("{:05X}", random() & 0xFFFFF);
            if free(&candidate)? {
                chosen = Some(candidate);
            }
        }
        let chosen = chosen.unwrap_or_default();
        self.db
            .execute(
                "DELETE FROM device_prefixes WHERE workspace = ?1 AND device = ?2",
                params![workspace, device],
            )
            .map_err(err)?;
        self.db
            .execute(
                "INSERT INTO device_prefixes (workspace, prefix, device, allocated_at) VALUES (?1, ?2, ?3, ?4)",
                params![workspace, chosen, device, now],
            )
            .map_err(err)?;
        Ok(chosen)
    }

    /// The id of a workspace's workspace document, chosen at random on first use: only its
    /// members learn it (from `/api/session`), so nobody outside can claim it first.
    pub fn workspace_document(&self, workspace: &str, now: i64) -> Result<DocumentId, StoreError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(err)?;
        let fresh = DocumentId::from_random(bytes).to_string();
        self.db
            .execute(
                "INSERT OR IGNORE INTO workspace_documents (workspace, document, created_at) VALUES (?1, ?2, ?3)",
                params![workspace, fresh, now],
            )
            .map_err(err)?;
        let stored: String = self
            .db
            .query_row(
                "SELECT document FROM workspace_documents WHERE workspace = ?1",
                params![workspace],
                |r| r.get(0),
            )
            .map_err(err)?;
        stored
            .parse()
            .map_err(|e| err(format!("workspace document id {stored}: {e:?}")))
    }

    /// Every workspace's document id chosen so far.
    pub fn workspace_documents(&self) -> Result<Vec<(String, DocumentId)>, StoreError> {
        let mut stmt = self
            .db
            .prepare("SELECT workspace, document FROM workspace_documents")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (workspace, id) = row.map_err(err)?;
            match id.parse() {
                Ok(id) => out.push((workspace, id)),
                Err(e) => {
                    tracing::warn!(%workspace, %id, error = ?e, "unreadable workspace document id")
                }
            }
        }
        Ok(out)
    }

    /// The listed ids of tokens revoked at or after `since` (seconds).
    pub fn revoked_since(&self, since: i64) -> Result<Vec<String>, StoreError> {
        self.ids_where("revoked_at >= ?1", since)
    }

    /// The listed ids of tokens that have expired by `now`.
    pub fn expired_by(&self, now: i64) -> Result<Vec<String>, StoreError> {
        self.ids_where("expires_at IS NOT NULL AND expires_at <= ?1", now)
    }

    fn ids_where(&self, condition: &str, value: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached(&format!("SELECT hash FROM tokens WHERE {condition}"))
            .map_err(err)?;
        let rows = stmt
            .query_map([value], |r| r.get::<_, Vec<u8>>(0))
            .map_err(err)?;
        let mut ids = Vec::new();
        for row in rows {
            ids.push(short_id(&row.map_err(err)?));
        }
        Ok(ids)
    }

    /// Who delivered each change of a document and when, in arrival order.
    pub fn arrivals(&self, doc: &DocumentId) -> Result<Vec<Arrival>, StoreError> {
        let mut stmt = self
            .db
            .prepare(
                "SELECT change, user, role, device, arrived_at FROM arrivals WHERE doc = ?1 ORDER BY rowid",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([doc.to_string()], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    Grant {
                        user: r.get(1)?,
                        role: r.get(2)?,
                        device: r.get(3)?,
                        workspace: String::new(),
                        groups: Vec::new(),
                    },
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (change, grant, arrived_at) = row.map_err(err)?;
            if let Some(change) = heads_from(&change).into_iter().next() {
                out.push(Arrival {
                    change,
                    grant,
                    arrived_at,
                });
            }
        }
        Ok(out)
    }

    /// Every stored document with its workspace (for finding one by reference number).
    pub fn documents(&self) -> Result<Vec<(DocumentId, String)>, StoreError> {
        self.by_document("SELECT id, workspace FROM documents", [], |r| r.get(1))
    }

    /// The documents of one workspace.
    pub fn documents_in(&self, workspace: &str) -> Result<Vec<DocumentId>, StoreError> {
        let rows = self.by_document(
            "SELECT id FROM documents WHERE workspace = ?1",
            params![workspace],
            |_| Ok(()),
        )?;
        Ok(rows.into_iter().map(|(id, ())| id).collect())
    }

    /// The workspaces that hold documents.
    pub fn workspaces(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT DISTINCT workspace FROM documents ORDER BY workspace")
            .map_err(err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Rows of `sql`, which selects a document id first, with `value` read from each; rows whose
    /// id does not parse (never written by this relay) are skipped.
    fn by_document<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        value: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<(DocumentId, T)>, StoreError> {
        let mut stmt = self.db.prepare_cached(sql).map_err(err)?;
        let rows = stmt
            .query_map(params, |r| Ok((r.get::<_, String>(0)?, value(r)?)))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, value) = row.map_err(err)?;
            if let Ok(doc) = id.parse() {
                out.push((doc, value));
            }
        }
        Ok(out)
    }

    /// Documents and bytes stored, for the start-up log.
    pub fn totals(&self) -> Result<(u64, u64), StoreError> {
        self.db
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM documents",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(err)
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        if !self.in_transaction {
            self.db.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
            self.in_transaction = true;
        }
        Ok(())
    }

    fn chunks_of(&self, doc: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT data FROM chunks WHERE doc = ?1 ORDER BY seq")
            .map_err(err)?;
        let rows = stmt
            .query_map([doc], |r| r.get::<_, Vec<u8>>(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn compact(&mut self, doc: &str) -> Result<(), StoreError> {
        let bytes: Vec<u8> = self.chunks_of(doc)?.concat();
        let mut am = Automerge::new();
        am.load_incremental(&bytes).map_err(err)?;
        let snapshot = am.save();
        self.db
            .execute("DELETE FROM chunks WHERE doc = ?1", [doc])
            .map_err(err)?;
        self.db
            .execute(
                "INSERT INTO chunks (doc, seq, data) VALUES (?1, 0, ?2)",
                params![doc, snapshot],
            )
            .map_err(err)?;
        self.db
            .execute(
                "UPDATE documents SET chunks = 1, bytes = ?2 WHERE id = ?1",
                params![doc, snapshot.len() as i64],
            )
            .map_err(err)?;
        Ok(())
    }
}

/// How long a token lives unless it is used (90 days), in seconds.
pub const DEFAULT_LIFETIME: i64 = 90 * 24 * 3600;

/// What `token revoke` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// The token is revoked.
    Revoked,
    /// No active token has that id, nor one starting with it.
    Unknown,
    /// It is only the start of these active tokens' ids; nothing was revoked.
    NotWhole(Vec<String>),
}

/// The lines of a stored list (groups, readers), without empties.
pub(crate) fn lines(stored: &str) -> Vec<String> {
    stored
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Adds a column to a table of an older database, unless it is there already.
fn add_column(db: &Connection, table: &str, column: &str, decl: &str) -> Result<(), StoreError> {
    let present: bool = db
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'"
        ))
        .and_then(|mut s| s.exists([]))
        .map_err(err)?;
    if !present {
        db.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))
            .map_err(err)?;
    }
    Ok(())
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl HubStorage for Storage {
    fn load(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let id = doc.to_string();
        let workspace: Option<String> = self
            .db
            .prepare_cached("SELECT workspace FROM documents WHERE id = ?1")
            .map_err(err)?
            .query_row([&id], |r| r.get(0))
            .optional()
            .map_err(err)?;
        match workspace {
            None => Ok(None),
            Some(w) => Ok(Some((w, self.chunks_of(&id)?.concat()))),
        }
    }

    fn append(
        &mut self,
        doc: &DocumentId,
        workspace: &str,
        changes: &[u8],
        heads: &[ChangeHash],
    ) -> Result<(), StoreError> {
        self.begin()?;
        let id = doc.to_string();
        self.db
            .prepare_cached(
                "INSERT INTO documents (id, workspace, heads, chunks, bytes, updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET heads = ?3, chunks = chunks + 1, bytes = bytes + ?4, updated_at = ?5",
            )
            .map_err(err)?
            .execute(params![id, workspace, heads_blob(heads), changes.len() as i64, now_seconds()])
            .map_err(err)?;
        self.db
            .prepare_cached(
                "INSERT INTO chunks (doc, seq, data) VALUES (?1, (SELECT COALESCE(MAX(seq), -1) + 1 FROM chunks WHERE doc = ?1), ?2)",
            )
            .map_err(err)?
            .execute(params![id, changes])
            .map_err(err)?;
        let chunks: i64 = self
            .db
            .query_row("SELECT chunks FROM documents WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .map_err(err)?;
        if chunks >= COMPACT_AFTER_CHUNKS {
            self.compact(&id)?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if self.in_transaction {
            self.in_transaction = false;
            if let Err(e) = self.db.execute_batch("COMMIT") {
                let _ = self.db.execute_batch("ROLLBACK");
                return Err(err(e));
            }
        }
        Ok(())
    }

    fn rollback(&mut self) {
        if self.in_transaction {
            self.in_transaction = false;
            let _ = self.db.execute_batch("ROLLBACK");
        }
    }

    fn heads(&mut self, doc: &DocumentId) -> Result<Option<(String, Vec<ChangeHash>)>, StoreError> {
        self.db
            .prepare_cached("SELECT workspace, heads FROM documents WHERE id = ?1")
            .map_err(err)?
            .query_row([doc.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, heads_from(&r.get::<_, Vec<u8>>(1)?)))
            })
            .optional()
            .map_err(err)
    }

    fn arrived(
        &mut self,
        doc: &DocumentId,
        grant: &Grant,
        changes: &[ChangeHash],
    ) -> Result<(), StoreError> {
        self.begin()?;
        let mut insert = self
            .db
            .prepare_cached(
                "INSERT INTO arrivals (doc, change, user, role, device, arrived_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        let (id, now) = (doc.to_string(), now_seconds());
        for change in changes {
            insert
                .execute(params![
                    id,
                    change.0.as_slice(),
                    grant.user,
                    grant.role,
                    grant.device,
                    now
                ])
                .map_err(err)?;
        }
        Ok(())
    }

    fn catalog(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<ChangeHash>)>, StoreError> {
        self.by_document(
            "SELECT id, heads FROM documents WHERE workspace = ?1",
            [workspace],
            |r| Ok(heads_from(&r.get::<_, Vec<u8>>(1)?)),
        )
    }

    fn restrict(&mut self, doc: &DocumentId, readers: Option<&[String]>) -> Result<(), StoreError> {
        self.begin()?;
        self.db
            .prepare_cached("UPDATE documents SET readers = ?2 WHERE id = ?1")
            .map_err(err)?
            .execute(params![doc.to_string(), readers.map(|r| r.join("\n"))])
            .map_err(err)?;
        Ok(())
    }

    fn restricted(
        &mut self,
        workspace: &str,
    ) -> Result<Vec<(DocumentId, Vec<String>)>, StoreError> {
        self.by_document(
            "SELECT id, readers FROM documents WHERE workspace = ?1 AND readers IS NOT NULL",
            [workspace],
            |r| Ok(lines(&r.get::<_, String>(1)?)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    fn grant(w: &str) -> Grant {
        Grant {
            user: "u".into(),
            workspace: w.into(),
            role: "agent".into(),
            device: String::new(),
            groups: Vec::new(),
        }
    }

    #[test]
    fn documents_survive_a_reopen_and_compact() {
        let dir = tempfile::tempdir().unwrap();
        let doc = DocumentId::from_bytes([5; 16]);
        let mut am = Automerge::new();
        {
            let mut s = Storage::open(dir.path()).unwrap();
            let mut saved = Vec::new();
            for i in 0..40 {
                am.transact::<_, _, automerge::AutomergeError>(|tx| {
                    tx.put(automerge::ROOT, "n", i as i64).map(|_| ())
                })
                .unwrap();
                let changes = am.save_after(&saved);
                saved = am.get_heads();
                s.append(&doc, "acme", &changes, &saved).unwrap();
                s.commit().unwrap();
            }
        }
        let mut s = Storage::open(dir.path()).unwrap();
        let (workspace, bytes) = s.load(&doc).unwrap().unwrap();
        assert_eq!(workspace, "acme");
        let mut loaded = Automerge::new();
        loaded.load_incremental(&bytes).unwrap();
        assert_eq!(loaded.get_heads(), am.get_heads());
        let chunks: i64 =
            s.db.query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0))
                .unwrap();
        assert!(
            chunks < COMPACT_AFTER_CHUNKS,
            "compacted to {chunks} chunks"
        );
        assert_eq!(s.catalog("acme").unwrap(), vec![(doc, am.get_heads())]);
        assert!(s.catalog("globex").unwrap().is_empty());
        assert_eq!(
            s.heads(&doc).unwrap(),
            Some(("acme".to_string(), am.get_heads()))
        );
        assert_eq!(s.heads(&DocumentId::from_bytes([6; 16])).unwrap(), None);
    }

    #[test]
    fn rolled_back_writes_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::from_bytes([6; 16]);
        s.append(&doc, "acme", b"whatever", &[]).unwrap();
        s.rollback();
        assert!(s.load(&doc).unwrap().is_none());
    }

    #[test]
    fn tokens_from_before_roles_become_agents_and_the_audit_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Connection::open(dir.path().join("relay.sqlite3")).unwrap();
            db.execute_batch(
                "CREATE TABLE tokens (hash BLOB PRIMARY KEY, workspace TEXT NOT NULL, user TEXT NOT NULL,
                 created_at INTEGER NOT NULL, revoked_at INTEGER);",
            )
            .unwrap();
            db.execute(
                "INSERT INTO tokens (hash, workspace, user, created_at) VALUES (?1, 'acme', 'old', 1)",
                [token_hash("opt_old")],
            )
            .unwrap();
        }
        let mut s = Storage::open(dir.path()).unwrap();
        assert_eq!(
            s.verify_token("opt_old", false).unwrap().unwrap().role,
            "agent"
        );
        let doc = DocumentId::from_bytes([3; 16]);
        let change = ChangeHash([9; 32]);
        s.append(&doc, "acme", b"x", &[change]).unwrap();
        s.arrived(&doc, &grant("acme"), &[change]).unwrap();
        s.commit().unwrap();
        let arrivals = s.arrivals(&doc).unwrap();
        assert_eq!(arrivals.len(), 1);
        assert_eq!(
            (arrivals[0].change, arrivals[0].grant.user.as_str()),
            (change, "u")
        );
        assert!(s.db.execute("DELETE FROM arrivals", []).is_err());
        assert!(s.db.execute("UPDATE arrivals SET user = 'x'", []).is_err());
        // A rolled-back batch leaves no arrival behind.
        s.arrived(&doc, &grant("acme"), &[ChangeHash([8; 32])])
            .unwrap();
        s.rollback();
        assert_eq!(s.arrivals(&doc).unwrap().len(), 1);
    }

    #[test]
    fn tokens_are_stored_hashed_verified_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let manager = Grant {
            role: "manager".into(),
            ..grant("acme")
        };
        s.add_token("opt_secret", &manager, now_seconds()).unwrap();
        let verified = s.verify_token("opt_secret", false).unwrap().expect("known");
        assert_eq!(
            (verified.workspace.as_str(), verified.role.as_str()),
            ("acme", "manager")
        );
        assert_eq!(s.verify_token("opt_other", false).unwrap(), None);
        let listed = s.tokens().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].grant.role, "manager");
        assert_eq!(
            verified.device, listed[0].id,
            "the audit names the listed id"
        );
        assert!(!listed[0].id.contains("secret"));
        let raw: i64 =
            s.db.query_row(
                "SELECT COUNT(*) FROM tokens WHERE CAST(hash AS TEXT) LIKE '%secret%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(raw, 0, "the token itself is never stored");
        let id = listed[0].id.clone();
        assert_eq!(
            s.revoke(&id[..3], 2).unwrap(),
            Revoke::NotWhole(vec![id.clone()]),
            "a prefix revokes nothing, even of one token"
        );
        assert!(s.verify_token("opt_secret", false).unwrap().is_some());
        assert_eq!(
            s.revoke("", 2).unwrap(),
            Revoke::Unknown,
            "an empty id revokes nothing"
        );
        assert!(s.revoked_since(0).unwrap().is_empty());
        assert_eq!(s.revoke(&id, 2).unwrap(), Revoke::Revoked);
        assert_eq!(s.verify_token("opt_secret", false).unwrap(), None);
        assert_eq!(s.revoked_since(2).unwrap(), vec![id.clone()]);
        assert!(s.revoked_since(3).unwrap().is_empty());
        assert_eq!(s.revoke(&id, 3).unwrap(), Revoke::Unknown, "not twice");
    }

    #[test]
    fn groups_and_readers_are_kept_and_a_rollback_forgets_a_restriction() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Storage::open(dir.path()).unwrap();
        let sam = Grant {
            groups: vec!["legal".into(), "security".into()],
            ..grant("acme")
        };
        s.add_token("opt_sam", &sam, now_seconds()).unwrap();
        assert_eq!(
            s.verify_token("opt_sam", false).unwrap().unwrap().groups,
            sam.groups
        );
        let id = s.tokens().unwrap()[0].id.clone();
        assert!(s.set_groups(&id, &["desk".into()]).unwrap());
        assert_eq!(
            s.verify_token("opt_sam", false).unwrap().unwrap().groups,
            vec!["desk"]
        );
        assert!(!s.set_groups(&id[..4], &[]).unwrap(), "only an exact id");

        let (open, closed) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        for doc in [open, closed] {
            s.append(&doc, "acme", b"", &[]).unwrap();
        }
        s.restrict(&closed, Some(&["security".into(), "legal".into()]))
            .unwrap();
        s.commit().unwrap();
        assert_eq!(s.readers(&open).unwrap(), Some(None));
        assert_eq!(
            s.readers(&closed).unwrap(),
            Some(Some(vec!["security".to_string(), "legal".to_string()]))
        );
        assert_eq!(s.readers(&DocumentId::from_bytes([3; 16])).unwrap(), None);
        assert_eq!(s.restricted("acme").unwrap().len(), 1);
        assert!(s.restricted("globex").unwrap().is_empty());

        // Lifting it in a batch that rolls back leaves it restricted.
        s.restrict(&closed, None).unwrap();
        s.rollback();
        assert_eq!(s.restricted("acme").unwrap()[0].0, closed);
        s.restrict(&closed, None).unwrap();
        s.commit().unwrap();
        assert!(s.restricted("acme").unwrap().is_empty());
    }

    #[test]
    fn development_tokens_are_derived_hashed_and_refused_outside_development() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let (token, usable) = s
            .development_token("dev-token:ana:admin", &grant("default"), 1)
            .unwrap();
        assert!(usable);
        assert_eq!(
            s.development_token("dev-token:ana:admin", &grant("default"), 2)
                .unwrap()
                .0,
            token
        );
        assert_ne!(
            s.development_token("dev-token:bea:admin", &grant("default"), 2)
                .unwrap()
                .0,
            token
        );
        assert!(s.verify_token(&token, true).unwrap().is_some());
        assert_eq!(
            s.verify_token(&token, false).unwrap(),
            None,
            "not without --dev"
        );
        let plain: i64 =
            s.db.query_row(
                "SELECT COUNT(*) FROM meta WHERE value = ?1",
                [&token],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(plain, 0, "no token kept in plaintext");
        // Revoked, it stays revoked when asked for again.
        let ana = s.verify_token(&token, true).unwrap().unwrap().device;
        assert_eq!(s.revoke(&ana, 3).unwrap(), Revoke::Revoked);
        assert!(
            !s.development_token("dev-token:ana:admin", &grant("default"), 4)
                .unwrap()
                .1
        );
    }

    #[test]
    fn plaintext_development_tokens_of_earlier_versions_are_forgotten_and_marked() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Storage::open(dir.path()).unwrap();
            s.add_token("opt_olddev", &grant("default"), now_seconds())
                .unwrap();
            s.db.execute(
                "INSERT INTO meta (key, value) VALUES ('dev-token:ana:admin', 'opt_olddev')",
                [],
            )
            .unwrap();
        }
        let s = Storage::open(dir.path()).unwrap();
        let left: i64 =
            s.db.query_row(
                "SELECT COUNT(*) FROM meta WHERE key LIKE 'dev-token:%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(s.verify_token("opt_olddev", false).unwrap(), None);
        assert!(s.verify_token("opt_olddev", true).unwrap().is_some());
    }

    #[test]
    fn ten_thousand_devices_never_share_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        // Each device first numbered with a prefix of its own choosing, at random: with 10,000
        // of them, hundreds collide (about 760 pairs are expected among 65,536 prefixes).
        let mut seed: u32 = 42;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        let wanted: Vec<String> = (0..10_000)
            .map(|_| format!("{:04X}", next() & 0xFFFF))
            .collect();
        let distinct_wanted: std::collections::HashSet<&String> = wanted.iter().collect();
        assert!(distinct_wanted.len() < 10_000, "the test needs collisions");
        s.db.execute_batch("BEGIN").unwrap();
        let mut given = std::collections::HashMap::new();
        for (i, w) in wanted.iter().enumerate() {
            let p = s
                .claim_prefix("acme", &format!("dev{i}"), Some(w), 1, &mut next)
                .unwrap();
            given.insert(i, p);
        }
        s.db.execute_batch("COMMIT").unwrap();
        let distinct: std::collections::HashSet<&String> = given.values().collect();
        assert_eq!(distinct.len(), 10_000, "two devices share a prefix");
        // A device kept the prefix it wanted unless another device already held it.
        let holders: std::collections::HashMap<&String, usize> =
            given.iter().map(|(i, p)| (p, *i)).collect();
        for (i, p) in &given {
            if p != &wanted[*i] {
                let holder = holders.get(&wanted[*i]).copied();
                assert!(
                    holder.is_some_and(|h| h != *i),
                    "dev{i} lost {} to nobody",
                    wanted[*i]
                );
            }
        }
        let kept = given.iter().filter(|(i, p)| &wanted[**i] == *p).count();
        assert!(kept > 9_000, "most devices keep their prefix: {kept}");
        // Asking again changes nothing; another workspace is numbered on its own.
        assert_eq!(
            s.claim_prefix("acme", "dev7", None, 2, &mut next).unwrap(),
            given[&7]
        );
        assert_eq!(
            s.claim_prefix("acme", "dev7", Some(&wanted[7]), 2, &mut next)
                .unwrap(),
            given[&7]
        );
        assert_eq!(
            s.claim_prefix("globex", "eve", Some(&given[&7]), 2, &mut next)
                .unwrap(),
            given[&7]
        );
    }

    #[test]
    fn tokens_expire_unless_used() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let now = now_seconds();
        s.add_token_for("opt_brief", &grant("acme"), now - 100, 50)
            .unwrap();
        s.add_token_for("opt_fresh", &grant("acme"), now, 50)
            .unwrap();
        assert_eq!(
            s.verify_token("opt_brief", false).unwrap(),
            None,
            "expired 50 s ago"
        );
        let fresh = s.verify_token("opt_fresh", false).unwrap().unwrap().device;
        let brief = s
            .tokens()
            .unwrap()
            .into_iter()
            .find(|t| t.id != fresh)
            .unwrap()
            .id;
        assert_eq!(s.expired_by(now).unwrap(), vec![brief.clone()]);
        assert_eq!(s.expired_by(now + 60).unwrap().len(), 2);
        // Used now, it lives its whole lifetime again; an expired one is not revived by use.
        s.renew(std::slice::from_ref(&fresh), now + 40).unwrap();
        assert_eq!(s.expired_by(now + 60).unwrap(), vec![brief.clone()]);
        s.renew(&[brief], now).unwrap();
        assert_eq!(s.verify_token("opt_brief", false).unwrap(), None);
    }

    #[test]
    fn the_relay_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let first = Storage::open(dir.path())
            .unwrap()
            .identity("storage-id", || "abc".into())
            .unwrap();
        let again = Storage::open(dir.path())
            .unwrap()
            .identity("storage-id", || "xyz".into())
            .unwrap();
        assert_eq!((first.as_str(), again.as_str()), ("abc", "abc"));
    }
}
