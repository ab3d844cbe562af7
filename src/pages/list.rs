//! The incident list: filters, search as you type, sort, and one row per incident.
//!
//! Filters live in the URL (`?state=all&priority=1&q=email`, written and read by
//! [`ListQuery::to_params`] and [`ListQuery::from_params`]), so a reload or a shared link shows
//! the same list; the dashboard's links add a category, service or group. Filtering and sorting are the core's (`outpost_core::summary`); this page only
//! renders them. Rows are rendered a page at a time.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use outpost_core::export::{to_csv, to_json, ExportRow};
use outpost_core::scan::{ListScan, ScanRuns};
use outpost_core::state::StateKind;
use outpost_core::summary::{ListQuery, SortOrder, StateFilter};
use outpost_core::Priority;

use crate::clock::now;
use crate::components::badges::{PriorityBadge, StateBadge};
use crate::components::title::Title;
use crate::components::welcome::Welcome;
use crate::format::{ago, level_class};
use crate::pages::incident::sections::save_file;
use crate::state::use_app;
use crate::tasks::{next_task, PageScope};

/// Rows rendered per "Show more".
const PAGE: usize = 50;
/// How long typing pauses before the search runs.
const SEARCH_DELAY_MS: u64 = 120;
/// How long one slice of a search may run before the list gives the main thread back: with the
/// rendering after the last slice, well inside the 50 ms a frame may be blocked.
const SLICE_MS: f64 = 8.0;

#[component]
pub fn IncidentList() -> impl IntoView {
    let state = use_app();
    let arrived = ListQuery::from_params(&use_location().search.get_untracked(), Vec::new);
    let state_filter = RwSignal::new(arrived.state.key().to_string());
    let priority = RwSignal::new(
        arrived
            .priority
            .map(|p| p.number().to_string())
            .unwrap_or_default(),
    );
    let assignee = RwSignal::new(arrived.assignee.clone().unwrap_or_default());
    let mine = RwSignal::new(arrived.assigned_to_me);
    let my_groups = RwSignal::new(arrived.in_groups.is_some());
    let typed = RwSignal::new(arrived.text.clone());
    let text = RwSignal::new(arrived.text.clone());
    let sort = RwSignal::new(arrived.sort.key().to_string());
    // Where the dashboard's links narrow the list: shown as chips the person can remove.
    let category = RwSignal::new(arrived.category.clone());
    let service = RwSignal::new(arrived.service.clone());
    let group = RwSignal::new(arrived.group.clone());
    let limit = RwSignal::new(PAGE);
    let scope = PageScope::new();

    // Typing updates the box at once and the search after a short pause.
    let typing = StoredValue::new(0u64);
    let on_search = move |ev| {
        typed.set(event_target_value(&ev));
        typing.update_value(|g| *g += 1);
        let generation = typing.get_value();
        scope.after(
            std::time::Duration::from_millis(SEARCH_DELAY_MS),
            move || {
                if typing.get_value() == generation {
                    text.set(typed.get_untracked());
                }
            },
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
        // The person's groups in the directory, or their team before the directory lists them.
        in_groups: my_groups.get().then(|| state.me_and_groups().1),
        text: text.get(),
        sort: SortOrder::from_key(&sort.get()),
        category: category.get(),
        service: service.get(),
        group: group.get(),
    });

    // Keep the URL in step with the filters the person changes, without adding history
    // entries. Not on arrival: the address the list opened at already says what it shows, and
    // navigating while the router is still arriving (after Back, say) tangled the history so
    // that Back led forward again.
    let navigate = use_navigate();
    Effect::new(move |arrived: Option<()>| {
        let q = query.get();
        if arrived.is_none() {
            return;
        }
        // Only over the list's own entry: while the router is still arriving here from another
        // page, the browser's current entry is that page's, and replacing it would drop it from
        // the history (Back would then step past it).
        if window().location().pathname().ok().as_deref() != Some("/") {
            return;
        }
        navigate(
            &format!("/?{}", q.to_params()),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
        limit.set(PAGE);
    });

    let (results, searching) = scanned(scope, query);
    let total = Memo::new(move |_| results.with(|r| r.as_ref().map_or(0, Vec::len)));
    let visible = move || {
        results.with(|r| {
            r.iter()
                .flatten()
                .take(limit.get())
                .cloned()
                .collect::<Vec<_>>()
        })
    };
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
                    {Priority::ALL.into_iter().map(|p| view! { <option value=p.number().to_string()>{move || state.workspace.with(|w| w.config.priority_label(p))}</option> }).collect_view()}
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
            <div class="field field-check">
                <input id="f-groups" type="checkbox" bind:checked=my_groups/>
                <label for="f-groups">"My groups"</label>
            </div>
            <div class="field">
                <label for="f-sort">"Sort by"</label>
                <select id="f-sort" bind:value=sort>
                    {SortOrder::ALL.iter().map(|s| view! { <option value=s.key()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
        </form>
        <NarrowedBy category service group/>
        <ExportButtons results/>
        <p class="result-count" role="status" aria-live="polite">
            {move || if !state.ready.get() || results.with(Option::is_none) {
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
        <ul class="incident-list" aria-label="Incidents" aria-busy=move || searching.get().to_string()>
            <For each=visible key=|id| id.clone() children=move |id| view! { <IncidentRow id/> }/>
        </ul>
        <Show when=move || { total.get() > limit.get() }>
            <button type="button" class="secondary" on:click=move |_| limit.update(|l| *l += PAGE)>
                {move || format!("Show more ({} more)", total.get() - limit.get())}
            </button>
        </Show>
    }
}

/// The filters a dashboard link set that the form has no control for, each removable.
#[component]
fn NarrowedBy(
    category: RwSignal<Option<String>>,
    service: RwSignal<Option<String>>,
    group: RwSignal<Option<String>>,
) -> impl IntoView {
    let chip = move |what: &'static str, signal: RwSignal<Option<String>>| {
        move || {
            signal.get().map(|value| {
                view! {
                    <li class="chip">
                        {format!("{what}: {value}")}
                        <button type="button" class="chip-remove" aria-label=format!("Show every {}", what.to_lowercase())
                            on:click=move |_| signal.set(None)>"×"</button>
                    </li>
                }
            })
        }
    };
    view! {
        <ul class="chip-list" aria-label="Also filtered by">
            {chip("Category", category)}
            {chip("Service", service)}
            {chip("Group", group)}
        </ul>
    }
}

/// Export the incidents the list shows (all of them, not only the rows drawn) as CSV or JSON.
#[component]
fn ExportButtons(results: ReadSignal<Option<Vec<String>>>) -> impl IntoView {
    let state = use_app();
    let note = RwSignal::new(None::<String>);
    let export = move |json: bool| {
        let rows: Vec<ExportRow> = results.with_untracked(|ids| {
            let now = now();
            state.summaries.with_untracked(|all| {
                state.workspace.with_untracked(|w| {
                    ids.iter()
                        .flatten()
                        .filter_map(|id| all.get(id))
                        .map(|s| {
                            ExportRow::of(s, now, w.config.calendar_named(&s.sla.business_calendar))
                        })
                        .collect()
                })
            })
        });
        let day = now().to_datetime().format("%Y-%m-%d");
        let outcome = if json {
            save_file(
                &format!("outpost-incidents-{day}.json"),
                to_json(&rows).as_bytes(),
                "application/json",
            )
        } else {
            to_csv(&rows).map_err(|e| e.to_string()).and_then(|text| {
                save_file(
                    &format!("outpost-incidents-{day}.csv"),
                    text.as_bytes(),
                    "text/csv",
                )
            })
        };
        note.set(Some(match outcome {
            Ok(()) => format!(
                "Exported {} incident{}.",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ),
            Err(e) => format!("The export could not be saved: {e}"),
        }));
    };
    view! {
        <div class="button-row">
            <button type="button" class="secondary" on:click=move |_| export(false)>"Export CSV"</button>
            <button type="button" class="secondary" on:click=move |_| export(true)>"Export JSON"</button>
            <A href="/import" attr:class="button secondary">"Import…"</A>
        </div>
        {move || note.get().map(|n| view! { <p class="feedback" role="status">{n}</p> })}
    }
}

/// The ids the query lists, in its order (`None` until the first run finishes), and whether a run
/// is under way.
///
/// Each run is a [`ListScan`] done in slices of [`SLICE_MS`], yielding to the browser between
/// them, so typing stays responsive with ten thousand incidents. The previous list stays on
/// screen until a run finishes. [`ScanRuns`] decides which run is current: a new query abandons
/// one, changed incidents make it run again once done.
fn scanned(
    scope: PageScope,
    query: Memo<ListQuery>,
) -> (ReadSignal<Option<Vec<String>>>, ReadSignal<bool>) {
    let state = use_app();
    let (results, set_results) = signal(None::<Vec<String>>);
    let (searching, set_searching) = signal(false);
    let runs = StoredValue::new(ScanRuns::default());
    let current = move |run| runs.with_value(|r| r.is_current(run));
    let again = Trigger::new();

    Effect::new(move |_| {
        again.track();
        state.summaries.track();
        state.search.track();
        let q = query.get();
        let me = state.settings.with(|s| s.user_name.clone());
        let Some(run) = runs.try_update_value(|r| r.wanted(&q, &me)).flatten() else {
            return;
        };
        let ids = state
            .summaries
            .with_untracked(|all| all.keys().cloned().collect());
        let mut scan = ListScan::new(q, &me, ids);
        set_searching.set(true);
        scope.spawn(async move {
            let mut spent = 0.0;
            loop {
                if !current(run) {
                    return; // a newer query took over, or the list was left
                }
                let began = js_sys::Date::now();
                let done = state.summaries.with_untracked(|all| {
                    state.search.with_untracked(|search| {
                        scan.advance(all, search, || js_sys::Date::now() - began > SLICE_MS)
                    })
                });
                spent += js_sys::Date::now() - began;
                if done {
                    break;
                }
                next_task().await;
            }
            if spent > SLICE_MS / 2.0 {
                // A long scan: sorting and rendering the rows get a task of their own.
                next_task().await;
                if !current(run) {
                    return;
                }
            }
            set_results.set(Some(state.summaries.with_untracked(|all| scan.finish(all))));
            set_searching.set(false);
            if runs.try_update_value(|r| r.finished(run)).unwrap_or(false) {
                again.notify();
            }
        });
    });
    (results, searching)
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
            let clocks = state
                .workspace
                .with(|w| s.sla.project(now, w.config.calendar_named(&s.sla.business_calendar)));
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
