//! Sets the document title: "<page> · Outpost".

use leptos::prelude::*;

/// Sets the browser tab's title while the page is shown.
#[component]
pub fn Title(#[prop(into)] text: Signal<String>) -> impl IntoView {
    Effect::new(move |_| document().set_title(&format!("{} · Outpost", text.get())));
}
