//! Backups of the real relay binary: taken while it serves and a device writes, refused to
//! restore under a running relay, restored once it stops, and after the restore the device that
//! is ahead of the backup pushes what the relay lost, so nothing is lost overall.

mod support;

use std::time::Duration;

use outpost_peer::{Peer, TokenIn};
use support::{create, doc, note, notes, Relay};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "current_thread")]
async fn a_restored_relay_gets_back_what_it_lost_from_the_devices_ahead_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(dir.path(), &[]);
    let token = relay.token("acme", "ana");
    let mut ana = Peer::new("ana");
    ana.connect(&relay.ws(), TokenIn::Subprotocol(token.clone()))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    let (kept, later) = (doc(1), doc(2));
    create(&mut ana, kept, "Core switch failover").await;
    for n in 0..10 {
        note(&mut ana, kept, &format!("before {n}")).await;
    }
    ana.acknowledged(kept, WAIT).await.unwrap();

    // Online: the relay keeps serving while the backup is taken.
    let file = dir.path().join("relay.backup");
    let said = relay.printed(&["backup", "--to", file.to_str().unwrap()]);
    assert!(
        said.starts_with("Backed up 1 document (relay.sqlite3"),
        "{said}"
    );

    // After the backup: more notes on the first incident, and a second incident.
    for n in 0..5 {
        note(&mut ana, kept, &format!("after {n}")).await;
    }
    create(&mut ana, later, "Printer queue stuck").await;
    note(&mut ana, later, "cleared the spooler").await;
    ana.acknowledged(kept, WAIT).await.unwrap();
    ana.acknowledged(later, WAIT).await.unwrap();

    // Not under a running relay.
    let refused = relay.cli(&["restore", "--from", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("stop it first"), "{why}");

    // Stopped, restored, started again: the relay holds the backup's state only.
    assert!(relay.terminate().success());
    ana.vanish();
    let said = relay.printed(&["restore", "--from", file.to_str().unwrap()]);
    assert!(said.starts_with("Restored 1 document from"), "{said}");
    let relay = relay.restart();
    let mut ben = Peer::new("ben");
    ben.connect(
        &relay.ws(),
        TokenIn::Subprotocol(relay.token("acme", "ben")),
    )
    .await
    .unwrap();
    ben.caught_up(WAIT).await.unwrap();
    assert_eq!(notes(&ben, &kept).len(), 10, "the backup's notes");
    assert!(
        notes(&ben, &later).is_empty(),
        "the later incident is not in the backup"
    );

    // Ana, ahead of the backup, reconnects: everything comes back, nothing lost.
    ana.connect(&relay.ws(), TokenIn::Subprotocol(token))
        .await
        .unwrap();
    ana.caught_up(WAIT).await.unwrap();
    ben.pump_until("what the relay lost", WAIT, |p| {
        notes(p, &kept).len() == 15 && notes(p, &later) == ["cleared the spooler"]
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_file_that_is_not_a_backup_restores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(dir.path(), &[]);
    let _ = relay.token("acme", "ana");
    assert!(relay.terminate().success());
    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"certainly not a tar file").unwrap();
    let out = relay.cli(&["restore", "--from", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains("is not an Outpost relay backup"), "{why}");
    // The relay's own database is where it was, untouched.
    assert!(relay.data.join("relay.sqlite3").exists());
    let missing = relay.cli(&[
        "backup",
        "--to",
        dir.path().join("none/x").to_str().unwrap(),
    ]);
    assert!(
        !missing.status.success(),
        "a backup into a folder that does not exist fails"
    );
}
