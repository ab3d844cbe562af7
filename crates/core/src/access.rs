//! Who may read an incident.
//!
//! An incident is readable by everyone in its workspace unless it is restricted to groups
//! (security incidents, say): then only members of one of those groups may read it, and the relay
//! sends it, or anything about it, to nobody else. The restriction is the `restricted_to` field, a
//! comma-separated list of group names.
//!
//! Concurrent restrictions fail safe. The field is a register like any other, so two people can
//! set it at once; while that conflict stands, the incident is restricted if any of the values
//! restricts it, to the groups of all of them together. A concurrent "unrestricted" never opens a
//! restricted incident to the whole workspace; only settling the conflict does.

use std::collections::BTreeSet;

use automerge::{Automerge, ChangeHash, ReadDoc, ROOT};

use crate::field::{Field, FieldValue};
use crate::incident::FieldError;

/// At most this many groups in one restriction.
pub const MAX_GROUPS: usize = 16;
/// At most this many characters in one group name.
pub const MAX_GROUP_NAME: usize = 60;

/// Who may read an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Everyone in the workspace.
    Everyone,
    /// Members of at least one of these groups.
    Groups(BTreeSet<String>),
}

impl Readers {
    /// Who may read `doc` now.
    pub fn of(doc: &Automerge) -> Readers {
        Readers::from_values(values(
            doc,
            doc.get_all(ROOT, Field::RestrictedTo.key())
                .unwrap_or_default(),
            None,
        ))
    }

    /// Who may read `doc` as it was at `heads`.
    pub fn at(doc: &Automerge, heads: &[ChangeHash]) -> Readers {
        Readers::from_values(values(
            doc,
            doc.get_all_at(ROOT, Field::RestrictedTo.key(), heads)
                .unwrap_or_default(),
            Some(heads),
        ))
    }

    /// Who may read an incident whose `restricted_to` holds these values (several while
    /// concurrent restrictions conflict).
    pub fn from_values(values: impl IntoIterator<Item = FieldValue>) -> Readers {
        let mut groups = BTreeSet::new();
        for value in values {
            let text = match value {
                FieldValue::Empty => continue,
                FieldValue::Text(t) => t,
                // Not a list of names (a hostile write): a group nobody is in, so the
                // incident is restricted rather than opened.
                other => format!("({other:?})"),
            };
            groups.extend(parse_groups(&text));
        }
        if groups.is_empty() {
            Readers::Everyone
        } else {
            Readers::Groups(groups)
        }
    }

    /// Whether a member of `groups` may read it.
    pub fn admit<S: AsRef<str>>(&self, groups: &[S]) -> bool {
        match self {
            Readers::Everyone => true,
            Readers::Groups(allowed) => groups.iter().any(|g| allowed.contains(g.as_ref())),
        }
    }

    /// The groups it is restricted to, or `None` for everyone.
    pub fn groups(&self) -> Option<Vec<String>> {
        match self {
            Readers::Everyone => None,
            Readers::Groups(g) => Some(g.iter().cloned().collect()),
        }
    }
}

/// The values as text: scalars, and collaborative text as JavaScript peers write strings.
fn values(
    doc: &Automerge,
    all: Vec<(automerge::Value<'_>, automerge::ObjId)>,
    heads: Option<&[ChangeHash]>,
) -> Vec<FieldValue> {
    all.into_iter()
        .map(|(v, id)| match v {
            automerge::Value::Scalar(s) => FieldValue::from_scalar(&s),
            automerge::Value::Object(automerge::ObjType::Text) => {
                let text = match heads {
                    Some(heads) => doc.text_at(&id, heads),
                    None => doc.text(&id),
                };
                // Unreadable text restricts to a group nobody is in, rather than opening it.
                FieldValue::Text(text.unwrap_or_else(|_| "(unreadable)".to_string()))
            }
            automerge::Value::Object(_) => FieldValue::Text("(object)".to_string()),
        })
        .collect()
}

/// The group names in a stored or typed restriction: trimmed, without empties or repeats, sorted.
pub fn parse_groups(text: &str) -> Vec<String> {
    let set: BTreeSet<String> = text
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    set.into_iter().collect()
}

/// A restriction as chosen by a person, checked: the text to store (empty for none).
pub fn restriction(groups: &[String]) -> Result<String, FieldError> {
    Ok(checked_groups(groups)?.join(", "))
}

/// Group names as typed, comma-separated (a token's groups, a restriction), checked.
pub fn typed_groups(text: &str) -> Result<Vec<String>, FieldError> {
    checked_groups(&text.split(',').map(str::to_string).collect::<Vec<_>>())
}

/// Group names checked: trimmed, without empties or repeats, sorted, and each one storable.
pub fn checked_groups(groups: &[String]) -> Result<Vec<String>, FieldError> {
    let key = Field::RestrictedTo.key();
    let mut clean = BTreeSet::new();
    for group in groups {
        let group = group.trim();
        if group.is_empty() {
            continue;
        }
        if group.contains(',') {
            return Err(FieldError::new(
                key,
                format!("A group name cannot contain a comma (\"{group}\")."),
            ));
        }
        if group.chars().any(char::is_control) {
            return Err(FieldError::new(
                key,
                "A group name cannot contain line breaks or control characters.",
            ));
        }
        if group.chars().count() > MAX_GROUP_NAME {
            return Err(FieldError::new(
                key,
                format!("A group name can be at most {MAX_GROUP_NAME} characters."),
            ));
        }
        clean.insert(group.to_string());
    }
    if clean.len() > MAX_GROUPS {
        return Err(FieldError::new(
            key,
            format!("At most {MAX_GROUPS} groups can be named."),
        ));
    }
    Ok(clean.into_iter().collect())
}
