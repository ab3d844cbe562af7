//! Backups of a relay's data directory, taken while it serves, and restoring one.
//!
//! `outpost-relay backup --to FILE` snapshots each database (`relay.sqlite3`: documents,
//! tokens, invitations and the audit; `automation.sqlite3`: integrations and the outbox) with
//! SQLite's `VACUUM INTO`, which reads one consistent state of the database inside a read
//! transaction while the relay goes on writing (WAL mode), checks each snapshot with
//! `PRAGMA integrity_check`, and packs them with a manifest into one tar file, written beside
//! FILE and renamed into place so a failed backup never leaves a half-written FILE.
//!
//! `outpost-relay restore --from FILE` needs the relay stopped (it takes the data directory's
//! lock, [`DirectoryLock`], as a serving relay does), checks the whole file first, moves the
//! current databases aside into `before-restore-<time>/` (nothing is deleted) and puts the
//! backup's in their place. Devices ahead of the backup push what the relay lost when they next
//! connect: the sync reconciles the relay's catalog with each device's and syncs every document
//! whose heads differ.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

/// The databases a data directory holds, in the order they are backed up.
pub const DATABASES: [&str; 2] = ["relay.sqlite3", "automation.sqlite3"];
const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "outpost-relay-backup";
const LOCK: &str = "relay.lock";

/// What a backup holds, written into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// When it was taken (seconds since the epoch).
    pub taken_at: i64,
    /// The databases in it.
    pub databases: Vec<String>,
    /// How many documents the relay's database held.
    pub documents: i64,
}

/// The lock a serving relay holds on its data directory, so a restore (or a second relay)
/// cannot swap databases under it. Released when dropped or when the process ends.
#[derive(Debug)]
pub struct DirectoryLock {
    _file: File,
}

impl DirectoryLock {
    /// Takes the lock, or says who holds it.
    pub fn take(data_dir: &Path) -> Result<DirectoryLock, String> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let path = data_dir.join(LOCK);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DirectoryLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "a relay is serving {} (it holds {LOCK}): stop it first",
                data_dir.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}

fn documents_in(db: &Connection) -> Result<i64, String> {
    db.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        .map_err(|e| format!("it has no readable documents table ({e})"))
}

fn check(db: &Connection, name: &str) -> Result<(), String> {
    let verdict: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("{name} cannot be checked: {e}"))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(format!("{name} is damaged: {verdict}"))
    }
}

/// Takes a backup of `data_dir` into `to`, while a relay may be serving it.
pub fn backup(data_dir: &Path, to: &Path, now: i64) -> Result<Manifest, String> {
    let relay_db = data_dir.join(DATABASES[0]);
    if !relay_db.exists() {
        return Err(format!(
            "{} holds no relay database ({} is missing)",
            data_dir.display(),
            DATABASES[0]
        ));
    }
    let work = tempfile::tempdir_in(
        to.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )
    .map_err(|e| format!("cannot write beside {}: {e}", to.display()))?;
    let mut manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        taken_at: now,
        databases: Vec::new(),
        documents: 0,
    };
    for name in DATABASES {
        let source = data_dir.join(name);
        if !source.exists() {
            continue;
        }
        let db = Connection::open(&source).map_err(|e| format!("cannot open {name}: {e}"))?;
        db.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| e.to_string())?;
        let copy = work.path().join(name);
        db.execute("VACUUM INTO ?1", [copy.to_string_lossy().as_ref()])
            .map_err(|e| format!("cannot snapshot {name}: {e}"))?;
        let snapshot = Connection::open(&copy).map_err(|e| e.to_string())?;
        check(&snapshot, name)?;
        if name == DATABASES[0] {
            manifest.documents = documents_in(&snapshot)?;
        }
        manifest.databases.push(name.to_string());
    }
    let partial = PathBuf::from(format!("{}.partial", to.display()));
    let file =
        File::create(&partial).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let mut tar = tar::Builder::new(file);
    let json = serde_json::to_vec_pretty(&manifest).expect("plain data");
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(u64::try_from(now).unwrap_or(0));
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, json.as_slice())
        .map_err(|e| e.to_string())?;
    for name in &manifest.databases {
        tar.append_path_with_name(work.path().join(name), name)
            .map_err(|e| e.to_string())?;
    }
    let file = tar.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    std::fs::rename(&partial, to).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    Ok(manifest)
}

/// Restores the backup `from` into `data_dir`; the relay must be stopped. Returns the backup's
/// manifest and where the databases it replaced were moved.
pub fn restore(data_dir: &Path, from: &Path, now: i64) -> Result<(Manifest, PathBuf), String> {
    let _lock = DirectoryLock::take(data_dir)?;
    let work = tempfile::tempdir_in(data_dir).map_err(|e| e.to_string())?;
    let file = File::open(from).map_err(|e| format!("cannot open {}: {e}", from.display()))?;
    let mut manifest = None;
    let mut archive = tar::Archive::new(file);
    let not_a_backup =
        |why: String| format!("{} is not an Outpost relay backup: {why}", from.display());
    for entry in archive.entries().map_err(|e| not_a_backup(e.to_string()))? {
        let mut entry = entry.map_err(|e| not_a_backup(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| not_a_backup(e.to_string()))?
            .to_string_lossy()
            .to_string();
        if name == MANIFEST {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| not_a_backup(e.to_string()))?;
            manifest = Some(
                serde_json::from_str::<Manifest>(&text)
                    .map_err(|e| not_a_backup(format!("its manifest does not read ({e})")))?,
            );
        } else if DATABASES.contains(&name.as_str()) {
            entry
                .unpack(work.path().join(&name))
                .map_err(|e| not_a_backup(e.to_string()))?;
        } else {
            return Err(not_a_backup(format!("it holds {name}")));
        }
    }
    let manifest = manifest.ok_or_else(|| not_a_backup("it has no manifest".into()))?;
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(not_a_backup(format!(
            "its manifest says {} version {}",
            manifest.format, manifest.version
        )));
    }
    for name in &manifest.databases {
        let path = work.path().join(name);
        if !path.exists() {
            return Err(not_a_backup(format!("{name} is missing from it")));
        }
        let db = Connection::open(&path).map_err(|e| e.to_string())?;
        check(&db, name)?;
        if name == DATABASES[0] {
            documents_in(&db)?;
        }
    }
    // Every check passed: move the current databases aside, then the backup's in.
    let aside = data_dir.join(format!("before-restore-{now}"));
    std::fs::create_dir_all(&aside).map_err(|e| e.to_string())?;
    for name in DATABASES {
        for suffix in ["", "-wal", "-shm"] {
            let current = data_dir.join(format!("{name}{suffix}"));
            if current.exists() {
                std::fs::rename(&current, aside.join(format!("{name}{suffix}")))
                    .map_err(|e| format!("cannot move {} aside: {e}", current.display()))?;
            }
        }
    }
    for name in &manifest.databases {
        std::fs::rename(work.path().join(name), data_dir.join(name))
            .map_err(|e| format!("cannot put {name} in place: {e}"))?;
    }
    Ok((manifest, aside))
}
