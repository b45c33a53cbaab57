// Silences page: list (active, pending, expired), create with matchers and a preview of the
// alerts they would silence, expire. Talks to the Alertmanager API v2.
import { useEffect, useState } from 'preact/hooks';
import { am } from '../api';
import { useFetch } from '../hooks';
import { Badge, Labels, Loading } from '../components';
import { formatDuration, formatTime, parseDuration } from '../time';
import { navigate } from '../router';

interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}
interface Silence {
  id: string;
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  createdBy: string;
  comment: string;
  status: { state: 'active' | 'pending' | 'expired' };
}
interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
  startsAt: string;
}

type Op = '=' | '!=' | '=~' | '!~';
interface Row {
  name: string;
  op: Op;
  value: string;
}

function toAm(r: Row): AmMatcher {
  return { name: r.name, value: r.value, isRegex: r.op.endsWith('~'), isEqual: !r.op.startsWith('!') };
}

function opOf(m: AmMatcher): Op {
  const eq = m.isEqual !== false;
  return m.isRegex ? (eq ? '=~' : '!~') : eq ? '=' : '!=';
}

/** Parses `{a="b", c=~"d.*"}` (braces optional) into matcher rows. */
export function parseMatchers(text: string): Row[] {
  const s = text.trim().replace(/^\{/, '').replace(/\}$/, '');
  const rows: Row[] = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)/y;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m || re.lastIndex === pos) break;
    let value = m[3].trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        value = value.slice(1, -1);
      }
    }
    rows.push({ name: m[1], op: m[2] as Op, value });
    pos = re.lastIndex;
  }
  return rows;
}

function matcherText(m: AmMatcher): string {
  return `${m.name}${opOf(m)}${JSON.stringify(m.value)}`;
}

function SilenceForm({ initial, onDone }: { initial: Row[]; onDone: () => void }) {
  const [rows, setRows] = useState<Row[]>(initial.length ? initial : [{ name: 'alertname', op: '=', value: '' }]);
  const [duration, setDuration] = useState('2h');
  const [createdBy, setCreatedBy] = useState(localStorage.getItem('pharos.silence.author') ?? '');
  const [comment, setComment] = useState('');
  const [error, setError] = useState('');
  const [preview, setPreview] = useState<AmAlert[] | null>(null);
  const [previewError, setPreviewError] = useState('');

  const valid = rows.filter((r) => r.name && (r.value !== '' || r.op !== '='));
  useEffect(() => {
    if (valid.length === 0) {
      setPreview(null);
      return;
    }
    const filter = valid.map((r) => `filter=${encodeURIComponent(`${r.name}${r.op}${JSON.stringify(r.value)}`)}`).join('&');
    const id = setTimeout(() => {
      am<AmAlert[]>(`alerts?${filter}&active=true&silenced=true&inhibited=true`).then(
        (a) => {
          setPreview(a);
          setPreviewError('');
        },
        (e) => setPreviewError(String(e.message ?? e)),
      );
    }, 250);
    return () => clearTimeout(id);
  }, [JSON.stringify(valid)]);

  const set = (i: number, patch: Partial<Row>) => setRows(rows.map((r, j) => (i === j ? { ...r, ...patch } : r)));

  const submit = async (e: Event) => {
    e.preventDefault();
    const ms = parseDuration(duration);
    if (!ms || ms <= 0) return setError(`invalid duration ${JSON.stringify(duration)}`);
    if (valid.length === 0) return setError('at least one matcher with a name and value is needed');
    if (!createdBy.trim()) return setError('"created by" is required');
    if (!comment.trim()) return setError('a comment is required');
    localStorage.setItem('pharos.silence.author', createdBy);
    const now = Date.now();
    try {
      await am('silences', {
        method: 'POST',
        body: JSON.stringify({
          matchers: valid.map(toAm),
          startsAt: new Date(now).toISOString(),
          endsAt: new Date(now + ms).toISOString(),
          createdBy,
          comment,
        }),
      });
      onDone();
    } catch (err) {
      setError(String((err as Error).message ?? err));
    }
  };

  return (
    <form class="card silence-form" onSubmit={submit} data-testid="silence-form">
      <h3>New silence</h3>
      <div class="matchers">
        {rows.map((r, i) => (
          <div class="matcher-row">
            <input placeholder="label" value={r.name} onInput={(e) => set(i, { name: e.currentTarget.value })} data-testid="matcher-name" />
            <select value={r.op} onChange={(e) => set(i, { op: e.currentTarget.value as Op })}>
              {['=', '!=', '=~', '!~'].map((o) => (
                <option value={o}>{o}</option>
              ))}
            </select>
            <input placeholder="value" value={r.value} onInput={(e) => set(i, { value: e.currentTarget.value })} data-testid="matcher-value" />
            <button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))} title="Remove matcher">
              ✕
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setRows([...rows, { name: '', op: '=', value: '' }])}>
          Add matcher
        </button>
      </div>
      <div class="form-grid">
        <label>
          Duration <input value={duration} onInput={(e) => setDuration(e.currentTarget.value)} data-testid="silence-duration" />
        </label>
        <label>
          Created by <input value={createdBy} onInput={(e) => setCreatedBy(e.currentTarget.value)} data-testid="silence-author" />
        </label>
        <label class="wide">
          Comment <input value={comment} onInput={(e) => setComment(e.currentTarget.value)} data-testid="silence-comment" />
        </label>
      </div>
      {error && <div class="error">{error}</div>}
      <div class="preview" data-testid="silence-preview">
        <h4>Affected alerts {preview ? `(${preview.length})` : ''}</h4>
        {previewError && <div class="error">{previewError}</div>}
        {preview && preview.length === 0 && <p class="muted">No active alert matches these matchers now.</p>}
        {preview?.map((a) => (
          <div class="preview-alert">
            <Labels labels={a.labels} />
          </div>
        ))}
      </div>
      <div class="toolbar">
        <button class="primary" type="submit" data-testid="silence-submit">
          Create silence
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function SilencesPage() {
  const q = new URLSearchParams(location.search);
  const creating = q.get('new') === '1';
  const initial = parseMatchers(q.get('matchers') ?? '');
  const [tab, setTab] = useState<'active' | 'pending' | 'expired'>('active');
  const list = useFetch(() => am<Silence[]>('silences'), [], 15000);
  const expire = async (id: string) => {
    try {
      await am(`silence/${encodeURIComponent(id)}`, { method: 'DELETE' });
    } finally {
      list.reload();
    }
  };
  const silences = (list.data ?? [])
    .filter((s) => s.status.state === tab)
    .sort((a, b) => (tab === 'expired' ? b.endsAt.localeCompare(a.endsAt) : a.endsAt.localeCompare(b.endsAt)));
  const count = (st: string) => (list.data ?? []).filter((s) => s.status.state === st).length;
  return (
    <div class="page">
      <h1>Silences</h1>
      {creating ? (
        <SilenceForm
          initial={initial}
          onDone={() => {
            navigate('/silences');
            list.reload();
          }}
        />
      ) : (
        <div class="toolbar">
          <button class="primary" onClick={() => navigate('/silences?new=1')} data-testid="new-silence">
            New silence
          </button>
        </div>
      )}
      <div class="tabs">
        {(['active', 'pending', 'expired'] as const).map((t) => (
          <button class={tab === t ? 'active' : ''} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
            {t[0].toUpperCase() + t.slice(1)} ({count(t)})
          </button>
        ))}
      </div>
      <Loading error={list.error} loading={list.loading && !list.data} />
      {list.data && silences.length === 0 && <p class="muted">No {tab} silences.</p>}
      {silences.map((s) => (
        <div class="card silence" data-testid="silence-item" data-silence-id={s.id}>
          <div class="alert-head">
            <Badge kind={s.status.state}>{s.status.state}</Badge>
            <span class="label-list">
              {s.matchers.map((m) => (
                <span class="label">{matcherText(m)}</span>
              ))}
            </span>
            <span class="spacer" />
            {s.status.state !== 'expired' && (
              <button onClick={() => expire(s.id)} data-testid="expire-silence">
                Expire
              </button>
            )}
          </div>
          <div class="muted small">
            {formatTime(Date.parse(s.startsAt))} → {formatTime(Date.parse(s.endsAt))} (
            {formatDuration(Math.max(0, Date.parse(s.endsAt) - Date.parse(s.startsAt)))}) · by {s.createdBy} · id {s.id}
          </div>
          <div>{s.comment}</div>
        </div>
      ))}
    </div>
  );
}
