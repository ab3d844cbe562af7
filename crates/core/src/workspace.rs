//! The workspace document: one Automerge document per workspace holding its configuration and
//! directory, synced and readable offline like an incident, changed only by admins.
//!
//! ```text
//! { type: "outpost/workspace", schema: 1,
//!   "matrix": "<json>", "label.P1": "<json>", "sla.P1": "<json>", "sla.pause_on": "<json>",
//!   "calendar": "<json>", "calendar:berlin office": "<json>", "communication": "<json>",
//!   "auto_close_days": "<json>",
//!   "escalations": "<json>", "alerts": "<json>", "mail": "<json>",
//!   "category:network": "<json>", "service:email": "<json>",
//!   "resolution:workaround provided": "<json>",
//!   "group:service desk": "<json>", "person:ana lima": "<json>" }
//! ```
//!
//! Every setting is one key of the root map holding its value as JSON: a last-writer-wins
//! register, like an incident's fields. That is the grain of conflict a person can settle: two
//! admins editing different settings (or different people, groups or categories) merge
//! cleanly; two editing the same one leave both values, shown as a conflict until one is
//! picked. Nothing is nested, so no two devices can create rival maps (Automerge would keep one
//! and hide the other's contents).
//!
//! A setting never written follows Outpost's default ([`WorkspaceConfig::default`]); a removed
//! entry is written as `null`, so a default category can be removed and a concurrent edit and
//! removal still meet as a conflict. The first change an admin makes writes the type marker,
//! so a workspace nobody configured has no document and every device uses the defaults.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc, ScalarValue, Value, ROOT};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::alert::AlertMapping;
use crate::calendar::BusinessCalendar;
use crate::communication::CommunicationPlan;
use crate::config::{
    Category, ConfigError, EscalationRule, ResolutionCodeEntry, Service, WorkspaceConfig,
};
use crate::directory::{same_name, Directory, DirectoryError, Group, Person};
use crate::history::Attribution;
use crate::mail::MailRules;
use crate::priority::{Priority, PriorityMatrix};
use crate::sla::SlaTarget;
use crate::state::HoldReason;

/// The type marker of a workspace document.
pub const WORKSPACE_TYPE: &str = "outpost/workspace";
const TYPE: &str = "type";
const SCHEMA: &str = "schema";
const SCHEMA_VERSION: i64 = 1;

/// Which setting a key holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettingKey {
    /// The priority matrix.
    Matrix,
    /// A priority's label.
    Label(Priority),
    /// A priority's SLA targets.
    Sla(Priority),
    /// The hold reasons that pause the resolution clock.
    PauseOn,
    /// The main business calendar.
    Calendar,
    /// Another business calendar, by lower-cased name.
    OtherCalendar(String),
    /// The communication plan.
    Communication,
    /// The auto-close delay.
    AutoClose,
    /// The escalation rules.
    Escalations,
    /// How alerts become incidents.
    Alerts,
    /// How mail is classified.
    Mail,
    /// A category, by lower-cased name.
    Category(String),
    /// A service, by lower-cased name.
    Service(String),
    /// A resolution code, by lower-cased name.
    ResolutionCode(String),
    /// A group, by lower-cased name.
    Group(String),
    /// A person, by lower-cased name.
    Person(String),
}

impl SettingKey {
    /// The root-map key.
    pub fn key(&self) -> String {
        match self {
            SettingKey::Matrix => "matrix".into(),
            SettingKey::Label(p) => format!("label.{}", p.code()),
            SettingKey::Sla(p) => format!("sla.{}", p.code()),
            SettingKey::PauseOn => "sla.pause_on".into(),
            SettingKey::Calendar => "calendar".into(),
            SettingKey::OtherCalendar(n) => format!("calendar:{n}"),
            SettingKey::Communication => "communication".into(),
            SettingKey::AutoClose => "auto_close_days".into(),
            SettingKey::Escalations => "escalations".into(),
            SettingKey::Alerts => "alerts".into(),
            SettingKey::Mail => "mail".into(),
            SettingKey::Category(n) => format!("category:{n}"),
            SettingKey::Service(n) => format!("service:{n}"),
            SettingKey::ResolutionCode(n) => format!("resolution:{n}"),
            SettingKey::Group(n) => format!("group:{n}"),
            SettingKey::Person(n) => format!("person:{n}"),
        }
    }

    /// Reads a root-map key; `None` for keys that are not settings.
    pub fn parse(key: &str) -> Option<SettingKey> {
        let priority = |code: &str| {
            code.strip_prefix('P')
                .and_then(|n| n.parse().ok())
                .and_then(Priority::from_number)
        };
        let named = |name: &str| {
            (!name.is_empty() && name == name.trim().to_lowercase()).then(|| name.to_string())
        };
        Some(match key {
            "matrix" => SettingKey::Matrix,
            "sla.pause_on" => SettingKey::PauseOn,
            "calendar" => SettingKey::Calendar,
            "communication" => SettingKey::Communication,
            "auto_close_days" => SettingKey::AutoClose,
            "escalations" => SettingKey::Escalations,
            "alerts" => SettingKey::Alerts,
            "mail" => SettingKey::Mail,
            _ => {
                if let Some(p) = key.strip_prefix("label.") {
                    SettingKey::Label(priority(p)?)
                } else if let Some(p) = key.strip_prefix("sla.") {
                    SettingKey::Sla(priority(p)?)
                } else if let Some(n) = key.strip_prefix("calendar:") {
                    SettingKey::OtherCalendar(named(n)?)
                } else if let Some(n) = key.strip_prefix("category:") {
                    SettingKey::Category(named(n)?)
                } else if let Some(n) = key.strip_prefix("resolution:") {
                    SettingKey::ResolutionCode(named(n)?)
                } else if let Some(n) = key.strip_prefix("service:") {
                    SettingKey::Service(named(n)?)
                } else if let Some(n) = key.strip_prefix("group:") {
                    SettingKey::Group(named(n)?)
                } else if let Some(n) = key.strip_prefix("person:") {
                    SettingKey::Person(named(n)?)
                } else {
                    return None;
                }
            }
        })
    }

    /// What a person calls it: "SLA targets for P2", "Person Ana Lima".
    pub fn label(&self) -> String {
        match self {
            SettingKey::Matrix => "Priority matrix".into(),
            SettingKey::Label(p) => format!("Label of {}", p.code()),
            SettingKey::Sla(p) => format!("SLA targets for {}", p.code()),
            SettingKey::PauseOn => "Hold reasons that pause the SLA".into(),
            SettingKey::Calendar => "Business calendar".into(),
            SettingKey::OtherCalendar(n) => format!("Calendar {n}"),
            SettingKey::Communication => "Communication plan".into(),
            SettingKey::AutoClose => "Auto-close delay".into(),
            SettingKey::Escalations => "Escalation rules".into(),
            SettingKey::Alerts => "Alert mapping".into(),
            SettingKey::Mail => "Mail rules".into(),
            SettingKey::Category(n) => format!("Category {n}"),
            SettingKey::Service(n) => format!("Service {n}"),
            SettingKey::ResolutionCode(n) => format!("Resolution code {n}"),
            SettingKey::Group(n) => format!("Group {n}"),
            SettingKey::Person(n) => format!("Person {n}"),
        }
    }

    /// The key of a named entry (`SettingKey::Category`, …): its name trimmed and lower-cased.
    pub fn named(make: fn(String) -> SettingKey, name: &str) -> SettingKey {
        make(name.trim().to_lowercase())
    }
}

/// One setting's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// The priority matrix.
    Matrix(PriorityMatrix),
    /// A priority's label.
    Label(Priority, String),
    /// A priority's SLA targets.
    Sla(Priority, SlaTarget),
    /// The hold reasons that pause the resolution clock.
    PauseOn(Vec<HoldReason>),
    /// The main business calendar.
    Calendar(BusinessCalendar),
    /// Another business calendar.
    OtherCalendar(BusinessCalendar),
    /// The communication plan.
    Communication(CommunicationPlan),
    /// The auto-close delay in days.
    AutoClose(u32),
    /// The escalation rules.
    Escalations(Vec<EscalationRule>),
    /// How alerts become incidents.
    Alerts(AlertMapping),
    /// How mail is classified.
    Mail(MailRules),
    /// A category.
    Category(Category),
    /// A service.
    Service(Service),
    /// A resolution code.
    ResolutionCode(ResolutionCodeEntry),
    /// A group.
    Group(Group),
    /// A person.
    Person(Person),
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("settings serialise")
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

impl Setting {
    /// Its key.
    pub fn key(&self) -> SettingKey {
        match self {
            Setting::Matrix(_) => SettingKey::Matrix,
            Setting::Label(p, _) => SettingKey::Label(*p),
            Setting::Sla(p, _) => SettingKey::Sla(*p),
            Setting::PauseOn(_) => SettingKey::PauseOn,
            Setting::Calendar(_) => SettingKey::Calendar,
            Setting::OtherCalendar(c) => SettingKey::named(SettingKey::OtherCalendar, &c.name),
            Setting::Communication(_) => SettingKey::Communication,
            Setting::AutoClose(_) => SettingKey::AutoClose,
            Setting::Escalations(_) => SettingKey::Escalations,
            Setting::Alerts(_) => SettingKey::Alerts,
            Setting::Mail(_) => SettingKey::Mail,
            Setting::Category(c) => SettingKey::named(SettingKey::Category, &c.name),
            Setting::Service(s) => SettingKey::named(SettingKey::Service, &s.name),
            Setting::ResolutionCode(c) => SettingKey::named(SettingKey::ResolutionCode, &c.name),
            Setting::Group(g) => SettingKey::named(SettingKey::Group, &g.name),
            Setting::Person(p) => SettingKey::named(SettingKey::Person, &p.name),
        }
    }

    /// Its stored JSON.
    pub fn to_json(&self) -> String {
        match self {
            Setting::Matrix(m) => json(m),
            Setting::Label(_, l) => json(l),
            Setting::Sla(_, t) => json(t),
            Setting::PauseOn(r) => json(r),
            Setting::Calendar(c) | Setting::OtherCalendar(c) => json(c),
            Setting::Communication(c) => json(c),
            Setting::AutoClose(d) => json(d),
            Setting::Escalations(e) => json(e),
            Setting::Alerts(a) => json(a),
            Setting::Mail(m) => json(m),
            Setting::Category(c) => json(c),
            Setting::Service(s) => json(s),
            Setting::ResolutionCode(c) => json(c),
            Setting::Group(g) => json(g),
            Setting::Person(p) => json(p),
        }
    }

    /// Reads a stored value of `key`; the entry must carry the name its key has.
    pub fn from_json(key: &SettingKey, text: &str) -> Result<Setting, String> {
        let setting = match key {
            SettingKey::Matrix => Setting::Matrix(parse(text)?),
            SettingKey::Label(p) => Setting::Label(*p, parse(text)?),
            SettingKey::Sla(p) => Setting::Sla(*p, parse(text)?),
            SettingKey::PauseOn => Setting::PauseOn(parse(text)?),
            SettingKey::Calendar => Setting::Calendar(parse(text)?),
            SettingKey::OtherCalendar(_) => Setting::OtherCalendar(parse(text)?),
            SettingKey::Communication => Setting::Communication(parse(text)?),
            SettingKey::AutoClose => Setting::AutoClose(parse(text)?),
            SettingKey::Escalations => Setting::Escalations(parse(text)?),
            SettingKey::Alerts => Setting::Alerts(parse(text)?),
            SettingKey::Mail => Setting::Mail(parse(text)?),
            SettingKey::Category(_) => Setting::Category(parse(text)?),
            SettingKey::Service(_) => Setting::Service(parse(text)?),
            SettingKey::ResolutionCode(_) => Setting::ResolutionCode(parse(text)?),
            SettingKey::Group(_) => Setting::Group(parse(text)?),
            SettingKey::Person(_) => Setting::Person(parse(text)?),
        };
        if setting.key() != *key {
            return Err(format!("its name does not match its key {}", key.key()));
        }
        Ok(setting)
    }

    /// A short description, to choose between conflicting values.
    pub fn describe(&self) -> String {
        match self {
            Setting::Label(_, l) => l.clone(),
            Setting::AutoClose(d) => format!("{d} days"),
            Setting::Sla(p, t) => crate::sla::SlaDefinition {
                priority: *p,
                target: t.clone(),
            }
            .describe(),
            Setting::Person(p) => {
                let mut parts = vec![p.name.clone()];
                parts.extend(
                    [p.email.clone(), p.phone.clone(), p.team.clone()]
                        .into_iter()
                        .filter(|s| !s.is_empty()),
                );
                if !p.groups.is_empty() {
                    parts.push(format!("groups {}", p.groups.join(", ")));
                }
                if p.on_call {
                    parts.push("on call".into());
                }
                parts.join(" · ")
            }
            other => other.to_json(),
        }
    }
}

/// A change to the workspace document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Writes a setting (adds or replaces; an entry renamed is removed under its old key by a
    /// separate [`Edit::Remove`]).
    Set(Setting),
    /// Removes a category, service, group or person (other settings return to the default).
    Remove(SettingKey),
}

/// A setting holding values two admins wrote concurrently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingConflict {
    /// The setting.
    pub key: SettingKey,
    /// Its distinct values, the one in effect first; `None` is a removal.
    pub values: Vec<Option<Setting>>,
}

/// The workspace as a device applies it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Workspace {
    /// The rules.
    pub config: WorkspaceConfig,
    /// The people and groups.
    pub directory: Directory,
    /// Settings holding concurrent values.
    pub conflicts: Vec<SettingConflict>,
    /// Stored values that could not be read (skipped; their defaults apply), with why.
    pub unreadable: Vec<String>,
}

/// Why an edit of the workspace was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The configuration would be invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A directory entry is invalid.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// A removal of something that cannot be removed.
    #[error("{0} cannot be removed, only changed.")]
    NotRemovable(String),
    /// The group still has members or services.
    #[error("{group} still has {what}; move them to another group first.")]
    GroupInUse {
        /// The group.
        group: String,
        /// "members" or "services".
        what: &'static str,
    },
    /// An SLA target still counts in the calendar (the reason says which).
    #[error("{0}")]
    CalendarInUse(String),
    /// Automerge failed.
    #[error("The workspace document could not be changed: {0}")]
    Document(String),
}

/// The raw settings at some heads: key → distinct values, the winner first (`None` = removed).
type Raw = BTreeMap<SettingKey, Vec<Option<String>>>;

fn raw_at(doc: &Automerge, heads: Option<&[ChangeHash]>) -> (Raw, Vec<String>) {
    let mut raw = Raw::new();
    let mut unknown = Vec::new();
    let keys: Vec<String> = match heads {
        Some(h) => doc.keys_at(ROOT, h).collect(),
        None => doc.keys(ROOT).collect(),
    };
    for key in keys {
        if key == TYPE || key == SCHEMA {
            continue;
        }
        let Some(setting) = SettingKey::parse(&key) else {
            unknown.push(key);
            continue;
        };
        let winner = match heads {
            Some(h) => doc.get_at(ROOT, key.as_str(), h),
            None => doc.get(ROOT, key.as_str()),
        }
        .ok()
        .flatten();
        let all = match heads {
            Some(h) => doc.get_all_at(ROOT, key.as_str(), h),
            None => doc.get_all(ROOT, key.as_str()),
        }
        .unwrap_or_default();
        let mut values: Vec<Option<String>> = Vec::new();
        for (value, _) in winner.into_iter().chain(all) {
            let text = match value {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(t) => Some(t.to_string()),
                    _ => None,
                },
                Value::Object(_) => Some(String::from("(object)")),
            };
            if !values.contains(&text) {
                values.push(text);
            }
        }
        raw.insert(setting, values);
    }
    (raw, unknown)
}

fn claims_workspace(doc: &Automerge, heads: Option<&[ChangeHash]>) -> bool {
    let value = match heads {
        Some(h) => doc.get_at(ROOT, TYPE, h),
        None => doc.get(ROOT, TYPE),
    };
    matches!(value, Ok(Some((Value::Scalar(s), _))) if s.as_str() == Some(WORKSPACE_TYPE))
}

/// Applies one setting over the defaults.
fn apply_setting(ws: &mut Workspace, setting: Setting) {
    let cfg = &mut ws.config;
    match setting {
        Setting::Matrix(m) => cfg.priority_matrix = m,
        Setting::Label(p, l) => cfg.priority_labels[p.index()] = l,
        Setting::Sla(p, t) => cfg.sla.targets[p.index()] = t,
        Setting::PauseOn(r) => cfg.sla.pause_on = r,
        Setting::Calendar(c) => cfg.calendar = c,
        Setting::OtherCalendar(c) => replace(&mut cfg.calendars, c, |c| &c.name),
        Setting::Communication(c) => cfg.communication = c,
        Setting::AutoClose(d) => cfg.auto_close_days = d,
        Setting::Escalations(e) => cfg.escalations = e,
        Setting::Alerts(a) => cfg.alerts = a,
        Setting::Mail(m) => cfg.mail = m,
        Setting::Category(c) => replace(&mut cfg.categories, c, |c| &c.name),
        Setting::Service(s) => replace(&mut cfg.services, s, |s| &s.name),
        Setting::ResolutionCode(c) => replace(&mut cfg.resolution_codes, c, |c| &c.name),
        Setting::Group(g) => replace(&mut ws.directory.groups, g, |g| &g.name),
        Setting::Person(p) => replace(&mut ws.directory.people, p, |p| &p.name),
    }
}

fn replace<T>(list: &mut Vec<T>, item: T, name: fn(&T) -> &String) {
    match list.iter_mut().find(|x| same_name(name(x), name(&item))) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

/// Removes an entry (or returns a setting to its default).
fn remove_setting(ws: &mut Workspace, key: &SettingKey) {
    let defaults = WorkspaceConfig::default();
    let cfg = &mut ws.config;
    match key {
        SettingKey::Matrix => cfg.priority_matrix = defaults.priority_matrix,
        SettingKey::Label(p) => {
            cfg.priority_labels[p.index()] = defaults.priority_labels[p.index()].clone()
        }
        SettingKey::Sla(p) => cfg.sla.targets[p.index()] = defaults.sla.targets[p.index()].clone(),
        SettingKey::PauseOn => cfg.sla.pause_on = defaults.sla.pause_on,
        SettingKey::Calendar => cfg.calendar = defaults.calendar,
        SettingKey::OtherCalendar(n) => cfg.calendars.retain(|c| !same_name(&c.name, n)),
        SettingKey::Communication => cfg.communication = defaults.communication,
        SettingKey::AutoClose => cfg.auto_close_days = defaults.auto_close_days,
        SettingKey::Escalations => cfg.escalations = defaults.escalations,
        SettingKey::Alerts => cfg.alerts = defaults.alerts,
        SettingKey::Mail => cfg.mail = defaults.mail,
        SettingKey::Category(n) => cfg.categories.retain(|c| !same_name(&c.name, n)),
        SettingKey::Service(n) => cfg.services.retain(|s| !same_name(&s.name, n)),
        SettingKey::ResolutionCode(n) => cfg.resolution_codes.retain(|c| !same_name(&c.name, n)),
        SettingKey::Group(n) => ws.directory.groups.retain(|g| !same_name(&g.name, n)),
        SettingKey::Person(n) => ws.directory.people.retain(|p| !same_name(&p.name, n)),
    }
}

fn read_raw(raw: &Raw, unknown: Vec<String>) -> Workspace {
    let mut ws = Workspace {
        unreadable: unknown
            .into_iter()
            .map(|k| format!("\"{k}\" is not a workspace setting"))
            .collect(),
        ..Workspace::default()
    };
    for (key, values) in raw {
        let read = |text: &Option<String>| match text {
            None => Ok(None),
            Some(t) if t == "null" => Ok(None),
            Some(t) => Setting::from_json(key, t).map(Some),
        };
        let mut settings = Vec::new();
        for value in values {
            match read(value) {
                Ok(s) => settings.push(s),
                Err(e) => ws.unreadable.push(format!("{}: {e}", key.label())),
            }
        }
        settings.dedup();
        match settings.first() {
            Some(Some(s)) => apply_setting(&mut ws, s.clone()),
            Some(None) => remove_setting(&mut ws, key),
            None => {}
        }
        if settings.len() > 1 {
            ws.conflicts.push(SettingConflict {
                key: key.clone(),
                values: settings,
            });
        }
    }
    ws.directory.sort();
    ws
}

/// Whether `edit` may be made to `ws`, and the workspace after it.
fn checked(ws: &Workspace, edit: &Edit) -> Result<Workspace, EditError> {
    let mut after = ws.clone();
    match edit {
        Edit::Set(Setting::Person(p)) => {
            after.directory.check_person(p, Some(&p.name))?;
            apply_setting(&mut after, Setting::Person(p.clone()));
        }
        Edit::Set(Setting::Group(g)) => {
            after.directory.check_group(g, Some(&g.name))?;
            apply_setting(&mut after, Setting::Group(g.clone()));
        }
        Edit::Set(setting) => apply_setting(&mut after, setting.clone()),
        Edit::Remove(key) => {
            if let SettingKey::Group(name) = key {
                let group = ws
                    .directory
                    .group(name)
                    .map_or(name.clone(), |g| g.name.clone());
                if !ws.directory.members(name).is_empty() {
                    return Err(EditError::GroupInUse {
                        group,
                        what: "members",
                    });
                }
                if ws.config.services.iter().any(|s| same_name(&s.group, name)) {
                    return Err(EditError::GroupInUse {
                        group,
                        what: "services",
                    });
                }
            }
            if let SettingKey::OtherCalendar(name) = key {
                let slot = crate::entry::CalendarSlot::Other(name.clone());
                slot.remove(&ws.config).map_err(EditError::CalendarInUse)?;
            }
            remove_setting(&mut after, key);
        }
    }
    after.config.validate()?;
    Ok(after)
}

/// A workspace document.
#[derive(Clone, Debug, Default)]
pub struct WorkspaceDoc {
    doc: Automerge,
}

impl WorkspaceDoc {
    /// A workspace nobody has configured yet: every setting at its default.
    pub fn new() -> WorkspaceDoc {
        WorkspaceDoc::default()
    }

    /// Wraps a document (loaded from storage or synced).
    pub fn from_automerge(doc: Automerge) -> WorkspaceDoc {
        WorkspaceDoc { doc }
    }

    /// The Automerge document.
    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    /// Whether a document is a workspace document.
    pub fn claims(doc: &Automerge) -> bool {
        claims_workspace(doc, None)
    }

    /// The workspace as it applies now.
    pub fn read(&self) -> Workspace {
        read_document(&self.doc)
    }

    /// Validates every edit in order, then makes them all as one change (or none, with the
    /// first refusal). Returns whether anything changed.
    pub fn apply(&mut self, edits: &[Edit], origin: &Attribution) -> Result<bool, EditError> {
        apply_edits(&mut self.doc, edits, origin)
    }

    /// Merges another copy in.
    pub fn merge(&mut self, other: &mut WorkspaceDoc) -> Result<(), EditError> {
        self.doc
            .merge(&mut other.doc)
            .map(|_| ())
            .map_err(|e| EditError::Document(e.to_string()))
    }
}

/// [`WorkspaceDoc::apply`] on a document held elsewhere (a device's store keeps it beside its
/// incidents).
pub fn apply_edits(
    doc: &mut Automerge,
    edits: &[Edit],
    origin: &Attribution,
) -> Result<bool, EditError> {
    {
        let mut ws = read_document(doc);
        for edit in edits {
            ws = checked(&ws, edit)?;
        }
        let marked = claims_workspace(doc, None);
        let (raw, _) = raw_at(doc, None);
        let result = doc.transact_with(
            |_| {
                automerge::transaction::CommitOptions::default()
                    .with_message(origin.by.clone())
                    .with_time(origin.at.unix_seconds())
            },
            |tx| {
                if !marked {
                    tx.put(ROOT, TYPE, WORKSPACE_TYPE)?;
                    tx.put(ROOT, SCHEMA, SCHEMA_VERSION)?;
                }
                for edit in edits {
                    let (key, value) = match edit {
                        Edit::Set(s) => (s.key(), s.to_json()),
                        Edit::Remove(k) => (k.clone(), "null".to_string()),
                    };
                    let unchanged = raw
                        .get(&key)
                        .is_some_and(|v| v.len() == 1 && v[0].as_deref() == Some(value.as_str()));
                    if !unchanged {
                        tx.put(ROOT, key.key(), value)?;
                    }
                }
                Ok::<_, automerge::AutomergeError>(())
            },
        );
        match result {
            Ok(done) => Ok(done.hash.is_some()),
            Err(f) => Err(EditError::Document(f.error.to_string())),
        }
    }
}

/// The workspace a document holds.
pub fn read_document(doc: &Automerge) -> Workspace {
    let (raw, unknown) = raw_at(doc, None);
    read_raw(&raw, unknown)
}

/// Why a change to a workspace document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceRefusal {
    /// The stored values do not read as the settings their keys name.
    #[error("the workspace settings it writes cannot be read ({0})")]
    Unreadable(String),
    /// The configuration it leaves is invalid.
    #[error("it leaves the workspace configuration invalid: {0}")]
    Invalid(String),
    /// The type marker was removed or changed.
    #[error("the workspace document's type cannot be changed")]
    Type,
}

/// Whether a change that leaves a workspace document at `after` keeps it a readable, valid
/// workspace (the role is checked by the caller: configuring needs admin).
pub fn admit_change(doc: &Automerge, after: &[ChangeHash]) -> Result<(), WorkspaceRefusal> {
    if !claims_workspace(doc, Some(after)) {
        return Err(WorkspaceRefusal::Type);
    }
    let (raw, unknown) = raw_at(doc, Some(after));
    let ws = read_raw(&raw, unknown);
    if let Some(problem) = ws.unreadable.first() {
        return Err(WorkspaceRefusal::Unreadable(problem.clone()));
    }
    ws.config
        .validate()
        .map_err(|e| WorkspaceRefusal::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DeviceTime;

    fn admin(name: &str) -> Attribution {
        Attribution::new(
            name,
            DeviceTime::parse_rfc3339("2026-12-01T09:00:00Z").unwrap(),
        )
    }

    fn person(name: &str, groups: &[&str]) -> Person {
        Person {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Person::default()
        }
    }

    fn group(name: &str) -> Setting {
        Setting::Group(Group {
            name: name.into(),
            ..Group::default()
        })
    }

    fn target(response: u32, resolution: u32) -> SlaTarget {
        SlaTarget::new(response, resolution, crate::sla::CalendarChoice::Always)
    }

    #[test]
    fn an_unconfigured_workspace_reads_as_the_defaults() {
        let ws = WorkspaceDoc::new().read();
        assert_eq!(ws.config, WorkspaceConfig::default());
        assert_eq!(ws.directory, Directory::default());
        assert!(ws.conflicts.is_empty() && ws.unreadable.is_empty());
    }

    #[test]
    fn edits_are_validated_together_and_land_as_one_change() {
        let mut doc = WorkspaceDoc::new();
        let edits = [
            Edit::Set(group("Network Operations")),
            Edit::Set(Setting::Person(person("Ana Lima", &["Network Operations"]))),
            Edit::Set(Setting::Sla(Priority::P2, target(30, 6 * 60))),
        ];
        assert_eq!(doc.apply(&edits, &admin("root")), Ok(true));
        assert_eq!(doc.automerge().get_changes(&[]).len(), 1);
        let ws = doc.read();
        assert_eq!(ws.config.sla.target(Priority::P2).resolution_minutes, 360);
        assert_eq!(
            ws.directory.members("network operations")[0].name,
            "Ana Lima"
        );
        assert!(WorkspaceDoc::claims(doc.automerge()));
        // The same again changes nothing.
        assert_eq!(doc.apply(&edits, &admin("root")), Ok(false));

        // A bad edit among good ones refuses them all.
        let before = doc.automerge().get_heads();
        let refused = doc.apply(
            &[
                Edit::Set(Setting::Label(Priority::P1, "Urgent".into())),
                Edit::Set(Setting::Sla(Priority::P3, target(0, 60))),
            ],
            &admin("root"),
        );
        assert!(
            matches!(refused, Err(EditError::Config(ConfigError::Sla(_)))),
            "{refused:?}"
        );
        assert_eq!(doc.automerge().get_heads(), before);
        // A person in a group that does not exist, a duplicate label.
        assert!(matches!(
            doc.apply(
                &[Edit::Set(Setting::Person(person("Bo", &["Nowhere"])))],
                &admin("root")
            ),
            Err(EditError::Directory(DirectoryError::UnknownGroup(_)))
        ));
        assert!(matches!(
            doc.apply(
                &[Edit::Set(Setting::Label(Priority::P2, "critical".into()))],
                &admin("root")
            ),
            Err(EditError::Config(ConfigError::PriorityLabel(Priority::P2)))
        ));
        // A group with members cannot go.
        assert!(matches!(
            doc.apply(
                &[Edit::Remove(SettingKey::Group("network operations".into()))],
                &admin("root")
            ),
            Err(EditError::GroupInUse {
                what: "members",
                ..
            })
        ));
    }

    #[test]
    fn a_default_category_can_be_removed_and_one_added() {
        let mut doc = WorkspaceDoc::new();
        doc.apply(
            &[
                Edit::Remove(SettingKey::Category("facilities".into())),
                Edit::Set(Setting::Category(Category {
                    name: "Telephony".into(),
                    subcategories: vec!["Desk phone".into()],
                })),
            ],
            &admin("root"),
        )
        .unwrap();
        let names: Vec<String> = doc
            .read()
            .config
            .categories
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert!(!names.contains(&"Facilities".to_string()));
        assert_eq!(names.last().unwrap(), "Telephony");
        assert_eq!(names.len(), WorkspaceConfig::default().categories.len());
    }

    /// Two admins offline: different settings merge, the same setting is a conflict to settle.
    #[test]
    fn concurrent_admin_edits_merge_and_collide_per_setting() {
        let mut base = WorkspaceDoc::new();
        base.apply(&[Edit::Set(group("Service Desk"))], &admin("root"))
            .unwrap();
        let mut a = WorkspaceDoc::from_automerge(base.automerge().fork());
        let mut b = WorkspaceDoc::from_automerge(base.automerge().fork());
        a.apply(
            &[
                Edit::Set(Setting::Person(person("Ana Lima", &["Service Desk"]))),
                Edit::Set(Setting::Sla(Priority::P2, target(20, 300))),
            ],
            &admin("alice"),
        )
        .unwrap();
        b.apply(
            &[
                Edit::Set(Setting::Person(person("Bo Chen", &["Service Desk"]))),
                Edit::Set(Setting::Sla(Priority::P2, target(45, 600))),
            ],
            &admin("bob"),
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let ws = a.read();
        let members: Vec<&str> = ws
            .directory
            .members("Service Desk")
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(members, ["Ana Lima", "Bo Chen"]);
        assert_eq!(ws.conflicts.len(), 1);
        let conflict = &ws.conflicts[0];
        assert_eq!(conflict.key, SettingKey::Sla(Priority::P2));
        assert_eq!(conflict.values.len(), 2);
        // The value in effect is the first listed.
        let Some(Setting::Sla(_, shown)) = &conflict.values[0] else {
            panic!()
        };
        assert_eq!(ws.config.sla.target(Priority::P2), shown);
        // Settling writes one value, which supersedes both.
        let Some(chosen) = conflict.values[1].clone() else {
            panic!()
        };
        a.apply(&[Edit::Set(chosen.clone())], &admin("alice"))
            .unwrap();
        let ws = a.read();
        assert!(ws.conflicts.is_empty());
        let Setting::Sla(_, chosen) = chosen else {
            panic!()
        };
        assert_eq!(ws.config.sla.target(Priority::P2), &chosen);
    }

    /// Two admins offline each add a calendar and point a priority at it: both calendars and
    /// both targets survive the merge, with no conflict.
    #[test]
    fn concurrent_admins_add_different_calendars() {
        let base = WorkspaceDoc::new();
        let mut a = WorkspaceDoc::from_automerge(base.automerge().fork());
        let mut b = WorkspaceDoc::from_automerge(base.automerge().fork());
        let calendar = |name: &str| BusinessCalendar {
            name: name.into(),
            ..BusinessCalendar::office_hours(60)
        };
        let in_calendar = |name: &str| SlaTarget {
            business_calendar: name.into(),
            ..SlaTarget::new(60, 600, crate::sla::CalendarChoice::Business)
        };
        a.apply(
            &[
                Edit::Set(Setting::OtherCalendar(calendar("Berlin office"))),
                Edit::Set(Setting::Sla(Priority::P3, in_calendar("Berlin office"))),
            ],
            &admin("alice"),
        )
        .unwrap();
        b.apply(
            &[
                Edit::Set(Setting::OtherCalendar(calendar("Lisbon office"))),
                Edit::Set(Setting::Sla(Priority::P4, in_calendar("Lisbon office"))),
            ],
            &admin("bob"),
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let ws = a.read();
        assert!(ws.conflicts.is_empty(), "{:?}", ws.conflicts);
        let mut names: Vec<&str> = ws
            .config
            .calendars
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["Berlin office", "Lisbon office"]);
        assert_eq!(ws.config.calendar_used_by("lisbon office"), [Priority::P4]);
        assert_eq!(
            ws.config.calendar_named("Berlin office").name,
            "Berlin office"
        );
        ws.config.validate().unwrap();

        // A calendar named like another is refused.
        let twice = a.apply(
            &[Edit::Set(Setting::OtherCalendar(calendar(
                &ws.config.calendar.name,
            )))],
            &admin("alice"),
        );
        assert!(twice.is_err());
    }

    #[test]
    fn a_concurrent_edit_and_removal_is_a_conflict_too() {
        let mut base = WorkspaceDoc::new();
        base.apply(
            &[Edit::Set(Setting::Category(Category {
                name: "Telephony".into(),
                subcategories: vec![],
            }))],
            &admin("root"),
        )
        .unwrap();
        let mut a = WorkspaceDoc::from_automerge(base.automerge().fork());
        let mut b = WorkspaceDoc::from_automerge(base.automerge().fork());
        a.apply(
            &[Edit::Remove(SettingKey::Category("telephony".into()))],
            &admin("alice"),
        )
        .unwrap();
        b.apply(
            &[Edit::Set(Setting::Category(Category {
                name: "Telephony".into(),
                subcategories: vec!["Mobile".into()],
            }))],
            &admin("bob"),
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        let ws = a.read();
        assert_eq!(ws.conflicts.len(), 1);
        assert!(ws.conflicts[0].values.contains(&None));
    }

    #[test]
    fn the_judge_refuses_unreadable_or_invalid_settings() {
        let mut doc = WorkspaceDoc::new();
        doc.apply(&[Edit::Set(group("Service Desk"))], &admin("root"))
            .unwrap();
        let put = |key: &str, value: &str| {
            let mut d = doc.automerge().fork();
            let mut tx = d.transaction();
            tx.put(ROOT, key, value).unwrap();
            tx.commit();
            admit_change(&d, &d.get_heads())
        };
        assert_eq!(put("sla.P2", &json(&target(30, 480))), Ok(()));
        assert!(matches!(
            put("sla.P2", "{\"nope\":1}"),
            Err(WorkspaceRefusal::Unreadable(_))
        ));
        assert!(matches!(
            put("sla.P2", &json(&target(0, 480))),
            Err(WorkspaceRefusal::Invalid(_))
        ));
        assert!(matches!(
            put("favourite_colour", "\"red\""),
            Err(WorkspaceRefusal::Unreadable(_))
        ));
        assert!(matches!(
            put("type", "outpost/incident"),
            Err(WorkspaceRefusal::Type)
        ));
        // An entry stored under another entry's key.
        assert!(matches!(
            put(
                "group:other",
                &json(&Group {
                    name: "Service Desk".into(),
                    ..Group::default()
                })
            ),
            Err(WorkspaceRefusal::Unreadable(_))
        ));
    }

    #[test]
    fn keys_round_trip() {
        for key in [
            SettingKey::Matrix,
            SettingKey::Label(Priority::P3),
            SettingKey::Sla(Priority::P5),
            SettingKey::PauseOn,
            SettingKey::Calendar,
            SettingKey::OtherCalendar("berlin office".into()),
            SettingKey::Communication,
            SettingKey::AutoClose,
            SettingKey::Escalations,
            SettingKey::Alerts,
            SettingKey::Mail,
            SettingKey::Category("network".into()),
            SettingKey::Service("email".into()),
            SettingKey::ResolutionCode("replaced hardware".into()),
            SettingKey::Group("service desk".into()),
            SettingKey::Person("ana lima".into()),
        ] {
            assert_eq!(SettingKey::parse(&key.key()), Some(key));
        }
        for bad in ["sla.P9", "person:", "person:Ana", "type", "label.X"] {
            assert_eq!(SettingKey::parse(bad), None, "{bad}");
        }
    }
}
