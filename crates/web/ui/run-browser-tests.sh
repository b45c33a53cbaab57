#!/usr/bin/env bash
# Browser tests of the Pharos web UI in Debian's chromium, driven by playwright-core.
#
# Against a running Pharos:   PHAROS_URL=http://127.0.0.1:9090 crates/web/ui/run-browser-tests.sh
# Without PHAROS_URL, a dev stack is started on loopback: the demo service, node exporter, the
# real prometheus and prometheus-alertmanager, and the web crate's dev_server in front of them.
# The server under test must scrape tests/fixtures/demo-service.mjs (job "demo-api") and the node
# exporter (job "node") and load tests/fixtures/rules.yml; see tests/dev-stack.mjs for the config.
# Screenshots go to tests/e2e/artifacts/ui/ at the repository root.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if [ -z "${PHAROS_URL:-}" ]; then
  for bin in prometheus prometheus-alertmanager prometheus-node-exporter; do
    if [ ! -x "/usr/bin/$bin" ]; then
      apt-get update -qq && apt-get install -y -qq prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null
      break
    fi
  done
fi
npm ci --no-audit --no-fund >/dev/null
if [ -z "${PHAROS_URL:-}" ] && [ -z "${PHAROS_WEB_DEV_SERVER:-}" ]; then
  # The dev server embeds ui/dist, so build the UI first.
  npm run build >/dev/null
fi
exec node --test tests/unit.test.mjs tests/ui.test.mjs
