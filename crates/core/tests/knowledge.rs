//! Knowledge articles: written from an incident, edited and published by role, merged across
//! devices, judged at the relay as the app judges them, and suggested on matching incidents.

mod common;

use common::{at, by, cfg, email_outage, logged, ok, sync_pair};
use outpost_core::automerge::transaction::Transactable;
use outpost_core::automerge::{Automerge, ROOT};
use outpost_core::incident::{IncidentLink, ReviewSection};
use outpost_core::knowledge::{
    admit, create, edit, kind_changes, next_number, read, suggest, Article, ArticleDraft,
    ArticleEdit, ArticleError, ArticleState,
};
use outpost_core::{Action, Command, ResolutionCode, Role, StandardResolution};

fn source() -> IncidentLink {
    IncidentLink {
        document_id: "doc-42".into(),
        reference: "INC-7F3A-0042".into(),
    }
}

fn resolved_draft() -> ArticleDraft {
    let mut doc = logged();
    ok(&mut doc, "bob", 5, Command::Transition(Action::StartWork));
    ok(
        &mut doc,
        "bob",
        40,
        Command::Transition(Action::Resolve {
            code: Some(ResolutionCode::standard(
                StandardResolution::SolutionProvided,
            )),
            notes: "Rolled back the security patch on the mail server.".into(),
        }),
    );
    ok(
        &mut doc,
        "carol",
        60,
        Command::UpdateReview {
            section: ReviewSection::RootCause,
            text: "An untested patch broke authentication.".into(),
        },
    );
    ArticleDraft::from_incident(&doc.view(&cfg(), at(61)).unwrap())
}

fn written() -> Automerge {
    create(
        "KB-7F3A-0001",
        &resolved_draft(),
        Some(&source()),
        &by("bob", 70),
        Role::Agent,
    )
    .unwrap()
}

#[test]
fn an_article_written_from_a_resolved_incident_carries_what_was_learned() {
    let a = read(&written()).unwrap();
    assert_eq!(a.number, "KB-7F3A-0001");
    assert_eq!(a.state, ArticleState::Draft);
    assert_eq!(a.content.title, email_outage().title);
    assert_eq!(a.content.symptoms, email_outage().description);
    assert_eq!(a.content.cause, "An untested patch broke authentication.");
    assert_eq!(
        a.content.resolution,
        "Rolled back the security patch on the mail server."
    );
    assert_eq!(a.content.category, "Software");
    assert_eq!(a.content.service, "Corporate email");
    assert_eq!(a.sources, [source()]);
    assert_eq!(a.author, "bob");
    assert_eq!(a.history.len(), 1);
    assert_eq!(a.history[0].what, "Wrote KB-7F3A-0001");
}

#[test]
fn agents_write_drafts_and_managers_publish() {
    let mut doc = written();
    let mut content = read(&doc).unwrap().content;
    content.resolution = "Roll back the patch; then re-apply it after testing.".into();
    assert!(edit(
        &mut doc,
        &ArticleEdit::Content(content.clone()),
        &by("dana", 80),
        Role::Agent
    )
    .unwrap());
    let refused = edit(
        &mut doc,
        &ArticleEdit::Move(ArticleState::Published),
        &by("dana", 81),
        Role::Agent,
    )
    .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Publishing a knowledge article needs the manager role."
    );
    assert!(edit(
        &mut doc,
        &ArticleEdit::Move(ArticleState::Published),
        &by("mia", 82),
        Role::Manager
    )
    .unwrap());
    content.title = "Changed after publishing".into();
    assert!(matches!(
        edit(
            &mut doc,
            &ArticleEdit::Content(content),
            &by("dana", 83),
            Role::Agent
        ),
        Err(ArticleError::Role {
            needed: Role::Manager,
            ..
        })
    ));
    let a = read(&doc).unwrap();
    assert_eq!(a.state, ArticleState::Published);
    let history: Vec<(&str, &str)> = a
        .history
        .iter()
        .map(|c| (c.by.as_str(), c.what.as_str()))
        .collect();
    assert_eq!(
        history,
        [
            ("bob", "Wrote KB-7F3A-0001"),
            ("dana", "Edited resolution"),
            ("mia", "Published")
        ]
    );
    // Viewers write nothing; an empty title is refused with the field's own words.
    assert!(create(
        "KB-X-0001",
        &resolved_draft(),
        None,
        &by("v", 1),
        Role::Viewer
    )
    .is_err());
    let empty = create(
        "KB-X-0002",
        &ArticleDraft::default(),
        None,
        &by("bob", 1),
        Role::Agent,
    )
    .unwrap_err();
    assert_eq!(empty.to_string(), "Title is required.");
}

#[test]
fn two_devices_editing_different_fields_offline_both_keep_their_edit() {
    let mut ana = written();
    let mut ben = ana.fork();
    let mut content = read(&ana).unwrap().content;
    content.cause = "A patch skipped the staging ring.".into();
    edit(
        &mut ana,
        &ArticleEdit::Content(content),
        &by("ana", 90),
        Role::Agent,
    )
    .unwrap();
    let mut theirs = read(&ben).unwrap().content;
    theirs.service = "Email (Exchange)".into();
    edit(
        &mut ben,
        &ArticleEdit::Content(theirs),
        &by("ben", 91),
        Role::Agent,
    )
    .unwrap();
    sync_pair(&mut ana, &mut ben);
    let (a, b) = (read(&ana).unwrap(), read(&ben).unwrap());
    assert_eq!(a.content, b.content);
    assert_eq!(a.content.cause, "A patch skipped the staging ring.");
    assert_eq!(a.content.service, "Email (Exchange)");
    assert_eq!(a.history.len(), 3);
}

#[test]
fn the_relay_refuses_what_the_role_may_not_do_whoever_sends_it() {
    let mut doc = written();
    let before = doc.get_heads();
    assert_eq!(
        admit(Role::Agent, &doc, &[], &before),
        Ok(()),
        "a draft by an agent"
    );
    assert!(admit(Role::Viewer, &doc, &[], &before).is_err());

    // A hand-made change (as a plain automerge-repo peer could send) that publishes.
    let mut tx = doc.transaction();
    tx.put(ROOT, "state", "published").unwrap();
    tx.commit();
    let after = doc.get_heads();
    assert_eq!(
        admit(Role::Agent, &doc, &before, &after),
        Err("Publishing a knowledge article needs the manager role.".into())
    );
    assert_eq!(admit(Role::Manager, &doc, &before, &after), Ok(()));

    // Renumbering, an unknown state, or an emptied title are refused to everyone.
    for (key, value) in [
        ("number", "KB-0000-9999"),
        ("state", "deleted"),
        ("title", ""),
    ] {
        let mut bad = doc.fork();
        let mut tx = bad.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
        assert!(
            admit(Role::Admin, &bad, &after, &bad.get_heads()).is_err(),
            "{key} = {value:?}"
        );
    }

    // An article relabelled as an incident changes kind.
    let mut relabelled = doc.fork();
    let mut tx = relabelled.transaction();
    tx.put(ROOT, "type", "outpost/incident").unwrap();
    tx.commit();
    assert!(kind_changes(&relabelled, &after, &relabelled.get_heads()));
    // Its marker removed: no longer an article, so the article's rules refuse it.
    let mut unmarked = doc.fork();
    let mut tx = unmarked.transaction();
    tx.delete(ROOT, "type").unwrap();
    tx.commit();
    assert!(!kind_changes(&unmarked, &after, &unmarked.get_heads()));
    assert!(admit(Role::Admin, &unmarked, &after, &unmarked.get_heads()).is_err());
    assert!(!kind_changes(&doc, &before, &after));
    assert!(!kind_changes(&doc, &[], &after));
}

fn published(number: &str, title: &str, category: &str, service: &str) -> Article {
    let mut doc = create(
        number,
        &ArticleDraft {
            title: title.into(),
            category: category.into(),
            service: service.into(),
            ..ArticleDraft::default()
        },
        None,
        &by("mia", 1),
        Role::Manager,
    )
    .unwrap();
    edit(
        &mut doc,
        &ArticleEdit::Move(ArticleState::Published),
        &by("mia", 2),
        Role::Manager,
    )
    .unwrap();
    read(&doc).unwrap()
}

#[test]
fn suggestions_are_published_articles_that_share_words_or_the_service() {
    let mail = published(
        "KB-A-0001",
        "Users cannot log in to email after a patch",
        "Software",
        "Corporate email",
    );
    let vpn = published(
        "KB-A-0002",
        "VPN drops every few minutes",
        "Network",
        "Remote access",
    );
    let printer = published(
        "KB-A-0003",
        "Printer jams on tray 2",
        "Hardware",
        "Printing",
    );
    let mut draft = read(&written()).unwrap();
    draft.content.title = "Cannot log in to email".into();
    let all = [mail.clone(), vpn.clone(), printer, draft];
    let found: Vec<&str> = suggest(&all, "Email login fails for sales", "Software", "", 5)
        .iter()
        .map(|a| a.number.as_str())
        .collect();
    assert_eq!(found, ["KB-A-0001"], "the draft is not suggested");
    let by_service: Vec<&str> = suggest(&all, "Slow", "", "remote ACCESS", 5)
        .iter()
        .map(|a| a.number.as_str())
        .collect();
    assert_eq!(by_service, ["KB-A-0002"]);
    assert!(
        suggest(&all, "Keyboard missing keys", "Software", "", 5).is_empty(),
        "a category alone is too weak"
    );
}

#[test]
fn numbers_count_up_per_device_prefix() {
    assert_eq!(next_number("7F3A", []), "KB-7F3A-0001");
    assert_eq!(
        next_number(
            "7F3A",
            ["KB-7F3A-0009", "KB-0B0B-0050", "KB-7F3A-0002", "junk"]
        ),
        "KB-7F3A-0010"
    );
}
