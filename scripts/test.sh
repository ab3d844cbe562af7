#!/usr/bin/env bash
# Runs every check and test: formatting, lints (native and wasm32), native unit and property
# tests, browser tests in headless Chromium, and end-to-end tests against the release build
# served by the real relay. Installs whatever is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_all
cd "$OUTPOST_ROOT"

WASM_CRATES=(-p outpost -p outpost-core -p outpost-sync)

say "Formatting"
cargo fmt --all --check

say "Lints, native"
cargo clippy --locked --workspace --all-targets -- -D warnings

say "Lints, wasm32"
cargo clippy --locked "${WASM_CRATES[@]}" --all-targets --target wasm32-unknown-unknown -- -D warnings

say "Native tests (unit, property, integration)"
cargo test --locked --workspace

say "Fuzzing the wire decoder and the relay's hub (a short run)"
bash "$OUTPOST_ROOT/scripts/fuzz.sh" "${OUTPOST_FUZZ_SECONDS:-30}"

say "Browser tests (wasm-bindgen-test, headless Chromium)"
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 \
  cargo test --locked -p outpost --target wasm32-unknown-unknown

say "Release build of the app and the relay, and the native peers (test peer, seeder)"
trunk build --release
cargo build --release --locked -p outpost-relay -p outpost-peer -p outpost-bench

say "End-to-end tests (Playwright, release build, real relay)"
(cd tests/e2e && OUTPOST_RELAY="$CARGO_TARGET_DIR/release/outpost-relay" OUTPOST_DIST="$OUTPOST_ROOT/dist" \
  OUTPOST_BENCH="$CARGO_TARGET_DIR/release/outpost-bench" node --test --test-reporter=spec)

say "Interoperability tests (the official npm automerge-repo as a real peer)"
(cd tests/interop && OUTPOST_RELAY="$CARGO_TARGET_DIR/release/outpost-relay" OUTPOST_DIST="$OUTPOST_ROOT/dist" \
  OUTPOST_PEER="$CARGO_TARGET_DIR/release/outpost-peer" node --test --test-reporter=spec)

say "All tests passed"
