//! Settings → Notifications (admins): how many notifications the relay sent and has waiting,
//! and the ones it gave up on, with why, to send again once the address or the server is
//! fixed. The relay keeps the outbox and decides who may see it; this page renders its answers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use outpost_core::Role;
use serde_json::Value;

use crate::relay_api;
use crate::state::use_app;

/// One undelivered notification as the relay lists it.
#[derive(Clone, Debug, PartialEq)]
struct Dead {
    id: i64,
    to: String,
    subject: String,
    error: String,
    attempts: i64,
}

impl Dead {
    fn from(v: &Value) -> Dead {
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Dead {
            id: v["id"].as_i64().unwrap_or_default(),
            to: text("to"),
            subject: text("subject"),
            error: text("error"),
            attempts: v["attempts"].as_i64().unwrap_or_default(),
        }
    }
}

#[component]
pub fn Outbox() -> impl IntoView {
    let state = use_app();
    let shown = move || {
        state
            .settings
            .with(|s| !s.token.trim().is_empty() && s.token_checked)
            && state.role() == Some(Role::Admin)
    };
    let listed = RwSignal::new(None::<Result<(String, Vec<Dead>), String>>);
    let feedback = RwSignal::new(None::<String>);
    let load = move || {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            let answer = relay_api::notifications(&settings).await.map(|v| {
                let n = |k: &str| v["counts"][k].as_i64().unwrap_or_default();
                let summary = format!(
                    "{} sent, {} waiting, {} undelivered.",
                    n("sent"),
                    n("pending"),
                    n("dead")
                );
                let dead = v["dead"]
                    .as_array()
                    .map(|d| d.iter().map(Dead::from).collect())
                    .unwrap_or_default();
                (summary, dead)
            });
            listed.set(Some(answer));
        });
    };
    Effect::new(move |_| {
        if shown() {
            load();
        }
    });
    let retry = move |item: Dead| {
        spawn_local(async move {
            let settings = state.settings.get_untracked();
            match relay_api::retry_notification(&settings, item.id).await {
                Ok(()) => {
                    feedback.set(Some(format!(
                        "\"{}\" to {} is queued again.",
                        item.subject, item.to
                    )));
                    load();
                }
                Err(e) => feedback.set(Some(format!("It could not be queued again: {e}."))),
            }
        });
    };
    view! {
        <Show when=shown>
            <fieldset id="notifications">
                <legend>"Notifications"</legend>
                <p class="hint">"Mail and chat messages the relay sends about incidents. One it cannot deliver is tried again for about three and a half hours, then listed here."</p>
                {move || match listed.get() {
                    None => view! { <p role="status">"Loading the notifications…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="feedback feedback-error" role="alert">{format!("The notifications could not be listed: {e}.")}</p> }.into_any(),
                    Some(Ok((summary, dead))) => view! {
                        <p>{summary}</p>
                        {(!dead.is_empty()).then(|| view! {
                            <h3 id="undelivered-title">"Undelivered"</h3>
                            <ul class="devices" aria-labelledby="undelivered-title">
                                {dead.into_iter().map(|item| {
                                    let label = format!("Send again: {} to {}", item.subject, item.to);
                                    let text = format!("{} to {}: {} (after {} attempts)", item.subject, item.to, item.error, item.attempts);
                                    view! {
                                        <li class="device">
                                            <span>{text}</span>
                                            <button type="button" class="secondary" aria-label=label on:click=move |_| retry(item.clone())>"Send again"</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        })}
                    }.into_any(),
                }}
                <button type="button" class="secondary" on:click=move |_| load()>"Refresh"</button>
                {move || feedback.get().map(|f| view! { <p class="feedback feedback-ok" role="status">{f}</p> })}
            </fieldset>
        </Show>
    }
}
