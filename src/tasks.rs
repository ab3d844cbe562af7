//! Long work split into short tasks: the one way this app gives the browser its main thread
//! back between slices of work (a search over every incident, saving a pull's backlog), so input
//! and painting are never held up for long.

/// Resolves in a later task (a zero-delay timer), so the browser can handle input and paint first.
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scheduled =
            web_sys::window().is_some_and(|w| w.set_timeout_with_callback(&resolve).is_ok());
        if !scheduled {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
