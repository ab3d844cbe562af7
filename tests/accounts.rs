//! Browser tests for the sign-ins on one browser (wasm-bindgen-test in headless Chromium): each
//! has its own settings and its own IndexedDB database, and signing out deletes that database at
//! the next start while the other sign-ins keep theirs.
#![cfg(target_arch = "wasm32")]

use outpost::accounts::{self, Account};
use outpost::settings::Settings;
use outpost::storage::{IdbStore, Record};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn account(workspace: &str, user: &str) -> Account {
    Account {
        key: accounts::key_of(workspace, user),
        user: user.into(),
        workspace: workspace.into(),
    }
}

async fn put(database: &str, key: &str) {
    let store = IdbStore::open(database).await.unwrap();
    let record = Record {
        key: vec![key.to_string()],
        bytes: vec![1, 2, 3],
    };
    store.write(&[record], &[]).await.unwrap();
    store.close();
}

async fn stored(database: &str) -> Vec<Vec<String>> {
    let store = IdbStore::open(database).await.unwrap();
    let keys = store.keys(&[]).await.unwrap();
    store.close();
    keys
}

#[wasm_bindgen_test]
async fn each_sign_in_keeps_its_own_settings_and_database_and_a_sign_out_deletes_its_own() {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .clear()
        .unwrap();
    assert_eq!(
        accounts::database(),
        "automerge",
        "the sign-in from before keeps its database"
    );

    let (north, south) = (
        account("north", "Nia North"),
        account("south", "Sam / South"),
    );
    for (who, incident) in [(&north, "north-incident"), (&south, "south-incident")] {
        accounts::activate(who.clone()).unwrap();
        let settings = Settings {
            user_name: who.user.clone(),
            workspace: who.workspace.clone(),
            ..Settings::default()
        };
        settings.save().unwrap();
        put(&accounts::database(), incident).await;
    }
    // A name with a slash cannot reach another sign-in's database.
    assert_ne!(
        accounts::database_of(&south.key),
        accounts::database_of(&north.key)
    );
    assert_eq!(Settings::load().user_name, "Sam / South");
    assert_eq!(accounts::others(), vec![north.clone()]);

    accounts::activate(north.clone()).unwrap();
    assert_eq!(Settings::load().workspace, "north");
    assert_eq!(
        stored(&accounts::database()).await,
        vec![vec!["north-incident".to_string()]]
    );

    // Sam signs out (from his sign-in): his settings go now, his database at the next start.
    accounts::activate(south.clone()).unwrap();
    accounts::sign_out().unwrap();
    assert_eq!(accounts::active(), "");
    assert!(Settings::load_of(&south.key).is_none());
    accounts::finish_sign_outs().await;
    assert!(
        stored(&accounts::database_of(&south.key)).await.is_empty(),
        "south's incidents are gone"
    );
    assert_eq!(
        stored(&accounts::database_of(&north.key)).await,
        vec![vec!["north-incident".to_string()]],
        "north's are kept"
    );
    assert_eq!(accounts::others(), vec![north]);
}
