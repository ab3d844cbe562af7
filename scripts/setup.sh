#!/usr/bin/env bash
# Installs whatever Outpost needs that is missing, and skips what is present.
# Sourced by scripts/run.sh and scripts/test.sh; run it directly to install everything.
#
# - Rust's wasm32-unknown-unknown target          (rustup)
# - Trunk 0.21.14                                  (cargo install, ~10 min once)
# - wasm-bindgen-cli, the version in Cargo.lock    (cargo install, ~3 min once)
# - wasm-opt: binaryen 132 from npm (tools/binaryen), because Debian's binaryen 108 corrupts
#   wasm-bindgen's externref table export and the app fails at start-up
# - Debian: chromium, chromium-driver; python3-aiosmtpd (the SMTP server the notification tests start)
# - npm packages for the end-to-end tests, from the committed lockfile
# - npm packages for the Lighthouse benchmark (bench/lighthouse), from its lockfile
#
# Build output goes to a cache outside the clone (OUTPOST_CACHE, default ~/.cache/outpost) so a
# fresh clone on the same machine rebuilds quickly.

set -euo pipefail

OUTPOST_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export OUTPOST_ROOT
export OUTPOST_CACHE="${OUTPOST_CACHE:-$HOME/.cache/outpost}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$OUTPOST_CACHE/target}"
export PATH="$OUTPOST_ROOT/tools/binaryen/bin:$HOME/.cargo/bin:$PATH"
TRUNK_VERSION="0.21.14"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup: root is needed to run: $*" >&2; return 1
  fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding Rust's wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# ensure_debian_packages COMMAND:PACKAGE ...
ensure_debian_packages() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if ((${#missing[@]})); then
    say "Installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" ||
      { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }
  fi
}

ensure_trunk() {
  if ! trunk --version 2>/dev/null | grep -q " ${TRUNK_VERSION}\$"; then
    say "Installing Trunk ${TRUNK_VERSION} (about 10 minutes, once per machine)"
    cargo install --locked trunk --version "${TRUNK_VERSION}"
  fi
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$OUTPOST_ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
  local want
  want="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " ${want}\$"; then
    say "Installing wasm-bindgen-cli ${want} (about 3 minutes, once per machine)"
    # Not --locked: its lockfile names a crate version the registry does not serve.
    cargo install wasm-bindgen-cli --version "${want}"
  fi
}

CARGO_FUZZ_VERSION=0.13.2

ensure_cargo_fuzz() {
  if ! cargo fuzz --version 2>/dev/null | grep -q " ${CARGO_FUZZ_VERSION}\$"; then
    say "Installing cargo-fuzz ${CARGO_FUZZ_VERSION} (about a minute, once per machine)"
    cargo install --locked cargo-fuzz --version "${CARGO_FUZZ_VERSION}"
  fi
}

# ensure_npm_packages DIR: `npm ci` in DIR unless its lockfile is already installed.
ensure_npm_packages() {
  local dir="$1" stamp want
  stamp="$dir/node_modules/.outpost-lock-sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing npm packages in ${dir#"$OUTPOST_ROOT"/}"
    # npm ci is exact; the fallback (same lockfile) covers optional native packages that npm
    # leaves out of the lock (cbor-x's cbor-extract, which has a pure-JS fallback anyway).
    (cd "$dir" && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
      { echo "setup: npm ci refused the lockfile in ${dir#"$OUTPOST_ROOT"/}; installing from it with npm install" >&2;
        npm install --no-audit --no-fund --loglevel=error; }; })
    echo "$want" > "$stamp"
  fi
}

# What building and running the app needs.
setup_build() {
  ensure_wasm_target
  ensure_npm_packages "$OUTPOST_ROOT/tools/binaryen"
  ensure_trunk
  ensure_wasm_bindgen
}

# Everything, including what the browser and end-to-end tests need.
# What the benchmarks need: the build, Chromium, playwright-core (tests/e2e) and the anchor.
setup_bench() {
  setup_build
  ensure_debian_packages chromium:chromium
  ensure_npm_packages "$OUTPOST_ROOT/tests/e2e"
  ensure_npm_packages "$OUTPOST_ROOT/bench/anchor"
}

setup_all() {
  setup_build
  ensure_debian_packages chromium:chromium chromedriver:chromium-driver aiosmtpd:python3-aiosmtpd
  ensure_cargo_fuzz
  ensure_npm_packages "$OUTPOST_ROOT/tests/e2e"
  ensure_npm_packages "$OUTPOST_ROOT/tests/interop"
  ensure_npm_packages "$OUTPOST_ROOT/bench/lighthouse"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  setup_all
  say "Setup complete"
fi
