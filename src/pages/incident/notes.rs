//! Work notes (internal), comments (customer-visible) and stakeholder status updates: each an
//! append-only list with its own form.

use leptos::prelude::*;
use outpost_core::incident::NoteKind;
use outpost_core::{Command, IncidentView};

use super::dispatch;
use super::sections::{invalid_attr, Feedback, FeedbackLine};
use crate::format::local_time;
use crate::state::use_app;
use crate::tasks::PageScope;

#[component]
pub fn Notes(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let read_only =
        Memo::new(move |_| view.with(|v| v.incident.state.is_read_only()) || state.read_only());
    view! {
        <section class="panel notes" aria-labelledby="notes-title">
            <h2 id="notes-title">"Notes"</h2>
            {NoteKind::ALL.iter().map(|kind| view! { <NoteList id view kind=*kind read_only/> }).collect_view()}
        </section>
    }
}

fn hint(kind: NoteKind) -> &'static str {
    match kind {
        NoteKind::WorkNote => "Internal: seen only by the people working incidents.",
        NoteKind::Comment => {
            "Shared with the caller and affected users; counts as an update to them."
        }
        NoteKind::StatusUpdate => "For stakeholders, per the communication plan.",
    }
}

#[component]
fn NoteList(
    id: Memo<String>,
    view: Memo<IncidentView>,
    kind: NoteKind,
    read_only: Memo<bool>,
) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let draft = RwSignal::new(String::new());
    let feedback = RwSignal::new(Feedback::Idle);
    let input_id = format!("note-{}", kind.key());
    let hint_id = format!("{input_id}-hint");
    let error_id: &'static str = match kind {
        NoteKind::WorkNote => "note-work_note-error",
        NoteKind::Comment => "note-comment-error",
        NoteKind::StatusUpdate => "note-status_update-error",
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let cmd = Command::AddNote {
            kind,
            body: draft.get_untracked(),
        };
        dispatch(scope, state, id, vec![cmd], feedback, move || {
            draft.set(String::new())
        });
    };
    let notes = Memo::new(move |_| view.with(|v| v.incident.notes(kind).to_vec()));
    let heading = match kind {
        NoteKind::WorkNote => "Work notes",
        NoteKind::Comment => "Comments",
        NoteKind::StatusUpdate => "Status updates",
    };
    view! {
        <div class=format!("note-list note-{}", kind.key())>
            <h3>{move || format!("{heading} ({})", notes.with(Vec::len))}</h3>
            <Show when=move || !read_only.get()>
                <form class="note-form" on:submit=add>
                    <div class="field">
                        <label for=input_id.clone()>{kind.label()}</label>
                        <textarea id=input_id.clone() rows="3" bind:value=draft
                            aria-describedby=format!("{hint_id} {error_id}") aria-invalid=invalid_attr(feedback, "note")></textarea>
                        <p class="hint" id=hint_id.clone()>{hint(kind)}</p>
                    </div>
                    <button type="submit">{format!("Add {}", kind.label().to_lowercase())}</button>
                    <FeedbackLine feedback id=error_id/>
                </form>
            </Show>
            <ol class="notes-list" reversed>
                <For each=move || notes.get().into_iter().rev() key=|n| n.id.clone() children=move |n| view! {
                    <li class="note">
                        <p class="note-meta"><strong>{n.author.clone()}</strong> " · " <time>{local_time(n.at)}</time></p>
                        <p class="note-body">{n.body.clone()}</p>
                    </li>
                }/>
            </ol>
        </div>
    }
}
