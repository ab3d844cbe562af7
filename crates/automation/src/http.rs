//! The alert endpoints, as an axum router the relay mounts:
//!
//! - `POST /api/integrations/alertmanager`: Alertmanager's `webhook_config`, with the key as
//!   `http_config.authorization.credentials` (sent as `Authorization: Bearer KEY`);
//! - `POST /api/integrations/grafana`: a Grafana webhook contact point, the key likewise;
//! - `POST /api/integrations/mail`: inbound mail as a mail provider's inbound webhook posts it
//!   (Postmark's JSON), the key likewise; a new mail opens an incident, a reply comments;
//! - `POST /v2/enqueue`: the Events API v2, the key as `routing_key`, answered as PagerDuty
//!   answers (202 `{status, message, dedup_key}`).
//!
//! Every refusal is JSON naming what is wrong: 401 for a key that is unknown, revoked or for
//! another endpoint; 400 for a body that cannot be read (with the field); 413 above
//! [`BODY_LIMIT`]; 429 with `Retry-After`; 503 when the hub cannot take it now (senders retry).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::{Json, Router};

use crate::payload::Kind;
use crate::{Automation, Refusal};

/// The largest body taken: Alertmanager's groups are usually a few kilobytes; 1 MiB holds
/// hundreds of alerts.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The endpoints.
pub fn router(automation: Automation) -> Router {
    Router::new()
        .route(
            "/api/integrations/alertmanager",
            endpoint(Kind::Alertmanager),
        )
        .route("/api/integrations/grafana", endpoint(Kind::Grafana))
        .route("/api/integrations/mail", endpoint(Kind::Mail))
        .route("/v2/enqueue", endpoint(Kind::Events))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(automation)
}

/// The endpoint of one kind of sender: every kind is taken alike.
fn endpoint(kind: Kind) -> MethodRouter<Automation> {
    post(
        move |State(a): State<Automation>,
              headers: HeaderMap,
              body: Result<Bytes, BytesRejection>| take(a, kind, headers, body),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(key.trim())
}

async fn take(
    a: Automation,
    kind: Kind,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                kind,
                "body",
                &format!("the body is larger than {} KiB", BODY_LIMIT / 1024),
            )
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, kind, "body", &e.body_text()),
    };
    match a.deliver(kind, bearer(&headers), &body).await {
        Ok(d) => (StatusCode::ACCEPTED, Json(d.answer)).into_response(),
        Err(Refusal::UnknownKey(why)) => error(StatusCode::UNAUTHORIZED, kind, "key", &why),
        Err(Refusal::Payload(p)) => error(StatusCode::BAD_REQUEST, kind, &p.field, &p.message),
        Err(Refusal::TooMany(seconds)) => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                kind,
                "key",
                &format!("too many deliveries for this integration key; retry after {seconds} s"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            r
        }
        Err(Refusal::Unavailable(why)) => {
            tracing::warn!(kind = kind.key(), "alert delivery not taken: {why}");
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, kind, "relay", &why);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
        Err(Refusal::Refused(why)) => error(StatusCode::UNPROCESSABLE_ENTITY, kind, "rules", &why),
    }
}

/// A refusal: `status` as PagerDuty's (`invalid event`) for a bad event, `error` otherwise,
/// with the field and a message.
fn error(code: StatusCode, kind: Kind, field: &str, message: &str) -> Response {
    let status = if code == StatusCode::BAD_REQUEST && kind == Kind::Events {
        "invalid event"
    } else {
        "error"
    };
    let body = serde_json::json!({
        "status": status,
        "message": message,
        "field": field,
        "errors": [format!("{field}: {message}")],
    });
    (code, Json(body)).into_response()
}
