//! The workspace directory: its people and assignment groups, the source of the assignee,
//! group and caller pickers, of "assigned to me" and "my groups", and of who is told what.
//!
//! A person belongs to groups by naming them on their own record, so two admins adding
//! different people to one group concurrently both land (each edits a different person);
//! only two edits of the same person meet as a conflict.

use serde::{Deserialize, Serialize};

/// Someone in the workspace directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Full name, as pickers show it and as incidents record it (unique in the workspace).
    pub name: String,
    /// Where mail reaches them.
    #[serde(default)]
    pub email: String,
    /// Where a call or text reaches them.
    #[serde(default)]
    pub phone: String,
    /// Their team or department, for callers.
    #[serde(default)]
    pub team: String,
    /// The assignment groups they work in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether they are on call now (told about every new P1 and P2).
    #[serde(default)]
    pub on_call: bool,
    /// Duties the communication plan refers to: "Product head", "Account owner: ACME".
    #[serde(default)]
    pub duties: Vec<String>,
}

/// An assignment group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Its name, e.g. "Network Operations" (unique in the workspace).
    pub name: String,
    /// Its manager (a person's name), told when the group's incidents escalate.
    #[serde(default)]
    pub manager: String,
    /// A shared mailbox for the group, if it has one.
    #[serde(default)]
    pub email: String,
}

/// The people and groups of a workspace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// Everyone, in name order.
    pub people: Vec<Person>,
    /// Every assignment group, in name order.
    pub groups: Vec<Group>,
}

/// Why a directory entry was refused, with the field it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// A name is missing.
    #[error("Enter a name.")]
    NoName,
    /// Another entry has this name.
    #[error("\"{0}\" is already in the directory.")]
    Duplicate(String),
    /// An email address without the parts one needs.
    #[error("\"{0}\" is not an email address (name@example.org).")]
    BadEmail(String),
    /// A group the directory does not have.
    #[error("There is no group \"{0}\"; add it under Groups first.")]
    UnknownGroup(String),
    /// A manager the directory does not have.
    #[error("There is no person \"{0}\" in the directory.")]
    UnknownPerson(String),
}

impl DirectoryError {
    /// The form field the error belongs next to.
    pub fn field(&self) -> &'static str {
        match self {
            DirectoryError::NoName | DirectoryError::Duplicate(_) => "name",
            DirectoryError::BadEmail(_) => "email",
            DirectoryError::UnknownGroup(_) => "groups",
            DirectoryError::UnknownPerson(_) => "manager",
        }
    }
}

/// Whether two names are the same entry (case and surrounding space ignored).
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

fn check_email(email: &str) -> Result<(), DirectoryError> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(());
    }
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(DirectoryError::BadEmail(email.to_string()))
    }
}

impl Directory {
    /// The person with this name.
    pub fn person(&self, name: &str) -> Option<&Person> {
        self.people.iter().find(|p| same_name(&p.name, name))
    }

    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| same_name(&g.name, name))
    }

    /// The people in a group, in name order.
    pub fn members(&self, group: &str) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| p.groups.iter().any(|g| same_name(g, group)))
            .collect()
    }

    /// The groups a person works in (empty for someone not in the directory).
    pub fn groups_of(&self, name: &str) -> Vec<String> {
        self.person(name)
            .map(|p| p.groups.clone())
            .unwrap_or_default()
    }

    /// Everyone on call.
    pub fn on_call(&self) -> Vec<&Person> {
        self.people.iter().filter(|p| p.on_call).collect()
    }

    /// The people holding a duty ("Product head").
    pub fn with_duty(&self, duty: &str) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| p.duties.iter().any(|d| same_name(d, duty)))
            .collect()
    }

    /// Checks a person before it is added or replaces `replacing` (their name before the edit).
    pub fn check_person(
        &self,
        person: &Person,
        replacing: Option<&str>,
    ) -> Result<(), DirectoryError> {
        if person.name.trim().is_empty() {
            return Err(DirectoryError::NoName);
        }
        let renamed = replacing.is_none_or(|old| !same_name(old, &person.name));
        if renamed && self.person(&person.name).is_some() {
            return Err(DirectoryError::Duplicate(person.name.trim().to_string()));
        }
        check_email(&person.email)?;
        if let Some(g) = person.groups.iter().find(|g| self.group(g).is_none()) {
            return Err(DirectoryError::UnknownGroup(g.clone()));
        }
        Ok(())
    }

    /// Checks a group before it is added or replaces `replacing`.
    pub fn check_group(
        &self,
        group: &Group,
        replacing: Option<&str>,
    ) -> Result<(), DirectoryError> {
        if group.name.trim().is_empty() {
            return Err(DirectoryError::NoName);
        }
        let renamed = replacing.is_none_or(|old| !same_name(old, &group.name));
        if renamed && self.group(&group.name).is_some() {
            return Err(DirectoryError::Duplicate(group.name.trim().to_string()));
        }
        check_email(&group.email)?;
        if !group.manager.trim().is_empty() && self.person(&group.manager).is_none() {
            return Err(DirectoryError::UnknownPerson(
                group.manager.trim().to_string(),
            ));
        }
        Ok(())
    }

    /// Sorts people and groups by name, as pickers list them.
    pub fn sort(&mut self) {
        self.people
            .sort_by_key(|p| (p.name.to_lowercase(), p.name.clone()));
        self.groups
            .sort_by_key(|g| (g.name.to_lowercase(), g.name.clone()));
    }
}

/// Where a typed name stands against the directory: a picker marks names it does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known {
    /// Nothing typed.
    Empty,
    /// In the directory, with its spelling there.
    Listed(String),
    /// Typed by hand; not in the directory.
    Unlisted,
}

impl Known {
    /// A person's name against the directory.
    pub fn person(directory: &Directory, name: &str) -> Known {
        Known::of(name, directory.person(name).map(|p| p.name.clone()))
    }

    /// A group's name against the directory.
    pub fn group(directory: &Directory, name: &str) -> Known {
        Known::of(name, directory.group(name).map(|g| g.name.clone()))
    }

    fn of(typed: &str, found: Option<String>) -> Known {
        match (typed.trim().is_empty(), found) {
            (true, _) => Known::Empty,
            (false, Some(name)) => Known::Listed(name),
            (false, None) => Known::Unlisted,
        }
    }
}

/// The entries whose name contains what was typed (case ignored), those starting with it
/// first, at most `limit`: a picker's suggestions as the person types.
pub fn matching<'a>(
    names: impl IntoIterator<Item = &'a str>,
    typed: &str,
    limit: usize,
) -> Vec<&'a str> {
    let typed = typed.trim().to_lowercase();
    let mut found: Vec<(bool, &str)> = names
        .into_iter()
        .filter_map(|n| {
            let lower = n.to_lowercase();
            lower.find(&typed).map(|at| {
                (
                    at != 0 && !lower.split_whitespace().any(|w| w.starts_with(&typed)),
                    n,
                )
            })
        })
        .collect();
    found.sort_by_key(|(later, n)| (*later, n.to_lowercase()));
    found.into_iter().take(limit).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, groups: &[&str]) -> Person {
        Person {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Person::default()
        }
    }

    fn directory() -> Directory {
        Directory {
            people: vec![
                person("Ana Lima", &["Network Operations"]),
                Person {
                    on_call: true,
                    duties: vec!["Product head".into()],
                    ..person("Bo Chen", &["Network Operations", "Service Desk"])
                },
                person("Carla Diaz", &[]),
            ],
            groups: vec![
                Group {
                    name: "Network Operations".into(),
                    manager: "Bo Chen".into(),
                    email: String::new(),
                },
                Group {
                    name: "Service Desk".into(),
                    ..Group::default()
                },
            ],
        }
    }

    #[test]
    fn members_groups_on_call_and_duties_come_from_the_people() {
        let d = directory();
        let names =
            |people: Vec<&Person>| people.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(d.members("network operations")),
            ["Ana Lima", "Bo Chen"]
        );
        assert_eq!(
            d.groups_of("bo chen"),
            ["Network Operations", "Service Desk"]
        );
        assert!(d.groups_of("Nobody").is_empty());
        assert_eq!(names(d.on_call()), ["Bo Chen"]);
        assert_eq!(names(d.with_duty("product head")), ["Bo Chen"]);
    }

    #[test]
    fn entries_are_checked_with_the_field_to_blame() {
        let d = directory();
        let dup = d
            .check_person(&person(" ana lima ", &[]), None)
            .unwrap_err();
        assert_eq!(dup, DirectoryError::Duplicate("ana lima".into()));
        assert_eq!(dup.field(), "name");
        // Editing Ana herself keeps her name.
        assert_eq!(
            d.check_person(&person("Ana Lima", &[]), Some("Ana Lima")),
            Ok(())
        );
        assert_eq!(
            d.check_person(&person(" ", &[]), None),
            Err(DirectoryError::NoName)
        );
        let bad = Person {
            email: "ana at example".into(),
            ..person("Dee", &[])
        };
        assert_eq!(d.check_person(&bad, None).unwrap_err().field(), "email");
        for good in ["a@example.org", ""] {
            let p = Person {
                email: good.into(),
                ..person("Dee", &[])
            };
            assert_eq!(d.check_person(&p, None), Ok(()));
        }
        for bad in ["a@example", "@example.org", "a@.org", "a b@example.org"] {
            let p = Person {
                email: bad.into(),
                ..person("Dee", &[])
            };
            assert!(d.check_person(&p, None).is_err(), "{bad}");
        }
        assert_eq!(
            d.check_person(&person("Dee", &["Facilities"]), None),
            Err(DirectoryError::UnknownGroup("Facilities".into()))
        );
        let group = Group {
            name: "Facilities".into(),
            manager: "Nobody".into(),
            email: String::new(),
        };
        assert_eq!(d.check_group(&group, None).unwrap_err().field(), "manager");
    }

    #[test]
    fn typed_names_are_marked_when_not_in_the_directory() {
        let d = directory();
        assert_eq!(
            Known::person(&d, "carla diaz"),
            Known::Listed("Carla Diaz".into())
        );
        assert_eq!(Known::person(&d, "A contractor"), Known::Unlisted);
        assert_eq!(Known::group(&d, " "), Known::Empty);
    }

    #[test]
    fn suggestions_put_word_starts_first() {
        let names = ["Ana Lima", "Bo Chen", "Carla Diaz", "Diana Ross"];
        assert_eq!(matching(names, "di", 10), ["Carla Diaz", "Diana Ross"]);
        assert_eq!(matching(names, "an", 10), ["Ana Lima", "Diana Ross"]);
        assert_eq!(matching(names, "", 2), ["Ana Lima", "Bo Chen"]);
        assert!(matching(names, "zz", 10).is_empty());
    }
}
