// Alerts page: alerting rules with their firing and pending alerts, labels, annotations,
// runbook links, and a button opening a prefilled silence.
import { useState } from 'preact/hooks';
import { prom, am } from '../api';
import { useFetch } from '../hooks';
import { Badge, Labels, Loading, MaybeLink } from '../components';
import { ago } from '../time';
import { navigate } from '../router';

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'firing' | 'pending' | 'inactive';
  activeAt?: string;
  value: string;
}
interface AlertingRule {
  type: 'alerting';
  name: string;
  query: string;
  duration: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  alerts: PromAlert[];
  health: string;
  lastError?: string;
  state: string;
}
interface RuleGroup {
  name: string;
  file: string;
  rules: (AlertingRule | { type: 'recording' })[];
}

export function silenceLink(labels: Record<string, string>): string {
  const matchers = Object.entries(labels)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `/silences?new=1&matchers=${encodeURIComponent(`{${matchers}}`)}`;
}

function AlertRow({ a, silenced }: { a: PromAlert; silenced: boolean }) {
  const runbook = a.annotations?.runbook_url;
  return (
    <div class={`alert-item state-${a.state}`} data-testid="alert-item">
      <div class="alert-head">
        <Badge kind={a.state}>{a.state}</Badge>
        {silenced && <Badge kind="silenced">silenced</Badge>}
        <Labels labels={a.labels} skip={['alertname']} />
        <span class="muted small">
          active since {ago(a.activeAt)} · value {a.value}
        </span>
        <span class="spacer" />
        {runbook && (
          <a class="button" href={runbook} target="_blank" rel="noopener noreferrer">
            Runbook
          </a>
        )}
        <button onClick={() => navigate(silenceLink(a.labels))} data-testid="silence-alert">
          Silence
        </button>
      </div>
      {Object.keys(a.annotations ?? {}).length > 0 && (
        <dl class="annotations">
          {Object.entries(a.annotations).map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>
                <MaybeLink value={v} />
              </dd>
            </>
          ))}
        </dl>
      )}
    </div>
  );
}

export function AlertsPage() {
  const [filter, setFilter] = useState<'all' | 'firing' | 'pending'>('all');
  const [showInactive, setShowInactive] = useState(false);
  const rules = useFetch(() => prom<{ groups: RuleGroup[] }>('rules', { type: 'alert' }), [], 15000);
  const amAlerts = useFetch(
    () => am<{ labels: Record<string, string>; status: { state: string } }[]>('alerts').catch(() => []),
    [],
    15000,
  );
  const silencedKeys = new Set(
    (amAlerts.data ?? [])
      .filter((a) => a.status?.state === 'suppressed')
      .map((a) => JSON.stringify(Object.entries(a.labels).sort())),
  );
  const all: AlertingRule[] = (rules.data?.groups ?? []).flatMap((g) =>
    g.rules.filter((r): r is AlertingRule => r.type === 'alerting'),
  );
  const counts = { firing: 0, pending: 0, inactive: 0 };
  for (const r of all) counts[(r.state as keyof typeof counts) ?? 'inactive']++;
  const shown = all.filter((r) => {
    if (filter !== 'all') return r.state === filter;
    return showInactive || r.state !== 'inactive';
  });
  return (
    <div class="page">
      <h1>Alerts</h1>
      <div class="toolbar">
        {(['all', 'firing', 'pending'] as const).map((f) => (
          <button class={filter === f ? 'active' : ''} onClick={() => setFilter(f)}>
            {f === 'all' ? 'All' : `${f[0].toUpperCase()}${f.slice(1)} (${counts[f]})`}
          </button>
        ))}
        <label>
          <input type="checkbox" checked={showInactive} onChange={(e) => setShowInactive(e.currentTarget.checked)} /> Show
          inactive ({counts.inactive})
        </label>
      </div>
      <Loading error={rules.error} loading={rules.loading && !rules.data} />
      {rules.data && shown.length === 0 && <p class="muted">No alerts {filter === 'all' ? 'firing or pending' : filter}.</p>}
      {shown.map((r) => (
        <section class={`rule-card state-${r.state}`} data-testid="alert-rule">
          <h3>
            <Badge kind={r.state}>{r.state}</Badge> {r.name}{' '}
            <span class="muted small">({r.alerts.length} active)</span>
          </h3>
          <pre class="expr">{r.query}</pre>
          {r.lastError && <div class="error">{r.lastError}</div>}
          {r.alerts
            .filter((a) => filter === 'all' || a.state === filter)
            .map((a) => (
              <AlertRow a={a} silenced={silencedKeys.has(JSON.stringify(Object.entries(a.labels).sort()))} />
            ))}
        </section>
      ))}
    </div>
  );
}
