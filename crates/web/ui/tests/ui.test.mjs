// Browser tests of the Pharos UI in Debian's chromium (playwright-core), against PHAROS_URL or a
// dev stack (real Prometheus + Alertmanager behind the web crate's dev server) started here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, setup } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let h;

before(async () => {
  h = await setup();
});

after(async () => {
  await h?.teardown();
});

async function api(p, init) {
  const r = await fetch(h.base + p, init);
  const body = await r.json();
  assert.ok(r.ok, `${p}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** Panels of the visible dashboard: title, type, and whether they show a chart/value/error. */
async function panelStates(page) {
  return page.$$eval('[data-testid=panel]', (els) =>
    els.map((el) => ({
      title: el.getAttribute('data-panel-title'),
      type: el.getAttribute('data-panel-type'),
      chart: !!el.querySelector('.uplot'),
      noData: !!el.querySelector('.no-data'),
      error: el.querySelector('.panel-error')?.textContent ?? null,
      unsupported: !!el.querySelector('[data-testid=unsupported-panel]'),
      text: el.textContent ?? '',
    })),
  );
}

test('the Service overview dashboard shows its four panels with data', async () => {
  const { page } = h;
  await page.goto(`${h.base}/d/service-overview?from=now-15m&to=now`);
  const panels = await eventually(
    async () => {
      await page.click('[data-testid=refresh]');
      await page.waitForTimeout(1500);
      const ps = await panelStates(page);
      return ps.length === 4 && ps.every((p) => p.chart && !p.noData && !p.error) ? ps : null;
    },
    { timeoutMs: 90000, intervalMs: 2000, what: 'four panels with data' },
  ).catch(async (e) => {
    await h.shot('dashboard-failed');
    throw new Error(`${e.message}: ${JSON.stringify(await panelStates(page))}`);
  });
  assert.deepEqual(
    panels.map((p) => p.title),
    ['Request rate by path', 'Error rate', 'P99 latency', 'Pod restarts'],
  );
  // The request-rate legend lists the demo service's paths.
  const legend = await page.textContent('[data-panel-title="Request rate by path"] .u-legend');
  for (const p of ['/api/users', '/api/orders', '/healthz']) assert.ok(legend.includes(p), `legend has ${p}: ${legend}`);
  await h.shot('dashboard');
});

test('a deployment annotation shows on the dashboard time series', async () => {
  const { page } = h;
  const version = `v${Date.now()}`;
  await api('/api/pharos/v1/annotations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ service: 'demo-api', version, time: Date.now() / 1000 - 30, text: 'browser test deploy' }),
  });
  const listed = await api(`/api/pharos/v1/annotations?start=${Math.floor(Date.now() / 1000) - 120}`);
  assert.ok(listed.data.some((a) => a.version === version));
  await page.goto(`${h.base}/d/service-overview?from=now-15m&to=now`);
  await eventually(async () => (await page.$$(`.annot-marker[title*="${version}"]`)).length >= 4, {
    timeoutMs: 30000,
    what: 'deployment markers on all four panels',
  });
});

test('the query explorer completes metric names, runs a query and draws the graph', async () => {
  const { page } = h;
  await page.goto(`${h.base}/graph`);
  await page.click('.cm-content');
  await page.keyboard.type('http_requests_to');
  const option = await page.waitForSelector('.cm-tooltip-autocomplete li:has-text("http_requests_total")', { timeout: 15000 });
  assert.ok(option);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText('sum by (path) (rate(http_requests_total[1m]))');
  await page.click('[data-testid=execute]');
  await page.waitForSelector('[data-testid=result] .uplot', { timeout: 30000 });
  const legend = await page.textContent('[data-testid=result] .u-legend');
  assert.ok(legend.includes('/api/users'), legend);
  await h.shot('explorer-graph');

  await page.click('.tabs button:has-text("Table")');
  await page.waitForSelector('[data-testid=result-table]');
  const rows = await page.$$('[data-testid=result-table] tbody tr');
  assert.equal(rows.length, 3);
  await h.shot('explorer-table');
});

test('the query explorer shows a parse error at its position', async () => {
  const { page } = h;
  await page.goto(`${h.base}/graph`);
  await page.click('.cm-content');
  await page.keyboard.insertText('sum(rate(http_requests_total[1m])) by (path) +');
  await page.click('[data-testid=execute]');
  const err = await page.waitForSelector('[data-testid=query-error]', { timeout: 15000 });
  const text = await err.textContent();
  assert.match(text, /parse error/);
  assert.ok(await page.$('[data-testid=query-error] .error-caret'), 'caret under the error position');
  await h.shot('explorer-error');
});

test('a firing alert is shown with labels, annotations and its runbook link', async () => {
  const { page } = h;
  const rule = await eventually(
    async () => {
      await page.goto(`${h.base}/alerts`);
      const el = await page.waitForSelector('[data-testid=alert-rule]:has-text("HighErrorRate")', { timeout: 5000 });
      return (await el.$('.badge-firing')) ? el : null;
    },
    { timeoutMs: 90000, intervalMs: 2000, what: 'HighErrorRate firing' },
  );
  const text = await rule.textContent();
  assert.match(text, /severity="page"/);
  assert.match(text, /of requests with 5xx/);
  const runbook = await rule.$('a:has-text("Runbook")');
  assert.equal(await runbook.getAttribute('href'), 'https://runbooks.example.invalid/high-error-rate');
  await h.shot('alerts');
});

test('a silence is created from an alert, previews it, and is expired', async () => {
  const { page } = h;
  await page.goto(`${h.base}/alerts`);
  await page.click('[data-testid=alert-rule]:has-text("HighErrorRate") [data-testid=silence-alert]');
  await page.waitForSelector('[data-testid=silence-form]');
  const names = await page.$$eval('[data-testid=matcher-name]', (els) => els.map((e) => e.value));
  const values = await page.$$eval('[data-testid=matcher-value]', (els) => els.map((e) => e.value));
  assert.ok(names.includes('alertname') && values.includes('HighErrorRate'), `${names} ${values}`);
  await page.waitForSelector('[data-testid=silence-preview] .preview-alert', { timeout: 15000 });
  const comment = `browser test ${Date.now()}`;
  await page.fill('[data-testid=silence-author]', 'browser-test');
  await page.fill('[data-testid=silence-comment]', comment);
  await page.fill('[data-testid=silence-duration]', '1h');
  await h.shot('silence-form');
  await page.click('[data-testid=silence-submit]');
  const item = await page.waitForSelector(`[data-testid=silence-item]:has-text("${comment}")`, { timeout: 15000 });
  assert.ok(await item.$('.badge-active'));
  const id = await item.getAttribute('data-silence-id');
  const silences = await api('/api/v2/silences');
  const created = silences.find((s) => s.id === id);
  assert.equal(created?.status.state, 'active');
  assert.equal(created.comment, comment);
  await h.shot('silences');

  await (await item.$('[data-testid=expire-silence]')).click();
  await eventually(async () => !(await page.$(`[data-testid=silence-item]:has-text("${comment}")`)), {
    timeoutMs: 15000,
    what: 'silence gone from the active list',
  });
  await page.click('[data-testid=tab-expired]');
  await page.waitForSelector(`[data-testid=silence-item]:has-text("${comment}") .badge-expired`, { timeout: 15000 });
  const after = (await api('/api/v2/silences')).find((s) => s.id === id);
  assert.equal(after.status.state, 'expired');
});

test('a Grafana node-exporter dashboard imports and renders its supported panels', async () => {
  const { page } = h;
  const json = fs.readFileSync(path.join(here, 'fixtures/node-exporter-dashboard.json'), 'utf8');
  await page.goto(`${h.base}/dashboards/import`);
  await page.fill('[data-testid=import-json]', json);
  await page.check('text=Overwrite an imported dashboard');
  await page.click('[data-testid=import-submit]');
  await page.waitForURL(/\/d\/rYdddlPWk/, { timeout: 15000 });
  const states = await eventually(
    async () => {
      await page.click('[data-testid=refresh]');
      await page.waitForTimeout(1500);
      const ps = await panelStates(page);
      const supported = ps.filter((p) => !p.unsupported && p.type !== 'text');
      const ok = supported.length > 0 && supported.every((p) => !p.error && !p.noData && (p.type !== 'timeseries' || p.chart));
      return ok ? ps : null;
    },
    { timeoutMs: 60000, intervalMs: 2000, what: 'imported panels with data' },
  );
  const unsupported = states.filter((p) => p.unsupported).map((p) => p.type).sort();
  assert.deepEqual(unsupported, ['alertlist', 'piechart']);
  for (const p of states.filter((s) => s.unsupported)) assert.match(p.text, /is not supported by Pharos/);
  const types = new Set(states.map((p) => p.type));
  for (const t of ['gauge', 'bargauge', 'stat', 'timeseries', 'table', 'text']) assert.ok(types.has(t), `renders a ${t} panel`);
  const memLegend = await page.textContent('[data-panel-title="Memory Basic"] .legend-table');
  for (const w of ['Mean', 'Max', 'RAM Total', 'GiB']) assert.ok(memLegend.includes(w), `legend table has ${w}: ${memLegend}`);
  const about = states.find((p) => p.title === 'About');
  assert.match(about.text, /Node Exporter/);
  await h.shot('imported-dashboard');

  // The collapsed row holds a timeseries and a heatmap; expanding it renders both.
  await page.click('[data-testid=row]:has-text("CPU / Memory / Net / Disk")');
  await page.waitForSelector('[data-panel-type=heatmap] [data-testid=heatmap]', { timeout: 15000 });
  await eventually(
    async () => {
      const ps = await panelStates(page);
      const cpu = ps.find((p) => p.title === 'CPU');
      return cpu && cpu.chart;
    },
    { timeoutMs: 30000, what: 'CPU panel in the expanded row' },
  );
  const list = await api('/api/pharos/v1/dashboards');
  assert.ok(list.data.some((d) => d.uid === 'rYdddlPWk' && d.source === 'imported'));
});

test('targets, rules and status pages show the server state', async () => {
  const { page } = h;
  await page.goto(`${h.base}/targets`);
  await page.waitForSelector('[data-testid=target-row]');
  const targets = await page.$$eval('[data-testid=target-row]', (rows) => rows.map((r) => r.textContent));
  assert.ok(targets.some((t) => t.includes('demo-api') && t.includes('up')), targets.join('\n'));
  await h.shot('targets');

  await page.goto(`${h.base}/rules`);
  await page.waitForSelector('[data-testid=rule-row]:has-text("HighErrorRate")');
  await page.waitForSelector('[data-testid=rule-row]:has-text("job:http_requests:rate1m")');
  await h.shot('rules');

  await page.goto(`${h.base}/status`);
  await page.waitForSelector('#build table');
  await page.waitForSelector('#tsdb table');
  await page.waitForSelector('#config pre.config');
  assert.match(await page.textContent('#config pre.config'), /scrape_configs/);
  await h.shot('status');
});

test('no uncaught errors in the page', () => {
  assert.deepEqual(h.consoleErrors, []);
});
