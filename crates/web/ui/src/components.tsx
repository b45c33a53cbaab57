// Small shared view components.
import type { ComponentChildren } from 'preact';

export function Labels({ labels, skip = [] }: { labels: Record<string, string>; skip?: string[] }) {
  return (
    <span class="label-list">
      {Object.entries(labels ?? {})
        .filter(([k]) => !skip.includes(k))
        .map(([k, v]) => (
          <span class="label" title={`${k}="${v}"`}>
            {k}="{v}"
          </span>
        ))}
    </span>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Loading({ error, loading }: { error?: string; loading: boolean }) {
  if (error) return <div class="error">Error: {error}</div>;
  if (loading) return <p class="muted">Loading…</p>;
  return null;
}

/** Renders a URL-looking annotation value as a link. */
export function MaybeLink({ value }: { value: string }) {
  if (/^https?:\/\//.test(value))
    return (
      <a href={value} target="_blank" rel="noopener noreferrer">
        {value}
      </a>
    );
  return <>{value}</>;
}
