// Import page: paste (or load a file of) Grafana dashboard JSON and save it.
import { useState } from 'preact/hooks';
import { pharos } from '../api';
import { navigate } from '../router';

export function ImportPage() {
  const [text, setText] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch (err) {
      setError(`not valid JSON: ${(err as Error).message}`);
      return;
    }
    const envelope = body && typeof body === 'object' && body.dashboard && !body.panels ? body : { dashboard: body };
    envelope.overwrite = overwrite;
    try {
      const entry = await pharos<{ uid: string }>('dashboards', { method: 'POST', body: JSON.stringify(envelope) });
      navigate(`/d/${encodeURIComponent(entry.uid)}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const loadFile = async (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (f) setText(await f.text());
  };
  return (
    <div class="page">
      <h1>Import dashboard</h1>
      <p class="muted">
        Paste a dashboard exported from Grafana (Share → Export → JSON). Supported panels: timeseries, graph, stat, gauge,
        bargauge, table, heatmap, text and rows; other panel types show a placeholder.
      </p>
      <form onSubmit={submit} class="import-form">
        <input type="file" accept=".json,application/json" onChange={loadFile} />
        <textarea
          rows={20}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          placeholder='{"title": "...", "panels": [...]}'
          data-testid="import-json"
        />
        <label>
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.currentTarget.checked)} /> Overwrite an
          imported dashboard with the same uid
        </label>
        {error && <div class="error" data-testid="import-error">{error}</div>}
        <div>
          <button class="primary" type="submit" data-testid="import-submit">
            Import
          </button>
        </div>
      </form>
    </div>
  );
}
