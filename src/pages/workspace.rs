//! Settings → Workspace: the workspace's own rules and people, one page per part, edited by
//! admins and read by everyone. Each form is checked by `outpost_core` before it is saved (the
//! message next to the field it is about) and saved as one change of the workspace document;
//! the relay refuses anyone but an admin whatever this page shows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use outpost_core::config::ConfigError;
use outpost_core::directory::{Group, Person};
use outpost_core::sla::{CalendarChoice, SlaTarget};
use outpost_core::workspace::{Edit, EditError, Setting, SettingKey};
use outpost_core::{Capability, Impact, Priority, PriorityMatrix, Urgency};

use crate::components::title::Title;
use crate::repo::RepoError;
use crate::state::{use_app, AppState};

/// The parts, as `(path, title)`.
const PARTS: [(&str, &str); 3] = [
    ("priority", "Priority matrix and labels"),
    ("sla", "SLA targets"),
    ("directory", "Groups and people"),
];

/// Why this device may not change the workspace, if it may not (reactive).
fn refusal(state: AppState) -> Option<String> {
    state
        .role()?
        .may_do(Capability::ConfigureWorkspace)
        .err()
        .map(|r| format!("{}.", r))
}

/// What became of a save, for the person.
fn outcome(result: Result<bool, RepoError>) -> Result<String, String> {
    match result {
        Ok(true) => Ok("Saved. Every device applies it as soon as it syncs.".into()),
        Ok(false) => Ok("Nothing changed.".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Settings → Workspace: the list of parts.
#[component]
pub fn WorkspacePage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let part = move || params.with(|p| p.get("part").unwrap_or_default());
    view! {
        <Title text="Workspace"/>
        <section class="page workspace">
            <h1>"Workspace"</h1>
            <p>{move || state.settings.with(|s| if s.workspace.is_empty() {
                "The rules and people every device of this workspace uses.".to_string()
            } else {
                format!("The rules and people every device of workspace {} uses.", s.workspace)
            })}</p>
            {move || refusal(state).map(|r| view! {
                <p class="notice" role="note" id="workspace-readonly">{format!("You can read the workspace's settings but not change them: {r}")}</p>
            })}
            <nav aria-label="Workspace settings">
                <ul class="parts">
                    {PARTS.iter().map(|(path, title)| view! {
                        <li><A href=format!("/settings/workspace/{path}")>{*title}</A></li>
                    }).collect_view()}
                </ul>
            </nav>
            <Conflicts/>
            {move || match part().as_str() {
                "priority" => view! { <PriorityPart/> }.into_any(),
                "sla" => view! { <SlaPart/> }.into_any(),
                "directory" => view! { <DirectoryPart/> }.into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

/// Settings two admins changed at once, to settle.
#[component]
fn Conflicts() -> impl IntoView {
    let state = use_app();
    let message = RwSignal::new(None::<Result<String, String>>);
    let settle = move |edit: Edit| {
        spawn_local(async move {
            message.set(Some(outcome(state.edit_workspace(vec![edit]).await)));
        });
    };
    view! {
        {move || {
            let conflicts = state.workspace.with(|w| w.conflicts.clone());
            (!conflicts.is_empty()).then(|| view! {
                <div class="panel conflicts" role="region" aria-label="Workspace conflicts">
                    <h2>"Changed on two devices at once"</h2>
                    <ul>
                        {conflicts.into_iter().map(|c| {
                            let key = c.key.clone();
                            view! {
                                <li>
                                    <p>{format!("{}: pick the value to keep.", c.key.label())}</p>
                                    {c.values.into_iter().map(|v| {
                                        let (text, edit) = match v {
                                            Some(s) => (format!("Keep {}", s.describe()), Edit::Set(s)),
                                            None => ("Keep it removed".to_string(), Edit::Remove(key.clone())),
                                        };
                                        view! {
                                            <button type="button" class="secondary"
                                                disabled=move || refusal(state).is_some()
                                                on:click=move |_| settle(edit.clone())>{text}</button>
                                        }
                                    }).collect_view()}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            })
        }}
        <Feedback message/>
    }
}

#[component]
fn Feedback(message: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    move || {
        message.get().map(|m| match m {
            Ok(text) => {
                view! { <p class="feedback feedback-ok" role="status">{text}</p> }.into_any()
            }
            Err(text) => {
                view! { <p class="feedback feedback-error" role="alert">{text}</p> }.into_any()
            }
        })
    }
}

/// The 3 × 3 priority matrix and the labels of P1-P5.
#[component]
fn PriorityPart() -> impl IntoView {
    let state = use_app();
    let current = state.workspace.get_untracked().config;
    let cells: Vec<RwSignal<u8>> = Impact::ALL
        .iter()
        .flat_map(|i| {
            let matrix = current.priority_matrix.clone();
            Urgency::ALL
                .iter()
                .map(move |u| RwSignal::new(matrix.priority(*i, *u).number()))
        })
        .collect::<Vec<_>>();
    let labels: Vec<RwSignal<String>> = current
        .priority_labels
        .iter()
        .map(|l| RwSignal::new(l.clone()))
        .collect();
    let error = RwSignal::new(None::<(Option<Priority>, String)>);
    let message = RwSignal::new(None);
    let (cells_for_save, labels_for_save) = (cells.clone(), labels.clone());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let rows: Vec<[Priority; 3]> = cells_for_save
            .chunks(3)
            .map(|row| {
                let p = |c: &RwSignal<u8>| {
                    Priority::from_number(c.get_untracked()).unwrap_or(Priority::P3)
                };
                [p(&row[0]), p(&row[1]), p(&row[2])]
            })
            .collect();
        let matrix = PriorityMatrix::new([rows[0], rows[1], rows[2]]);
        let mut edits = vec![Edit::Set(Setting::Matrix(matrix))];
        for p in Priority::ALL {
            edits.push(Edit::Set(Setting::Label(
                p,
                labels_for_save[p.index()]
                    .get_untracked()
                    .trim()
                    .to_string(),
            )));
        }
        error.set(None);
        spawn_local(async move {
            match state.edit_workspace(edits).await {
                Err(RepoError::Workspace(EditError::Config(ConfigError::PriorityLabel(p)))) => {
                    error.set(Some((Some(p), ConfigError::PriorityLabel(p).to_string())))
                }
                other => message.set(Some(outcome(other))),
            }
        });
    };
    view! {
        <form class="workspace-part" on:submit=save aria-labelledby="priority-title">
            <h2 id="priority-title">"Priority matrix and labels"</h2>
            <fieldset disabled=move || refusal(state).is_some() aria-describedby="workspace-readonly">
                <legend>"Priority by impact (rows) and urgency (columns)"</legend>
                <table class="matrix">
                    <thead><tr><th scope="col">"Impact \\ urgency"</th>
                        {Urgency::ALL.iter().map(|u| view! { <th scope="col">{u.to_string()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {Impact::ALL.iter().enumerate().map(|(r, i)| {
                            let row_cells = cells[r * 3..r * 3 + 3].to_vec();
                            view! {
                                <tr><th scope="row">{i.to_string()}</th>
                                    {Urgency::ALL.iter().zip(row_cells).map(|(u, cell)| {
                                        let label = format!("Priority for impact {i} and urgency {u}");
                                        view! { <td>
                                            <select aria-label=label
                                                on:change=move |ev| cell.set(event_target_value(&ev).parse().unwrap_or(3))>
                                                {Priority::ALL.iter().map(|p| {
                                                    let n = p.number();
                                                    view! { <option value=n.to_string() selected=move || cell.get() == n>{p.code()}</option> }
                                                }).collect_view()}
                                            </select>
                                        </td> }
                                    }).collect_view()}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </fieldset>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend>"Labels"</legend>
                {Priority::ALL.iter().map(|p| {
                    let p = *p;
                    let label = labels[p.index()];
                    let id = format!("label-{}", p.code());
                    let err_id = format!("{id}-error");
                    view! {
                        <div class="field">
                            <label for=id.clone()>{format!("Label of {}", p.code())}</label>
                            <input id=id type="text" bind:value=label aria-describedby=err_id.clone()
                                aria-invalid=move || error.with(|e| matches!(e, Some((Some(q), _)) if *q == p)).to_string()/>
                            <p class="field-error" id=err_id>{move || error.with(|e| match e { Some((Some(q), m)) if *q == p => Some(m.clone()), _ => None })}</p>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Save priorities"</button>
            <Feedback message/>
        </form>
    }
}

/// One row of the SLA table, as typed.
#[derive(Clone, Copy)]
struct SlaRow {
    response: RwSignal<String>,
    resolution: RwSignal<String>,
    business: RwSignal<bool>,
}

/// Response and resolution targets per priority.
#[component]
fn SlaPart() -> impl IntoView {
    let state = use_app();
    let rows: Vec<SlaRow> = Priority::ALL
        .iter()
        .map(|p| {
            let t = state
                .workspace
                .with_untracked(|w| w.config.sla.target(*p).clone());
            SlaRow {
                response: RwSignal::new(t.response_minutes.to_string()),
                resolution: RwSignal::new(t.resolution_minutes.to_string()),
                business: RwSignal::new(t.calendar == CalendarChoice::Business),
            }
        })
        .collect();
    let errors = RwSignal::new(Vec::<(Priority, String)>::new());
    let message = RwSignal::new(None);
    let for_save = rows.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut found = Vec::new();
        let mut edits = Vec::new();
        for p in Priority::ALL {
            let row = for_save[p.index()];
            let minutes = |s: RwSignal<String>| {
                s.get_untracked()
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|m| *m > 0)
            };
            match (minutes(row.response), minutes(row.resolution)) {
                (Some(response), Some(resolution)) if resolution >= response => {
                    edits.push(Edit::Set(Setting::Sla(
                        p,
                        SlaTarget {
                            response_minutes: response,
                            resolution_minutes: resolution,
                            calendar: if row.business.get_untracked() {
                                CalendarChoice::Business
                            } else {
                                CalendarChoice::Always
                            },
                        },
                    )));
                }
                (Some(_), Some(_)) => {
                    found.push((p, "Resolution cannot be sooner than response.".to_string()))
                }
                _ => found.push((p, "Enter whole minutes, at least 1.".to_string())),
            }
        }
        errors.set(found.clone());
        if !found.is_empty() {
            return;
        }
        spawn_local(async move { message.set(Some(outcome(state.edit_workspace(edits).await))) });
    };
    let error_of =
        move |p: Priority| errors.with(|e| e.iter().find(|(q, _)| *q == p).map(|(_, m)| m.clone()));
    view! {
        <form class="workspace-part" on:submit=save aria-labelledby="sla-title">
            <h2 id="sla-title">"SLA targets"</h2>
            <p class="hint">"Minutes of working time. A change applies to incidents logged or re-prioritised from now on; running clocks keep the targets they started with."</p>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend>"Targets per priority"</legend>
                {Priority::ALL.iter().map(|p| {
                    let p = *p;
                    let row = rows[p.index()];
                    let code = p.code();
                    let err_id = format!("sla-{code}-error");
                    let invalid = move || error_of(p).is_some().to_string();
                    view! {
                        <div class="sla-row" role="group" aria-labelledby=format!("sla-{code}-name")>
                            <h3 id=format!("sla-{code}-name")>{move || state.workspace.with(|w| w.config.priority_label(p))}</h3>
                            <div class="field">
                                <label for=format!("sla-{code}-response")>{format!("{code} response target (minutes)")}</label>
                                <input id=format!("sla-{code}-response") type="number" min="1" inputmode="numeric"
                                    bind:value=row.response aria-invalid=invalid aria-describedby=err_id.clone()/>
                            </div>
                            <div class="field">
                                <label for=format!("sla-{code}-resolution")>{format!("{code} resolution target (minutes)")}</label>
                                <input id=format!("sla-{code}-resolution") type="number" min="1" inputmode="numeric"
                                    bind:value=row.resolution aria-invalid=invalid aria-describedby=err_id.clone()/>
                            </div>
                            <div class="field field-check">
                                <input id=format!("sla-{code}-business") type="checkbox" bind:checked=row.business/>
                                <label for=format!("sla-{code}-business")>{format!("{code} counts business hours only")}</label>
                            </div>
                            <p class="field-error" id=err_id>{move || error_of(p)}</p>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Save SLA targets"</button>
            <Feedback message/>
        </form>
    }
}

/// Assignment groups and the people in them.
#[component]
fn DirectoryPart() -> impl IntoView {
    let state = use_app();
    view! {
        <div class="workspace-part">
            <h2>"Groups and people"</h2>
            <GroupForm/>
            <PersonForm/>
            <h3 id="people-title">"People"</h3>
            {move || {
                let directory = state.workspace.with(|w| w.directory.clone());
                if directory.people.is_empty() {
                    return view! { <p>"Nobody is in the directory yet. Assignee and caller fields accept any name until then."</p> }.into_any();
                }
                view! {
                    <ul class="directory" aria-labelledby="people-title">
                        {directory.people.into_iter().map(|p| {
                            let groups = if p.groups.is_empty() { "no group".to_string() } else { p.groups.join(", ") };
                            let on_call = if p.on_call { ", on call" } else { "" };
                            let email = if p.email.is_empty() { String::new() } else { format!(", {}", p.email) };
                            view! { <li>{format!("{}{email}: {groups}{on_call}", p.name)}</li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn GroupForm() -> impl IntoView {
    let state = use_app();
    let name = RwSignal::new(String::new());
    let manager = RwSignal::new(String::new());
    let error = RwSignal::new(None::<(&'static str, String)>);
    let message = RwSignal::new(None);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let group = Group {
            name: name.get_untracked().trim().to_string(),
            manager: manager.get_untracked().trim().to_string(),
            email: String::new(),
        };
        let checked = state
            .workspace
            .with_untracked(|w| w.directory.check_group(&group, None));
        if let Err(e) = checked {
            error.set(Some((e.field(), e.to_string())));
            return;
        }
        error.set(None);
        spawn_local(async move {
            let result = state
                .edit_workspace(vec![Edit::Set(Setting::Group(group))])
                .await;
            if result.is_ok() {
                name.set(String::new());
                manager.set(String::new());
            }
            message.set(Some(outcome(result)));
        });
    };
    let error_for = move |field: &'static str| {
        error.with(|e| {
            e.as_ref()
                .filter(|(f, _)| *f == field)
                .map(|(_, m)| m.clone())
        })
    };
    view! {
        <form on:submit=save aria-labelledby="group-form-title">
            <h3 id="group-form-title">"Add a group"</h3>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend class="visually-hidden">"New group"</legend>
                <div class="field">
                    <label for="group-name">"Group name"</label>
                    <input id="group-name" type="text" bind:value=name aria-describedby="group-name-error"
                        aria-invalid=move || error_for("name").is_some().to_string()/>
                    <p class="field-error" id="group-name-error">{move || error_for("name")}</p>
                </div>
                <div class="field">
                    <label for="group-manager">"Manager"</label>
                    <input id="group-manager" type="text" list="directory-people" bind:value=manager
                        aria-describedby="group-manager-error"
                        aria-invalid=move || error_for("manager").is_some().to_string()/>
                    <p class="field-error" id="group-manager-error">{move || error_for("manager")}</p>
                </div>
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Add group"</button>
            <Feedback message/>
        </form>
    }
}

#[component]
fn PersonForm() -> impl IntoView {
    let state = use_app();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let on_call = RwSignal::new(false);
    let groups = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<(&'static str, String)>);
    let message = RwSignal::new(None);
    // Editing someone already listed replaces their entry (same name).
    let existing = move || {
        state
            .workspace
            .with(|w| w.directory.person(&name.get()).cloned())
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let person = Person {
            name: name.get_untracked().trim().to_string(),
            email: email.get_untracked().trim().to_string(),
            phone: phone.get_untracked().trim().to_string(),
            team: team.get_untracked().trim().to_string(),
            groups: groups.get_untracked(),
            on_call: on_call.get_untracked(),
            duties: state
                .workspace
                .with_untracked(|w| {
                    w.directory
                        .person(&name.get_untracked())
                        .map(|p| p.duties.clone())
                })
                .unwrap_or_default(),
        };
        let replacing = state
            .workspace
            .with_untracked(|w| w.directory.person(&person.name).map(|p| p.name.clone()));
        let checked = state
            .workspace
            .with_untracked(|w| w.directory.check_person(&person, replacing.as_deref()));
        if let Err(e) = checked {
            error.set(Some((e.field(), e.to_string())));
            return;
        }
        error.set(None);
        spawn_local(async move {
            let result = state
                .edit_workspace(vec![Edit::Set(Setting::Person(person))])
                .await;
            if result.is_ok() {
                for s in [name, email, phone, team] {
                    s.set(String::new());
                }
                groups.set(Vec::new());
                on_call.set(false);
            }
            message.set(Some(outcome(result)));
        });
    };
    let remove = move |_| {
        let Some(person) = existing() else { return };
        spawn_local(async move {
            let key = SettingKey::Person(person.name.to_lowercase());
            message.set(Some(outcome(
                state.edit_workspace(vec![Edit::Remove(key)]).await,
            )));
        });
    };
    let error_for = move |field: &'static str| {
        error.with(|e| {
            e.as_ref()
                .filter(|(f, _)| *f == field)
                .map(|(_, m)| m.clone())
        })
    };
    view! {
        <form on:submit=save aria-labelledby="person-form-title">
            <h3 id="person-form-title">"Add or change a person"</h3>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend class="visually-hidden">"Person"</legend>
                <div class="field">
                    <label for="person-name">"Name"</label>
                    <input id="person-name" type="text" list="directory-people" bind:value=name
                        aria-describedby="person-name-hint person-name-error"
                        aria-invalid=move || error_for("name").is_some().to_string()/>
                    <p class="hint" id="person-name-hint">{move || if existing().is_some() {
                        "Already in the directory: saving replaces their entry."
                    } else {
                        "A new person."
                    }}</p>
                    <p class="field-error" id="person-name-error">{move || error_for("name")}</p>
                </div>
                <div class="field">
                    <label for="person-email">"Email"</label>
                    <input id="person-email" type="email" bind:value=email aria-describedby="person-email-error"
                        aria-invalid=move || error_for("email").is_some().to_string()/>
                    <p class="field-error" id="person-email-error">{move || error_for("email")}</p>
                </div>
                <div class="field">
                    <label for="person-phone">"Phone"</label>
                    <input id="person-phone" type="tel" bind:value=phone/>
                </div>
                <div class="field">
                    <label for="person-team">"Team or department"</label>
                    <input id="person-team" type="text" bind:value=team/>
                </div>
                <fieldset class="groups" aria-describedby="person-groups-error">
                    <legend>"Groups"</legend>
                    {move || {
                        let all = state.workspace.with(|w| w.directory.groups.clone());
                        if all.is_empty() {
                            return view! { <p>"No groups yet: add one above."</p> }.into_any();
                        }
                        all.into_iter().map(|g| {
                            let id = format!("person-group-{}", g.name.to_lowercase().replace(char::is_whitespace, "-"));
                            let group = g.name.clone();
                            let has = group.clone();
                            view! {
                                <div class="field field-check">
                                    <input id=id.clone() type="checkbox"
                                        prop:checked=move || groups.with(|gs| gs.contains(&has))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            groups.update(|gs| {
                                                gs.retain(|x| *x != group);
                                                if on { gs.push(group.clone()); }
                                            });
                                        }/>
                                    <label for=id>{g.name.clone()}</label>
                                </div>
                            }
                        }).collect_view().into_any()
                    }}
                    <p class="field-error" id="person-groups-error">{move || error_for("groups")}</p>
                </fieldset>
                <div class="field field-check">
                    <input id="person-on-call" type="checkbox" bind:checked=on_call/>
                    <label for="person-on-call">"On call"</label>
                </div>
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Save person"</button>
            <Show when=move || existing().is_some()>
                <button type="button" class="secondary" disabled=move || refusal(state).is_some() on:click=remove>"Remove from the directory"</button>
            </Show>
            <Feedback message/>
        </form>
    }
}

/// The directory's names for pickers: `<datalist>`s the assignee, group, caller and service
/// inputs name with `list=…`, so browsers suggest from them as people type, offline.
#[component]
pub fn DirectoryLists() -> impl IntoView {
    let state = use_app();
    view! {
        <datalist id="directory-people">
            {move || state.workspace.with(|w| w.directory.people.iter().map(|p| view! { <option value=p.name.clone()/> }).collect_view())}
        </datalist>
        <datalist id="directory-groups">
            {move || state.workspace.with(|w| w.directory.groups.iter().map(|g| view! { <option value=g.name.clone()/> }).collect_view())}
        </datalist>
        <datalist id="directory-services">
            {move || state.workspace.with(|w| w.config.services.iter().map(|s| view! { <option value=s.name.clone()/> }).collect_view())}
        </datalist>
    }
}

/// Which directory list an input picks from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// People: assignee, caller.
    Person,
    /// Assignment groups.
    Group,
}

/// "Not in the directory" under a picker whose typed name the directory does not have (once
/// the directory lists anyone; before that every name is typed by hand).
#[component]
pub fn Unlisted(value: RwSignal<String>, pick: Pick, id: &'static str) -> impl IntoView {
    use outpost_core::directory::Known;
    let state = use_app();
    let unlisted = move || {
        state.workspace.with(|w| {
            let d = &w.directory;
            let known = match pick {
                Pick::Person if !d.people.is_empty() => Known::person(d, &value.get()),
                Pick::Group if !d.groups.is_empty() => Known::group(d, &value.get()),
                _ => Known::Empty,
            };
            known == Known::Unlisted
        })
    };
    view! {
        <p class="hint" id=format!("{id}-unlisted")>{move || unlisted().then_some("Not in the directory: kept as typed.")}</p>
    }
}
