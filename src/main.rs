//! Mounts the Outpost app. Everything else lives in the library (`lib.rs`).

fn main() {
    outpost::crash::install();
    leptos::mount::mount_to_body(outpost::App);
}
