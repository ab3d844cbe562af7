//! Browser tests for the app itself (wasm-bindgen-test in headless Chromium): it mounts, and a
//! conflict merged in from a second copy is shown and settled through the incident page.
//!
//! Every test starts on a fresh device ([`fresh_device`]): the tests of one binary share one page,
//! so one localStorage and one IndexedDB, and what one test leaves behind would otherwise change
//! what the next one sees.
#![cfg(target_arch = "wasm32")]

use outpost::repo::Repo;
use outpost::settings::Settings;
use outpost::storage::IdbStore;
use outpost_core::incident::DetectionSource;
use outpost_core::{
    Attribution, Command, DevicePrefix, DeviceTime, NewIncident, ReferenceNumber, WorkspaceConfig,
};
use outpost_sync::DocumentId;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Makes this a device the app has never run on: no settings, nothing stored.
///
/// The app always opens its own database ([`outpost::state::DATABASE`]) and its own settings
/// key, so a test cannot give it names of its own; it clears them instead. The database is
/// emptied rather than deleted: an earlier test's app (unmounted, but its tasks still running)
/// may hold a connection to it, and a deletion would wait for that connection to close.
async fn fresh_device() {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .expect("localStorage")
        .clear()
        .unwrap();
    let store = IdbStore::open(outpost::state::DATABASE).await.unwrap();
    let keys = store.keys(&[]).await.unwrap();
    store.write(&[], &keys).await.unwrap();
    assert!(store.keys(&[]).await.unwrap().is_empty());
    store.close();
}

/// Mounts the app into a fresh container and returns it with the handle that unmounts it.
fn mount() -> (
    web_sys::HtmlElement,
    leptos::mount::UnmountHandle<impl leptos::prelude::Mountable>,
) {
    let doc = web_sys::window().unwrap().document().unwrap();
    let container: web_sys::HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&container).unwrap();
    let handle = leptos::mount::mount_to(container.clone(), outpost::App);
    (container, handle)
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Polls until `f` finds something, for up to five seconds.
async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..250 {
        if let Some(found) = f() {
            return found;
        }
        sleep(20).await;
    }
    panic!("timed out waiting for {what}");
}

fn button_named(root: &web_sys::HtmlElement, name: &str) -> Option<web_sys::HtmlElement> {
    let buttons = root.query_selector_all("button").ok()?;
    (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .find(|b| b.text_content().as_deref() == Some(name))
        .map(|b| b.unchecked_into())
}

fn route_to(path: &str) {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .push_state_with_url(&JsValue::NULL, "", Some(path))
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_shell_mounts_names_the_product_and_shows_the_list() {
    fresh_device().await;
    route_to("/");
    let (container, _handle) = mount();
    leptos::task::tick().await;
    let brand = container
        .query_selector(".brand-name")
        .unwrap()
        .expect("the product name");
    assert_eq!(brand.text_content().as_deref(), Some("Outpost"));
    let heading = container
        .query_selector("h1")
        .unwrap()
        .expect("a page heading");
    assert_eq!(heading.text_content().as_deref(), Some("Incidents"));
    // A fresh device: nothing another test stored shows up.
    let empty = wait_for("the empty list", || {
        container.query_selector("p.empty").ok().flatten()
    })
    .await;
    assert!(empty
        .text_content()
        .unwrap_or_default()
        .starts_with("No incidents on this device yet."));
    assert!(container.query_selector(".incident-row").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_conflict_from_a_second_copy_is_shown_and_settled() {
    fresh_device().await;
    Settings {
        user_name: "Tess Tester".into(),
        ..Settings::default()
    }
    .save()
    .unwrap();
    let cfg = WorkspaceConfig::default();
    let at = |m: i64| DeviceTime::from_millis(js_sys::Date::now() as i64 + m * 1000);
    let id = DocumentId::from_random([42; 16]);
    {
        // Two copies of one incident, each assigned to someone else while apart, merged.
        let repo = Repo::open(outpost::state::DATABASE).await;
        let new = NewIncident {
            title: "Core switch flapping".into(),
            detection_source: DetectionSource::Monitoring,
            ..NewIncident::default()
        };
        let reference = ReferenceNumber::new(DevicePrefix::new("C0DE").unwrap(), 7);
        repo.create(id, &reference, &new, &Attribution::new("ana", at(0)), &cfg)
            .await
            .unwrap();
        let mut second = repo.with_doc(&id, |d| d.fork()).unwrap();
        second
            .execute(
                &Command::SetAssignee("ben".into()),
                &Attribution::new("ben", at(1)),
                &cfg,
            )
            .unwrap();
        repo.execute(
            &id,
            &[Command::SetAssignee("ana".into())],
            &Attribution::new("ana", at(1)),
            &cfg,
        )
        .await
        .unwrap();
        repo.with_doc_mut(&id, |d| d.merge(&mut second))
            .unwrap()
            .unwrap();
        repo.save(&id, &cfg, at(2)).await.unwrap();
        repo.close();
    }

    route_to(&format!("/incidents/{id}"));
    let (container, _handle) = mount();
    let heading = wait_for("the conflict panel", || {
        container.query_selector("#conflicts-title").ok().flatten()
    })
    .await;
    assert_eq!(
        heading.text_content().as_deref(),
        Some("1 conflict to settle")
    );
    let keep_ben = wait_for("a button to keep ben", || {
        button_named(&container, "Keep “ben”")
    })
    .await;
    assert!(
        button_named(&container, "Keep “ana”").is_some(),
        "both values are offered"
    );
    keep_ben.click();
    wait_for("the conflict to be settled", || {
        container
            .query_selector("#conflicts-title")
            .ok()
            .flatten()
            .is_none()
            .then_some(())
    })
    .await;

    // Settled for good: a fresh read of storage has one value and records who chose it.
    let repo = Repo::open(outpost::state::DATABASE).await;
    repo.open_doc(&id).await.unwrap();
    let (conflicts, assignee, history) = repo
        .with_doc(&id, |d| {
            (d.conflicts(), d.read().unwrap().assignee, d.history())
        })
        .unwrap();
    assert!(conflicts.is_empty());
    assert_eq!(assignee, "ben");
    assert_eq!(history.last().unwrap().by, "Tess Tester");
}

#[wasm_bindgen_test]
fn an_internal_error_page_offers_a_reload_that_needs_no_module() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let container = doc.create_element("div").unwrap();
    outpost::crash::render(
        &doc,
        &container,
        "panicked at src/pages/list.rs:1:1",
        "/incidents/abc",
        "?state=all&q=two%20words",
    )
    .unwrap();
    let text = container.text_content().unwrap();
    assert!(text.contains("Outpost hit an internal error"), "{text}");
    assert!(text.contains("Your saved work is safe"), "{text}");
    assert!(text.contains("panicked at src/pages/list.rs:1:1"), "{text}");
    // The Reload button submits a GET form for the same address, query included: it works
    // with the module stopped.
    let form = container.query_selector("form").unwrap().expect("a form");
    assert_eq!(form.get_attribute("method").as_deref(), Some("get"));
    assert_eq!(
        form.get_attribute("action").as_deref(),
        Some("/incidents/abc")
    );
    let button = form.query_selector("button").unwrap().expect("a button");
    assert_eq!(button.text_content().as_deref(), Some("Reload"));
    assert_eq!(button.get_attribute("type").as_deref(), Some("submit"));
    let hidden: Vec<(String, String)> = (0..2)
        .map(|i| {
            let input = form
                .query_selector(&format!("input:nth-of-type({})", i + 1))
                .unwrap()
                .expect("a hidden input");
            (
                input.get_attribute("name").unwrap(),
                input.get_attribute("value").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hidden,
        [
            ("state".to_string(), "all".to_string()),
            ("q".to_string(), "two words".to_string())
        ]
    );
}
