// Query explorer: PromQL editor, graph (uPlot) and table views, range/end/step controls.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { PromQLEditor, showServerError, errorPosition, type EditorHandle } from '../editor';
import { ApiError, formatLabels, queryInstant, queryRange, type QueryData, type MatrixSeries } from '../api';
import { TimeChart, alignMatrix } from '../chart';
import { autoStep, formatDuration, formatTime, parseDuration } from '../time';
import { setQuery } from '../router';

interface Result {
  kind: 'graph' | 'table';
  data: QueryData;
  start: number;
  end: number;
  step: number;
  warnings: string[];
  tookMs: number;
}

function ErrorAt({ expr, message }: { expr: string; message: string }) {
  const pos = errorPosition(expr, message);
  return (
    <div class="error" data-testid="query-error">
      <div>{message}</div>
      {pos && (
        <pre class="error-caret">
          {expr.split('\n').join(' ')}
          {'\n'}
          {' '.repeat(pos.from)}^
        </pre>
      )}
    </div>
  );
}

function TableView({ data }: { data: QueryData }) {
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return (
      <table class="data">
        <tbody>
          <tr>
            <td>{data.resultType}</td>
            <td class="num">{data.result[1]}</td>
          </tr>
        </tbody>
      </table>
    );
  }
  if (data.result.length === 0) return <p class="muted">Empty query result.</p>;
  return (
    <table class="data" data-testid="result-table">
      <thead>
        <tr>
          <th>Series</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {data.resultType === 'vector'
          ? data.result.map((s) => (
              <tr>
                <td class="labels">{formatLabels(s.metric)}</td>
                <td class="num">{s.value ? s.value[1] : s.histogram ? JSON.stringify(s.histogram[1]) : ''}</td>
              </tr>
            ))
          : (data.result as MatrixSeries[]).map((s) => (
              <tr>
                <td class="labels">{formatLabels(s.metric)}</td>
                <td class="num">
                  {(s.values ?? []).map(([t, v]) => (
                    <div>
                      {v} @{t}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
      </tbody>
    </table>
  );
}

export function Explorer() {
  const q = new URLSearchParams(location.search);
  const [expr, setExpr] = useState(q.get('expr') ?? '');
  const [tab, setTab] = useState<'graph' | 'table'>((q.get('tab') as 'graph' | 'table') ?? 'graph');
  const [range, setRange] = useState(q.get('range') ?? '1h');
  const [endText, setEndText] = useState(q.get('end') ?? '');
  const [stepText, setStepText] = useState(q.get('step') ?? '');
  const [stacked, setStacked] = useState(q.get('stacked') === '1');
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<{ expr: string; message: string } | null>(null);
  const [running, setRunning] = useState(false);
  const editor = useRef<EditorHandle | null>(null);
  const exprRef = useRef(expr);
  exprRef.current = expr;

  const execute = async (over?: { tab?: 'graph' | 'table'; range?: string; end?: string }) => {
    const e = exprRef.current.trim();
    const kind = over?.tab ?? tab;
    const rangeStr = over?.range ?? range;
    const endStr = over?.end ?? endText;
    if (!e) return;
    setQuery({ expr: e, tab: kind, range: rangeStr, end: endStr || undefined, step: stepText || undefined, stacked: stacked ? '1' : undefined });
    const rangeMs = parseDuration(rangeStr);
    if (rangeMs === null || rangeMs <= 0) {
      setError({ expr: '', message: `invalid range ${JSON.stringify(rangeStr)}: use a duration like 1h or 30m` });
      return;
    }
    const endMs = endStr ? Date.parse(endStr) : Date.now();
    if (Number.isNaN(endMs)) {
      setError({ expr: '', message: `invalid end time ${JSON.stringify(endStr)}` });
      return;
    }
    let stepMs = stepText ? parseDuration(stepText) : autoStep(rangeMs);
    if (stepMs === null || stepMs <= 0) {
      setError({ expr: '', message: `invalid step ${JSON.stringify(stepText)}` });
      return;
    }
    const end = Math.floor(endMs / 1000);
    const start = end - Math.round(rangeMs / 1000);
    const step = Math.max(0.001, stepMs / 1000);
    setRunning(true);
    const t0 = performance.now();
    try {
      const r = kind === 'graph' ? await queryRange(e, start, end, step) : await queryInstant(e, end);
      setError(null);
      setResult({ kind, data: r.data, start, end, step, warnings: r.warnings, tookMs: performance.now() - t0 });
    } catch (err) {
      const msg = err instanceof ApiError ? err.message : String(err);
      setError({ expr: e, message: msg });
      if (editor.current) showServerError(editor.current.view, msg);
      setResult(null);
    } finally {
      setRunning(false);
    }
  };

  useEffect(() => {
    if (exprRef.current.trim()) execute();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const aligned = useMemo(() => {
    if (!result || result.kind !== 'graph' || result.data.resultType !== 'matrix') return null;
    return alignMatrix(result.data.result, result.start, result.end, result.step, (s) => formatLabels(s.metric));
  }, [result]);

  const switchTab = (t: 'graph' | 'table') => {
    setTab(t);
    if (exprRef.current.trim()) execute({ tab: t });
  };

  const shiftRange = (factor: number) => {
    const ms = parseDuration(range) ?? 3600_000;
    const r = formatDuration(Math.max(1000, ms * factor));
    setRange(r);
    execute({ range: r });
  };

  return (
    <div class="page explorer">
      <div class="query-row">
        <PromQLEditor value={expr} onChange={setExpr} onExecute={() => execute()} handle={editor} />
        <button class="primary" data-testid="execute" onClick={() => execute()} disabled={running}>
          {running ? 'Running…' : 'Execute'}
        </button>
      </div>
      {error && <ErrorAt expr={error.expr} message={error.message} />}
      <div class="tabs">
        <button class={tab === 'graph' ? 'active' : ''} onClick={() => switchTab('graph')}>
          Graph
        </button>
        <button class={tab === 'table' ? 'active' : ''} onClick={() => switchTab('table')}>
          Table
        </button>
        <span class="spacer" />
        {tab === 'graph' && (
          <>
            <button title="Shorter range" onClick={() => shiftRange(0.5)}>
              −
            </button>
            <label>
              Range <input class="short" value={range} onChange={(e) => setRange(e.currentTarget.value)} data-testid="range" />
            </label>
            <button title="Longer range" onClick={() => shiftRange(2)}>
              +
            </button>
            <label>
              Step <input class="short" placeholder="auto" value={stepText} onChange={(e) => setStepText(e.currentTarget.value)} />
            </label>
            <label>
              <input type="checkbox" checked={stacked} onChange={(e) => setStacked(e.currentTarget.checked)} /> Stacked
            </label>
          </>
        )}
        <label>
          End{' '}
          <input
            placeholder="now"
            value={endText}
            onChange={(e) => setEndText(e.currentTarget.value)}
            title="ISO date/time; empty means now"
          />
        </label>
      </div>
      {result && (
        <div class="result" data-testid="result">
          <div class="muted small">
            {result.kind === 'graph'
              ? `${formatTime(result.start * 1000)} – ${formatTime(result.end * 1000)}, step ${formatDuration(result.step * 1000)}`
              : `at ${formatTime(result.end * 1000)}`}
            {` · ${Math.round(result.tookMs)} ms`}
            {result.data.resultType !== 'scalar' && result.data.resultType !== 'string'
              ? ` · ${result.data.result.length} series`
              : ''}
          </div>
          {result.warnings.map((w) => (
            <div class="warning">{w}</div>
          ))}
          {result.kind === 'graph' && aligned ? (
            aligned.series.length ? (
              <TimeChart
                data={aligned}
                stacked={stacked}
                height={360}
                onZoom={(a, b) => {
                  const r = formatDuration(Math.max(1000, Math.round((b - a) / 1000) * 1000));
                  const endIso = new Date(b).toISOString();
                  setRange(r);
                  setEndText(endIso);
                  execute({ range: r, end: endIso });
                }}
              />
            ) : (
              <p class="muted">Empty query result.</p>
            )
          ) : (
            <TableView data={result.data} />
          )}
        </div>
      )}
    </div>
  );
}
