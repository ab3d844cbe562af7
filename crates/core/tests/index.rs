//! The list's index: built from per-document records, brought up to date by the records of
//! changed documents, and packed into one record that reads back exactly.

mod common;

use common::*;
use outpost_core::index::{
    journal_key, next_sequence, search_bytes, summary_bytes, sync_bytes, Index, IndexChange,
    IndexChanges, PackError, SearchChanges, SearchIndex, SyncRecord, PACK_VERSION,
};
use outpost_core::summary::IncidentSummary;
use outpost_core::{Command, IncidentDoc, State};
use proptest::prelude::*;

fn summary_of(doc: &IncidentDoc, id: &str, minutes: i64) -> IncidentSummary {
    let cfg = cfg();
    doc.view(&cfg, at(minutes))
        .unwrap()
        .summary(id, &cfg, cfg.list_rules())
}

fn sync_of(n: u32) -> SyncRecord {
    SyncRecord {
        heads: vec![format!("{n:064x}")],
        synced: if n.is_multiple_of(2) {
            vec![format!("{n:064x}")]
        } else {
            Vec::new()
        },
        pending: n % 3,
    }
}

/// Three incidents: one new, one being worked and assigned, one resolved; with sync records.
fn three() -> Index {
    let new = logged();
    let mut worked = logged();
    ok(
        &mut worked,
        "bob",
        5,
        Command::SetAssignee("Bob Okafor".into()),
    );
    ok(&mut worked, "bob", 6, Command::Transition(start_work()));
    let mut resolved = worked.clone();
    ok(&mut resolved, "bob", 30, Command::Transition(resolve()));
    let summaries = [("doc-a", &new), ("doc-b", &worked), ("doc-c", &resolved)]
        .map(|(id, doc)| (id.to_string(), summary_bytes(&summary_of(doc, id, 40))));
    let sync = (0..3u32).map(|n| {
        (
            ["doc-a", "doc-b", "doc-c"][n as usize].to_string(),
            sync_bytes(&sync_of(n)),
        )
    });
    Index::from_records(summaries, sync)
}

fn start_work() -> outpost_core::Action {
    outpost_core::Action::StartWork
}

fn resolve() -> outpost_core::Action {
    outpost_core::Action::Resolve {
        code: Some(outpost_core::ResolutionCode::standard(
            outpost_core::state::StandardResolution::SolutionProvided,
        )),
        notes: "Restarted the mail gateway.".into(),
    }
}

#[test]
fn the_index_is_built_from_every_summary_and_its_sync_record() {
    let index = three();
    assert_eq!(index.summaries.len(), 3);
    assert_eq!(index.summaries["doc-b"].assignee, "Bob Okafor");
    assert_eq!(index.summaries["doc-c"].state, State::Resolved);
    assert_eq!(index.sync["doc-b"], sync_of(1));
    assert!(index.unreadable.is_empty());
}

#[test]
fn a_packed_index_reads_back_exactly() {
    let index = three();
    let packed = index.pack();
    assert_eq!(Index::unpack(&packed).unwrap(), index);
    // Smaller than the per-document JSON it replaces.
    let json: usize = index
        .summaries
        .values()
        .map(|s| summary_bytes(s).len())
        .sum::<usize>()
        + index
            .sync
            .values()
            .map(|r| sync_bytes(r).len())
            .sum::<usize>();
    assert!(packed.len() * 2 < json, "{} vs {json}", packed.len());
}

#[test]
fn changed_documents_bring_the_packed_index_up_to_date() {
    let mut index = Index::unpack(&three().pack()).unwrap();
    // doc-a was assigned on another tab; doc-d was pulled; doc-b's summary record is damaged.
    let mut a = logged();
    ok(&mut a, "cy", 50, Command::SetAssignee("Cy Tan".into()));
    index.apply(
        "doc-a",
        Some(&summary_bytes(&summary_of(&a, "doc-a", 50))),
        Some(&sync_bytes(&sync_of(7))),
    );
    index.apply(
        "doc-d",
        Some(&summary_bytes(&summary_of(&logged(), "doc-d", 50))),
        None,
    );
    index.apply("doc-b", Some(b"{not json"), Some(&sync_bytes(&sync_of(1))));

    assert_eq!(index.summaries["doc-a"].assignee, "Cy Tan");
    assert_eq!(index.sync["doc-a"], sync_of(7));
    assert!(index.summaries.contains_key("doc-d"));
    assert!(!index.sync.contains_key("doc-d"));
    assert!(!index.summaries.contains_key("doc-b"));
    assert!(index.unreadable.contains("doc-b"));
    // Its chunks are stored, so its sync record still speaks for it.
    assert_eq!(index.sync["doc-b"], sync_of(1));
    // And the unreadable entry survives packing.
    assert_eq!(Index::unpack(&index.pack()).unwrap(), index);

    // Readable again: listed again.
    let b = summary_bytes(&summary_of(&logged(), "doc-b", 60));
    index.apply("doc-b", Some(&b), Some(&sync_bytes(&sync_of(1))));
    assert!(index.summaries.contains_key("doc-b"));
    assert!(index.unreadable.is_empty());
}

#[test]
fn a_sync_record_without_a_summary_is_ignored() {
    let mut index = three();
    index.apply("orphan", None, Some(&sync_bytes(&sync_of(4))));
    assert!(!index.sync.contains_key("orphan"));
    let built = Index::from_records(
        Vec::new(),
        vec![("orphan".to_string(), sync_bytes(&sync_of(4)))],
    );
    assert_eq!(built, Index::default());
}

#[test]
fn a_summary_filed_under_another_document_is_unreadable() {
    let mut index = Index::default();
    let other = summary_bytes(&summary_of(&logged(), "doc-x", 1));
    index.apply("doc-y", Some(&other), None);
    assert!(index.summaries.is_empty());
    assert!(index.unreadable.contains("doc-y"));
}

#[test]
fn packed_indexes_from_another_version_or_damaged_are_refused() {
    let packed = three().pack();
    let mut other = packed.clone();
    other[14] = PACK_VERSION + 1;
    assert_eq!(
        Index::unpack(&other),
        Err(PackError::Version(PACK_VERSION + 1))
    );
    assert!(matches!(
        Index::unpack(b"{\"summaries\":[]}"),
        Err(PackError::Damaged(_))
    ));
    for cut in [0, 10, 15, packed.len() / 2, packed.len() - 1] {
        assert!(
            matches!(Index::unpack(&packed[..cut]), Err(PackError::Damaged(_))),
            "cut at {cut}"
        );
    }
    let mut longer = packed.clone();
    longer.push(0);
    assert!(matches!(Index::unpack(&longer), Err(PackError::Damaged(_))));
}

#[test]
fn search_texts_pack_and_follow_their_records() {
    let mut doc = logged();
    ok(
        &mut doc,
        "bob",
        5,
        Command::AddNote {
            kind: outpost_core::incident::NoteKind::WorkNote,
            body: "Gateway certificate expired".into(),
        },
    );
    let text = |id: &str| search_bytes(&doc.view(&cfg(), at(6)).unwrap().search_text(id));
    let mut search = SearchIndex::from_records(vec![
        ("doc-a".to_string(), text("doc-a")),
        ("doc-b".to_string(), text("doc-b")),
        ("doc-c".to_string(), b"{damaged".to_vec()),
    ]);
    assert_eq!(search.texts.len(), 2);
    assert!(search.texts["doc-a"].contains("certificate expired"));
    let packed = search.pack();
    assert_eq!(SearchIndex::unpack(&packed).unwrap(), search);
    assert!(
        matches!(Index::unpack(&packed), Err(PackError::Damaged(_))),
        "packed search texts are not an index"
    );

    search.apply("doc-b", Some(b"{damaged"));
    search.apply("doc-c", Some(&text("doc-c")));
    search.apply("doc-a", Some(&text("doc-x")));
    assert_eq!(
        search
            .texts
            .keys()
            .collect::<std::collections::BTreeSet<_>>(),
        ["doc-c"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter()
            .collect(),
        "damaged or misfiled records leave no text"
    );
}

/// The packed layout of [`three`] as written by layout 1. If this fails, the layout of
/// `IncidentSummary` or `SyncRecord` changed: bump `PACK_VERSION`, so devices rebuild their
/// packed index instead of misreading it, and replace the file (the test prints how).
#[test]
fn packed_layout_is_pinned() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/packed-index-v4.bin"
    );
    let packed = three().pack();
    if std::env::var_os("OUTPOST_PIN_PACKED").is_some() {
        std::fs::write(path, &packed).unwrap();
    }
    let pinned = std::fs::read(path).expect("the pinned packed index");
    assert_eq!(pinned[14], PACK_VERSION, "bump the pinned file's name too");
    assert!(
        pinned == packed,
        "the packed layout changed: bump PACK_VERSION, then write the new file with \
         OUTPOST_PIN_PACKED=1 cargo test -p outpost-core --test index"
    );
    assert_eq!(Index::unpack(&pinned).unwrap(), three());
}

#[test]
fn journal_segments_read_back_exactly_and_refuse_damage() {
    let index = three();
    let mut entries: Vec<IndexChange> = index
        .summaries
        .values()
        .map(|s| IndexChange::Saved(Box::new(s.clone()), index.sync[&s.document_id].clone()))
        .collect();
    entries.push(IndexChange::Synced("doc-a".into(), sync_of(7)));
    let changes = IndexChanges { entries };
    assert_eq!(changes.len(), 4);
    assert_eq!(IndexChanges::unpack(&changes.pack()).unwrap(), changes);
    let search = SearchChanges {
        texts: vec![("doc-a".into(), "printer on fire".into())],
    };
    assert_eq!(SearchChanges::unpack(&search.pack()).unwrap(), search);

    // A segment of the other kind, a cut one, or the packed base are not segments.
    assert!(IndexChanges::unpack(&search.pack()).is_err());
    let bytes = changes.pack();
    assert!(matches!(
        IndexChanges::unpack(&bytes[..bytes.len() - 3]),
        Err(PackError::Damaged(_))
    ));
    assert!(IndexChanges::unpack(&index.pack()).is_err());
    let mut other = changes.pack();
    let at = b"outpost-index-changes/".len();
    other[at] = PACK_VERSION + 1;
    assert_eq!(
        IndexChanges::unpack(&other),
        Err(PackError::Version(PACK_VERSION + 1))
    );
}

#[test]
fn journal_keys_sort_in_commit_order() {
    assert_eq!(next_sequence(None), 1);
    let mut last = None;
    let mut keys = Vec::new();
    for _ in 0..300 {
        let key = journal_key(next_sequence(last.as_deref()));
        last = Some(key.clone());
        keys.push(key);
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, keys, "string order is number order");
    assert_eq!(next_sequence(Some(&journal_key(u64::MAX))), u64::MAX);
    assert_eq!(next_sequence(Some("not a number")), 1);
}

#[test]
fn an_acknowledgement_of_a_document_not_stored_is_ignored() {
    let mut index = three();
    let before = index.clone();
    index.apply_changes(IndexChanges {
        entries: vec![IndexChange::Synced("doc-z".into(), sync_of(1))],
    });
    assert_eq!(index, before);
    index.apply_changes(IndexChanges {
        entries: vec![IndexChange::Synced("doc-a".into(), sync_of(5))],
    });
    assert_eq!(index.sync["doc-a"], sync_of(5));
}

#[test]
fn a_removed_document_leaves_the_index_and_the_search_texts_through_the_journal() {
    let mut index = three();
    assert!(index.summaries.contains_key("doc-a"));
    let segment = IndexChanges {
        entries: vec![IndexChange::Removed("doc-a".into())],
    };
    index.apply_changes(IndexChanges::unpack(&segment.pack()).unwrap());
    assert!(!index.summaries.contains_key("doc-a"));
    assert!(!index.sync.contains_key("doc-a"));
    assert_eq!(index.summaries.len(), 2, "the others stay");

    let mut search = SearchIndex::default();
    search.apply_changes(SearchChanges {
        texts: vec![
            ("doc-a".into(), "mail down".into()),
            ("doc-b".into(), "vpn".into()),
        ],
    });
    search.apply_changes(SearchChanges {
        texts: vec![("doc-a".into(), String::new())],
    });
    assert_eq!(search.texts.keys().collect::<Vec<_>>(), vec!["doc-b"]);
}

/// Two summaries to store in the property test, computed once.
fn sample_summaries() -> &'static [Vec<u8>] {
    static SAMPLES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(|| {
        (0..3)
            .map(|n| summary_bytes(&summary_of(&logged(), "", n)))
            .collect()
    })
}

proptest! {
    /// Applying any sequence of stored records to a packed index gives the index built from
    /// the final records, packed or not.
    #[test]
    fn applying_changes_equals_rebuilding(
        steps in proptest::collection::vec((0usize..6, 0u8..4, any::<bool>()), 0..24)
    ) {
        let ids = ["d0", "d1", "d2", "d3", "d4", "d5"];
        let docs = sample_summaries();
        let record = |id: &str, kind: u8| -> Option<Vec<u8>> {
            match kind {
                0 => None,
                1 => Some(b"damaged".to_vec()),
                k => {
                    let mut s: IncidentSummary =
                        serde_json::from_slice(&docs[usize::from(k) - 1]).unwrap();
                    s.document_id = id.to_string();
                    Some(summary_bytes(&s))
                }
            }
        };
        // What storage holds per document: its summary record and its sync record.
        type Records = (Option<Vec<u8>>, Option<Vec<u8>>);
        let mut stored: std::collections::BTreeMap<&str, Records> = Default::default();
        let mut index = Index::default();
        for (i, kind, synced) in steps {
            let id = ids[i];
            let summary = record(id, kind);
            let sync = synced.then(|| sync_bytes(&sync_of(u32::from(kind))));
            index.apply(id, summary.as_deref(), sync.as_deref());
            index = Index::unpack(&index.pack()).unwrap();
            stored.insert(id, (summary, sync));
        }
        let rebuilt = Index::from_records(
            stored.iter().filter_map(|(id, (s, _))| s.clone().map(|s| (id.to_string(), s))),
            stored.iter().filter_map(|(id, (_, r))| r.clone().map(|r| (id.to_string(), r))),
        );
        prop_assert_eq!(index, rebuilt);
    }
}

/// One write in the journal property test: a save of document `doc` with sample summary
/// `sample` (and a sync record), or an acknowledgement of it.
#[derive(Clone, Debug)]
enum Write {
    Save {
        doc: usize,
        sample: usize,
        sync: u32,
    },
    Ack {
        doc: usize,
        sync: u32,
    },
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        (0usize..6, 0usize..3, 0u32..9).prop_map(|(doc, sample, sync)| Write::Save {
            doc,
            sample,
            sync
        }),
        (0usize..6, 0u32..9).prop_map(|(doc, sync)| Write::Ack { doc, sync }),
    ]
}

proptest! {
    /// Writes journaled in segments (several documents each, as a pull's batches are), read
    /// over a base packed at any point, give the index and texts built from the final
    /// per-document records: what the journal replaces.
    #[test]
    fn a_journal_over_a_base_reads_as_the_records(
        batches in proptest::collection::vec(proptest::collection::vec(write(), 1..5), 0..16),
        packed_after in 0usize..17,
    ) {
        let ids = ["d0", "d1", "d2", "d3", "d4", "d5"];
        let samples = sample_summaries();
        // The per-document records, as storage holds them.
        let mut summaries: std::collections::BTreeMap<&str, Vec<u8>> = Default::default();
        let mut syncs: std::collections::BTreeMap<&str, Vec<u8>> = Default::default();
        let mut texts: std::collections::BTreeMap<&str, String> = Default::default();
        let mut journal: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
        let mut base = (Index::default(), SearchIndex::default());
        let mut last = None;
        for (n, batch) in batches.iter().enumerate() {
            if n == packed_after {
                // Compaction: the journal so far is folded into the base and removed.
                base = read(&base, &journal);
                base = (
                    Index::unpack(&base.0.pack()).unwrap(),
                    SearchIndex::unpack(&base.1.pack()).unwrap(),
                );
                journal.clear();
                last = None;
            }
            let mut changes = IndexChanges::default();
            let mut search = SearchChanges::default();
            for w in batch {
                match *w {
                    Write::Save { doc, sample, sync } => {
                        let mut s: IncidentSummary = serde_json::from_slice(&samples[sample]).unwrap();
                        s.document_id = ids[doc].to_string();
                        let text = format!("text {sample} of {doc}");
                        summaries.insert(ids[doc], summary_bytes(&s));
                        syncs.insert(ids[doc], sync_bytes(&sync_of(sync)));
                        texts.insert(ids[doc], text.clone());
                        changes
                            .entries
                            .push(IndexChange::Saved(Box::new(s), sync_of(sync)));
                        search.texts.push((ids[doc].to_string(), text));
                    }
                    Write::Ack { doc, sync } => {
                        // Acknowledgements are written only for stored documents.
                        if summaries.contains_key(ids[doc]) {
                            syncs.insert(ids[doc], sync_bytes(&sync_of(sync)));
                        }
                        changes
                            .entries
                            .push(IndexChange::Synced(ids[doc].to_string(), sync_of(sync)));
                    }
                }
            }
            let key = journal_key(next_sequence(last.as_deref()));
            last = Some(key.clone());
            journal.push((key, changes.pack(), search.pack()));
        }
        // Storage returns the segments in key order, whatever order they were listed in.
        journal.reverse();
        journal.sort_by(|a, b| a.0.cmp(&b.0));
        let (index, search) = read(&base, &journal);
        let rebuilt = Index::from_records(
            summaries.iter().map(|(id, s)| (id.to_string(), s.clone())),
            syncs.iter().map(|(id, r)| (id.to_string(), r.clone())),
        );
        prop_assert_eq!(index, rebuilt);
        let rebuilt_texts: std::collections::HashMap<String, String> =
            texts.iter().map(|(id, t)| (id.to_string(), t.clone())).collect();
        prop_assert_eq!(search.texts, rebuilt_texts);
    }
}

/// What start-up reads: the base with every journal segment applied in order.
fn read(
    base: &(Index, SearchIndex),
    journal: &[(String, Vec<u8>, Vec<u8>)],
) -> (Index, SearchIndex) {
    let (mut index, mut search) = base.clone();
    for (_, changes, texts) in journal {
        index.apply_changes(IndexChanges::unpack(changes).unwrap());
        search.apply_changes(SearchChanges::unpack(texts).unwrap());
    }
    (index, search)
}
