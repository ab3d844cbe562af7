//! The notifications the automation has committed to send, kept until they are sent: one row
//! per notice, channel and address, written before anything is sent, so a relay that stops
//! mid-delivery sends the rest when it starts again. A row is unique by incident, occasion,
//! channel and address, so asking again for a notice already queued queues nothing.
//!
//! A failed delivery is tried again with growing pauses; one that keeps failing, or that the
//! other side refuses for good, lands in the dead letters an admin can list.

use rusqlite::{params, Connection, OptionalExtension};

use crate::deliver::{Hook, HookKind};
use crate::store::{err, Store, StoreError};

/// Attempts before a delivery is given up as dead.
pub const MAX_ATTEMPTS: u32 = 12;

/// Where a notice goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Mail to `address`.
    Email,
    /// A chat webhook, by its id in [`Store::hooks`].
    Hook(String),
}

impl Channel {
    fn key(&self) -> String {
        match self {
            Channel::Email => "email".into(),
            Channel::Hook(id) => format!("hook:{id}"),
        }
    }

    fn parse(text: &str) -> Channel {
        match text.strip_prefix("hook:") {
            Some(id) => Channel::Hook(id.to_string()),
            None => Channel::Email,
        }
    }
}

/// A notice to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// The workspace.
    pub workspace: String,
    /// The incident (automerge URL).
    pub document: String,
    /// The occasion's key ([`outpost_core::notify::Notice::key`]).
    pub key: String,
    /// Where it goes.
    pub channel: Channel,
    /// The recipient's name, for the mail's To (empty for a hook).
    pub name: String,
    /// The address (empty for a hook).
    pub address: String,
    /// Its subject.
    pub subject: String,
    /// Its text.
    pub body: String,
}

/// A queued notice, as the sender takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its row: stable, so its mail's Message-ID is the same on every attempt.
    pub id: i64,
    /// What to send.
    pub notice: Queued,
    /// Attempts made so far.
    pub attempts: u32,
}

/// A delivery given up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its row.
    pub id: i64,
    /// What it was.
    pub notice: Queued,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure.
    pub error: String,
    /// When it was given up (Unix seconds).
    pub at: i64,
}

pub(crate) fn migrate(db: &Connection) -> Result<(), StoreError> {
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS notices (
             id INTEGER PRIMARY KEY,
             workspace TEXT NOT NULL,
             document TEXT NOT NULL,
             key TEXT NOT NULL,
             channel TEXT NOT NULL,
             name TEXT NOT NULL,
             address TEXT NOT NULL,
             subject TEXT NOT NULL,
             body TEXT NOT NULL,
             state TEXT NOT NULL,
             attempts INTEGER NOT NULL DEFAULT 0,
             next_at INTEGER NOT NULL,
             error TEXT,
             done_at INTEGER,
             UNIQUE (document, key, channel, address));
         CREATE INDEX IF NOT EXISTS notices_due ON notices (state, next_at);
         CREATE TABLE IF NOT EXISTS hooks (
             id TEXT PRIMARY KEY,
             workspace TEXT NOT NULL,
             kind TEXT NOT NULL,
             url TEXT NOT NULL,
             created INTEGER NOT NULL,
             revoked INTEGER);
         CREATE TABLE IF NOT EXISTS answers (
             token TEXT PRIMARY KEY,
             at INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS meta (
             name TEXT PRIMARY KEY,
             value BLOB NOT NULL);",
    )
    .map_err(err)?;
    Ok(())
}

/// The pause before attempt `attempts + 2`: 5 s, doubling, at most an hour; the twelve attempts
/// span about three and a half hours, long enough to ride out a mail server's outage.
pub fn backoff_seconds(attempts: u32) -> i64 {
    (5i64 << attempts.min(10)).min(3600)
}

fn queued(r: &rusqlite::Row<'_>) -> rusqlite::Result<Queued> {
    Ok(Queued {
        workspace: r.get("workspace")?,
        document: r.get("document")?,
        key: r.get("key")?,
        channel: Channel::parse(&r.get::<_, String>("channel")?),
        name: r.get("name")?,
        address: r.get("address")?,
        subject: r.get("subject")?,
        body: r.get("body")?,
    })
}

impl Store {
    /// Queues a notice unless it is queued (or was sent) already; whether it was new.
    pub fn enqueue(&self, n: &Queued, now: i64) -> Result<bool, StoreError> {
        let added = self
            .db
            .prepare_cached(
                "INSERT OR IGNORE INTO notices
                   (workspace, document, key, channel, name, address, subject, body, state, next_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9)",
            )
            .map_err(err)?
            .execute(params![
                n.workspace,
                n.document,
                n.key,
                n.channel.key(),
                n.name,
                n.address,
                n.subject,
                n.body,
                now
            ])
            .map_err(err)?;
        Ok(added > 0)
    }

    /// Up to `limit` notices whose next attempt is due at `now`, oldest first; mail only when
    /// `mail` (without a mail server, mail waits without using up its attempts).
    pub fn due_notices(
        &self,
        now: i64,
        limit: usize,
        mail: bool,
    ) -> Result<Vec<Pending>, StoreError> {
        let mut q = self
            .db
            .prepare_cached(
                "SELECT * FROM notices WHERE state = 'pending' AND next_at <= ?1
                   AND (?3 OR channel != 'email')
                 ORDER BY next_at, id LIMIT ?2",
            )
            .map_err(err)?;
        let rows = q
            .query_map(params![now, limit as i64, mail], |r| {
                Ok(Pending {
                    id: r.get("id")?,
                    notice: queued(r)?,
                    attempts: r.get("attempts")?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// When the next queued notice is due, if any is.
    pub fn next_notice_at(&self) -> Result<Option<i64>, StoreError> {
        self.db
            .query_row(
                "SELECT MIN(next_at) FROM notices WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .map_err(err)
    }

    /// Records a notice as sent.
    pub fn notice_sent(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.db
            .prepare_cached("UPDATE notices SET state = 'sent', done_at = ?2 WHERE id = ?1")
            .map_err(err)?
            .execute(params![id, now])
            .map_err(err)?;
        Ok(())
    }

    /// Records a failed attempt: tried again after a pause, or, when `lasting` (refused for
    /// good) or after [`MAX_ATTEMPTS`], given up as dead.
    pub fn notice_failed(
        &self,
        id: i64,
        error: &str,
        lasting: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let attempts: u32 = self
            .db
            .query_row(
                "SELECT attempts FROM notices WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(err)?;
        let attempts = attempts + 1;
        if lasting || attempts >= MAX_ATTEMPTS {
            self.db
                .execute(
                    "UPDATE notices SET state = 'dead', attempts = ?2, error = ?3, done_at = ?4
                     WHERE id = ?1",
                    params![id, attempts, error, now],
                )
                .map_err(err)?;
        } else {
            self.db
                .execute(
                    "UPDATE notices SET attempts = ?2, error = ?3, next_at = ?4 WHERE id = ?1",
                    params![id, attempts, error, now + backoff_seconds(attempts - 1)],
                )
                .map_err(err)?;
        }
        Ok(())
    }

    /// The deliveries given up, newest first.
    pub fn dead_letters(&self, workspace: Option<&str>) -> Result<Vec<DeadLetter>, StoreError> {
        let mut q = self
            .db
            .prepare_cached(
                "SELECT * FROM notices WHERE state = 'dead' AND (?1 IS NULL OR workspace = ?1)
                 ORDER BY done_at DESC, id DESC",
            )
            .map_err(err)?;
        let rows = q
            .query_map(params![workspace], |r| {
                Ok(DeadLetter {
                    id: r.get("id")?,
                    notice: queued(r)?,
                    attempts: r.get("attempts")?,
                    error: r.get::<_, Option<String>>("error")?.unwrap_or_default(),
                    at: r.get::<_, Option<i64>>("done_at")?.unwrap_or_default(),
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Puts a dead letter back in the queue (after an admin fixed the address or the server);
    /// whether there was one.
    pub fn retry_dead(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let n = self
            .db
            .execute(
                "UPDATE notices SET state = 'pending', attempts = 0, next_at = ?2, done_at = NULL
                 WHERE id = ?1 AND state = 'dead'",
                params![id, now],
            )
            .map_err(err)?;
        Ok(n > 0)
    }

    /// How many notices are in each state (of one workspace, or all), for the relay's status.
    pub fn notice_counts(&self, workspace: Option<&str>) -> Result<Vec<(String, i64)>, StoreError> {
        let mut q = self
            .db
            .prepare_cached(
                "SELECT state, COUNT(*) FROM notices WHERE (?1 IS NULL OR workspace = ?1)
                 GROUP BY state ORDER BY state",
            )
            .map_err(err)?;
        let rows = q
            .query_map(params![workspace], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// A secret of the store's own (made on first use, kept in its file), for signing links.
    pub fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        if let Some(v) = self
            .db
            .query_row(
                "SELECT value FROM meta WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?
        {
            return Ok(v);
        }
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).map_err(err)?;
        self.db
            .execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES (?1, ?2)",
                params![name, bytes],
            )
            .map_err(err)?;
        // Another writer may have won the insert: what is stored is the secret.
        self.db
            .query_row(
                "SELECT value FROM meta WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .map_err(err)
    }

    /// When notifications began here (Unix seconds; recorded on first use): incidents logged
    /// before that owe none, so turning notifications on does not mail every old incident.
    pub fn notifications_since(&self, now: i64) -> Result<i64, StoreError> {
        self.db
            .execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('notifications_since', ?1)",
                params![now.to_string().into_bytes()],
            )
            .map_err(err)?;
        let v: Vec<u8> = self
            .db
            .query_row(
                "SELECT value FROM meta WHERE name = 'notifications_since'",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        Ok(String::from_utf8_lossy(&v).parse().unwrap_or(now))
    }

    /// Adds a chat webhook to a workspace; returns its id.
    pub fn create_hook(
        &self,
        workspace: &str,
        kind: HookKind,
        url: &str,
        now: i64,
    ) -> Result<Hook, StoreError> {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(err)?;
        let id = hex::encode(bytes);
        self.db
            .execute(
                "INSERT INTO hooks (id, workspace, kind, url, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, workspace, kind.key(), url, now],
            )
            .map_err(err)?;
        Ok(Hook {
            id,
            workspace: workspace.into(),
            kind,
            url: url.into(),
        })
    }

    fn hooks_where(&self, clause: &str, value: &str) -> Result<Vec<Hook>, StoreError> {
        let mut q = self
            .db
            .prepare_cached(&format!(
                "SELECT id, workspace, kind, url FROM hooks WHERE revoked IS NULL AND {clause} ORDER BY created, id"
            ))
            .map_err(err)?;
        let rows = q
            .query_map(params![value], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?))
            })
            .map_err(err)?;
        let mut hooks = Vec::new();
        for row in rows {
            let (id, workspace, kind, url) = row.map_err(err)?;
            if let Some(kind) = HookKind::parse(&kind) {
                hooks.push(Hook {
                    id,
                    workspace,
                    kind,
                    url,
                });
            }
        }
        Ok(hooks)
    }

    /// A workspace's chat webhooks.
    pub fn hooks(&self, workspace: &str) -> Result<Vec<Hook>, StoreError> {
        self.hooks_where("workspace = ?1", workspace)
    }

    /// One webhook, unless removed.
    pub fn hook(&self, id: &str) -> Result<Option<Hook>, StoreError> {
        Ok(self.hooks_where("id = ?1", id)?.pop())
    }

    /// Removes a webhook; whether there was one.
    pub fn remove_hook(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let n = self
            .db
            .execute(
                "UPDATE hooks SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
                params![id, now],
            )
            .map_err(err)?;
        Ok(n > 0)
    }

    /// Marks a caller's answer link as used; false if it was used before.
    pub fn use_answer(&self, token: &str, now: i64) -> Result<bool, StoreError> {
        let n = self
            .db
            .execute(
                "INSERT OR IGNORE INTO answers (token, at) VALUES (?1, ?2)",
                params![token, now],
            )
            .map_err(err)?;
        Ok(n > 0)
    }

    /// Whether a caller's answer link was used.
    pub fn answer_used(&self, token: &str) -> Result<bool, StoreError> {
        self.db
            .query_row(
                "SELECT 1 FROM answers WHERE token = ?1",
                params![token],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(err)
    }

    /// Forgets a use recorded by [`Store::use_answer`] (the answer could not be applied, so
    /// the link must work again).
    pub fn unuse_answer(&self, token: &str) -> Result<(), StoreError> {
        self.db
            .execute("DELETE FROM answers WHERE token = ?1", params![token])
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(address: &str) -> Queued {
        Queued {
            workspace: "w".into(),
            document: "automerge:doc".into(),
            key: "raised:P1".into(),
            channel: Channel::Email,
            name: "Oli".into(),
            address: address.into(),
            subject: "[P1] x".into(),
            body: "body".into(),
        }
    }

    #[test]
    fn a_notice_is_queued_once_retried_with_backoff_and_given_up_after_the_last_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.enqueue(&notice("oli@example.org"), 100).unwrap());
        assert!(
            !store.enqueue(&notice("oli@example.org"), 160).unwrap(),
            "queued already"
        );
        assert!(store.enqueue(&notice("ana@example.org"), 100).unwrap());
        let due = store.due_notices(100, 10, true).unwrap();
        assert_eq!(due.len(), 2);
        let id = due[0].id;
        store
            .notice_failed(id, "connection refused", false, 100)
            .unwrap();
        assert_eq!(
            store.due_notices(104, 10, true).unwrap().len(),
            1,
            "paused 5 s"
        );
        assert_eq!(store.due_notices(105, 10, true).unwrap().len(), 2);
        for n in 1..MAX_ATTEMPTS {
            store
                .notice_failed(id, "connection refused", false, 200 + i64::from(n))
                .unwrap();
        }
        let dead = store.dead_letters(None).unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].id, dead[0].attempts), (id, MAX_ATTEMPTS));
        assert_eq!(dead[0].error, "connection refused");
        assert_eq!(store.due_notices(i64::MAX, 10, true).unwrap().len(), 1);
        // Sent is sent: queuing it again does nothing.
        let other = store.due_notices(i64::MAX, 10, true).unwrap()[0].id;
        store.notice_sent(other, 300).unwrap();
        assert!(!store.enqueue(&notice("ana@example.org"), 400).unwrap());
        assert!(store.due_notices(i64::MAX, 10, true).unwrap().is_empty());
        // An admin puts the dead letter back.
        assert!(store.retry_dead(id, 500).unwrap());
        assert_eq!(store.due_notices(500, 10, true).unwrap()[0].id, id);
    }

    #[test]
    fn the_secret_and_the_start_of_notifications_are_kept_across_openings() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, since) = {
            let store = Store::open(dir.path()).unwrap();
            (
                store.secret("links").unwrap(),
                store.notifications_since(100).unwrap(),
            )
        };
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.secret("links").unwrap(), secret);
        assert_eq!(secret.len(), 32);
        assert_eq!(since, 100);
        assert_eq!(store.notifications_since(900).unwrap(), 100);
        assert!(store.use_answer("t1", 1).unwrap());
        assert!(!store.use_answer("t1", 2).unwrap(), "single use");
    }
}
