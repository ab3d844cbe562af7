//! Import incidents from a CSV another tool exported: choose the file, check the proposed
//! column mapping, see what every row will become (and what is wrong with the rows that
//! cannot be imported) before anything is written, then import. The reading, mapping and
//! checking are `outpost_core::import`'s; this page renders them.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_router::components::A;
use outpost_core::import::{
    imported_key, plan, read_csv, recognise, Mapping, RowPlan, Table, Target,
};
use outpost_core::role::Capability;
use wasm_bindgen::JsCast;

use crate::components::title::Title;
use crate::state::use_app;
use crate::tasks::PageScope;

/// Rows of each kind the preview lists before saying how many more there are.
const SHOWN: usize = 50;

/// The file input a change event came from, if it did.
pub(crate) fn file_input(ev: &leptos::ev::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
}

/// Reads the file chosen in `input` as text: its name and contents.
pub(crate) async fn read_file(
    input: web_sys::HtmlInputElement,
) -> Result<(String, String), String> {
    let file = input
        .files()
        .and_then(|f| f.get(0))
        .ok_or("Choose a file first.")?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|_| format!("“{}” could not be read.", file.name()))?;
    Ok((file.name(), text.as_string().unwrap_or_default()))
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let table = RwSignal::new(None::<Result<(String, Table), String>>);
    let mapping = RwSignal::new(Mapping::default());
    let planned = RwSignal::new(None::<Vec<RowPlan>>);
    let outcome = RwSignal::new(None::<(String, Vec<String>)>);
    let busy = RwSignal::new(false);
    let refusal = move || {
        state
            .role()
            .and_then(|r| r.may_do(Capability::ImportIncidents).err())
            .map(|e| format!("{e}."))
    };

    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = file_input(&ev) else {
            return;
        };
        planned.set(None);
        outcome.set(None);
        scope.spawn(async move {
            let read = read_file(input).await.and_then(|(name, text)| {
                read_csv(&text)
                    .map(|t| (name, t))
                    .map_err(|e| e.to_string())
            });
            if let Ok((_, t)) = &read {
                mapping.set(recognise(&t.headers));
            }
            table.set(Some(read));
        });
    };

    let check = move || {
        let Some(Ok((_, t))) = table.get_untracked() else {
            return;
        };
        let imported: HashSet<String> = state.summaries.with_untracked(|all| {
            all.values()
                .filter_map(|s| s.imported_from.as_deref())
                .map(imported_key)
                .collect()
        });
        let rows = plan(
            &t,
            &mapping.get_untracked(),
            &imported,
            &state.attribution(),
            &state.config(),
        );
        planned.set(Some(rows));
    };

    let import = move |_| {
        let Some(rows) = planned.get_untracked() else {
            return;
        };
        let candidates: Vec<_> = rows
            .into_iter()
            .filter_map(|r| match r {
                RowPlan::Create(c) => Some(*c),
                _ => None,
            })
            .collect();
        busy.set(true);
        scope.spawn(async move {
            let results = state.import(candidates).await;
            let made = results.iter().filter(|(_, r)| r.is_ok()).count();
            let failed: Vec<String> = results
                .into_iter()
                .filter_map(|(line, r)| r.err().map(|e| format!("Line {line}: {e}")))
                .collect();
            outcome.set(Some((
                format!(
                    "Imported {made} incident{}.",
                    if made == 1 { "" } else { "s" }
                ),
                failed,
            )));
            busy.set(false);
            check();
        });
    };

    view! {
        <Title text="Import incidents"/>
        <h1>"Import incidents"</h1>
        <p class="hint">"From a CSV file exported by ServiceNow, Jira Service Management, Outpost or another tool. Nothing is written until you press Import; a row imported before is skipped, so importing a file again adds nothing twice."</p>
        {move || refusal().map(|r| view! { <p class="notice notice-warning">{r}</p> })}
        <div class="field">
            <label for="i-file">"CSV file"</label>
            <input id="i-file" type="file" accept=".csv,text/csv" on:change=on_file/>
        </div>
        {move || table.get().map(|read| match read {
            Err(e) => view! { <p class="feedback-error" role="alert">{e}</p> }.into_any(),
            Ok((name, t)) => view! {
                <MappingForm name t mapping planned/>
            }.into_any(),
        })}
        {move || {
            let problems = mapping.with(Mapping::problems);
            let loaded = table.with(|t| matches!(t, Some(Ok(_))));
            (loaded).then(|| if problems.is_empty() {
                view! {
                    <div class="button-row">
                        <button type="button" on:click=move |_| check()>"Check the rows"</button>
                    </div>
                }.into_any()
            } else {
                view! {
                    <ul class="feedback-error" role="alert">
                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                }.into_any()
            })
        }}
        {move || planned.get().map(|rows| view! { <Preview rows busy refused=Signal::derive(move || refusal().is_some()) on_import=import/> })}
        {move || outcome.get().map(|(said, failed)| view! {
            <div role="status" class="feedback">
                <p>{said} " " <A href="/?state=all">"See them in the list"</A></p>
                {(!failed.is_empty()).then(|| view! {
                    <ul class="feedback-error">{failed.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                })}
            </div>
        })}
    }
}

/// One picker per source column: which field it fills, with the first row's value beside it.
#[component]
fn MappingForm(
    name: String,
    t: Table,
    mapping: RwSignal<Mapping>,
    planned: RwSignal<Option<Vec<RowPlan>>>,
) -> impl IntoView {
    let first = t.rows.first().map(|(_, r)| r.clone()).unwrap_or_default();
    view! {
        <section class="panel" aria-labelledby="i-map">
            <h2 id="i-map">"Columns"</h2>
            <p>{format!("“{name}”: {} rows, {} columns. Choose what each column fills; columns left on “Ignore” are not imported.", t.rows.len() + t.unreadable.len(), t.headers.len())}</p>
            <div class="field-row import-columns">
                {t.headers.iter().enumerate().map(|(i, header)| {
                    let id = format!("i-col-{i}");
                    let sample = first.get(i).cloned().unwrap_or_default();
                    let current = move || mapping.with(|m| m.columns.get(i).copied().flatten().map_or("", Target::key).to_string());
                    view! {
                        <div class="field">
                            <label for=id.clone()>{header.clone()}</label>
                            <select id=id prop:value=current on:change=move |ev| {
                                let chosen = Target::from_key(&event_target_value(&ev));
                                mapping.update(|m| {
                                    if m.columns.len() <= i {
                                        m.columns.resize(i + 1, None);
                                    }
                                    m.columns[i] = chosen;
                                });
                                planned.set(None);
                            }>
                                <option value="">"Ignore"</option>
                                {Target::ALL.iter().map(|t| view! { <option value=t.key()>{t.label()}</option> }).collect_view()}
                            </select>
                            <span class="hint">{(!sample.is_empty()).then(|| format!("e.g. {sample}"))}</span>
                        </div>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

/// What the import will do, row by row.
#[component]
fn Preview(
    rows: Vec<RowPlan>,
    busy: RwSignal<bool>,
    refused: Signal<bool>,
    on_import: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let create: Vec<_> = rows
        .iter()
        .filter_map(|r| match r {
            RowPlan::Create(c) => Some(c.as_ref().clone()),
            _ => None,
        })
        .collect();
    let skipped = rows
        .iter()
        .filter(|r| matches!(r, RowPlan::AlreadyImported { .. }))
        .count();
    let invalid: Vec<(u64, Vec<String>)> = rows
        .iter()
        .filter_map(|r| match r {
            RowPlan::Invalid { line, errors } => Some((*line, errors.clone())),
            _ => None,
        })
        .collect();
    let n = create.len();
    view! {
        <section class="panel" aria-labelledby="i-preview">
            <h2 id="i-preview">"Preview"</h2>
            <p role="status">{format!(
                "{n} to import, {skipped} already imported, {} that cannot be imported.",
                invalid.len()
            )}</p>
            {(!invalid.is_empty()).then(|| view! {
                <h3>"Rows that cannot be imported"</h3>
                <table class="data-table">
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"What is wrong"</th></tr></thead>
                    <tbody>{invalid.iter().take(SHOWN).map(|(line, errors)| view! {
                        <tr><th scope="row">{*line}</th><td>{errors.join(" ")}</td></tr>
                    }).collect_view()}</tbody>
                </table>
                {(invalid.len() > SHOWN).then(|| view! { <p class="hint">{format!("And {} more.", invalid.len() - SHOWN)}</p> })}
            })}
            {(n > 0).then(|| view! {
                <h3>"Rows to import"</h3>
                <table class="data-table">
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"External id"</th><th scope="col">"Title"</th></tr></thead>
                    <tbody>{create.iter().take(SHOWN).map(|c| view! {
                        <tr><th scope="row">{c.line}</th><td>{c.external_id.clone()}</td><td>{c.new.title.clone()}</td></tr>
                    }).collect_view()}</tbody>
                </table>
                {(n > SHOWN).then(|| view! { <p class="hint">{format!("And {} more.", n - SHOWN)}</p> })}
                <div class="button-row">
                    <button type="button" on:click=on_import disabled=move || busy.get() || refused.get()>
                        {move || if busy.get() { "Importing…".to_string() } else { format!("Import {n} incident{}", if n == 1 { "" } else { "s" }) }}
                    </button>
                </div>
            })}
        </section>
    }
}
