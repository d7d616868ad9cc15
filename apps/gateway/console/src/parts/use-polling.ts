import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';

export interface Polled<T> {
  data: T | null;
  error: string | null;
  /** Fetch now (after an action), without waiting for the next tick. */
  refresh: () => void;
}

/**
 * `load` now and then every `everyMs` while the page shows it (and while `active` says so); the last
 * good answer stays on screen when a later call fails, beside the error in words.
 */
export function usePolling<T>(load: () => Promise<T>, everyMs: number, key: string, active: (data: T) => boolean = () => true): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => setData(null), [key]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const next = await latest.current();
        if (stopped) return;
        setData(next);
        setError(null);
        if (!active(next)) return;
      } catch (e) {
        if (stopped) return;
        setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
        if (e instanceof ApiError && e.unauthorized) return;
      }
      timer = setTimeout(() => void run(), everyMs);
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `active` is read at each tick through the closure; `key` and `tick` restart the loop.
  }, [key, tick, everyMs]);

  return { data, error, refresh };
}
