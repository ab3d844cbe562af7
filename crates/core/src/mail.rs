//! Mail in: a new mail to a workspace's mailbox becomes an incident (the sender as caller, the
//! subject as title, the body as description, detected by Email), classified by the
//! workspace's keyword rules into category, impact and urgency; a reply about an incident
//! becomes a comment on it, never a new incident. Attachments are listed, not yet stored.
//!
//! A reply is recognised by the reference number in its subject (`Re: [INC-7F3A-0042] …`, as
//! every notification's subject carries it) or in its thread headers (`In-Reply-To`,
//! `References`: the message ids of the mails that opened or answered the incident, which the
//! mail's receiver remembers, and of notifications, which carry the reference).

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::config::WorkspaceConfig;
use crate::incident::{clip, limits, DetectionSource, NewIncident, NoteKind};
use crate::priority::{Impact, Urgency};
use crate::reference::ReferenceNumber;
use crate::time::DeviceTime;

/// A mail as received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mail {
    /// The sender's name, if the mail gave one.
    pub from_name: String,
    /// The sender's address.
    pub from_address: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// Its `Message-ID`.
    pub message_id: String,
    /// The message ids it answers (`In-Reply-To` and `References`).
    pub thread: Vec<String>,
    /// Its attachments: name, type and size in bytes.
    pub attachments: Vec<(String, String, u64)>,
    /// When it was received.
    pub received_at: Option<DeviceTime>,
}

impl Mail {
    /// Who sent it, as a caller: "Dana Reyes <dana@example.com>", or the address alone.
    pub fn sender(&self) -> String {
        let (name, address) = (self.from_name.trim(), self.from_address.trim());
        match (name.is_empty(), address.is_empty()) {
            (false, false) => format!("{name} <{address}>"),
            (false, true) => name.to_string(),
            _ => address.to_string(),
        }
    }
}

/// One keyword rule: a mail whose subject or body contains any of `words` gets these values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRule {
    /// Words or phrases, matched case-insensitively on word boundaries.
    pub words: Vec<String>,
    /// Category (checked against the catalog; ignored if the catalog lacks it), or empty.
    #[serde(default)]
    pub category: String,
    /// Subcategory, or empty.
    #[serde(default)]
    pub subcategory: String,
    /// Impact, if the rule sets it.
    #[serde(default)]
    pub impact: Option<Impact>,
    /// Urgency, if the rule sets it.
    #[serde(default)]
    pub urgency: Option<Urgency>,
}

/// A workspace's rules for mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRules {
    /// In order: the first rule that matches sets the category; impact and urgency come from
    /// the first matching rule that sets each.
    pub rules: Vec<MailRule>,
    /// Impact when no rule sets it.
    pub impact: Impact,
    /// Urgency when no rule sets it.
    pub urgency: Urgency,
}

impl Default for MailRules {
    fn default() -> Self {
        let rule = |words: &[&str], category: &str, sub: &str, impact, urgency| MailRule {
            words: words.iter().map(|w| w.to_string()).collect(),
            category: category.into(),
            subcategory: sub.into(),
            impact,
            urgency,
        };
        MailRules {
            rules: vec![
                rule(
                    &["outage", "everyone", "whole office", "all users"],
                    "",
                    "",
                    Some(Impact::High),
                    None,
                ),
                rule(
                    &["urgent", "asap", "down", "cannot work", "can't work"],
                    "",
                    "",
                    None,
                    Some(Urgency::High),
                ),
                rule(
                    &["phishing", "suspicious email"],
                    "Security",
                    "Phishing",
                    None,
                    Some(Urgency::High),
                ),
                rule(
                    &["password", "locked out", "login", "log in"],
                    "Security",
                    "Access",
                    None,
                    None,
                ),
                rule(&["vpn"], "Network", "VPN", None, None),
                rule(
                    &["wifi", "wi-fi", "wireless"],
                    "Network",
                    "Wi-Fi",
                    None,
                    None,
                ),
                rule(&["printer", "printing"], "Hardware", "Printer", None, None),
                rule(&["laptop"], "Hardware", "Laptop", None, None),
                rule(
                    &["email", "outlook", "mailbox"],
                    "Software",
                    "Email",
                    None,
                    None,
                ),
            ],
            impact: Impact::Low,
            urgency: Urgency::Medium,
        }
    }
}

/// Whether `text` contains `word` on word boundaries, ignoring case.
fn contains_word(text: &str, word: &str) -> bool {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    text.match_indices(&word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Category, subcategory, impact and urgency for a mail under `rules`.
pub fn classify(
    mail: &Mail,
    rules: &MailRules,
    cfg: &WorkspaceConfig,
) -> (String, String, Impact, Urgency) {
    let text = format!("{}\n{}", mail.subject, mail.body);
    let matching: Vec<&MailRule> = rules
        .rules
        .iter()
        .filter(|r| r.words.iter().any(|w| contains_word(&text, w)))
        .collect();
    let (category, subcategory) = matching
        .iter()
        .filter(|r| !r.category.trim().is_empty())
        .find_map(|r| cfg.canonical_category(&r.category, &r.subcategory).ok())
        .unwrap_or_default();
    let impact = matching
        .iter()
        .find_map(|r| r.impact)
        .unwrap_or(rules.impact);
    let urgency = matching
        .iter()
        .find_map(|r| r.urgency)
        .unwrap_or(rules.urgency);
    (category, subcategory, impact, urgency)
}

/// The incident a new mail logs.
pub fn new_incident(mail: &Mail, rules: &MailRules, cfg: &WorkspaceConfig) -> NewIncident {
    let (category, subcategory, impact, urgency) = classify(mail, rules, cfg);
    let subject = mail.subject.trim();
    let title = if subject.is_empty() {
        format!("Mail from {}", mail.sender())
    } else {
        subject.to_string()
    };
    NewIncident {
        title: clip(&title, limits::TITLE),
        description: clip(&with_attachments(mail), limits::LONG_TEXT),
        caller: clip(&mail.sender(), limits::SHORT_TEXT),
        category,
        subcategory,
        detection_source: DetectionSource::Email,
        detected_at: mail.received_at,
        impact,
        urgency,
        ..NewIncident::default()
    }
}

/// The comment a reply adds: who wrote, what, and the attachments listed.
pub fn reply(mail: &Mail) -> Command {
    let body = format!("Mail from {}:\n\n{}", mail.sender(), with_attachments(mail));
    Command::AddNote {
        kind: NoteKind::Comment,
        body: clip(&body, limits::LONG_TEXT),
    }
}

fn with_attachments(mail: &Mail) -> String {
    let mut text = strip_quoted(&mail.body);
    if !mail.attachments.is_empty() {
        text.push_str("\n\nAttachments (not stored):");
        for (name, kind, size) in &mail.attachments {
            text.push_str(&format!("\n  {name} ({kind}, {size} bytes)"));
        }
    }
    text
}

/// The reply above the quoted mail it answers ("On … wrote:" and `>` lines go).
fn strip_quoted(body: &str) -> String {
    let mut kept = Vec::new();
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('>') {
            continue;
        }
        if trimmed.starts_with("On ") && trimmed.trim_end().ends_with("wrote:") {
            break;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_string()
}

/// The reference number a mail is about: the first `INC-…` in its subject, then in its thread
/// headers.
pub fn reference_in(mail: &Mail) -> Option<ReferenceNumber> {
    std::iter::once(mail.subject.as_str())
        .chain(mail.thread.iter().map(String::as_str))
        .find_map(find_reference)
}

fn find_reference(text: &str) -> Option<ReferenceNumber> {
    text.match_indices("INC-").find_map(|(at, _)| {
        let rest = &text[at..];
        let end = rest
            .char_indices()
            .skip(4)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        rest[..end].trim_end_matches('-').parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(subject: &str, body: &str) -> Mail {
        Mail {
            from_name: "Dana Reyes".into(),
            from_address: "dana@example.test".into(),
            subject: subject.into(),
            body: body.into(),
            message_id: "<m1@example.test>".into(),
            ..Mail::default()
        }
    }

    #[test]
    fn a_new_mail_is_classified_by_the_keyword_rules() {
        let cfg = WorkspaceConfig::default();
        let m = mail(
            "VPN down for the whole office",
            "Nobody can connect since 9:00.",
        );
        let new = new_incident(&m, &MailRules::default(), &cfg);
        assert_eq!(new.title, "VPN down for the whole office");
        assert_eq!(new.caller, "Dana Reyes <dana@example.test>");
        assert_eq!(
            (new.category.as_str(), new.subcategory.as_str()),
            ("Network", "VPN")
        );
        assert_eq!((new.impact, new.urgency), (Impact::High, Urgency::High));
        assert_eq!(new.detection_source, DetectionSource::Email);
        // Words match whole: "download" is not "down", "printers" is not "printer".
        let quiet = new_incident(
            &mail("Download of printers list", "when you can"),
            &MailRules::default(),
            &cfg,
        );
        assert_eq!(
            (quiet.impact, quiet.urgency, quiet.category.as_str()),
            (Impact::Low, Urgency::Medium, "")
        );
    }

    #[test]
    fn a_rule_naming_a_category_the_catalog_lacks_sets_none() {
        let mut cfg = WorkspaceConfig::default();
        cfg.categories.retain(|c| c.name != "Network");
        let new = new_incident(&mail("VPN again", ""), &MailRules::default(), &cfg);
        assert_eq!(new.category, "");
    }

    #[test]
    fn a_reply_is_found_by_the_subject_or_the_thread_and_keeps_only_the_new_text() {
        let mut m = mail(
            "Re: [INC-7F3A-0042] VPN down",
            "It works again, thanks!\n\nOn Tue, Ana wrote:\n> Try now",
        );
        assert_eq!(
            reference_in(&m).map(|r| r.to_string()).as_deref(),
            Some("INC-7F3A-0042")
        );
        m.subject = "Re: VPN down".into();
        m.thread = vec!["<INC-7F3A-0042.3@outpost>".into()];
        assert_eq!(
            reference_in(&m).map(|r| r.to_string()).as_deref(),
            Some("INC-7F3A-0042")
        );
        m.thread.clear();
        assert_eq!(reference_in(&m), None);
        m.attachments = vec![("screenshot.png".into(), "image/png".into(), 48_213)];
        let Command::AddNote { kind, body } = reply(&m) else {
            panic!()
        };
        assert_eq!(kind, NoteKind::Comment);
        assert_eq!(
            body,
            "Mail from Dana Reyes <dana@example.test>:\n\nIt works again, thanks!\n\nAttachments (not stored):\n  screenshot.png (image/png, 48213 bytes)"
        );
    }
}
