// Unit tests of the UI's pure logic (time, units, Grafana variables and interpolation, matcher
// parsing, alert regions), bundled from the TypeScript sources with esbuild.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
let m;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-ui-unit-'));
  const entry = path.join(dir, 'entry.ts');
  const src = path.join(here, '../src');
  fs.writeFileSync(
    entry,
    [
      `export * from ${JSON.stringify(path.join(src, 'time.ts'))};`,
      `export * from ${JSON.stringify(path.join(src, 'units.ts'))};`,
      `export * from ${JSON.stringify(path.join(src, 'dashboards/model.ts'))};`,
      `export { alertRegions } from ${JSON.stringify(path.join(src, 'dashboards/annotations.ts'))};`,
      `export { applyOverrides } from ${JSON.stringify(path.join(src, 'dashboards/panels.tsx'))};`,
      `export { errorPosition } from ${JSON.stringify(path.join(src, 'editor.tsx'))};`,
    ].join('\n'),
  );
  const out = path.join(dir, 'bundle.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'error',
    // CommonJS dependencies bundled into ESM still call require().
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    // The editor module pulls in CodeMirror, which needs a DOM only when used.
    loader: { '.css': 'empty' },
  });
  m = await import(pathToFileURL(out).href);
});

test('durations parse and format like Prometheus', () => {
  assert.equal(m.parseDuration('1h30m'), 5_400_000);
  assert.equal(m.parseDuration('250ms'), 250);
  assert.equal(m.parseDuration('15'), 15_000);
  assert.equal(m.parseDuration('1x'), null);
  assert.equal(m.formatDuration(5_400_000), '1h30m');
  assert.equal(m.formatDuration(15_000), '15s');
});

test('relative times resolve against now, with rounding', () => {
  const now = Date.UTC(2024, 0, 10, 12, 34, 56);
  assert.equal(m.resolveTime('now', now), now);
  assert.equal(m.resolveTime('now-6h', now), now - 6 * 3600_000);
  assert.equal(m.resolveTime('now-5m/m', now), Date.UTC(2024, 0, 10, 12, 29, 0));
  assert.equal(m.resolveTime('1704844800000', now), 1704844800000);
  assert.equal(m.resolveTime('now-banana', now), null);
});

test('values format in Grafana units', () => {
  assert.equal(m.formatValue(0.25, 's'), '250 ms');
  assert.equal(m.formatValue(90, 's'), '1.5 min');
  assert.equal(m.formatValue(12.5, 'percent'), '12.5%');
  assert.equal(m.formatValue(0.125, 'percentunit'), '12.5%');
  assert.equal(m.formatValue(1500, 'reqps'), '1.5 K req/s');
  assert.equal(m.formatValue(3 * 1024 * 1024, 'bytes'), '3 MiB');
  assert.equal(m.formatValue(0, 'short'), '0');
  assert.equal(m.formatValue(42, 'short'), '42');
  assert.equal(m.formatValue(null, 'short'), '-');
  assert.equal(m.formatValue(Infinity, 'short'), '+Inf');
});

test('built-in intervals follow Grafana: $__rate_interval >= 4 scrape intervals', () => {
  const b = m.builtins(3600_000, 1000, 15_000);
  assert.equal(b.intervalMs, 15_000);
  assert.equal(b.rateIntervalMs, 60_000);
  const wide = m.builtins(7 * 86400_000, 500, 15_000);
  assert.ok(wide.intervalMs >= (7 * 86400_000) / 500);
  assert.equal(wide.rateIntervalMs, wide.intervalMs + 15_000);
});

test('variables interpolate single, multi and All values and the built-ins', () => {
  const vars = [
    { name: 'job', options: ['api', 'web'], selected: ['api'], allValue: null },
    { name: 'path', options: ['/a', '/b.c'], selected: ['/a', '/b.c'], allValue: null },
    { name: 'ns', options: ['x', 'y'], selected: ['$__all'], allValue: null },
    { name: 'pod', options: ['p'], selected: ['$__all'], allValue: '.*' },
  ];
  const b = { intervalMs: 30_000, rateIntervalMs: 60_000, rangeMs: 3600_000 };
  assert.equal(
    m.interpolate('rate(x{job="$job",path=~"$path"}[$__rate_interval])', vars, b),
    'rate(x{job="api",path=~"(/a|/b\\.c)"}[1m])',
  );
  assert.equal(m.interpolate('x{ns=~"${ns}",pod=~"[[pod]]"}', vars, b), 'x{ns=~"(x|y)",pod=~".*"}');
  assert.equal(m.interpolate('increase(x[$__range]) $__interval ${job:raw} $unknown', vars, b), 'increase(x[1h]) 30s api $unknown');
});

test('legend formats substitute labels', () => {
  assert.equal(m.legendFor('{{path}} {{ status }}', { path: '/a', status: '500' }, 'fb'), '/a 500');
  assert.equal(m.legendFor('', { a: 'b' }, 'fallback'), 'fallback');
  assert.equal(m.legendFor('__auto', { a: 'b' }, 'fallback'), 'fallback');
});

test('thresholds pick the last step at or below the value', () => {
  const steps = [
    { color: 'green', value: null },
    { color: 'orange', value: 80 },
    { color: 'red', value: 90 },
  ];
  assert.equal(m.thresholdColor(steps, 10), m.colorOf('green'));
  assert.equal(m.thresholdColor(steps, 80), m.colorOf('orange'));
  assert.equal(m.thresholdColor(steps, 95), m.colorOf('red'));
  assert.equal(m.thresholdColor(steps, null), m.colorOf('green'));
});

test('panels split into sections by rows, collapsed rows carry their panels, old rows convert', () => {
  const d = {
    panels: [
      { type: 'timeseries', gridPos: { x: 0, y: 0, w: 12, h: 8 } },
      { type: 'row', title: 'R', collapsed: true, gridPos: { x: 0, y: 8, w: 24, h: 1 }, panels: [{ type: 'stat', gridPos: { x: 0, y: 9, w: 6, h: 4 } }] },
      { type: 'stat', gridPos: { x: 30, y: 10, w: 40 } },
    ],
  };
  const s = m.sections(d);
  assert.equal(s.length, 2);
  assert.equal(s[0].row, null);
  assert.equal(s[1].row.title, 'R');
  assert.deepEqual(s[1].panels.map((p) => p.type), ['stat', 'stat']);
  assert.deepEqual(s[1].panels[1].gridPos, { x: 0, y: 10, w: 24, h: 8 }, 'out-of-range positions are clamped');
  const old = m.sections({ rows: [{ title: 'A', height: '300px', panels: [{ type: 'graph', span: 6 }, { type: 'singlestat', span: 6 }] }] });
  assert.deepEqual(old[0].panels.map((p) => p.gridPos), [
    { x: 0, y: 0, w: 12, h: 10 },
    { x: 12, y: 0, w: 12, h: 10 },
  ]);
});

test('custom and constant variables resolve without the API; selections come from the URL', async () => {
  const defs = [
    { name: 'env', type: 'custom', query: 'prod, staging ,dev', includeAll: true, multi: true },
    { name: 'c', type: 'constant', query: 'k' },
    { name: 'lvl', type: 'custom', query: 'low : 1,high : 2' },
  ];
  const vars = await m.resolveVariables(defs, new URLSearchParams('var-env=staging&var-env=dev'), 0, 1);
  assert.deepEqual(vars[0].options, ['prod', 'staging', 'dev']);
  assert.deepEqual(vars[0].selected, ['staging', 'dev']);
  assert.equal(vars[1].hidden, true);
  assert.deepEqual(vars[2].options, ['1', '2']);
  const all = await m.resolveVariables(defs, new URLSearchParams('var-env=All'), 0, 1);
  assert.deepEqual(all[0].selected, ['$__all']);
});

test('ALERTS samples become one region per contiguous run', () => {
  const series = [
    {
      metric: { __name__: 'ALERTS', alertname: 'High', alertstate: 'firing', job: 'api' },
      values: [[100, '1'], [110, '1'], [120, '1'], [200, '1'], [210, '1']],
    },
  ];
  const r = m.alertRegions(series, 10);
  assert.deepEqual(r.map((a) => [a.time, a.end]), [[100, 120], [200, 210]]);
  assert.match(r[0].text, /High firing \(job=api\)/);
});

test('server parse errors map to an offset in the expression', () => {
  assert.deepEqual(m.errorPosition('sum(x', 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis'), { from: 4, to: 5 });
  assert.deepEqual(m.errorPosition('a\nbc d', '2:4: parse error: unexpected identifier "d"'), { from: 5, to: 6 });
  assert.equal(m.errorPosition('x', 'something else'), null);
});

test('field overrides rename, recolor, negate and hide series', () => {
  const data = {
    timestamps: [1, 2],
    series: [
      { label: 'recv eth0', values: [1, 2] },
      { label: 'trans eth0', values: [3, null] },
      { label: 'lo', values: [5, 6] },
    ],
  };
  const out = m.applyOverrides(
    data,
    [
      { matcher: { id: 'byRegexp', options: '/.*trans.*/' }, properties: [{ id: 'custom.transform', value: 'negative-Y' }] },
      { matcher: { id: 'byName', options: 'recv eth0' }, properties: [{ id: 'displayName', value: 'in' }, { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }] },
      { matcher: { id: 'byFrameRefID', options: 'C' }, properties: [{ id: 'custom.hideFrom', value: { viz: true, legend: true } }] },
    ],
    ['A', 'B', 'C'],
  );
  assert.deepEqual(out.series.map((s) => s.label), ['in', 'trans eth0']);
  assert.equal(out.series[0].color, m.colorOf('red'));
  assert.deepEqual(out.series[1].values, [-3, null]);
});
