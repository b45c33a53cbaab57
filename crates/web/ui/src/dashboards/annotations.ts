// Dashboard annotations: alert state changes derived from the ALERTS series and deployment events
// from /api/pharos/v1/annotations.
import { pharos, prom, type MatrixSeries } from '../api';
import type { ChartAnnotation } from '../chart';

const FIRING = '#f2495c';
const PENDING = '#ff9830';
const DEPLOY = '#5794f2';

/** Turns ALERTS range-query series into regions: one per contiguous run of samples. */
export function alertRegions(series: MatrixSeries[], stepS: number): ChartAnnotation[] {
  const out: ChartAnnotation[] = [];
  for (const s of series) {
    const { __name__, alertstate, alertname, ...rest } = s.metric;
    const desc = Object.entries(rest)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    const vals = s.values ?? [];
    let runStart: number | null = null;
    let prev = -Infinity;
    const push = (a: number, b: number) =>
      out.push({
        time: a,
        end: b,
        color: alertstate === 'firing' ? FIRING : PENDING,
        text: `${alertname ?? 'alert'} ${alertstate ?? ''}${desc ? ` (${desc})` : ''}`,
      });
    for (const [t] of vals) {
      if (runStart === null) runStart = t;
      else if (t - prev > stepS * 1.5) {
        push(runStart, prev);
        runStart = t;
      }
      prev = t;
    }
    if (runStart !== null) push(runStart, prev);
  }
  return out;
}

export async function loadAnnotations(startMs: number, endMs: number, stepS: number, alerts: boolean): Promise<ChartAnnotation[]> {
  const start = Math.floor(startMs / 1000);
  const end = Math.ceil(endMs / 1000);
  const jobs: Promise<ChartAnnotation[]>[] = [];
  if (alerts) {
    jobs.push(
      prom<{ result: MatrixSeries[] }>('query_range', { query: 'ALERTS', start, end, step: stepS }, true)
        .then((d) => alertRegions(d.result ?? [], stepS))
        .catch(() => []),
    );
  }
  jobs.push(
    pharos<{ service: string; version: string; time: number; text: string }[]>(`annotations?start=${start}&end=${end}`)
      .then((items) =>
        items.map((a) => ({
          time: a.time,
          color: DEPLOY,
          text: `Deployed ${a.service}${a.version ? ` ${a.version}` : ''}${a.text ? `: ${a.text}` : ''}`,
        })),
      )
      .catch(() => []),
  );
  return (await Promise.all(jobs)).flat();
}
