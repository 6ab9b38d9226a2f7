// Loads data for a page: what it got, the error it met, and a way to try again.
import { useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  /** True from the render in which the inputs change, not only once the effect has run: no stale label. */
  loading: boolean;
  reload: () => void;
}

export function useQuery<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [attempt, setAttempt] = useState(0);
  const key = JSON.stringify([...deps, attempt]);
  const [state, setState] = useState<{ key: string | null; data: T | null; error: unknown }>({
    key: null,
    data: null,
    error: null,
  });
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  useEffect(() => {
    let current = true; // a slow answer must not overwrite a newer one
    load().then(
      (data) => current && setState({ key, data, error: null }),
      (error: unknown) => current && setState({ key, data: null, error }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const settled = state.key === key;
  return { data: state.data, error: settled ? state.error : null, loading: !settled, reload };
}
