//! The dashboard: the numbers `outpost_core::dashboard` defines, drawn from the incidents on
//! this device, so it works offline. Each chart is an SVG the app draws, hidden from screen
//! readers, with a table of the same numbers under it, and its rows link into the list
//! filtered to what they count.

use leptos::prelude::*;
use leptos_router::components::A;
use outpost_core::dashboard::{
    dashboard, Backlog, Breakdown, Compliance, Dashboard, DashboardFilter, Durations, Period, Tally,
};
use outpost_core::summary::{ListQuery, StateFilter};
use outpost_core::time::{format_span, Span};
use outpost_core::Priority;

use crate::clock::now;
use crate::components::title::Title;
use crate::state::use_app;
use crate::tasks::{next_task, PageScope};

/// `2h 5m`, or `—` when nothing was measured.
fn span(ms: Option<i64>) -> String {
    ms.map_or("—".into(), |ms| format_span(Span::milliseconds(ms)))
}

fn times(d: &Durations) -> String {
    format!(
        "median {}, p90 {} ({} incidents)",
        span(d.median_ms),
        span(d.p90_ms),
        d.count
    )
}

/// A link into the list, showing every state, narrowed by the dashboard's filters and `more`.
fn list_link(filter: &DashboardFilter, more: impl FnOnce(&mut ListQuery)) -> String {
    let mut q = ListQuery {
        state: StateFilter::All,
        priority: filter.priority,
        category: filter.category.clone(),
        service: filter.service.clone(),
        group: filter.group.clone(),
        ..ListQuery::default()
    };
    more(&mut q);
    format!("/?{}", q.to_params())
}

/// One bar of a chart.
#[derive(Clone)]
struct Bar {
    label: String,
    value: u32,
}

/// Horizontal bars, longest to scale.
fn bars(caption: String, rows: Vec<Bar>) -> AnyView {
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0).max(1);
    let height = 22 * rows.len().max(1);
    view! {
        <svg class="chart" viewBox=format!("0 0 320 {height}") role="presentation" aria-hidden="true" focusable="false">
            <title>{caption}</title>
            {rows.into_iter().enumerate().map(|(i, r)| {
                let y = 22 * i;
                let width = 200 * r.value / max;
                view! {
                    <text x="0" y=y + 15 class="chart-label">{r.label}</text>
                    <rect x="110" y=y + 4 width=width.max(1) height="14" class="chart-bar"/>
                    <text x=114 + width y=y + 15 class="chart-value">{r.value}</text>
                }
            }).collect_view()}
        </svg>
    }
    .into_any()
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let state = use_app();
    let days = RwSignal::new("30".to_string());
    let first = RwSignal::new(String::new());
    let last = RwSignal::new(String::new());
    let priority = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());

    let filter = Memo::new(move |_| {
        let named =
            |s: RwSignal<String>| Some(s.get().trim().to_string()).filter(|s| !s.is_empty());
        DashboardFilter {
            priority: priority.get().parse().ok().and_then(Priority::from_number),
            category: named(category),
            service: named(service),
            group: named(group),
        }
    });
    let period = Memo::new(move |_| match days.get().as_str() {
        "range" => Period::dates(&first.get(), &last.get()).map_err(|e| e.to_string()),
        d => Ok(Period::last_days(d.parse().unwrap_or(30), now())),
    });
    // Worked out in a task of its own after the page (or the change of filter) is drawn, so
    // neither the navigation nor the figures over ten thousand incidents holds a frame for
    // both; the figures on screen stay until newer ones replace them.
    let figures = RwSignal::new(None::<Result<Dashboard, String>>);
    let scope = PageScope::new();
    let runs = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (period, filter) = (period.get(), filter.get());
        state.summaries.track();
        runs.update_value(|r| *r += 1);
        let run = runs.get_value();
        scope.spawn(async move {
            next_task().await;
            if runs.get_value() != run {
                return; // a newer filter took over
            }
            let cfg = state.config();
            let result = period.map(|p| {
                state.summaries.with_untracked(|all| {
                    dashboard(all.values(), &filter, p, now(), |name| {
                        cfg.calendar_named(name)
                    })
                })
            });
            figures.set(Some(result));
        });
    });

    view! {
        <Title text="Dashboard"/>
        <h1>"Dashboard"</h1>
        <p class="hint">"Worked out on this device from the incidents it holds, so it works offline. How each number is defined is under “How these are counted”."</p>
        <form class="filters dashboard-filters" on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <label for="d-period">"Period"</label>
                <select id="d-period" prop:value=days on:change=move |ev| days.set(event_target_value(&ev))>
                    <option value="7">"Last 7 days"</option>
                    <option value="30">"Last 30 days"</option>
                    <option value="90">"Last 90 days"</option>
                    <option value="range">"Chosen dates"</option>
                </select>
            </div>
            <Show when=move || days.get() == "range">
                <div class="field">
                    <label for="d-from">"From"</label>
                    <input id="d-from" type="date" prop:value=first on:change=move |ev| first.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="d-to">"To"</label>
                    <input id="d-to" type="date" prop:value=last on:change=move |ev| last.set(event_target_value(&ev))/>
                </div>
            </Show>
            <div class="field">
                <label for="d-priority">"Priority"</label>
                <select id="d-priority" prop:value=priority on:change=move |ev| priority.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {Priority::ALL.iter().map(|p| view! { <option value=p.number().to_string()>{p.to_string()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="d-category">"Category"</label>
                <select id="d-category" prop:value=category on:change=move |ev| category.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {move || state.workspace.with(|w| w.config.categories.iter().map(|c| view! { <option value=c.name.clone()>{c.name.clone()}</option> }).collect_view())}
                </select>
            </div>
            <div class="field">
                <label for="d-service">"Service"</label>
                <input id="d-service" list="directory-services" prop:value=service on:change=move |ev| service.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="d-group">"Group"</label>
                <input id="d-group" list="directory-groups" prop:value=group on:change=move |ev| group.set(event_target_value(&ev))/>
            </div>
        </form>
        {move || match figures.get() {
            None => view! { <p class="loading" role="status">"Working out the figures…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="feedback-error" role="alert">{e}</p> }.into_any(),
            Some(Ok(d)) => view! { <Figures d filter=filter.get_untracked()/> }.into_any(),
        }}
        <Definitions/>
    }
}

/// A table cell: text, or a link into the list.
enum Cell {
    Text(String),
    Link(String, String),
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

fn cell(c: Cell) -> AnyView {
    match c {
        Cell::Text(t) => t.into_any(),
        Cell::Link(href, text) => view! { <A href=href>{text}</A> }.into_any(),
    }
}

/// A table of figures: its caption (for screen readers; the section's heading shows), the
/// column heads, and rows whose first cell heads the row. One function for every table keeps
/// the module small.
fn table(caption: String, head: &[&str], rows: Vec<Vec<Cell>>) -> AnyView {
    view! {
        <table class="data-table">
            <caption class="visually-hidden">{caption}</caption>
            <thead><tr>{head.iter().map(|h| view! { <th scope="col">{h.to_string()}</th> }).collect_view()}</tr></thead>
            <tbody>{rows.into_iter().map(|row| {
                let mut cells = row.into_iter();
                let first = cells.next().map(cell);
                view! {
                    <tr>
                        <th scope="row">{first}</th>
                        {cells.map(|c| view! { <td>{cell(c)}</td> }).collect_view()}
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

fn compliance(c: &Compliance) -> String {
    format!("{} ({} of {})", c.percent_label(), c.met, c.total())
}

fn breakdown(title: &str, head: &str, rows: &[Breakdown]) -> AnyView {
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                Cell::Text(r.name.clone().unwrap_or_else(|| "None".into())),
                compliance(&r.response).into(),
                compliance(&r.resolution).into(),
            ]
        })
        .collect();
    view! {
        <h3>{title.to_string()}</h3>
        {table(format!("SLA compliance {}", title.to_lowercase()), &[head, "Response met", "Resolution met"], rows)}
    }
    .into_any()
}

fn top(
    title: &str,
    head: &str,
    filter: &DashboardFilter,
    rows: &[Tally],
    narrow: fn(&mut ListQuery, String),
) -> AnyView {
    let bar_rows = rows
        .iter()
        .map(|t| Bar {
            label: t.name.clone().unwrap_or_else(|| "None".into()),
            value: t.count,
        })
        .collect();
    let rows = rows
        .iter()
        .map(|t| {
            let first = match &t.name {
                Some(n) => {
                    let n = n.clone();
                    Cell::Link(
                        list_link(filter, move |q| narrow(q, n.clone())),
                        t.name.clone().unwrap_or_default(),
                    )
                }
                None => Cell::Text("None".into()),
            };
            vec![first, t.count.to_string().into()]
        })
        .collect();
    view! {
        <h3>{title.to_string()}</h3>
        {table(format!("{title} with the most incidents"), &[head, "Incidents"], rows)}
        {bars(title.to_string(), bar_rows)}
    }
    .into_any()
}

#[component]
fn Figures(d: Dashboard, filter: DashboardFilter) -> impl IntoView {
    let f = &filter;
    let open_link = list_link(f, |q| q.state = StateFilter::Open);
    let backlog_bars = Priority::ALL
        .iter()
        .map(|p| Bar {
            label: p.to_string(),
            value: d.backlog.of_priority(*p),
        })
        .collect();
    let backlog_rows = Priority::ALL
        .iter()
        .map(|p| {
            let link = list_link(f, |q| {
                q.state = StateFilter::Open;
                q.priority = Some(*p);
            });
            let mut row = vec![Cell::Link(link, p.to_string())];
            row.extend(
                d.backlog.cells[p.index()]
                    .iter()
                    .map(|n| Cell::Text(n.to_string())),
            );
            row.push(d.backlog.of_priority(*p).to_string().into());
            row
        })
        .collect();
    let age: Vec<Bar> = Backlog::BANDS
        .iter()
        .zip(d.backlog.age_bands)
        .map(|(label, value)| Bar {
            label: (*label).to_string(),
            value,
        })
        .collect();
    let age_rows = age
        .iter()
        .map(|b| vec![Cell::Text(b.label.clone()), b.value.to_string().into()])
        .collect();
    let week_rows = d
        .weeks
        .iter()
        .map(|w| {
            vec![
                Cell::Text(w.start.to_datetime().format("%-d %b %Y").to_string()),
                w.created.to_string().into(),
                w.resolved.to_string().into(),
            ]
        })
        .collect();
    let mut backlog_head = vec!["Priority"];
    backlog_head.extend(Backlog::STATES.iter().map(|s| s.label()));
    backlog_head.push("Open");
    let facts = [
        ("Time to first response", times(&d.mtta)),
        ("Time to resolution", times(&d.mttr)),
        ("Response SLA met", compliance(&d.response)),
        ("Resolution SLA met", compliance(&d.resolution)),
        ("Post-incident reviews owed", d.reviews_owed.to_string()),
    ];
    view! {
        <section aria-labelledby="d-headline" class="panel">
            <h2 id="d-headline">"At a glance"</h2>
            <dl class="facts-list dashboard-facts">
                <dt>"Open now"</dt>
                <dd><A href=open_link>{format!("{} open", d.backlog.total())}</A>{format!(", {} past their SLA", d.backlog.breached)}</dd>
                {facts.into_iter().map(|(term, value)| view! { <dt>{term}</dt><dd>{value}</dd> }).collect_view()}
            </dl>
        </section>

        <section aria-labelledby="d-backlog" class="panel">
            <h2 id="d-backlog">"Open backlog by priority and state"</h2>
            {bars("Open incidents by priority".into(), backlog_bars)}
            {table("Open incidents by priority and state".into(), &backlog_head, backlog_rows)}
            <h3>"Age of the open incidents"</h3>
            <p>{format!("Median age {}, p90 {}.", span(d.backlog.age.median_ms), span(d.backlog.age.p90_ms))}</p>
            {bars("Open incidents by age".into(), age)}
            {table("Open incidents by age".into(), &["Age", "Open"], age_rows)}
        </section>

        <section aria-labelledby="d-sla" class="panel">
            <h2 id="d-sla">"SLA compliance"</h2>
            {breakdown("By priority", "Priority", &d.by_priority)}
            {breakdown("By group", "Group", &d.by_group)}
            {breakdown("By category", "Category", &d.by_category)}
        </section>

        <section aria-labelledby="d-trend" class="panel">
            <h2 id="d-trend">"Created and resolved per week"</h2>
            {weeks_chart(&d)}
            {table("Incidents created and resolved per week".into(), &["Week of", "Created", "Resolved"], week_rows)}
        </section>

        <section aria-labelledby="d-top" class="panel">
            <h2 id="d-top">"Most incidents"</h2>
            {top("Categories", "Category", f, &d.top_categories, |q, name| q.category = Some(name))}
            {top("Services", "Service", f, &d.top_services, |q, name| q.service = Some(name))}
        </section>

        <section aria-labelledby="d-major" class="panel">
            <h2 id="d-major">"Major incidents"</h2>
            {if d.major.is_empty() {
                view! { <p class="muted">"No major incidents in this period."</p> }.into_any()
            } else {
                view! {
                    <ul class="reference-list">
                        {d.major.iter().map(|m| view! {
                            <li>
                                <A href=format!("/incidents/{}", m.document_id)>{format!("{} {}", m.reference, m.title)}</A>
                                {format!(" · {}{}", m.state, if m.review_owed { " · review owed" } else { "" })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Two bars a week: created, then resolved.
fn weeks_chart(d: &Dashboard) -> impl IntoView {
    let max = d
        .weeks
        .iter()
        .map(|w| w.created.max(w.resolved))
        .max()
        .unwrap_or(0)
        .max(1);
    let step = 24;
    let width = (step * d.weeks.len()).max(step);
    view! {
        <svg class="chart" viewBox=format!("0 0 {width} 110") role="presentation" aria-hidden="true" focusable="false">
            <title>"Created and resolved per week"</title>
            {d.weeks.iter().enumerate().map(|(i, w)| {
                let x = step * i;
                let h = |v: u32| (90 * v / max) as usize;
                view! {
                    <rect x=x + 2 y=100 - h(w.created) width="9" height=h(w.created).max(1) class="chart-bar"/>
                    <rect x=x + 12 y=100 - h(w.resolved) width="9" height=h(w.resolved).max(1) class="chart-bar chart-bar-alt"/>
                }
            }).collect_view()}
        </svg>
        <p class="hint chart-key"><span class="key key-created"></span>" Created "<span class="key key-resolved"></span>" Resolved"</p>
    }
}

#[component]
fn Definitions() -> impl IntoView {
    view! {
        <details class="panel">
            <summary>"How these are counted"</summary>
            <ul>
                <li>"Open now: New, In Progress and On Hold incidents, whatever the period; age is the time since each was logged."</li>
                <li>"Time to first response: from logging to first leaving New, for incidents first responded to in the period. Time to resolution: from logging to the latest resolution, for incidents resolved in the period and not reopened since; time on hold counts."</li>
                <li>"Median and p90 are nearest-rank: the smallest time with half (nine tenths) of the incidents at or under it."</li>
                <li>"SLA met: of the same incidents, those whose response or resolution clock finished short of its target (working time, holds paused). Canceled incidents are not counted."</li>
                <li>"Weeks start on Monday, 00:00 UTC. Most incidents: those logged in the period."</li>
                <li>"Reviews owed: resolved or closed incidents whose post-incident review the communication plan asks for and that is not complete."</li>
            </ul>
        </details>
    }
}
