//! # outpost-automation: the relay's automation peer
//!
//! Monitoring tools and a mailbox post to the relay; this crate turns what they post into
//! incidents, and runs the workspaces' timed rules. It runs in the relay's process but talks to
//! the hub as a peer ([`peer::WorkspacePeer`]): its changes are made with `crates/core`'s
//! commands, authored as the integration ("Alertmanager: prod-eu"), judged by the relay's judge
//! (deliveries as an agent's, the timed rules as a manager's), stored and fanned out like a
//! device's. The relay's storage and sync learn nothing about alerts.
//!
//! - [`payload`] reads Alertmanager's, Grafana's, the Events API's and inbound mail's bodies;
//! - [`store`] keeps integrations (hashed keys), alert identities, handled bodies, reference
//!   numbers and the timed rules that acted, in a SQLite file of its own;
//! - [`peer`] is the sync peer of one workspace, which stages deliveries and answers once the
//!   hub has acknowledged them, and sweeps the workspace for its timed rules;
//! - [`http`] is the endpoints (`/api/integrations/alertmanager`, `/grafana`, `/mail`,
//!   `/v2/enqueue`) with their JSON errors and rate limits.
//!
//! The deliveries waiting for a workspace are handled together by its peer, in turn, with one
//! wait for the hub's acknowledgement; the same body posted twice at once is still recognised
//! as a retry.

pub mod answer;
pub mod deliver;
pub mod http;
pub mod outbox;
pub mod payload;
pub mod peer;
pub mod store;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use outpost_core::DeviceTime;
use tokio::sync::{mpsc, oneshot};

use crate::payload::{Kind, PayloadError, Received};
use crate::peer::{AlertOutcome, Failure, Purpose, Relay, WorkspacePeer};
use crate::store::{Integration, Store, StoreError};

/// Deliveries a key may make per second, and in a burst: well above what Alertmanager (which
/// groups alerts) or a retrying sender posts, low enough that a runaway script cannot starve
/// the hub.
pub const DELIVERIES_PER_SECOND: u32 = 200;
/// The burst allowed above that rate.
pub const DELIVERY_BURST: u32 = 1_000;
/// How many deliveries one integration key may make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Per second, sustained.
    pub per_second: u32,
    /// In a burst above that.
    pub burst: u32,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            per_second: DELIVERIES_PER_SECOND,
            burst: DELIVERY_BURST,
        }
    }
}

/// How long a handled body is remembered as handled (a retry later than that is a new
/// delivery).
pub const HANDLED_FOR_SECONDS: i64 = 24 * 3600;

/// Why a delivery was not taken.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Refusal {
    /// No such key, a revoked one, or one for another endpoint.
    #[error("{0}")]
    UnknownKey(String),
    /// The body cannot be read.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// Too many deliveries: retry after this many seconds.
    #[error("too many deliveries for this integration key; retry after {0} s")]
    TooMany(u64),
    /// It could not be handled now (hub, storage); retry.
    #[error("{0}")]
    Unavailable(String),
    /// The relay's rules refused the change; retrying will not help.
    #[error("{0}")]
    Refused(String),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Unavailable(e.to_string())
    }
}

/// Why a caller's answer was not taken.
#[derive(Clone, Debug, thiserror::Error)]
pub enum AnswerError {
    /// The link is forged, expired or used.
    #[error(transparent)]
    Link(#[from] answer::LinkError),
    /// The incident's rules refused it (it was reopened or closed since the mail).
    #[error("{0}")]
    Refused(String),
    /// It could not be applied now; the link still works.
    #[error("Outpost could not record your answer just now ({0}). The link still works; please try again in a minute.")]
    Unavailable(String),
}

impl From<StoreError> for AnswerError {
    fn from(e: StoreError) -> Self {
        AnswerError::Unavailable(e.to_string())
    }
}

/// A delivery taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The answer's JSON body (the same for a retried body).
    pub answer: serde_json::Value,
}

struct Job {
    integration: Integration,
    kind: Kind,
    body: Vec<u8>,
    received: Received,
    reply: oneshot::Sender<Result<Delivered, Refusal>>,
}

struct Inner {
    store: Arc<Mutex<Store>>,
    relay: Arc<dyn Relay>,
    workspaces: Mutex<HashMap<String, mpsc::Sender<Job>>>,
    limits: DefaultKeyedRateLimiter<String>,
    /// Woken when a sweep may have queued notices.
    queued: tokio::sync::Notify,
}

/// The automation: cheap to clone, shared by the HTTP handlers.
#[derive(Clone)]
pub struct Automation {
    inner: Arc<Inner>,
}

impl Automation {
    /// Opens the automation's store in `dir`, working through `relay`. Must be called within a
    /// tokio runtime (each workspace's peer is a task).
    pub fn start(dir: &Path, relay: Arc<dyn Relay>, rate: Rate) -> Result<Automation, StoreError> {
        let store = Store::open(dir)?;
        // Notifications begin with the first start that has them: incidents logged before
        // then owe none.
        store.notifications_since(now().0.unix_seconds())?;
        let quota = Quota::per_second(NonZeroU32::new(rate.per_second.max(1)).expect("non-zero"))
            .allow_burst(NonZeroU32::new(rate.burst.max(1)).expect("non-zero"));
        Ok(Automation {
            inner: Arc::new(Inner {
                store: Arc::new(Mutex::new(store)),
                relay,
                workspaces: Mutex::new(HashMap::new()),
                limits: RateLimiter::keyed(quota),
                queued: tokio::sync::Notify::new(),
            }),
        })
    }

    /// The store, for the command line and tests.
    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one delivery of `kind`: `key` from the request's `Authorization` (the Events API
    /// carries it in the body instead).
    pub async fn deliver(
        &self,
        kind: Kind,
        key: Option<&str>,
        body: &[u8],
    ) -> Result<Delivered, Refusal> {
        // The Events API's key is inside the body; the others' is needed before reading it.
        let (integration, received) = match kind {
            Kind::Events => {
                let received = payload::parse(kind, body)?;
                let key = received.routing_key.clone().unwrap_or_default();
                (self.integration(kind, Some(&key))?, received)
            }
            _ => {
                let integration = self.integration(kind, key)?;
                (integration, payload::parse(kind, body)?)
            }
        };
        if let Err(not_until) = self.inner.limits.check_key(&integration.id) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            return Err(Refusal::TooMany(wait.as_secs_f64().ceil().max(1.0) as u64));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            integration,
            kind,
            body: body.to_vec(),
            received,
            reply,
        };
        self.workspace(&job.integration.workspace)
            .send(job)
            .await
            .map_err(|_| Refusal::Unavailable("the automation has stopped".into()))?;
        answer
            .await
            .map_err(|_| Refusal::Unavailable("the automation stopped before answering".into()))?
    }

    /// Runs the workspaces' timed rules (auto-close, escalation) every `every`, until the
    /// runtime stops. A failed sweep is logged and tried again at the next.
    pub async fn housekeeping(self, every: std::time::Duration) {
        let mut peers: HashMap<String, WorkspacePeer> = HashMap::new();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let workspaces = match self.inner.relay.workspaces() {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!("housekeeping could not list the workspaces: {e}");
                    continue;
                }
            };
            for workspace in workspaces {
                let peer = peers.entry(workspace.clone()).or_insert_with(|| {
                    WorkspacePeer::new(&workspace, Purpose::Housekeeping, self.inner.relay.clone())
                });
                let result = peer.sweep(&self.inner.store, now().0).await;
                self.inner.queued.notify_one();
                match result {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(%workspace, rules = n, "housekeeping acted"),
                    Err(e) => tracing::warn!(%workspace, "housekeeping failed: {e}"),
                }
            }
        }
    }

    /// Reads a caller's answer link without using it (for the page it opens).
    pub fn answer_claim(&self, token: &str) -> Result<answer::Claim, AnswerError> {
        let secret = self.store().secret(answer::SECRET)?;
        let claim = answer::verify(&secret, token, now().0.unix_seconds())?;
        let used = self.store().answer_used(&answer::used_key(token))?;
        if used {
            return Err(answer::LinkError::Used.into());
        }
        Ok(claim)
    }

    /// Takes a caller's answer: checks the link, records its use, and closes or reopens the
    /// incident. Returns what the caller is told.
    pub async fn answer(&self, token: &str) -> Result<String, AnswerError> {
        let at = now().0;
        let secret = self.store().secret(answer::SECRET)?;
        let claim = answer::verify(&secret, token, at.unix_seconds())?;
        let (Some(reply), Ok(id)) = (
            claim.answer(),
            outpost_sync::DocumentId::from_url(&claim.document),
        ) else {
            return Err(answer::LinkError::Forged.into());
        };
        let used = answer::used_key(token);
        if !self.store().use_answer(&used, at.unix_seconds())? {
            return Err(answer::LinkError::Used.into());
        }
        let mut peer =
            WorkspacePeer::new(&claim.workspace, Purpose::Answers, self.inner.relay.clone());
        match peer.answer(id, &claim.key, reply, at).await {
            Ok(reference) => Ok(match reply {
                outpost_core::notify::CallerAnswer::Works => format!(
                    "Thank you. {reference} is closed; we are glad it works again."
                ),
                outpost_core::notify::CallerAnswer::StillBroken => format!(
                    "Thank you for telling us. {reference} is reopened and back with the team working it."
                ),
            }),
            Err(Failure::Refused(why)) => Err(AnswerError::Refused(why)),
            Err(Failure::Unavailable(why)) => {
                // Not applied: the link must work again.
                if let Err(e) = self.store().unuse_answer(&used) {
                    tracing::warn!("an answer link's use could not be taken back: {e}");
                }
                Err(AnswerError::Unavailable(why))
            }
        }
    }

    /// Sends what is due now rather than at the next tick (a dead letter put back, say).
    pub fn wake_notifications(&self) {
        self.inner.queued.notify_one();
    }

    /// Sends the notices the sweeps queue, as they come due, until the runtime stops: right
    /// after a sweep queued some, and every few seconds for the retries.
    pub async fn notifications(self, mailer: Option<deliver::Mailer>) {
        if mailer.is_none() {
            tracing::info!(
                "no mail server is set (OUTPOST_SMTP_URL): mail notices wait in the outbox"
            );
        }
        let instance = match self.store().secret("instance") {
            Ok(bytes) => hex::encode(&bytes[..6]),
            Err(e) => {
                tracing::error!("notifications are off: {e}");
                return;
            }
        };
        let sender = deliver::Sender::new(mailer, &instance);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.inner.queued.notified() => {}
            }
            let base = self.inner.relay.public_url();
            let sent =
                deliver::deliver_due(&self.inner.store, &sender, now().0.unix_seconds(), &base)
                    .await;
            if sent > 0 {
                tracing::info!(sent, "notifications sent");
            }
        }
    }

    fn integration(&self, kind: Kind, key: Option<&str>) -> Result<Integration, Refusal> {
        let key = key.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| {
            Refusal::UnknownKey(match kind {
                Kind::Events => "routing_key is missing".to_string(),
                _ => "the request has no integration key (send it as \"Authorization: Bearer KEY\")".to_string(),
            })
        })?;
        match self.store().integration(key)? {
            Some(i) if i.kind == kind => Ok(i),
            Some(i) => Err(Refusal::UnknownKey(format!(
                "this integration key is for the {} endpoint, not {}",
                i.kind.label(),
                kind.label()
            ))),
            None => Err(Refusal::UnknownKey(
                "unknown or revoked integration key".to_string(),
            )),
        }
    }

    fn workspace(&self, workspace: &str) -> mpsc::Sender<Job> {
        let mut map = self
            .inner
            .workspaces
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = map.get(workspace).filter(|tx| !tx.is_closed()) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(256);
        let peer = WorkspacePeer::new(workspace, Purpose::Alerts, self.inner.relay.clone());
        tokio::spawn(run(peer, rx, self.inner.store.clone()));
        map.insert(workspace.to_string(), tx.clone());
        tx
    }
}

/// Deliveries waiting together are handled as one batch: each is applied in turn, then one
/// wait for the hub's acknowledgement covers them all, which is what lets a burst through at
/// the rate the hub commits rather than one round trip per delivery.
const BATCH: usize = 64;

async fn run(mut peer: WorkspacePeer, mut jobs: mpsc::Receiver<Job>, store: Arc<Mutex<Store>>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        handle(&mut peer, &store, batch).await;
    }
}

fn now() -> (DeviceTime, i64) {
    let at = DeviceTime::from_datetime(chrono::Utc::now());
    (at, at.unix_seconds())
}

fn refusal(f: Failure) -> Refusal {
    match f {
        Failure::Unavailable(why) => Refusal::Unavailable(why),
        Failure::Refused(why) => Refusal::Refused(why),
    }
}

/// Handles a batch and answers each of its deliveries.
async fn handle(peer: &mut WorkspacePeer, store: &Mutex<Store>, batch: Vec<Job>) {
    let (at, seconds) = now();
    let lock = || store.lock().unwrap_or_else(|e| e.into_inner());
    // One transaction for what the whole batch records (else one disk sync per write).
    let transaction = lock().begin();
    if let Err(e) = &transaction {
        tracing::warn!("automation store: no transaction for this batch: {e}");
    }
    // Applied, waiting for the hub: each with its answer.
    let mut staged: Vec<(Job, serde_json::Value)> = Vec::new();
    // Retries of a delivery staged in this same batch, answered with it.
    let mut repeats: Vec<(Job, usize)> = Vec::new();
    for job in batch {
        let id = job.integration.id.clone();
        match lock().handled(&id, &job.body) {
            Ok(Some(answer)) => {
                let answer = serde_json::from_str(&answer)
                    .map(|answer| Delivered { answer })
                    .map_err(|e| Refusal::Unavailable(e.to_string()));
                let _ = job.reply.send(answer);
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                let _ = job.reply.send(Err(e.into()));
                continue;
            }
        }
        if let Some(first) = staged
            .iter()
            .position(|(s, _)| s.integration.id == id && s.body == job.body)
        {
            repeats.push((job, first));
            continue;
        }
        match peer.stage(store, &job.integration, &job.received, at).await {
            Ok(outcomes) => {
                let answer = answer(job.kind, &job.received, &outcomes);
                staged.push((job, answer));
            }
            Err(f) => {
                let _ = job.reply.send(Err(refusal(f)));
            }
        }
    }
    let flushed = peer.flush().await;
    if flushed.is_ok() {
        for (job, answer) in &staged {
            if let Err(e) =
                lock().remember(&job.integration.id, &job.body, &answer.to_string(), seconds)
            {
                tracing::warn!("could not record a handled delivery: {e}");
            }
        }
        if let Err(e) = lock().forget_handled(seconds - HANDLED_FOR_SECONDS) {
            tracing::warn!("could not forget old deliveries: {e}");
        }
    }
    // Committed whether or not the hub took the changes: what was tracked points at incidents
    // the hub may lack, which the next delivery finds unavailable and opens again.
    if transaction.is_ok() {
        if let Err(e) = lock().commit() {
            tracing::warn!("automation store: the batch's records were not committed: {e}");
        }
    }
    match flushed {
        Ok(()) => {
            for (job, first) in repeats {
                let answer = staged[first].1.clone();
                let _ = job.reply.send(Ok(Delivered { answer }));
            }
            for (job, answer) in staged {
                let _ = job.reply.send(Ok(Delivered { answer }));
            }
        }
        Err(f) => {
            let refused = refusal(f);
            for (job, _) in repeats {
                let _ = job.reply.send(Err(refused.clone()));
            }
            for (job, _) in staged {
                let _ = job.reply.send(Err(refused.clone()));
            }
        }
    }
}

/// The answer's body: the Events API's shape for it (`status`, `message`, `dedup_key`), and for
/// the webhooks what became of each alert.
fn answer(kind: Kind, received: &Received, outcomes: &[AlertOutcome]) -> serde_json::Value {
    match kind {
        Kind::Events => serde_json::json!({
            "status": "success",
            "message": "Event processed",
            "dedup_key": received.dedup_key,
            "incident": outcomes.first().and_then(|o| o.incident.clone()),
        }),
        Kind::Mail => serde_json::json!({
            "status": "success",
            "message": "Mail processed",
            "result": outcomes.first().map(|o| o.result),
            "incident": outcomes.first().and_then(|o| o.incident.clone()),
        }),
        _ => serde_json::json!({
            "status": "success",
            "message": format!("{} alerts processed", outcomes.len()),
            "alerts": outcomes,
        }),
    }
}
