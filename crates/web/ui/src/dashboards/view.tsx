// Dashboard view: time picker with relative ranges, auto refresh, template variables, rows and
// the 24-column panel grid.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { pharos, prom } from '../api';
import { Loading } from '../components';
import { RELATIVE_RANGES, autoStep, formatTime, parseDuration, resolveTime } from '../time';
import { setQuery } from '../router';
import type { ChartAnnotation } from '../chart';
import { loadAnnotations } from './annotations';
import { resolveVariables, sections, type Dashboard, type Section, type VarState } from './model';
import { PanelFrame, type PanelContext } from './panels';

let scrapeCache: Promise<number> | null = null;

/** The global scrape interval from the loaded config (Grafana's datasource "scrape interval"). */
function scrapeInterval(): Promise<number> {
  scrapeCache ??= prom<{ yaml: string }>('status/config')
    .then((c) => {
      const m = /^global:\s*\n(?:[ \t]+.*\n)*?[ \t]+scrape_interval:\s*(\S+)/m.exec(c.yaml);
      return (m && parseDuration(m[1])) || 15000;
    })
    .catch(() => 15000);
  return scrapeCache;
}

const REFRESH = ['', '5s', '10s', '30s', '1m', '5m', '15m', '1h'];

function VariableControl({ v, onChange }: { v: VarState; onChange: (sel: string[]) => void }) {
  if (v.hidden) return null;
  const opts = [...(v.includeAll ? ['$__all'] : []), ...v.options];
  const label = (o: string) => (o === '$__all' ? 'All' : o);
  return (
    <label class="variable" data-testid={`var-${v.name}`}>
      <span>{v.label}</span>
      {v.type === 'textbox' ? (
        <input value={v.selected[0] ?? ''} onChange={(e) => onChange([e.currentTarget.value])} />
      ) : (
        <select
          multiple={v.multi}
          size={v.multi ? Math.min(5, opts.length || 1) : undefined}
          onChange={(e) => {
            const sel = [...e.currentTarget.selectedOptions].map((o) => o.value);
            onChange(sel.includes('$__all') && v.multi ? ['$__all'] : sel);
          }}
        >
          {opts.length === 0 && <option value="">(no values)</option>}
          {opts.map((o) => (
            <option value={o} selected={v.selected.includes(o)}>
              {label(o)}
            </option>
          ))}
        </select>
      )}
      {v.error && <span class="error-text small" title={v.error}>⚠</span>}
    </label>
  );
}

function SectionView({ s, ctx }: { s: Section; ctx: PanelContext }) {
  const [collapsed, setCollapsed] = useState(!!s.row?.collapsed);
  const minY = Math.min(...s.panels.map((p) => p.gridPos.y), Infinity);
  const panels = s.panels.map((p) => ({ ...p, gridPos: { ...p.gridPos, y: p.gridPos.y - (Number.isFinite(minY) ? minY : 0) } }));
  return (
    <div class="dash-section">
      {s.row && (
        <div class="dash-row" onClick={() => setCollapsed(!collapsed)} data-testid="row">
          {collapsed ? '▸' : '▾'} {s.row.title} {collapsed && <span class="muted small">({s.panels.length} panels)</span>}
        </div>
      )}
      {!collapsed && (
        <div class="dash-grid">
          {panels.map((p) => (
            <PanelFrame p={p} ctx={ctx} />
          ))}
        </div>
      )}
    </div>
  );
}

export function DashboardView({ uid }: { uid: string }) {
  const url = new URLSearchParams(location.search);
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [error, setError] = useState<string>();
  const [from, setFrom] = useState(url.get('from') ?? '');
  const [to, setTo] = useState(url.get('to') ?? '');
  const [refresh, setRefresh] = useState(url.get('refresh') ?? '');
  const [tick, setTick] = useState(0);
  const [vars, setVars] = useState<VarState[]>([]);
  const [scrapeMs, setScrapeMs] = useState(15000);
  const [annotations, setAnnotations] = useState<ChartAnnotation[]>([]);
  const [customOpen, setCustomOpen] = useState(false);

  useEffect(() => {
    setDash(null);
    setError(undefined);
    pharos<{ dashboard: Dashboard }>(`dashboards/${encodeURIComponent(uid)}`).then(
      (d) => {
        setDash(d.dashboard);
        const u = new URLSearchParams(location.search);
        setFrom(u.get('from') ?? d.dashboard.time?.from ?? 'now-6h');
        setTo(u.get('to') ?? d.dashboard.time?.to ?? 'now');
        setRefresh(u.get('refresh') ?? (typeof d.dashboard.refresh === 'string' ? d.dashboard.refresh : ''));
      },
      (e) => setError(String(e.message ?? e)),
    );
    scrapeInterval().then(setScrapeMs);
  }, [uid]);

  // Absolute range, recomputed on every refresh tick so relative ranges move.
  const range = useMemo(() => {
    const now = Date.now();
    const s = resolveTime(from || 'now-6h', now) ?? now - 6 * 3600_000;
    const e = resolveTime(to || 'now', now, true) ?? now;
    return { startMs: Math.min(s, e - 1000), endMs: e };
  }, [from, to, tick]);

  useEffect(() => {
    if (!dash) return;
    setQuery({ from, to, refresh: refresh || undefined });
    const defs = dash.templating?.list ?? [];
    resolveVariables(defs, new URLSearchParams(location.search), range.startMs / 1000, range.endMs / 1000, vars).then(
      (next) => {
        // Keep the same array when nothing changed so panels do not re-query on every tick.
        setVars((prev) => (JSON.stringify(prev) === JSON.stringify(next) ? prev : next));
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dash, range]);

  useEffect(() => {
    const ms = refresh ? parseDuration(refresh) : null;
    if (!ms) return;
    const id = setInterval(() => setTick((t) => t + 1), Math.max(1000, ms));
    return () => clearInterval(id);
  }, [refresh]);

  useEffect(() => {
    if (!dash) return;
    const list = dash.annotations?.list;
    const alerts = !list || list.some((a) => (a.builtIn === 1 || a.type === 'alerts') && a.enable !== false);
    const step = autoStep(range.endMs - range.startMs, 400, scrapeMs) / 1000;
    loadAnnotations(range.startMs, range.endMs, step, alerts).then(setAnnotations);
  }, [dash, range, scrapeMs]);

  const setVar = (name: string, sel: string[]) => {
    const next = vars.map((v) => (v.name === name ? { ...v, selected: sel } : v));
    const sp = new URLSearchParams(location.search);
    sp.delete(`var-${name}`);
    sel.forEach((s) => sp.append(`var-${name}`, s === '$__all' ? 'All' : s));
    history.replaceState(null, '', `${location.pathname}?${sp}`);
    // Re-resolve later variables, which may depend on this one.
    resolveVariables(dash?.templating?.list ?? [], sp, range.startMs / 1000, range.endMs / 1000, next).then(setVars);
    setVars(next);
  };

  const ctx: PanelContext = {
    vars,
    startMs: range.startMs,
    endMs: range.endMs,
    scrapeMs,
    tick,
    annotations,
    onZoom: (a, b) => {
      setFrom(String(Math.round(a)));
      setTo(String(Math.round(b)));
    },
  };

  const zoomOut = () => {
    const span = range.endMs - range.startMs;
    setFrom(String(Math.round(range.startMs - span / 2)));
    setTo(String(Math.round(Math.min(Date.now(), range.endMs + span / 2))));
  };

  if (error)
    return (
      <div class="page">
        <div class="error">Cannot load dashboard {uid}: {error}</div>
      </div>
    );
  if (!dash) return <div class="page"><Loading loading={true} /></div>;
  const relLabel = RELATIVE_RANGES.find(([f]) => f === from && (to === 'now' || !to))?.[1];
  const varsReady = vars.length === (dash.templating?.list ?? []).length;
  return (
    <div class="page dashboard" data-testid="dashboard" data-uid={dash.uid}>
      <div class="dash-header">
        <h1>{dash.title}</h1>
        <span class="spacer" />
        <select
          data-testid="time-range"
          value={relLabel ? from : 'custom'}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (v === 'custom') setCustomOpen(true);
            else {
              setFrom(v);
              setTo('now');
              setCustomOpen(false);
            }
          }}
        >
          {RELATIVE_RANGES.map(([f, label]) => (
            <option value={f}>{label}</option>
          ))}
          <option value="custom">{relLabel ? 'Custom…' : `${formatTime(range.startMs)} – ${formatTime(range.endMs)}`}</option>
        </select>
        <button onClick={zoomOut} title="Zoom out">
          ⊖
        </button>
        <button onClick={() => setTick((t) => t + 1)} title="Refresh" data-testid="refresh">
          ⟳
        </button>
        <select value={refresh} onChange={(e) => setRefresh(e.currentTarget.value)} title="Auto refresh" data-testid="auto-refresh">
          {REFRESH.map((r) => (
            <option value={r}>{r ? `every ${r}` : 'Auto refresh off'}</option>
          ))}
        </select>
      </div>
      {customOpen && (
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            const f = (e.currentTarget.elements.namedItem('from') as HTMLInputElement).value;
            const t = (e.currentTarget.elements.namedItem('to') as HTMLInputElement).value;
            if (resolveTime(f, Date.now()) !== null && resolveTime(t, Date.now()) !== null) {
              setFrom(f);
              setTo(t);
              setCustomOpen(false);
            }
          }}
        >
          <label>
            From <input name="from" defaultValue={from} placeholder="now-6h or 2024-01-01T00:00" />
          </label>
          <label>
            To <input name="to" defaultValue={to} placeholder="now" />
          </label>
          <button class="primary" type="submit">
            Apply
          </button>
        </form>
      )}
      {vars.some((v) => !v.hidden) && (
        <div class="variables">
          {vars.map((v) => (
            <VariableControl v={v} onChange={(sel) => setVar(v.name, sel)} />
          ))}
        </div>
      )}
      {varsReady && sections(dash).map((s) => <SectionView s={s} ctx={ctx} />)}
    </div>
  );
}
