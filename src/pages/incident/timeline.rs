//! The timeline: every change, who made it, and when on their device.

use leptos::prelude::*;
use outpost_core::IncidentView;

use crate::format::local_time;

#[component]
pub fn Timeline(view: Memo<IncidentView>) -> impl IntoView {
    let entries = Memo::new(move |_| view.with(|v| v.timeline.clone()));
    view! {
        <section class="panel timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            <ol class="timeline-list">
                {move || entries.get().into_iter().map(|e| view! {
                    <li>
                        <p class="timeline-meta"><time>{local_time(e.at)}</time> " · " <strong>{e.by}</strong></p>
                        <p class="timeline-summary">{e.summary}</p>
                        {e.detail.map(|d| view! { <p class="timeline-detail">{d}</p> })}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}
