#!/usr/bin/env bash
# Runs every benchmark, Outpost beside the official JavaScript automerge-repo, and prints the table
# (and writes it as JSON to bench/results/latest.json). Installs and builds whatever is missing
# first, like scripts/test.sh. Arguments go to bench/run.mjs (--quick: smaller and shorter).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_bench
cd "$OUTPOST_ROOT"

say "Release build of the app, the relay and the benchmark driver"
trunk build --release
cargo build --release --locked -p outpost-relay -p outpost-bench

say "Benchmarks (about 14 minutes; nothing else should run on this machine meanwhile)"
OUTPOST_RELAY="$CARGO_TARGET_DIR/release/outpost-relay" OUTPOST_DIST="$OUTPOST_ROOT/dist" \
  OUTPOST_BENCH="$CARGO_TARGET_DIR/release/outpost-bench" node bench/run.mjs "$@"
