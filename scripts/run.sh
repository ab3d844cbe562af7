#!/usr/bin/env bash
# Builds the release app and starts the relay serving it, with its data in ./data.
#   scripts/run.sh                 http://127.0.0.1:8080/
#   scripts/run.sh --port 9000     any relay option: scripts/run.sh -- --help lists them
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build
cd "$OUTPOST_ROOT"

say "Building the app (release; the first build takes several minutes)"
trunk build --release

say "Building the relay"
cargo build --release --locked -p outpost-relay

say "Starting the relay (Ctrl-C stops it)"
# --dev: this machine gets a token for the "default" workspace automatically (the relay says so
# loudly). For real use, issue tokens with `outpost-relay token create`.
exec "$CARGO_TARGET_DIR/release/outpost-relay" --dev --dist "$OUTPOST_ROOT/dist" --data-dir "$OUTPOST_ROOT/data" "$@"
