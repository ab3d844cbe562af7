//! The "new version" banner: shown while a new version of the app waits (see [`crate::pwa`]),
//! it reloads into that version only when the person asks, never on its own while they type.

use leptos::prelude::*;

use crate::pwa::use_pwa;

/// Offers a waiting new version. The live region is always in the page, so screen readers
/// announce the message when it appears.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let pwa = use_pwa();
    view! {
        <div class="update-banner-region" role="status" aria-live="polite">
            <Show when=move || pwa.update_waiting.get()>
                <div class="update-banner">
                    <p class="update-banner-text">
                        <strong>"A new version is available."</strong>
                        " Updating reloads Outpost; finish what you are typing first. Your saved work stays on this device."
                    </p>
                    <button type="button" disabled=move || pwa.updating.get() on:click=move |_| pwa.apply_update()>
                        {move || if pwa.updating.get() { "Updating…" } else { "Update now" }}
                    </button>
                </div>
            </Show>
        </div>
    }
}
