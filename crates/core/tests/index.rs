//! The list's index: built from per-document records, brought up to date by the records of
//! changed documents, and packed into one record that reads back exactly.

mod common;

use common::*;
use outpost_core::index::{
    search_bytes, summary_bytes, sync_bytes, Index, PackError, SearchIndex, SyncRecord,
    PACK_VERSION,
};
use outpost_core::summary::IncidentSummary;
use outpost_core::{Command, IncidentDoc, State};
use proptest::prelude::*;

fn summary_of(doc: &IncidentDoc, id: &str, minutes: i64) -> IncidentSummary {
    doc.view(&cfg(), at(minutes))
        .unwrap()
        .summary(id, &cfg().calendar)
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
        code: Some(outpost_core::ResolutionCode::SolutionProvided),
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
        "/tests/data/packed-index-v1.bin"
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
