//! A change of this device that the relay refused: what and why, the refused text to copy, and
//! discarding it, which brings the device back in step. This only happens to an honest app when
//! the person's role changed while the device was offline.

use leptos::prelude::*;
use outpost_core::IncidentView;
use outpost_sync::DocumentId;
use wasm_bindgen::JsCast;

use crate::state::use_app;
use crate::tasks::PageScope;

#[component]
pub fn Refusal(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let refusal = Memo::new(move |_| state.refusals.with(|r| r.get(&id.get()).cloned()));
    let status = RwSignal::new(None::<String>);
    let doc = move || id.get_untracked().parse::<DocumentId>().ok();
    let text = Memo::new(move |_| {
        refusal.track();
        match (state.sync(), id.get().parse::<DocumentId>()) {
            (Some(sync), Ok(doc)) => sync.refused_text(&doc).join("\n"),
            _ => String::new(),
        }
    });
    let copy = move |_| {
        let copied = copy_to_clipboard(&text.get_untracked());
        status.set(Some(
            if copied {
                "The refused text is on the clipboard."
            } else {
                "This browser did not allow copying; select the text above and copy it."
            }
            .to_string(),
        ));
    };
    let discard = move |_| {
        let (Some(sync), Some(doc)) = (state.sync(), doc()) else {
            return;
        };
        status.set(Some("Discarding…".to_string()));
        // A save: it always completes; only the message depends on the page still being here.
        scope.finish(
            async move { sync.discard_refused(doc).await },
            move |result| {
                status.set(Some(match result {
                    Ok(()) => {
                        "The refused changes were discarded; this incident syncs again.".to_string()
                    }
                    Err(e) => format!("The refused changes could not be discarded: {e}"),
                }))
            },
        );
    };
    view! {
        {move || refusal.get().map(|r| {
            let reference = view.with_untracked(|v| v.incident.reference.to_string());
            view! {
                <section class="notice notice-error refusal" role="alert" aria-labelledby="refusal-title">
                    <h2 id="refusal-title">"A change was refused"</h2>
                    <p>{format!("Your change to {reference} was refused: {}.", lowercase_first(&r.reason))}</p>
                    <p>"It stays on this device, unsynced, until you discard it. Copy what you wrote first if you still need it."</p>
                    <label for="refused-text">"Refused text"</label>
                    <textarea id="refused-text" rows="3" readonly prop:value=move || text.get()></textarea>
                    <div class="button-row">
                        <button type="button" class="secondary" on:click=copy>"Copy refused text"</button>
                        <button type="button" on:click=discard>"Discard refused changes"</button>
                    </div>
                </section>
            }
        })}
        {move || status.get().map(|m| view! { <p class="feedback" role="status">{m}</p> })}
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Writes `text` to the clipboard where the browser allows it (the asynchronous Clipboard API,
/// reached without a web-sys feature for one call).
fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &"clipboard".into()) else {
        return false;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) else {
        return false;
    };
    let Some(write) = write.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    write.call1(&clipboard, &text.into()).is_ok()
}
