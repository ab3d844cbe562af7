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
//! - `GET /answer?t=…` and `POST /answer`: the caller's "It works now" and "Still broken" links
//!   from a resolution mail ([`crate::answer`]); the first shows a page with a button, the
//!   second takes the answer.
//!
//! Every refusal of a sender is JSON naming what is wrong: 401 for a key that is unknown, revoked or for
//! another endpoint; 400 for a body that cannot be read (with the field); 413 above
//! [`BODY_LIMIT`]; 429 with `Retry-After`; 503 when the hub cannot take it now (senders retry).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};

use crate::answer::LinkError;
use crate::payload::Kind;
use crate::{AnswerError, Automation, Refusal};

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
        .route("/answer", get(answer_page).post(answer))
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

/// The token of an answer link, from its query or its form.
#[derive(serde::Deserialize)]
struct Token {
    #[serde(default)]
    t: String,
}

fn answer_status(e: &AnswerError) -> StatusCode {
    match e {
        AnswerError::Link(LinkError::Forged) => StatusCode::FORBIDDEN,
        AnswerError::Link(LinkError::Expired | LinkError::Used) => StatusCode::GONE,
        AnswerError::Refused(_) => StatusCode::CONFLICT,
        AnswerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Opening the link: what it will do, and a button to do it (mail scanners open links; only a
/// person presses the button).
async fn answer_page(State(a): State<Automation>, Query(token): Query<Token>) -> Response {
    match a.answer_claim(&token.t) {
        Ok(claim) => {
            let (question, button) = match claim.answer() {
                Some(outpost_core::notify::CallerAnswer::StillBroken) => (
                    "Is it still not working? We will reopen it and the team will pick it up again.",
                    "Reopen: it is still broken",
                ),
                _ => (
                    "Is it working again? We will close it.",
                    "Close: it works now",
                ),
            };
            let body = format!(
                r#"<p>{question}</p>
<form method="post" action="answer">
<input type="hidden" name="t" value="{token}">
<button type="submit">{button}</button>
</form>"#,
                token = html_escape::encode_double_quoted_attribute(&token.t),
            );
            page(StatusCode::OK, &claim.reference, &body)
        }
        Err(e) => page(
            answer_status(&e),
            "Nothing was done",
            &paragraph(&e.to_string()),
        ),
    }
}

/// Pressing the button.
async fn answer(State(a): State<Automation>, Form(token): Form<Token>) -> Response {
    match a.answer(&token.t).await {
        Ok(said) => page(StatusCode::OK, "Thank you", &paragraph(&said)),
        Err(e) => {
            if matches!(e, AnswerError::Unavailable(_)) {
                tracing::warn!("a caller's answer could not be applied: {e}");
            }
            page(
                answer_status(&e),
                "Nothing was done",
                &paragraph(&e.to_string()),
            )
        }
    }
}

fn paragraph(text: &str) -> String {
    format!("<p>{}</p>", html_escape::encode_text(text))
}

/// A small page of its own (not the app: the caller may have no device signed in).
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let title = html_escape::encode_text(title);
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Outpost</title>
<style>body{{font:1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}button{{font:inherit;padding:.75rem 1.25rem;min-height:44px}}</style>
</head>
<body><main><h1>{title}</h1>
{body}
</main></body></html>"#
    );
    let mut r = (status, Html(html)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}
