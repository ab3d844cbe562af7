//! What monitoring tools post, read into [`Alert`]s: Prometheus Alertmanager's webhook
//! (version 4), Grafana alerting's webhook (Alertmanager's shape plus its own fields), and
//! PagerDuty's Events API v2 (`trigger`, `acknowledge`, `resolve`).
//!
//! Reading is strict about what the rules need and lenient about the rest: unknown fields are
//! ignored (senders add them), while a missing or wrong-typed field the incident depends on is
//! refused with the path of that field (`alerts[2].fingerprint`), so the sender's operator can
//! fix the template.

use std::collections::BTreeMap;

use outpost_core::alert::{Alert, AlertGroup, AlertStatus};
use outpost_core::mail::Mail;
use outpost_core::DeviceTime;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Which sender's shape a body has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Prometheus Alertmanager's `webhook_config`.
    Alertmanager,
    /// Grafana alerting's webhook contact point.
    Grafana,
    /// The Events API v2 (PagerDuty's).
    Events,
    /// Inbound mail, as mail providers' inbound webhooks post it (Postmark's JSON shape).
    Mail,
}

impl Kind {
    /// Every kind, as the command line names them.
    pub const ALL: [Kind; 4] = [Kind::Alertmanager, Kind::Grafana, Kind::Events, Kind::Mail];

    /// The key: `alertmanager`, `grafana`, `events`.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Alertmanager => "alertmanager",
            Kind::Grafana => "grafana",
            Kind::Events => "events",
            Kind::Mail => "mail",
        }
    }

    /// The name changes are authored under, before the integration's own name.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Alertmanager => "Alertmanager",
            Kind::Grafana => "Grafana",
            Kind::Events => "Events API",
            Kind::Mail => "Mail",
        }
    }

    /// Where and how a sender of this kind posts, for the operator who sets it up.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::Alertmanager => {
                "POST /api/integrations/alertmanager with \"Authorization: Bearer KEY\""
            }
            Kind::Grafana => "POST /api/integrations/grafana with \"Authorization: Bearer KEY\"",
            Kind::Events => "POST /v2/enqueue with the key as routing_key",
            Kind::Mail => {
                "point the mail provider's inbound webhook at POST /api/integrations/mail with \"Authorization: Bearer KEY\""
            }
        }
    }

    /// From its key.
    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// A body that cannot be read: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PayloadError {
    /// The field's path (`alerts[0].labels`), or `body` for the whole.
    pub field: String,
    /// What is wrong, for the sender's operator.
    pub message: String,
}

impl PayloadError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> PayloadError {
        PayloadError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a body says, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Its alerts, in the body's order.
    pub alerts: Vec<Alert>,
    /// The Events API's answer echoes the event's dedup key (generated when the event had
    /// none).
    pub dedup_key: Option<String>,
    /// The Events API's routing key, which is the integration key.
    pub routing_key: Option<String>,
    /// The group the alerts came in, for senders that group (Alertmanager, Grafana).
    pub group: Option<AlertGroup>,
    /// A mail, for the mail endpoint.
    pub mail: Option<Mail>,
}

/// Reads a body of this kind.
pub fn parse(kind: Kind, body: &[u8]) -> Result<Received, PayloadError> {
    match kind {
        Kind::Alertmanager | Kind::Grafana => read_group(kind, body),
        Kind::Events => read_event(body),
        Kind::Mail => read_mail(body),
    }
}

/// Postmark's inbound JSON (the shape other providers' inbound webhooks resemble).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InboundMail {
    #[serde(default)]
    from: String,
    #[serde(default)]
    from_name: String,
    #[serde(default)]
    from_full: Option<Address>,
    #[serde(default)]
    subject: String,
    #[serde(default, rename = "MessageID")]
    message_id: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    text_body: String,
    #[serde(default)]
    stripped_text_reply: String,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Address {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attachment {
    name: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    content_length: u64,
}

fn read_mail(body: &[u8]) -> Result<Received, PayloadError> {
    let m: InboundMail = decode(body)?;
    let (address, name) = match &m.from_full {
        Some(a) if !a.email.trim().is_empty() => (a.email.clone(), a.name.clone()),
        _ => (m.from.clone(), m.from_name.clone()),
    };
    if address.trim().is_empty() {
        return Err(PayloadError::new("From", "is empty: a mail needs a sender"));
    }
    let header = |wanted: &str| {
        m.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(wanted))
            .map(|h| h.value.clone())
            .collect::<Vec<_>>()
    };
    // The thread: In-Reply-To, then References, each a list of <message ids>.
    let thread = header("In-Reply-To")
        .into_iter()
        .chain(header("References"))
        .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let message_id = header("Message-ID")
        .into_iter()
        .next()
        .unwrap_or_else(|| m.message_id.clone());
    let received_at = DeviceTime::parse_rfc3339(&m.date).ok().or_else(|| {
        chrono::DateTime::parse_from_rfc2822(&m.date)
            .ok()
            .map(|t| DeviceTime::from_datetime(t.with_timezone(&chrono::Utc)))
    });
    let body = if m.text_body.trim().is_empty() {
        m.stripped_text_reply
    } else {
        m.text_body
    };
    Ok(Received {
        alerts: Vec::new(),
        dedup_key: None,
        routing_key: None,
        group: None,
        mail: Some(Mail {
            from_name: name,
            from_address: address,
            subject: m.subject,
            body,
            message_id,
            thread,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| (a.name, a.content_type, a.content_length))
                .collect(),
            received_at,
        }),
    })
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() {
            "body".to_string()
        } else {
            path
        };
        // serde's message ends with " at line L column C", which a path already says better.
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        PayloadError::new(field, message)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    version: String,
    #[serde(default)]
    group_key: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    common_labels: BTreeMap<String, String>,
    #[serde(default)]
    common_annotations: BTreeMap<String, String>,
    alerts: Vec<GroupAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: String,
    #[serde(default, rename = "panelURL")]
    panel_url: String,
    #[serde(default, rename = "silenceURL")]
    silence_url: String,
    fingerprint: String,
}

fn read_group(kind: Kind, body: &[u8]) -> Result<Received, PayloadError> {
    let group: Group = decode(body)?;
    let expected = match kind {
        Kind::Grafana => "1",
        _ => "4",
    };
    if group.version != expected {
        return Err(PayloadError::new(
            "version",
            format!(
                "this endpoint reads {} webhook version {expected}, not \"{}\"",
                kind.label(),
                group.version
            ),
        ));
    }
    if !group.status.is_empty() && status(&group.status).is_none() {
        return Err(PayloadError::new(
            "status",
            format!(
                "must be \"firing\" or \"resolved\", not \"{}\"",
                group.status
            ),
        ));
    }
    if group.alerts.is_empty() {
        return Err(PayloadError::new("alerts", "lists no alerts"));
    }
    let mut alerts = Vec::with_capacity(group.alerts.len());
    for (n, a) in group.alerts.into_iter().enumerate() {
        let at = |field: &str| format!("alerts[{n}].{field}");
        let Some(state) = status(&a.status) else {
            return Err(PayloadError::new(
                at("status"),
                format!("must be \"firing\" or \"resolved\", not \"{}\"", a.status),
            ));
        };
        if a.fingerprint.trim().is_empty() {
            return Err(PayloadError::new(at("fingerprint"), "is empty"));
        }
        let started_at = match a.starts_at.as_deref().filter(|s| !s.is_empty()) {
            // Alertmanager writes the zero time for "unknown".
            Some(s) if s.starts_with("0001-") => None,
            Some(s) => Some(DeviceTime::parse_rfc3339(s).map_err(|e| {
                PayloadError::new(at("startsAt"), format!("is not an RFC 3339 time ({e})"))
            })?),
            None => None,
        };
        let mut labels = group.common_labels.clone();
        labels.extend(a.labels);
        let mut annotations = group.common_annotations.clone();
        annotations.extend(a.annotations);
        let summary = annotations
            .get("summary")
            .or_else(|| annotations.get("title"))
            .cloned()
            .unwrap_or_else(|| {
                let name = labels.get("alertname").map_or("Alert", String::as_str);
                match labels.get("instance") {
                    Some(i) => format!("{name} on {i}"),
                    None => name.to_string(),
                }
            });
        let links = [
            a.generator_url,
            a.dashboard_url,
            a.panel_url,
            a.silence_url,
            group.external_url.clone(),
        ]
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
        alerts.push(Alert {
            identity: a.fingerprint,
            status: state,
            summary,
            severity: labels.get("severity").cloned().unwrap_or_default(),
            source: labels
                .get("instance")
                .or_else(|| labels.get("job"))
                .cloned()
                .unwrap_or_default(),
            labels,
            annotations,
            links,
            started_at,
        });
    }
    let group = (!group.group_key.trim().is_empty()).then(|| AlertGroup {
        key: group.group_key.clone(),
        // Alertmanager says `firing` while any alert of the group fires.
        status: if alerts.iter().any(|a| a.status == AlertStatus::Firing) {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        },
        labels: group.common_labels.clone(),
        annotations: group.common_annotations.clone(),
        links: [group.external_url.clone()]
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect(),
    });
    Ok(Received {
        alerts,
        dedup_key: None,
        routing_key: None,
        group,
        mail: None,
    })
}

fn status(s: &str) -> Option<AlertStatus> {
    match s {
        "firing" => Some(AlertStatus::Firing),
        "resolved" => Some(AlertStatus::Resolved),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Event {
    routing_key: String,
    event_action: String,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<EventPayload>,
    #[serde(default)]
    links: Vec<EventLink>,
}

#[derive(Deserialize)]
struct EventPayload {
    summary: String,
    source: String,
    severity: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct EventLink {
    href: String,
    #[serde(default)]
    text: Option<String>,
}

/// The Events API's limits.
const ROUTING_KEY_LEN: usize = 32;
const DEDUP_KEY_MAX: usize = 255;
const SUMMARY_MAX: usize = 1024;

fn read_event(body: &[u8]) -> Result<Received, PayloadError> {
    let event: Event = decode(body)?;
    if event.routing_key.len() != ROUTING_KEY_LEN {
        return Err(PayloadError::new(
            "routing_key",
            format!("must be {ROUTING_KEY_LEN} characters long"),
        ));
    }
    let status = match event.event_action.as_str() {
        "trigger" => AlertStatus::Firing,
        "acknowledge" => AlertStatus::Acknowledged,
        "resolve" => AlertStatus::Resolved,
        other => {
            return Err(PayloadError::new(
                "event_action",
                format!("must be \"trigger\", \"acknowledge\" or \"resolve\", not \"{other}\""),
            ))
        }
    };
    if let Some(key) = &event.dedup_key {
        if key.trim().is_empty() || key.len() > DEDUP_KEY_MAX {
            return Err(PayloadError::new(
                "dedup_key",
                format!("must be 1 to {DEDUP_KEY_MAX} characters long"),
            ));
        }
    }
    let dedup_key = match (event.dedup_key, status) {
        (Some(key), _) => key,
        // A trigger without a key gets one from its content, so a retried trigger finds the
        // incident its first delivery opened.
        (None, AlertStatus::Firing) => hex::encode(&Sha256::digest(body)[..16]),
        (None, _) => {
            return Err(PayloadError::new(
                "dedup_key",
                format!("is required to {}", event.event_action),
            ))
        }
    };
    let payload = match (event.payload, status) {
        (Some(p), _) => Some(p),
        (None, AlertStatus::Firing) => {
            return Err(PayloadError::new("payload", "is required to trigger"))
        }
        (None, _) => None,
    };
    let mut alert = Alert {
        identity: dedup_key.clone(),
        status,
        summary: String::new(),
        severity: String::new(),
        source: String::new(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        links: event
            .links
            .into_iter()
            .map(|l| match l.text {
                Some(t) if !t.trim().is_empty() => format!("{t}: {}", l.href),
                _ => l.href,
            })
            .collect(),
        started_at: None,
    };
    if let Some(p) = payload {
        if p.summary.trim().is_empty() || p.summary.chars().count() > SUMMARY_MAX {
            return Err(PayloadError::new(
                "payload.summary",
                format!("must be 1 to {SUMMARY_MAX} characters long"),
            ));
        }
        if p.source.trim().is_empty() {
            return Err(PayloadError::new("payload.source", "is empty"));
        }
        if !["critical", "error", "warning", "info"].contains(&p.severity.as_str()) {
            return Err(PayloadError::new(
                "payload.severity",
                format!(
                    "must be \"critical\", \"error\", \"warning\" or \"info\", not \"{}\"",
                    p.severity
                ),
            ));
        }
        if let Some(t) = p.timestamp.as_deref() {
            alert.started_at = Some(DeviceTime::parse_rfc3339(t).map_err(|e| {
                PayloadError::new(
                    "payload.timestamp",
                    format!("is not an RFC 3339 time ({e})"),
                )
            })?);
        }
        for (name, value) in [
            ("component", p.component),
            ("group", p.group),
            ("class", p.class),
        ] {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                alert.labels.insert(name.to_string(), v);
            }
        }
        match p.custom_details {
            Some(serde_json::Value::Object(map)) => {
                for (k, v) in map {
                    let text = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    alert.annotations.insert(k, text);
                }
            }
            Some(serde_json::Value::Null) | None => {}
            Some(other) => {
                alert
                    .annotations
                    .insert("details".into(), other.to_string());
            }
        }
        alert.summary = p.summary;
        alert.severity = p.severity;
        alert.source = p.source;
    }
    Ok(Received {
        alerts: vec![alert],
        dedup_key: Some(dedup_key),
        routing_key: Some(event.routing_key),
        group: None,
        mail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_typed_field_is_named_by_its_path() {
        let body = br#"{"version":"4","status":"firing","alerts":[{"status":"firing","fingerprint":"a","labels":{"x":1}}]}"#;
        let e = parse(Kind::Alertmanager, body).unwrap_err();
        assert_eq!(e.field, "alerts[0].labels.x");
        assert!(e.message.contains("expected a string"), "{}", e.message);
    }

    #[test]
    fn a_missing_fingerprint_and_malformed_json_are_refused() {
        let body = br#"{"version":"4","alerts":[{"status":"firing"}]}"#;
        let e = parse(Kind::Alertmanager, body).unwrap_err();
        assert_eq!(e.field, "alerts[0]");
        assert!(e.message.contains("fingerprint"), "{}", e.message);
        let e = parse(Kind::Alertmanager, b"{\"version\":").unwrap_err();
        assert_eq!(e.field, "version");
        let e = parse(Kind::Events, b"[]").unwrap_err();
        assert_eq!(e.field, "body");
    }

    #[test]
    fn an_event_needs_a_dedup_key_except_to_trigger() {
        let key = "0123456789abcdef0123456789abcdef";
        let ack = format!(r#"{{"routing_key":"{key}","event_action":"acknowledge"}}"#);
        assert_eq!(
            parse(Kind::Events, ack.as_bytes()).unwrap_err().field,
            "dedup_key"
        );
        let trigger = format!(
            r#"{{"routing_key":"{key}","event_action":"trigger","payload":{{"summary":"s","source":"h","severity":"info"}}}}"#
        );
        let a = parse(Kind::Events, trigger.as_bytes()).unwrap();
        let b = parse(Kind::Events, trigger.as_bytes()).unwrap();
        assert_eq!(
            a.dedup_key, b.dedup_key,
            "the same trigger twice has the same key"
        );
        assert_eq!(a.dedup_key.unwrap().len(), 32);
    }
}
