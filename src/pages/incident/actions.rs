//! Lifecycle actions, as buttons named after them. Actions that need more (a hold reason, a
//! resolution, a reason) open a small form; the core's guards decide, and a refusal is shown
//! next to the input it is about.

use leptos::prelude::*;
use outpost_core::state::{Action, ActionKind, HoldReason, ResolutionCode};
use outpost_core::{Command, IncidentView};

use super::dispatch;
use super::sections::{invalid_attr, Feedback, FeedbackLine};
use crate::state::use_app;
use crate::tasks::PageScope;

#[component]
pub fn Actions(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let open = RwSignal::new(None::<ActionKind>);
    let feedback = RwSignal::new(Feedback::Idle);
    let hold_reason = RwSignal::new(HoldReason::AwaitingCaller.key().to_string());
    let note = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let resolution = RwSignal::new(String::new());
    let available =
        Memo::new(move |_| view.with(|v| v.incident.state.available_actions().to_vec()));
    let current = Memo::new(move |_| view.with(|v| v.incident.state));

    let reset = move || {
        open.set(None);
        note.set(String::new());
        resolution.set(String::new());
        code.set(String::new());
    };
    let send = move |action: Action| {
        dispatch(
            scope,
            state,
            id,
            vec![Command::Transition(action)],
            feedback,
            reset,
        );
    };
    let press = move |kind: ActionKind| {
        feedback.set(Feedback::Idle);
        if kind == ActionKind::StartWork {
            send(Action::StartWork);
        } else {
            open.update(|o| *o = if *o == Some(kind) { None } else { Some(kind) });
        }
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let action = match open.get_untracked() {
            Some(ActionKind::PutOnHold) => Action::PutOnHold {
                reason: HoldReason::from_key(&hold_reason.get_untracked())
                    .unwrap_or(HoldReason::AwaitingCaller),
                note: note.get_untracked(),
            },
            Some(ActionKind::Resolve) => Action::Resolve {
                code: ResolutionCode::named(&code.get_untracked()),
                notes: resolution.get_untracked(),
            },
            Some(ActionKind::Reopen) => Action::Reopen {
                reason: note.get_untracked(),
            },
            Some(ActionKind::Cancel) => Action::Cancel {
                reason: note.get_untracked(),
            },
            Some(ActionKind::Close) => Action::Close,
            _ => return,
        };
        send(action);
    };
    let caller_hold = move || hold_reason.get() == HoldReason::AwaitingCaller.key();

    view! {
        <Show when=move || !available.with(Vec::is_empty) && !state.read_only()>
            <section class="panel actions" aria-labelledby="actions-title">
                <h2 id="actions-title">"Actions"</h2>
                <div class="action-buttons">
                    {move || available.get().into_iter().map(|kind| {
                        let expands = kind != ActionKind::StartWork;
                        let refusal = move || state.action_refusal(kind, current.get());
                        let reason_id = format!("why-not-{}", kind.key());
                        view! {
                            <button type="button" class=if kind == ActionKind::Cancel { "secondary danger" } else { "secondary" }
                                disabled=move || refusal().is_some()
                                aria-describedby=move || refusal().map(|_| reason_id.clone())
                                aria-expanded=move || expands.then(|| (open.get() == Some(kind)).to_string())
                                aria-controls=expands.then_some("action-form")
                                on:click=move |_| press(kind)>
                                {kind.label()}
                            </button>
                        }
                    }).collect_view()}
                </div>
                {move || available.get().into_iter().filter_map(|kind| {
                    state.action_refusal(kind, current.get()).map(|why| view! {
                        <p class="hint" id=format!("why-not-{}", kind.key())>{why}</p>
                    })
                }).collect_view()}
                {move || open.get().map(|kind| view! {
                    <form id="action-form" class="action-form" on:submit=confirm>
                        {match kind {
                            ActionKind::PutOnHold => view! {
                                <div class="field">
                                    <label for="hold-reason">"Hold reason"</label>
                                    <select id="hold-reason" bind:value=hold_reason>
                                        {HoldReason::ALL.iter().map(|r| view! { <option value=r.key()>{r.label()}</option> }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="hold-note">
                                        {move || if caller_hold() { "Comment to the caller" } else { "Work note (optional)" }}
                                    </label>
                                    <textarea id="hold-note" rows="3" bind:value=note
                                        aria-invalid=invalid_attr(feedback, "note") aria-describedby="action-error"></textarea>
                                </div>
                                <button type="submit">"Confirm hold"</button>
                            }.into_any(),
                            ActionKind::Resolve => view! {
                                <div class="field">
                                    <label for="resolution-code">"Resolution code"</label>
                                    <select id="resolution-code" bind:value=code
                                        aria-invalid=invalid_attr(feedback, "resolution_code") aria-describedby="action-error">
                                        <option value="">"Choose…"</option>
                                        {move || state.workspace.with(|w| w.config.offered_resolution_codes()).into_iter().map(|c| {
                                            let (name, description) = (c.name, c.description);
                                            let value = name.clone();
                                            view! { <option value=value title=description>{name}</option> }
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="resolution-notes">"Resolution notes"</label>
                                    <textarea id="resolution-notes" rows="4" bind:value=resolution
                                        aria-invalid=invalid_attr(feedback, "resolution_notes") aria-describedby="action-error"></textarea>
                                </div>
                                <button type="submit">"Confirm resolution"</button>
                            }.into_any(),
                            ActionKind::Reopen => view! {
                                <div class="field">
                                    <label for="reopen-reason">"Reason for reopening"</label>
                                    <textarea id="reopen-reason" rows="3" bind:value=note
                                        aria-invalid=invalid_attr(feedback, "note") aria-describedby="action-error"></textarea>
                                </div>
                                <button type="submit">"Confirm reopen"</button>
                            }.into_any(),
                            ActionKind::Cancel => view! {
                                <div class="field">
                                    <label for="cancel-reason">"Reason for canceling"</label>
                                    <textarea id="cancel-reason" rows="3" bind:value=note
                                        aria-invalid=invalid_attr(feedback, "note") aria-describedby="action-error"></textarea>
                                </div>
                                <button type="submit" class="danger">"Confirm cancellation"</button>
                            }.into_any(),
                            ActionKind::Close => view! {
                                <p>"Closing makes the incident read-only. The post-incident review stays open."</p>
                                <button type="submit">"Confirm close"</button>
                            }.into_any(),
                            ActionKind::StartWork => ().into_any(),
                        }}
                        <button type="button" class="secondary" on:click=move |_| { open.set(None); feedback.set(Feedback::Idle); }>
                            "Dismiss"
                        </button>
                    </form>
                })}
                <FeedbackLine feedback id="action-error"/>
            </section>
        </Show>
    }
}
