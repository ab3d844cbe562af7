//! First run: ask who is using this device, because every change is attributed to a name.

use leptos::prelude::*;

use crate::state::use_app;

/// Shown until the person has given their name.
#[component]
pub fn Welcome() -> impl IntoView {
    let state = use_app();
    let name = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut settings = state.settings.get_untracked();
        settings.user_name = name.get_untracked().trim().to_string();
        settings.team = team.get_untracked().trim().to_string();
        if settings.user_name.is_empty() {
            error.set(Some(
                "Your name is required: it is recorded on every change you make.".into(),
            ));
            return;
        }
        match settings.save() {
            Ok(()) => state.settings.set(settings),
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <Show when=move || state.settings.with(|s| s.user_name.trim().is_empty())>
            <form class="panel welcome" aria-labelledby="welcome-title" on:submit=save>
                <h2 id="welcome-title">"Welcome to Outpost"</h2>
                <p>"Tell Outpost who you are. Your name is recorded on every change you make, on this device, even offline."</p>
                <div class="field">
                    <label for="welcome-name">"Your name"</label>
                    <input id="welcome-name" type="text" autocomplete="name" bind:value=name
                        aria-describedby="welcome-name-error" aria-invalid=move || error.with(Option::is_some).to_string()/>
                    {move || error.get().map(|e| view! { <p class="field-error" id="welcome-name-error">{e}</p> })}
                </div>
                <div class="field">
                    <label for="welcome-team">"Team"</label>
                    <input id="welcome-team" type="text" bind:value=team/>
                </div>
                <Show when=move || state.settings.with(|s| s.token.trim().is_empty())>
                    <p class="hint">"To sync with your team, open the invitation link your administrator sent you on this device."</p>
                </Show>
                <button type="submit">"Save"</button>
            </form>
        </Show>
    }
}
