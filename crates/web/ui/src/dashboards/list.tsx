// Dashboard list: built-in, provisioned and imported dashboards.
import { pharos } from '../api';
import { useFetch } from '../hooks';
import { Badge, Loading } from '../components';

interface Entry {
  uid: string;
  title: string;
  tags: string[];
  source: 'builtin' | 'provisioned' | 'imported';
}

export function DashboardList() {
  const list = useFetch(() => pharos<Entry[]>('dashboards'), []);
  const remove = async (uid: string) => {
    if (!confirm(`Delete dashboard ${uid}?`)) return;
    await pharos(`dashboards/${encodeURIComponent(uid)}`, { method: 'DELETE' }).catch((e) => alert(e.message));
    list.reload();
  };
  return (
    <div class="page">
      <div class="dash-header">
        <h1>Dashboards</h1>
        <span class="spacer" />
        <a class="button primary" href="/dashboards/import" data-testid="import-link">
          Import Grafana JSON
        </a>
      </div>
      <Loading error={list.error} loading={list.loading && !list.data} />
      <table class="data">
        <tbody>
          {(list.data ?? []).map((d) => (
            <tr data-testid="dashboard-entry">
              <td>
                <a href={`/d/${encodeURIComponent(d.uid)}`}>{d.title}</a>
              </td>
              <td>
                {d.tags.map((t) => (
                  <span class="label">{t}</span>
                ))}
              </td>
              <td>
                <Badge kind={d.source}>{d.source}</Badge>
              </td>
              <td>{d.source === 'imported' && <button onClick={() => remove(d.uid)}>Delete</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
