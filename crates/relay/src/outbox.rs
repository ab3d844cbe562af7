//! The HTTP API an admin sees their workspace's notifications through (the app's Settings →
//! Notifications; the command line has `outpost-relay notify`): how many were sent and are
//! waiting, and the deliveries given up, with why, to send again once the cause is fixed.
//!
//! - `GET /api/notifications` (admin): `{counts: {pending, sent, dead}, dead: [...]}`.
//! - `POST /api/notifications/{id}/retry` (admin): a dead letter back in the queue.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::people::admin;
use crate::server::{now_seconds, refusal, RelayState};

pub(crate) async fn list(State(state): State<Arc<RelayState>>, headers: HeaderMap) -> Response {
    let grant = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let automation = state.automation();
    let store = automation.store();
    let counts = store.notice_counts(Some(&grant.workspace));
    let dead = store.dead_letters(Some(&grant.workspace));
    match (counts, dead) {
        (Ok(counts), Ok(dead)) => {
            let count = |state: &str| {
                counts
                    .iter()
                    .find(|(s, _)| s == state)
                    .map_or(0, |(_, n)| *n)
            };
            let dead: Vec<_> = dead
                .iter()
                .map(|d| {
                    json!({
                        "id": d.id,
                        // A webhook's address is a secret: it is named by its kind only.
                        "to": if d.notice.address.is_empty() { "a chat webhook".to_string() } else { d.notice.address.clone() },
                        "subject": d.notice.subject,
                        "attempts": d.attempts,
                        "error": d.error,
                        "at": d.at,
                    })
                })
                .collect();
            Json(json!({
                "counts": { "pending": count("pending"), "sent": count("sent"), "dead": count("dead") },
                "dead": dead,
            }))
            .into_response()
        }
        (Err(e), _) | (_, Err(e)) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

pub(crate) async fn retry(
    State(state): State<Arc<RelayState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let grant = match admin(&state, &headers) {
        Ok(g) => g,
        Err(refused) => return refused.into_response(),
    };
    let automation = state.automation();
    let store = automation.store();
    let ours = store
        .dead_letters(Some(&grant.workspace))
        .map(|dead| dead.iter().any(|d| d.id == id))
        .unwrap_or(false);
    if !ours {
        return refusal(
            StatusCode::NOT_FOUND,
            "this workspace has no undelivered notification with that id",
        );
    }
    match store.retry_dead(id, now_seconds()) {
        Ok(_) => {
            automation.wake_notifications();
            Json(json!({ "queued": id })).into_response()
        }
        Err(e) => refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
