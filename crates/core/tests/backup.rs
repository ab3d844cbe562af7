//! The whole workspace in one file: every kind of document comes back with its id and its
//! whole history, and a damaged or foreign file is refused before anything is restored.

mod common;

use common::{by, logged, ok};
use outpost_core::backup::{read, write, BackupError, Kind};
use outpost_core::incident::NoteKind;
use outpost_core::knowledge::{self, ArticleDraft};
use outpost_core::sla::{CalendarChoice, SlaTarget};
use outpost_core::workspace::{Edit, Setting, WorkspaceDoc};
use outpost_core::{Action, Command, DeviceTime, Priority, Role};

fn documents() -> Vec<(String, Kind, Vec<u8>)> {
    let mut incident = logged();
    ok(
        &mut incident,
        "bob",
        5,
        Command::Transition(Action::StartWork),
    );
    ok(
        &mut incident,
        "bob",
        9,
        Command::AddNote {
            kind: NoteKind::WorkNote,
            body: "Rebooted the mail gateway.".into(),
        },
    );
    let mut workspace = WorkspaceDoc::new();
    workspace
        .apply(
            &[Edit::Set(Setting::Sla(
                Priority::P2,
                SlaTarget::new(30, 240, CalendarChoice::Always),
            ))],
            &by("ada", 1),
        )
        .unwrap();
    let article = knowledge::create(
        "KB-7F3A-0001",
        &ArticleDraft {
            title: "Mail gateway hangs".into(),
            ..ArticleDraft::default()
        },
        None,
        &by("bob", 20),
        Role::Agent,
    )
    .unwrap();
    vec![
        ("doc-incident".into(), Kind::Incident, incident.save()),
        (
            "doc-workspace".into(),
            Kind::Workspace,
            workspace.automerge().clone().save(),
        ),
        (
            "doc-article".into(),
            Kind::Knowledge,
            article.clone().save(),
        ),
    ]
}

fn exported(docs: &[(String, Kind, Vec<u8>)]) -> String {
    write(
        "acme",
        "Ada Admin",
        DeviceTime::from_millis(1_764_000_000_000),
        docs.iter()
            .map(|(id, k, b)| (id.as_str(), *k, b.as_slice())),
    )
}

#[test]
fn every_document_comes_back_with_its_id_kind_and_history() {
    let docs = documents();
    let restored = read(&exported(&docs)).unwrap();
    assert_eq!(restored.workspace, "acme");
    assert_eq!(restored.exported_by, "Ada Admin");
    assert_eq!(restored.documents.len(), 3);
    for ((id, kind, bytes), (rid, rkind, doc)) in docs.iter().zip(&restored.documents) {
        assert_eq!((id, kind), (rid, rkind));
        let original = outpost_core::automerge::Automerge::load(bytes).unwrap();
        assert_eq!(
            doc.get_heads(),
            original.get_heads(),
            "{id}: the whole history"
        );
        assert_eq!(doc.get_changes(&[]).len(), original.get_changes(&[]).len());
    }
    assert_eq!(restored.count(Kind::Incident), 1);
}

#[test]
fn a_damaged_foreign_or_newer_file_is_refused_whole() {
    let mut docs = documents();
    let good = exported(&docs);
    assert!(matches!(read("{}"), Err(BackupError::NotAnExport(_))));
    assert!(matches!(
        read(&good.replace("outpost/workspace-export", "something/else")),
        Err(BackupError::NotAnExport(_))
    ));
    assert_eq!(
        read(&good.replace("\"version\":1", "\"version\":9")).unwrap_err(),
        BackupError::Newer(9)
    );
    // A document cut short, one that says it is another kind, and an id given twice.
    let mut cut = docs.clone();
    let half = cut[0].2.len() / 2;
    cut[0].2.truncate(half);
    assert!(
        matches!(read(&exported(&cut)), Err(BackupError::Damaged { id, .. }) if id == "doc-incident")
    );
    docs[2].1 = Kind::Incident;
    let err = read(&exported(&docs)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Document doc-article in the export is damaged"),
        "{err}"
    );
    docs[2].1 = Kind::Knowledge;
    docs[2].0 = "doc-incident".into();
    assert_eq!(
        read(&exported(&docs)).unwrap_err(),
        BackupError::Twice("doc-incident".into())
    );
}
