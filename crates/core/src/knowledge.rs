//! Knowledge articles: what the team learned from incidents, one Automerge document each, synced
//! and readable offline like an incident, with a draft → published → retired life.
//!
//! ```text
//! { type: "outpost/knowledge", schema: 1, number: "KB-7F3A-0001",
//!   title, symptoms, cause, resolution, category, service,      (strings: last writer wins)
//!   state: "draft" | "published" | "retired", author, created_at,
//!   sources: { "<incident document id>": "INC-7F3A-0042", ... } }
//! ```
//!
//! Every change carries a commit message (who, when, what), which is the article's history. An
//! article is written from an incident ([`ArticleDraft::from_incident`]: its description, root
//! cause and resolution notes); anyone who works incidents may write and edit drafts; publishing,
//! retiring, sending back to draft and editing a published article need the manager role
//! ([`needed`]). The relay holds the same rule ([`admit`]), so a plain automerge-repo peer is
//! refused what the app refuses.
//!
//! An article is *used* on an incident when the incident records it as a knowledge reference
//! ("Resolved using KB-7F3A-0001"); the incident's list entry carries its knowledge references,
//! so how often an article was used is counted on the device without touching the article.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, ChangeHash, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde::{Deserialize, Serialize};

use crate::document::IncidentView;
use crate::history::Attribution;
use crate::incident::{clean_line, clean_text, limits, FieldError, IncidentLink};
use crate::keyword::keyword_enum;
use crate::role::Role;
use crate::summary::normalise;
use crate::time::DeviceTime;

/// The type marker of a knowledge article's document.
pub const ARTICLE_TYPE: &str = "outpost/knowledge";
const TYPE: &str = "type";
const SCHEMA: &str = "schema";
const NUMBER: &str = "number";
const STATE: &str = "state";
const AUTHOR: &str = "author";
const CREATED_AT: &str = "created_at";
const SOURCES: &str = "sources";
/// The fields a person writes, in form order.
const CONTENT: [&str; 6] = [
    "title",
    "symptoms",
    "cause",
    "resolution",
    "category",
    "service",
];

keyword_enum! {
    /// Where an article is in its life.
    pub enum ArticleState ("article state") {
        /// Being written; only its writers rely on it.
        Draft => ("draft", "Draft"),
        /// Checked by a manager: suggested on matching incidents.
        Published => ("published", "Published"),
        /// No longer right; kept for its history.
        Retired => ("retired", "Retired"),
    }
}

/// What a person writes in an article.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDraft {
    /// Required, one line.
    pub title: String,
    /// What people see when it happens.
    pub symptoms: String,
    /// Why it happens.
    pub cause: String,
    /// The resolution or workaround.
    pub resolution: String,
    /// Category.
    pub category: String,
    /// Affected service.
    pub service: String,
}

impl ArticleDraft {
    /// A draft from an incident: its title, description as the symptoms, the review's root
    /// cause, and its resolution notes.
    pub fn from_incident(view: &IncidentView) -> ArticleDraft {
        let i = &view.incident;
        ArticleDraft {
            title: i.title.clone(),
            symptoms: i.description.clone(),
            cause: i.review.root_cause.clone(),
            resolution: i.resolution_notes.clone(),
            category: i.category.clone(),
            service: i.affected_service.clone(),
        }
    }

    fn values(&self) -> [&str; 6] {
        [
            &self.title,
            &self.symptoms,
            &self.cause,
            &self.resolution,
            &self.category,
            &self.service,
        ]
    }

    /// Checks every field, reporting every problem at once.
    pub fn cleaned(&self) -> Result<ArticleDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<String, FieldError>| {
            r.unwrap_or_else(|e| {
                errors.push(e);
                String::new()
            })
        };
        let clean = ArticleDraft {
            title: keep(clean_line(
                "title",
                "Title",
                &self.title,
                limits::TITLE,
                true,
            )),
            symptoms: keep(clean_text("symptoms", "Symptoms", &self.symptoms, false)),
            cause: keep(clean_text("cause", "Cause", &self.cause, false)),
            resolution: keep(clean_text(
                "resolution",
                "Resolution or workaround",
                &self.resolution,
                false,
            )),
            category: keep(clean_line(
                "category",
                "Category",
                &self.category,
                limits::SHORT_TEXT,
                false,
            )),
            service: keep(clean_line(
                "service",
                "Service",
                &self.service,
                limits::SHORT_TEXT,
                false,
            )),
        };
        if errors.is_empty() {
            Ok(clean)
        } else {
            Err(errors)
        }
    }
}

/// One change in an article's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleChange {
    /// When, on the author's device.
    pub at: DeviceTime,
    /// Who.
    pub by: String,
    /// What, in words.
    pub what: String,
}

/// An article as read from its document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    /// `KB-7F3A-0001`.
    pub number: String,
    /// What a person wrote.
    pub content: ArticleDraft,
    /// Draft, published or retired.
    pub state: ArticleState,
    /// Who wrote it first.
    pub author: String,
    /// When it was written first.
    pub created_at: DeviceTime,
    /// The incidents it was written from.
    pub sources: Vec<IncidentLink>,
    /// Every change, oldest first.
    pub history: Vec<ArticleChange>,
}

/// What a person does to an article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArticleEdit {
    /// Rewrites what it says.
    Content(ArticleDraft),
    /// Moves it to another state.
    Move(ArticleState),
    /// Records another incident it draws on.
    AddSource(IncidentLink),
}

/// Why an article edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArticleError {
    /// A field is wrong.
    #[error("{}", .0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" "))]
    Invalid(Vec<FieldError>),
    /// The role may not.
    #[error("{what} needs the {} role.", needed.label())]
    Role {
        /// What was refused.
        what: &'static str,
        /// The least role that may.
        needed: Role,
    },
    /// The document is not an article, or is damaged.
    #[error("This is not a readable knowledge article: {0}")]
    Unreadable(String),
}

/// The least role that may make `edit` to an article in `state`, and its name in a refusal.
pub fn needed(state: ArticleState, edit: &ArticleEdit) -> (Role, &'static str) {
    match (edit, state) {
        (ArticleEdit::Move(ArticleState::Published), _) => {
            (Role::Manager, "Publishing a knowledge article")
        }
        (ArticleEdit::Move(ArticleState::Retired), _) => {
            (Role::Manager, "Retiring a knowledge article")
        }
        (ArticleEdit::Move(ArticleState::Draft), _) => {
            (Role::Manager, "Sending a knowledge article back to draft")
        }
        (ArticleEdit::Content(_), ArticleState::Draft) | (ArticleEdit::AddSource(_), _) => {
            (Role::Agent, "Writing a knowledge article")
        }
        (ArticleEdit::Content(_), _) => (Role::Manager, "Editing a published or retired article"),
    }
}

fn may(role: Role, (needed, what): (Role, &'static str)) -> Result<(), ArticleError> {
    if role >= needed {
        Ok(())
    } else {
        Err(ArticleError::Role { what, needed })
    }
}

/// A value of `obj` at `heads`, or now.
fn value_at(
    doc: &Automerge,
    obj: &automerge::ObjId,
    key: &str,
    heads: Option<&[ChangeHash]>,
) -> Result<Option<(Value<'static>, automerge::ObjId)>, automerge::AutomergeError> {
    let found = match heads {
        Some(h) => doc.get_at(obj, key, h)?,
        None => doc.get(obj, key)?,
    };
    Ok(found.map(|(v, id)| (v.into_owned(), id)))
}

fn text_at(doc: &Automerge, key: &str, heads: Option<&[ChangeHash]>) -> Option<String> {
    match value_at(doc, &ROOT, key, heads) {
        Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_string),
        _ => None,
    }
}

/// Whether a document is a knowledge article (at `heads`, or now).
pub fn claims(doc: &Automerge, heads: Option<&[ChangeHash]>) -> bool {
    text_at(doc, TYPE, heads).as_deref() == Some(ARTICLE_TYPE)
}

/// The message a change carries: who, when, what.
#[derive(Serialize, Deserialize)]
struct Message {
    by: String,
    at: DeviceTime,
    what: String,
}

fn commit(
    doc: &mut Automerge,
    origin: &Attribution,
    what: String,
    write: impl FnOnce(&mut Transaction<'_>) -> Result<(), automerge::AutomergeError>,
) -> Result<(), ArticleError> {
    let message = serde_json::to_string(&Message {
        by: origin.by.clone(),
        at: origin.at,
        what,
    })
    .expect("plain data");
    doc.transact_with(
        |_| {
            CommitOptions::default()
                .with_message(message)
                .with_time(origin.at.unix_seconds())
        },
        write,
    )
    .map(|_| ())
    .map_err(|f| ArticleError::Unreadable(f.error.to_string()))
}

fn write_content(
    tx: &mut Transaction<'_>,
    content: &ArticleDraft,
) -> Result<(), automerge::AutomergeError> {
    for (key, value) in CONTENT.iter().zip(content.values()) {
        tx.put(ROOT, *key, value)?;
    }
    Ok(())
}

/// An article's number: `KB-`, the device prefix, and a sequence one past the highest this
/// prefix has used among `existing`.
pub fn next_number<'a>(prefix: &str, existing: impl IntoIterator<Item = &'a str>) -> String {
    let lead = format!("KB-{prefix}-");
    let next = existing
        .into_iter()
        .filter_map(|n| n.strip_prefix(&lead)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    format!("{lead}{next:04}")
}

/// Writes a new draft article, drawn from `source` if given.
pub fn create(
    number: &str,
    draft: &ArticleDraft,
    source: Option<&IncidentLink>,
    origin: &Attribution,
    role: Role,
) -> Result<Automerge, ArticleError> {
    may(
        role,
        needed(ArticleState::Draft, &ArticleEdit::Content(draft.clone())),
    )?;
    let content = draft.cleaned().map_err(ArticleError::Invalid)?;
    let origin = origin
        .cleaned()
        .map_err(|e| ArticleError::Invalid(vec![e]))?;
    let mut doc = Automerge::new();
    commit(&mut doc, &origin, format!("Wrote {number}"), |tx| {
        tx.put(ROOT, TYPE, ARTICLE_TYPE)?;
        tx.put(ROOT, SCHEMA, 1_i64)?;
        tx.put(ROOT, NUMBER, number)?;
        tx.put(ROOT, STATE, ArticleState::Draft.key())?;
        tx.put(ROOT, AUTHOR, origin.by.as_str())?;
        tx.put(ROOT, CREATED_AT, ScalarValue::Timestamp(origin.at.millis()))?;
        write_content(tx, &content)?;
        let sources = tx.put_object(ROOT, SOURCES, ObjType::Map)?;
        if let Some(s) = source {
            tx.put(&sources, s.document_id.as_str(), s.reference.as_str())?;
        }
        Ok(())
    })?;
    Ok(doc)
}

/// Makes `edit` to an article as `origin`, whose role is `role`. Returns whether anything
/// changed.
pub fn edit(
    doc: &mut Automerge,
    edit: &ArticleEdit,
    origin: &Attribution,
    role: Role,
) -> Result<bool, ArticleError> {
    let article = read(doc)?;
    may(role, needed(article.state, edit))?;
    let origin = origin
        .cleaned()
        .map_err(|e| ArticleError::Invalid(vec![e]))?;
    match edit {
        ArticleEdit::Content(draft) => {
            let content = draft.cleaned().map_err(ArticleError::Invalid)?;
            if content == article.content {
                return Ok(false);
            }
            let (new, old) = (content.values(), article.content.values());
            let changed: Vec<&str> = CONTENT
                .iter()
                .enumerate()
                .filter(|(i, _)| new[*i] != old[*i])
                .map(|(_, k)| *k)
                .collect();
            commit(
                doc,
                &origin,
                format!("Edited {}", changed.join(", ")),
                |tx| write_content(tx, &content),
            )?;
        }
        ArticleEdit::Move(to) => {
            if *to == article.state {
                return Ok(false);
            }
            let what = match to {
                ArticleState::Published => "Published",
                ArticleState::Retired => "Retired",
                ArticleState::Draft => "Sent back to draft",
            };
            commit(doc, &origin, what.to_string(), |tx| {
                tx.put(ROOT, STATE, to.key())
            })?;
        }
        ArticleEdit::AddSource(link) => {
            if article
                .sources
                .iter()
                .any(|s| s.document_id == link.document_id)
            {
                return Ok(false);
            }
            commit(doc, &origin, format!("Linked {}", link.reference), |tx| {
                let sources = match tx.get(ROOT, SOURCES)? {
                    Some((Value::Object(ObjType::Map), id)) => id,
                    _ => tx.put_object(ROOT, SOURCES, ObjType::Map)?,
                };
                tx.put(&sources, link.document_id.as_str(), link.reference.as_str())
            })?;
        }
    }
    Ok(true)
}

/// Reads an article as it stands now.
pub fn read(doc: &Automerge) -> Result<Article, ArticleError> {
    read_at(doc, None)
}

fn read_at(doc: &Automerge, heads: Option<&[ChangeHash]>) -> Result<Article, ArticleError> {
    if !claims(doc, heads) {
        return Err(ArticleError::Unreadable(
            "it has no article type marker".into(),
        ));
    }
    let text = |key: &str| text_at(doc, key, heads).unwrap_or_default();
    let number = text(NUMBER);
    if number.is_empty() {
        return Err(ArticleError::Unreadable("it has no number".into()));
    }
    let state = ArticleState::from_key(&text(STATE)).ok_or_else(|| {
        ArticleError::Unreadable(format!("its state “{}” is unknown", text(STATE)))
    })?;
    let created_at = match value_at(doc, &ROOT, CREATED_AT, heads) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Timestamp(ms) | ScalarValue::Int(ms) => DeviceTime::from_millis(*ms),
            _ => DeviceTime::EPOCH,
        },
        _ => DeviceTime::EPOCH,
    };
    let mut sources = Vec::new();
    if let Ok(Some((Value::Object(ObjType::Map), obj))) = value_at(doc, &ROOT, SOURCES, heads) {
        let keys: Vec<String> = match heads {
            Some(h) => doc.keys_at(&obj, h).collect(),
            None => doc.keys(&obj).collect(),
        };
        for key in keys {
            if let Ok(Some((Value::Scalar(s), _))) = value_at(doc, &obj, &key, heads) {
                sources.push(IncidentLink {
                    document_id: key,
                    reference: s.as_str().unwrap_or_default().to_string(),
                });
            }
        }
    }
    let content = ArticleDraft {
        title: text("title"),
        symptoms: text("symptoms"),
        cause: text("cause"),
        resolution: text("resolution"),
        category: text("category"),
        service: text("service"),
    };
    // The history is read for people (now), not for the relay's judgement (at heads).
    let changes = if heads.is_none() {
        doc.get_changes(&[])
    } else {
        Vec::new()
    };
    let mut history: Vec<ArticleChange> = changes
        .iter()
        .filter_map(|c| serde_json::from_str::<Message>(c.message()?).ok())
        .map(|m| ArticleChange {
            at: m.at,
            by: m.by,
            what: m.what,
        })
        .collect();
    history.sort_by_key(|c| c.at);
    Ok(Article {
        number,
        content,
        state,
        author: text(AUTHOR),
        created_at,
        sources,
        history,
    })
}

/// Whether the relay admits the change from `before` to `after` (the heads around it) to an
/// article, made by someone of `role`: the article must stay a readable article with the same
/// number, author and creation time, and each difference needs the role [`needed`] names for
/// it. (That a document never changes kind is [`kind_changes`].)
pub fn admit(
    role: Role,
    doc: &Automerge,
    before: &[ChangeHash],
    after: &[ChangeHash],
) -> Result<(), String> {
    let refuse = |r: Result<(), ArticleError>| r.map_err(|e| e.to_string());
    let now = read_at(doc, Some(after)).map_err(|e| e.to_string())?;
    refuse(
        now.content
            .cleaned()
            .map(|_| ())
            .map_err(ArticleError::Invalid),
    )?;
    if before.is_empty() || !claims(doc, Some(before)) {
        // Written by this change: as anyone who may write a draft, and published at once only
        // by someone who may publish.
        refuse(may(
            role,
            needed(
                ArticleState::Draft,
                &ArticleEdit::Content(now.content.clone()),
            ),
        ))?;
        if now.state != ArticleState::Draft {
            refuse(may(
                role,
                needed(ArticleState::Draft, &ArticleEdit::Move(now.state)),
            ))?;
        }
        return Ok(());
    }
    let was = read_at(doc, Some(before)).map_err(|e| e.to_string())?;
    if was.number != now.number || was.author != now.author || was.created_at != now.created_at {
        return Err("An article's number, author and creation time cannot change.".into());
    }
    if was.state != now.state {
        refuse(may(role, needed(was.state, &ArticleEdit::Move(now.state))))?;
    }
    if was.content != now.content {
        refuse(may(
            role,
            needed(was.state, &ArticleEdit::Content(now.content.clone())),
        ))?;
    }
    if was.sources.iter().any(|s| !now.sources.contains(s)) {
        refuse(may(
            role,
            (Role::Manager, "Removing an article's source incident"),
        ))?;
    }
    Ok(())
}

/// Whether a change turns a document of one kind (incident, workspace, article) into another:
/// its type marker was set before and names another kind after. Never admitted, so no kind's
/// rules can be dodged by relabelling a document. (A marker removed is left to the document's
/// own rules, which refuse a document they cannot read, with their own words.)
pub fn kind_changes(doc: &Automerge, before: &[ChangeHash], after: &[ChangeHash]) -> bool {
    if before.is_empty() {
        return false;
    }
    match (
        text_at(doc, TYPE, Some(before)),
        text_at(doc, TYPE, Some(after)),
    ) {
        (Some(was), Some(now)) => was != now,
        _ => false,
    }
}

fn words(text: &str) -> Vec<String> {
    normalise(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_string)
        .collect()
}

/// Published articles that may help with an incident of this title, category and service, most
/// relevant first: a shared category or service counts, and each title word the article's title
/// or symptoms share. Articles sharing nothing are left out.
pub fn suggest<'a>(
    articles: impl IntoIterator<Item = &'a Article>,
    title: &str,
    category: &str,
    service: &str,
    limit: usize,
) -> Vec<&'a Article> {
    let wanted = words(title);
    let same = |a: &str, b: &str| !a.trim().is_empty() && crate::directory::same_name(a, b);
    let mut scored: Vec<(u32, &Article)> = articles
        .into_iter()
        .filter(|a| a.state == ArticleState::Published)
        .filter_map(|a| {
            let theirs = words(&format!("{} {}", a.content.title, a.content.symptoms));
            let shared = u32::try_from(wanted.iter().filter(|w| theirs.contains(w)).count())
                .unwrap_or(u32::MAX);
            let score = shared * 2
                + u32::from(same(category, &a.content.category)) * 3
                + u32::from(same(service, &a.content.service)) * 3;
            // A shared category alone is too weak a hint: it needs a word or the service too.
            (shared > 0 || same(service, &a.content.service)).then_some((score, a))
        })
        .collect();
    scored.sort_by(|(x, a), (y, b)| y.cmp(x).then_with(|| a.number.cmp(&b.number)));
    scored.into_iter().take(limit).map(|(_, a)| a).collect()
}

/// Whether every search word appears in the article's number, title, symptoms, cause,
/// resolution, category or service.
pub fn matches(article: &Article, terms: &[String]) -> bool {
    if terms.is_empty() {
        return true;
    }
    let c = &article.content;
    let text = normalise(&format!(
        "{} {} {} {} {} {} {}",
        article.number, c.title, c.symptoms, c.cause, c.resolution, c.category, c.service
    ));
    terms.iter().all(|t| text.contains(t.as_str()))
}
