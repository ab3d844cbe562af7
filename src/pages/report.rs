//! The post-incident report: printable, and downloadable as Markdown.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use outpost_core::report::render_report;
use outpost_sync::DocumentId;

use crate::components::title::Title;
use crate::pages::incident::sections::save_file;
use crate::state::use_app;
use crate::tasks::PageScope;

#[component]
pub fn ReportPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let report = RwSignal::new(None::<Result<(String, String), String>>);
    let scope = PageScope::new();
    Effect::new(move |_| {
        let text = id.get();
        if !state.ready.get() {
            return;
        }
        let Ok(doc) = text.parse::<DocumentId>() else {
            report.set(Some(Err("This address does not name an incident.".into())));
            return;
        };
        scope.spawn(async move {
            report.set(Some(
                state
                    .view(doc)
                    .await
                    .map(|v| (v.incident.reference.to_string(), render_report(&v)))
                    .map_err(|e| e.to_string()),
            ));
        });
    });
    let note = RwSignal::new(None::<String>);
    let download = move |_| {
        if let Some(Ok((reference, text))) = report.get_untracked() {
            let outcome = save_file(
                &format!("{reference}-post-incident-report.md"),
                text.as_bytes(),
                "text/markdown",
            );
            note.set(Some(
                outcome.map_or_else(|e| e, |()| "Downloaded.".to_string()),
            ));
        }
    };
    view! {
        <Title text="Post-incident report"/>
        {move || match report.get() {
            None => view! { <p role="status">"Preparing the report…"</p> }.into_any(),
            Some(Err(e)) => view! { <h1>"Post-incident report"</h1> <p class="notice notice-error" role="alert">{e}</p> }.into_any(),
            Some(Ok((reference, text))) => view! {
                <h1>{format!("Post-incident report: {reference}")}</h1>
                <div class="button-row no-print">
                    <button type="button" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                    <button type="button" class="secondary" on:click=download>"Download report"</button>
                    <A href=move || format!("/incidents/{}", id.get()) attr:class="button secondary">"Back to the incident"</A>
                </div>
                {move || note.get().map(|n| view! { <p class="feedback" role="status">{n}</p> })}
                <pre class="report">{text}</pre>
            }.into_any(),
        }}
    }
}
