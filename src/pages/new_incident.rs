//! Logging a new incident. Every control has a visible label; the priority the workspace matrix
//! gives is shown live; problems are shown next to the field they are about.

use crate::pages::workspace::{Pick, Unlisted};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use outpost_core::incident::{DetectionSource, FieldError, NewIncident};
use outpost_core::{Impact, Urgency};

use crate::components::badges::PriorityBadge;
use crate::components::field_error::{invalid, FieldMessage};
use crate::components::title::Title;
use crate::format::parse_datetime_local;
use crate::repo::RepoError;
use crate::state::use_app;
use crate::tasks::PageScope;

#[component]
pub fn NewIncidentPage() -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let navigate = use_navigate();
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let caller = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let subcategory = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let users = RwSignal::new(String::new());
    let source = RwSignal::new(DetectionSource::UserReport.key().to_string());
    let detected = RwSignal::new(String::new());
    let impact = RwSignal::new("3".to_string());
    let urgency = RwSignal::new("3".to_string());
    let group = RwSignal::new(state.settings.with_untracked(|s| s.team.clone()));
    let assignee = RwSignal::new(String::new());
    let major = RwSignal::new(false);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let level = |s: &str| s.parse::<u8>().ok();
    let priority = Memo::new(move |_| {
        let i = level(&impact.get())
            .and_then(Impact::from_level)
            .unwrap_or(Impact::Low);
        let u = level(&urgency.get())
            .and_then(Urgency::from_level)
            .unwrap_or(Urgency::Low);
        state
            .workspace
            .with(|w| w.config.priority_matrix.priority(i, u))
    });
    let subcategories = Memo::new(move |_| {
        let chosen = category.get();
        state.workspace.with(|w| {
            w.config
                .categories
                .iter()
                .find(|c| c.name == chosen)
                .map(|c| c.subcategories.clone())
                .unwrap_or_default()
        })
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let detected_text = detected.get_untracked();
        let detected_at = if detected_text.trim().is_empty() {
            None
        } else {
            parse_datetime_local(&detected_text)
        };
        if !detected_text.trim().is_empty() && detected_at.is_none() {
            errors.set(vec![FieldError::new(
                "detected_at",
                "Enter the detection time as a date and time.",
            )]);
            return;
        }
        let new = NewIncident {
            title: title.get_untracked(),
            description: description.get_untracked(),
            caller: caller.get_untracked(),
            category: category.get_untracked(),
            subcategory: subcategory.get_untracked(),
            affected_service: service.get_untracked(),
            affected_users: users
                .get_untracked()
                .split([',', '\n'])
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(String::from)
                .collect(),
            detection_source: DetectionSource::from_key(&source.get_untracked())
                .unwrap_or(DetectionSource::Other),
            detected_at,
            impact: level(&impact.get_untracked())
                .and_then(Impact::from_level)
                .unwrap_or(Impact::Low),
            urgency: level(&urgency.get_untracked())
                .and_then(Urgency::from_level)
                .unwrap_or(Urgency::Low),
            assignment_group: group.get_untracked(),
            assignee: assignee.get_untracked(),
            major_incident: major.get_untracked(),
        };
        busy.set(true);
        form_error.set(None);
        let navigate = navigate.clone();
        scope.finish(state.create(new), move |result| {
            match result {
                Ok(id) => navigate(&format!("/incidents/{id}"), Default::default()),
                Err(RepoError::Invalid(problems)) => {
                    let (user, fields): (Vec<FieldError>, Vec<FieldError>) =
                        problems.0.into_iter().partition(|e| e.field == "user");
                    form_error.set(user.first().map(|e| e.message.clone()));
                    errors.set(fields);
                    focus_first_error();
                }
                Err(e) => form_error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    view! {
        <Title text="New incident"/>
        <h1>"New incident"</h1>
        <Show when=move || state.read_only()>
            <p class="notice notice-info" role="note">
                "Logging an incident needs the agent role. This device's sign-in can only read."
            </p>
        </Show>
        <form class="incident-form" on:submit=submit novalidate hidden=move || state.read_only()>
            {move || form_error.get().map(|e| view! {
                <div class="notice notice-error" role="alert">
                    <p>{e}</p>
                    <p><A href="/settings">"Open Settings"</A></p>
                </div>
            })}
            {move || (!errors.with(Vec::is_empty)).then(|| view! {
                <p class="notice notice-error" role="alert">"Some fields need attention; see the messages below."</p>
            })}
            <fieldset>
                <legend>"What happened"</legend>
                <div class="field">
                    <label for="title">"Title"</label>
                    <input id="title" type="text" maxlength="160" bind:value=title required
                        aria-invalid=invalid(errors, "title") aria-describedby="title-error"/>
                    <FieldMessage errors field="title" id="title"/>
                </div>
                <div class="field">
                    <label for="description">"Description"</label>
                    <textarea id="description" rows="4" bind:value=description
                        aria-invalid=invalid(errors, "description") aria-describedby="description-error"></textarea>
                    <FieldMessage errors field="description" id="description"/>
                </div>
                <div class="field">
                    <label for="caller">"Caller"</label>
                    <input id="caller" type="text" list="directory-people" autocomplete="off" bind:value=caller
                        aria-invalid=invalid(errors, "caller") aria-describedby="caller-error caller-hint caller-unlisted"/>
                    <Unlisted value=caller pick=Pick::Person id="caller"/>
                    <p class="hint" id="caller-hint">"Required when a user reported it."</p>
                    <FieldMessage errors field="caller" id="caller"/>
                </div>
                <div class="field">
                    <label for="users">"Affected users"</label>
                    <input id="users" type="text" bind:value=users aria-describedby="users-hint affected_users-error"
                        aria-invalid=invalid(errors, "affected_users")/>
                    <p class="hint" id="users-hint">"Separate names with commas."</p>
                    <FieldMessage errors field="affected_users" id="affected_users"/>
                </div>
                <div class="field">
                    <label for="source">"Detection source"</label>
                    <select id="source" bind:value=source>
                        {DetectionSource::ALL.iter().map(|d| view! { <option value=d.key()>{d.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="detected">"Detected at"</label>
                    <input id="detected" type="datetime-local" bind:value=detected
                        aria-invalid=invalid(errors, "detected_at") aria-describedby="detected-hint detected_at-error"/>
                    <p class="hint" id="detected-hint">"Leave empty if it was detected just now."</p>
                    <FieldMessage errors field="detected_at" id="detected_at"/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Classification"</legend>
                <div class="field">
                    <label for="category">"Category"</label>
                    <select id="category" bind:value=category aria-invalid=invalid(errors, "category") aria-describedby="category-error">
                        <option value="">"None"</option>
                        {move || state.workspace.with(|w| w.config.categories.iter().map(|c| view! { <option value=c.name.clone()>{c.name.clone()}</option> }).collect_view())}
                    </select>
                    <FieldMessage errors field="category" id="category"/>
                </div>
                <div class="field">
                    <label for="subcategory">"Subcategory"</label>
                    <input id="subcategory" type="text" list="subcategories" bind:value=subcategory/>
                    <datalist id="subcategories">
                        {move || subcategories.get().into_iter().map(|s| view! { <option value=s/> }).collect_view()}
                    </datalist>
                </div>
                <div class="field">
                    <label for="service">"Affected service"</label>
                    <input id="service" type="text" list="directory-services" autocomplete="off" bind:value=service
                        aria-invalid=invalid(errors, "affected_service") aria-describedby="affected_service-error"/>
                    <FieldMessage errors field="affected_service" id="affected_service"/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Priority"</legend>
                <div class="field-row">
                    <div class="field">
                        <label for="impact">"Impact"</label>
                        <select id="impact" bind:value=impact>
                            {Impact::ALL.iter().map(|i| view! { <option value=i.level().to_string()>{i.to_string()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="urgency">"Urgency"</label>
                        <select id="urgency" bind:value=urgency>
                            {Urgency::ALL.iter().map(|u| view! { <option value=u.level().to_string()>{u.to_string()}</option> }).collect_view()}
                        </select>
                    </div>
                </div>
                <p class="computed-priority" aria-live="polite">
                    "Priority: " {move || view! { <PriorityBadge priority=priority.get()/> }}
                </p>
                <div class="field field-check">
                    <input id="major" type="checkbox" bind:checked=major/>
                    <label for="major">"Major incident"</label>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Assignment"</legend>
                <div class="field">
                    <label for="group">"Assignment group"</label>
                    <input id="group" type="text" list="directory-groups" autocomplete="off" bind:value=group
                        aria-invalid=invalid(errors, "assignment_group") aria-describedby="assignment_group-error group-unlisted"/>
                    <Unlisted value=group pick=Pick::Group id="group"/>
                    <FieldMessage errors field="assignment_group" id="assignment_group"/>
                </div>
                <div class="field">
                    <label for="assignee">"Assignee"</label>
                    <input id="assignee" type="text" list="directory-people" autocomplete="off" bind:value=assignee
                        aria-invalid=invalid(errors, "assignee") aria-describedby="assignee-error assignee-unlisted"/>
                    <Unlisted value=assignee pick=Pick::Person id="assignee"/>
                    <FieldMessage errors field="assignee" id="assignee"/>
                </div>
            </fieldset>
            <crate::pages::knowledge::WhileLogging title category service/>
            <button type="submit" prop:disabled=move || busy.get()>"Create incident"</button>
        </form>
    }
}

/// Moves focus to the first invalid input, so keyboard and screen-reader users land on it.
fn focus_first_error() {
    request_animation_frame(|| {
        if let Ok(Some(el)) = document().query_selector("[aria-invalid=\"true\"]") {
            if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                let _ = el.focus();
            }
        }
    });
}
