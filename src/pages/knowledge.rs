//! Knowledge: the articles list (searched as you type), one article (edited, published,
//! retired, with its history, the incidents it came from and those it was used on), and the
//! suggestions shown while an incident is logged or worked. The rules are
//! `outpost_core::knowledge`'s; this renders them and sends the edits.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use outpost_core::incident::{ExternalRef, IncidentLink, ReferenceKind};
use outpost_core::knowledge::{
    matches, needed, suggest, Article, ArticleDraft, ArticleEdit, ArticleState,
};
use outpost_core::summary::normalise;
use outpost_core::{Command, IncidentView};
use outpost_sync::DocumentId;

use crate::components::title::Title;
use crate::format::local_time;
use crate::state::{use_app, AppState};
use crate::tasks::PageScope;

/// How many incidents used each article (by number), from the list's entries.
fn uses(state: AppState) -> Memo<HashMap<String, usize>> {
    Memo::new(move |_| {
        state.summaries.with(|all| {
            let mut counts = HashMap::new();
            for s in all.values() {
                for n in &s.knowledge {
                    *counts.entry(n.clone()).or_insert(0) += 1;
                }
            }
            counts
        })
    })
}

fn used_label(n: usize) -> String {
    match n {
        0 => "Not used yet".into(),
        1 => "Used on 1 incident".into(),
        n => format!("Used on {n} incidents"),
    }
}

#[component]
pub fn KnowledgePage() -> impl IntoView {
    let state = use_app();
    let text = RwSignal::new(String::new());
    let shown = RwSignal::new("all".to_string());
    let counts = uses(state);
    let found = Memo::new(move |_| {
        let terms: Vec<String> = normalise(&text.get())
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let want = ArticleState::from_key(&shown.get());
        let mut rows: Vec<(String, Article)> = state.articles.with(|all| {
            all.iter()
                .filter(|(_, a)| want.is_none_or(|w| a.state == w) && matches(a, &terms))
                .map(|(id, a)| (id.clone(), a.clone()))
                .collect()
        });
        rows.sort_by(|(_, a), (_, b)| a.number.cmp(&b.number));
        rows
    });
    view! {
        <Title text="Knowledge"/>
        <h1>"Knowledge"</h1>
        <p class="hint">"What the team learned from incidents. Write an article from an incident's page; a manager publishes it, and published articles are suggested on matching incidents, offline too."</p>
        <form class="filters" role="search" aria-label="Find articles" on:submit=|ev| ev.prevent_default()>
            <div class="field field-search">
                <label for="k-search">"Search articles"</label>
                <input id="k-search" type="search" autocomplete="off" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="k-state">"Showing"</label>
                <select id="k-state" prop:value=shown on:change=move |ev| shown.set(event_target_value(&ev))>
                    <option value="all">"Every article"</option>
                    {ArticleState::ALL.iter().map(|s| view! { <option value=s.key()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
        </form>
        <p class="result-count" role="status">{move || match found.with(Vec::len) {
            1 => "1 article".to_string(),
            n => format!("{n} articles"),
        }}</p>
        <ul class="incident-list" aria-label="Articles">
            {move || found.get().into_iter().map(|(id, a)| {
                let used = counts.with(|c| c.get(&a.number).copied().unwrap_or(0));
                view! {
                    <li class="incident-row">
                        <A href=format!("/knowledge/{id}") attr:class="row-link">
                            <span class="reference">{a.number.clone()}</span>" "{a.content.title.clone()}
                        </A>
                        <div class="row-facts">
                            <span class="badge">{a.state.label()}</span>
                            {(!a.content.category.is_empty()).then(|| view! { <span>{a.content.category.clone()}</span> })}
                            {(!a.content.service.is_empty()).then(|| view! { <span>{a.content.service.clone()}</span> })}
                            <span class="muted">{used_label(used)}</span>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn ArticlePage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let article = Memo::new(move |_| state.articles.with(|a| a.get(&id.get()).cloned()));
    // Kept across redraws (each saved or synced change redraws the article): what was said
    // about the last edit, and the fields as the person is typing them.
    let feedback = RwSignal::new(None::<Result<String, String>>);
    let form = Form {
        fields: [(); 6].map(|()| RwSignal::new(String::new())),
        baseline: StoredValue::new(None),
    };
    Effect::new(move |_| {
        if let Some(a) = article.get() {
            if form
                .baseline
                .with_value(|b| b.as_ref().map(|(i, _)| i.clone()))
                != Some(id.get())
            {
                form.load(&id.get(), &a.content);
            }
        }
    });
    view! {
        {move || match article.get() {
            Some(a) => view! { <ArticleBody id=id.get() article=a feedback form/> }.into_any(),
            None if state.ready.get() => view! {
                <Title text="Knowledge article"/>
                <h1>"Knowledge article"</h1>
                <p class="notice notice-warning" role="status">"This article is not on this device (yet). " <A href="/knowledge">"Back to knowledge"</A></p>
            }.into_any(),
            None => view! { <p class="loading" role="status">"Loading the article…"</p> }.into_any(),
        }}
    }
}

/// The article's fields as typed, and what they were loaded as (for which article).
#[derive(Clone, Copy)]
struct Form {
    fields: [RwSignal<String>; 6],
    baseline: StoredValue<Option<(String, ArticleDraft)>>,
}

fn values(d: &ArticleDraft) -> [String; 6] {
    [
        d.title.clone(),
        d.symptoms.clone(),
        d.cause.clone(),
        d.resolution.clone(),
        d.category.clone(),
        d.service.clone(),
    ]
}

impl Form {
    fn load(self, id: &str, content: &ArticleDraft) {
        for (f, v) in self.fields.iter().zip(values(content)) {
            f.set(v);
        }
        self.baseline
            .set_value(Some((id.to_string(), content.clone())));
    }

    /// What to save: the fields the person changed since loading, and for the others the
    /// article as it stands now (a colleague may have edited them meanwhile).
    fn edited(self, now: &ArticleDraft) -> ArticleDraft {
        let base = self
            .baseline
            .with_value(|b| b.as_ref().map(|(_, d)| values(d)))
            .unwrap_or_else(|| values(now));
        let current = values(now);
        let [title, symptoms, cause, resolution, category, service] = std::array::from_fn(|i| {
            let typed = self.fields[i].get_untracked();
            if typed == base[i] {
                current[i].clone()
            } else {
                typed
            }
        });
        ArticleDraft {
            title,
            symptoms,
            cause,
            resolution,
            category,
            service,
        }
    }
}

#[component]
fn ArticleBody(
    id: String,
    article: Article,
    feedback: RwSignal<Option<Result<String, String>>>,
    form: Form,
) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let doc: Option<DocumentId> = id.parse().ok();
    let fields = form.fields;
    let now_content = article.content.clone();
    let current_state = article.state;
    let role = state.role();
    let refusal = move |edit: &ArticleEdit| {
        let (least, what) = needed(current_state, edit);
        role.filter(|r| *r < least)
            .map(|_| format!("{what} needs the {} role.", least.label()))
    };
    let send = move |edit: ArticleEdit, done: &'static str| {
        let Some(doc) = doc else { return };
        scope.spawn(async move {
            feedback.set(Some(match state.edit_article(doc, edit).await {
                Ok(true) => Ok(done.to_string()),
                Ok(false) => Ok("Nothing changed.".to_string()),
                Err(e) => Err(e),
            }));
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = form.edited(&now_content);
        let Some(doc) = doc else { return };
        let id = id.clone();
        scope.spawn(async move {
            let result = state
                .edit_article(doc, ArticleEdit::Content(draft.clone()))
                .await;
            if result.is_ok() {
                // What is stored now is what the form shows.
                let saved = state
                    .articles
                    .with_untracked(|a| a.get(&id).map(|a| a.content.clone()))
                    .unwrap_or(draft);
                form.load(&id, &saved);
            }
            feedback.set(Some(match result {
                Ok(true) => Ok("Saved.".to_string()),
                Ok(false) => Ok("Nothing changed.".to_string()),
                Err(e) => Err(e),
            }));
        });
    };
    let content_refused = refusal(&ArticleEdit::Content(ArticleDraft::default()));
    let moves: Vec<(ArticleState, &'static str, &'static str)> = match current_state {
        ArticleState::Draft => vec![(ArticleState::Published, "Publish", "Published.")],
        ArticleState::Published => vec![
            (ArticleState::Retired, "Retire", "Retired."),
            (ArticleState::Draft, "Back to draft", "Sent back to draft."),
        ],
        ArticleState::Retired => {
            vec![(ArticleState::Draft, "Back to draft", "Sent back to draft.")]
        }
    };
    let number = article.number.clone();
    let counts = uses(state);
    let used_on: Vec<(String, String, String)> = state.summaries.with_untracked(|all| {
        let mut on: Vec<_> = all
            .values()
            .filter(|s| s.knowledge.contains(&number))
            .map(|s| (s.document_id.clone(), s.reference.clone(), s.title.clone()))
            .collect();
        on.sort_by(|a, b| a.1.cmp(&b.1));
        on
    });
    let labels = [
        ("a-title", "Title", false),
        ("a-symptoms", "Symptoms", true),
        ("a-cause", "Cause", true),
        ("a-resolution", "Resolution or workaround", true),
        ("a-category", "Category", false),
        ("a-service", "Service", false),
    ];
    let heading = format!("{}: {}", article.number, article.content.title);
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <p class="facts">
            <span class="badge">{article.state.label()}</span>
            " "
            <span class="muted">{move || used_label(counts.with(|c| c.get(&number).copied().unwrap_or(0)))}</span>
        </p>
        <p class="meta">{format!("Written {} by {}", local_time(article.created_at), article.author)}</p>
        {move || feedback.get().map(|f| match f {
            Ok(t) => view! { <p class="feedback feedback-ok" role="status">{t}</p> }.into_any(),
            Err(e) => view! { <p class="feedback-error" role="alert">{e}</p> }.into_any(),
        })}
        <div class="button-row">
            {moves.into_iter().map(|(to, label, done)| {
                let why = refusal(&ArticleEdit::Move(to));
                let hint_id = format!("why-{}", to.key());
                view! {
                    <button type="button" class="secondary" disabled=why.is_some()
                        aria-describedby=why.is_some().then(|| hint_id.clone())
                        on:click=move |_| send(ArticleEdit::Move(to), done)>{label}</button>
                    {why.map(|w| view! { <span class="hint" id=hint_id>{w}</span> })}
                }
            }).collect_view()}
        </div>
        <form class="panel" on:submit=save novalidate>
            <h2>"Article"</h2>
            {content_refused.clone().map(|w| view! { <p class="notice notice-info" role="note">{w}</p> })}
            {labels.into_iter().zip(fields).map(|((key, label, long), value)| view! {
                <div class="field">
                    <label for=key>{label}</label>
                    {if long {
                        view! { <textarea id=key rows="4" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) readonly=content_refused.is_some()></textarea> }.into_any()
                    } else {
                        view! { <input id=key type="text" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) readonly=content_refused.is_some()/> }.into_any()
                    }}
                </div>
            }).collect_view()}
            <button type="submit" disabled=content_refused.is_some()>"Save article"</button>
        </form>
        <section class="panel" aria-labelledby="a-sources">
            <h2 id="a-sources">"Incidents"</h2>
            <h3>"Written from"</h3>
            {if article.sources.is_empty() {
                view! { <p class="muted">"No incident."</p> }.into_any()
            } else {
                view! { <ul>{article.sources.clone().into_iter().map(|s| view! { <li><A href=format!("/incidents/{}", s.document_id)>{s.reference}</A></li> }).collect_view()}</ul> }.into_any()
            }}
            <h3>"Used on"</h3>
            {if used_on.is_empty() {
                view! { <p class="muted">"No incident on this device yet."</p> }.into_any()
            } else {
                view! { <ul>{used_on.into_iter().map(|(doc, reference, title)| view! { <li><A href=format!("/incidents/{doc}")>{format!("{reference} {title}")}</A></li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <section class="panel" aria-labelledby="a-history">
            <h2 id="a-history">"History"</h2>
            <ol class="timeline-list">
                {article.history.clone().into_iter().rev().map(|h| view! {
                    <li><p class="timeline-summary">{h.what}</p><p class="timeline-meta">{format!("{} · {}", local_time(h.at), h.by)}</p></li>
                }).collect_view()}
            </ol>
        </section>
    }
}

/// Published articles that may help, for the incident page: each can be recorded as the one
/// the incident was resolved with; and an article can be written from the incident.
#[component]
pub fn Suggested(id: Memo<String>, view: Memo<IncidentView>) -> impl IntoView {
    let state = use_app();
    let scope = PageScope::new();
    let navigate = use_navigate();
    let feedback = RwSignal::new(None::<Result<String, String>>);
    let suggestions = Memo::new(move |_| {
        let (title, category, service) = view.with(|v| {
            (
                v.incident.title.clone(),
                v.incident.category.clone(),
                v.incident.affected_service.clone(),
            )
        });
        state.articles.with(|all| {
            suggest(all.values(), &title, &category, &service, 3)
                .into_iter()
                .map(|a| {
                    let doc = all
                        .iter()
                        .find(|(_, x)| x.number == a.number)
                        .map(|(d, _)| d.clone())
                        .unwrap_or_default();
                    (doc, a.clone())
                })
                .collect::<Vec<_>>()
        })
    });
    let used = Memo::new(move |_| {
        view.with(|v| {
            v.incident
                .references
                .iter()
                .filter(|r| r.kind == ReferenceKind::Knowledge)
                .map(|r| r.id.clone())
                .collect::<Vec<_>>()
        })
    });
    let use_article = move |number: String| {
        let Ok(doc) = id.get_untracked().parse::<DocumentId>() else {
            return;
        };
        scope.spawn(async move {
            let cmd = Command::AddReference(ExternalRef {
                kind: ReferenceKind::Knowledge,
                id: number.clone(),
            });
            feedback.set(Some(
                state
                    .run(doc, cmd)
                    .await
                    .map(|_| format!("Recorded: resolved using {number}."))
                    .map_err(|e| e.to_string()),
            ));
        });
    };
    let write = move |_| {
        let (draft, link) = view.with_untracked(|v| {
            (
                ArticleDraft::from_incident(v),
                IncidentLink {
                    document_id: id.get_untracked(),
                    reference: v.incident.reference.to_string(),
                },
            )
        });
        let navigate = navigate.clone();
        scope.spawn(async move {
            match state.write_article(draft, Some(link)).await {
                Ok(article) => navigate(&format!("/knowledge/{article}"), Default::default()),
                Err(e) => feedback.set(Some(Err(e))),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="kb-suggested">
            <h2 id="kb-suggested">"Knowledge"</h2>
            {move || {
                let rows = suggestions.get();
                if rows.is_empty() {
                    view! { <p class="muted">"No published article matches this incident."</p> }.into_any()
                } else {
                    view! {
                        <ul class="reference-list">
                            {rows.into_iter().map(|(doc, a)| {
                                let number = a.number.clone();
                                let done = used.with(|u| u.contains(&number));
                                view! {
                                    <li>
                                        <A href=format!("/knowledge/{doc}")>{format!("{} {}", a.number, a.content.title)}</A>
                                        {(!a.content.resolution.is_empty()).then(|| view! { <p class="hint">{a.content.resolution.clone()}</p> })}
                                        {if done {
                                            view! { <p class="muted">{format!("Resolved using {number}.")}</p> }.into_any()
                                        } else {
                                            let n = number.clone();
                                            view! { <button type="button" class="secondary" hidden=move || state.read_only() on:click=move |_| use_article(n.clone())>{format!("Resolved using {number}")}</button> }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
            {move || feedback.get().map(|f| match f {
                Ok(t) => view! { <p class="feedback feedback-ok" role="status">{t}</p> }.into_any(),
                Err(e) => view! { <p class="feedback-error" role="alert">{e}</p> }.into_any(),
            })}
            <button type="button" class="secondary" hidden=move || state.read_only() on:click=write>"Create knowledge article"</button>
        </section>
    }
}

/// While an incident is logged: published articles matching what has been typed so far.
#[component]
pub fn WhileLogging(
    title: RwSignal<String>,
    category: RwSignal<String>,
    service: RwSignal<String>,
) -> impl IntoView {
    let state = use_app();
    let found = Memo::new(move |_| {
        let (t, c, s) = (title.get(), category.get(), service.get());
        state.articles.with(|all| {
            suggest(all.values(), &t, &c, &s, 3)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || !found.with(Vec::is_empty)>
            <section class="panel" aria-labelledby="kb-while" aria-live="polite">
                <h2 id="kb-while">"Knowledge that may help"</h2>
                {move || found.get().into_iter().map(|a| view! {
                    <details>
                        <summary>{format!("{} {}", a.number, a.content.title)}</summary>
                        <p class="report-text">{a.content.resolution.clone()}</p>
                    </details>
                }).collect_view()}
            </section>
        </Show>
    }
}
