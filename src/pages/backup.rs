//! Settings → Backup: the whole workspace as one file (every document in Automerge's own format,
//! with its id), and restoring such a file into an empty workspace. The file format and its
//! checks are `outpost_core::backup`'s.

use leptos::prelude::*;
use outpost_core::backup::{self, Kind, Restored};
use outpost_core::knowledge;
use outpost_core::workspace::WorkspaceDoc;
use outpost_core::{IncidentDoc, Role};
use outpost_sync::DocumentId;

use crate::clock::now;
use crate::pages::incident::sections::save_file;
use crate::state::{use_app, AppState};
use crate::tasks::{next_task, PageScope};

/// Documents read or written between giving the main thread back.
const SLICE: usize = 50;

/// Every document stored here, saved whole: the export file's text.
async fn export(state: AppState) -> Result<(String, usize), String> {
    let repo = state.repo().map_err(|e| e.to_string())?;
    let ids = repo.stored_ids();
    let mut docs: Vec<(String, Kind, Vec<u8>)> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if i % SLICE == SLICE - 1 {
            next_task().await;
        }
        let key = id.to_string();
        let listed = state.summaries.with_untracked(|s| s.contains_key(&key));
        repo.open_doc(id)
            .await
            .map_err(|e| format!("Incident {key} could not be read: {e}"))?;
        let found = repo
            .with_doc(id, |d| {
                let am = d.automerge();
                let kind = if listed {
                    Some(Kind::Incident)
                } else if WorkspaceDoc::claims(am) {
                    Some(Kind::Workspace)
                } else if knowledge::claims(am, None) {
                    Some(Kind::Knowledge)
                } else {
                    None
                };
                kind.map(|k| (k, d.save()))
            })
            .map_err(|e| e.to_string())?;
        if let Some((kind, bytes)) = found {
            docs.push((key, kind, bytes));
        }
    }
    let (workspace, by) = state
        .settings
        .with_untracked(|s| (s.workspace.clone(), s.user_name.clone()));
    let text = backup::write(
        &workspace,
        &by,
        now(),
        docs.iter()
            .map(|(id, k, b)| (id.as_str(), *k, b.as_slice())),
    );
    Ok((text, docs.len()))
}

/// Restores every document of an export here; the sync sends them to the relay.
async fn restore(state: AppState, restored: Restored) -> Result<String, String> {
    let repo = state.repo().map_err(|e| e.to_string())?;
    let (cfg, at) = (state.config(), now());
    let mut sent = Vec::new();
    // Incidents are stored a slice at a time, one transaction each.
    let mut incidents: Vec<(DocumentId, IncidentDoc)> = Vec::new();
    let store = |batch: Vec<(DocumentId, IncidentDoc)>| {
        let repo = repo.clone();
        let cfg = cfg.clone();
        async move {
            for (id, result) in repo.insert_many(batch, &cfg, at).await {
                match result {
                    Ok(Some(saved)) => state.record_saved(&saved),
                    Ok(None) => {}
                    Err(e) => return Err(format!("Incident {id} could not be stored: {e}")),
                }
            }
            Ok(())
        }
    };
    for (id, kind, doc) in restored.documents {
        let parsed: DocumentId = id
            .parse()
            .map_err(|_| format!("Document id {id} in the export is not valid."))?;
        match kind {
            Kind::Incident => {
                incidents.push((parsed, IncidentDoc::holding(doc)));
                if incidents.len() == SLICE {
                    store(std::mem::take(&mut incidents)).await?;
                    next_task().await;
                }
            }
            Kind::Knowledge => {
                repo.insert_article(parsed, doc, &cfg, at)
                    .await
                    .map_err(|e| format!("Article {id} could not be stored: {e}"))?;
            }
            Kind::Workspace => {
                // This workspace's document has the id its relay chose: the export's settings
                // are merged into it.
                let target = state.workspace_document().ok_or(
                    "This workspace's settings document is not known yet: connect to the relay once, then restore.",
                )?;
                repo.merge_workspace(&target, doc, &cfg, at)
                    .await
                    .map_err(|e| format!("The workspace's settings could not be stored: {e}"))?;
                sent.push(target);
                state.reload_workspace();
                continue;
            }
        }
        sent.push(parsed);
    }
    store(incidents).await?;
    state.load_articles();
    if let Some(sync) = state.sync() {
        for id in &sent {
            sync.local_change(*id);
        }
    }
    Ok(format!(
        "Restored {} document{}. They reach the relay as the device syncs.",
        sent.len(),
        if sent.len() == 1 { "" } else { "s" }
    ))
}

#[component]
pub fn WorkspaceBackup() -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let note = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let chosen = RwSignal::new(None::<Result<Restored, String>>);
    // Restoring is for an empty workspace, by an admin (it rewrites the workspace's settings
    // and brings back closed incidents, which only the admin role may write at once).
    let restore_refusal = move || {
        if state.role().is_some_and(|r| r < Role::Admin) {
            Some("Restoring a workspace needs the admin role.".to_string())
        } else if !state.summaries.with(|s| s.is_empty()) || !state.articles.with(|a| a.is_empty())
        {
            Some("Restoring is for an empty workspace: this device already holds incidents or articles.".to_string())
        } else {
            None
        }
    };
    let on_export = move |_| {
        busy.set(true);
        scope.spawn(async move {
            let outcome = export(state).await.and_then(|(text, n)| {
                let name = format!(
                    "outpost-workspace-{}.json",
                    now().to_datetime().format("%Y-%m-%d")
                );
                save_file(&name, text.as_bytes(), "application/json")
                    .map(|()| format!("Exported {n} documents."))
            });
            note.set(Some(outcome));
            busy.set(false);
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = crate::pages::import::file_input(&ev) else {
            return;
        };
        scope.spawn(async move {
            let read = crate::pages::import::read_file(input).await;
            chosen.set(Some(read.and_then(|(_, text)| {
                backup::read(&text).map_err(|e| e.to_string())
            })));
        });
    };
    let on_restore = move |_| {
        let Some(Ok(restored)) = chosen.try_update(Option::take).flatten() else {
            return;
        };
        busy.set(true);
        scope.spawn(async move {
            note.set(Some(restore(state, restored).await));
            busy.set(false);
        });
    };
    view! {
        <fieldset id="backup">
            <legend>"Backup"</legend>
            <p class="hint">"The whole workspace in one file: every incident, article and the workspace's settings, with their full history, for a backup or to move to another relay."</p>
            <button type="button" class="secondary" disabled=move || busy.get() on:click=on_export>"Export the whole workspace"</button>
            <div class="field">
                <label for="s-restore">"Restore a workspace export"</label>
                <input id="s-restore" type="file" accept=".json,application/json" on:change=on_file
                    disabled=move || restore_refusal().is_some() aria-describedby="restore-hint"/>
                <p class="hint" id="restore-hint">{move || restore_refusal().unwrap_or_else(|| "Into this empty workspace; nothing is written until you confirm.".into())}</p>
            </div>
            {move || chosen.with(|c| c.as_ref().map(|c| match c {
                Err(e) => view! { <p class="feedback-error" role="alert">{e.clone()}</p> }.into_any(),
                Ok(r) => view! {
                    <p role="status">{format!(
                        "From workspace {}, exported {} by {}: {} incidents, {} articles{}.",
                        r.workspace, crate::format::local_time(r.exported_at), r.exported_by,
                        r.count(Kind::Incident), r.count(Kind::Knowledge),
                        if r.count(Kind::Workspace) > 0 { ", and the workspace's settings" } else { "" },
                    )}</p>
                    <button type="button" disabled=move || busy.get() on:click=on_restore>
                        {format!("Restore {} documents", r.documents.len())}
                    </button>
                }.into_any(),
            }))}
            {move || note.get().map(|n| match n {
                Ok(t) => view! { <p class="feedback feedback-ok" role="status">{t}</p> }.into_any(),
                Err(e) => view! { <p class="feedback-error" role="alert">{e}</p> }.into_any(),
            })}
        </fieldset>
    }
}
