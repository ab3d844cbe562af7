//! # Outpost: the browser app
//!
//! A Leptos single-page app over the incident domain in `outpost-core`. Components render state
//! and send commands; the rules live in the core.

pub mod repo;
pub mod storage;

use leptos::prelude::*;

/// The application shell.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="app-header">
            <h1 class="app-name">"Outpost"</h1>
            <p class="tagline">"Incidents, with or without a network."</p>
        </header>
        <main id="main" class="app-main"></main>
    }
}
