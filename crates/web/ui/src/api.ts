// Clients for the Prometheus HTTP API, the Alertmanager API v2 and Pharos' own dashboard and
// annotation endpoints, all served on the same origin.

export class ApiError extends Error {
  constructor(
    message: string,
    public errorType = 'error',
    public status = 0,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | string[] | undefined>;

function encode(params: Params): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, x));
    else sp.append(k, String(v));
  }
  return sp.toString();
}

async function decode<T>(resp: Response): Promise<T> {
  let body: any;
  const text = await resp.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(`${resp.status} ${resp.statusText}: ${text.slice(0, 300)}`, 'bad_response', resp.status);
  }
  if (body && typeof body === 'object' && 'status' in body && (body.status === 'error' || body.error)) {
    throw new ApiError(body.error ?? 'unknown error', body.errorType, resp.status);
  }
  if (!resp.ok) {
    const msg = typeof body === 'string' ? body : (body?.message ?? body?.error ?? JSON.stringify(body));
    throw new ApiError(`${resp.status}: ${msg}`, 'http', resp.status);
  }
  return body as T;
}

/** GET (or form POST) against the Prometheus API; returns `data`. */
export async function prom<T = any>(path: string, params: Params = {}, post = false): Promise<T> {
  const url = `/api/v1/${path}`;
  const resp = post
    ? await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: encode(params),
      })
    : await fetch(`${url}?${encode(params)}`);
  const body = await decode<{ data: T; warnings?: string[] }>(resp);
  return body.data;
}

export async function promWithWarnings<T = any>(path: string, params: Params, post = true) {
  const url = `/api/v1/${path}`;
  const resp = await fetch(url, {
    method: post ? 'POST' : 'GET',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: post ? encode(params) : undefined,
  });
  const body = await decode<{ data: T; warnings?: string[]; infos?: string[] }>(resp);
  return { data: body.data, warnings: [...(body.warnings ?? []), ...(body.infos ?? [])] };
}

export interface Metric {
  [label: string]: string;
}
export type SamplePair = [number, string];
export interface MatrixSeries {
  metric: Metric;
  values?: SamplePair[];
  histograms?: [number, unknown][];
}
export interface VectorSample {
  metric: Metric;
  value?: SamplePair;
  histogram?: [number, unknown];
}
export type QueryData =
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'scalar'; result: SamplePair }
  | { resultType: 'string'; result: SamplePair };

export function queryRange(query: string, start: number, end: number, step: number) {
  return promWithWarnings<QueryData>('query_range', { query, start, end, step });
}

export function queryInstant(query: string, time?: number) {
  return promWithWarnings<QueryData>('query', { query, time });
}

/** Alertmanager API v2 (returns the raw JSON body). */
export async function am<T = any>(path: string, init?: RequestInit): Promise<T> {
  const resp = await fetch(`/api/v2/${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', ...(init?.headers ?? {}) },
  });
  return decode<T>(resp);
}

/** Pharos' own endpoints under /api/pharos/v1; returns `data`. */
export async function pharos<T = any>(path: string, init?: RequestInit): Promise<T> {
  const resp = await fetch(`/api/pharos/v1/${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', ...(init?.headers ?? {}) },
  });
  const body = await decode<{ data: T }>(resp);
  return body.data;
}

export function formatLabels(m: Metric, withName = true): string {
  const name = withName ? (m.__name__ ?? '') : '';
  const rest = Object.entries(m)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return rest ? `${name}{${rest}}` : name || '{}';
}

export function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}
