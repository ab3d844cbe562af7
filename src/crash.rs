//! What a person sees when the app hits an internal error (a panic).
//!
//! The release build aborts on a panic, so after one the module cannot run again: any half-drawn
//! page would stay dead to every tap. The panic hook therefore replaces the whole page with a
//! plain message and a Reload button that works without the module (a form that asks for the
//! same address again), and keeps the error text in localStorage for a bug report; Settings
//! shows it. Saved work is in IndexedDB and is safe; the hook touches nothing there.
//!
//! Everything here is fallible and never panics itself: a panic inside the hook aborts at once.

use wasm_bindgen::JsValue;
use web_sys::{Document, Element};

/// localStorage key of the last internal error's report.
pub const LAST_ERROR_KEY: &str = "outpost.last-error";

/// Installs the panic hook (once, at start).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let report = format!(
            "Outpost {} at {}\n{}\n{}",
            env!("CARGO_PKG_VERSION"),
            js_sys::Date::new_0().to_iso_string(),
            web_sys::window()
                .and_then(|w| w.location().href().ok())
                .unwrap_or_default(),
            info
        );
        keep(&report);
        let _ = show(&report);
    }));
}

/// The last internal error's report, if one was kept.
pub fn last_report() -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(LAST_ERROR_KEY)
        .ok()?
}

/// Forgets the kept report.
pub fn clear_report() {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.remove_item(LAST_ERROR_KEY);
    }
}

fn keep(report: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(LAST_ERROR_KEY, report);
    }
}

/// A new `tag` element with `text`, appended to `parent`.
fn add(
    doc: &Document,
    parent: &Element,
    tag: &str,
    text: Option<&str>,
) -> Result<Element, JsValue> {
    let el = doc.create_element(tag)?;
    if let Some(text) = text {
        el.set_text_content(Some(text));
    }
    parent.append_child(&el)?;
    Ok(el)
}

/// Replaces the page with the message.
fn show(report: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let doc = window.document().ok_or("no document")?;
    let body = doc.body().ok_or("no body")?;
    let location = window.location();
    body.set_text_content(None);
    render(
        &doc,
        &body,
        report,
        &location.pathname()?,
        &location.search()?,
    )?;
    doc.set_title("Internal error · Outpost");
    Ok(())
}

/// Appends the message to `into`: what went wrong, a Reload button that asks for `path` and
/// `search` again without the module (a GET form), and `report`.
pub fn render(
    doc: &Document,
    into: &Element,
    report: &str,
    path: &str,
    search: &str,
) -> Result<(), JsValue> {
    let main = add(doc, into, "main", None)?;
    main.set_class_name("app-main crash");
    main.set_attribute("role", "alert")?;
    add(doc, &main, "h1", Some("Outpost hit an internal error"))?;
    add(
        doc,
        &main,
        "p",
        Some("Your saved work is safe on this device. Reload to go on working; the changes you saved will be there."),
    )?;

    // A form, not a script: the module has stopped, and a GET of the same address reloads.
    let form = add(doc, &main, "form", None)?;
    form.set_attribute("method", "get")?;
    form.set_attribute("action", path)?;
    for (name, value) in query_pairs(search) {
        let hidden = add(doc, &form, "input", None)?;
        hidden.set_attribute("type", "hidden")?;
        hidden.set_attribute("name", &name)?;
        hidden.set_attribute("value", &value)?;
    }
    add(doc, &form, "button", Some("Reload"))?.set_attribute("type", "submit")?;

    let details = add(doc, &main, "details", None)?;
    add(
        doc,
        &details,
        "summary",
        Some("Error details for a bug report"),
    )?;
    add(
        doc,
        &details,
        "p",
        Some("Outpost keeps these details in Settings until you clear them."),
    )?;
    add(doc, &details, "pre", Some(report))?;
    Ok(())
}

/// `(name, value)` pairs of a query string (`?a=1&b=two%20words`).
fn query_pairs(search: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        js_sys::decode_uri_component(&s.replace('+', " "))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (decode(name), decode(value))
        })
        .collect()
}
