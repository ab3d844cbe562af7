//! The post-incident review, once the incident is resolved (and after it is closed): six
//! sections, saved section by section, and the report built from them.

use leptos::prelude::*;
use leptos_router::components::A;
use outpost_core::incident::ReviewSection;
use outpost_core::{Command, IncidentView, State};

use super::dispatch;
use super::sections::{Feedback, FeedbackLine};
use crate::state::use_app;
use crate::tasks::PageScope;

#[component]
pub fn Review(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let feedback = RwSignal::new(Feedback::Idle);
    let visible = Memo::new(move |_| {
        view.with(|v| matches!(v.incident.state, State::Resolved | State::Closed))
    });
    let drafts: Vec<(ReviewSection, RwSignal<String>)> = ReviewSection::ALL
        .iter()
        .map(|s| (*s, RwSignal::new(String::new())))
        .collect();
    // Start from what is stored, and take in stored changes the person has not edited.
    let stored = StoredValue::new(Vec::<String>::new());
    {
        let drafts = drafts.clone();
        Effect::new(move |_| {
            let current: Vec<String> = view.with(|v| {
                ReviewSection::ALL
                    .iter()
                    .map(|s| v.incident.review.section(*s).to_string())
                    .collect()
            });
            let previous = stored.get_value();
            for (i, (_, draft)) in drafts.iter().enumerate() {
                let untouched = previous.get(i).is_none_or(|p| *p == draft.get_untracked());
                if untouched {
                    draft.set(current[i].clone());
                }
            }
            stored.set_value(current);
        });
    }
    let save = {
        let drafts = drafts.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let current = stored.get_value();
            let cmds: Vec<Command> = drafts
                .iter()
                .enumerate()
                .filter(|(i, (_, d))| {
                    current
                        .get(*i)
                        .is_none_or(|c| c.trim() != d.get_untracked().trim())
                })
                .map(|(_, (section, d))| Command::UpdateReview {
                    section: *section,
                    text: d.get_untracked(),
                })
                .collect();
            dispatch(scope, state, id, cmds, feedback, || {});
        }
    };
    // Whether this person may write it: a closed incident's review is the manager's.
    let refusal = Memo::new(move |_| {
        let incident_state = view.with(|v| v.incident.state);
        let cmd = Command::UpdateReview {
            section: ReviewSection::Overview,
            text: String::new(),
        };
        state
            .role()
            .and_then(|r| r.may(&cmd, incident_state).err())
            .map(|r| r.to_string())
    });
    view! {
        <Show when=move || visible.get()>
            <section class="panel review" aria-labelledby="review-title">
                <h2 id="review-title">"Post-incident review"</h2>
                {move || view.with(|v| {
                    let missing = v.incident.review.missing_sections();
                    (!missing.is_empty()).then(|| view! {
                        <p class="hint">{format!(
                            "Still to write: {}.",
                            missing.iter().map(|s| s.label().to_lowercase()).collect::<Vec<_>>().join(", ")
                        )}</p>
                    })
                })}
                <form class="review-form" on:submit=save.clone()>
                    {drafts.clone().into_iter().map(|(section, draft)| {
                        let input = format!("review-{}", section.key());
                        view! {
                            <div class="field">
                                <label for=input.clone()>{section.label()}</label>
                                <textarea id=input rows="4" bind:value=draft></textarea>
                            </div>
                        }
                    }).collect_view()}
                    <div class="button-row">
                        <button type="submit" disabled=move || refusal.get().is_some()
                            aria-describedby=move || refusal.get().map(|_| "review-why-not")>"Save review"</button>
                        <A href=move || format!("/incidents/{}/report", id.get()) attr:class="button secondary">"Open the report"</A>
                    </div>
                    {move || refusal.get().map(|why| view! { <p class="hint" id="review-why-not">{why}</p> })}
                    <FeedbackLine feedback/>
                </form>
            </section>
        </Show>
    }
}
