// Status page: build information, runtime, command-line flags, loaded configuration and TSDB
// cardinality statistics.
import { prom } from '../api';
import { useFetch } from '../hooks';
import { Loading } from '../components';

function KV({ obj }: { obj: Record<string, unknown> }) {
  return (
    <table class="data kv">
      <tbody>
        {Object.entries(obj).map(([k, v]) => (
          <tr>
            <th>{k}</th>
            <td>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Tsdb {
  headStats?: Record<string, number>;
  seriesCountByMetricName?: { name: string; value: number }[];
  labelValueCountByLabelName?: { name: string; value: number }[];
  memoryInBytesByLabelName?: { name: string; value: number }[];
  seriesCountByLabelValuePair?: { name: string; value: number }[];
}

function TopList({ title, rows }: { title: string; rows?: { name: string; value: number }[] }) {
  if (!rows) return null;
  return (
    <div>
      <h4>{title}</h4>
      <table class="data">
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td class="num">{r.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function StatusPage() {
  const build = useFetch(() => prom<Record<string, string>>('status/buildinfo'), []);
  const runtime = useFetch(() => prom<Record<string, unknown>>('status/runtimeinfo'), []);
  const flags = useFetch(() => prom<Record<string, string>>('status/flags'), []);
  const config = useFetch(() => prom<{ yaml: string }>('status/config'), []);
  const tsdb = useFetch(() => prom<Tsdb>('status/tsdb'), []);
  return (
    <div class="page status">
      <h1>Status</h1>
      <section class="card" id="build">
        <h3>Build information</h3>
        <Loading error={build.error} loading={build.loading} />
        {build.data && <KV obj={build.data} />}
      </section>
      <section class="card" id="runtime">
        <h3>Runtime information</h3>
        <Loading error={runtime.error} loading={runtime.loading} />
        {runtime.data && <KV obj={runtime.data} />}
      </section>
      <section class="card" id="tsdb">
        <h3>TSDB cardinality</h3>
        <Loading error={tsdb.error} loading={tsdb.loading} />
        {tsdb.data?.headStats && <KV obj={tsdb.data.headStats} />}
        <div class="grid2">
          <TopList title="Top series count by metric name" rows={tsdb.data?.seriesCountByMetricName} />
          <TopList title="Top label value count by label name" rows={tsdb.data?.labelValueCountByLabelName} />
          <TopList title="Top memory (bytes) by label name" rows={tsdb.data?.memoryInBytesByLabelName} />
          <TopList title="Top series count by label pair" rows={tsdb.data?.seriesCountByLabelValuePair} />
        </div>
      </section>
      <section class="card" id="flags">
        <h3>Command-line flags</h3>
        <Loading error={flags.error} loading={flags.loading} />
        {flags.data && <KV obj={flags.data} />}
      </section>
      <section class="card" id="config">
        <h3>Configuration</h3>
        <Loading error={config.error} loading={config.loading} />
        {config.data && <pre class="config">{config.data.yaml}</pre>}
      </section>
    </div>
  );
}
