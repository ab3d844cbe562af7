//! Conflicts: fields two people set to different values while apart. Every value is shown and a
//! person keeps one; nothing is dropped silently.

use leptos::prelude::*;
use outpost_core::{Command, Field, IncidentView};

use super::dispatch;
use super::sections::{Feedback, FeedbackLine};
use crate::state::use_app;
use crate::tasks::PageScope;

/// A button name for a value: short values by name, long text by version number.
fn keep_label(field: Field, shown: &str, index: usize) -> String {
    if field.is_long_text() || shown.chars().count() > 60 {
        format!("Keep version {}", index + 1)
    } else {
        format!("Keep “{shown}”")
    }
}

#[component]
pub fn Conflicts(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let feedback = RwSignal::new(Feedback::Idle);
    let conflicts = Memo::new(move |_| view.with(|v| v.conflicts.clone()));
    view! {
        <Show when=move || !conflicts.with(Vec::is_empty)>
            <section class="panel conflicts" aria-labelledby="conflicts-title">
                <h2 id="conflicts-title">
                    {move || match conflicts.with(Vec::len) {
                        1 => "1 conflict to settle".to_string(),
                        n => format!("{n} conflicts to settle"),
                    }}
                </h2>
                <p>"These fields were changed on two devices while they were apart. Both values are kept until someone chooses one."</p>
                {move || conflicts.get().into_iter().map(|c| {
                    let field = c.field;
                    let heading_id = format!("conflict-{}", field.key().replace('.', "-"));
                    let labelled_by = heading_id.clone();
                    view! {
                        <div class="conflict" role="group" aria-labelledby=labelled_by>
                            <h3 id=heading_id>{field.label()}</h3>
                            <ul class="conflict-values">
                                {c.values.into_iter().enumerate().map(|(index, value)| {
                                    let shown = field.display(&value);
                                    let label = keep_label(field, &shown, index);
                                    view! {
                                        <li>
                                            <p class="conflict-value">{shown}</p>
                                            <button type="button" on:click=move |_| {
                                                let cmd = Command::SettleConflict { field, value: value.clone() };
                                                dispatch(scope, state, id, vec![cmd], feedback, || {});
                                            }>{label}</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </div>
                    }
                }).collect_view()}
                <FeedbackLine feedback/>
            </section>
        </Show>
    }
}
