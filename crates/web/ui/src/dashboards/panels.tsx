// Dashboard panels: timeseries, stat, gauge, bargauge, table, heatmap, text and a placeholder
// for unsupported types. Each panel runs its own queries with the dashboard's variables.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, formatLabels, parseValue, prom, type MatrixSeries, type VectorSample } from '../api';
import { TimeChart, alignMatrix, PALETTE, type AlignedData, type ChartAnnotation } from '../chart';
import { formatValue } from '../units';
import { builtins, colorOf, interpolate, legendFor, thresholdColor, type Panel, type VarState } from './model';
import { renderMarkdown, sanitizeHtml } from './text';

export interface PanelContext {
  vars: VarState[];
  startMs: number;
  endMs: number;
  scrapeMs: number;
  tick: number; // bumps on refresh
  annotations: ChartAnnotation[];
  onZoom: (startMs: number, endMs: number) => void;
}

const SUPPORTED = new Set(['timeseries', 'graph', 'stat', 'singlestat', 'gauge', 'bargauge', 'table', 'table-old', 'heatmap', 'text']);

interface SeriesOut {
  refId: string;
  legend: string;
  metric: Record<string, string>;
  values: [number, number][]; // [seconds, value]
}

interface PanelData {
  series: SeriesOut[];
  start: number;
  end: number;
  step: number;
  errors: string[];
}

function unitOf(p: Panel): string {
  return p.fieldConfig?.defaults?.unit ?? p.yaxes?.[0]?.format ?? p.format ?? 'short';
}

function usePanelData(p: Panel, ctx: PanelContext, instant: boolean): { data?: PanelData; loading: boolean } {
  const [state, setState] = useState<{ data?: PanelData; loading: boolean }>({ loading: true });
  const width = Math.max(100, Math.round((window.innerWidth * p.gridPos.w) / 24));
  const key = JSON.stringify([p.targets, ctx.vars.map((v) => [v.name, v.selected, v.options.length]), ctx.startMs, ctx.endMs, ctx.tick, instant]);
  const seq = useRef(0);
  useEffect(() => {
    const my = ++seq.current;
    const rangeMs = Math.max(1000, ctx.endMs - ctx.startMs);
    const b = builtins(rangeMs, p.maxDataPoints ?? width, ctx.scrapeMs, p.interval);
    const step = b.intervalMs / 1000;
    const end = Math.floor(ctx.endMs / 1000 / step) * step;
    const start = Math.floor(ctx.startMs / 1000 / step) * step;
    const targets = (p.targets ?? []).filter((t) => !t.hide && t.expr && t.expr.trim());
    setState((s) => ({ ...s, loading: true }));
    Promise.all(
      targets.map(async (t, ti) => {
        const expr = interpolate(t.expr ?? '', ctx.vars, b);
        const refId = t.refId ?? String.fromCharCode(65 + ti);
        const useInstant = instant || (t.instant === true && t.range !== true);
        try {
          if (useInstant) {
            const d = await prom<{ resultType: string; result: any }>('query', { query: expr, time: ctx.endMs / 1000 }, true);
            const vec: VectorSample[] = d.resultType === 'vector' ? d.result : d.resultType === 'scalar' ? [{ metric: {}, value: d.result }] : [];
            return vec.map((s) => ({
              refId,
              metric: s.metric,
              legend: legendFor(t.legendFormat, s.metric, formatLabels(s.metric)),
              values: s.value ? [[s.value[0], parseValue(s.value[1])] as [number, number]] : [],
            }));
          }
          const d = await prom<{ resultType: string; result: MatrixSeries[] }>('query_range', { query: expr, start, end, step }, true);
          return (d.result ?? []).map((s) => ({
            refId,
            metric: s.metric,
            legend: legendFor(t.legendFormat, s.metric, formatLabels(s.metric)),
            values: (s.values ?? []).map(([ts, v]) => [ts, parseValue(v)] as [number, number]),
          }));
        } catch (e) {
          throw new Error(`${refId}: ${e instanceof ApiError ? e.message : String(e)}`);
        }
      }).map((pr) => pr.then((r) => ({ ok: r, err: null as string | null }), (e) => ({ ok: [] as SeriesOut[], err: String(e.message ?? e) }))),
    ).then((results) => {
      if (my !== seq.current) return;
      setState({
        loading: false,
        data: {
          series: results.flatMap((r) => r.ok),
          errors: results.map((r) => r.err).filter((e): e is string => !!e),
          start,
          end,
          step,
        },
      });
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

type Calc = 'lastNotNull' | 'last' | 'firstNotNull' | 'first' | 'mean' | 'max' | 'min' | 'sum' | 'count' | 'range' | 'delta';

/**
 * Grafana field overrides on time series: matchers byName, byRegexp, byFrameRefID; properties
 * displayName, color (fixed), custom.transform negative-Y, custom.hideFrom.viz. Others are ignored.
 */
export function applyOverrides(data: AlignedData, overrides: any[], refIds: string[]): AlignedData {
  if (!Array.isArray(overrides) || !overrides.length) return data;
  const series = data.series.map((s, i) => {
    let out = { ...s };
    let hidden = false;
    for (const o of overrides) {
      const id = o?.matcher?.id;
      const opt = o?.matcher?.options;
      let hit = false;
      if (id === 'byName') hit = s.label === opt;
      else if (id === 'byFrameRefID') hit = refIds[i] === opt;
      else if (id === 'byRegexp' && typeof opt === 'string') {
        const m = /^\/(.*)\/([a-z]*)$/s.exec(opt);
        try {
          hit = (m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(`^(?:${opt})$`)).test(s.label);
        } catch {
          hit = false;
        }
      }
      if (!hit) continue;
      for (const prop of o.properties ?? []) {
        if (prop.id === 'displayName' && typeof prop.value === 'string') out.label = prop.value;
        else if (prop.id === 'color' && prop.value?.fixedColor) out.color = colorOf(prop.value.fixedColor);
        else if (prop.id === 'custom.transform' && prop.value === 'negative-Y')
          out = { ...out, values: out.values.map((v) => (v === null ? null : -v)) };
        else if (prop.id === 'custom.hideFrom' && prop.value?.viz) hidden = true;
      }
    }
    return hidden ? null : out;
  });
  return { timestamps: data.timestamps, series: series.filter((x): x is NonNullable<typeof x> => x !== null) };
}

const CALC_NAMES: Record<Calc, string> = {
  lastNotNull: 'Last *',
  last: 'Last',
  firstNotNull: 'First *',
  first: 'First',
  mean: 'Mean',
  max: 'Max',
  min: 'Min',
  sum: 'Total',
  count: 'Count',
  range: 'Range',
  delta: 'Delta',
};

function reduce(values: [number, number][], calc: Calc): number | null {
  const xs = values.map((v) => v[1]).filter((v) => !Number.isNaN(v));
  if (!xs.length) return null;
  switch (calc) {
    case 'last':
      return values[values.length - 1][1];
    case 'first':
      return values[0][1];
    case 'firstNotNull':
      return xs[0];
    case 'mean':
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    case 'max':
      return Math.max(...xs);
    case 'min':
      return Math.min(...xs);
    case 'sum':
      return xs.reduce((a, b) => a + b, 0);
    case 'count':
      return xs.length;
    case 'range':
      return Math.max(...xs) - Math.min(...xs);
    case 'delta':
      return xs[xs.length - 1] - xs[0];
    default:
      return xs[xs.length - 1];
  }
}

function calcOf(p: Panel): Calc {
  const c = p.options?.reduceOptions?.calcs?.[0] ?? (p as any).valueName;
  const map: Record<string, Calc> = { current: 'lastNotNull', avg: 'mean', total: 'sum' };
  return (map[c] ?? c ?? 'lastNotNull') as Calc;
}

function Reduced(p: Panel, data: PanelData) {
  const calc = calcOf(p);
  return data.series.map((s) => ({ legend: s.legend, value: reduce(s.values, calc) }));
}

function NoData({ errors }: { errors?: string[] }) {
  if (errors && errors.length) return <div class="panel-error">{errors.join('\n')}</div>;
  return <div class="no-data">No data</div>;
}

function TimeseriesPanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const { data } = usePanelData(p, ctx, false);
  const unit = unitOf(p);
  const d = p.fieldConfig?.defaults ?? {};
  const aligned: AlignedData | null = useMemo(() => {
    if (!data || !data.series.length) return null;
    const fake: MatrixSeries[] = data.series.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [t, String(v)]) }));
    const out = alignMatrix(fake, data.start, data.end, data.step, (_s, i) => data.series[i].legend);
    return applyOverrides(out, p.fieldConfig?.overrides ?? [], data.series.map((x) => x.refId));
  }, [data]);
  const thresholds = useMemo(() => {
    const style = (d.custom as any)?.thresholdsStyle?.mode;
    if (!style || style === 'off') return [];
    return (d.thresholds?.steps ?? []).filter((s) => s.value !== null).map((s) => ({ value: s.value as number, color: colorOf(s.color) }));
  }, [p]);
  if (!aligned) return <NoData errors={data?.errors} />;
  const stacked = d.custom?.stacking?.mode === 'normal' || p.stack === true;
  const legend = p.options?.legend?.showLegend !== false && p.legend?.show !== false && p.options?.legend?.displayMode !== 'hidden';
  const calcCount = legend ? (p.options?.legend?.calcs ?? []).length : 0;
  const legendPx = !legend ? 0 : calcCount ? 20 + 17 * aligned.series.length : Math.min(80, 22 * Math.ceil(aligned.series.length / 3));
  const h = Math.max(60, p.gridPos.h * 38 - 40 - Math.min(legendPx, p.gridPos.h * 19));
  const fill = d.custom?.fillOpacity !== undefined ? d.custom.fillOpacity / 100 : undefined;
  const calcs: Calc[] = legend ? (p.options?.legend?.calcs ?? []).filter((c: string) => CALC_NAMES[c as Calc]) : [];
  const min = typeof d.min === 'number' ? d.min : undefined;
  const max = typeof d.max === 'number' ? d.max : undefined;
  return (
    <>
      {data && data.errors.length > 0 && <div class="panel-error small">{data.errors.join('\n')}</div>}
      <TimeChart
        data={aligned}
        unit={unit}
        decimals={d.decimals}
        stacked={stacked}
        height={h}
        min={min}
        max={max}
        fill={fill}
        thresholds={thresholds}
        annotations={ctx.annotations}
        showLegend={legend && calcs.length === 0}
        onZoom={ctx.onZoom}
      />
      {calcs.length > 0 && (
        <table class="legend-table">
          <thead>
            <tr>
              <th />
              {calcs.map((c) => (
                <th>{CALC_NAMES[c]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {aligned.series.map((s, i) => {
              const pairs = s.values.flatMap((v, j) => (v === null ? [] : [[aligned.timestamps[j], v] as [number, number]]));
              return (
                <tr>
                  <td>
                    <span class="legend-swatch" style={{ background: s.color ?? PALETTE[i % PALETTE.length] }} />
                    {s.label}
                  </td>
                  {calcs.map((c) => (
                    <td class="num">{formatValue(reduce(pairs, c), unit, d.decimals)}</td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

function StatPanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const { data } = usePanelData(p, ctx, false);
  if (!data || !data.series.length) return <NoData errors={data?.errors} />;
  const d = p.fieldConfig?.defaults ?? {};
  const unit = unitOf(p);
  const values = Reduced(p, data);
  const colorMode = p.options?.colorMode ?? 'value';
  const showName = values.length > 1 && p.options?.textMode !== 'value';
  return (
    <div class="stat-grid">
      {values.map((v) => {
        const color = thresholdColor(d.thresholds?.steps, v.value, d.thresholds?.mode === 'percentage' ? [d.min ?? 0, d.max ?? 100] : undefined);
        const style = colorMode === 'background' ? { background: color, color: '#111' } : colorMode === 'none' ? {} : { color };
        return (
          <div class="stat" style={style} data-testid="stat-value">
            {showName && <div class="stat-name">{v.legend}</div>}
            <div class="stat-value">{formatValue(v.value, unit, d.decimals)}</div>
          </div>
        );
      })}
    </div>
  );
}

function GaugePanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const { data } = usePanelData(p, ctx, false);
  if (!data || !data.series.length) return <NoData errors={data?.errors} />;
  const d = p.fieldConfig?.defaults ?? {};
  const unit = unitOf(p);
  const min = d.min ?? 0;
  const max = d.max ?? (unit === 'percentunit' ? 1 : 100);
  return (
    <div class="stat-grid">
      {Reduced(p, data).map((v) => {
        const frac = v.value === null ? 0 : Math.max(0, Math.min(1, (v.value - min) / (max - min || 1)));
        const color = thresholdColor(d.thresholds?.steps, v.value, d.thresholds?.mode === 'percentage' ? [min, max] : undefined);
        const a0 = Math.PI * 0.8;
        const a1 = a0 + Math.PI * 1.4 * frac;
        const arc = (a: number, b: number) => {
          const r = 40;
          const [x0, y0] = [50 + r * Math.cos(a), 50 + r * Math.sin(a)];
          const [x1, y1] = [50 + r * Math.cos(b), 50 + r * Math.sin(b)];
          return `M ${x0} ${y0} A ${r} ${r} 0 ${b - a > Math.PI ? 1 : 0} 1 ${x1} ${y1}`;
        };
        return (
          <div class="gauge" data-testid="gauge">
            <svg viewBox="0 0 100 90">
              <path d={arc(a0, a0 + Math.PI * 1.4)} stroke="rgba(128,128,128,0.25)" stroke-width="10" fill="none" />
              {frac > 0 && <path d={arc(a0, a1)} stroke={color} stroke-width="10" fill="none" />}
              <text x="50" y="55" text-anchor="middle" fill={color} font-size="13">
                {formatValue(v.value, unit, d.decimals)}
              </text>
            </svg>
            {data.series.length > 1 && <div class="stat-name">{v.legend}</div>}
          </div>
        );
      })}
    </div>
  );
}

function BarGaugePanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const { data } = usePanelData(p, ctx, false);
  if (!data || !data.series.length) return <NoData errors={data?.errors} />;
  const d = p.fieldConfig?.defaults ?? {};
  const unit = unitOf(p);
  const values = Reduced(p, data);
  const min = d.min ?? 0;
  const max = d.max ?? Math.max(...values.map((v) => v.value ?? 0), 1);
  return (
    <div class="bargauge">
      {values.map((v) => {
        const frac = v.value === null ? 0 : Math.max(0, Math.min(1, (v.value - min) / (max - min || 1)));
        const color = thresholdColor(d.thresholds?.steps, v.value, d.thresholds?.mode === 'percentage' ? [min, max] : undefined);
        return (
          <div class="bar-row">
            <div class="bar-name" title={v.legend}>
              {v.legend}
            </div>
            <div class="bar-track">
              <div class="bar-fill" style={{ width: `${frac * 100}%`, background: color }} />
            </div>
            <div class="bar-value" style={{ color }}>
              {formatValue(v.value, unit, d.decimals)}
            </div>
          </div>
        );
      })}
    </div>
  );
}

function TablePanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const { data } = usePanelData(p, ctx, true);
  if (!data || !data.series.length) return <NoData errors={data?.errors} />;
  const unit = unitOf(p);
  const d = p.fieldConfig?.defaults ?? {};
  const labels = [...new Set(data.series.flatMap((s) => Object.keys(s.metric)))].sort();
  const multiRef = new Set(data.series.map((s) => s.refId)).size > 1;
  return (
    <div class="table-wrap">
      <table class="data">
        <thead>
          <tr>
            {labels.map((l) => (
              <th>{l}</th>
            ))}
            <th>{multiRef ? 'Query' : ''}Value</th>
          </tr>
        </thead>
        <tbody>
          {data.series.map((s) => (
            <tr>
              {labels.map((l) => (
                <td>{s.metric[l] ?? ''}</td>
              ))}
              <td class="num">
                {multiRef ? `${s.refId}: ` : ''}
                {formatValue(s.values.length ? s.values[s.values.length - 1][1] : null, unit, d.decimals)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function HeatmapPanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const { data } = usePanelData(p, ctx, false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const buckets = useMemo(() => {
    if (!data) return [];
    const withLe = data.series.filter((s) => s.metric.le !== undefined);
    const list = (withLe.length ? withLe : data.series).map((s) => ({
      name: s.metric.le ?? s.legend,
      le: s.metric.le !== undefined ? parseFloat(s.metric.le) : NaN,
      values: new Map(s.values.map(([t, v]) => [t, v])),
    }));
    list.sort((a, b) => a.le - b.le || a.name.localeCompare(b.name));
    // Cumulative Prometheus buckets -> per-bucket counts.
    if (withLe.length && p.targets?.some((t) => t.format === 'heatmap')) {
      for (let i = list.length - 1; i > 0; i--) {
        for (const [t, v] of list[i].values) list[i].values.set(t, Math.max(0, v - (list[i - 1].values.get(t) ?? 0)));
      }
    }
    return list;
  }, [data]);
  useEffect(() => {
    const c = canvas.current;
    if (!c || !data || !buckets.length) return;
    const w = c.clientWidth;
    const h = c.clientHeight;
    c.width = w * devicePixelRatio;
    c.height = h * devicePixelRatio;
    const g = c.getContext('2d');
    if (!g) return;
    g.scale(devicePixelRatio, devicePixelRatio);
    const n = Math.max(1, Math.round((data.end - data.start) / data.step) + 1);
    let max = 0;
    for (const b of buckets) for (const v of b.values.values()) if (Number.isFinite(v)) max = Math.max(max, v);
    const cw = w / n;
    const ch = h / buckets.length;
    buckets.forEach((b, row) => {
      for (let i = 0; i < n; i++) {
        const v = b.values.get(data.start + i * data.step);
        if (v === undefined || !Number.isFinite(v) || v <= 0) continue;
        const f = max ? v / max : 0;
        g.fillStyle = `hsl(${40 - 40 * f}, 90%, ${75 - 40 * f}%)`;
        g.fillRect(i * cw, h - (row + 1) * ch, Math.ceil(cw), Math.ceil(ch));
      }
    });
  }, [buckets, data]);
  if (!data || !data.series.length) return <NoData errors={data?.errors} />;
  return (
    <div class="heatmap">
      <div class="heatmap-axis">
        {[...buckets].reverse().map((b) => (
          <div>{b.name}</div>
        ))}
      </div>
      <canvas ref={canvas} data-testid="heatmap" />
    </div>
  );
}

function TextPanel({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const content: string = interpolate(p.options?.content ?? p.content ?? '', ctx.vars, null);
  const mode: string = p.options?.mode ?? p.mode ?? 'markdown';
  const html = mode === 'html' ? sanitizeHtml(content) : mode === 'markdown' ? renderMarkdown(content) : null;
  if (html === null) return <pre class="text-panel">{content}</pre>;
  return <div class="text-panel" dangerouslySetInnerHTML={{ __html: html }} />;
}

export function PanelBody({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  switch (p.type) {
    case 'timeseries':
    case 'graph':
      return <TimeseriesPanel p={p} ctx={ctx} />;
    case 'stat':
    case 'singlestat':
      return <StatPanel p={p} ctx={ctx} />;
    case 'gauge':
      return <GaugePanel p={p} ctx={ctx} />;
    case 'bargauge':
      return <BarGaugePanel p={p} ctx={ctx} />;
    case 'table':
    case 'table-old':
      return <TablePanel p={p} ctx={ctx} />;
    case 'heatmap':
      return <HeatmapPanel p={p} ctx={ctx} />;
    case 'text':
      return <TextPanel p={p} ctx={ctx} />;
    default:
      return (
        <div class="placeholder" data-testid="unsupported-panel">
          Panel type <code>{p.type}</code> is not supported by Pharos.
          <br />
          <span class="muted small">Supported: timeseries, stat, gauge, bargauge, table, heatmap, text, row.</span>
        </div>
      );
  }
}

export function PanelFrame({ p, ctx }: { p: Panel; ctx: PanelContext }) {
  const style = {
    gridColumn: `${p.gridPos.x + 1} / span ${p.gridPos.w}`,
    gridRow: `${p.gridPos.y + 1} / span ${p.gridPos.h}`,
  };
  const transparent = (p as any).transparent === true;
  return (
    <div
      class={`panel panel-${SUPPORTED.has(p.type) ? p.type : 'unsupported'}${transparent ? ' transparent' : ''}`}
      style={style}
      data-testid="panel"
      data-panel-type={p.type}
      data-panel-title={p.title ?? ''}
    >
      {p.title && (
        <div class="panel-title" title={p.description ?? ''}>
          {interpolate(p.title, ctx.vars, null)}
        </div>
      )}
      <div class="panel-body">
        <PanelBody p={p} ctx={ctx} />
      </div>
    </div>
  );
}

export { PALETTE };
