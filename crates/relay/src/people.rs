//! The HTTP API for people and devices: invitations, joining, the device list, revoking a device
//! and signing out. Storage is [`crate::invitations`]; these handlers check who may ask.
//!
//! - `POST /api/invitations` (admin): invite a person; answers the one-time link and its QR code.
//! - `GET /api/invitations` (admin): the workspace's invitations, open, spent and expired.
//! - `POST /api/invitations/{id}/withdraw` (admin): withdraw an open invitation.
//! - `POST /api/join/check` `{code}`: what an invitation opens, or why it cannot be used.
//! - `POST /api/join` `{code, device_name, app_version}`: the device joins, receiving its token.
//! - `GET /api/devices`: the workspace's devices for an admin, one's own for anyone else.
//! - `POST /api/devices/{id}/revoke`: an admin revokes any device of the workspace, anyone their
//!   own; its open connections close within a second.
//! - `POST /api/sign-out`: the calling device's token is revoked.
//!
//! Codes travel in request bodies, never in a URL, so no log or proxy sees one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use outpost_core::Role;
use outpost_sync::hub::Grant;
use serde::Deserialize;

use crate::invitations::{self, Lookup, DEFAULT_INVITATION_LIFETIME};
use crate::revocation;
use crate::server::{bearer, now_seconds, refusal, Refused, RelayState};
use crate::storage::{Revoke, Storage, TokenInfo};

/// The header a device names its app version in.
pub const APP_VERSION_HEADER: &str = "x-outpost-version";

fn unavailable(e: impl std::fmt::Display) -> Refused {
    Refused(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// The bearer's grant, if it is an admin's.
pub(crate) fn admin(state: &RelayState, headers: &HeaderMap) -> Result<Grant, Refused> {
    let grant = bearer(state, headers)?;
    if Role::from_key(&grant.role) == Some(Role::Admin) {
        Ok(grant)
    } else {
        Err(Refused(
            StatusCode::FORBIDDEN,
            "managing people, devices and integrations needs the admin role".into(),
        ))
    }
}

fn with_storage<T>(
    state: &RelayState,
    f: impl FnOnce(&mut Storage) -> Result<T, outpost_sync::hub::StoreError>,
) -> Result<T, Refused> {
    let mut storage = state
        .tokens
        .lock()
        .map_err(|_| unavailable("the token store is unavailable"))?;
    f(&mut storage).map_err(unavailable)
}

/// The origin (`https://host:port`) of an address, or why it is not one.
pub fn origin_of(base: &str) -> Result<String, String> {
    let problem = || format!("\"{base}\" is not a web address like https://desk.example.com");
    let uri: Uri = base.trim().parse().map_err(|_| problem())?;
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme @ ("http" | "https")), Some(authority)) => {
            Ok(format!("{scheme}://{authority}"))
        }
        _ => Err(problem()),
    }
}

/// An SVG QR code of `text`, for a phone's camera.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[derive(Deserialize)]
pub(crate) struct InviteBody {
    user: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    groups: Option<String>,
    /// A lifetime as `7d`, `12h`; a week if absent.
    #[serde(default)]
    expires: Option<String>,
    /// The address the app is served at (its page's origin), for the link.
    base: String,
}

pub(crate) async fn invite(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Json(body): Json<InviteBody>,
) -> Response {
    let admin = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let user = body.user.trim();
    if user.is_empty() {
        return refusal(StatusCode::BAD_REQUEST, "the person's name is required");
    }
    if user.chars().count() > 80 {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the person's name is longer than 80 characters",
        );
    }
    let role_key = body
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let role = match role_key.map(Role::from_key) {
        None => Role::Agent,
        Some(Some(role)) => role,
        Some(None) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "the role must be viewer, agent, manager or admin",
            )
        }
    };
    let groups = match outpost_core::access::typed_groups(body.groups.as_deref().unwrap_or("")) {
        Ok(g) => g,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, &e.message),
    };
    let lifetime = match body
        .expires
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        None => DEFAULT_INVITATION_LIFETIME,
        Some(text) => match crate::cli::parse_lifetime(text) {
            Ok(l) if l <= invitations::MAX_INVITATION_LIFETIME => l,
            Ok(_) => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "an invitation lasts at most 30 days",
                )
            }
            Err(e) => return refusal(StatusCode::BAD_REQUEST, &e),
        },
    };
    let base = match origin_of(&body.base) {
        Ok(b) => b,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, &e),
    };
    let grant = Grant {
        user: user.to_string(),
        workspace: admin.workspace.clone(),
        role: role.key().to_string(),
        device: String::new(),
        groups,
    };
    let now = now_seconds();
    let (code, id) = match with_storage(&state, |s| s.invite(&grant, &admin.user, now, lifetime)) {
        Ok(made) => made,
        Err(refused) => return refused.into_response(),
    };
    tracing::info!(invitation = %id, workspace = %grant.workspace, by = %admin.user, "invited a person");
    let link = invitations::link(&base, &code);
    Json(serde_json::json!({
        "id": id,
        "link": link,
        "qr_svg": qr_svg(&link),
        "user": grant.user,
        "workspace": grant.workspace,
        "role": grant.role,
        "groups": grant.groups,
        "expires_at": now.saturating_add(lifetime.min(invitations::MAX_INVITATION_LIFETIME)) * 1000,
    }))
    .into_response()
}

pub(crate) async fn list_invitations(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
) -> Response {
    let admin = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let now = now_seconds();
    match with_storage(&state, |s| s.invitations(Some(&admin.workspace))) {
        Ok(list) => Json(serde_json::json!({
            "invitations": list.iter().map(|i| serde_json::json!({
                "id": i.id, "user": i.grant.user, "role": i.grant.role, "groups": i.grant.groups,
                "created_by": i.created_by, "created_at": i.created_at * 1000,
                "expires_at": i.expires_at * 1000, "state": i.state(now),
                "device": i.spent.as_ref().map(|(_, d)| d.clone()),
            })).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

pub(crate) async fn withdraw_invitation(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admin = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let now = now_seconds();
    match with_storage(&state, |s| {
        s.withdraw_invitation(Some(&admin.workspace), &id, now)
    }) {
        Ok(true) => Json(serde_json::json!({ "withdrawn": id })).into_response(),
        Ok(false) => refusal(
            StatusCode::NOT_FOUND,
            "no open invitation of this workspace has that id",
        ),
        Err(refused) => refused.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct CodeBody {
    code: String,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    app_version: String,
}

/// A spent, expired or unknown invitation, as the join page shows it.
fn cannot_use(lookup: &Lookup) -> Response {
    let status = match lookup {
        Lookup::Unknown => StatusCode::NOT_FOUND,
        _ => StatusCode::GONE,
    };
    let state = match lookup {
        Lookup::Open(_) => "open",
        Lookup::Spent(_) => "spent",
        Lookup::Expired(_) => "expired",
        Lookup::Unknown => "unknown",
    };
    (
        status,
        Json(serde_json::json!({
            "error": lookup.problem().unwrap_or_default(),
            "state": state,
        })),
    )
        .into_response()
}

pub(crate) async fn check_invitation(
    State(state): State<Arc<RelayState>>,
    Json(body): Json<CodeBody>,
) -> Response {
    let now = now_seconds();
    match with_storage(&state, |s| s.lookup(body.code.trim(), now)) {
        Ok(Lookup::Open(i)) => Json(serde_json::json!({
            "state": "open", "user": i.grant.user, "workspace": i.grant.workspace,
            "role": i.grant.role, "groups": i.grant.groups, "invited_by": i.created_by,
            "expires_at": i.expires_at * 1000,
        }))
        .into_response(),
        Ok(other) => cannot_use(&other),
        Err(refused) => refused.into_response(),
    }
}

pub(crate) async fn join(
    State(state): State<Arc<RelayState>>,
    Json(body): Json<CodeBody>,
) -> Response {
    let now = now_seconds();
    let joined = with_storage(&state, |s| {
        s.join_for(
            body.code.trim(),
            &body.device_name,
            &body.app_version,
            now,
            state.token_lifetime,
        )
    });
    match joined {
        Ok(Ok(joined)) => {
            let g = &joined.grant;
            tracing::info!(device = %g.device, workspace = %g.workspace, "a device joined by invitation");
            Json(serde_json::json!({
                "token": joined.token, "user": g.user, "workspace": g.workspace, "role": g.role,
                "groups": g.groups, "device": g.device,
            }))
            .into_response()
        }
        Ok(Err(lookup)) => cannot_use(&lookup),
        Err(refused) => refused.into_response(),
    }
}

fn device_json(t: &TokenInfo, now: i64, this: &str) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "user": t.grant.user, "role": t.grant.role, "groups": t.grant.groups,
        "name": if t.device_name.is_empty() { "Token (no device name)" } else { t.device_name.as_str() },
        "app_version": t.app_version, "created_at": t.created_at * 1000,
        "last_seen": t.last_seen.map(|s| s * 1000), "state": t.state(now),
        "this_device": t.id == this,
    })
}

pub(crate) async fn devices(State(state): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let grant = match bearer(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let is_admin = Role::from_key(&grant.role) == Some(Role::Admin);
    let now = now_seconds();
    match with_storage(&state, |s| s.devices(&grant.workspace)) {
        Ok(list) => Json(serde_json::json!({
            "devices": list
                .iter()
                .filter(|t| is_admin || t.grant.user == grant.user)
                .filter(|t| !t.revoked || is_admin)
                .map(|t| device_json(t, now, &grant.device))
                .collect::<Vec<_>>()
        }))
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// Revokes `id` and closes its connections now (the watcher would within a second anyway).
fn revoke_device(state: &RelayState, id: &str) -> Response {
    let now = now_seconds();
    match with_storage(state, |s| s.revoke(id, now)) {
        Ok(Revoke::Revoked) => {
            let closed = state.tokens_live.kick(id, revocation::REVOKED);
            tracing::info!(device = %id, closed, "revoked a device");
            Json(serde_json::json!({ "revoked": id })).into_response()
        }
        Ok(_) => refusal(StatusCode::NOT_FOUND, "no active device has that id"),
        Err(refused) => refused.into_response(),
    }
}

pub(crate) async fn revoke(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let grant = match bearer(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let target = match with_storage(&state, |s| s.token(&id)) {
        Ok(t) => t,
        Err(refused) => return refused.into_response(),
    };
    // Another workspace's device is as unknown as one that does not exist.
    let Some(target) = target.filter(|t| t.grant.workspace == grant.workspace) else {
        return refusal(StatusCode::NOT_FOUND, "no active device has that id");
    };
    let is_admin = Role::from_key(&grant.role) == Some(Role::Admin);
    if !is_admin && target.grant.user != grant.user {
        return refusal(
            StatusCode::FORBIDDEN,
            "revoking another person's device needs the admin role",
        );
    }
    revoke_device(&state, &target.id)
}

pub(crate) async fn sign_out(State(state): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    match bearer(&state, &headers) {
        Ok(grant) => revoke_device(&state, &grant.device),
        Err(refused) => refused.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_a_scheme_and_an_authority() {
        assert_eq!(
            origin_of("https://desk.example.com/app?x").as_deref(),
            Ok("https://desk.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert!(origin_of("javascript:alert(1)").is_err());
        assert!(origin_of("desk.example.com").is_err());
        assert!(origin_of("ftp://desk").is_err());
    }

    #[test]
    fn a_link_becomes_an_svg_qr_code() {
        let svg =
            qr_svg("http://127.0.0.1:8080/join#inv_0123456789abcdef0123456789abcdef").unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }
}
