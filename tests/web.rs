//! Browser tests for the app shell (wasm-bindgen-test in headless Chromium).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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

#[wasm_bindgen_test]
async fn the_shell_mounts_and_names_the_product() {
    let (container, _handle) = mount();
    leptos::task::tick().await;
    let heading = container.query_selector("h1").unwrap().expect("a heading");
    assert_eq!(heading.text_content().as_deref(), Some("Outpost"));
}
