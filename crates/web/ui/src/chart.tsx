// Time-series chart on uPlot: aligned series, stacked or not, live legend with hover values,
// drag to zoom, threshold lines and annotation markers (alert state changes, deployments).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { formatValue } from './units';
import { formatTime } from './time';
import type { MatrixSeries } from './api';
import { parseValue } from './api';

export const PALETTE = [
  '#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0',
  '#508642', '#cca300', '#447ebc', '#c15c17', '#890f02', '#0a437c', '#6d1f62', '#584477',
  '#b7dbab', '#f4d598', '#70dbed', '#f9ba8f', '#f29191', '#82b5d8', '#e5a8e2', '#aea2e0',
];

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color?: string;
}

export interface ChartAnnotation {
  time: number; // seconds
  end?: number; // seconds, for regions
  text: string;
  color: string;
}

export interface AlignedData {
  timestamps: number[]; // seconds
  series: ChartSeries[];
}

/** Puts range-query series on the common grid start, start+step, ... end (seconds). */
export function alignMatrix(
  result: MatrixSeries[],
  start: number,
  end: number,
  step: number,
  label: (s: MatrixSeries, i: number) => string,
): AlignedData {
  const n = Math.max(0, Math.floor((end - start) / step + 1e-9) + 1);
  const timestamps = Array.from({ length: n }, (_, i) => start + i * step);
  const series = result.map((s, i) => {
    const values: (number | null)[] = new Array(n).fill(null);
    for (const [t, v] of s.values ?? []) {
      const idx = Math.round((t - start) / step);
      if (idx >= 0 && idx < n) {
        const x = parseValue(v);
        values[idx] = Number.isFinite(x) ? x : null;
      }
    }
    return { label: label(s, i), values };
  });
  return { timestamps, series };
}

interface Props {
  data: AlignedData;
  unit?: string;
  decimals?: number;
  stacked?: boolean;
  height?: number;
  min?: number;
  max?: number;
  thresholds?: { value: number; color: string }[];
  annotations?: ChartAnnotation[];
  showLegend?: boolean;
  fill?: number;
  onZoom?: (startMs: number, endMs: number) => void;
}

function stack(series: ChartSeries[]): (number | null)[][] {
  const acc: number[] = [];
  return series.map((s) =>
    s.values.map((v, i) => {
      if (v === null) return null;
      acc[i] = (acc[i] ?? 0) + v;
      return acc[i];
    }),
  );
}

export function TimeChart(props: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const { data, unit = 'short', decimals, stacked = false, height = 260 } = props;
    const colors = data.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
    const ys = stacked ? stack(data.series) : data.series.map((s) => s.values);
    const fillAlpha = props.fill ?? (stacked ? 0.5 : 0.08);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { drag: { x: true, y: false, setScale: false }, focus: { prox: 16 } },
      focus: { alpha: 0.3 },
      legend: { show: props.showLegend !== false, live: true },
      scales: {
        x: { time: true },
        y: {
          range: (_u, lo, hi) => {
            const dataLo = lo !== null && Number.isFinite(lo) ? lo : 0;
            const dataHi = hi !== null && Number.isFinite(hi) ? hi : 1;
            let a = props.min ?? (stacked ? Math.min(0, dataLo) : dataLo);
            let b = props.max ?? Math.max(dataHi, a);
            if (a === b) {
              if (props.min === undefined) a -= 1;
              b += 1;
            }
            const pad = (b - a) * 0.05;
            return [props.min === undefined && a !== 0 ? a - pad : a, props.max === undefined ? b + pad : b];
          },
        },
      },
      axes: [
        { stroke: '#9aa3ad', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.2)' } },
        {
          stroke: '#9aa3ad',
          size: 70,
          grid: { stroke: 'rgba(128,128,128,0.15)' },
          ticks: { stroke: 'rgba(128,128,128,0.2)' },
          values: (_u, vals) => vals.map((v) => formatValue(v, unit, decimals)),
        },
      ],
      series: [
        { label: 'Time', value: (_u, v) => (v == null ? '-' : formatTime(v * 1000)) },
        ...data.series.map((s, i) => ({
          label: s.label,
          stroke: colors[i],
          width: 1.5,
          fill: fillAlpha > 0 ? colors[i] + Math.round(fillAlpha * 255).toString(16).padStart(2, '0') : undefined,
          points: { show: false },
          spanGaps: false,
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
            idx === null ? '-' : formatValue(data.series[i].values[idx], unit, decimals),
        })),
      ],
      bands: stacked ? data.series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) : [],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 5 && props.onZoom) {
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              props.onZoom(Math.round(a * 1000), Math.round(b * 1000));
            } else if (u.select.width > 5) {
              u.setScale('x', {
                min: u.posToVal(u.select.left, 'x'),
                max: u.posToVal(u.select.left + u.select.width, 'x'),
              });
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        draw: [
          (u) => {
            const ctx = u.ctx;
            const { left, top, width, height: h } = u.bbox;
            ctx.save();
            for (const th of props.thresholds ?? []) {
              const y = u.valToPos(th.value, 'y', true);
              if (y < top || y > top + h) continue;
              ctx.strokeStyle = th.color;
              ctx.setLineDash([6, 4]);
              ctx.lineWidth = 1;
              ctx.beginPath();
              ctx.moveTo(left, y);
              ctx.lineTo(left + width, y);
              ctx.stroke();
            }
            ctx.setLineDash([]);
            for (const a of props.annotations ?? []) {
              const x = u.valToPos(a.time, 'x', true);
              if (a.end !== undefined) {
                const x2 = u.valToPos(a.end, 'x', true);
                const l = Math.max(left, x);
                const r = Math.min(left + width, x2);
                if (r > l) {
                  ctx.fillStyle = a.color + '22';
                  ctx.fillRect(l, top, r - l, h);
                }
              }
              if (x < left || x > left + width) continue;
              ctx.strokeStyle = a.color;
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + h);
              ctx.stroke();
            }
            ctx.restore();
            // hoverable markers for annotation texts
            u.over.querySelectorAll('.annot-marker').forEach((m) => m.remove());
            for (const a of props.annotations ?? []) {
              const x = u.valToPos(a.time, 'x');
              if (x < 0 || x > u.over.clientWidth) continue;
              const m = document.createElement('div');
              m.className = 'annot-marker';
              m.style.left = `${x - 5}px`;
              m.style.background = a.color;
              m.title = `${formatTime(a.time * 1000)}\n${a.text}`;
              u.over.appendChild(m);
            }
          },
        ],
      },
    };
    const u = new uPlot(opts, [data.timestamps, ...ys] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [props.data, props.stacked, props.unit, props.height, props.annotations, props.thresholds, props.showLegend]);

  return <div class="chart" ref={ref} />;
}
