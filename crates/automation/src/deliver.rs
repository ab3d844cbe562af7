//! Sending what the outbox holds: mail over SMTP (`lettre`: STARTTLS or TLS as the server's URL
//! says, credentials from the environment), and chat messages to Slack's and Microsoft Teams'
//! incoming webhooks (`reqwest`).
//!
//! Delivery is at least once. A notice is marked sent only after the other side accepted it, so
//! a relay stopped between the server's "accepted" and that mark sends it again when it starts;
//! every attempt carries the same Message-ID, so mail clients and dedup filters fold the copy.
//! The window is one local SQLite write long; erring this way round means a P1 page is never
//! lost to a crash, at the cost of a rare second copy.

use std::sync::Mutex;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::outbox::{Channel, Pending};
use crate::store::{lock, Store};

/// How long one delivery may take before it counts as failed (and is tried again).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Which chat's webhook shape a hook takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// Slack's incoming webhooks: `{"text": …}` with Slack's link markup.
    Slack,
    /// Microsoft Teams' workflow webhooks: a message with an Adaptive Card.
    Teams,
}

impl HookKind {
    /// As the command line and the store name it.
    pub fn key(self) -> &'static str {
        match self {
            HookKind::Slack => "slack",
            HookKind::Teams => "teams",
        }
    }

    /// From its key.
    pub fn parse(text: &str) -> Option<HookKind> {
        match text.trim() {
            "slack" => Some(HookKind::Slack),
            "teams" => Some(HookKind::Teams),
            _ => None,
        }
    }

    /// The JSON body the chat accepts for a notice.
    pub fn body(self, subject: &str, text: &str, link: Option<&str>) -> serde_json::Value {
        match self {
            HookKind::Slack => {
                let head = match link {
                    Some(link) => format!("*<{link}|{}>*", slack_escape(subject)),
                    None => format!("*{}*", slack_escape(subject)),
                };
                serde_json::json!({ "text": format!("{head}\n{}", slack_escape(text)) })
            }
            HookKind::Teams => {
                let mut card = serde_json::json!({
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": subject, "weight": "Bolder", "wrap": true },
                        { "type": "TextBlock", "text": text, "wrap": true }
                    ]
                });
                if let Some(link) = link {
                    card["actions"] = serde_json::json!([
                        { "type": "Action.OpenUrl", "title": "Open the incident", "url": link }
                    ]);
                }
                serde_json::json!({
                    "type": "message",
                    "attachments": [{
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": card
                    }]
                })
            }
        }
    }
}

/// Slack's markup treats `&`, `<` and `>` as control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A chat webhook a workspace posts notices to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// Its id.
    pub id: String,
    /// The workspace.
    pub workspace: String,
    /// Slack or Teams.
    pub kind: HookKind,
    /// Where it posts (a secret: whoever has it can post to the channel).
    pub url: String,
}

/// The mail server: its URL (`smtp://user:pass@host:587?tls=required` for STARTTLS, `smtps://…`
/// for TLS, `smtp://127.0.0.1:2525` for a local server without) and the sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why the mail settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// The URL cannot be used.
    #[error("--smtp-url (OUTPOST_SMTP_URL) is not a usable SMTP address: {0}")]
    Url(String),
    /// The sender cannot be used.
    #[error(
        "--smtp-from (OUTPOST_SMTP_FROM) is not a mailbox (\"Outpost <outpost@example.org>\"): {0}"
    )]
    From(String),
}

impl Mailer {
    /// A mailer for `url`, sending as `from`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError::Url(e.to_string()))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailerError::From(e.to_string()))?;
        Ok(Mailer { transport, from })
    }
}

/// What sends notices.
pub struct Sender {
    /// The mail server, if there is one (without it, mail waits in the outbox).
    pub mailer: Option<Mailer>,
    http: reqwest::Client,
    /// The domain of Message-IDs: this store's own, so ids are unique to it.
    domain: String,
}

/// Why one delivery failed.
#[derive(Debug, PartialEq, Eq)]
pub struct Failed {
    /// What happened, for the dead letters.
    pub error: String,
    /// Refused for good (a 5xx from the mail server, a 4xx other than 429 from a webhook):
    /// trying again will not help.
    pub lasting: bool,
}

impl Sender {
    /// A sender; `instance` makes its Message-IDs its own.
    pub fn new(mailer: Option<Mailer>, instance: &str) -> Sender {
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with a timeout is always built");
        Sender {
            mailer,
            http,
            domain: format!("{instance}.outpost.invalid"),
        }
    }

    /// The Message-ID every attempt at notice `id` carries.
    pub fn message_id(&self, id: i64) -> String {
        format!("<notice-{id}@{}>", self.domain)
    }

    /// The thread every mail about one incident belongs to, so replies are found by header.
    pub fn thread_id(&self, document: &str) -> String {
        let tail = document.trim_start_matches("automerge:");
        format!("<incident-{tail}@{}>", self.domain)
    }

    /// Sends one notice.
    pub async fn send(
        &self,
        p: &Pending,
        hook: Option<&Hook>,
        link: Option<&str>,
    ) -> Result<(), Failed> {
        match &p.notice.channel {
            Channel::Email => self.mail(p).await,
            Channel::Hook(id) => match hook {
                Some(h) => self.post(h, p, link).await,
                None => Err(Failed {
                    error: format!("webhook {id} was removed"),
                    lasting: true,
                }),
            },
        }
    }

    async fn mail(&self, p: &Pending) -> Result<(), Failed> {
        let Some(mailer) = &self.mailer else {
            return Err(Failed {
                error: "no mail server is set (OUTPOST_SMTP_URL)".into(),
                lasting: false,
            });
        };
        let to = Mailbox::new(
            (!p.notice.name.is_empty()).then(|| p.notice.name.clone()),
            p.notice.address.parse().map_err(|e| Failed {
                error: format!("\"{}\" is not an email address: {e}", p.notice.address),
                lasting: true,
            })?,
        );
        let thread = self.thread_id(&p.notice.document);
        let mut message = Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(p.notice.subject.clone())
            .message_id(Some(self.message_id(p.id)))
            .references(thread)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(p.notice.body.clone())
            .map_err(|e| Failed {
                error: format!("the mail could not be built: {e}"),
                lasting: true,
            })?;
        // Auto-Submitted keeps vacation replies from opening incidents in a loop (RFC 3834).
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
        mailer
            .transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Failed {
                lasting: e.is_permanent(),
                error: format!("the mail server answered: {e}"),
            })
    }

    async fn post(&self, hook: &Hook, p: &Pending, link: Option<&str>) -> Result<(), Failed> {
        let body = hook.kind.body(&p.notice.subject, &p.notice.body, link);
        let answer = self
            .http
            .post(&hook.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| Failed {
                error: format!("the webhook could not be reached: {e}"),
                lasting: false,
            })?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let text = answer.text().await.unwrap_or_default();
        Err(Failed {
            error: format!(
                "the webhook answered {status}: {}",
                text.chars().take(200).collect::<String>()
            ),
            lasting: status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS,
        })
    }
}

/// Sends every notice due at `now`, in turns of `BATCH`; returns how many were sent.
pub async fn deliver_due(
    store: &Mutex<Store>,
    sender: &Sender,
    now: i64,
    base: &url::Url,
) -> usize {
    const BATCH: usize = 50;
    let mut sent = 0;
    loop {
        let due = match lock(store).due_notices(now, BATCH, sender.mailer.is_some()) {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!("the outbox could not be read: {e}");
                return sent;
            }
        };
        if due.is_empty() {
            return sent;
        }
        for p in &due {
            // A chat message links the incident in its heading; a mail carries it in its text.
            let (hook, link) = match &p.notice.channel {
                Channel::Hook(id) => (
                    lock(store).hook(id).ok().flatten(),
                    Some(
                        outpost_sync::DocumentId::from_url(&p.notice.document)
                            .map(|id| crate::peer::incident_link(base, &id))
                            .unwrap_or_else(|_| base.to_string()),
                    ),
                ),
                Channel::Email => (None, None),
            };
            let result = sender.send(p, hook.as_ref(), link.as_deref()).await;
            let store = lock(store);
            let recorded = match &result {
                Ok(()) => {
                    sent += 1;
                    if p.notice.channel == Channel::Email {
                        // A reply quoting this mail's id is a comment on the incident.
                        let _ = store.thread(&sender.message_id(p.id), &p.notice.document);
                    }
                    store.notice_sent(p.id, now)
                }
                Err(f) => {
                    tracing::info!(notice = p.id, error = %f.error, "a notice was not delivered");
                    store.notice_failed(p.id, &f.error, f.lasting, now)
                }
            };
            if let Err(e) = recorded {
                tracing::warn!("the outbox could not record a delivery: {e}");
                return sent;
            }
        }
        if due.len() < BATCH {
            return sent;
        }
    }
}
