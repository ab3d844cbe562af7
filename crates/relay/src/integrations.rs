//! The HTTP API an admin manages their workspace's integrations with (the app's Settings →
//! Integrations; the command line has `outpost-relay integration`). Keys are shown once, when
//! made; the automation keeps only their hashes.
//!
//! - `GET /api/integrations` (admin): the workspace's integrations, never their keys.
//! - `POST /api/integrations` (admin) `{kind, name}`: a new key, and where the sender posts it.
//! - `POST /api/integrations/{id}/revoke` (admin): the key stops working at once.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use outpost_automation::payload::Kind;
use outpost_automation::store::Integration;
use serde::Deserialize;
use serde_json::json;

use crate::people::admin;
use crate::server::{now_seconds, refusal, RelayState};

fn listed(i: &Integration) -> serde_json::Value {
    json!({
        "id": i.id, "kind": i.kind.key(), "name": i.name, "author": i.author(),
        "created": i.created, "endpoint": i.kind.endpoint(),
    })
}

pub(crate) async fn list(State(state): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let grant = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    match state.automation().store().integrations() {
        Ok(all) => {
            let mine: Vec<_> = all
                .iter()
                .filter(|i| i.workspace == grant.workspace)
                .map(listed)
                .collect();
            Json(json!({ "integrations": mine })).into_response()
        }
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateBody {
    kind: String,
    name: String,
}

pub(crate) async fn create(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Json(body): Json<CreateBody>,
) -> Response {
    let grant = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let Some(kind) = Kind::from_key(body.kind.trim()) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the kind must be alertmanager, grafana, events or mail",
        );
    };
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the integration's name is required, at most 80 characters",
        );
    }
    let automation = state.automation();
    let made = automation
        .store()
        .create_integration(&grant.workspace, kind, name, now_seconds());
    match made {
        Ok((integration, key)) => {
            let mut answer = listed(&integration);
            answer["key"] = json!(key);
            Json(answer).into_response()
        }
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

pub(crate) async fn revoke(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let grant = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let automation = state.automation();
    let store = automation.store();
    let ours = store
        .integrations()
        .map(|all| {
            all.iter()
                .any(|i| i.id == id && i.workspace == grant.workspace)
        })
        .unwrap_or(false);
    if !ours {
        return refusal(
            StatusCode::NOT_FOUND,
            "this workspace has no integration with that id",
        );
    }
    match store.revoke(&id, now_seconds()) {
        Ok(_) => Json(json!({ "revoked": id })).into_response(),
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
