// usePoll: load now, then again every `every` ms while the page is visible
// and `live` says so.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Poll<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], every: number, live: (d: T) => boolean): Poll<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const ctl = useRef<{ timer?: number; abort?: AbortController; gen: number }>({ gen: 0 });
  const loadRef = useRef(load);
  loadRef.current = load;
  const liveRef = useRef(live);
  liveRef.current = live;

  const run = useCallback(async () => {
    const c = ctl.current;
    const gen = c.gen;
    clearTimeout(c.timer);
    c.abort?.abort();
    const abort = new AbortController();
    c.abort = abort;
    let again = true;
    try {
      const data = await loadRef.current(abort.signal);
      if (gen !== c.gen) return;
      again = liveRef.current(data);
      setState({ data, loading: false });
    } catch (e) {
      if (gen !== c.gen || abort.signal.aborted) return;
      setState((s) => ({ ...s, error: (e as Error).message, loading: false }));
    }
    if (gen === c.gen && again) c.timer = setTimeout(tick, every) as unknown as number;
  }, [every]);

  const tick = useCallback(() => {
    if (document.visibilityState === "hidden") {
      ctl.current.timer = setTimeout(tick, every) as unknown as number;
      return;
    }
    void run();
  }, [run, every]);

  useEffect(() => {
    const c = ctl.current;
    c.gen++;
    setState({ loading: true });
    void run();
    return () => {
      c.gen++;
      clearTimeout(c.timer);
      c.abort?.abort();
    };
  }, deps);

  // A successful load clears an earlier error (setState above).
  return { data: state.data, error: state.error, loading: state.loading, reload: () => void run() };
}
