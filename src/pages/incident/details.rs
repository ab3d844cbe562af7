//! The incident's fields: read, edited, assigned, escalated, declared major, and its affected
//! users.
//!
//! Editing starts from a snapshot of the fields taken when the person presses "Edit details", and
//! saving sends a command only for each field they changed, so a colleague's concurrent change to
//! another field is never overwritten.

use crate::pages::workspace::{Pick, Unlisted};
use leptos::prelude::*;
use outpost_core::incident::{DetectionSource, EscalationLevel, Incident};
use outpost_core::{access, Command, Field, Impact, IncidentView, Urgency};

use super::dispatch;
use super::sections::{invalid_attr, Feedback, FeedbackLine};
use crate::format::{datetime_local_value, local_time, parse_datetime_local};
use crate::state::use_app;
use crate::tasks::PageScope;

/// The editable fields, as the form holds them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Draft {
    title: String,
    description: String,
    caller: String,
    category: String,
    subcategory: String,
    service: String,
    source: String,
    detected: String,
    impact: String,
    urgency: String,
    group: String,
    assignee: String,
    escalation: String,
    major: bool,
    bridge: String,
    /// The groups it is restricted to, comma-separated.
    restricted: String,
}

impl Draft {
    fn of(i: &Incident) -> Draft {
        Draft {
            title: i.title.clone(),
            description: i.description.clone(),
            caller: i.caller.clone(),
            category: i.category.clone(),
            subcategory: i.subcategory.clone(),
            service: i.affected_service.clone(),
            source: i.detection_source.key().to_string(),
            detected: datetime_local_value(i.detected_at),
            impact: i.impact.level().to_string(),
            urgency: i.urgency.level().to_string(),
            group: i.assignment_group.clone(),
            assignee: i.assignee.clone(),
            escalation: i.escalation.key().to_string(),
            major: i.major_incident,
            bridge: i.bridge_link.clone(),
            restricted: i.restricted_to.join(", "),
        }
    }

    /// The commands that turn `base` into `self`, for changed fields only. `mine` are the
    /// person's groups: a restriction that leaves them out would lock them out, and the relay
    /// would refuse it.
    fn commands(
        &self,
        base: &Draft,
        mine: &[String],
    ) -> Result<Vec<Command>, (&'static str, String)> {
        let mut cmds = Vec::new();
        let changed = |a: &str, b: &str| a.trim() != b.trim();
        if changed(&self.title, &base.title) {
            cmds.push(Command::SetTitle(self.title.clone()));
        }
        if changed(&self.description, &base.description) {
            cmds.push(Command::SetDescription(self.description.clone()));
        }
        let caller =
            changed(&self.caller, &base.caller).then(|| Command::SetCaller(self.caller.clone()));
        let source = (self.source != base.source).then(|| {
            Command::SetDetectionSource(
                DetectionSource::from_key(&self.source).unwrap_or(DetectionSource::Other),
            )
        });
        // A user report needs a caller: clear the caller only after leaving "user report", and
        // set a caller before switching to it.
        if self.caller.trim().is_empty() {
            cmds.extend(source.into_iter().chain(caller));
        } else {
            cmds.extend(caller.into_iter().chain(source));
        }
        if changed(&self.category, &base.category) || changed(&self.subcategory, &base.subcategory)
        {
            cmds.push(Command::SetCategory {
                category: self.category.clone(),
                subcategory: self.subcategory.clone(),
            });
        }
        if changed(&self.service, &base.service) {
            cmds.push(Command::SetAffectedService(self.service.clone()));
        }
        if self.detected != base.detected {
            let at = parse_datetime_local(&self.detected).ok_or((
                "detected_at",
                "Enter the detection time as a date and time.".to_string(),
            ))?;
            cmds.push(Command::SetDetectedAt(at));
        }
        let level = |s: &str| s.parse::<u8>().ok();
        if self.impact != base.impact {
            cmds.push(Command::SetImpact(
                level(&self.impact)
                    .and_then(Impact::from_level)
                    .unwrap_or(Impact::Low),
            ));
        }
        if self.urgency != base.urgency {
            cmds.push(Command::SetUrgency(
                level(&self.urgency)
                    .and_then(Urgency::from_level)
                    .unwrap_or(Urgency::Low),
            ));
        }
        if changed(&self.group, &base.group) {
            cmds.push(Command::SetAssignmentGroup(self.group.clone()));
        }
        if changed(&self.assignee, &base.assignee) {
            cmds.push(Command::SetAssignee(self.assignee.clone()));
        }
        if self.escalation != base.escalation {
            cmds.push(Command::SetEscalation(
                EscalationLevel::from_key(&self.escalation).unwrap_or(EscalationLevel::Level1),
            ));
        }
        if self.major != base.major {
            cmds.push(Command::SetMajorIncident(self.major));
        }
        if changed(&self.bridge, &base.bridge) {
            cmds.push(Command::SetBridgeLink(self.bridge.clone()));
        }
        let groups = |s: &str| access::parse_groups(s);
        if groups(&self.restricted) != groups(&base.restricted) {
            let key = Field::RestrictedTo.key();
            let chosen = access::typed_groups(&self.restricted).map_err(|e| (key, e.message))?;
            if !chosen.is_empty() && !chosen.iter().any(|g| mine.contains(g)) {
                let yours = if mine.is_empty() {
                    "you are in no group".to_string()
                } else {
                    format!("yours: {}", mine.join(", "))
                };
                return Err((
                    key,
                    format!("Restrict it to at least one of your own groups ({yours}), or you could no longer read it."),
                ));
            }
            cmds.push(Command::RestrictTo(chosen));
        }
        Ok(cmds)
    }
}

fn or_none(s: &str) -> String {
    if s.trim().is_empty() {
        "—".to_string()
    } else {
        s.to_string()
    }
}

#[component]
pub fn Details(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let editing = RwSignal::new(false);
    let base = StoredValue::new(Draft::default());
    let feedback = RwSignal::new(Feedback::Idle);
    let text = || RwSignal::new(String::new());
    let (title, description, caller, category, subcategory, service, source) =
        (text(), text(), text(), text(), text(), text(), text());
    let (detected, impact, urgency, group, assignee, escalation) =
        (text(), text(), text(), text(), text(), text());
    let major = RwSignal::new(false);
    let bridge = text();
    let restricted = text();
    let read_only =
        Memo::new(move |_| view.with(|v| v.incident.state.is_read_only()) || state.read_only());
    let me = Memo::new(move |_| state.settings.with(|s| s.user_name.trim().to_string()));

    let start = move |_| {
        let d = view.with_untracked(|v| Draft::of(&v.incident));
        title.set(d.title.clone());
        description.set(d.description.clone());
        caller.set(d.caller.clone());
        category.set(d.category.clone());
        subcategory.set(d.subcategory.clone());
        service.set(d.service.clone());
        source.set(d.source.clone());
        detected.set(d.detected.clone());
        impact.set(d.impact.clone());
        urgency.set(d.urgency.clone());
        group.set(d.group.clone());
        assignee.set(d.assignee.clone());
        escalation.set(d.escalation.clone());
        major.set(d.major);
        bridge.set(d.bridge.clone());
        restricted.set(d.restricted.clone());
        base.set_value(d);
        feedback.set(Feedback::Idle);
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = Draft {
            title: title.get_untracked(),
            description: description.get_untracked(),
            caller: caller.get_untracked(),
            category: category.get_untracked(),
            subcategory: subcategory.get_untracked(),
            service: service.get_untracked(),
            source: source.get_untracked(),
            detected: detected.get_untracked(),
            impact: impact.get_untracked(),
            urgency: urgency.get_untracked(),
            group: group.get_untracked(),
            assignee: assignee.get_untracked(),
            escalation: escalation.get_untracked(),
            major: major.get_untracked(),
            bridge: bridge.get_untracked(),
            restricted: restricted.get_untracked(),
        };
        let mine = state.settings.with_untracked(|s| s.groups.clone());
        match draft.commands(&base.get_value(), &mine) {
            Ok(cmds) => dispatch(scope, state, id, cmds, feedback, move || editing.set(false)),
            Err((field, message)) => feedback.set(Feedback::Error {
                message,
                field: Some(field.to_string()),
            }),
        }
    };
    let assign_to_me = move |_| {
        let name = me.get_untracked();
        dispatch(
            scope,
            state,
            id,
            vec![Command::SetAssignee(name)],
            feedback,
            || {},
        );
    };
    let categories = state.config().categories;
    let priority = Memo::new(move |_| {
        let l = |s: String| s.parse::<u8>().ok();
        let i = l(impact.get())
            .and_then(Impact::from_level)
            .unwrap_or(Impact::Low);
        let u = l(urgency.get())
            .and_then(Urgency::from_level)
            .unwrap_or(Urgency::Low);
        state.workspace.with(|w| {
            w.config
                .priority_label(w.config.priority_matrix.priority(i, u))
        })
    });

    let facts = move || {
        view.with(|v| {
            let i = &v.incident;
            let rows: Vec<(&str, String)> = vec![
                ("Caller", or_none(&i.caller)),
                ("Category", or_none(&[i.category.as_str(), i.subcategory.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" / "))),
                ("Affected service", or_none(&i.affected_service)),
                ("Detection source", i.detection_source.label().to_string()),
                ("Detected", local_time(i.detected_at)),
                ("Impact", i.impact.to_string()),
                ("Urgency", i.urgency.to_string()),
                ("Assignment group", or_none(&i.assignment_group)),
                ("Assignee", if i.assignee.is_empty() { "Unassigned".into() } else { i.assignee.clone() }),
                ("Escalation level", i.escalation.label().to_string()),
                ("Major incident", if i.major_incident { "Yes".into() } else { "No".into() }),
                ("Bridge link", or_none(&i.bridge_link)),
                ("Restricted to", if i.restricted_to.is_empty() { "Everyone in the workspace".into() } else { i.restricted_to.join(", ") }),
            ];
            view! {
                <dl class="facts-list">
                    {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
                <h3>"Description"</h3>
                <p class="description">{or_none(&i.description)}</p>
            }
        })
    };

    view! {
        <section class="panel details" aria-labelledby="details-title">
            <h2 id="details-title">"Details"</h2>
            <Show when=move || editing.get() fallback=move || view! {
                {facts}
                <Show when=move || !read_only.get()>
                    <div class="button-row">
                        <button type="button" class="secondary" on:click=start>"Edit details"</button>
                        <Show when=move || !me.get().is_empty() && view.with(|v| v.incident.assignee != me.get())>
                            <button type="button" class="secondary" on:click=assign_to_me>"Assign to me"</button>
                        </Show>
                    </div>
                </Show>
                <FeedbackLine feedback/>
            }>
                <form class="details-form" on:submit=save novalidate>
                    <div class="field">
                        <label for="edit-title">"Title"</label>
                        <input id="edit-title" type="text" maxlength="160" bind:value=title aria-invalid=invalid_attr(feedback, "title") aria-describedby="details-error"/>
                    </div>
                    <div class="field">
                        <label for="edit-description">"Description"</label>
                        <textarea id="edit-description" rows="4" bind:value=description></textarea>
                    </div>
                    <div class="field">
                        <label for="edit-caller">"Caller"</label>
                        <input id="edit-caller" type="text" list="directory-people" autocomplete="off" bind:value=caller aria-invalid=invalid_attr(feedback, "caller") aria-describedby="details-error"/>
                    </div>
                    <div class="field">
                        <label for="edit-category">"Category"</label>
                        <select id="edit-category" bind:value=category aria-invalid=invalid_attr(feedback, "category") aria-describedby="details-error">
                            <option value="">"None"</option>
                            {categories.iter().map(|c| view! { <option value=c.name.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="edit-subcategory">"Subcategory"</label>
                        <input id="edit-subcategory" type="text" bind:value=subcategory/>
                    </div>
                    <div class="field">
                        <label for="edit-service">"Affected service"</label>
                        <input id="edit-service" type="text" list="directory-services" autocomplete="off" bind:value=service/>
                    </div>
                    <div class="field">
                        <label for="edit-source">"Detection source"</label>
                        <select id="edit-source" bind:value=source>
                            {DetectionSource::ALL.iter().map(|d| view! { <option value=d.key()>{d.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="edit-detected">"Detected at"</label>
                        <input id="edit-detected" type="datetime-local" bind:value=detected aria-invalid=invalid_attr(feedback, "detected_at") aria-describedby="details-error"/>
                    </div>
                    <div class="field-row">
                        <div class="field">
                            <label for="edit-impact">"Impact"</label>
                            <select id="edit-impact" bind:value=impact>
                                {Impact::ALL.iter().map(|i| view! { <option value=i.level().to_string()>{i.to_string()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="edit-urgency">"Urgency"</label>
                            <select id="edit-urgency" bind:value=urgency>
                                {Urgency::ALL.iter().map(|u| view! { <option value=u.level().to_string()>{u.to_string()}</option> }).collect_view()}
                            </select>
                        </div>
                    </div>
                    <p class="computed-priority" aria-live="polite">"Priority: " {priority}</p>
                    <div class="field">
                        <label for="edit-group">"Assignment group"</label>
                        <input id="edit-group" type="text" list="directory-groups" autocomplete="off" bind:value=group aria-describedby="edit-group-unlisted"/>
                        <Unlisted value=group pick=Pick::Group id="edit-group"/>
                    </div>
                    <div class="field">
                        <label for="edit-assignee">"Assignee"</label>
                        <input id="edit-assignee" type="text" list="directory-people" autocomplete="off" bind:value=assignee aria-describedby="edit-assignee-unlisted"/>
                        <Unlisted value=assignee pick=Pick::Person id="edit-assignee"/>
                    </div>
                    <div class="field">
                        <label for="edit-escalation">"Escalation level"</label>
                        <select id="edit-escalation" bind:value=escalation>
                            {EscalationLevel::ALL.iter().map(|e| view! { <option value=e.key()>{e.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field field-check">
                        <input id="edit-major" type="checkbox" bind:checked=major/>
                        <label for="edit-major">"Major incident"</label>
                    </div>
                    <div class="field">
                        <label for="edit-bridge">"Bridge link"</label>
                        <input id="edit-bridge" type="url" inputmode="url" placeholder="https://" bind:value=bridge aria-invalid=invalid_attr(feedback, "bridge_link") aria-describedby="edit-bridge-hint details-error"/>
                        <p class="hint" id="edit-bridge-hint">"The coordination call (Teams or any conference link): shown at the top of the incident and in every notification about it."</p>
                    </div>
                    <div class="field">
                        <label for="edit-restricted">"Restricted to groups"</label>
                        <input id="edit-restricted" type="text" bind:value=restricted aria-invalid=invalid_attr(feedback, "restricted_to") aria-describedby="edit-restricted-hint details-error"/>
                        <p class="hint" id="edit-restricted-hint">{move || {
                            let mine = state.settings.with(|s| s.groups.join(", "));
                            let yours = if mine.is_empty() { "You are in no group.".to_string() } else { format!("Your groups: {mine}.") };
                            format!("Comma-separated. Only their members can read it; empty: everyone in the workspace. {yours}")
                        }}</p>
                    </div>
                    <div class="button-row">
                        <button type="submit">"Save changes"</button>
                        <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Dismiss"</button>
                    </div>
                    <FeedbackLine feedback id="details-error"/>
                </form>
            </Show>
        </section>
    }
}

#[component]
pub fn AffectedUsers(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let name = RwSignal::new(String::new());
    let feedback = RwSignal::new(Feedback::Idle);
    let read_only =
        Memo::new(move |_| view.with(|v| v.incident.state.is_read_only()) || state.read_only());
    let users = Memo::new(move |_| view.with(|v| v.incident.affected_users.clone()));
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        dispatch(
            scope,
            state,
            id,
            vec![Command::AddAffectedUser(name.get_untracked())],
            feedback,
            move || name.set(String::new()),
        );
    };
    view! {
        <section class="panel affected" aria-labelledby="affected-title">
            <h2 id="affected-title">{move || format!("Affected users ({})", users.with(Vec::len))}</h2>
            <ul class="chip-list">
                <For each=move || users.get() key=|u| u.clone() children=move |u| {
                    let who = u.clone();
                    view! {
                        <li class="chip">
                            {u.clone()}
                            <Show when=move || !read_only.get()>
                                <button type="button" class="chip-remove" aria-label=format!("Remove {who}")
                                    on:click={ let who = who.clone(); move |_| dispatch(scope, state, id, vec![Command::RemoveAffectedUser(who.clone())], feedback, || {}) }>
                                    "×"
                                </button>
                            </Show>
                        </li>
                    }
                }/>
            </ul>
            <Show when=move || !read_only.get()>
                <form class="inline-form" on:submit=add>
                    <div class="field">
                        <label for="affected-name">"Affected user"</label>
                        <input id="affected-name" type="text" bind:value=name aria-invalid=invalid_attr(feedback, "affected_users") aria-describedby="affected-error"/>
                    </div>
                    <button type="submit" class="secondary">"Add affected user"</button>
                </form>
            </Show>
            <FeedbackLine feedback id="affected-error"/>
        </section>
    }
}
