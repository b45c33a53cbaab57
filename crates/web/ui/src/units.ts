// Value formatting for Grafana's unit ids used by Pharos dashboards and the explorer.

function trim(n: number, decimals?: number): string {
  if (decimals !== undefined && decimals !== null) return n.toFixed(decimals);
  const a = Math.abs(n);
  if (a === 0) return '0';
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return n.toFixed(2).replace(/\.?0+$/, '');
  return Number(n.toPrecision(3)).toString();
}

function scaled(n: number, steps: [number, string][], decimals?: number): string {
  for (const [size, suffix] of steps) {
    if (Math.abs(n) >= size) return `${trim(n / size, decimals)}${suffix}`;
  }
  return trim(n, decimals);
}

function short(n: number, decimals?: number): string {
  return scaled(
    n,
    [
      [1e12, ' T'],
      [1e9, ' B'],
      [1e6, ' Mil'],
      [1e3, ' K'],
      [1, ''],
    ],
    decimals,
  );
}

function seconds(n: number, decimals?: number): string {
  const a = Math.abs(n);
  if (a === 0) return '0 s';
  if (a < 1e-6) return `${trim(n * 1e9, decimals)} ns`;
  if (a < 1e-3) return `${trim(n * 1e6, decimals)} µs`;
  if (a < 1) return `${trim(n * 1e3, decimals)} ms`;
  if (a < 60) return `${trim(n, decimals)} s`;
  if (a < 3600) return `${trim(n / 60, decimals)} min`;
  if (a < 86400) return `${trim(n / 3600, decimals)} hour`;
  return `${trim(n / 86400, decimals)} day`;
}

function bytes(n: number, base: number, names: string[], decimals?: number): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= base && i < names.length - 1) {
    v /= base;
    i++;
  }
  return `${trim(v, decimals)} ${names[i]}`;
}

/** Formats `n` in Grafana unit `unit` (seconds "s", "ms", "percent", "percentunit", "reqps", "bytes", ...). */
export function formatValue(n: number | null | undefined, unit = 'short', decimals?: number): string {
  if (n === null || n === undefined) return '-';
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 's':
    case 'seconds':
      return seconds(n, decimals);
    case 'ms':
      return seconds(n / 1000, decimals);
    case 'µs':
      return seconds(n / 1e6, decimals);
    case 'ns':
      return seconds(n / 1e9, decimals);
    case 'percent':
      return `${trim(n, decimals)}%`;
    case 'percentunit':
      return `${trim(n * 100, decimals)}%`;
    case 'reqps':
      return `${short(n, decimals)} req/s`;
    case 'ops':
      return `${short(n, decimals)} ops/s`;
    case 'bytes':
    case 'decbytes':
      return bytes(n, unit === 'bytes' ? 1024 : 1000, ['B', unit === 'bytes' ? 'KiB' : 'KB', unit === 'bytes' ? 'MiB' : 'MB', unit === 'bytes' ? 'GiB' : 'GB', unit === 'bytes' ? 'TiB' : 'TB', unit === 'bytes' ? 'PiB' : 'PB'], decimals);
    case 'bits':
      return bytes(n, 1024, ['b', 'Kib', 'Mib', 'Gib', 'Tib'], decimals);
    case 'Bps':
    case 'binBps':
      return `${bytes(n, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], decimals)}/s`;
    case 'bps':
      return `${bytes(n, 1000, ['b', 'kb', 'Mb', 'Gb', 'Tb'], decimals)}/s`;
    case 'dtdurations':
      return seconds(n, decimals);
    case 'none':
      return trim(n, decimals);
    case 'short':
    case '':
    case undefined:
      return short(n, decimals);
    default:
      return `${short(n, decimals)} ${unit}`;
  }
}
