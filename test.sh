#!/usr/bin/env bash
# Runs Pharos' whole test suite on a machine that has only the Rust toolchain: installs the
# reference programs the tests compare against (Debian packages) and the UI's npm packages when
# they are missing, then checks formatting and lints, runs every Rust test (unit, integration,
# PromQL conformance, differential tests against the real Prometheus and Alertmanager) and the
# browser tests of the UI.
set -euo pipefail
cd "$(dirname "$0")"

# Reuse one build directory outside the clone, so repeated runs (and CI) build incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pharos/target}"
# Tests that compare against the real Prometheus/Alertmanager fail instead of skipping here.
export PHAROS_REQUIRE_EXTERNAL=1
export PROMQLTEST_DIR="${PROMQLTEST_DIR:-$(cd .. && pwd)/shared/promqltest}"

step() { printf '\n==> %s\n' "$*"; }

install_debian_packages() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
  command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
  command -v prometheus-node-exporter >/dev/null || missing+=(prometheus-node-exporter)
  command -v victoria-metrics >/dev/null || missing+=(victoria-metrics)
  if [ -d crates/web/ui ]; then
    command -v chromium >/dev/null || missing+=(chromium)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packages start their own services where an init system runs; tests start their own.
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter victoria-metrics; do
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
}

install_npm_packages() {
  [ -f crates/web/ui/package-lock.json ] || return 0
  step "installing the UI's npm packages"
  (cd crates/web/ui && npm ci --no-audit --no-fund)
}

install_debian_packages
install_npm_packages

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (every binary: the end-to-end tests run pharos and examples/api-server)"
cargo build --workspace --bins --locked

step "cargo test"
cargo test --workspace --locked --no-fail-fast

step "browser tests (the UI served by pharos server, in Debian's chromium)"
PHAROS_BIN="$CARGO_TARGET_DIR/debug/pharos" crates/web/ui/run-browser-tests.sh
