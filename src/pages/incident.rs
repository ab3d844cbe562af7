//! One incident: everything about it, and everything a person can do to it.
//!
//! The page loads the document and recomputes its view whenever it changes (a command, a sync)
//! and as the clock ticks. Sections are created once and read the view reactively, so a clock
//! tick or a colleague's change never resets what someone is typing.

mod actions;
mod conflicts;
mod details;
mod links;
mod notes;
mod refusal;
mod review;
pub(crate) mod sections;
mod timeline;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use outpost_core::IncidentView;
use outpost_sync::DocumentId;

use crate::components::badges::{PriorityBadge, StateBadge};
use crate::components::title::Title;
use crate::format::{ago, local_time};
use crate::repo::RepoError;
use crate::state::{use_app, AppState};
use crate::tasks::PageScope;

pub use sections::Feedback;

/// Runs commands for one section of the page and reports the outcome in `feedback`; `done` runs
/// after they all succeed.
pub(crate) fn dispatch(
    scope: PageScope,
    state: AppState,
    id: Memo<String>,
    commands: Vec<outpost_core::Command>,
    feedback: RwSignal<Feedback>,
    done: impl FnOnce() + 'static,
) {
    let Ok(doc) = id.get_untracked().parse::<DocumentId>() else {
        return;
    };
    if commands.is_empty() {
        feedback.set(Feedback::Info("Nothing to change.".into()));
        return;
    }
    feedback.set(Feedback::Busy);
    scope.finish(state.run_all(doc, commands), move |result| match result {
        Ok(_) => {
            feedback.set(Feedback::Saved);
            done();
        }
        Err(e) => feedback.set(Feedback::from_error(&e)),
    });
}

#[component]
pub fn IncidentPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let loaded = RwSignal::new(None::<IncidentView>);
    let loaded_for = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let scope = PageScope::new();

    // This incident's revision alone: a pull bumps hundreds of others, and reading the whole map
    // here would recompute this page's view for each of them.
    let revision =
        Memo::new(move |_| id.with(|text| state.revisions.with(|r| r.get(text).copied())));
    // Bumped to load again soon after a storage failure (a busy or briefly failing IndexedDB),
    // rather than at the next tick of the clock.
    let retry = RwSignal::new(0u32);
    Effect::new(move |_| {
        let text = id.get();
        revision.get();
        retry.track();
        state.now.track();
        // A workspace change (targets, calendar, matrix) recomputes the view as it syncs.
        state.workspace.track();
        if !state.ready.get() {
            return;
        }
        if loaded_for.get_untracked() != text {
            loaded.set(None);
            problem.set(None);
        }
        let Ok(doc) = text.parse::<DocumentId>() else {
            problem.set(Some("This address does not name an incident.".into()));
            return;
        };
        scope.spawn(async move {
            let result = state.view(doc).await;
            if id.get_untracked() != text {
                return; // navigated elsewhere meanwhile
            }
            match result {
                Ok(v) => {
                    problem.set(None);
                    loaded_for.set(text);
                    loaded.set(Some(v));
                }
                Err(e) => {
                    if matches!(e, RepoError::Storage(_)) {
                        scope.after(std::time::Duration::from_secs(1), move || {
                            retry.update(|n| *n += 1)
                        });
                    }
                    loaded.set(None);
                    problem.set(Some(e.to_string()));
                }
            }
        });
    });

    let has_view = Memo::new(move |_| loaded.with(Option::is_some));
    view! {
        {move || problem.get().map(|p| view! { <sections::Unreadable id message=p/> })}
        {move || {
            if has_view.get() {
                let view = Memo::new(move |previous: Option<&IncidentView>| {
                    loaded.get().or_else(|| previous.cloned()).expect("rendered only once a view is loaded")
                });
                view! { <IncidentBody id view/> }.into_any()
            } else if problem.with(Option::is_none) {
                view! { <p class="loading" role="status">"Loading the incident…"</p> }.into_any()
            } else {
                ().into_any()
            }
        }}
    }
}

#[component]
fn IncidentBody(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let title = Memo::new(move |_| {
        view.with(|v| format!("{}: {}", v.incident.reference, v.incident.title))
    });
    let read_only = Memo::new(move |_| view.with(|v| v.incident.state.is_read_only()));
    view! {
        <Title text=title/>
        <article class="incident" aria-labelledby="incident-title">
            <header class="incident-header">
                <h1 id="incident-title">{title}</h1>
                <p class="facts">
                    {move || view.with(|v| view! {
                        <PriorityBadge priority=v.priority/>
                        " "
                        <StateBadge state=v.incident.state/>
                        {v.incident.major_incident.then(|| view! { " " <span class="badge badge-major">"Major incident"</span> })}
                        {(!v.incident.restricted_to.is_empty()).then(|| view! { " " <span class="badge badge-restricted">{format!("Restricted to {}", v.incident.restricted_to.join(", "))}</span> })}
                    })}
                </p>
                {move || view.with(|v| {
                    // Only a well-formed http(s) address becomes a link (a peer may have written
                    // anything there); anything else shows as text.
                    let link = v.incident.bridge_link.clone();
                    (!link.is_empty()).then(|| match outpost_core::command::bridge_link(&link) {
                        Ok(href) => view! {
                            <p class="bridge"><a href=href target="_blank" rel="noopener noreferrer">"Join the bridge"</a>" "<span class="bridge-address">{link}</span></p>
                        }.into_any(),
                        Err(_) => view! { <p class="bridge">"Bridge: " {link}</p> }.into_any(),
                    })
                })}
                <p class="meta">
                    {move || view.with(|v| format!(
                        "Reported {} by {} · updated {}",
                        local_time(v.incident.reported_at),
                        v.incident.reported_by,
                        ago(v.last_updated, state.now.get()),
                    ))}
                </p>
            </header>
            <refusal::Refusal id view/>
            <conflicts::Conflicts id view/>
            <Show when=move || state.read_only() && !read_only.get()>
                <p class="notice notice-info" role="note">
                    "You can read incidents here; changing them needs the agent role."
                </p>
            </Show>
            <Show when=move || read_only.get()>
                <p class="notice notice-info" role="note">
                    {move || view.with(|v| format!(
                        "This incident is {}. It can no longer be changed; the post-incident review stays open.",
                        v.incident.state
                    ))}
                </p>
            </Show>
            <div class="incident-grid">
                <div class="incident-main">
                    <sections::Clocks view/>
                    <actions::Actions id view/>
                    <crate::pages::knowledge::Suggested id view/>
                    <notes::Notes id view/>
                    <review::Review id view/>
                    <timeline::Timeline id view/>
                </div>
                <aside class="incident-side" aria-label="Details">
                    <details::Details id view/>
                    <details::AffectedUsers id view/>
                    <links::Links id view/>
                </aside>
            </div>
        </article>
    }
}
