//! IndexedDB storage in automerge-repo's layout.
//!
//! Database `automerge` (version 1), object store `documents`, out-of-line keys that are arrays of
//! strings, values `{ key, binary }`: exactly what `@automerge/automerge-repo-storage-indexeddb`
//! writes, so the official adapter and Outpost can read each other's data. Outpost's own data
//! (incident summaries and search text) lives in the same store under automerge-repo's
//! application namespace (`["outpost/summary", docId]`), so a document's chunks and its summary
//! commit in one transaction. So do the packed list index and search texts and the markers of
//! documents changed since they were packed (`crate::repo`).
//!
//! Every write is one transaction that only puts and deletes bytes, prepared beforehand:
//! IndexedDB commits a transaction as soon as control returns to the event loop with no request
//! pending, so no other work may happen inside one. A write returns only once the transaction has
//! committed, which is what "saved" means in the UI.

use idb::{
    CursorDirection, Database, DatabaseEvent, Factory, KeyRange, ObjectStoreParams, Query,
    TransactionMode, TransactionResult,
};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// automerge-repo's default database name.
pub const DATABASE: &str = "automerge";
/// automerge-repo's default object store name.
pub const STORE: &str = "documents";

/// A stored record: its key and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The key, e.g. `[docId, "incremental", hash]`.
    pub key: Vec<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Record {
    /// A record from any key shape.
    pub fn new<K: AsRef<str>>(key: &[K], bytes: Vec<u8>) -> Self {
        Record {
            key: key.iter().map(|k| k.as_ref().to_string()).collect(),
            bytes,
        }
    }
}

/// Why storage failed, in words for the person using the app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// IndexedDB cannot be used (private mode, blocked by settings, old browser).
    #[error("This browser does not let Outpost store data ({0}). Incidents will be lost when the page closes.")]
    Unavailable(String),
    /// The device or browser quota is used up.
    #[error("Storage on this device is full, so the change is not saved yet. Free some space; Outpost keeps the change and retries.")]
    QuotaExceeded,
    /// Another failure.
    #[error("Saving on this device failed ({0}). Outpost keeps the change and retries.")]
    Failed(String),
}

fn describe(e: &idb::Error) -> String {
    e.to_string()
}

fn is_quota(value: &JsValue) -> bool {
    value
        .dyn_ref::<web_sys::DomException>()
        .is_some_and(|d| d.name() == "QuotaExceededError")
}

impl From<idb::Error> for StorageError {
    fn from(e: idb::Error) -> Self {
        classify(e)
    }
}

fn classify(e: idb::Error) -> StorageError {
    let quota = match &e {
        idb::Error::DomException(d) => d.name() == "QuotaExceededError",
        idb::Error::AddFailed(v) | idb::Error::UpdateFailed(v) => is_quota(v),
        _ => false,
    };
    if quota {
        StorageError::QuotaExceeded
    } else {
        StorageError::Failed(describe(&e))
    }
}

fn key_value(key: &[String]) -> JsValue {
    key.iter()
        .map(|k| JsValue::from_str(k))
        .collect::<Array>()
        .into()
}

fn prefix_range(prefix: &[&str]) -> Result<KeyRange, StorageError> {
    let lower: Array = prefix.iter().map(|k| JsValue::from_str(k)).collect();
    let upper = lower.slice(0, lower.length());
    upper.push(&JsValue::from_str("\u{ffff}"));
    KeyRange::bound(&lower.into(), &upper.into(), Some(false), Some(false))
        .map_err(|e| StorageError::Failed(describe(&e)))
}

/// A key as stored (an array of strings), or `None` for any other value.
fn key_from(value: JsValue) -> Option<Vec<String>> {
    let array = value.dyn_into::<Array>().ok()?;
    array.iter().map(|v| v.as_string()).collect()
}

fn record_from(value: JsValue) -> Option<Record> {
    let key = key_from(Reflect::get(&value, &"key".into()).ok()?)?;
    let binary = Reflect::get(&value, &"binary".into())
        .ok()?
        .dyn_into::<Uint8Array>()
        .ok()?;
    Some(Record {
        key,
        bytes: binary.to_vec(),
    })
}

fn record_value(record: &Record) -> Result<JsValue, StorageError> {
    let object = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&object, &k.into(), v).map(|_| ());
    set("key", &key_value(&record.key))
        .and_then(|()| set("binary", &Uint8Array::from(record.bytes.as_slice()).into()))
        .map_err(|e| StorageError::Failed(format!("{e:?}")))?;
    Ok(object.into())
}

/// One transaction on the store: reads awaited one after another see one consistent state, and
/// a read-write transaction's reads, puts and deletes commit together or not at all.
pub struct Tx {
    tx: idb::Transaction,
    store: idb::ObjectStore,
}

impl Tx {
    /// The bytes stored under each key, `None` where there is no record (or it is not one of
    /// ours). The requests are sent together, not one after another.
    pub async fn get_many(
        &self,
        keys: &[Vec<String>],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let requests = keys
            .iter()
            .map(|k| {
                self.store
                    .get(Query::Key(key_value(k)))
                    .map(std::future::IntoFuture::into_future)
                    .map_err(classify)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let values = futures::future::join_all(requests).await;
        values
            .into_iter()
            .map(|v| Ok(v.map_err(classify)?.and_then(record_from).map(|r| r.bytes)))
            .collect()
    }

    /// Every record whose key starts with `prefix`.
    pub async fn range(&self, prefix: &[&str]) -> Result<Vec<Record>, StorageError> {
        let values = self
            .store
            .get_all(Some(Query::KeyRange(prefix_range(prefix)?)), None)
            .map_err(classify)?
            .await
            .map_err(classify)?;
        Ok(values.into_iter().filter_map(record_from).collect())
    }

    /// The keys of every record whose key starts with `prefix`.
    pub async fn keys(&self, prefix: &[&str]) -> Result<Vec<Vec<String>>, StorageError> {
        let keys = self
            .store
            .get_all_keys(Some(Query::KeyRange(prefix_range(prefix)?)), None)
            .map_err(classify)?
            .await
            .map_err(classify)?;
        Ok(keys.into_iter().filter_map(key_from).collect())
    }

    /// The last key (in the store's order) that starts with `prefix`, if any: one request, however
    /// many records there are.
    pub async fn last_key(&self, prefix: &[&str]) -> Result<Option<Vec<String>>, StorageError> {
        let cursor = self
            .store
            .open_key_cursor(
                Some(Query::KeyRange(prefix_range(prefix)?)),
                Some(CursorDirection::Prev),
            )
            .map_err(classify)?
            .await
            .map_err(classify)?;
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        Ok(key_from(cursor.key().map_err(classify)?))
    }

    /// Puts a record (read-write transactions).
    pub fn put(&self, record: &Record) -> Result<(), StorageError> {
        self.store
            .put(&record_value(record)?, Some(&key_value(&record.key)))
            .map_err(classify)?;
        Ok(())
    }

    /// Deletes a record (read-write transactions).
    pub fn delete(&self, key: &[String]) -> Result<(), StorageError> {
        self.store
            .delete(Query::Key(key_value(key)))
            .map_err(classify)?;
        Ok(())
    }

    /// Deletes every record whose key starts with `prefix` (read-write transactions).
    pub fn delete_prefix(&self, prefix: &[&str]) -> Result<(), StorageError> {
        self.store
            .delete(Query::KeyRange(prefix_range(prefix)?))
            .map_err(classify)?;
        Ok(())
    }

    /// Waits until the transaction has committed.
    pub async fn commit(self) -> Result<(), StorageError> {
        match self.tx.await {
            Ok(TransactionResult::Committed) => Ok(()),
            Ok(TransactionResult::Aborted) => {
                Err(StorageError::Failed("the write was aborted".to_string()))
            }
            // The error event carries the DOMException, e.g. QuotaExceededError.
            Err(e) => Err(classify(e)),
        }
    }
}

/// An open IndexedDB store.
#[derive(Debug)]
pub struct IdbStore {
    db: Database,
}

impl IdbStore {
    /// Opens (creating if needed) a database in automerge-repo's layout.
    pub async fn open(name: &str) -> Result<IdbStore, StorageError> {
        let unavailable = |e: idb::Error| StorageError::Unavailable(describe(&e));
        let factory = Factory::new().map_err(unavailable)?;
        let mut request = factory.open(name, Some(1)).map_err(unavailable)?;
        request.on_upgrade_needed(|event| {
            if let Ok(db) = event.database() {
                if !db.store_names().iter().any(|s| s == STORE) {
                    // Out-of-line keys, no indexes: what the official adapter creates.
                    let _ = db.create_object_store(STORE, ObjectStoreParams::new());
                }
            }
        });
        let db = request.await.map_err(unavailable)?;
        Ok(IdbStore { db })
    }

    /// Starts a read-only transaction.
    pub fn read(&self) -> Result<Tx, StorageError> {
        self.begin(TransactionMode::ReadOnly)
    }

    /// Starts a read-write transaction. It commits when [`Tx::commit`] is awaited; until then
    /// only IndexedDB requests and synchronous work may happen, or it commits early.
    pub fn read_write(&self) -> Result<Tx, StorageError> {
        self.begin(TransactionMode::ReadWrite)
    }

    fn begin(&self, mode: TransactionMode) -> Result<Tx, StorageError> {
        let tx = self.db.transaction(&[STORE], mode).map_err(classify)?;
        let store = tx.object_store(STORE).map_err(classify)?;
        Ok(Tx { tx, store })
    }

    /// Every record whose key starts with `prefix`.
    pub async fn load_range(&self, prefix: &[&str]) -> Result<Vec<Record>, StorageError> {
        self.read()?.range(prefix).await
    }

    /// The keys (not the values) of every record whose key starts with `prefix`.
    pub async fn keys(&self, prefix: &[&str]) -> Result<Vec<Vec<String>>, StorageError> {
        self.read()?.keys(prefix).await
    }

    /// Puts and deletes in one transaction, and waits until it has committed.
    pub async fn write(
        &self,
        puts: &[Record],
        deletes: &[Vec<String>],
    ) -> Result<(), StorageError> {
        self.begin_write(puts, deletes)?.commit().await
    }

    /// Like [`IdbStore::write`], and in the same transaction also the records `numbered` makes
    /// from the last part of the last key under `sequence` (`None`: no key there yet), read
    /// after the puts and deletes. Key order under `sequence` is then commit order, across tabs:
    /// transactions on one store run one at a time.
    pub async fn write_numbered(
        &self,
        puts: &[Record],
        deletes: &[Vec<String>],
        sequence: &[&str],
        numbered: impl FnOnce(Option<&str>) -> Vec<Record>,
    ) -> Result<(), StorageError> {
        let tx = self.begin_write(puts, deletes)?;
        let last = tx.last_key(sequence).await?;
        for record in numbered(last.as_ref().and_then(|k| k.last()).map(String::as_str)) {
            tx.put(&record)?;
        }
        tx.commit().await
    }

    /// A read-write transaction with these deletes and puts sent; the values are converted
    /// first, so nothing but IndexedDB requests happens once it has begun.
    fn begin_write(&self, puts: &[Record], deletes: &[Vec<String>]) -> Result<Tx, StorageError> {
        let values: Vec<(JsValue, JsValue)> = puts
            .iter()
            .map(|r| Ok((record_value(r)?, key_value(&r.key))))
            .collect::<Result<_, StorageError>>()?;
        let tx = self.read_write()?;
        for key in deletes {
            tx.delete(key)?;
        }
        for (value, key) in &values {
            tx.store.put(value, Some(key)).map_err(classify)?;
        }
        Ok(tx)
    }

    /// Closes the connection (tests reopen to prove data survived).
    pub fn close(&self) {
        self.db.close();
    }

    /// Deletes a whole database (tests use their own).
    pub async fn delete_database(name: &str) -> Result<(), StorageError> {
        let factory = Factory::new().map_err(|e| StorageError::Unavailable(describe(&e)))?;
        factory
            .delete(name)
            .map_err(|e| StorageError::Failed(describe(&e)))?
            .await
            .map_err(|e| StorageError::Failed(describe(&e)))
    }
}
