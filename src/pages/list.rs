//! The incident list: filters, search as you type, sort, and one row per incident.
//!
//! Filters live in the URL (`?state=all&priority=1&q=email`), so a reload or a shared link shows
//! the same list. Filtering and sorting are the core's (`outpost_core::summary`); this page only
//! renders them. Rows are rendered a page at a time.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use outpost_core::state::StateKind;
use outpost_core::summary::{
    matches_terms, sort_summaries, IncidentSummary, ListQuery, SortOrder, StateFilter,
};
use outpost_core::Priority;

use crate::components::badges::{PriorityBadge, StateBadge};
use crate::components::title::Title;
use crate::components::welcome::Welcome;
use crate::format::{ago, level_class};
use crate::state::use_app;

/// Rows rendered per "Show more".
const PAGE: usize = 50;
/// How long typing pauses before the search runs.
const SEARCH_DELAY_MS: u64 = 120;

#[component]
pub fn IncidentList() -> impl IntoView {
    let state = use_app();
    let initial = use_query_map().get_untracked();
    let param = |k: &str| initial.get(k).unwrap_or_default();
    let state_filter = RwSignal::new(StateFilter::from_key(&param("state")).key().to_string());
    let priority = RwSignal::new(param("priority"));
    let assignee = RwSignal::new(param("assignee"));
    let mine = RwSignal::new(param("mine") == "1");
    let typed = RwSignal::new(param("q"));
    let text = RwSignal::new(param("q"));
    let sort = RwSignal::new(SortOrder::from_key(&param("sort")).key().to_string());
    let limit = RwSignal::new(PAGE);

    // Typing updates the box at once and the search after a short pause.
    let typing = StoredValue::new(0u64);
    let on_search = move |ev| {
        typed.set(event_target_value(&ev));
        typing.update_value(|g| *g += 1);
        let generation = typing.get_value();
        set_timeout(
            move || {
                if typing.get_value() == generation {
                    text.set(typed.get_untracked());
                }
            },
            std::time::Duration::from_millis(SEARCH_DELAY_MS),
        );
    };

    let query = Memo::new(move |_| ListQuery {
        state: StateFilter::from_key(&state_filter.get()),
        priority: priority
            .get()
            .parse::<u8>()
            .ok()
            .and_then(Priority::from_number),
        assignee: Some(assignee.get()).filter(|a| !a.trim().is_empty()),
        assigned_to_me: mine.get(),
        text: text.get(),
        sort: SortOrder::from_key(&sort.get()),
    });

    // Keep the URL in step, without adding history entries.
    let navigate = use_navigate();
    Effect::new(move |_| {
        let q = query.get();
        let mut parts = vec![
            format!("state={}", q.state.key()),
            format!("sort={}", q.sort.key()),
        ];
        if let Some(p) = q.priority {
            parts.push(format!("priority={}", p.number()));
        }
        if let Some(a) = &q.assignee {
            parts.push(format!("assignee={}", js_sys::encode_uri_component(a)));
        }
        if q.assigned_to_me {
            parts.push("mine=1".into());
        }
        if !q.text.is_empty() {
            parts.push(format!("q={}", js_sys::encode_uri_component(&q.text)));
        }
        navigate(
            &format!("/?{}", parts.join("&")),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
        limit.set(PAGE);
    });

    let results = Memo::new(move |_| {
        let q = query.get();
        let me = state.settings.with(|s| s.user_name.clone());
        let terms = q.terms();
        state.summaries.with(|all| {
            state.search.with(|search| {
                let mut shown: Vec<&IncidentSummary> = all
                    .values()
                    .filter(|s| {
                        q.admits(s, &me)
                            && matches_terms(
                                &terms,
                                s,
                                search.get(&s.document_id).map(String::as_str),
                            )
                    })
                    .collect();
                sort_summaries(&mut shown, q.sort);
                shown
                    .iter()
                    .map(|s| s.document_id.clone())
                    .collect::<Vec<String>>()
            })
        })
    });
    let total = Memo::new(move |_| results.with(Vec::len));
    let visible =
        move || results.with(|ids| ids.iter().take(limit.get()).cloned().collect::<Vec<_>>());
    let assignees = Memo::new(move |_| {
        let mut names: Vec<String> = state.summaries.with(|all| {
            all.values()
                .map(|s| s.assignee.clone())
                .filter(|a| !a.is_empty())
                .collect()
        });
        names.sort();
        names.dedup();
        names
    });

    view! {
        <Title text="Incidents"/>
        <h1>"Incidents"</h1>
        <Welcome/>
        <form class="filters" role="search" aria-label="Filter incidents" on:submit=|ev| ev.prevent_default()>
            <div class="field field-search">
                <label for="f-search">"Search"</label>
                <input id="f-search" type="search" placeholder="Title, description, notes…" autocomplete="off"
                    prop:value=move || typed.get() on:input=on_search/>
            </div>
            <div class="field">
                <label for="f-state">"State"</label>
                <select id="f-state" bind:value=state_filter>
                    <option value="open">"Open (New, In Progress, On Hold)"</option>
                    <option value="all">"All"</option>
                    {StateKind::ALL.iter().map(|k| view! { <option value=k.key()>{k.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-priority">"Priority"</label>
                <select id="f-priority" bind:value=priority>
                    <option value="">"Any"</option>
                    {Priority::ALL.iter().map(|p| view! { <option value=p.number().to_string()>{p.to_string()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-assignee">"Assignee"</label>
                <input id="f-assignee" type="text" list="f-assignees" autocomplete="off" bind:value=assignee/>
                <datalist id="f-assignees">
                    {move || assignees.get().into_iter().map(|a| view! { <option value=a/> }).collect_view()}
                </datalist>
            </div>
            <div class="field field-check">
                <input id="f-mine" type="checkbox" bind:checked=mine/>
                <label for="f-mine">"Assigned to me"</label>
            </div>
            <div class="field">
                <label for="f-sort">"Sort by"</label>
                <select id="f-sort" bind:value=sort>
                    {SortOrder::ALL.iter().map(|s| view! { <option value=s.key()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
        </form>
        <p class="result-count" role="status" aria-live="polite">
            {move || if !state.ready.get() {
                "Loading incidents…".to_string()
            } else {
                match total.get() {
                    1 => "1 incident".to_string(),
                    n => format!("{n} incidents"),
                }
            }}
        </p>
        <Show when=move || state.ready.get() && state.summaries.with(|s| s.is_empty())>
            <p class="empty">"No incidents on this device yet. " <A href="/incidents/new">"Log the first one"</A>"."</p>
        </Show>
        <ul class="incident-list" aria-label="Incidents">
            <For each=visible key=|id| id.clone() children=move |id| view! { <IncidentRow id/> }/>
        </ul>
        <Show when=move || { total.get() > limit.get() }>
            <button type="button" class="secondary" on:click=move |_| limit.update(|l| *l += PAGE)>
                {move || format!("Show more ({} more)", total.get() - limit.get())}
            </button>
        </Show>
    }
}

/// One incident in the list; reads its own summary so only changed rows re-render.
#[component]
fn IncidentRow(id: String) -> impl IntoView {
    let state = use_app();
    let summary = {
        let id = id.clone();
        Memo::new(move |_| state.summaries.with(|m| m.get(&id).cloned()))
    };
    let href = format!("/incidents/{id}");
    move || {
        summary.get().map(|s| {
            let now = state.now.get();
            let calendar = state.config().calendar;
            let clocks = s.sla.project(now, &calendar);
            let clock = clocks.headline().clone();
            view! {
                <li class="incident-row">
                    <A href=href.clone() attr:class="row-link">
                        <span class="reference">{s.reference.clone()}</span>
                        " "
                        <span class="row-title">{s.title.clone()}</span>
                    </A>
                    <div class="row-facts">
                        <PriorityBadge priority=s.priority/>
                        <StateBadge state=s.state/>
                        {s.major_incident.then(|| view! { <span class="badge badge-major">"Major"</span> })}
                        {(s.conflicts > 0).then(|| view! {
                            <span class="badge badge-conflict">{format!("{} conflict{}", s.conflicts, if s.conflicts == 1 { "" } else { "s" })}</span>
                        })}
                        <span class="row-assignee">
                            {if s.assignee.is_empty() { "Unassigned".to_string() } else { s.assignee.clone() }}
                        </span>
                        <span class=level_class(&clock)>{clock.describe()}</span>
                        <span class="row-updated">"Updated " {ago(s.updated_at, now)}</span>
                    </div>
                </li>
            }
        })
    }
}
