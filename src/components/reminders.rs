//! Reminders on this device, offline: updates to affected users coming due and SLA targets 75%
//! used or breached, on incidents assigned to the person or to their groups. They are worked out
//! from the list alone (`outpost_core::notify::reminders`), follow the app's clock, show at the
//! top of every page, and, once the person allows it in Settings, arrive as system notifications
//! (the Web Notifications API), each occasion once.

use std::collections::HashSet;

use gloo_storage::{LocalStorage, Storage as _};
use leptos::prelude::*;
use leptos_router::components::A;
use outpost_core::notify::{self, Reminder};

use crate::state::use_app;

/// Where the occasions already shown as system notifications are kept (per browser).
const SHOWN_KEY: &str = "outpost-reminded";

/// The reminders due now, most pressing first (reactive).
fn due() -> Memo<Vec<Reminder>> {
    let state = use_app();
    Memo::new(move |_| {
        let now = state.now.get();
        let (me, groups) = state.me_and_groups();
        state.workspace.with(|w| {
            let on_call = w.directory.person(&me).is_some_and(|p| p.on_call);
            let me = notify::Me {
                name: &me,
                groups: &groups,
                on_call,
            };
            state
                .summaries
                .with(|s| notify::reminders(s.values(), me, &w.config, now))
        })
    })
}

/// Whether the browser lets this site show notifications.
fn permission() -> web_sys::NotificationPermission {
    web_sys::Notification::permission()
}

/// The reminders, at the top of every page: a count that opens into the list.
#[component]
pub fn Reminders() -> impl IntoView {
    let state = use_app();
    let due = due();
    // System notifications for occasions not shown before, while the person allows them.
    Effect::new(move |_| {
        let list = due.get();
        if !state.settings.with(|s| s.system_reminders)
            || permission() != web_sys::NotificationPermission::Granted
        {
            return;
        }
        let mut shown: HashSet<String> = LocalStorage::get(SHOWN_KEY).unwrap_or_default();
        let current: HashSet<String> = list
            .iter()
            .map(|r| format!("{} {}", r.document_id, r.key))
            .collect();
        for r in &list {
            let id = format!("{} {}", r.document_id, r.key);
            if shown.contains(&id) {
                continue;
            }
            let options = web_sys::NotificationOptions::new();
            options.set_body(&r.body);
            options.set_tag(&id);
            if web_sys::Notification::new_with_options(&r.title, &options).is_ok() {
                shown.insert(id);
            }
        }
        // Only what is still due is remembered, so the list stays small.
        shown.retain(|id| current.contains(id));
        let _ = LocalStorage::set(SHOWN_KEY, &shown);
    });
    view! {
        <Show when=move || due.with(|d| !d.is_empty())>
            <details class="reminders">
                <summary>
                    {move || {
                        let (n, overdue) = due.with(|d| (d.len(), d.iter().filter(|r| r.overdue).count()));
                        let what = if n == 1 { "1 reminder".to_string() } else { format!("{n} reminders") };
                        if overdue > 0 { format!("{what}, {overdue} overdue") } else { what }
                    }}
                </summary>
                <ul>
                    <For each=move || due.get() key=|r| format!("{} {}", r.document_id, r.key) let:r>
                        <li class=if r.overdue { "reminder overdue" } else { "reminder" }>
                            <A href=format!("/incidents/{}", r.document_id.trim_start_matches("automerge:"))>{r.title.clone()}</A>
                            <span class="reminder-body">{r.body.clone()}</span>
                        </li>
                    </For>
                </ul>
            </details>
        </Show>
    }
}

/// The Settings part: reminders as system notifications, asked for with the browser's permission.
#[component]
pub fn ReminderSettings() -> impl IntoView {
    let state = use_app();
    let said = RwSignal::new(None::<String>);
    let on = Memo::new(move |_| state.settings.with(|s| s.system_reminders));
    let set = move |value: bool| {
        let mut settings = state.settings.get_untracked();
        settings.system_reminders = value;
        match settings.save() {
            Ok(()) => state.settings.set(settings),
            Err(e) => said.set(Some(e)),
        }
    };
    let allow = move |_| {
        let Ok(promise) = web_sys::Notification::request_permission() else {
            said.set(Some(
                "This browser cannot show notifications; reminders stay in the app.".into(),
            ));
            return;
        };
        leptos::task::spawn_local(async move {
            let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
            let granted = answer
                .ok()
                .and_then(|v| v.as_string())
                .is_some_and(|v| v == "granted");
            if granted {
                set(true);
                said.set(Some(
                    "Reminders will also arrive as notifications on this device.".into(),
                ));
            } else {
                said.set(Some(
                    "The browser blocks notifications for Outpost. Allow them in the site's settings (the icon beside the address), then try again. Reminders stay in the app meanwhile.".into(),
                ));
            }
        });
    };
    view! {
        <fieldset id="reminders">
            <legend>"Reminders"</legend>
            <p class="hint">
                "Updates coming due and SLA warnings on incidents assigned to you or your groups show at the top of every page, offline too."
            </p>
            {move || if on.get() && permission() == web_sys::NotificationPermission::Granted {
                view! {
                    <p>"They also arrive as notifications on this device."</p>
                    <button type="button" class="secondary" on:click=move |_| {
                        set(false);
                        said.set(Some("Reminders stay in the app only.".into()));
                    }>"Stop notifications"</button>
                }.into_any()
            } else {
                view! {
                    <button type="button" class="secondary" on:click=allow>"Also notify me on this device"</button>
                }.into_any()
            }}
            <p role="status" class="feedback">{move || said.get()}</p>
        </fieldset>
    }
}
