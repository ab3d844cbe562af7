//! Links: parent and child incidents, the incident this duplicates, and problem, change and
//! knowledge references.
//!
//! The incident to link to is typed (reference number or title words) with suggestions, not
//! picked from a list of every incident: with thousands stored, such a list costs every incident
//! page thousands of elements, rebuilt whenever any incident changes.

use leptos::prelude::*;
use leptos_router::components::A;
use outpost_core::incident::{ExternalRef, IncidentLink, ReferenceKind};
use outpost_core::summary::{link_candidates, resolve_link};
use outpost_core::{Command, Field, IncidentView};

use super::dispatch;
use super::sections::{invalid_attr, Feedback, FeedbackLine};
use crate::state::use_app;
use crate::tasks::PageScope;

/// Suggestions shown while typing a link target.
const SUGGESTIONS: usize = 12;

#[component]
pub fn Links(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let feedback = RwSignal::new(Feedback::Idle);
    let read_only =
        Memo::new(move |_| view.with(|v| v.incident.state.is_read_only()) || state.read_only());
    let kind = RwSignal::new(ReferenceKind::Problem.key().to_string());
    let number = RwSignal::new(String::new());
    let parent_choice = RwSignal::new(String::new());
    let duplicate_choice = RwSignal::new(String::new());

    // Suggestions for what is typed in a link field: (reference, "INC-…: title").
    let suggestions = move |typed: RwSignal<String>| {
        Memo::new(move |_| {
            let typed = typed.get();
            if typed.trim().is_empty() {
                return Vec::new();
            }
            let me = id.get();
            state.summaries.with(|all| {
                link_candidates(all.values(), &typed, &me, SUGGESTIONS)
                    .into_iter()
                    .map(|s| (s.reference.clone(), format!("{}: {}", s.reference, s.title)))
                    .collect::<Vec<_>>()
            })
        })
    };
    let describe = move |doc: &str| {
        state
            .summaries
            .with(|all| all.get(doc).map(|s| (s.reference.clone(), s.title.clone())))
    };
    let children = Memo::new(move |_| {
        let me = id.get();
        let mut list: Vec<(String, String)> = state.summaries.with(|all| {
            all.values()
                .filter(|s| s.parent.as_deref() == Some(me.as_str()))
                .map(|s| {
                    (
                        s.document_id.clone(),
                        format!("{}: {}", s.reference, s.title),
                    )
                })
                .collect()
        });
        list.sort();
        list
    });
    let set_link = move |field: Field, choice: RwSignal<String>| {
        let me = id.get_untracked();
        let target = state.summaries.with_untracked(|all| {
            resolve_link(all.values(), &choice.get_untracked(), &me).map(|s| IncidentLink {
                document_id: s.document_id.clone(),
                reference: s.reference.clone(),
            })
        });
        let target = match target {
            Ok(target) => Some(target),
            Err(message) => {
                feedback.set(Feedback::Error {
                    message,
                    field: Some(field.key().into()),
                });
                return;
            }
        };
        let cmd = if field == Field::Parent {
            Command::SetParent(target)
        } else {
            Command::SetDuplicateOf(target)
        };
        dispatch(scope, state, id, vec![cmd], feedback, move || {
            choice.set(String::new())
        });
    };
    let add_reference = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let reference = ExternalRef {
            kind: ReferenceKind::from_key(&kind.get_untracked()).unwrap_or(ReferenceKind::Problem),
            id: number.get_untracked(),
        };
        dispatch(
            scope,
            state,
            id,
            vec![Command::AddReference(reference)],
            feedback,
            move || number.set(String::new()),
        );
    };

    let linked = move |field: Field| {
        move || {
            view.with(|v| match field {
                Field::Parent => v.incident.parent.clone(),
                _ => v.incident.duplicate_of.clone(),
            })
            .map(|doc| {
                let (reference, title) = describe(&doc).unwrap_or_else(|| (doc.clone(), "not on this device yet".into()));
                let label = if field == Field::Parent { "Remove parent" } else { "Remove duplicate link" };
                view! {
                    <p>
                        <A href=format!("/incidents/{doc}")>{format!("{reference}: {title}")}</A>
                        <Show when=move || !read_only.get()>
                            " "
                            <button type="button" class="link-button" on:click=move |_| {
                                let cmd = if field == Field::Parent { Command::SetParent(None) } else { Command::SetDuplicateOf(None) };
                                dispatch(scope, state, id, vec![cmd], feedback, || {});
                            }>{label}</button>
                        </Show>
                    </p>
                }
            })
        }
    };
    let picker = move |field: Field,
                       choice: RwSignal<String>,
                       input_id: &'static str,
                       label: &'static str,
                       button: &'static str| {
        let options = suggestions(choice);
        let list_id = format!("{input_id}-suggestions");
        view! {
            <Show when=move || !read_only.get()>
                <div class="inline-form">
                    <div class="field">
                        <label for=input_id>{label}</label>
                        <input id=input_id type="text" list=list_id.clone() bind:value=choice autocomplete="off"
                            placeholder="Reference number or title"
                            aria-invalid=invalid_attr(feedback, field.key()) aria-describedby="links-error"/>
                        <datalist id=list_id.clone()>
                            {move || options.get().into_iter().map(|(reference, text)| view! { <option value=reference>{text}</option> }).collect_view()}
                        </datalist>
                    </div>
                    <button type="button" class="secondary" on:click=move |_| set_link(field, choice)>{button}</button>
                </div>
            </Show>
        }
    };

    view! {
        <section class="panel links" aria-labelledby="links-title">
            <h2 id="links-title">"Links"</h2>
            <h3>"Parent incident"</h3>
            {linked(Field::Parent)}
            {picker(Field::Parent, parent_choice, "link-parent", "New parent", "Set parent")}
            <h3>"Child incidents"</h3>
            <Show when=move || !children.with(Vec::is_empty) fallback=|| view! { <p class="muted">"None."</p> }>
                <ul>
                    {move || children.get().into_iter().map(|(doc, text)| view! {
                        <li><A href=format!("/incidents/{doc}")>{text}</A></li>
                    }).collect_view()}
                </ul>
            </Show>
            <h3>"Duplicate of"</h3>
            {linked(Field::DuplicateOf)}
            {picker(Field::DuplicateOf, duplicate_choice, "link-duplicate", "Original incident", "Mark as duplicate")}
            <h3>"Problems, changes and knowledge"</h3>
            <ul class="reference-list">
                {move || view.with(|v| v.incident.references.clone()).into_iter().map(|r| {
                    let text = r.to_string();
                    let remove = r.clone();
                    view! {
                        <li>
                            {text.clone()}
                            <Show when=move || !read_only.get()>
                                " "
                                <button type="button" class="link-button" aria-label=format!("Remove {text}")
                                    on:click={ let remove = remove.clone(); move |_| dispatch(scope, state, id, vec![Command::RemoveReference(remove.clone())], feedback, || {}) }>
                                    "Remove"
                                </button>
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Show when=move || !read_only.get()>
                <form class="inline-form" on:submit=add_reference>
                    <div class="field">
                        <label for="reference-kind">"Reference type"</label>
                        <select id="reference-kind" bind:value=kind>
                            {ReferenceKind::ALL.iter().filter(|k| **k != ReferenceKind::Imported).map(|k| view! { <option value=k.key()>{k.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="reference-number">"Reference number"</label>
                        <input id="reference-number" type="text" placeholder="PRB0040123" bind:value=number
                            aria-invalid=invalid_attr(feedback, "reference") aria-describedby="links-error"/>
                    </div>
                    <button type="submit" class="secondary">"Add reference"</button>
                </form>
            </Show>
            <FeedbackLine feedback id="links-error"/>
        </section>
    }
}
