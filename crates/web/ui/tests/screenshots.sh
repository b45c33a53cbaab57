#!/usr/bin/env bash
# Copies the Service overview screenshot taken by the browser tests to docs/img/dashboard.png
# (committed, shown in the README). Run the browser tests first.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../../.." && pwd)"
src="${PHAROS_UI_ARTIFACTS:-$repo/tests/e2e/artifacts/ui}/dashboard.png"
[ -f "$src" ] || { echo "no $src: run crates/web/ui/run-browser-tests.sh first" >&2; exit 1; }
mkdir -p "$repo/docs/img"
cp "$src" "$repo/docs/img/dashboard.png"
echo "copied $src to docs/img/dashboard.png"
