//! The device's clock and randomness: the only places the app reads either.

use outpost_core::DeviceTime;
use outpost_sync::DocumentId;

/// Now, on this device.
pub fn now() -> DeviceTime {
    DeviceTime::from_millis(js_sys::Date::now() as i64)
}

/// Random bytes from the browser's crypto API.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the browser provides crypto.getRandomValues");
    bytes
}

/// A new document id, shaped as automerge-repo makes them.
pub fn new_document_id() -> DocumentId {
    DocumentId::from_random(random_bytes())
}

/// The browser's offset from UTC in minutes (positive east of Greenwich), for local times.
pub fn local_offset_minutes(at: DeviceTime) -> i32 {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.millis() as f64));
    -(date.get_timezone_offset() as i32)
}
