//! Settings → Integrations (admins): the monitoring tools and mailbox that post into the
//! workspace. An admin makes a key for Alertmanager, Grafana, an Events API sender or an
//! inbound-mail webhook, sees it once with where the sender posts it, and revokes it. The relay
//! keeps only the keys' hashes and decides who may do this; this page renders its answers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use outpost_core::Role;
use serde_json::Value;

use crate::relay_api;
use crate::state::use_app;

/// One integration as the relay lists it.
#[derive(Clone, Debug, PartialEq)]
struct Listed {
    id: String,
    author: String,
    endpoint: String,
}

impl Listed {
    fn from(v: &Value) -> Listed {
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Listed {
            id: text("id"),
            author: text("author"),
            endpoint: text("endpoint"),
        }
    }
}

const KINDS: [(&str, &str); 4] = [
    ("alertmanager", "Prometheus Alertmanager"),
    ("grafana", "Grafana alerting"),
    ("events", "Events API (PagerDuty-compatible)"),
    ("mail", "Inbound mail webhook"),
];

#[component]
pub fn Integrations() -> impl IntoView {
    let state = use_app();
    let shown = move || {
        state
            .settings
            .with(|s| !s.token.trim().is_empty() && s.token_checked)
            && state.role() == Some(Role::Admin)
    };
    let listed = RwSignal::new(None::<Result<Vec<Listed>, String>>);
    let kind = RwSignal::new("alertmanager".to_string());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let made = RwSignal::new(None::<(String, String, String)>);
    let feedback = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            let all = relay_api::integrations(&settings)
                .await
                .map(|list| list.iter().map(Listed::from).collect());
            listed.set(Some(all));
        });
    };
    Effect::new(move |_| {
        if shown() {
            load();
        }
    });
    let create = move |_| {
        let wanted = name.get_untracked().trim().to_string();
        if wanted.is_empty() {
            error.set(Some("Name the integration (for example prod-eu).".into()));
            return;
        }
        error.set(None);
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            match relay_api::create_integration(&settings, &kind.get_untracked(), &wanted).await {
                Ok(answer) => {
                    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
                    made.set(Some((text("author"), text("key"), text("endpoint"))));
                    name.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(format!("The key could not be made: {e}."))),
            }
        });
    };
    let revoke = move |item: Listed| {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            match relay_api::revoke_integration(&settings, &item.id).await {
                Ok(()) => {
                    feedback.set(Some(format!("{}'s key no longer works.", item.author)));
                    load();
                }
                Err(e) => feedback.set(Some(format!("{} could not be revoked: {e}.", item.author))),
            }
        });
    };
    view! {
        <Show when=shown>
            <fieldset id="integrations">
                <legend>"Integrations"</legend>
                <p class="hint">"Monitoring tools and a mailbox that open and update incidents. Each posts with a key of its own."</p>
                <div class="field">
                    <label for="integration-kind">"Sender"</label>
                    <select id="integration-kind" bind:value=kind>
                        {KINDS.iter().map(|(k, label)| view! { <option value=*k>{*label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="integration-name">"Integration name"</label>
                    <input id="integration-name" type="text" bind:value=name aria-describedby="integration-error"
                        aria-invalid=move || error.with(Option::is_some).to_string()/>
                </div>
                <p class="field-error" id="integration-error">{move || error.get()}</p>
                <button type="button" on:click=create>"Create key"</button>
                {move || made.get().map(|(author, key, endpoint)| view! {
                    <div class="panel" role="region" aria-label="New integration key">
                        <p>{format!("{author}: {endpoint}. The key is shown only now; store it in the sender's configuration.")}</p>
                        <div class="field">
                            <label for="integration-key">"Integration key"</label>
                            <input id="integration-key" type="text" readonly prop:value=key/>
                        </div>
                    </div>
                })}
                <h3 id="integrations-title">"Keys in use"</h3>
                {move || match listed.get() {
                    None => view! { <p role="status">"Loading the integrations…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="feedback feedback-error" role="alert">{format!("The integrations could not be listed: {e}.")}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! { <p>"No integration posts into this workspace yet."</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="devices" aria-labelledby="integrations-title">
                            {list.into_iter().map(|item| {
                                let label = format!("Revoke {}", item.author);
                                let text = format!("{} ({})", item.author, item.endpoint);
                                view! {
                                    <li class="device">
                                        <span>{text}</span>
                                        <button type="button" class="secondary" aria-label=label on:click=move |_| revoke(item.clone())>"Revoke"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
                {move || feedback.get().map(|f| view! { <p class="feedback feedback-ok" role="status">{f}</p> })}
            </fieldset>
        </Show>
    }
}
