// Rules page: every rule group with each rule's health, last evaluation, duration and error.
import { prom } from '../api';
import { useFetch } from '../hooks';
import { Badge, Labels, Loading } from '../components';
import { ago } from '../time';

interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  lastEvaluation?: string;
  evaluationTime?: number;
  labels?: Record<string, string>;
  duration?: number;
  state?: string;
}
interface Group {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
  lastEvaluation?: string;
  evaluationTime?: number;
}

export function RulesPage() {
  const r = useFetch(() => prom<{ groups: Group[] }>('rules'), [], 15000);
  return (
    <div class="page">
      <h1>Rules</h1>
      <Loading error={r.error} loading={r.loading && !r.data} />
      {r.data && r.data.groups.length === 0 && <p class="muted">No rule groups loaded.</p>}
      {r.data?.groups.map((g) => (
        <section class="card">
          <h3>
            {g.name} <span class="muted small">{g.file} · every {g.interval}s · last evaluation {ago(g.lastEvaluation)}</span>
          </h3>
          <table class="data">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Health</th>
                <th>Last evaluation</th>
                <th>Evaluation time</th>
              </tr>
            </thead>
            <tbody>
              {g.rules.map((rule) => (
                <tr data-testid="rule-row">
                  <td>
                    <div>
                      <b>{rule.type === 'alerting' ? 'alert' : 'record'}:</b> {rule.name}
                    </div>
                    <pre class="expr">{rule.query}</pre>
                    {rule.labels && <Labels labels={rule.labels} />}
                    {rule.lastError && <div class="error">{rule.lastError}</div>}
                  </td>
                  <td>
                    <Badge kind={rule.health === 'ok' ? 'up' : rule.health === 'err' ? 'down' : 'unknown'}>{rule.health}</Badge>
                  </td>
                  <td>{ago(rule.lastEvaluation)}</td>
                  <td>{rule.evaluationTime !== undefined ? `${(rule.evaluationTime * 1000).toFixed(2)} ms` : '-'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
