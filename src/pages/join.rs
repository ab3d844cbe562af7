//! Joining by invitation: the page an invitation link opens (`/join#inv_…`). It says what the
//! invitation opens (or why it cannot be used, and what to do), and on "Join" signs this device
//! in with a token of its own, as a sign-in of its own (see [`crate::accounts`]), then starts
//! the app afresh under it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::accounts::{self, Account};
use crate::components::title::Title;
use crate::pages::settings::role_phrase;
use crate::relay_api;
use crate::settings::Settings;

#[derive(Clone, PartialEq)]
enum Stage {
    Checking,
    Open {
        user: String,
        workspace: String,
        role: String,
        invited_by: String,
    },
    Joining,
    Problem(String),
}

/// The invitation code in the page's address (after `#`).
fn code_in_address() -> String {
    window()
        .location()
        .hash()
        .unwrap_or_default()
        .trim_start_matches('#')
        .trim()
        .to_string()
}

/// A name for this device a person recognises in a list ("Android phone", "Chrome on Windows").
fn suggested_device_name() -> String {
    let agent = window().navigator().user_agent().unwrap_or_default();
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android device"),
        ("Windows", "Windows computer"),
        ("Mac OS", "Mac"),
        ("CrOS", "Chromebook"),
        ("Linux", "Linux computer"),
    ]
    .into_iter()
    .find(|(needle, _)| agent.contains(needle))
    .map_or("Device", |(_, name)| name);
    let browser = if agent.contains("Edg/") {
        "Edge"
    } else if agent.contains("Firefox/") {
        "Firefox"
    } else if agent.contains("Chrome/") {
        "Chrome"
    } else if agent.contains("Safari/") {
        "Safari"
    } else {
        "a browser"
    };
    format!("{system}, {browser}")
}

/// Signs this browser in with a joined device's token, as its own sign-in, and reloads.
fn sign_in(joined: &Value) -> Result<(), String> {
    let text = |k: &str| joined[k].as_str().unwrap_or_default().to_string();
    let (user, workspace) = (text("user"), text("workspace"));
    let key = accounts::key_of(&workspace, &user);
    // Signed in here before (and signed out of nothing): keep that sign-in's numbering.
    let mut settings = Settings::load_of(&key).unwrap_or_default();
    settings.user_name = user.clone();
    settings.workspace = workspace.clone();
    settings.signed_in_as = user.clone();
    settings.token = text("token");
    settings.token_checked = true;
    settings.development_token = false;
    settings.bound_in_development = false;
    settings.role = text("role");
    settings.groups = joined["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(str::to_string))
        .collect();
    settings.relay_url.clear();
    settings.save_as(&key)?;
    accounts::activate(Account {
        key,
        user,
        workspace,
    })?;
    window()
        .location()
        .replace("/")
        .map_err(|e| format!("{e:?}"))
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let code = code_in_address();
    let stage = RwSignal::new(Stage::Checking);
    let device = RwSignal::new(suggested_device_name());
    {
        let code = code.clone();
        spawn_local(async move {
            if code.is_empty() {
                stage.set(Stage::Problem(
                    "This link has no invitation code in it. Open the whole link from your administrator's message, or scan its QR code.".into(),
                ));
                return;
            }
            stage.set(match relay_api::check_invitation(&code).await {
                Ok(found) => {
                    let text = |k: &str| found[k].as_str().unwrap_or_default().to_string();
                    Stage::Open {
                        user: text("user"),
                        workspace: text("workspace"),
                        role: text("role"),
                        invited_by: text("invited_by"),
                    }
                }
                Err(e) => Stage::Problem(e),
            });
        });
    }
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = code.clone();
        stage.set(Stage::Joining);
        spawn_local(async move {
            let outcome = match relay_api::join(&code, device.get_untracked().trim()).await {
                Ok(joined) => sign_in(&joined),
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                stage.set(Stage::Problem(e));
            }
        });
    };
    view! {
        <Title text="Join a workspace"/>
        {move || match stage.get() {
            Stage::Checking => view! {
                <h1>"Join a workspace"</h1>
                <p role="status">"Checking the invitation…"</p>
            }.into_any(),
            Stage::Joining => view! {
                <h1>"Join a workspace"</h1>
                <p role="status">"Signing this device in…"</p>
            }.into_any(),
            Stage::Problem(why) => view! {
                <h1>"This invitation cannot be used"</h1>
                <p class="feedback feedback-error" role="alert">{why}</p>
                <p><a href="/">"Go to incidents"</a></p>
            }.into_any(),
            Stage::Open { user, workspace, role, invited_by } => {
                let role_text = outpost_core::Role::from_key(&role).map_or(role.clone(), |r| role_phrase(r).to_string());
                view! {
                    <h1>"Join a workspace"</h1>
                    <form class="settings-form" on:submit=join.clone() aria-labelledby="join-what">
                        <p id="join-what">
                            {format!("{invited_by} invited {user} to the workspace {workspace}, as {role_text}.")}
                        </p>
                        <div class="field">
                            <label for="join-device">"Name of this device"</label>
                            <input id="join-device" type="text" maxlength="60" bind:value=device aria-describedby="join-device-hint"/>
                            <p class="hint" id="join-device-hint">"Shown in the list of your devices, so you can tell it apart (and end it if it is lost)."</p>
                        </div>
                        <button type="submit">{format!("Join as {user}")}</button>
                    </form>
                }.into_any()
            }
        }}
    }
}
