//! The relay's HTTP API as the app calls it: who this device is, the audit, reference prefixes,
//! and people (invitations, joining, devices, signing out). Every call names the app's version
//! (`X-Outpost-Version`), so an admin's device list says what each device runs.

use std::collections::HashMap;

use outpost_core::DeviceTime;
use serde_json::{json, Value};
use wasm_bindgen::JsCast;

use crate::settings::Settings;

/// This app's version, as devices report it.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The HTTP base of a relay address (empty: this site).
pub fn http_base(relay: &str) -> String {
    let relay = relay.trim().trim_end_matches('/').trim_end_matches("/sync");
    if relay.is_empty() {
        String::new()
    } else {
        relay
            .replacen("wss://", "https://", 1)
            .replacen("ws://", "http://", 1)
    }
}

/// One change's arrival at the relay, from its audit.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrival {
    /// Who delivered it (the token's user).
    pub user: String,
    /// Their role then.
    pub role: String,
    /// The token's listed id (which device).
    pub device: String,
    /// When it reached the relay.
    pub at: DeviceTime,
}

/// The relay's audit of a document: each change's arrival, by change hash (hex).
pub async fn fetch_arrivals(
    settings: &Settings,
    id: &str,
) -> Result<HashMap<String, Arrival>, String> {
    let url = format!("{}/api/audit/{id}", http_base(&settings.relay_url));
    let (status, body) = fetch_json(&url, Some(settings.token.trim())).await?;
    if status != 200 {
        return Err(body
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("the relay did not answer")
            .to_string());
    }
    let mut out = HashMap::new();
    for a in body["arrivals"].as_array().into_iter().flatten() {
        let text = |k: &str| a[k].as_str().unwrap_or_default().to_string();
        out.insert(
            text("change"),
            Arrival {
                user: text("user"),
                role: text("role"),
                device: text("device"),
                at: DeviceTime::from_millis(a["arrived_at"].as_i64().unwrap_or_default()),
            },
        );
    }
    Ok(out)
}

pub(crate) async fn fetch_json(url: &str, token: Option<&str>) -> Result<(u16, Value), String> {
    request_json("GET", url, token).await
}

pub(crate) async fn request_json(
    method: &str,
    url: &str,
    token: Option<&str>,
) -> Result<(u16, Value), String> {
    send(method, url, token, None).await
}

/// A request to the relay, with `body` as JSON: the status and the answer (`Null` if it was not
/// JSON), or why the relay could not be reached.
async fn send(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let fail = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(fail)?;
    headers
        .set("X-Outpost-Version", APP_VERSION)
        .map_err(fail)?;
    if let Some(token) = token {
        headers
            .set("Authorization", &format!("Bearer {token}"))
            .map_err(fail)?;
    }
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(fail)?;
        init.set_body(&wasm_bindgen::JsValue::from_str(&body.to_string()));
    }
    init.set_headers(&headers);
    let promise = leptos::prelude::window().fetch_with_str_and_init(url, &init);
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| "the relay cannot be reached".to_string())?
        .unchecked_into();
    let status = response.status();
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(fail)?)
        .await
        .map_err(fail)?
        .as_string()
        .unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The error a refusal carries, or `fallback`.
pub fn error_of(body: &Value, fallback: &str) -> String {
    body.get("error")
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_string()
}

/// Calls `path` on the relay of `settings` with its token: the answer when it is 200, else the
/// relay's reason (or that it cannot be reached).
async fn call(
    settings: &Settings,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let url = format!("{}{path}", http_base(&settings.relay_url));
    let (status, answer) = send(method, &url, Some(settings.token.trim()), body.as_ref()).await?;
    if status == 200 {
        Ok(answer)
    } else {
        Err(error_of(&answer, &format!("the relay answered {status}")))
    }
}

/// Invites a person (admin): the answer carries the link and its QR code as SVG.
pub async fn invite(
    settings: &Settings,
    user: &str,
    role: &str,
    groups: &str,
    expires: &str,
) -> Result<Value, String> {
    let base = leptos::prelude::window()
        .location()
        .origin()
        .map_err(|e| format!("{e:?}"))?;
    call(
        settings,
        "POST",
        "/api/invitations",
        Some(json!({
            "user": user, "role": role, "groups": groups, "expires": expires, "base": base,
        })),
    )
    .await
}

/// The workspace's devices (an admin's view), or one's own.
pub async fn devices(settings: &Settings) -> Result<Vec<Value>, String> {
    let answer = call(settings, "GET", "/api/devices", None).await?;
    Ok(answer["devices"].as_array().cloned().unwrap_or_default())
}

/// Revokes a device by its id.
pub async fn revoke_device(settings: &Settings, id: &str) -> Result<(), String> {
    let path = format!("/api/devices/{}/revoke", js_sys::encode_uri_component(id));
    call(settings, "POST", &path, Some(json!({})))
        .await
        .map(|_| ())
}

/// Ends this device's token at the relay.
pub async fn sign_out(settings: &Settings) -> Result<(), String> {
    call(settings, "POST", "/api/sign-out", Some(json!({})))
        .await
        .map(|_| ())
}

/// What an invitation code opens (`Ok`), or why it cannot be used (`Err`), from this site's relay.
pub async fn check_invitation(code: &str) -> Result<Value, String> {
    let (status, answer) = send(
        "POST",
        "/api/join/check",
        None,
        Some(&json!({ "code": code })),
    )
    .await?;
    if status == 200 {
        Ok(answer)
    } else {
        Err(error_of(&answer, "The invitation could not be checked."))
    }
}

/// Joins with an invitation code as a device called `name`: the device's token and grant.
pub async fn join(code: &str, name: &str) -> Result<Value, String> {
    let body = json!({ "code": code, "device_name": name, "app_version": APP_VERSION });
    let (status, answer) = send("POST", "/api/join", None, Some(&body)).await?;
    if status == 200 {
        Ok(answer)
    } else {
        Err(error_of(&answer, "The invitation could not be used."))
    }
}

/// The workspace's integrations (admin): id, kind, name, author, endpoint; never keys.
pub async fn integrations(settings: &Settings) -> Result<Vec<Value>, String> {
    let answer = call(settings, "GET", "/api/integrations", None).await?;
    Ok(answer["integrations"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Makes an integration key (admin); the answer carries the key, shown only now.
pub async fn create_integration(
    settings: &Settings,
    kind: &str,
    name: &str,
) -> Result<Value, String> {
    call(
        settings,
        "POST",
        "/api/integrations",
        Some(json!({ "kind": kind, "name": name })),
    )
    .await
}

/// Revokes an integration by its id (admin).
pub async fn revoke_integration(settings: &Settings, id: &str) -> Result<(), String> {
    let path = format!(
        "/api/integrations/{}/revoke",
        js_sys::encode_uri_component(id)
    );
    call(settings, "POST", &path, Some(json!({})))
        .await
        .map(|_| ())
}

/// The workspace's notifications (admin): counts, and the deliveries given up.
pub async fn notifications(settings: &Settings) -> Result<Value, String> {
    call(settings, "GET", "/api/notifications", None).await
}

/// Puts an undelivered notification back in the queue (admin).
pub async fn retry_notification(settings: &Settings, id: i64) -> Result<(), String> {
    let path = format!("/api/notifications/{id}/retry");
    call(settings, "POST", &path, Some(json!({})))
        .await
        .map(|_| ())
}
