//! IndexedDB storage in a real browser (wasm-bindgen-test, headless Chromium): writes survive a
//! reopen, chunks compact, damaged records are skipped and kept, a second copy of a document
//! merges in, failed writes lose nothing, sync bookkeeping never claims a document storage
//! does not hold, and the packed list index reads the same as the records it packs.
#![cfg(target_arch = "wasm32")]

use outpost::repo::{
    Repo, RepoError, SyncRecord, CHANGED_NS, INDEX_KEY, JOURNAL_INDEX, JOURNAL_SEARCH, SEARCH_KEY,
    SEARCH_NS, SUMMARY_NS, SYNC_NS,
};
use outpost::storage::{IdbStore, Record, StorageError};
use outpost_core::incident::{DetectionSource, NoteKind};
use outpost_core::{
    Attribution, Command, DevicePrefix, DeviceTime, Field, Impact, IncidentDoc, NewIncident,
    Outcome, ReferenceNumber, Urgency, WorkspaceConfig,
};
use outpost_sync::client::ClientDocs;
use outpost_sync::storage::incremental_key;
use outpost_sync::DocumentId;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn cfg() -> WorkspaceConfig {
    WorkspaceConfig::default()
}

fn at(minutes: i64) -> DeviceTime {
    DeviceTime::from_millis(1_796_000_000_000 + minutes * 60_000)
}

fn by(name: &str, minutes: i64) -> Attribution {
    Attribution::new(name, at(minutes))
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_random([n; 16])
}

fn reference(n: u32) -> ReferenceNumber {
    ReferenceNumber::new(DevicePrefix::new("B10C").unwrap(), n)
}

fn incident(title: &str) -> NewIncident {
    NewIncident {
        title: title.into(),
        caller: "Dana".into(),
        detection_source: DetectionSource::UserReport,
        impact: Impact::High,
        urgency: Urgency::High,
        ..NewIncident::default()
    }
}

/// A fresh database per test: tests in one binary share one page and origin.
async fn fresh(name: &str) -> (String, Repo) {
    let db = format!("outpost-test-{name}");
    IdbStore::delete_database(&db).await.unwrap();
    let repo = Repo::open(&db).await;
    assert!(
        repo.storage_problem().is_none(),
        "{:?}",
        repo.storage_problem()
    );
    (db, repo)
}

async fn reopen(db: &str, repo: Repo) -> Repo {
    repo.close();
    drop(repo);
    Repo::open(db).await
}

#[wasm_bindgen_test]
async fn an_incident_and_its_summary_survive_a_reopen() {
    let (db, repo) = fresh("reload").await;
    let id = doc_id(1);
    let saved = repo
        .create(
            id,
            &reference(1),
            &incident("Printer on fire"),
            &by("ana", 0),
            &cfg(),
        )
        .await
        .unwrap();
    assert_eq!(saved.durable, Ok(()));
    let (outcome, saved) = repo
        .execute(
            &id,
            &[Command::AddNote {
                kind: NoteKind::WorkNote,
                body: "Extinguisher used".into(),
            }],
            &by("ana", 1),
            &cfg(),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Changed { .. }));
    assert_eq!(saved.unwrap().durable, Ok(()));
    let before = repo.with_doc(&id, |d| d.read().unwrap()).unwrap();

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.summaries.len(), 1);
    assert_eq!(index.summaries[&id.to_string()].title, "Printer on fire");
    assert_eq!(index.summaries[&id.to_string()].reference, "INC-B10C-0001");
    let search = repo.load_search().await.unwrap();
    assert!(search[&id.to_string()].contains("extinguisher used"));
    assert!(!repo.is_open(&id));
    repo.open_doc(&id).await.unwrap();
    assert_eq!(repo.with_doc(&id, |d| d.read().unwrap()).unwrap(), before);
}

#[wasm_bindgen_test]
async fn the_layout_is_automerge_repos() {
    let (_db, repo) = fresh("layout").await;
    let id = doc_id(2);
    repo.create(
        id,
        &reference(2),
        &incident("Layout"),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    let store = IdbStore::open("outpost-test-layout").await.unwrap();
    let keys = store.keys(&[&id.to_string()]).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0][0], id.to_string());
    assert_eq!(keys[0][1], "snapshot");
    assert_eq!(keys[0][2].len(), 64, "a sha-256 hex digest");
    assert_eq!(
        store.keys(&[SUMMARY_NS]).await.unwrap(),
        vec![vec![SUMMARY_NS.to_string(), id.to_string()]]
    );
    assert_eq!(store.keys(&[SEARCH_NS]).await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn chunks_compact_and_reload_to_the_same_document() {
    let (db, repo) = fresh("compaction").await;
    let id = doc_id(3);
    repo.create(
        id,
        &reference(3),
        &incident("Compaction"),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    for i in 0..60 {
        let body = format!(
            "Note {i}: {}",
            "checked the switch stack and the uplinks ".repeat(3)
        );
        repo.execute(
            &id,
            &[Command::AddNote {
                kind: NoteKind::WorkNote,
                body,
            }],
            &by("ana", i + 1),
            &cfg(),
        )
        .await
        .unwrap();
    }
    let store = IdbStore::open(&db).await.unwrap();
    let keys = store.keys(&[&id.to_string()]).await.unwrap();
    let snapshots = keys.iter().filter(|k| k[1] == "snapshot").count();
    let incrementals = keys.iter().filter(|k| k[1] == "incremental").count();
    assert_eq!(snapshots, 1, "{keys:?}");
    assert!(
        incrementals < 60,
        "compaction removed replaced chunks: {incrementals} left"
    );
    let before = repo.with_doc(&id, |d| d.automerge().get_heads()).unwrap();
    let repo = reopen(&db, repo).await;
    repo.open_doc(&id).await.unwrap();
    assert_eq!(
        repo.with_doc(&id, |d| d.automerge().get_heads()).unwrap(),
        before
    );
    assert_eq!(
        repo.with_doc(&id, |d| d.read().unwrap().work_notes.len())
            .unwrap(),
        60
    );
}

#[wasm_bindgen_test]
async fn a_damaged_chunk_is_skipped_reported_and_kept() {
    let (db, repo) = fresh("damaged-chunk").await;
    let id = doc_id(4);
    repo.create(
        id,
        &reference(4),
        &incident("Damaged chunk"),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    let bad = incremental_key(&id, b"not automerge at all");
    repo.write_raw(&[Record::new(&bad, b"not automerge at all".to_vec())])
        .await
        .unwrap();

    let repo = reopen(&db, repo).await;
    repo.open_doc(&id).await.unwrap();
    assert_eq!(repo.damaged_chunks(&id), vec![bad.clone()]);
    assert_eq!(
        repo.with_doc(&id, |d| d.read().unwrap().title).unwrap(),
        "Damaged chunk"
    );
    // Work goes on, and the damaged bytes stay for recovery.
    repo.execute(
        &id,
        &[Command::SetTitle("Still works".into())],
        &by("ana", 2),
        &cfg(),
    )
    .await
    .unwrap();
    let raw = repo.raw_records(&id).await.unwrap();
    assert!(raw
        .iter()
        .any(|r| r.key == bad.to_vec() && r.bytes == b"not automerge at all"));
}

#[wasm_bindgen_test]
async fn an_unreadable_incident_is_named_and_its_bytes_kept() {
    let (db, repo) = fresh("unreadable").await;
    let id = doc_id(5);
    repo.create(
        id,
        &reference(5),
        &incident("Will break"),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    let raw = repo.raw_records(&id).await.unwrap();
    let mut broken = raw[0].clone();
    let n = broken.bytes.len();
    broken.bytes[n - 4] ^= 0xff; // flip bits inside the snapshot
    repo.write_raw(&[broken.clone()]).await.unwrap();
    // A corrupt summary of another incident.
    repo.write_raw(&[Record::new(&[SUMMARY_NS, "someDoc"], b"{not json".to_vec())])
        .await
        .unwrap();

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(
        index.summaries.len(),
        1,
        "the broken incident is still listed from its summary"
    );
    assert_eq!(index.unreadable, ["someDoc".to_string()].into());
    match repo.open_doc(&id).await {
        Err(RepoError::Unreadable(reason)) => {
            let message = RepoError::Unreadable(reason).to_string();
            assert!(
                message.starts_with("This incident could not be read"),
                "{message}"
            );
            assert!(
                message.ends_with("Its data is kept on this device."),
                "{message}"
            );
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    assert_eq!(
        repo.raw_records(&id).await.unwrap(),
        vec![broken],
        "nothing was deleted"
    );
}

#[wasm_bindgen_test]
async fn a_second_copy_edited_elsewhere_merges_in_and_its_conflict_is_stored() {
    let (db, repo) = fresh("merge").await;
    let id = doc_id(6);
    repo.create(
        id,
        &reference(6),
        &incident("Shared"),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    // A colleague's copy of the same document, edited while apart.
    let mut theirs = repo.with_doc(&id, |d| d.fork()).unwrap();
    theirs
        .execute(&Command::SetAssignee("ben".into()), &by("ben", 5), &cfg())
        .unwrap();
    theirs
        .execute(
            &Command::AddNote {
                kind: NoteKind::WorkNote,
                body: "ben's note".into(),
            },
            &by("ben", 6),
            &cfg(),
        )
        .unwrap();
    repo.execute(
        &id,
        &[Command::SetAssignee("ana".into())],
        &by("ana", 5),
        &cfg(),
    )
    .await
    .unwrap();
    repo.execute(
        &id,
        &[Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "ana's note".into(),
        }],
        &by("ana", 7),
        &cfg(),
    )
    .await
    .unwrap();

    repo.with_doc_mut(&id, |d| d.merge(&mut theirs))
        .unwrap()
        .unwrap();
    let saved = repo.save(&id, &cfg(), at(8)).await.unwrap().unwrap();
    assert_eq!(saved.summary.conflicts, 1);

    let repo = reopen(&db, repo).await;
    assert_eq!(
        repo.load_index().await.unwrap().summaries[&id.to_string()].conflicts,
        1
    );
    repo.open_doc(&id).await.unwrap();
    let (conflicts, notes) = repo
        .with_doc(&id, |d| (d.conflicts(), d.read().unwrap().work_notes.len()))
        .unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, Field::Assignee);
    assert_eq!(notes, 2, "both notes survive");
}

#[wasm_bindgen_test]
async fn a_failed_write_keeps_the_change_and_reports_it() {
    let (_db, repo) = fresh("failed-write").await;
    let id = doc_id(7);
    repo.create(
        id,
        &reference(7),
        &incident("Fragile"),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    repo.close(); // the connection is gone: every write now fails
    let (outcome, saved) = repo
        .execute(
            &id,
            &[Command::SetTitle("Changed while storage failed".into())],
            &by("ana", 1),
            &cfg(),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Changed { .. }));
    let saved = saved.unwrap();
    assert!(
        matches!(saved.durable, Err(StorageError::Failed(_))),
        "{:?}",
        saved.durable
    );
    assert_eq!(repo.unsaved(), vec![id]);
    assert_eq!(
        repo.with_doc(&id, |d| d.read().unwrap().title).unwrap(),
        "Changed while storage failed"
    );
}

#[wasm_bindgen_test]
fn quota_errors_read_as_quota_errors() {
    let exception =
        web_sys::DomException::new_with_message_and_name("full", "QuotaExceededError").unwrap();
    let error = StorageError::from(idb::Error::DomException(exception));
    assert_eq!(error, StorageError::QuotaExceeded);
    assert!(error
        .to_string()
        .starts_with("Storage on this device is full"));
}

/// A colleague's incident, as the relay would send it.
fn colleagues_incident(n: u8) -> IncidentDoc {
    IncidentDoc::create(
        &reference(u32::from(n)),
        &incident("From a colleague"),
        &by("ben", 0),
        &cfg(),
    )
    .unwrap()
}

#[wasm_bindgen_test]
async fn an_acknowledgement_before_the_save_does_not_claim_the_document_is_stored() {
    // The relay's changes are applied in memory, the relay acknowledges them, and the tab closes
    // before the batch that saves them: the device must still know it lacks the document, or it
    // never asks the relay for it again.
    let (db, repo) = fresh("ack-before-save").await;
    let id = doc_id(8);
    let mut theirs = colleagues_incident(8);
    let heads = theirs.automerge().get_heads();
    repo.with_client_docs(|docs| docs.create(&id).merge(theirs.automerge_mut()).unwrap());
    let written = repo.mark_synced(&[(id, heads)]).await.unwrap();
    assert!(written.is_empty(), "{written:?}");

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert!(index.summaries.is_empty());
    assert!(
        !repo.has(&id),
        "a document never saved is not on this device"
    );
}

#[wasm_bindgen_test]
async fn an_acknowledgement_waits_for_the_save_and_then_counts_nothing_pending() {
    let (_db, repo) = fresh("ack-then-save").await;
    let id = doc_id(9);
    let mut theirs = colleagues_incident(9);
    let heads = theirs.automerge().get_heads();
    repo.with_client_docs(|docs| docs.create(&id).merge(theirs.automerge_mut()).unwrap());
    let written = repo.mark_synced(&[(id, heads)]).await.unwrap();
    assert!(written.is_empty(), "{written:?}");
    let saved = repo.save(&id, &cfg(), at(1)).await.unwrap().unwrap();
    assert_eq!(saved.durable, Ok(()));
    assert_eq!(saved.sync.pending, 0, "the relay has every change");
}

#[wasm_bindgen_test]
async fn acknowledgements_reach_documents_no_longer_in_memory() {
    let (db, repo) = fresh("ack-evicted").await;
    let id = doc_id(10);
    let saved = repo
        .create(id, &reference(10), &incident("Old"), &by("ana", 0), &cfg())
        .await
        .unwrap();
    assert!(saved.sync.pending > 0, "nothing has reached the relay yet");
    let heads = repo.with_doc(&id, |d| d.automerge().get_heads()).unwrap();
    repo.evict_one(&id);
    let updated = repo.mark_synced(&[(id, heads)]).await.unwrap();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].1.pending, 0);

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.sync[&id.to_string()].pending, 0);
}

#[wasm_bindgen_test]
async fn a_sync_record_without_its_document_is_not_trusted() {
    // What the bug above left behind on devices: a sync record whose document was never stored.
    let (db, repo) = fresh("orphan-record").await;
    let id = doc_id(11);
    let heads = colleagues_incident(11)
        .automerge()
        .get_heads()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    let orphan = SyncRecord {
        synced: heads.clone(),
        heads,
        pending: 0,
    };
    repo.write_raw(&[Record::new(
        &[SYNC_NS, &id.to_string()],
        serde_json::to_vec(&orphan).unwrap(),
    )])
    .await
    .unwrap();

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert!(index.sync.is_empty(), "{:?}", index.sync);
    assert!(!repo.has(&id), "the relay will be asked for it again");
}

async fn markers(db: &str) -> usize {
    let store = IdbStore::open(db).await.unwrap();
    let n = store.keys(&[CHANGED_NS]).await.unwrap().len();
    store.close();
    n
}

async fn create_titled(repo: &Repo, n: u8, title: &str) -> DocumentId {
    let id = doc_id(n);
    repo.create(
        id,
        &reference(u32::from(n)),
        &incident(title),
        &by("ana", 0),
        &cfg(),
    )
    .await
    .unwrap();
    id
}

/// How many journal segments the index has in storage.
async fn journal(db: &str) -> usize {
    let store = IdbStore::open(db).await.unwrap();
    let n = store.keys(&JOURNAL_INDEX).await.unwrap().len();
    store.close();
    n
}

/// Plants a damaged packed index, which makes compaction due.
async fn damage_packed_index(repo: &Repo) {
    repo.write_raw(&[Record::new(
        &INDEX_KEY,
        b"outpost-index/\x01garbage".to_vec(),
    )])
    .await
    .unwrap();
}

#[wasm_bindgen_test]
async fn the_packed_index_and_the_journal_read_as_the_records_do() {
    let (db, repo) = fresh("packed-index").await;
    let a = create_titled(&repo, 21, "Badge reader offline").await;
    let b = create_titled(&repo, 22, "Wifi drops in hall B").await;
    assert_eq!(journal(&db).await, 2, "a segment per write");
    assert_eq!(markers(&db).await, 0, "journaled writes leave no markers");
    repo.load_index().await.unwrap();
    assert!(
        !repo.compaction_due(),
        "two changes are read on top, not packed"
    );
    assert_eq!(repo.compact_index().await.unwrap(), 2);
    assert_eq!(journal(&db).await, 0, "folded into the packed index");

    // After packing: one incident changes, one is new, one acknowledgement arrives.
    repo.execute(
        &a,
        &[Command::SetAssignee("Cy Tan".into())],
        &by("ana", 2),
        &cfg(),
    )
    .await
    .unwrap();
    let c = create_titled(&repo, 23, "Printer jams").await;
    let heads = repo.with_doc(&b, |d| d.automerge().get_heads()).unwrap();
    repo.mark_synced(&[(b, heads)]).await.unwrap();
    assert_eq!(journal(&db).await, 3);
    assert!(!repo.compaction_due());

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.summaries.len(), 3);
    assert_eq!(index.summaries[&a.to_string()].assignee, "Cy Tan");
    assert_eq!(index.summaries[&c.to_string()].title, "Printer jams");
    assert_eq!(index.sync[&b.to_string()].pending, 0);
    assert!(
        repo.has(&c),
        "the sync client's catalog includes the new one"
    );
    let search = repo.load_search().await.unwrap();
    assert!(search[&c.to_string()].contains("printer jams"));
    assert!(search[&a.to_string()].contains("cy tan"));

    // The same index read record by record, with the packed one and the journal gone.
    let store = IdbStore::open(&db).await.unwrap();
    let key: Vec<String> = INDEX_KEY.iter().map(ToString::to_string).collect();
    let search_key: Vec<String> = SEARCH_KEY.iter().map(ToString::to_string).collect();
    let mut gone = vec![key, search_key];
    gone.extend(store.keys(&JOURNAL_INDEX).await.unwrap());
    gone.extend(store.keys(&JOURNAL_SEARCH).await.unwrap());
    store.write(&[], &gone).await.unwrap();
    store.close();
    let repo = reopen(&db, repo).await;
    assert_eq!(repo.load_index().await.unwrap(), index);
    assert_eq!(repo.load_search().await.unwrap(), search);
    assert!(
        repo.compaction_due(),
        "without a packed index one is written"
    );
    repo.compact_index().await.unwrap();
    let repo = reopen(&db, repo).await;
    assert_eq!(repo.load_index().await.unwrap(), index);
    assert_eq!(repo.load_search().await.unwrap(), search);
    assert!(!repo.compaction_due());
}

#[wasm_bindgen_test]
async fn a_journal_without_a_packed_index_is_read_on_its_own() {
    // A new device: a pull journals every incident before anything is packed.
    let (db, repo) = fresh("journal-only").await;
    let a = create_titled(&repo, 31, "Badge reader offline").await;
    let b = create_titled(&repo, 32, "Wifi drops in hall B").await;
    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.summaries.len(), 2);
    assert_eq!(
        index.summaries[&b.to_string()].title,
        "Wifi drops in hall B"
    );
    assert!(!repo.compaction_due(), "read from the journal, not rebuilt");
    assert!(repo.load_search().await.unwrap()[&a.to_string()].contains("badge"));
}

#[wasm_bindgen_test]
async fn a_damaged_journal_segment_is_read_past_from_the_records() {
    let (db, repo) = fresh("journal-damaged").await;
    let a = create_titled(&repo, 33, "Laptop will not boot").await;
    create_titled(&repo, 34, "Phone will not charge").await;
    let store = IdbStore::open(&db).await.unwrap();
    let first = store.keys(&JOURNAL_INDEX).await.unwrap().remove(0);
    store
        .write(&[Record::new(&first, b"garbage".to_vec())], &[])
        .await
        .unwrap();
    store.close();
    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.summaries.len(), 2, "rebuilt from the records");
    assert_eq!(
        index.summaries[&a.to_string()].title,
        "Laptop will not boot"
    );
    assert!(repo.compaction_due());
    repo.compact_index().await.unwrap();
    assert_eq!(journal(&db).await, 0);
    let repo = reopen(&db, repo).await;
    assert_eq!(repo.load_index().await.unwrap(), index);
    assert!(!repo.compaction_due());
}

#[wasm_bindgen_test]
async fn the_journal_keeps_the_order_of_two_tabs_writes() {
    // Two tabs save the same incident one after the other: the later save is what the list
    // shows, read back through the journal.
    let (db, first) = fresh("journal-two-tabs").await;
    let second = Repo::open(&db).await;
    let a = create_titled(&first, 35, "Projector dead").await;
    second.open_doc(&a).await.unwrap();
    second
        .execute(
            &a,
            &[Command::SetAssignee("Bo Lind".into())],
            &by("bo", 3),
            &cfg(),
        )
        .await
        .unwrap();
    first
        .execute(
            &a,
            &[Command::SetAssignee("Cy Tan".into())],
            &by("ana", 4),
            &cfg(),
        )
        .await
        .unwrap();
    second.close();
    drop(second);
    assert_eq!(journal(&db).await, 3);
    let repo = reopen(&db, first).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.summaries[&a.to_string()].assignee, "Cy Tan");
}

#[wasm_bindgen_test]
async fn a_damaged_packed_index_is_read_past_and_rewritten() {
    let (db, repo) = fresh("packed-damaged").await;
    let a = create_titled(&repo, 24, "Laptop will not boot").await;
    repo.compact_index().await.unwrap();
    damage_packed_index(&repo).await;

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(
        index.summaries[&a.to_string()].title,
        "Laptop will not boot"
    );
    assert!(repo.compaction_due());
    repo.compact_index().await.unwrap();
    let repo = reopen(&db, repo).await;
    assert_eq!(repo.load_index().await.unwrap(), index);
    assert!(!repo.compaction_due(), "rewritten whole");
}

#[wasm_bindgen_test]
async fn packing_keeps_what_another_tab_wrote() {
    // Two tabs on one database: the packed index comes from storage, not from the memory of
    // the tab that packs, so the other tab's incident is in it.
    let (db, first) = fresh("packed-two-tabs").await;
    let second = Repo::open(&db).await;
    let a = create_titled(&first, 25, "Projector dead").await;
    let b = create_titled(&second, 26, "VPN refuses logins").await;
    assert_eq!(first.compact_index().await.unwrap(), 2);
    second.close();
    drop(second);

    let repo = reopen(&db, first).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(index.summaries[&a.to_string()].title, "Projector dead");
    assert_eq!(index.summaries[&b.to_string()].title, "VPN refuses logins");
    assert_eq!(journal(&db).await, 0);
}

#[wasm_bindgen_test]
async fn a_failed_compaction_loses_nothing_and_waits_before_trying_again() {
    let (db, repo) = fresh("packed-fails").await;
    let a = create_titled(&repo, 27, "Door controller offline").await;
    damage_packed_index(&repo).await;
    repo.load_index().await.unwrap();
    assert!(repo.compaction_due(), "the packed index is damaged");
    repo.close(); // the connection is gone: the compaction's transaction cannot start
    assert!(repo.compact_index().await.is_err());
    assert!(
        !repo.compaction_due(),
        "not retried on every tick after a failure"
    );

    let repo = reopen(&db, repo).await;
    let index = repo.load_index().await.unwrap();
    assert_eq!(
        index.summaries[&a.to_string()].title,
        "Door controller offline"
    );
    assert!(repo.compaction_due(), "the next start tries again");
    assert_eq!(journal(&db).await, 1, "the change is still journaled");
}

#[wasm_bindgen_test]
async fn a_compaction_in_progress_is_not_started_twice() {
    let (_db, repo) = fresh("packed-once").await;
    create_titled(&repo, 28, "Scanner jams").await;
    damage_packed_index(&repo).await;
    repo.load_index().await.unwrap();
    assert!(repo.compaction_due(), "the packed index is damaged");
    let (folded, due_meanwhile) =
        futures::future::join(repo.compact_index(), async { repo.compaction_due() }).await;
    folded.unwrap();
    assert!(!due_meanwhile, "due again while the first one runs");
    assert!(!repo.compaction_due());
}

#[wasm_bindgen_test]
async fn a_removed_incident_leaves_nothing_behind_packed_or_journaled() {
    let (db, repo) = fresh("remove").await;
    let kept = create_titled(&repo, 31, "Printer jams").await;
    let packed = create_titled(&repo, 32, "Phishing mail with a payroll link").await;
    repo.load_index().await.unwrap();
    repo.compact_index().await.unwrap();
    // One in the packed index, one only in the journal, with a change the relay never had.
    let journaled = create_titled(&repo, 33, "Laptop stolen from a car").await;
    assert_eq!(repo.remove(&packed).await.unwrap(), Some(1));
    assert_eq!(repo.remove(&journaled).await.unwrap(), Some(1));
    assert_eq!(repo.remove(&journaled).await.unwrap(), None, "only once");
    assert!(!repo.holds(&packed) && !repo.has(&journaled));

    {
        let repo = reopen(&db, repo).await;
        let index = repo.load_index().await.unwrap();
        assert_eq!(
            index.summaries.keys().collect::<Vec<_>>(),
            vec![&kept.to_string()]
        );
        assert!(!index.sync.contains_key(&packed.to_string()));
        let search = repo.load_search().await.unwrap();
        assert_eq!(search.keys().collect::<Vec<_>>(), vec![&kept.to_string()]);
        assert_eq!(repo.open_doc(&packed).await, Err(RepoError::NotFound));
        // And packing again keeps them out.
        repo.compact_index().await.unwrap();
        let repo = reopen(&db, repo).await;
        let again = repo.load_index().await.unwrap();
        assert_eq!(again.summaries.len(), 1);
        let store = IdbStore::open(&db).await.unwrap();
        for id in [packed, journaled] {
            assert!(
                store.keys(&[&id.to_string()]).await.unwrap().is_empty(),
                "no chunk kept"
            );
            for ns in [SUMMARY_NS, SEARCH_NS, SYNC_NS] {
                assert!(store.keys(&[ns, &id.to_string()]).await.unwrap().is_empty());
            }
        }
        store.close();
    }
}
