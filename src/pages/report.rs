//! The post-incident report, laid out for print (A4 or Letter: the print stylesheet sets the
//! page), and downloadable as Markdown. Its parts are `outpost_core::report`'s.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use outpost_core::report::{render_report, report, Report};
use outpost_sync::DocumentId;

use crate::components::title::Title;
use crate::pages::incident::sections::save_file;
use crate::state::use_app;
use crate::tasks::PageScope;

/// The paper sizes the report is laid out for.
const PAPERS: [(&str, &str); 2] = [("A4", "A4"), ("letter", "US Letter")];

#[component]
pub fn ReportPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let loaded = RwSignal::new(None::<Result<(String, Report, String), String>>);
    let scope = PageScope::new();
    Effect::new(move |_| {
        let text = id.get();
        if !state.ready.get() {
            return;
        }
        let Ok(doc) = text.parse::<DocumentId>() else {
            loaded.set(Some(Err("This address does not name an incident.".into())));
            return;
        };
        scope.spawn(async move {
            loaded.set(Some(
                state
                    .view(doc)
                    .await
                    .map(|v| {
                        (
                            v.incident.reference.to_string(),
                            report(&v),
                            render_report(&v),
                        )
                    })
                    .map_err(|e| e.to_string()),
            ));
        });
    });
    let note = RwSignal::new(None::<String>);
    let paper = RwSignal::new("A4".to_string());
    let download = move |_| {
        if let Some(Ok((reference, _, text))) = loaded.get_untracked() {
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
        // The page size the browser prints on; the layout fits either.
        <style>{move || format!("@page {{ size: {} portrait; margin: 16mm 15mm; }}", paper.get())}</style>
        {move || match loaded.get() {
            None => view! { <p role="status">"Preparing the report…"</p> }.into_any(),
            Some(Err(e)) => view! { <h1>"Post-incident report"</h1> <p class="notice notice-error" role="alert">{e}</p> }.into_any(),
            Some(Ok((_, r, _))) => view! {
                <div class="no-print">
                    <div class="field report-paper">
                        <label for="r-paper">"Paper"</label>
                        <select id="r-paper" prop:value=paper on:change=move |ev| paper.set(event_target_value(&ev))>
                            {PAPERS.iter().map(|(key, label)| view! { <option value=*key>{*label}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="button-row">
                        <button type="button" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                        <button type="button" class="secondary" on:click=download>"Download report"</button>
                        <A href=move || format!("/incidents/{}", id.get()) attr:class="button secondary">"Back to the incident"</A>
                    </div>
                    {move || note.get().map(|n| view! { <p class="feedback" role="status">{n}</p> })}
                </div>
                <ReportBody r/>
            }.into_any(),
        }}
    }
}

fn section(title: &'static str, body: Option<String>) -> impl IntoView {
    view! {
        <section class="report-section">
            <h2>{title}</h2>
            {match body {
                Some(text) => view! { <p class="report-text">{text}</p> }.into_any(),
                None => view! { <p class="muted"><em>"Not written yet."</em></p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ReportBody(r: Report) -> impl IntoView {
    view! {
        <article class="report">
            <h1>{format!("Post-incident report: {}", r.heading)}</h1>
            <p class="report-standing">{r.standing}</p>
            <dl class="facts-list report-facts">
                {r.facts.into_iter().map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> }).collect_view()}
            </dl>
            {r.before_timeline.into_iter().map(|(t, b)| section(t, b)).collect_view()}
            <section class="report-section">
                <h2>"Response timeline"</h2>
                <table class="data-table report-timeline">
                    <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"What"</th></tr></thead>
                    <tbody>{r.timeline.into_iter().map(|(at, by, what, detail)| view! {
                        <tr>
                            <td>{at}</td>
                            <td>{by}</td>
                            <td>{what}{detail.map(|d| view! { <span class="report-detail">{d}</span> })}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </section>
            {r.after_timeline.into_iter().map(|(t, b)| section(t, b)).collect_view()}
            {section("Appendices", r.appendices)}
            <section class="report-section">
                <h3>"Links"</h3>
                {if r.links.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! { <ul>{r.links.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> }.into_any()
                }}
                <h3>"Communications sent"</h3>
                {if r.communications.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="report-communications">
                            {r.communications.into_iter().map(|(at, kind, by, body)| view! {
                                <li><span class="report-meta">{format!("{at} · {kind} · {by}")}</span><span class="report-text">{body}</span></li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </article>
    }
}
