//! The timeline: every change, who made it, and when on their device; and, when the relay can
//! be asked, when each change reached it and who delivered it where that is someone else (a
//! shared phone, or a name written by another program).

use std::collections::HashMap;

use leptos::prelude::*;
use outpost_core::{IncidentView, Role};

use crate::format::local_time;
use crate::relay_api::{fetch_arrivals, Arrival};
use crate::state::use_app;
use crate::sync::SyncStatus;
use crate::tasks::PageScope;

#[component]
pub fn Timeline(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let entries = Memo::new(move |_| view.with(|v| v.timeline.clone()));
    let arrivals = RwSignal::new(HashMap::<String, Arrival>::new());
    // Asked again whenever the incident changes (a change just synced has just arrived), and
    // only while the relay is taking this device's token: offline there is nothing to ask. Not
    // at every step of a catch-up: a pull moves the status hundreds of times.
    let online = Memo::new(move |_| {
        state
            .sync_status
            .with(|s| matches!(s, SyncStatus::UpToDate | SyncStatus::CatchingUp(_)))
    });
    Effect::new(move |_| {
        entries.track();
        if !online.get() {
            return;
        }
        let (settings, id) = (state.settings.get_untracked(), id.get());
        scope.spawn(async move {
            if let Ok(found) = fetch_arrivals(&settings, &id).await {
                arrivals.set(found);
            }
        });
    });
    view! {
        <section class="panel timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            <ol class="timeline-list">
                {move || entries.get().into_iter().map(|e| {
                    let arrival = arrivals.with(|a| a.get(&e.change).cloned());
                    // Everyone sees a delivery by someone other than the recorded author; an admin
                    // reads the whole audit: every delivery, with the device.
                    let admin = state.role() == Some(Role::Admin);
                    let delivered = arrival.as_ref().filter(|a| admin || a.user != e.by).map(|a| {
                        let text = if admin {
                            format!("Delivered by {} ({}, device {})", a.user, a.role, a.device)
                        } else {
                            format!("Delivered by {} ({})", a.user, a.role)
                        };
                        view! { <p class="timeline-audit">{text}</p> }
                    });
                    view! {
                        <li>
                            <p class="timeline-meta">
                                <time>{local_time(e.at)}</time> " · " <strong>{e.by.clone()}</strong>
                                {arrival.as_ref().map(|a| format!(" · reached the relay {}", local_time(a.at)))}
                            </p>
                            <p class="timeline-summary">{e.summary}</p>
                            {e.detail.map(|d| view! { <p class="timeline-detail">{d}</p> })}
                            {delivered}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}
