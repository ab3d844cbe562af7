//! Mounts the Outpost app. Everything else lives in the library (`lib.rs`).

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(outpost::App);
}
