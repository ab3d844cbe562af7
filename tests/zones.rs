//! Browser tests for time-zone tables made from the browser's own tzdb (`Intl`, in headless
//! Chromium): London's 2026 changes come out at the right instants, a zone with no daylight
//! saving has none, and an unknown zone is refused with a message.
#![cfg(target_arch = "wasm32")]

use outpost_core::zone::Transition;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn utc(text: &str) -> i64 {
    js_sys::Date::parse(text) as i64
}

#[wasm_bindgen_test]
fn london_changes_where_tzdb_says_and_kolkata_never() {
    let (from, to) = (utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
    let london = outpost::zones::table("Europe/London", from, to).unwrap();
    assert_eq!(
        london.transitions,
        vec![
            Transition {
                at: utc("2026-03-29T01:00:00Z"),
                offset_minutes: 60
            },
            Transition {
                at: utc("2026-10-25T01:00:00Z"),
                offset_minutes: 0
            },
        ]
    );
    assert_eq!(london.initial_offset_minutes, 0);
    let kolkata = outpost::zones::table("Asia/Kolkata", from, to).unwrap();
    assert!(kolkata.transitions.is_empty());
    assert_eq!(kolkata.initial_offset_minutes, 330);
}

#[wasm_bindgen_test]
fn an_unknown_zone_is_refused_with_what_to_use() {
    let err = outpost::zones::table("Mars/Olympus_Mons", 0, 86_400_000).unwrap_err();
    assert!(
        err.contains("not a time zone") && err.contains("Europe/London"),
        "{err}"
    );
}
