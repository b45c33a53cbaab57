// The Grafana dashboard JSON model subset Pharos renders: panel normalization (rows, old
// schema), template variables and their interpolation, built-in interval variables.
import { prom } from '../api';
import { autoStep, formatDuration, parseDuration } from '../time';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Target {
  expr?: string;
  legendFormat?: string;
  refId?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  hide?: boolean;
  interval?: string;
}
export interface Threshold {
  color: string;
  value: number | null;
}
export interface FieldDefaults {
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  thresholds?: { mode?: string; steps?: Threshold[] };
  custom?: { stacking?: { mode?: string }; fillOpacity?: number; drawStyle?: string };
  color?: { mode?: string; fixedColor?: string };
}
export interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: GridPos;
  targets?: Target[];
  fieldConfig?: { defaults?: FieldDefaults; overrides?: unknown[] };
  options?: any;
  collapsed?: boolean;
  panels?: Panel[];
  interval?: string;
  maxDataPoints?: number;
  repeat?: string;
  // old graph/singlestat fields
  yaxes?: { format?: string; min?: number | string | null; max?: number | string | null }[];
  format?: string;
  stack?: boolean;
  legend?: { show?: boolean };
  content?: string;
  mode?: string;
}
export interface Variable {
  name: string;
  label?: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  regex?: string;
  current?: { text?: string | string[]; value?: string | string[] };
  options?: { text: string; value: string; selected?: boolean }[];
  hide?: number;
  sort?: number;
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
}
export interface Dashboard {
  uid: string;
  title: string;
  tags?: string[];
  time?: { from: string; to: string };
  refresh?: string | false;
  panels?: Panel[];
  rows?: { title?: string; height?: string | number; panels?: any[]; collapse?: boolean; showTitle?: boolean }[];
  templating?: { list?: Variable[] };
  annotations?: { list?: { builtIn?: number; enable?: boolean; name?: string; type?: string }[] };
}

export interface Section {
  row: Panel | null;
  panels: Panel[];
}

/** Converts a pre-schema-16 `rows` dashboard into panels with grid positions. */
function fromOldRows(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  let y = 0;
  let id = 1000;
  for (const row of d.rows ?? []) {
    const h = Math.max(3, Math.round((parseInt(String(row.height ?? '250'), 10) || 250) / 30));
    if (row.showTitle || (d.rows?.length ?? 0) > 1) {
      out.push({ id: id++, type: 'row', title: row.title ?? '', gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
      y += 1;
    }
    let x = 0;
    for (const p of row.panels ?? []) {
      const w = Math.max(1, Math.min(24, Math.round((p.span ?? 12) * 2)));
      if (x + w > 24) {
        x = 0;
        y += h;
      }
      out.push({ ...p, gridPos: { x, y, w, h } });
      x += w;
    }
    y += h;
  }
  return out;
}

function validPos(p: Panel, fallbackY: number): GridPos {
  const g = p.gridPos ?? ({} as GridPos);
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  const w = Math.max(1, Math.min(24, num(g.w, 12)));
  return { x: Math.max(0, Math.min(24 - w, num(g.x, 0))), y: Math.max(0, num(g.y, fallbackY)), w, h: Math.max(1, num(g.h, 8)) };
}

/** Splits panels into sections headed by row panels; collapsed rows carry their own panels. */
export function sections(d: Dashboard): Section[] {
  const raw = d.panels && d.panels.length ? d.panels : d.rows ? fromOldRows(d) : [];
  const all = raw.map((p, i) => ({ ...p, gridPos: validPos(p, i * 8) }));
  all.sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  const out: Section[] = [{ row: null, panels: [] }];
  for (const p of all) {
    if (p.type === 'row') {
      const nested = (p.panels ?? []).map((q, i) => ({ ...q, gridPos: validPos(q, i * 8) }));
      out.push({ row: p, panels: nested });
    } else {
      out[out.length - 1].panels.push(p);
    }
  }
  return out.filter((s) => s.row || s.panels.length);
}

// ---- variables ----

export interface VarState {
  name: string;
  label: string;
  type: string;
  options: string[];
  selected: string[]; // values; ['$__all'] for All
  multi: boolean;
  includeAll: boolean;
  allValue: string | null;
  hidden: boolean;
  error?: string;
}

export function queryOf(v: Variable): string {
  if (typeof v.query === 'string') return v.query;
  return v.query?.query ?? v.definition ?? '';
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface Builtins {
  intervalMs: number;
  rateIntervalMs: number;
  rangeMs: number;
}

/** Grafana's built-in interval variables for a panel. */
export function builtins(rangeMs: number, maxDataPoints: number, scrapeMs: number, minInterval?: string): Builtins {
  const min = Math.max(scrapeMs, (minInterval && parseDuration(minInterval.replace(/^>/, ''))) || 0);
  const intervalMs = Math.max(autoStep(rangeMs, maxDataPoints, 1), min);
  return { intervalMs, rateIntervalMs: Math.max(intervalMs + scrapeMs, 4 * scrapeMs), rangeMs };
}

/** Expands `$var`, `${var}`, `${var:fmt}`, `[[var]]` and the built-ins in a PromQL expression. */
export function interpolate(expr: string, vars: VarState[], b: Builtins | null): string {
  const byName = new Map(vars.map((v) => [v.name, v]));
  const value = (name: string, fmt?: string): string | null => {
    if (b) {
      switch (name) {
        case '__interval':
          return formatDuration(b.intervalMs);
        case '__interval_ms':
          return String(b.intervalMs);
        case '__rate_interval':
          return formatDuration(b.rateIntervalMs);
        case '__range':
          return formatDuration(Math.round(b.rangeMs / 1000) * 1000);
        case '__range_s':
          return String(Math.round(b.rangeMs / 1000));
        case '__range_ms':
          return String(b.rangeMs);
      }
    }
    const v = byName.get(name);
    if (!v) return null;
    let values = v.selected;
    if (values.includes('$__all')) {
      if (v.allValue) return v.allValue;
      values = v.options;
    }
    if (fmt === 'raw' || (values.length === 1 && fmt !== 'regex' && fmt !== 'pipe')) return values[0] ?? '';
    if (fmt === 'pipe') return values.join('|');
    if (fmt === 'csv') return values.join(',');
    if (values.length === 0) return '';
    const escaped = values.map(regexEscape);
    return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
  };
  return expr.replace(
    /\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)/g,
    (m, a, af, b2, bf, c) => value(a ?? b2 ?? c, af ?? bf) ?? m,
  );
}

/** Fetches a query variable's options: label_values(...), label_names(), metrics(), query_result(). */
async function queryOptions(q: string, vars: VarState[], startS: number, endS: number): Promise<string[]> {
  const expr = interpolate(q.trim(), vars, null);
  let m = /^label_values\(\s*(?:(.*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/s.exec(expr);
  if (m) {
    const params: Record<string, string | number | string[]> = { start: startS, end: endS };
    if (m[1]) params['match[]'] = [m[1].trim()];
    return prom<string[]>(`label/${encodeURIComponent(m[2])}/values`, params);
  }
  if (/^label_names\(\s*\)$/.test(expr)) return prom<string[]>('labels', { start: startS, end: endS });
  m = /^metrics\((.*)\)$/s.exec(expr);
  if (m) {
    const re = new RegExp(m[1].trim() || '.*');
    const names = await prom<string[]>('label/__name__/values', { start: startS, end: endS });
    return names.filter((n) => re.test(n));
  }
  m = /^query_result\((.*)\)$/s.exec(expr);
  if (m) {
    const data = await prom<{ resultType: string; result: any[] }>('query', { query: m[1], time: endS });
    if (data.resultType !== 'vector') return [];
    return data.result.map((s) => {
      const { __name__, ...rest } = s.metric;
      const labels = Object.entries(rest)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      return `${__name__ ?? ''}{${labels}} ${s.value[1]} ${s.value[0] * 1000}`;
    });
  }
  // A bare selector behaves like label_values of its name is unknown: list matching series' names.
  throw new Error(`unsupported variable query ${JSON.stringify(q)}`);
}

function applyRegex(options: string[], regex?: string): string[] {
  if (!regex) return options;
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  let re: RegExp;
  try {
    re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex);
  } catch {
    return options;
  }
  const out: string[] = [];
  for (const o of options) {
    const r = re.exec(o);
    if (!r) continue;
    out.push(r.groups?.value ?? r[1] ?? o);
  }
  return [...new Set(out)];
}

function initialSelection(v: Variable, urlValues: string[], options: string[]): string[] {
  if (urlValues.length) return urlValues.map((x) => (x === 'All' || x === '$__all' ? '$__all' : x));
  const cur = v.current?.value;
  const curList = (Array.isArray(cur) ? cur : cur !== undefined && cur !== '' ? [cur] : []).filter(Boolean);
  if (curList.length && curList.every((c) => c === '$__all' || options.includes(c))) return curList;
  if (v.includeAll && !options.length) return ['$__all'];
  return options.length ? [options[0]] : v.includeAll ? ['$__all'] : [];
}

/** Resolves every variable in order (later ones may use earlier ones). */
export async function resolveVariables(
  defs: Variable[],
  url: URLSearchParams,
  startS: number,
  endS: number,
  previous: VarState[] = [],
): Promise<VarState[]> {
  const out: VarState[] = [];
  for (const v of defs) {
    const prev = previous.find((p) => p.name === v.name);
    const base: VarState = {
      name: v.name,
      label: v.label || v.name,
      type: v.type,
      options: [],
      selected: [],
      multi: !!v.multi,
      includeAll: !!v.includeAll,
      allValue: v.allValue ?? null,
      hidden: v.hide === 2,
    };
    try {
      switch (v.type) {
        case 'query': {
          let opts = applyRegex(await queryOptions(queryOf(v), out, startS, endS), v.regex);
          if (v.sort === 1 || v.sort === 5) opts = [...opts].sort();
          else if (v.sort === 2 || v.sort === 6) opts = [...opts].sort().reverse();
          else if (v.sort === 3) opts = [...opts].sort((a, b) => parseFloat(a) - parseFloat(b));
          base.options = opts;
          break;
        }
        case 'custom':
          base.options = queryOf(v)
            .split(/(?<!\\),/)
            .map((s) => s.replace(/\\,/g, ',').trim())
            .map((s) => (s.includes(' : ') ? s.split(' : ')[1].trim() : s))
            .filter(Boolean);
          break;
        case 'interval':
          base.options = queryOf(v)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          break;
        case 'constant':
        case 'textbox':
          base.options = [queryOf(v)];
          base.hidden = base.hidden || v.type === 'constant';
          break;
        case 'datasource':
        case 'adhoc':
          base.hidden = true;
          base.options = [''];
          break;
        default:
          base.error = `unsupported variable type ${v.type}`;
      }
    } catch (e) {
      base.error = String((e as Error).message ?? e);
    }
    const fromUrl = url.getAll(`var-${v.name}`);
    const keep = prev?.selected.filter((s) => s === '$__all' || base.options.includes(s));
    base.selected = keep && keep.length ? keep : initialSelection(v, fromUrl, base.options);
    if (v.type === 'textbox' && fromUrl.length) base.selected = fromUrl;
    out.push(base);
  }
  return out;
}

/** `{{label}}` substitution of a legend format; empty or `__auto` gives the series' label set. */
export function legendFor(format: string | undefined, metric: Record<string, string>, fallback: string): string {
  if (!format || format === '__auto') return fallback;
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, n) => metric[n] ?? '');
}

const NAMED: Record<string, string> = {
  green: '#73bf69',
  'dark-green': '#37872d',
  'semi-dark-green': '#56a64b',
  'light-green': '#96d98d',
  red: '#f2495c',
  'dark-red': '#c4162a',
  'semi-dark-red': '#e02f44',
  'light-red': '#ff7383',
  orange: '#ff9830',
  'dark-orange': '#fa6400',
  'semi-dark-orange': '#ff780a',
  'light-orange': '#ffb357',
  yellow: '#fade2a',
  'dark-yellow': '#e0b400',
  'semi-dark-yellow': '#f2cc0c',
  'light-yellow': '#ffee52',
  blue: '#5794f2',
  'dark-blue': '#1f60c4',
  'semi-dark-blue': '#3274d9',
  'light-blue': '#8ab8ff',
  purple: '#b877d9',
  'dark-purple': '#8f3bb8',
  'semi-dark-purple': '#a352cc',
  'light-purple': '#ca95e5',
  text: '#c7d0d9',
  transparent: 'transparent',
};

export function colorOf(c: string | undefined): string {
  if (!c) return '#73bf69';
  return NAMED[c] ?? c;
}

/** The threshold color for `value` (last step whose value is <= value; the base step has null). */
export function thresholdColor(steps: Threshold[] | undefined, value: number | null, percentOf?: [number, number]): string {
  if (!steps || !steps.length) return colorOf('green');
  let color = steps[0].color;
  if (value === null || !Number.isFinite(value)) return colorOf(color);
  for (const s of steps) {
    if (s.value === null || s.value === undefined) {
      color = s.color;
      continue;
    }
    const limit = percentOf ? percentOf[0] + ((percentOf[1] - percentOf[0]) * s.value) / 100 : s.value;
    if (value >= limit) color = s.color;
  }
  return colorOf(color);
}
