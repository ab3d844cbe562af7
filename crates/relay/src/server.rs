//! The HTTP server: the app, the sync endpoint, a small API, and graceful shutdown.
//!
//! Routes:
//! - `GET /sync`: the WebSocket sync endpoint. A browser page of another site (its `Origin` is
//!   neither the relay's own nor an `--allow-origin`) gets `403`. The token is checked at the
//!   upgrade; a missing or refused token gets `401` with a JSON reason and no socket; a token
//!   revoked later has its connections closed within a second ([`crate::revocation`]).
//! - `GET /api/session`: who a bearer token belongs to (the app uses it to explain a refused
//!   connection), and the id of the workspace's workspace document.
//! - `POST /api/device-prefix?wanted=7F3A`: the calling device's reference-number prefix,
//!   unique in its workspace (the one it wanted, if no other device holds it).
//! - `GET /api/audit/{document id}`: who delivered each change of an incident and when it
//!   arrived (bearer token of the incident's workspace; an incident not stored, or of another
//!   workspace, has none).
//! - `GET /api/dev-token?user=…`: only with `--dev`, and only for loopback clients: a token for
//!   the `default` workspace, so the README's run command works with no setup.
//! - `/api/invitations`, `/api/join`, `/api/devices`, `/api/sign-out`: people and devices, see
//!   [`crate::people`].
//! - `GET /healthz`: `ok`, or 503 with the reason when the sync hub has stopped or is stuck.
//! - everything else: the app ([`crate::assets`]).
//!
//! Shutdown (SIGINT/SIGTERM): stop accepting, tell every connection to close cleanly, let the
//! sync service commit its last batch, exit.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use outpost_judge::WorkspaceDocuments;
use outpost_sync::hub::Grant;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

use crate::assets;
use crate::auth::{new_token, token_from, SUBPROTOCOL};
use crate::cli::Config;
use crate::connection::{self, Limits};
use crate::people;
use crate::revocation::{self, LiveTokens};
use crate::service::SyncService;
use crate::storage::Storage;

/// The development workspace the run command uses.
pub const DEV_WORKSPACE: &str = "default";

/// Everything the handlers share.
pub struct RelayState {
    service: Arc<SyncService>,
    pub(crate) tokens: Mutex<Storage>,
    /// Each workspace's workspace-document id, shared with the judge.
    workspaces: WorkspaceDocuments,
    peer_id: String,
    limits: Limits,
    dev: bool,
    dist: PathBuf,
    shutdown: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    /// Live WebSocket connections (axum's graceful shutdown does not wait for upgraded ones).
    live: Arc<tokio::sync::watch::Sender<usize>>,
    /// The open connections of each token, for closing them when it is revoked.
    pub(crate) tokens_live: Arc<LiveTokens>,
    /// Origins besides the relay's own whose pages may open a sync connection.
    allowed_origins: Vec<String>,
    /// How long a device's token lives unless used (seconds).
    pub(crate) token_lifetime: i64,
    /// Open connections allowed per token, and in all.
    max_per_token: usize,
    max_connections: usize,
    /// The automation peer, which turns alerts into incidents and runs the timed rules.
    automation: outpost_automation::Automation,
    housekeeping_every: std::time::Duration,
    /// Where people reach the app; `None` in the configuration means the listening address.
    public_url: Arc<std::sync::RwLock<url::Url>>,
    public_url_set: bool,
    /// The mail server notifications go through, if one is set.
    mailer: Option<outpost_automation::deliver::Mailer>,
}

impl RelayState {
    /// Opens storage and starts the sync service.
    pub fn open(config: &Config) -> Result<Arc<RelayState>, outpost_sync::hub::StoreError> {
        let storage = Storage::open(&config.data_dir)?;
        let storage_id = storage.identity("storage-id", || {
            new_token().trim_start_matches("opt_")[..32].to_string()
        })?;
        let (documents, bytes) = storage.totals()?;
        let peer_id = format!("outpost-relay-{}", &storage_id[..8]);
        tracing::info!(data_dir = %config.data_dir.display(), documents, bytes, %peer_id, "storage opened");
        let tokens = Storage::open(&config.data_dir)?;
        let workspaces = WorkspaceDocuments::default();
        for (workspace, id) in tokens.workspace_documents()? {
            workspaces.insert(&workspace, id);
        }
        let service = Arc::new(SyncService::start(
            storage,
            peer_id.clone(),
            storage_id,
            config.memory_documents,
            !config.no_judge,
            workspaces.clone(),
        ));
        let public_url = Arc::new(std::sync::RwLock::new(
            config.public_url.clone().unwrap_or_else(|| {
                format!("http://{}/", config.addr())
                    .parse()
                    .expect("an address is a URL")
            }),
        ));
        let automation = outpost_automation::Automation::start(
            &config.data_dir,
            Arc::new(crate::automation::InProcess {
                service: service.clone(),
                storage: Arc::new(Mutex::new(Storage::open(&config.data_dir)?)),
                workspaces: workspaces.clone(),
                public_url: public_url.clone(),
            }),
            outpost_automation::Rate {
                per_second: config.alert_rate,
                burst: config.alert_burst,
            },
        )
        .map_err(|e| outpost_sync::hub::StoreError(e.to_string()))?;
        let mailer = match &config.smtp_url {
            Some(url) => Some(
                outpost_automation::deliver::Mailer::new(url, &config.smtp_from)
                    .map_err(|e| outpost_sync::hub::StoreError(e.to_string()))?,
            ),
            None => None,
        };
        let (stop, shutdown) = watch::channel(false);
        Ok(Arc::new(RelayState {
            automation,
            housekeeping_every: std::time::Duration::from_secs(config.housekeeping_every.max(1)),
            public_url,
            public_url_set: config.public_url.is_some(),
            mailer,
            service,
            tokens: Mutex::new(tokens),
            workspaces,
            peer_id,
            limits: config.limits(),
            dev: config.dev,
            dist: config.dist.clone(),
            shutdown,
            stop,
            live: Arc::new(watch::channel(0).0),
            tokens_live: Arc::new(LiveTokens::new(config.limits())),
            token_lifetime: config.token_lifetime,
            max_per_token: config.max_connections_per_token,
            max_connections: config.max_connections,
            allowed_origins: config
                .allowed_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        }))
    }

    fn verify(&self, token: &str) -> Result<Option<Grant>, String> {
        self.tokens
            .lock()
            .map_err(|_| "token store unavailable".to_string())?
            .verify_token(token, self.dev)
            .map_err(|e| e.to_string())
    }

    /// The automation peer (alerts and mail in, the timed rules).
    pub fn automation(&self) -> &outpost_automation::Automation {
        &self.automation
    }

    /// Closes the open connections of tokens as they are revoked or expire, checking every
    /// [`revocation::CHECK_EVERY`], and renews the tokens in use every
    /// [`revocation::RENEW_EVERY`], until the relay shuts down.
    pub async fn watch_revocations(self: Arc<Self>) {
        let mut shutdown = self.shutdown.clone();
        let mut tick = tokio::time::interval(revocation::CHECK_EVERY);
        let mut last_renewal = std::time::Instant::now();
        // Revocations are stamped in whole seconds: look back over the last two, so one made
        // in the second of the previous look is not missed. Kicking twice is harmless.
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {}
            }
            if self.tokens_live.tokens() == 0 {
                continue;
            }
            let now = now_seconds();
            let renew = last_renewal.elapsed() >= revocation::RENEW_EVERY;
            let live = self.tokens_live.devices();
            let found = self
                .tokens
                .lock()
                .map_err(|_| "token store unavailable".to_string())
                .and_then(|t| {
                    if renew {
                        t.renew(&live, now).map_err(|e| e.to_string())?;
                    }
                    let revoked = t.revoked_since(now - 2).map_err(|e| e.to_string())?;
                    let expired = t.expired_by(now).map_err(|e| e.to_string())?;
                    Ok((revoked, expired))
                });
            if renew {
                last_renewal = std::time::Instant::now();
            }
            match found {
                Ok((revoked, expired)) => {
                    let ended = revoked
                        .into_iter()
                        .map(|id| (id, revocation::REVOKED))
                        .chain(expired.into_iter().map(|id| (id, revocation::EXPIRED)));
                    for (id, why) in ended {
                        let closed = self.tokens_live.kick(&id, why);
                        if closed > 0 {
                            tracing::info!(token = %id, closed, reason = why, "closed the connections of a token");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not check for revoked or expired tokens")
                }
            }
        }
    }

    /// Whether a page from `origin` may open a sync connection to this relay, reached as
    /// `host`: its own pages may, and those of the configured origins.
    fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        let own = host.is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        });
        own || self.allowed_origins.contains(&origin)
    }

    /// Tells every connection to close and the sync service to commit and stop.
    pub fn shut_down(&self) {
        let _ = self.stop.send(true);
        self.service.shutdown();
    }
}

pub(crate) fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn sync_endpoint(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A browser names the page that opens a socket; programs (automerge-repo in Node, our
    // peers) name none. A page of another site is refused before its token is even read.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(unreadable)");
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if !state.origin_allowed(origin, host) {
            tracing::warn!(%origin, "refused a sync connection from another site's page");
            return refusal(
                StatusCode::FORBIDDEN,
                &format!("pages of {origin} may not sync with this relay (its administrator can allow them with --allow-origin)"),
            );
        }
    }
    let Some(token) = token_from(&headers, query.as_deref()) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "a token is required (Sec-WebSocket-Protocol outpost.token.<token>, or ?token=)",
        );
    };
    let grant = match state.verify(&token) {
        Ok(Some(grant)) => grant,
        Ok(None) => {
            tracing::warn!("refused a connection with an unknown or revoked token");
            return refusal(
                StatusCode::UNAUTHORIZED,
                "the token was refused (unknown, revoked or expired)",
            );
        }
        Err(e) => return refusal(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    // A token in use lives its whole lifetime again.
    if let Ok(tokens) = state.tokens.lock() {
        if let Err(e) = tokens.renew(std::slice::from_ref(&grant.device), now_seconds()) {
            tracing::warn!(error = %e, "could not renew a token");
        }
    }
    // No token can take every connection: a cap per token, and one in all.
    if state.tokens_live.connections_of(&grant.device) >= state.max_per_token {
        tracing::warn!(token = %grant.device, limit = state.max_per_token, "refused a connection: too many for one token");
        return refusal(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("this sign-in already has {} open connections, the limit; close other tabs or devices", state.max_per_token),
        );
    }
    if *state.live.borrow() >= state.max_connections {
        tracing::warn!(
            limit = state.max_connections,
            "refused a connection: the relay is full"
        );
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the relay has its limit of {} open connections; try again shortly",
                state.max_connections
            ),
        );
    }
    let Ok(upgrade) = upgrade else {
        return refusal(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket only",
        );
    };
    let limits = state.limits;
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(limits.max_frame_bytes + 1)
        .max_frame_size(limits.max_frame_bytes + 1)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            state.live.send_modify(|n| *n += 1);
            let registration = state.tokens_live.register(&grant.device);
            connection::serve(
                socket,
                grant,
                state.service.clone(),
                state.peer_id.clone(),
                limits,
                state.shutdown.clone(),
                &registration,
            )
            .await;
            drop(registration);
            state.live.send_modify(|n| *n -= 1);
        })
}

/// A request refused: the status and the reason, answered as JSON.
pub(crate) struct Refused(pub(crate) StatusCode, pub(crate) String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refusal(self.0, &self.1)
    }
}

/// What the request's bearer token grants, or why it grants nothing.
pub(crate) fn bearer(state: &RelayState, headers: &HeaderMap) -> Result<Grant, Refused> {
    let Some(token) = token_from(headers, None) else {
        return Err(Refused(
            StatusCode::UNAUTHORIZED,
            "no token was sent".into(),
        ));
    };
    match state.verify(&token) {
        Ok(Some(grant)) => Ok(grant),
        Ok(None) => Err(Refused(
            StatusCode::UNAUTHORIZED,
            "the token was refused (unknown, revoked or expired)".into(),
        )),
        Err(e) => Err(Refused(StatusCode::SERVICE_UNAVAILABLE, e)),
    }
}

async fn session(State(state): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    match bearer(&state, &headers) {
        Ok(g) => {
            // The app asks at each connection: the device is seen, running this version.
            let version = headers
                .get(crate::people::APP_VERSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty());
            let mut document = None;
            if let Ok(tokens) = state.tokens.lock() {
                if let Err(e) = tokens.seen(&g.device, version, now_seconds()) {
                    tracing::warn!(error = %e, "could not record a device as seen");
                }
                match tokens.workspace_document(&g.workspace, now_seconds()) {
                    Ok(id) => {
                        state.workspaces.insert(&g.workspace, id);
                        document = Some(id.to_string());
                    }
                    Err(e) => tracing::warn!(error = %e, "could not choose the workspace document"),
                }
            }
            session_json(&g, document)
        }
        Err(refused) => refused.into_response(),
    }
}

fn session_json(g: &Grant, workspace_document: Option<String>) -> Response {
    Json(serde_json::json!({
        "user": g.user, "workspace": g.workspace, "role": g.role, "device": g.device,
        "groups": g.groups, "workspace_document": workspace_document
    }))
    .into_response()
}

#[derive(Deserialize)]
struct PrefixQuery {
    /// The prefix the device numbers with now, claimed if no other device holds it.
    wanted: Option<String>,
}

/// The reference-number prefix of the calling device, unique in its workspace.
async fn device_prefix(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Query(q): Query<PrefixQuery>,
) -> Response {
    let grant = match bearer(&state, &headers) {
        Ok(grant) => grant,
        Err(refused) => return refused.into_response(),
    };
    let wanted = match q.wanted.as_deref().map(outpost_core::DevicePrefix::new) {
        None => None,
        Some(Ok(p)) => Some(p.to_string()),
        Some(Err(e)) => return refusal(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let claimed = state
        .tokens
        .lock()
        .map_err(|_| "token store unavailable".to_string())
        .and_then(|t| {
            t.claim_prefix(
                &grant.workspace,
                &grant.device,
                wanted.as_deref(),
                now_seconds(),
                || {
                    let mut b = [0u8; 4];
                    let _ = getrandom::fill(&mut b);
                    u32::from_le_bytes(b)
                },
            )
            .map_err(|e| e.to_string())
        });
    match claimed {
        Ok(prefix) => Json(serde_json::json!({
            "prefix": prefix,
            "kept": wanted.as_deref() == Some(prefix.as_str()),
        }))
        .into_response(),
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

async fn audit(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    axum::extract::Path(doc): axum::extract::Path<String>,
) -> Response {
    use outpost_sync::hub::HubStorage;
    let grant = match bearer(&state, &headers) {
        Ok(grant) => grant,
        Err(refused) => return refused.into_response(),
    };
    // Not stored yet (just logged on a device), or another workspace's: no arrivals, alike.
    let unknown = || Json(serde_json::json!({ "arrivals": [] })).into_response();
    let Ok(id) = doc.parse::<outpost_sync::DocumentId>() else {
        return unknown();
    };
    let Ok(mut tokens) = state.tokens.lock() else {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable");
    };
    match tokens.heads(&id) {
        Ok(Some((workspace, _))) if workspace == grant.workspace => {}
        Ok(_) => return unknown(),
        Err(e) => return refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
    // A restricted incident's audit is as hidden as the incident itself.
    match tokens.readers(&id) {
        Ok(Some(readers)) if grant.reads(readers.as_deref()) => {}
        Ok(_) => return unknown(),
        Err(e) => return refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
    match tokens.arrivals(&id) {
        Ok(arrivals) => Json(serde_json::json!({
            "arrivals": arrivals.iter().map(|a| serde_json::json!({
                "change": a.change.to_string(),
                "user": a.grant.user,
                "role": a.grant.role,
                "device": a.grant.device,
                "arrived_at": a.arrived_at.saturating_mul(1000),
            })).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// A 403 for `what` when the request comes from another machine. An IPv4 address mapped into
/// IPv6 (`::ffff:127.0.0.1`, how a dual-stack socket reports a local IPv4 client) counts as
/// what it maps.
fn unless_this_machine(peer: SocketAddr, what: &str) -> Option<Response> {
    (!peer.ip().to_canonical().is_loopback()).then(|| {
        refusal(
            StatusCode::FORBIDDEN,
            &format!("{what} are only given to this machine"),
        )
    })
}

#[derive(Deserialize)]
struct DevTokenQuery {
    user: Option<String>,
    /// The role the token carries; the person running a development relay is its admin.
    role: Option<String>,
    /// The groups it belongs to, comma-separated.
    groups: Option<String>,
}

async fn dev_token(
    State(state): State<Arc<RelayState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<DevTokenQuery>,
) -> Response {
    if !state.dev {
        return refusal(
            StatusCode::NOT_FOUND,
            "development tokens are off (start the relay with --dev)",
        );
    }
    if let Some(refused) = unless_this_machine(peer, "development tokens") {
        return refused;
    }
    let user = q
        .user
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "developer".into());
    let role = match q.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => outpost_core::Role::Admin,
        Some(r) => match outpost_core::Role::from_key(r) {
            Some(role) => role,
            None => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    &format!("\"{r}\" is not a role; use viewer, agent, manager or admin"),
                )
            }
        },
    };
    let groups = match outpost_core::access::typed_groups(q.groups.as_deref().unwrap_or("")) {
        Ok(groups) => groups,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, &e.message),
    };
    let grant = Grant {
        user: user.clone(),
        workspace: DEV_WORKSPACE.to_string(),
        role: role.key().to_string(),
        device: String::new(),
        groups: groups.clone(),
    };
    let issued = state
        .tokens
        .lock()
        .map_err(|_| "token store unavailable".to_string())
        .and_then(|tokens| {
            tokens
                .development_token(&dev_identity(&user, role, &groups), &grant, now_seconds())
                .map_err(|e| e.to_string())
        });
    match issued {
        Ok((_, false)) => refusal(
            StatusCode::FORBIDDEN,
            &format!("the development token of {user} was revoked; sign in under another name"),
        ),
        Ok((token, true)) => Json(serde_json::json!({
            "token": token, "user": user, "workspace": DEV_WORKSPACE, "role": role.key(),
            "groups": groups, "development": true
        }))
        .into_response(),
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// The development token of one user, role and set of groups: the same each time it is asked for.
fn dev_identity(user: &str, role: outpost_core::Role, groups: &[String]) -> String {
    match groups {
        [] => format!("dev-token:{user}:{}", role.key()),
        some => format!("dev-token:{user}:{}:{}", role.key(), some.join(",")),
    }
}

#[derive(Deserialize)]
struct StatsQuery {
    /// Summarise the delays of only the last this many frames.
    frames: Option<usize>,
}

/// The hub's counters and delays, for an operator or a benchmark on this machine.
async fn stats(
    State(state): State<Arc<RelayState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<StatsQuery>,
) -> Response {
    if let Some(refused) = unless_this_machine(peer, "statistics") {
        return refused;
    }
    Json(state.service.stats(q.frames)).into_response()
}

pub(crate) fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `ok`, or 503 with the reason when the sync hub has stopped or makes no progress: a relay whose
/// pages still load but whose sync is stuck is not healthy.
async fn healthz(State(state): State<Arc<RelayState>>) -> Response {
    match state.service.health() {
        Ok(()) => "ok".into_response(),
        Err(why) => refusal(StatusCode::SERVICE_UNAVAILABLE, &why),
    }
}

/// The whole application, without a socket: tests drive it with `oneshot`.
pub fn app(state: Arc<RelayState>) -> Router {
    let dist = state.dist.clone();
    let automation = outpost_automation::http::router(state.automation.clone());
    Router::new()
        .route("/sync", get(sync_endpoint))
        .route("/api/session", get(session))
        .route("/api/audit/{doc}", get(audit))
        .route("/api/device-prefix", post(device_prefix))
        .route(
            "/api/invitations",
            post(people::invite).get(people::list_invitations),
        )
        .route(
            "/api/invitations/{id}/withdraw",
            post(people::withdraw_invitation),
        )
        .route(
            "/api/integrations",
            get(crate::integrations::list).post(crate::integrations::create),
        )
        .route(
            "/api/integrations/{id}/revoke",
            post(crate::integrations::revoke),
        )
        .route("/api/notifications", get(crate::outbox::list))
        .route("/api/notifications/{id}/retry", post(crate::outbox::retry))
        .route("/api/join/check", post(people::check_invitation))
        .route("/api/join", post(people::join))
        .route("/api/devices", get(people::devices))
        .route("/api/devices/{id}/revoke", post(people::revoke))
        .route("/api/sign-out", post(people::sign_out))
        .route("/api/dev-token", get(dev_token))
        .route("/healthz", get(healthz))
        .route("/api/stats", get(stats))
        .with_state(state)
        .merge(automation)
        .merge(assets::router(&dist))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// The log's span of a request: its method and path, never its query string, where a WebSocket
/// client may carry its token (`/sync?token=…`).
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}

/// Serves on `listener` until `signal` completes, then shuts down cleanly: no new connections,
/// every socket closed with a close frame, the last batch committed.
pub async fn run(
    listener: TcpListener,
    state: Arc<RelayState>,
    signal: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    tokio::spawn(state.clone().watch_revocations());
    if !state.public_url_set {
        if let Ok(addr) = listener.local_addr() {
            if let Ok(url) = format!("http://{addr}/").parse() {
                *state.public_url.write().unwrap_or_else(|e| e.into_inner()) = url;
            }
        }
    }
    tokio::spawn(
        state
            .automation
            .clone()
            .housekeeping(state.housekeeping_every),
    );
    tokio::spawn(state.automation.clone().notifications(state.mailer.clone()));
    let stop = state.stop.clone();
    let graceful = async move {
        signal.await;
        let _ = stop.send(true);
    };
    let result = axum::serve(
        listener,
        app(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(graceful)
    .await;
    // Let every socket send its close frame before the sync service stops.
    let mut live = state.live.subscribe();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        live.wait_for(|n| *n == 0),
    )
    .await;
    state.shut_down();
    result
}
