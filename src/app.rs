//! The application shell: header and navigation, the update banner, app-wide notices, the theme,
//! and the routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::components::update_banner::UpdateBanner;
use crate::pages::incident::IncidentPage;
use crate::pages::join::JoinPage;
use crate::pages::list::IncidentList;
use crate::pages::new_incident::NewIncidentPage;
use crate::pages::report::ReportPage;
use crate::pages::settings::SettingsPage;
use crate::pwa::Pwa;
use crate::settings::Theme;
use crate::state::{use_app, AppState};
use crate::sync::SyncStatus;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::provide();
    state.start();
    Pwa::provide().start();
    Effect::new(move |_| {
        let theme = state.settings.with(|s| s.theme);
        if let Some(root) = document().document_element() {
            let _ = match theme {
                Theme::System => root.remove_attribute("data-theme"),
                other => root.set_attribute("data-theme", other.key()),
            };
        }
    });
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header/>
            <UpdateBanner/>
            <Notices/>
            <crate::components::reminders::Reminders/>
            <crate::pages::workspace::DirectoryLists/>
            <main id="main" class="app-main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=IncidentList/>
                    <Route path=path!("/dashboard") view=crate::pages::dashboard::DashboardPage/>
                    <Route path=path!("/import") view=crate::pages::import::ImportPage/>
                    <Route path=path!("/knowledge") view=crate::pages::knowledge::KnowledgePage/>
                    <Route path=path!("/knowledge/:id") view=crate::pages::knowledge::ArticlePage/>
                    <Route path=path!("/incidents/new") view=NewIncidentPage/>
                    <Route path=path!("/incidents/:id") view=IncidentPage/>
                    <Route path=path!("/incidents/:id/report") view=ReportPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                    <Route path=path!("/settings/workspace") view=crate::pages::workspace::WorkspacePage/>
                    <Route path=path!("/settings/workspace/:part") view=crate::pages::workspace::WorkspacePage/>
                    <Route path=path!("/join") view=JoinPage/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let state = use_app();
    view! {
        <header class="app-header">
            <A href="/" attr:class="brand">
                <img src="/icons/outpost.svg" alt="" width="28" height="28"/>
                <span class="brand-name">"Outpost"</span>
            </A>
            <nav aria-label="Main">
                <ul class="nav">
                    <li><A href="/" exact=true>"Incidents"</A></li>
                    <Show when=move || !state.read_only()>
                        <li><A href="/incidents/new">"New incident"</A></li>
                    </Show>
                    <li><A href="/knowledge">"Knowledge"</A></li>
                    <li><A href="/dashboard">"Dashboard"</A></li>
                    <li><A href="/settings">"Settings"</A></li>
                </ul>
            </nav>
            <SyncIndicator/>
        </header>
    }
}

/// Sync state and unsynced changes, always visible.
#[component]
fn SyncIndicator() -> impl IntoView {
    let state = use_app();
    let class = move || match state.sync_status.get() {
        SyncStatus::UpToDate => "sync sync-ok",
        SyncStatus::Refused(_) => "sync sync-refused",
        SyncStatus::Offline(_) => "sync sync-offline",
        _ => "sync sync-busy",
    };
    let pending = move || {
        let n = state.pending_total();
        (n > 0).then(|| format!("{n} change{} not yet synced", if n == 1 { "" } else { "s" }))
    };
    // The link's name is its text, so what a screen reader says is what is shown: "Sync:" and
    // the separator are there for screen readers only.
    view! {
        <A href="/settings#sync" attr:class=class attr:title=move || state.sync_status.get().detail()>
            <span class="sync-dot" aria-hidden="true"></span>
            <span class="visually-hidden">"Sync: "</span>
            <span class="sync-label" role="status">{move || state.sync_status.get().label()}</span>
            {move || pending().map(|p| view! { <span class="visually-hidden">", "</span><span class="sync-pending">{p}</span> })}
        </A>
    }
}

/// Messages about the app itself: storage problems, a refused sign-in, unsaved changes,
/// unreadable entries.
#[component]
fn Notices() -> impl IntoView {
    let state = use_app();
    view! {
        <div class="notices" role="status" aria-live="polite">
            {move || state.storage_problem.get().map(|p| view! { <p class="notice notice-error">{p}</p> })}
            // A refusal needs the person to act (sign in again, fix a token): say it, not only
            // in the status line's tooltip.
            {move || match state.sync_status.get() {
                SyncStatus::Refused(why) => Some(view! { <p class="notice notice-error">{why}</p> }),
                _ => None,
            }}
            {move || {
                let unsaved = state.unsaved.get();
                (!unsaved.is_empty()).then(|| {
                    let reason = unsaved[0].1.clone();
                    let count = unsaved.len();
                    view! {
                        <p class="notice notice-warning">
                            {format!(
                                "{count} incident{} not saved on this device yet. {reason}",
                                if count == 1 { " has changes" } else { "s have changes" },
                            )}
                        </p>
                    }
                })
            }}
            {move || match state.relisting.get() {
                0 => None,
                n => Some(view! {
                    <p class="notice notice-info">
                        {format!(
                            "Updating the list's details of {n} incident{} (the workspace's rules, or what this version lists, changed).",
                            if n == 1 { "" } else { "s" },
                        )}
                    </p>
                }),
            }}
            {move || state.withdrawn.get().into_iter().map(|text| view! {
                <p class="notice notice-warning">{text}</p>
            }).collect_view()}
            {move || {
                let unlisted = state.unlisted.get();
                (!unlisted.is_empty()).then(|| view! {
                    <p class="notice notice-warning">
                        {format!(
                            "{} incident{} could not be listed because {} list entry is damaged: {}. Their data is kept.",
                            unlisted.len(),
                            if unlisted.len() == 1 { "" } else { "s" },
                            if unlisted.len() == 1 { "its" } else { "their" },
                            unlisted.join(", "),
                        )}
                    </p>
                })
            }}
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"There is nothing at this address. " <A href="/">"Back to the incidents"</A></p>
    }
}
