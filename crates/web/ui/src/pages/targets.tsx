// Targets page: scrape pools with each target's health, last error, last scrape and labels.
import { useState } from 'preact/hooks';
import { prom } from '../api';
import { useFetch } from '../hooks';
import { Badge, Labels, Loading } from '../components';
import { ago } from '../time';

interface Target {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval?: string;
}

export function TargetsPage() {
  const [onlyUnhealthy, setOnlyUnhealthy] = useState(false);
  const r = useFetch(() => prom<{ activeTargets: Target[] }>('targets', { state: 'active' }), [], 10000);
  const pools = new Map<string, Target[]>();
  for (const t of r.data?.activeTargets ?? []) {
    if (onlyUnhealthy && t.health === 'up') continue;
    pools.set(t.scrapePool, [...(pools.get(t.scrapePool) ?? []), t]);
  }
  return (
    <div class="page">
      <h1>Targets</h1>
      <div class="toolbar">
        <label>
          <input type="checkbox" checked={onlyUnhealthy} onChange={(e) => setOnlyUnhealthy(e.currentTarget.checked)} /> Only
          unhealthy
        </label>
      </div>
      <Loading error={r.error} loading={r.loading && !r.data} />
      {[...pools.entries()].map(([pool, targets]) => (
        <section class="card">
          <h3>
            {pool}{' '}
            <span class="muted small">
              ({targets.filter((t) => t.health === 'up').length}/{targets.length} up)
            </span>
          </h3>
          <table class="data">
            <thead>
              <tr>
                <th>Endpoint</th>
                <th>State</th>
                <th>Labels</th>
                <th>Last scrape</th>
                <th>Scrape duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {targets.map((t) => (
                <tr data-testid="target-row">
                  <td>
                    <a href={t.scrapeUrl} target="_blank" rel="noopener noreferrer">
                      {t.scrapeUrl}
                    </a>
                  </td>
                  <td>
                    <Badge kind={t.health}>{t.health}</Badge>
                  </td>
                  <td>
                    <Labels labels={t.labels} />
                  </td>
                  <td>{ago(t.lastScrape)}</td>
                  <td>{(t.lastScrapeDuration * 1000).toFixed(1)} ms</td>
                  <td class="error-text">{t.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
