// Dev stack for the UI: the demo service, node exporter, real Prometheus and Alertmanager on
// loopback, and the `web` crate's dev_server (embedded UI + dashboards + a proxy to both APIs).
// `node tests/dev-stack.mjs` runs it until Ctrl-C and prints the URL; the browser tests import
// startStack() when PHAROS_URL is not set. With PHAROS_BIN=path/to/pharos, that binary's
// `pharos server` replaces Prometheus, Alertmanager and the dev server (same config and rules,
// alerts sent to its own Alertmanager API on the same port).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `${r.status}`;
    } catch (e) {
      last = String(e.message ?? e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${url}: ${last}`);
}

function devServerBinary() {
  if (process.env.PHAROS_WEB_DEV_SERVER) return process.env.PHAROS_WEB_DEV_SERVER;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target');
  execFileSync('cargo', ['build', '-q', '-p', 'web', '--example', 'dev_server'], {
    cwd: repo,
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: target },
  });
  return path.join(target, 'debug/examples/dev_server');
}

export async function startStack({ log = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-ui-stack-'));
  const [svc, node, promPort, amPort, web] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const procs = [];
  const start = (name, cmd, args) => {
    const out = fs.openSync(path.join(dir, `${name}.log`), 'w');
    const p = spawn(cmd, args, { stdio: ['ignore', out, out], cwd: dir });
    p.on('error', (e) => console.error(`${name}: ${e.message}`));
    procs.push(p);
    return p;
  };
  const pharosBin = process.env.PHAROS_BIN;
  const binary = pharosBin ? null : devServerBinary();
  const amTarget = pharosBin ? web : amPort;
  const selfPort = pharosBin ? web : promPort;

  fs.copyFileSync(path.join(here, 'fixtures/rules.yml'), path.join(dir, 'rules.yml'));
  fs.copyFileSync(path.join(here, 'fixtures/alertmanager.yml'), path.join(dir, 'alertmanager.yml'));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amTarget}']
scrape_configs:
  - job_name: demo-api
    static_configs:
      - targets: ['127.0.0.1:${svc}']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:${node}']
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${selfPort}']
`,
  );
  const demoArgs = [path.join(here, 'fixtures/demo-service.mjs'), String(svc)];
  const demo = start('demo-service', process.execPath, demoArgs);
  // Restart the demo service once, so the restarts panel has a real restart to show.
  const restart = setTimeout(() => {
    demo.once('exit', () => start('demo-service-2', process.execPath, demoArgs));
    demo.kill('SIGTERM');
  }, 20000);
  start('node-exporter', '/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${node}`]);
  if (pharosBin) {
    start('pharos', pharosBin, [
      'server',
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'pharos-data')}`,
      `--web.listen-address=127.0.0.1:${web}`,
      `--alertmanager.config.file=${path.join(dir, 'alertmanager.yml')}`,
    ]);
  } else {
    start('alertmanager', '/usr/bin/prometheus-alertmanager', [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    start('prometheus', '/usr/bin/prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    start('dev-server', binary, [
      '--listen',
      `127.0.0.1:${web}`,
      '--prometheus',
      `http://127.0.0.1:${promPort}`,
      '--alertmanager',
      `http://127.0.0.1:${amPort}`,
      '--data-dir',
      path.join(dir, 'web-data'),
    ]);
  }
  const stop = () => {
    clearTimeout(restart);
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  };
  try {
    if (!pharosBin) {
      await waitFor(`http://127.0.0.1:${promPort}/-/ready`);
      await waitFor(`http://127.0.0.1:${amPort}/-/ready`);
    }
    await waitFor(`http://127.0.0.1:${web}/api/pharos/v1/dashboards`);
  } catch (e) {
    stop();
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.log'))) {
      console.error(`--- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-2000)}`);
    }
    throw e;
  }
  if (log) console.log(`logs in ${dir}`);
  return { url: `http://127.0.0.1:${web}`, dir, stop };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stack = await startStack({ log: true });
  console.log(`Pharos UI dev stack at ${stack.url}`);
  const bye = () => {
    stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
}
