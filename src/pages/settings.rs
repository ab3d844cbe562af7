//! Settings for this device: who is using it, their team and workspace, the reference prefix,
//! and the theme; and, to read, the app version and whether offline work is safe in storage.

use leptos::prelude::*;
use leptos_router::components::A;
use outpost_core::incident::FieldError;

use crate::components::field_error::{message_for, FieldMessage};
use crate::components::title::Title;
use crate::pwa::use_pwa;
use leptos::task::spawn_local;

use crate::settings::{Settings, Theme};
use crate::state::use_app;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let state = use_app();
    let pwa = use_pwa();
    pwa.refresh_storage();
    let current = state.settings.get_untracked();
    let name = RwSignal::new(current.user_name.clone());
    let team = RwSignal::new(current.team.clone());
    let prefix = RwSignal::new(current.device_prefix.clone());
    // The relay may give this device another prefix (another device had this one): show it.
    let confirmed = Memo::new(move |_| {
        state
            .settings
            .with(|s| s.prefix_confirmed.then(|| s.device_prefix.clone()))
    });
    Effect::new(move |_| {
        if let Some(given) = confirmed.get() {
            prefix.set(given);
        }
    });
    let theme = RwSignal::new(current.theme.key().to_string());
    let relay = RwSignal::new(current.relay_url.clone());
    let token = RwSignal::new(if current.development_token {
        String::new()
    } else {
        current.token.clone()
    });
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let saved = RwSignal::new(None::<String>);
    let invalid = move |f: &'static str| {
        move || {
            if errors.with(|e| message_for(e, f).is_some()) {
                "true"
            } else {
                "false"
            }
        }
    };

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut settings = state.settings.get_untracked();
        settings.user_name = name.get_untracked().trim().to_string();
        settings.team = team.get_untracked().trim().to_string();
        let new_prefix = prefix.get_untracked().trim().to_ascii_uppercase();
        if new_prefix != settings.device_prefix {
            settings.device_prefix = new_prefix;
            settings.last_sequence = 0; // a new prefix starts its own numbering (used numbers are still skipped)
            settings.prefix_confirmed = false; // the relay checks no other device has it
        }
        settings.theme = Theme::from_key(&theme.get_untracked());
        let (new_relay, new_token) = (
            relay.get_untracked().trim().to_string(),
            token.get_untracked().trim().to_string(),
        );
        let sync_changed = new_relay != settings.relay_url
            || (!new_token.is_empty() && new_token != settings.token);
        settings.relay_url = new_relay;
        if !new_token.is_empty() && new_token != settings.token {
            settings.token = new_token;
            settings.development_token = false;
            // The relay says what the new token may do when the device next connects.
            settings.role.clear();
        }
        if sync_changed {
            // Whose the token is gets checked again before anything syncs.
            settings.token_checked = false;
        }
        let problems = settings.problems();
        if !problems.is_empty() {
            errors.set(problems);
            saved.set(None);
            return;
        }
        errors.set(Vec::new());
        match settings.save() {
            Ok(()) => {
                prefix.set(settings.device_prefix.clone());
                state.settings.set(settings);
                saved.set(Some("Settings saved.".into()));
                if sync_changed {
                    if let Some(sync) = state.sync() {
                        sync.reconnect_now();
                    }
                }
            }
            Err(e) => saved.set(Some(e)),
        }
    };

    view! {
        <Title text="Settings"/>
        <h1>"Settings"</h1>
        <p><A href="/settings/workspace">"Workspace: priorities, SLA targets, groups and people"</A></p>
        <form class="settings-form" on:submit=save novalidate>
            <fieldset>
                <legend>"You"</legend>
                <div class="field">
                    <label for="s-name">"Your name"</label>
                    <input id="s-name" type="text" autocomplete="name" bind:value=name aria-invalid=invalid("user_name") aria-describedby="user_name-error"/>
                    <FieldMessage errors field="user_name" id="user_name"/>
                </div>
                <div class="field">
                    <label for="s-team">"Team"</label>
                    <input id="s-team" type="text" bind:value=team/>
                </div>
            </fieldset>
            <SignIn/>
            <fieldset>
                <legend>"This device"</legend>
                <div class="field">
                    <label for="s-prefix">"Device prefix"</label>
                    <input id="s-prefix" type="text" maxlength="6" autocapitalize="characters" bind:value=prefix
                        aria-invalid=invalid("device_prefix") aria-describedby="prefix-hint device_prefix-error"/>
                    <p class="hint" id="prefix-hint">
                        {move || format!(
                            "Reference numbers from this device start with it, so they never clash with other devices' (next: INC-{}-{:04}). {}",
                            prefix.get().trim().to_ascii_uppercase(),
                            state.settings.with(|s| s.last_sequence) + 1,
                            if state.settings.with(|s| s.prefix_confirmed) {
                                "The relay confirmed no other device of the workspace has it."
                            } else {
                                "The relay checks that no other device has it when this device next connects."
                            },
                        )}
                    </p>
                    <FieldMessage errors field="device_prefix" id="device_prefix"/>
                </div>
                <div class="field">
                    <label for="s-theme">"Theme"</label>
                    <select id="s-theme" bind:value=theme>
                        {Theme::ALL.iter().map(|t| view! { <option value=t.key()>{t.label()}</option> }).collect_view()}
                    </select>
                </div>
            </fieldset>
            <fieldset id="offline">
                <legend>"Offline use"</legend>
                <dl class="facts-list">
                    <dt>"App version"</dt>
                    <dd data-testid="app-version">{move || pwa.worker.get().label()}</dd>
                    <dt>"Storage"</dt>
                    <dd>{move || pwa.storage.get().map_or("Checking…", |s| s.persistence_text())}</dd>
                    <dt>"Space"</dt>
                    <dd>{move || pwa.storage.get().map_or_else(|| "Checking…".to_string(), |s| s.usage_text())}</dd>
                </dl>
            </fieldset>
            <fieldset id="sync">
                <legend>"Sync"</legend>
                <p class="sync-detail" role="status">
                    {move || {
                        let status = state.sync_status.get();
                        let (label, detail) = (status.label(), status.detail());
                        if detail == label { label } else { format!("{label} — {detail}") }
                    }}
                </p>
                <p>
                    {move || match state.pending_total() {
                        0 => "Every change on this device is on the relay.".to_string(),
                        n => format!("{n} change{} on this device {} not reached the relay yet.", if n == 1 { "" } else { "s" }, if n == 1 { "has" } else { "have" }),
                    }}
                </p>
                <div class="field">
                    <label for="s-relay">"Relay address"</label>
                    <input id="s-relay" type="url" placeholder="This site" bind:value=relay aria-describedby="relay-hint relay_url-error"
                        aria-invalid=invalid("relay_url")/>
                    <p class="hint" id="relay-hint">"Leave empty to sync with the site Outpost was loaded from."</p>
                    <FieldMessage errors field="relay_url" id="relay_url"/>
                </div>
                <div class="field">
                    <label for="s-token">"Access token"</label>
                    <input id="s-token" type="password" autocomplete="off" bind:value=token aria-describedby="token-hint"/>
                    <p class="hint" id="token-hint">
                        {move || if state.settings.with(|s| s.development_token) {
                            "Using a development token from a relay on this machine. Paste a real token to replace it."
                        } else {
                            "From your administrator (outpost-relay token create). Leave empty to keep the current one."
                        }}
                    </p>
                </div>
                <p id="s-role">
                    {move || match state.role() {
                        Some(role) => {
                            let groups = state.settings.with(|s| s.groups.join(", "));
                            let groups = if groups.is_empty() { "in no group".to_string() } else { format!("in {groups}") };
                            format!("This device signs in as {}, {groups}.", role_phrase(role))
                        }
                        None => "The relay has not yet said what this device may do.".to_string(),
                    }}
                </p>
                <button type="button" class="secondary" on:click=move |_| {
                    if let Some(sync) = state.sync() {
                        sync.reconnect_now();
                    }
                }>"Reconnect now"</button>
            </fieldset>
            <crate::components::reminders::ReminderSettings/>
            <crate::pages::people::People/>
            <crate::pages::integrations::Integrations/>
            <crate::pages::outbox::Outbox/>
            <crate::pages::backup::WorkspaceBackup/>
            <LastError/>
            <button type="submit">"Save settings"</button>
            {move || saved.get().map(|m| view! { <p class="feedback feedback-ok" role="status">{m}</p> })}
        </form>
    }
}

/// Who this device is signed in as, signing out (after saying what would be lost), and the other
/// sign-ins this browser holds.
#[component]
fn SignIn() -> impl IntoView {
    let state = use_app();
    let confirming = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let unsynced = move || {
        let pending = state.pending.get();
        let summaries = state.summaries.get();
        let mut refs: Vec<String> = pending
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(id, _)| {
                summaries.get(id).map_or_else(
                    || "an incident not yet listed".to_string(),
                    |s| format!("{} ({})", s.reference, s.title),
                )
            })
            .collect();
        refs.sort();
        refs
    };
    let sign_out = move |_| {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            // The relay ends the token; if it cannot be reached, the token is still forgotten
            // here, and an admin can revoke it from the device list.
            let ended = if settings.token.trim().is_empty() {
                Ok(())
            } else {
                crate::relay_api::sign_out(&settings).await
            };
            if let Err(e) = &ended {
                web_sys::console::warn_1(
                    &format!("sign-out could not reach the relay: {e}").into(),
                );
            }
            match crate::accounts::sign_out() {
                Ok(()) => {
                    let _ = window().location().replace("/");
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    view! {
        <fieldset id="sign-in">
            <legend>"Sign-in"</legend>
            <p id="s-signed-in">{move || state.settings.with(Settings::sign_in_text)}</p>
            <Show when=move || !confirming.get()>
                <button type="button" class="secondary" on:click=move |_| confirming.set(true)>"Sign out"</button>
            </Show>
            <Show when=move || confirming.get()>
                <div class="panel warning" role="alert" aria-labelledby="sign-out-title">
                    <h2 id="sign-out-title">"Sign out of this device?"</h2>
                    <p>"Signing out ends this device's sign-in and deletes every incident stored on it, so nothing is left for the next person."</p>
                    {move || {
                        let refs = unsynced();
                        if refs.is_empty() {
                            view! { <p>"Every change on this device is on the relay: nothing will be lost."</p> }.into_any()
                        } else {
                            view! {
                                <p><strong>{format!("{} incident{} with changes that have not reached the relay will be lost:", refs.len(), if refs.len() == 1 { "" } else { "s" })}</strong></p>
                                <ul class="unsynced">{refs.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                            }.into_any()
                        }
                    }}
                    <div class="actions">
                        <button type="button" class="danger" on:click=sign_out>"Sign out and delete this device's data"</button>
                        <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Stay signed in"</button>
                    </div>
                </div>
            </Show>
            {move || problem.get().map(|p| view! { <p class="feedback feedback-error" role="alert">{p}</p> })}
            <OtherSignIns/>
        </fieldset>
    }
}

/// The other sign-ins this browser holds, to switch to.
#[component]
fn OtherSignIns() -> impl IntoView {
    let others = crate::accounts::others();
    (!others.is_empty()).then(|| {
        view! {
            <h3>"Other sign-ins on this device"</h3>
            <ul class="sign-ins">
                {others.into_iter().map(|account| {
                    let label = format!("Switch to {} in {}", account.user, account.workspace);
                    view! {
                        <li>
                            <button type="button" class="secondary" on:click=move |_| {
                                if crate::accounts::activate(account.clone()).is_ok() {
                                    let _ = window().location().replace("/");
                                }
                            }>{label}</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    })
}

/// The last internal error's details, kept for a bug report (see [`crate::crash`]).
#[component]
fn LastError() -> impl IntoView {
    let report = RwSignal::new(crate::crash::last_report());
    view! {
        <Show when=move || report.with(Option::is_some)>
            <fieldset id="last-error">
                <legend>"Last internal error"</legend>
                <p class="hint" id="last-error-hint">"Outpost stopped with this error. Copy it into a bug report, then clear it."</p>
                <label for="s-last-error">"Error details"</label>
                <textarea id="s-last-error" readonly rows="6" aria-describedby="last-error-hint"
                    prop:value=move || report.get().unwrap_or_default()></textarea>
                <button type="button" class="secondary" on:click=move |_| {
                    crate::crash::clear_report();
                    report.set(None);
                }>"Clear error details"</button>
            </fieldset>
        </Show>
    }
}

/// A role as a person reads it in a sentence.
pub(crate) fn role_phrase(role: outpost_core::Role) -> &'static str {
    use outpost_core::Role;
    match role {
        Role::Viewer => "a viewer (reads incidents, changes nothing)",
        Role::Agent => "an agent (logs and works incidents)",
        Role::Manager => "a manager (also closes, cancels and runs major incidents)",
        Role::Admin => "an admin (everything, and the workspace's configuration)",
    }
}
