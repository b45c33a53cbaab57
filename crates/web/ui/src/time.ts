// Time helpers: Prometheus durations, Grafana-style relative times ("now-6h", "now/d") and
// step/interval arithmetic shared by the explorer and dashboards.

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Parses a Prometheus duration such as "1h30m" or "250ms" into milliseconds. */
export function parseDuration(s: string): number | null {
  const t = s.trim();
  if (!t) return null;
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+)(ms|s|m|h|d|w|y)/y;
  let total = 0;
  let pos = 0;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) return null;
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

/** Formats milliseconds as a Prometheus duration ("1h30m", "15s"). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const u of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNITS[u];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${u}`;
      rest %= size;
    }
  }
  return out;
}

/**
 * Resolves a Grafana time expression to epoch milliseconds: "now", "now-6h", "now-1d/d",
 * an ISO date, or epoch milliseconds as a string.
 */
export function resolveTime(expr: string, now: number, roundUp = false): number | null {
  const s = expr.trim();
  if (s.startsWith('now')) {
    let t = now;
    let rest = s.slice(3);
    const m = /^([+-]\d+[smhdwMy])?(\/([smhdwMy]))?$/.exec(rest);
    if (!m) return null;
    if (m[1]) {
      const sign = m[1][0] === '-' ? -1 : 1;
      const unit = m[1].slice(-1);
      const n = Number(m[1].slice(1, -1));
      t += sign * n * (unit === 'M' ? 30 * UNITS.d : UNITS[unit]);
    }
    if (m[3]) t = roundTo(t, m[3], roundUp);
    rest = '';
    return t;
  }
  if (/^\d{12,}$/.test(s)) return Number(s);
  const d = Date.parse(s);
  return Number.isNaN(d) ? null : d;
}

function roundTo(t: number, unit: string, up: boolean): number {
  const d = new Date(t);
  switch (unit) {
    case 'y':
      d.setMonth(0, 1);
      d.setHours(0, 0, 0, 0);
      if (up) d.setFullYear(d.getFullYear() + 1);
      break;
    case 'M':
      d.setDate(1);
      d.setHours(0, 0, 0, 0);
      if (up) d.setMonth(d.getMonth() + 1);
      break;
    case 'w':
      d.setDate(d.getDate() - d.getDay());
      d.setHours(0, 0, 0, 0);
      if (up) d.setDate(d.getDate() + 7);
      break;
    case 'd':
      d.setHours(0, 0, 0, 0);
      if (up) d.setDate(d.getDate() + 1);
      break;
    default: {
      const size = UNITS[unit];
      const floor = Math.floor(t / size) * size;
      return up ? floor + size - 1 : floor;
    }
  }
  return up ? d.getTime() - 1 : d.getTime();
}

/** A step giving about `points` points over the range, rounded to a tidy value, at least `min`. */
export function autoStep(rangeMs: number, points = 250, minMs = 1000): number {
  const raw = Math.max(rangeMs / points, minMs);
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map(
    (s) => s * 1000,
  );
  return nice.find((n) => n >= raw) ?? Math.ceil(raw / 86_400_000) * 86_400_000;
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

/** "3m ago" style age of an ISO or epoch-ms time. */
export function ago(t: string | number | undefined, now = Date.now()): string {
  if (t === undefined || t === '' || t === '0001-01-01T00:00:00Z') return 'never';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (Number.isNaN(ms)) return String(t);
  const d = now - ms;
  if (Math.abs(d) < 1000) return 'just now';
  const s = formatDuration(Math.abs(Math.round(d / 1000) * 1000));
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

export const RELATIVE_RANGES: [string, string][] = [
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-30m', 'Last 30 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-3h', 'Last 3 hours'],
  ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
  ['now/d', 'Today so far'],
];
