#!/usr/bin/env bash
# Fuzzes the protocol code that reads what peers send: the wire decoder and the relay's hub.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30; scripts/test.sh runs it briefly)
#
# cargo fuzz (libFuzzer) on the machine's stable toolchain: RUSTC_BOOTSTRAP lets stable rustc take
# the -Z flags cargo fuzz passes, since only one toolchain can be installed here. No sanitizer:
# the code is safe Rust, so what the fuzzer looks for is panics and broken round trips, and the
# instrumented build stays a few minutes. The growing corpus lives in the cache, outside the
# clone, seeded from fuzz/seeds; a crash leaves its input in fuzz/artifacts and fails the run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_cargo_fuzz
cd "$OUTPOST_ROOT/fuzz"

SECONDS_PER_TARGET="${1:-30}"
FUZZ_TARGET_DIR="$OUTPOST_CACHE/fuzz-target"
export RUSTC_BOOTSTRAP=1

for target in wire_decode hub_frames; do
  corpus="$OUTPOST_CACHE/fuzz-corpus/$target"
  mkdir -p "$corpus"
  cp -n seeds/"$target"/* "$corpus"/
  say "Fuzzing $target for ${SECONDS_PER_TARGET}s"
  log="$(mktemp)"
  if ! cargo fuzz run --sanitizer none --target-dir "$FUZZ_TARGET_DIR" "$target" "$corpus" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
  rm -f "$log"
done
say "Fuzzing found nothing"
