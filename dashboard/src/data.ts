// Loading state for pages: useLoad runs an API read, re-runs it when its keys change or reload()
// is called, and keeps the error for display; usePaged adds cursor paging (next/previous).
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Page } from './api.js';

export interface Loaded<T> { data: T | null; error: Error | null; loading: boolean; reload: () => void }

export function useLoad<T>(load: () => Promise<T>, keys: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => live && setState({ data, error: null, loading: false }), (error: Error) => live && setState({ data: null, error, loading: false }));
    return () => { live = false; };
  }, [...keys, tick]);
  return { ...state, reload: useCallback(() => setTick((n) => n + 1), []) };
}

export interface Paged<T> extends Loaded<Page<T>> { hasPrevious: boolean; next: () => void; previous: () => void }

/** Cursor paging: keeps the stack of cursors walked so "previous" works on forward-only cursors. */
export function usePaged<T>(load: (cursor: string | undefined) => Promise<Page<T>>, keys: unknown[]): Paged<T> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), keys);
  const cursor = cursors.at(-1);
  const loaded = useLoad(() => load(cursor), [...keys, cursor]);
  return {
    ...loaded,
    hasPrevious: cursors.length > 1,
    next: () => { const c = loaded.data?.next_cursor; if (c) setCursors((cs) => [...cs, c]); },
    previous: () => setCursors((cs) => (cs.length > 1 ? cs.slice(0, -1) : cs)),
  };
}

export interface Actions { notice: string | null; error: Error | null; run: (fn: () => Promise<string>) => Promise<void> }

/** A page's actions: run one, show its message (Notice) or its failure (ErrorLine), then reload the page's data. */
export function useActions(reload: () => void): Actions {
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const run = async (fn: () => Promise<string>) => {
    setError(null);
    try { setNotice(await fn()); reload(); } catch (e) { setError(e as Error); }
  };
  return { notice, error, run };
}
