//! Pieces every section of the incident page uses: feedback after a command, the SLA and
//! communication clocks, and what to show when an incident cannot be read.

use leptos::prelude::*;
use outpost_core::sla::SlaClock;
use outpost_core::IncidentView;
use outpost_sync::DocumentId;
use wasm_bindgen::JsCast;

use crate::format::{due, level_class, local_time};
use crate::repo::RepoError;
use crate::state::use_app;
use crate::tasks::PageScope;

/// What happened to the last command a section sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Feedback {
    /// Nothing yet.
    #[default]
    Idle,
    /// Saving.
    Busy,
    /// Done.
    Saved,
    /// Something to know.
    Info(String),
    /// Refused, with the input it is about.
    Error {
        /// What went wrong.
        message: String,
        /// The input key, when about one input.
        field: Option<String>,
    },
}

impl Feedback {
    /// The feedback for a failed command.
    pub fn from_error(e: &RepoError) -> Feedback {
        match e {
            RepoError::Command(c) => Feedback::Error {
                message: c.to_string(),
                field: c.field().map(String::from),
            },
            RepoError::Invalid(v) => Feedback::Error {
                message: v.to_string(),
                field: v.0.first().map(|f| f.field.clone()),
            },
            other => Feedback::Error {
                message: other.to_string(),
                field: None,
            },
        }
    }

    /// Whether the refusal is about `field`.
    pub fn is_about(&self, field: &str) -> bool {
        matches!(self, Feedback::Error { field: Some(f), .. } if f == field)
    }
}

/// `aria-invalid` value for an input, given a section's feedback.
pub fn invalid_attr(
    feedback: RwSignal<Feedback>,
    field: &'static str,
) -> impl Fn() -> &'static str + Copy {
    move || {
        if feedback.with(|f| f.is_about(field)) {
            "true"
        } else {
            "false"
        }
    }
}

/// The message under a section's form.
#[component]
pub fn FeedbackLine(
    feedback: RwSignal<Feedback>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    move || {
        match feedback.get() {
        Feedback::Idle => ().into_any(),
        Feedback::Busy => view! { <p class="feedback" role="status">"Saving…"</p> }.into_any(),
        Feedback::Saved => view! { <p class="feedback feedback-ok" role="status">"Saved."</p> }.into_any(),
        Feedback::Info(m) => view! { <p class="feedback" role="status">{m}</p> }.into_any(),
        Feedback::Error { message, .. } => {
            view! { <p class="feedback feedback-error" role="alert" id=id.unwrap_or_default()>{message}</p> }.into_any()
        }
    }
    }
}

fn clock_line(
    clock: &SlaClock,
    calendar: &outpost_core::calendar::BusinessCalendar,
) -> impl IntoView {
    // The line already says how much time is left; this says when that runs out, as a time of
    // day (business-hours clocks run out later than the time left suggests).
    let breach = clock
        .breach_at(calendar)
        .map(|t| format!(" · due {}", local_time(t)));
    view! {
        <li class=level_class(clock)>
            <span class="clock-text">{clock.describe()}</span>
            <span class="clock-due">{breach}</span>
            <meter min="0" max="100" low="50" high="75" optimum="0" value=clock.percent_used().min(100).to_string()
                aria-label=format!("{} SLA used", clock.kind.label())>
            </meter>
        </li>
    }
}

/// SLA clocks and the communication plan's next updates.
#[component]
pub fn Clocks(view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    view! {
        <section class="panel clocks" aria-labelledby="clocks-title">
            <h2 id="clocks-title">"SLA and updates"</h2>
            {move || view.with(|v| {
                let now = state.now.get();
                let calendar = state.config().calendar;
                let c = &v.communication;
                view! {
                    <ul class="clock-list">
                        {clock_line(&v.sla.response, &calendar)}
                        {clock_line(&v.sla.resolution, &calendar)}
                    </ul>
                    <p class="hint sla-definition">{format!("SLA definition {}", v.sla_definition.describe())}</p>
                    <ul class="update-list">
                        {c.update_due.map(|t| view! {
                            <li class=if t <= now { "update overdue" } else { "update" }>
                                {format!("Next update to affected users {} ({})", due(t, now), local_time(t))}
                            </li>
                        })}
                        {c.stakeholder_update_due.map(|t| view! {
                            <li class=if t <= now { "update overdue" } else { "update" }>
                                {format!("Next stakeholder status update {} ({})", due(t, now), local_time(t))}
                            </li>
                        })}
                        {c.report_due.then(|| view! {
                            <li class="update overdue">"A post-incident report is due: complete the review below."</li>
                        })}
                        {(c.update_due.is_none() && c.stakeholder_update_due.is_none() && !c.report_due).then(|| view! {
                            <li class="update">"No updates due."</li>
                        })}
                    </ul>
                }
            })}
        </section>
    }
}

/// An incident whose data cannot be read: say which, keep the bytes, offer them for recovery.
#[component]
pub fn Unreadable(id: Memo<String>, message: String) -> impl IntoView {
    let state = use_app();
    let reference = Memo::new(move |_| {
        let id = id.get();
        state
            .summaries
            .with(|s| s.get(&id).map(|s| format!("{} ({})", s.reference, s.title)))
    });
    let note = RwSignal::new(None::<String>);
    let scope = PageScope::new();
    let download = move |_| {
        let Ok(doc) = id.get_untracked().parse::<DocumentId>() else {
            return;
        };
        scope.spawn(async move {
            let Ok(repo) = state.repo() else { return };
            match repo.raw_records(&doc).await {
                Ok(records) if !records.is_empty() => {
                    let bytes: Vec<u8> = records.into_iter().flat_map(|r| r.bytes).collect();
                    match save_file(
                        &format!("{doc}.automerge"),
                        &bytes,
                        "application/octet-stream",
                    ) {
                        Ok(()) => note.set(Some(
                            "Downloaded. Keep the file: it can be repaired with Automerge tools."
                                .into(),
                        )),
                        Err(e) => note.set(Some(e)),
                    }
                }
                Ok(_) => note.set(Some(
                    "Nothing is stored for this incident on this device.".into(),
                )),
                Err(e) => note.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <h1>{move || reference.get().unwrap_or_else(|| "Incident".to_string())}</h1>
        <div class="notice notice-error" role="alert">
            <p>{message}</p>
        </div>
        <button type="button" class="secondary" on:click=download>"Download its data"</button>
        {move || note.get().map(|n| view! { <p class="feedback" role="status">{n}</p> })}
    }
}

/// Offers bytes to the person as a file download.
pub fn save_file(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let array = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes).into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&array, &options)
        .map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let anchor: web_sys::HtmlAnchorElement = document()
        .create_element("a")
        .map_err(|e| format!("{e:?}"))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}
