// Data-loading hook with optional polling.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

export function useFetch<T>(fn: () => Promise<T>, deps: unknown[], pollMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const my = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => my === seq.current && setState({ data, loading: false }),
      (e) => my === seq.current && setState((s) => ({ data: s.data, error: String(e?.message ?? e), loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    run();
    if (pollMs > 0) {
      const id = setInterval(run, pollMs);
      return () => clearInterval(id);
    }
    return undefined;
  }, [run, pollMs]);
  return { ...state, reload: run };
}
