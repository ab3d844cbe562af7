//! What the list reads without loading documents: per-document summary, search and sync
//! records, the packed base of all of them, and the journal of what each write changed since
//! (the layout is [`outpost_core::index`]'s).
//!
//! Every function here takes a transaction, so a read sees one consistent state and
//! compaction folds exactly what it read.

use outpost_core::index::{
    journal_key, next_sequence, search_bytes, summary_bytes, sync_bytes, Index, IndexChange,
    IndexChanges, PackError, SearchChanges, SearchIndex, SyncRecord,
};
use outpost_core::summary::{IncidentSummary, SearchText};
use outpost_sync::DocumentId;

use crate::storage::{IdbStore, Record, StorageError, Tx};

/// Key namespace of incident summaries: `["outpost/summary", docId]`.
pub const SUMMARY_NS: &str = "outpost/summary";
/// Key namespace of search texts: `["outpost/search", docId]`.
pub const SEARCH_NS: &str = "outpost/search";
/// Key namespace of sync records: `["outpost/sync", docId]`.
pub const SYNC_NS: &str = "outpost/sync";
/// Key of the packed base of the index ([`outpost_core::index`]): every summary and sync record.
pub const INDEX_KEY: [&str; 2] = ["outpost/index", "packed"];
/// Key of the packed base of the search texts.
pub const SEARCH_KEY: [&str; 2] = ["outpost/index", "search"];
/// Key prefix of the index's journal segments: `["outpost/journal", "index", sequence]`.
pub const JOURNAL_INDEX: [&str; 2] = ["outpost/journal", "index"];
/// Key prefix of the search texts' journal segments, numbered as the index's.
pub const JOURNAL_SEARCH: [&str; 2] = ["outpost/journal", "search"];
/// Key prefix of both journals.
const JOURNAL: [&str; 1] = ["outpost/journal"];
/// Key namespace of the markers of documents whose records were written outside the journal
/// (by an earlier version, or planted by tests): `["outpost/changed", docId]`, with no bytes.
pub const CHANGED_NS: &str = "outpost/changed";

/// A document's summary record.
pub fn summary_record(id: &DocumentId, summary: &IncidentSummary) -> Record {
    Record::new(&[SUMMARY_NS, &id.to_string()], summary_bytes(summary))
}

/// A document's search record.
pub fn search_record(id: &DocumentId, search: &SearchText) -> Record {
    Record::new(&[SEARCH_NS, &id.to_string()], search_bytes(search))
}

/// A document's sync record.
pub fn sync_record(id: &DocumentId, sync: &SyncRecord) -> Record {
    Record::new(&[SYNC_NS, &id.to_string()], sync_bytes(sync))
}

/// The marker saying a document's records were written outside the journal.
pub fn changed_record(id: &str) -> Record {
    Record::new(&[CHANGED_NS, id], Vec::new())
}

/// What one write changes in the list: the journal segments it adds.
#[derive(Default)]
pub struct Segment {
    index: IndexChanges,
    search: SearchChanges,
}

impl Segment {
    /// A document saved with this summary, search text and sync record.
    pub fn saved(&mut self, summary: &IncidentSummary, search: &SearchText, sync: &SyncRecord) {
        self.index
            .entries
            .push(IndexChange::Saved(Box::new(summary.clone()), sync.clone()));
        self.search
            .texts
            .push((search.document_id.clone(), search.text.clone()));
    }

    /// A document whose sync record alone changed.
    pub fn synced(&mut self, id: &DocumentId, sync: &SyncRecord) {
        self.index
            .entries
            .push(IndexChange::Synced(id.to_string(), sync.clone()));
    }

    /// A document removed from this device.
    pub fn removed(&mut self, id: &DocumentId) {
        self.index
            .entries
            .push(IndexChange::Removed(id.to_string()));
        self.search.texts.push((id.to_string(), String::new()));
    }

    /// Writes `puts` and `deletes` with this segment, numbered after the last one stored, in
    /// one transaction. The segment's bytes are made before the transaction begins.
    pub async fn write(
        self,
        store: &IdbStore,
        puts: &[Record],
        deletes: &[Vec<String>],
    ) -> Result<(), StorageError> {
        if self.index.is_empty() {
            return store.write(puts, deletes).await;
        }
        let index = self.index.pack();
        let search = (!self.search.texts.is_empty()).then(|| self.search.pack());
        store
            .write_numbered(puts, deletes, &JOURNAL_INDEX, move |last| {
                let key = journal_key(next_sequence(last));
                let mut records = vec![Record::new(
                    &[JOURNAL_INDEX[0], JOURNAL_INDEX[1], &key],
                    index,
                )];
                if let Some(search) = search {
                    records.push(Record::new(
                        &[JOURNAL_SEARCH[0], JOURNAL_SEARCH[1], &key],
                        search,
                    ));
                }
                records
            })
            .await
    }
}

/// The marked documents, and their records in some namespaces.
pub struct Changed {
    /// The markers' keys.
    pub marks: Vec<Vec<String>>,
    /// Per marked document: its id and its record in each namespace asked for, in order.
    records: Vec<(String, Vec<Option<Vec<u8>>>)>,
}

/// Reads the markers, and the records of the marked documents in `namespaces`, in `tx`.
pub async fn read_changed(tx: &Tx, namespaces: &[&str]) -> Result<Changed, StorageError> {
    let marks = tx.keys(&[CHANGED_NS]).await?;
    let ids: Vec<String> = marks.iter().filter_map(|k| k.get(1).cloned()).collect();
    let keys: Vec<Vec<String>> = ids
        .iter()
        .flat_map(|id| namespaces.iter().map(|ns| vec![ns.to_string(), id.clone()]))
        .collect();
    let mut values = tx.get_many(&keys).await?.into_iter();
    let records = ids
        .into_iter()
        .map(|id| (id, values.by_ref().take(namespaces.len()).collect()))
        .collect();
    Ok(Changed { marks, records })
}

/// A packed base and the journal segments over it, unpacked; or why they cannot be used.
/// A missing base is an empty one: every record written without a base is in the journal or
/// marked (see [`outpost_core::index`]), unless there is no journal either, when the records
/// are all there is.
async fn read_packed<T: Default, C>(
    tx: &Tx,
    base: &[&str],
    journal: &[&str],
    unpack: impl FnOnce(&[u8]) -> Result<T, PackError>,
    unpack_changes: impl Fn(&[u8]) -> Result<C, PackError>,
) -> Result<Result<(T, Vec<C>), String>, StorageError> {
    let key: Vec<String> = base.iter().map(ToString::to_string).collect();
    let packed = tx.get_many(&[key]).await?.pop().flatten();
    let segments = tx.range(journal).await?;
    let base = match packed {
        None if segments.is_empty() => return Ok(Err("there is none yet".to_string())),
        None => T::default(),
        Some(bytes) => match unpack(&bytes) {
            Ok(base) => base,
            Err(e) => return Ok(Err(e.to_string())),
        },
    };
    let changes = segments
        .iter()
        .map(|s| unpack_changes(&s.bytes))
        .collect::<Result<Vec<C>, PackError>>();
    Ok(changes
        .map(|changes| (base, changes))
        .map_err(|e| format!("a journal segment is unusable: {e}")))
}

/// `(id, bytes)` of records keyed `[namespace, id]`.
fn by_id(records: Vec<Record>) -> Vec<(String, Vec<u8>)> {
    records
        .into_iter()
        .filter_map(|r| Some((r.key.get(1)?.clone(), r.bytes)))
        .collect()
}

/// The index as read: the entries, how many journal changes and markers are not folded into
/// the base yet, and why the packed copy was not usable, if it was not.
pub struct Read<T> {
    /// The index or the texts.
    pub value: T,
    /// Journal changes and markers over the base.
    pub unfolded: usize,
    /// Why it was rebuilt from the per-document records.
    pub rebuilt: Option<String>,
}

/// The index in `tx`: the base with the journal and then `changed` (summary and sync records,
/// in that order) applied; or, when those are not usable, every per-document record.
pub async fn read_index(tx: &Tx, changed: &Changed) -> Result<Read<Index>, StorageError> {
    Ok(
        match read_packed(
            tx,
            &INDEX_KEY,
            &JOURNAL_INDEX,
            Index::unpack,
            IndexChanges::unpack,
        )
        .await?
        {
            Ok((mut index, journal)) => {
                let mut unfolded = changed.marks.len();
                for changes in journal {
                    unfolded += changes.len();
                    index.apply_changes(changes);
                }
                for (id, records) in &changed.records {
                    index.apply(id, records[0].as_deref(), records[1].as_deref());
                }
                Read {
                    value: index,
                    unfolded,
                    rebuilt: None,
                }
            }
            Err(why) => {
                let summaries = by_id(tx.range(&[SUMMARY_NS]).await?);
                let sync = by_id(tx.range(&[SYNC_NS]).await?);
                Read {
                    value: Index::from_records(summaries, sync),
                    unfolded: 0,
                    rebuilt: Some(why),
                }
            }
        },
    )
}

/// The search texts in `tx`, as [`read_index`] reads the index; `at` is the position of the
/// search records in `changed`.
pub async fn read_search(
    tx: &Tx,
    changed: &Changed,
    at: usize,
) -> Result<Read<SearchIndex>, StorageError> {
    Ok(
        match read_packed(
            tx,
            &SEARCH_KEY,
            &JOURNAL_SEARCH,
            SearchIndex::unpack,
            SearchChanges::unpack,
        )
        .await?
        {
            Ok((mut search, journal)) => {
                let mut unfolded = changed.marks.len();
                for changes in journal {
                    unfolded += changes.texts.len();
                    search.apply_changes(changes);
                }
                for (id, records) in &changed.records {
                    search.apply(id, records[at].as_deref());
                }
                Read {
                    value: search,
                    unfolded,
                    rebuilt: None,
                }
            }
            Err(why) => Read {
                value: SearchIndex::from_records(by_id(tx.range(&[SEARCH_NS]).await?)),
                unfolded: 0,
                rebuilt: Some(why),
            },
        },
    )
}

/// Folds the journal and the marked documents into new packed bases, in one read-write
/// transaction, and removes them; returns how many changes were folded.
pub async fn compact(store: &IdbStore) -> Result<usize, StorageError> {
    let tx = store.read_write()?;
    let changed = read_changed(&tx, &[SUMMARY_NS, SYNC_NS, SEARCH_NS]).await?;
    let index = read_index(&tx, &changed).await?;
    let search = read_search(&tx, &changed, 2).await?;
    tx.put(&Record::new(&INDEX_KEY, index.value.pack()))?;
    tx.put(&Record::new(&SEARCH_KEY, search.value.pack()))?;
    tx.delete_prefix(&JOURNAL)?;
    for key in &changed.marks {
        tx.delete(key)?;
    }
    tx.commit().await?;
    Ok(index.unfolded)
}

/// Tells the console when the list was read record by record, and why.
pub fn say_rebuilt(what: &str, why: Option<&String>) {
    if let Some(why) = why {
        web_sys::console::info_1(
            &format!(
                "Outpost: {what} read record by record, since the packed copy is not usable: {why}"
            )
            .into(),
        );
    }
}
