//! Settings → Workspace: the workspace's own rules and people, one page per part, edited by
//! admins and read by everyone. Each form is checked by `outpost_core` before it is saved (the
//! message next to the field it is about) and saved as one change of the workspace document;
//! the relay refuses anyone but an admin whatever this page shows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use outpost_core::config::{Category, ConfigError, ResolutionCodeEntry, Service};
use outpost_core::directory::{Group, Person};
use outpost_core::entry::{
    counts_in, day_field, escalation_field, split_names, target_counting_in, update_field,
    CalendarEntry, CalendarSlot, DayEntry, EscalationEntry, PlanEntry, AROUND_THE_CLOCK,
};
use outpost_core::incident::FieldError;
use outpost_core::workspace::{Edit, EditError, Setting, SettingKey};
use outpost_core::{Capability, HoldReason, Impact, Priority, PriorityMatrix, Urgency};

use crate::components::field_error::{invalid, FieldMessage};
use crate::components::title::Title;
use crate::repo::RepoError;
use crate::state::{use_app, AppState};

/// The parts, as `(path, title)`.
const PARTS: [(&str, &str); 6] = [
    ("priority", "Priority matrix and labels"),
    ("sla", "SLA targets"),
    ("calendar", "Business calendars"),
    ("catalog", "Categories, services and resolution codes"),
    ("directory", "Groups and people"),
    ("communication", "Communication and escalation"),
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
            {move || {
                // Someone who only reads sees every change as it syncs; an admin's draft is
                // kept until they save it.
                if refusal(state).is_some() {
                    state.workspace.track();
                }
                match part().as_str() {
                "priority" => view! { <PriorityPart/> }.into_any(),
                "sla" => view! { <SlaPart/> }.into_any(),
                "calendar" => view! { <CalendarPart/> }.into_any(),
                "catalog" => view! { <CatalogPart/> }.into_any(),
                "communication" => view! { <CommunicationPart/> }.into_any(),
                "directory" => view! { <DirectoryPart/> }.into_any(),
                _ => ().into_any(),
            }}}
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
        <form class="workspace-part" novalidate on:submit=save aria-labelledby="priority-title">
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
    /// What the target counts in, as [`counts_in`] writes it.
    counts_in: RwSignal<String>,
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
                counts_in: RwSignal::new(counts_in(&t)),
            }
        })
        .collect();
    // Which hold reasons pause the resolution clock, in HoldReason::ALL order.
    let pauses: Vec<(HoldReason, RwSignal<bool>)> = HoldReason::ALL
        .iter()
        .map(|r| {
            let on = state
                .workspace
                .with_untracked(|w| w.config.sla.pause_on.contains(r));
            (*r, RwSignal::new(on))
        })
        .collect();
    let pause_for_save = pauses.clone();
    let errors = RwSignal::new(Vec::<(Priority, String)>::new());
    let message = RwSignal::new(None);
    let for_save = rows.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pause_on: Vec<HoldReason> = pause_for_save
            .iter()
            .filter(|(_, on)| on.get_untracked())
            .map(|(r, _)| *r)
            .collect();
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
                    let counts = row.counts_in.get_untracked();
                    let target = target_counting_in(response, resolution, &counts);
                    edits.push(Edit::Set(Setting::Sla(p, target)));
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
        if state
            .workspace
            .with_untracked(|w| w.config.sla.pause_on != pause_on)
        {
            edits.push(Edit::Set(Setting::PauseOn(pause_on)));
        }
        spawn_local(async move { message.set(Some(outcome(state.edit_workspace(edits).await))) });
    };
    let error_of =
        move |p: Priority| errors.with(|e| e.iter().find(|(q, _)| *q == p).map(|(_, m)| m.clone()));
    view! {
        <form class="workspace-part" novalidate on:submit=save aria-labelledby="sla-title">
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
                            <div class="field">
                                <label for=format!("sla-{code}-calendar")>{format!("{code} counts")}</label>
                                <select id=format!("sla-{code}-calendar")
                                    on:change=move |ev| row.counts_in.set(event_target_value(&ev))>
                                    {move || calendar_options(state).into_iter().map(|(value, text)| {
                                        let chosen = value.clone();
                                        view! { <option value=value selected=move || row.counts_in.get() == chosen>{text}</option> }
                                    }).collect_view()}
                                </select>
                            </div>
                            <p class="field-error" id=err_id>{move || error_of(p)}</p>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend>"Hold reasons that pause the resolution clock"</legend>
                {pauses.into_iter().map(|(reason, on)| {
                    let id = format!("pause-{}", reason.key());
                    view! {
                        <div class="field field-check">
                            <input id=id.clone() type="checkbox" bind:checked=on/>
                            <label for=id>{format!("{} pauses the resolution clock", reason.label())}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Save SLA targets"</button>
            <Feedback message/>
        </form>
    }
}

/// What an SLA target can count in: around the clock, or one of the business calendars.
fn calendar_options(state: AppState) -> Vec<(String, String)> {
    state.workspace.with(|w| {
        let mut options = vec![
            (AROUND_THE_CLOCK.to_string(), "around the clock".to_string()),
            (
                CalendarSlot::Main.key(),
                format!("business hours of {}", w.config.calendar.name),
            ),
        ];
        options.extend(w.config.calendars.iter().map(|c| {
            (
                CalendarSlot::Other(c.name.clone()).key(),
                format!("business hours of {}", c.name),
            )
        }));
        options
    })
}

/// How much of a zone's past and future a saved calendar tabulates: incidents logged up to a
/// year before, and six years ahead (saving the calendar again extends it).
const ZONE_PAST_MS: i64 = 400 * 24 * 3_600_000;
const ZONE_AHEAD_MS: i64 = 6 * 366 * 24 * 3_600_000;

/// A weekday's row of the calendar form.
#[derive(Clone, Copy)]
struct DayRow {
    working: RwSignal<bool>,
    start: RwSignal<String>,
    end: RwSignal<String>,
}

/// The business calendars: which one to edit, and the form for it.
#[component]
fn CalendarPart() -> impl IntoView {
    let state = use_app();
    let slot = RwSignal::new(CalendarSlot::Main);
    let said = RwSignal::new(None);
    let remove = move |_| {
        let chosen = slot.get_untracked();
        match state.workspace.with_untracked(|w| chosen.remove(&w.config)) {
            Err(why) => said.set(Some(Err(why))),
            Ok(edit) => spawn_local(async move {
                let result = outcome(state.edit_workspace(vec![edit]).await);
                if result.is_ok() {
                    slot.set(CalendarSlot::Main);
                }
                said.set(Some(result));
            }),
        }
    };
    view! {
        <section class="workspace-part" aria-labelledby="calendar-title">
            <h2 id="calendar-title">"Business calendars"</h2>
            <p class="hint">"Targets that count business hours count them in the calendar their SLA definition names (the main one unless it says otherwise), on the wall clock of its time zone, daylight saving included."</p>
            <div class="field">
                <label for="calendar-pick">"Calendar to edit"</label>
                <select id="calendar-pick" on:change=move |ev| {
                    said.set(None);
                    slot.set(CalendarSlot::from_key(&event_target_value(&ev)));
                }>
                    {move || {
                        let chosen = slot.get();
                        let mut options = vec![(CalendarSlot::Main, state.workspace.with(|w| format!("{} (main)", w.config.calendar.name)))];
                        options.extend(state.workspace.with(|w| w.config.calendars.iter().map(|c| (CalendarSlot::Other(c.name.clone()), c.name.clone())).collect::<Vec<_>>()));
                        options.push((CalendarSlot::New, "Add a calendar".to_string()));
                        options.into_iter().map(|(option, text)| {
                            let selected = option == chosen;
                            view! { <option value=option.key() selected=selected>{text}</option> }
                        }).collect_view()
                    }}
                </select>
            </div>
            {move || {
                let chosen = slot.get();
                let removable = matches!(chosen, CalendarSlot::Other(_));
                view! {
                    <CalendarForm picked=slot message=said/>
                    {removable.then(|| view! {
                        <button type="button" class="secondary" disabled=move || refusal(state).is_some()
                            on:click=remove>"Remove this calendar"</button>
                    })}
                }
            }}
        </section>
    }
}

/// One business calendar (the one `picked` names when the form is made): time zone, working
/// hours per weekday, holidays. A new calendar, once saved, becomes the one picked; `message`
/// is the part's, so what a save or said said survives the form being made again.
#[component]
fn CalendarForm(
    picked: RwSignal<CalendarSlot>,
    message: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let state = use_app();
    let slot = picked.get_untracked();
    let base = state.workspace.with_untracked(|w| slot.calendar(&w.config));
    let new = slot == CalendarSlot::New;
    let fixed_name = matches!(slot, CalendarSlot::Other(_));
    let slot = StoredValue::new(slot);
    let entry = CalendarEntry::of(&base);
    let name = RwSignal::new(entry.name.clone());
    let zone = RwSignal::new(
        base.zone
            .as_ref()
            .map(|z| z.name.clone())
            .unwrap_or_default(),
    );
    let holidays = RwSignal::new(entry.holidays.clone());
    let days = entry.days.clone().map(|d| DayRow {
        working: RwSignal::new(d.working),
        start: RwSignal::new(d.start),
        end: RwSignal::new(d.end),
    });
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = CalendarEntry {
            name: name.get_untracked(),
            days: days.map(|d| DayEntry {
                working: d.working.get_untracked(),
                start: d.start.get_untracked(),
                end: d.end.get_untracked(),
            }),
            holidays: holidays.get_untracked(),
        };
        let zone_name = zone.get_untracked().trim().to_string();
        let now = js_sys::Date::now() as i64;
        let table = (!zone_name.is_empty())
            .then(|| crate::zones::table(&zone_name, now - ZONE_PAST_MS, now + ZONE_AHEAD_MS))
            .transpose();
        let base = state
            .workspace
            .with_untracked(|w| slot.with_value(|s| s.calendar(&w.config)));
        let read = match table {
            Ok(zone) => typed.read(zone, &base),
            Err(m) => {
                let mut found = typed.read(None, &base).err().unwrap_or_default();
                found.push(FieldError::new("zone", m));
                Err(found)
            }
        };
        let setting = read.and_then(|calendar| {
            state
                .workspace
                .with_untracked(|w| slot.with_value(|s| s.save(&w.config, calendar)))
        });
        match setting {
            Err(found) => errors.set(found),
            Ok(setting) => {
                errors.set(Vec::new());
                let saved_in = match &setting {
                    Setting::OtherCalendar(c) => CalendarSlot::Other(c.name.clone()),
                    _ => CalendarSlot::Main,
                };
                spawn_local(async move {
                    let result = outcome(state.edit_workspace(vec![Edit::Set(setting)]).await);
                    let saved = result.is_ok();
                    message.set(Some(result));
                    if saved && new {
                        picked.set(saved_in);
                    }
                });
            }
        }
    };
    let known_until = move || {
        state.workspace.with(|w| {
            let calendar = slot.with_value(|s| s.calendar(&w.config));
            let zone = calendar.zone.as_ref()?;
            let last = zone.transitions.last()?;
            let date = crate::format::local_time(outpost_core::DeviceTime::from_millis(last.at));
            Some(format!("{}: daylight-saving changes are known up to {date}; saving the calendar again extends them.", zone.name))
        })
    };
    view! {
        <form novalidate on:submit=save aria-label="Calendar">
            <fieldset disabled=move || refusal(state).is_some()>
                <legend class="visually-hidden">"Calendar"</legend>
                <div class="field">
                    <label for="calendar-name">"Calendar name"</label>
                    <input id="calendar-name" type="text" bind:value=name aria-describedby="calendar-name-hint calendar-name-error"
                        readonly=fixed_name aria-invalid=invalid(errors, "calendar-name")/>
                    {fixed_name.then(|| view! { <p class="hint" id="calendar-name-hint">"SLA targets and incidents refer to this calendar by name, so it keeps it."</p> })}
                    <FieldMessage errors field="calendar-name" id="calendar-name"/>
                </div>
                <div class="field">
                    <label for="calendar-zone">"Time zone"</label>
                    <input id="calendar-zone" type="text" bind:value=zone placeholder="Europe/Berlin"
                        autocomplete="off" autocapitalize="off" spellcheck="false"
                        aria-describedby="calendar-zone-hint calendar-zone-error"
                        aria-invalid=invalid(errors, "zone")/>
                    <p class="hint" id="calendar-zone-hint">{move || known_until().unwrap_or_else(|| "An IANA name such as Europe/Berlin or America/New_York; empty counts in UTC.".into())}</p>
                    <FieldMessage errors field="zone" id="calendar-zone"/>
                </div>
            </fieldset>
            <fieldset disabled=move || refusal(state).is_some() aria-describedby="calendar-week-error">
                <legend>"Working hours"</legend>
                {outpost_core::calendar::DAY_NAMES.iter().enumerate().map(|(i, day)| {
                    let row = days[i];
                    let field = day_field(i);
                    let id = format!("calendar-{field}");
                    view! {
                        <div class="day-row" role="group" aria-label=*day>
                            <div class="field field-check">
                                <input id=format!("{id}-working") type="checkbox" bind:checked=row.working/>
                                <label for=format!("{id}-working")>{format!("{day} is a working day")}</label>
                            </div>
                            <div class="field-row">
                                <div class="field">
                                    <label for=format!("{id}-start")>{format!("{day} from")}</label>
                                    <input id=format!("{id}-start") type="text" inputmode="numeric" bind:value=row.start
                                        disabled=move || !row.working.get() placeholder="09:00"
                                        aria-invalid=invalid(errors, field.clone()) aria-describedby=format!("{id}-error")/>
                                </div>
                                <div class="field">
                                    <label for=format!("{id}-end")>{format!("{day} until")}</label>
                                    <input id=format!("{id}-end") type="text" inputmode="numeric" bind:value=row.end
                                        disabled=move || !row.working.get() placeholder="17:00"
                                        aria-invalid=invalid(errors, field.clone()) aria-describedby=format!("{id}-error")/>
                                </div>
                            </div>
                            <FieldMessage errors field=field.clone() id=id/>
                        </div>
                    }
                }).collect_view()}
                <FieldMessage errors field="week" id="calendar-week"/>
            </fieldset>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend class="visually-hidden">"Holidays"</legend>
                <div class="field">
                    <label for="calendar-holidays">"Holidays"</label>
                    <textarea id="calendar-holidays" rows="4" bind:value=holidays
                        aria-describedby="calendar-holidays-hint calendar-holidays-error"
                        aria-invalid=invalid(errors, "holidays")></textarea>
                    <p class="hint" id="calendar-holidays-hint">"Whole days off, such as 2026-12-25, one per line."</p>
                    <FieldMessage errors field="holidays" id="calendar-holidays"/>
                </div>
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Save calendar"</button>
            <Feedback message/>
        </form>
    }
}

/// Which list of the catalog a form edits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CatalogKind {
    Category,
    Service,
    ResolutionCode,
}

/// The category catalog and the affected services.
#[component]
fn CatalogPart() -> impl IntoView {
    view! {
        <div class="workspace-part">
            <h2>"Categories, services and resolution codes"</h2>
            <p class="hint">"What people pick from when they log, work and resolve incidents. With no categories (or no resolution codes) at all, any text is accepted."</p>
            <CatalogForm kind=CatalogKind::Category/>
            <CatalogForm kind=CatalogKind::Service/>
            <CatalogForm kind=CatalogKind::ResolutionCode/>
        </div>
    }
}

/// Adds, changes and removes the categories or the services.
#[component]
fn CatalogForm(kind: CatalogKind) -> impl IntoView {
    let state = use_app();
    let (noun, plural, detail_label, detail_hint) = match kind {
        CatalogKind::Category => (
            "category",
            "Categories",
            "Subcategories",
            "Separated by commas; none accepts any subcategory text.",
        ),
        CatalogKind::Service => (
            "service",
            "Services",
            "Supporting group",
            "The assignment group that supports it, from the directory.",
        ),
        CatalogKind::ResolutionCode => (
            "resolution code",
            "Resolution codes",
            "When to use it",
            "Shown beside the code when someone resolves an incident; optional.",
        ),
    };
    let name = RwSignal::new(String::new());
    let detail = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let message = RwSignal::new(None);
    let entries = move || {
        state.workspace.with(|w| match kind {
            CatalogKind::Category => w
                .config
                .categories
                .iter()
                .map(|c| (c.name.clone(), c.subcategories.join(", ")))
                .collect::<Vec<_>>(),
            CatalogKind::Service => w
                .config
                .services
                .iter()
                .map(|s| (s.name.clone(), s.group.clone()))
                .collect(),
            CatalogKind::ResolutionCode => w
                .config
                .resolution_codes
                .iter()
                .map(|c| (c.name.clone(), c.description.clone()))
                .collect(),
        })
    };
    let existing = move || {
        let typed = name.get();
        entries()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(typed.trim()))
    };
    let key = move |n: &str| match kind {
        CatalogKind::Category => SettingKey::named(SettingKey::Category, n),
        CatalogKind::Service => SettingKey::named(SettingKey::Service, n),
        CatalogKind::ResolutionCode => SettingKey::named(SettingKey::ResolutionCode, n),
    };
    let run = move |edit: Edit| {
        spawn_local(async move {
            let result = state.edit_workspace(vec![edit]).await;
            if result.is_ok() {
                name.set(String::new());
                detail.set(String::new());
            }
            message.set(Some(outcome(result)));
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = name.get_untracked().trim().to_string();
        if typed.is_empty() {
            errors.set(vec![FieldError::new(
                "name",
                ConfigError::NoName.to_string(),
            )]);
            return;
        }
        errors.set(Vec::new());
        run(Edit::Set(match kind {
            CatalogKind::Category => Setting::Category(Category {
                name: typed,
                subcategories: split_names(&detail.get_untracked()),
            }),
            CatalogKind::Service => Setting::Service(Service {
                name: typed,
                group: detail.get_untracked().trim().to_string(),
            }),
            CatalogKind::ResolutionCode => Setting::ResolutionCode(ResolutionCodeEntry {
                name: typed,
                description: detail.get_untracked().trim().to_string(),
            }),
        }));
    };
    let id = format!("catalog-{}", noun.replace(' ', "-"));
    let list_title = format!("{id}-list-title");
    view! {
        <form on:submit=save aria-labelledby=format!("{id}-title")>
            <h3 id=format!("{id}-title")>{format!("Add or change a {noun}")}</h3>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend class="visually-hidden">{noun}</legend>
                <div class="field">
                    <label for=format!("{id}-name")>{format!("Name of the {noun}")}</label>
                    <input id=format!("{id}-name") type="text" bind:value=name
                        on:change=move |_| if let Some((_, d)) = existing() { detail.set(d) }
                        aria-describedby=format!("{id}-name-hint {id}-name-error")
                        aria-invalid=invalid(errors, "name")/>
                    <p class="hint" id=format!("{id}-name-hint")>{move || if existing().is_some() {
                        format!("Already listed: saving replaces this {noun}.")
                    } else {
                        format!("A new {noun}.")
                    }}</p>
                    <FieldMessage errors field="name" id=format!("{id}-name")/>
                </div>
                <div class="field">
                    <label for=format!("{id}-detail")>{detail_label}</label>
                    <input id=format!("{id}-detail") type="text" bind:value=detail
                        list=(kind == CatalogKind::Service).then_some("directory-groups")
                        aria-describedby=format!("{id}-detail-hint")/>
                    <p class="hint" id=format!("{id}-detail-hint")>{detail_hint}</p>
                </div>
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>{format!("Save {noun}")}</button>
            <Feedback message/>
        </form>
        <h3 id=list_title.clone()>{plural}</h3>
        {move || {
            let all = entries();
            if all.is_empty() {
                return view! { <p>{format!("No {noun} is listed yet.")}</p> }.into_any();
            }
            view! {
                <ul class="directory" aria-labelledby=list_title.clone()>
                    {all.into_iter().map(|(n, d)| {
                        let text = if d.is_empty() { n.clone() } else { format!("{n}: {d}") };
                        let (edit_name, edit_detail, gone) = (n.clone(), d, key(&n));
                        view! {
                            <li>
                                <span>{text}</span>
                                " "
                                <button type="button" class="secondary" disabled=move || refusal(state).is_some()
                                    aria-label=format!("Change {n}")
                                    on:click=move |_| { name.set(edit_name.clone()); detail.set(edit_detail.clone()); }>"Change"</button>
                                " "
                                <button type="button" class="secondary" disabled=move || refusal(state).is_some()
                                    aria-label=format!("Remove {n}")
                                    on:click=move |_| run(Edit::Remove(gone.clone()))>"Remove"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// One escalation rule's row of the communication form.
#[derive(Clone, Copy)]
struct RuleRow {
    at_percent: RwSignal<String>,
    raise_level: RwSignal<bool>,
    tell_manager: RwSignal<bool>,
}

impl RuleRow {
    fn new(e: EscalationEntry) -> Self {
        RuleRow {
            at_percent: RwSignal::new(e.at_percent),
            raise_level: RwSignal::new(e.raise_level),
            tell_manager: RwSignal::new(e.tell_manager),
        }
    }
}

/// The communication plan, the escalation rules and the auto-close delay.
#[component]
fn CommunicationPart() -> impl IntoView {
    let state = use_app();
    let entry = state.workspace.with_untracked(|w| PlanEntry::of(&w.config));
    let update_every = entry.update_every.clone().map(RwSignal::new);
    let stakeholders = entry.stakeholders.map(RwSignal::new);
    let report = entry.report.map(RwSignal::new);
    let stakeholder_every = RwSignal::new(entry.stakeholder_every.clone());
    let for_major = RwSignal::new(entry.stakeholder_for_major);
    let customer_owner = RwSignal::new(entry.customer_owner_duty.clone());
    let owner = RwSignal::new(entry.owner_duty.clone());
    let auto_close = RwSignal::new(entry.auto_close_days.clone());
    let rules = RwSignal::new(
        entry
            .escalations
            .iter()
            .cloned()
            .map(RuleRow::new)
            .collect::<Vec<_>>(),
    );
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let message = RwSignal::new(None);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = PlanEntry {
            update_every: update_every.map(|s| s.get_untracked()),
            stakeholders: stakeholders.map(|s| s.get_untracked()),
            report: report.map(|s| s.get_untracked()),
            stakeholder_every: stakeholder_every.get_untracked(),
            stakeholder_for_major: for_major.get_untracked(),
            customer_owner_duty: customer_owner.get_untracked(),
            owner_duty: owner.get_untracked(),
            auto_close_days: auto_close.get_untracked(),
            escalations: rules
                .get_untracked()
                .iter()
                .map(|r| EscalationEntry {
                    at_percent: r.at_percent.get_untracked(),
                    raise_level: r.raise_level.get_untracked(),
                    tell_manager: r.tell_manager.get_untracked(),
                })
                .collect(),
        };
        match typed.read() {
            Err(found) => errors.set(found),
            Ok((plan, days, escalations)) => {
                errors.set(Vec::new());
                let edits = vec![
                    Edit::Set(Setting::Communication(plan)),
                    Edit::Set(Setting::AutoClose(days)),
                    Edit::Set(Setting::Escalations(escalations)),
                ];
                spawn_local(async move {
                    message.set(Some(outcome(state.edit_workspace(edits).await)))
                });
            }
        }
    };
    let add_rule = move |_| {
        rules.update(|r| {
            r.push(RuleRow::new(EscalationEntry {
                at_percent: String::new(),
                raise_level: true,
                tell_manager: true,
            }))
        })
    };
    let text_field = move |id: &'static str,
                           label: &'static str,
                           value: RwSignal<String>,
                           hint: &'static str| {
        view! {
            <div class="field">
                <label for=format!("comm-{id}")>{label}</label>
                <input id=format!("comm-{id}") type="text" bind:value=value
                    aria-describedby=format!("comm-{id}-hint comm-{id}-error")
                    aria-invalid=invalid(errors, id)/>
                <p class="hint" id=format!("comm-{id}-hint")>{hint}</p>
                <FieldMessage errors field=id id=format!("comm-{id}")/>
            </div>
        }
    };
    view! {
        <form class="workspace-part" novalidate on:submit=save aria-labelledby="comm-title">
            <h2 id="comm-title">"Communication and escalation"</h2>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend>"Updates per priority"</legend>
                <table class="matrix">
                    <thead><tr>
                        <th scope="col">"Priority"</th>
                        <th scope="col">"Update users every (minutes)"</th>
                        <th scope="col">"Stakeholder status"</th>
                        <th scope="col">"Report owed"</th>
                    </tr></thead>
                    <tbody>
                        {Priority::ALL.into_iter().map(|p| {
                            let field = update_field(p);
                            let code = p.code();
                            view! {
                                <tr>
                                    <th scope="row">{move || state.workspace.with(|w| w.config.priority_label(p))}</th>
                                    <td>
                                        <input id=format!("comm-{field}") type="number" min="1" inputmode="numeric"
                                            aria-label=format!("{code}: update affected users every (minutes)")
                                            bind:value=update_every[p.index()]
                                            aria-invalid=invalid(errors, field.clone()) aria-describedby=format!("comm-{field}-error")/>
                                        <FieldMessage errors field=field.clone() id=format!("comm-{field}")/>
                                    </td>
                                    <td><input type="checkbox" bind:checked=stakeholders[p.index()]
                                        aria-label=format!("{code}: stakeholders get status updates")/></td>
                                    <td><input type="checkbox" bind:checked=report[p.index()]
                                        aria-label=format!("{code}: a post-incident report is owed")/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </fieldset>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend>"Stakeholders and owners"</legend>
                {text_field("stakeholder-every", "Stakeholder status every (minutes)", stakeholder_every, "Until the incident is resolved.")}
                <div class="field field-check">
                    <input id="comm-major" type="checkbox" bind:checked=for_major/>
                    <label for="comm-major">"Stakeholders of every major incident get status updates"</label>
                </div>
                {text_field("customer-owner", "Owner when the incident is customer-specific", customer_owner, "A duty people hold in the directory, such as Account owner.")}
                {text_field("owner", "Owner otherwise", owner, "A duty people hold in the directory, such as Product head.")}
            </fieldset>
            <fieldset disabled=move || refusal(state).is_some()>
                <legend>"Escalation and closing"</legend>
                {text_field("auto-close", "Close resolved incidents after (days)", auto_close, "From 1 to 365 days after resolution.")}
                <div class="rules" role="group" aria-label="Escalation rules">
                    {move || rules.get().into_iter().enumerate().map(|(i, r)| {
                        let field = escalation_field(i);
                        let id = format!("comm-{field}");
                        let n = i + 1;
                        view! {
                            <div class="rule" role="group" aria-label=format!("Escalation rule {n}")>
                                <div class="field">
                                    <label for=id.clone()>{format!("Rule {n}: at percent of the resolution target")}</label>
                                    <input id=id.clone() type="number" min="1" max="100" inputmode="numeric" bind:value=r.at_percent
                                        aria-invalid=invalid(errors, field.clone()) aria-describedby=format!("{id}-error")/>
                                    <FieldMessage errors field=field.clone() id=id.clone()/>
                                </div>
                                <div class="field field-check">
                                    <input id=format!("{id}-raise") type="checkbox" bind:checked=r.raise_level/>
                                    <label for=format!("{id}-raise")>{format!("Rule {n}: raise the escalation level")}</label>
                                </div>
                                <div class="field field-check">
                                    <input id=format!("{id}-tell") type="checkbox" bind:checked=r.tell_manager/>
                                    <label for=format!("{id}-tell")>{format!("Rule {n}: tell the group's manager")}</label>
                                </div>
                                <button type="button" class="secondary" on:click=move |_| { errors.set(Vec::new()); rules.update(|rs| { rs.remove(i); }); }>{format!("Remove rule {n}")}</button>
                            </div>
                        }
                    }).collect_view()}
                </div>
                <button type="button" class="secondary" on:click=add_rule>"Add an escalation rule"</button>
            </fieldset>
            <button type="submit" disabled=move || refusal(state).is_some()>"Save communication and escalation"</button>
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
    let duties = RwSignal::new(String::new());
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
            duties: split_names(&duties.get_untracked()),
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
                for s in [name, email, phone, team, duties] {
                    s.set(String::new());
                }
                groups.set(Vec::new());
                on_call.set(false);
            }
            message.set(Some(outcome(result)));
        });
    };
    // Naming someone listed fills in their entry, to change it.
    let fill = move || {
        let Some(p) = existing() else { return };
        email.set(p.email);
        phone.set(p.phone);
        team.set(p.team);
        groups.set(p.groups);
        on_call.set(p.on_call);
        duties.set(p.duties.join(", "));
    };
    let remove = move |_| {
        let Some(person) = existing() else { return };
        spawn_local(async move {
            let key = SettingKey::named(SettingKey::Person, &person.name);
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
                        on:change=move |_| fill()
                        aria-describedby="person-name-hint person-name-error"
                        aria-invalid=move || error_for("name").is_some().to_string()/>
                    <p class="hint" id="person-name-hint">{move || if existing().is_some() {
                        "Already in the directory: their entry is filled in, and saving replaces it."
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
                <div class="field">
                    <label for="person-duties">"Duties"</label>
                    <input id="person-duties" type="text" bind:value=duties aria-describedby="person-duties-hint"/>
                    <p class="hint" id="person-duties-hint">"Roles the communication plan names, such as Product head or Account owner, separated by commas."</p>
                </div>
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
