//! Time-zone tables from the browser's own time-zone database (`Intl`), so the app carries none:
//! when an admin gives a business calendar a zone, its table is made here and travels with the
//! workspace configuration (see `outpost_core::zone`).

use js_sys::{Array, Date, Object, Reflect};
use outpost_core::zone::{parse_gmt_offset, Zone};
use wasm_bindgen::{JsCast, JsValue};

/// The browser's formatter that names the offset of `zone` (`GMT+01:00`), or why there is none.
fn formatter(zone: &str) -> Result<js_sys::Intl::DateTimeFormat, String> {
    let options = Object::new();
    let set = |k: &str, v: &str| Reflect::set(&options, &k.into(), &v.into());
    set("timeZone", zone)
        .and_then(|_| set("timeZoneName", "longOffset"))
        .map_err(|e| format!("{e:?}"))?;
    let constructor = Reflect::get(&js_sys::global(), &"Intl".into())
        .and_then(|intl| Reflect::get(&intl, &"DateTimeFormat".into()))
        .map_err(|e| format!("{e:?}"))?;
    let args = Array::of2(&JsValue::from_str("en-US"), &options);
    let constructor: &js_sys::Function = constructor.unchecked_ref();
    Reflect::construct(constructor, &args)
        .map(JsCast::unchecked_into)
        .map_err(|_| format!("“{zone}” is not a time zone this browser knows (use an IANA name such as Europe/London)."))
}

/// The offset of the formatter's zone at `utc` (milliseconds), in minutes.
fn offset_at(format: &js_sys::Intl::DateTimeFormat, utc: i64) -> Option<i32> {
    let parts = format.format_to_parts(&Date::new(&JsValue::from_f64(utc as f64)));
    parts.iter().find_map(|part| {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        if kind != "timeZoneName" {
            return None;
        }
        parse_gmt_offset(&Reflect::get(&part, &"value".into()).ok()?.as_string()?)
    })
}

/// The table of the IANA zone `name` from `from` to `to` (milliseconds since the epoch), as this
/// browser's time-zone database has it.
pub fn table(name: &str, from: i64, to: i64) -> Result<Zone, String> {
    let format = formatter(name.trim())?;
    let first = offset_at(&format, from)
        .ok_or_else(|| format!("This browser does not say the UTC offset of “{name}”."))?;
    let zone = Zone::tabulate(name.trim(), from, to, |at| {
        offset_at(&format, at).unwrap_or(first)
    });
    zone.check().map_err(|e| e.to_string())?;
    Ok(zone)
}
