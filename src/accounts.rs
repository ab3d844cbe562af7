//! The sign-ins on this browser, each kept apart: its own settings (in localStorage) and its own
//! IndexedDB database, so one workspace's or person's incidents never reach another's, and a
//! sign-out leaves nothing readable behind.
//!
//! The sign-in from before invitations (and the development one of `scripts/run.sh`) keeps the
//! original names (`outpost.settings`, database `automerge`). A device that joins by invitation
//! gets a sign-in keyed by its workspace and person. Signing out marks the database for
//! deletion and reloads; the deletion happens at the next start, before any database is open
//! (IndexedDB will not delete a database a page still holds), so a closed tab cannot leave it
//! half done.

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

const REGISTRY: &str = "outpost.accounts";
const LEGACY_SETTINGS: &str = "outpost.settings";
const LEGACY_DATABASE: &str = "automerge";

/// One sign-in this browser knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    /// Its key: empty for the original sign-in, else `workspace/person`, encoded.
    pub key: String,
    /// The person, as the relay names them.
    pub user: String,
    /// The workspace.
    pub workspace: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Registry {
    /// The key of the sign-in in use.
    active: String,
    /// Every sign-in but the original one.
    known: Vec<Account>,
    /// Databases of signed-out sign-ins still to delete.
    to_delete: Vec<String>,
}

fn registry() -> Registry {
    LocalStorage::get(REGISTRY).unwrap_or_default()
}

fn save(registry: &Registry) -> Result<(), String> {
    LocalStorage::set(REGISTRY, registry)
        .map_err(|e| format!("The sign-in could not be saved on this device ({e})."))
}

/// The key of a sign-in of `user` to `workspace`.
pub fn key_of(workspace: &str, user: &str) -> String {
    format!(
        "{}/{}",
        js_sys::encode_uri_component(workspace.trim()),
        js_sys::encode_uri_component(user.trim())
    )
}

/// The localStorage key of a sign-in's settings.
pub fn settings_key(key: &str) -> String {
    if key.is_empty() {
        LEGACY_SETTINGS.to_string()
    } else {
        format!("{LEGACY_SETTINGS}:{key}")
    }
}

/// The IndexedDB database of a sign-in.
pub fn database_of(key: &str) -> String {
    if key.is_empty() {
        LEGACY_DATABASE.to_string()
    } else {
        format!("outpost:{key}")
    }
}

/// The key of the sign-in in use.
pub fn active() -> String {
    registry().active
}

/// The database of the sign-in in use.
pub fn database() -> String {
    database_of(&active())
}

/// The other sign-ins this browser holds (for switching), without the one in use.
pub fn others() -> Vec<Account> {
    let r = registry();
    r.known.into_iter().filter(|a| a.key != r.active).collect()
}

/// Makes `account` known (or refreshes it) and the one in use. The page must reload for it to
/// take effect: the state, the database and the sync connection all belong to one sign-in.
pub fn activate(account: Account) -> Result<(), String> {
    let mut r = registry();
    r.active = account.key.clone();
    if !account.key.is_empty() {
        r.known.retain(|a| a.key != account.key);
        r.known.push(account);
    }
    save(&r)
}

/// Forgets the sign-in in use: its settings now, its database at the next start, and uses the
/// original sign-in's place (empty once it is itself signed out) from then on.
pub fn sign_out() -> Result<(), String> {
    let mut r = registry();
    let key = std::mem::take(&mut r.active);
    LocalStorage::delete(settings_key(&key));
    r.known.retain(|a| a.key != key);
    r.to_delete.push(database_of(&key));
    save(&r)
}

/// Deletes the databases of signed-out sign-ins; called at start, before any is opened.
pub async fn finish_sign_outs() {
    let mut r = registry();
    if r.to_delete.is_empty() {
        return;
    }
    let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) else {
        return;
    };
    let mut left = Vec::new();
    for name in std::mem::take(&mut r.to_delete) {
        let deleted = match factory.delete_database(&name) {
            Ok(request) => wait(&request).await,
            Err(_) => false,
        };
        if !deleted {
            left.push(name);
        }
    }
    r.to_delete = left;
    let _ = save(&r);
}

/// Waits for a delete request to succeed (or fail, or be blocked by another tab).
async fn wait(request: &web_sys::IdbOpenDbRequest) -> bool {
    use wasm_bindgen::JsCast;
    let (tx, rx) = futures::channel::oneshot::channel::<bool>();
    let tx = std::rc::Rc::new(std::cell::RefCell::new(Some(tx)));
    let done = |ok: bool| {
        let tx = tx.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(ok);
            }
        })
    };
    let (on_success, on_error, on_blocked) = (done(true), done(false), done(false));
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    request.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));
    rx.await.unwrap_or(false)
}
