//! Settings → People: an admin invites a person (a one-time link and its QR code) and sees
//! every device of the workspace, revoking one that is lost; anyone else sees and ends their
//! own devices. The relay decides who may do what; this renders its answers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use outpost_core::Role;
use serde_json::Value;

use outpost_core::DeviceTime;

use crate::format::ago;
use crate::relay_api;
use crate::state::use_app;

/// One device as the relay lists it.
#[derive(Clone, Debug, PartialEq)]
struct Device {
    id: String,
    user: String,
    name: String,
    role: String,
    app_version: String,
    last_seen: Option<i64>,
    state: String,
    this_device: bool,
}

impl Device {
    fn from(v: &Value) -> Device {
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Device {
            id: text("id"),
            user: text("user"),
            name: text("name"),
            role: text("role"),
            app_version: text("app_version"),
            last_seen: v["last_seen"].as_i64(),
            state: text("state"),
            this_device: v["this_device"].as_bool().unwrap_or(false),
        }
    }
}

/// A new invitation, as shown once.
#[derive(Clone, Debug, PartialEq)]
struct Invitation {
    user: String,
    link: String,
    qr_svg: String,
}

#[component]
pub fn People() -> impl IntoView {
    let state = use_app();
    let signed_in = move || {
        state
            .settings
            .with(|s| !s.token.trim().is_empty() && s.token_checked)
    };
    let is_admin = move || state.role() == Some(Role::Admin);
    let devices = RwSignal::new(None::<Result<Vec<Device>, String>>);
    let feedback = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            let listed = relay_api::devices(&settings)
                .await
                .map(|list| list.iter().map(Device::from).collect());
            devices.set(Some(listed));
        });
    };
    Effect::new(move |_| {
        if signed_in() {
            load();
        }
    });
    let revoke = move |device: Device| {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            match relay_api::revoke_device(&settings, &device.id).await {
                Ok(()) => {
                    feedback.set(Some(format!(
                        "{} of {} is signed out; its open connections are closed.",
                        device.name, device.user
                    )));
                    load();
                }
                Err(e) => feedback.set(Some(format!("{} could not be revoked: {e}.", device.name))),
            }
        });
    };
    view! {
        <Show when=signed_in>
            <fieldset id="people">
                <legend>{move || if is_admin() { "People and devices" } else { "Your devices" }}</legend>
                <Show when=is_admin>
                    <Invite/>
                </Show>
                <h3 id="devices-title">"Devices"</h3>
                {move || match devices.get() {
                    None => view! { <p role="status">"Loading the devices…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="feedback feedback-error" role="alert">{format!("The devices could not be listed: {e}.")}</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="devices" aria-labelledby="devices-title">
                            {list.into_iter().map(|d| {
                                let seen = d.last_seen.map_or_else(|| "never seen".to_string(), |ms| format!("seen {}", ago(DeviceTime::from_millis(ms), state.now.get_untracked())));
                                let version = if d.app_version.is_empty() { String::new() } else { format!(", app {}", d.app_version) };
                                let this = if d.this_device { " (this device)" } else { "" };
                                let summary = format!("{}: {}{this}, {}, {seen}{version}", d.user, d.name, d.role);
                                let label = format!("Revoke {} of {}", d.name, d.user);
                                let active = d.state == "active" && !d.this_device;
                                let state_text = d.state.clone();
                                view! {
                                    <li class="device">
                                        <span>{summary}</span>
                                        <span class="badge">{state_text}</span>
                                        {active.then(|| {
                                            let d = d.clone();
                                            view! { <button type="button" class="secondary" aria-label=label on:click=move |_| revoke(d.clone())>"Revoke"</button> }
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
                <button type="button" class="secondary" on:click=move |_| load()>"Refresh devices"</button>
                {move || feedback.get().map(|f| view! { <p class="feedback feedback-ok" role="status">{f}</p> })}
            </fieldset>
        </Show>
    }
}

/// The admin's invitation form, and the invitation just made.
#[component]
fn Invite() -> impl IntoView {
    let state = use_app();
    let user = RwSignal::new(String::new());
    let role = RwSignal::new("agent".to_string());
    let groups = RwSignal::new(String::new());
    let expires = RwSignal::new("7d".to_string());
    let error = RwSignal::new(None::<String>);
    let made = RwSignal::new(None::<Invitation>);
    let busy = RwSignal::new(false);
    let copied = RwSignal::new(false);
    let invite = move |_| {
        let name = user.get_untracked().trim().to_string();
        if name.is_empty() {
            error.set(Some("The person's name is required.".into()));
            return;
        }
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            match relay_api::invite(
                &settings,
                &name,
                &role.get_untracked(),
                &groups.get_untracked(),
                &expires.get_untracked(),
            )
            .await
            {
                Ok(answer) => {
                    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
                    made.set(Some(Invitation {
                        user: text("user"),
                        link: text("link"),
                        qr_svg: text("qr_svg"),
                    }));
                    copied.set(false);
                    user.set(String::new());
                }
                Err(e) => error.set(Some(format!("The invitation could not be made: {e}."))),
            }
            busy.set(false);
        });
    };
    let copy = move |_| {
        if let Some(i) = made.get_untracked() {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&i.link);
            copied.set(true);
        }
    };
    view! {
        <h3>"Invite a person"</h3>
        <div class="field">
            <label for="invite-name">"Person's name"</label>
            <input id="invite-name" type="text" bind:value=user aria-describedby="invite-error"
                aria-invalid=move || error.with(Option::is_some).to_string()/>
        </div>
        <div class="field">
            <label for="invite-role">"Role"</label>
            <select id="invite-role" bind:value=role>
                {Role::ALL.iter().map(|r| view! { <option value=r.key()>{r.label()}</option> }).collect_view()}
            </select>
        </div>
        <div class="field">
            <label for="invite-groups">"Groups"</label>
            <input id="invite-groups" type="text" bind:value=groups aria-describedby="invite-groups-hint"/>
            <p class="hint" id="invite-groups-hint">"Comma-separated, for incidents restricted to groups. Optional."</p>
        </div>
        <div class="field">
            <label for="invite-expires">"Link works for"</label>
            <select id="invite-expires" bind:value=expires>
                <option value="1d">"1 day"</option>
                <option value="7d">"7 days"</option>
                <option value="30d">"30 days"</option>
            </select>
        </div>
        <p class="field-error" id="invite-error">{move || error.get()}</p>
        <button type="button" on:click=invite disabled=move || busy.get()>"Create invitation"</button>
        {move || made.get().map(|i| view! {
            <div class="panel invitation" role="region" aria-label="New invitation">
                <p>{format!("Send {} this link, or let them scan the code with their phone. It works once.", i.user)}</p>
                <div class="field">
                    <label for="invite-link">"Invitation link"</label>
                    <input id="invite-link" type="text" readonly prop:value=i.link.clone()/>
                </div>
                <button type="button" class="secondary" on:click=copy>{move || if copied.get() { "Link copied" } else { "Copy link" }}</button>
                <figure class="qr" role="img" aria-label=format!("QR code of the invitation link for {}", i.user) inner_html=i.qr_svg.clone()></figure>
            </div>
        })}
    }
}
